/**
 * The upstream release manifests (fixtures/manifests/aws-k8s-cni-vX.Y.Z.yaml: `config/master/aws-k8s-cni.yaml` of
 * aws/amazon-vpc-cni-k8s at each tag, which upstream generates from the Helm chart with its default values), read
 * by the sandbox on its own. They are the chart rendered with the defaults of that tag: the sandbox's chart
 * renderer (chart-render.ts) starts from them and applies the configuration values as the chart's templates do.
 */
import { readPackageYaml } from '../formats/yaml-files.js';
import { listPackageFolder } from '../package-files.js';
import type { KubeObject } from '../formats/kube-object.js';
import { compareVersions, parseVersion, type SandboxVersion } from './versions.js';

const DIR = 'fixtures/manifests';

interface Release {
  version: SandboxVersion;
  /** `v1.19.6`, or `v1.23.1` for the master snapshot `aws-k8s-cni-v1.23.1-master-b5218838.yaml`. */
  tag: string;
  file: string;
}

let releases: Release[] | undefined;

function allReleases(): Release[] {
  releases ??= listPackageFolder(DIR)
    .flatMap((file) => {
      const tag = /^aws-k8s-cni-(v\d+\.\d+\.\d+)(?:-.*)?\.yaml$/.exec(file)?.[1];
      const version = tag ? parseVersion(tag) : null;
      return tag && version ? [{ version, tag, file }] : [];
    })
    .sort((a, b) => compareVersions(a.version, b.version));
  return releases;
}

/**
 * The release that stands for an add-on version: the same release when shipped, else the newest of the same minor
 * (its chart has the keys the minor's configuration schema names), else the newest older one, else the oldest.
 */
export function releaseFor(version: string): Release {
  const wanted = parseVersion(version);
  const all = allReleases();
  if (!wanted) return all.at(-1) as Release;
  const same = all.find((r) => r.version.major === wanted.major && r.version.minor === wanted.minor && r.version.patch === wanted.patch);
  const sameMinor = all.filter((r) => r.version.major === wanted.major && r.version.minor === wanted.minor).at(-1);
  const older = all.filter((r) => compareVersions(r.version, wanted) < 0).at(-1);
  return same ?? sameMinor ?? older ?? (all[0] as Release);
}

const parsed = new Map<string, KubeObject[]>();

function cached(version: string): readonly KubeObject[] {
  const { file } = releaseFor(version);
  let objects = parsed.get(file);
  if (!objects) {
    objects = (readPackageYaml(`${DIR}/${file}`) as unknown[]).filter(
      (o): o is KubeObject => o !== null && typeof o === 'object' && 'kind' in (o as object),
    );
    parsed.set(file, objects);
  }
  return objects;
}

/** Every object of the release manifest standing for `version` (a fresh copy each call). */
export function releaseObjects(version: string): KubeObject[] {
  return structuredClone(cached(version)) as KubeObject[];
}

/** A fresh copy of the release manifest's first object of `kind` named `name`, or undefined. */
export function releaseObject(version: string, kind: string, name: string): KubeObject | undefined {
  const found = cached(version).find((o) => o.kind === kind && o.metadata.name === name);
  return found ? structuredClone(found) : undefined;
}

/** `host/path/name[:tag][@digest]` → repository and tag (the digest, else `latest`, when there is no tag). */
export function imageParts(image: string): { repository: string; tag: string } {
  const at = image.indexOf('@');
  const named = at >= 0 ? image.slice(0, at) : image;
  const colon = named.lastIndexOf(':');
  if (colon > named.lastIndexOf('/')) return { repository: named.slice(0, colon), tag: named.slice(colon + 1) || 'latest' };
  return { repository: named, tag: at >= 0 ? image.slice(at + 1) : 'latest' };
}

/**
 * Moves the images of a DaemonSet's containers to `registry` (when given) and tags `amazon-k8s-cni` and
 * `amazon-k8s-cni-init` with `tag` (EKS's `v1.19.6-eksbuild.1`, as the real describe-addon outputs and pods show);
 * the network policy agent keeps its own version line.
 */
export function retagImages(daemonSet: KubeObject, tag: string, registry?: string): void {
  const pod = (daemonSet.spec as { template: { spec: Record<string, unknown> } }).template.spec;
  for (const key of ['containers', 'initContainers']) {
    for (const container of (pod[key] as Array<{ image: string }> | undefined) ?? []) {
      const { repository, tag: old } = imageParts(container.image);
      const [host, ...rest] = repository.split('/');
      const isCni = /(^|\/)amazon-k8s-cni(-init)?$/.test(repository);
      container.image = `${registry ?? host}/${rest.join('/')}:${isCni ? tag : old}`;
    }
  }
}
