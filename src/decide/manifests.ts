/**
 * The upstream aws-node manifests shipped in fixtures/manifests/ (config/master/aws-k8s-cni.yaml of
 * github.com/aws/amazon-vpc-cni-k8s at each tag; sources in fixtures/README.md). They tell what a version's
 * defaults are, so that custom settings can be told apart from them.
 */
import { listPackageFolder, packageLocation } from '../package-files.js';
import { readPackageYaml } from '../formats/yaml-files.js';
import type { KubeObject } from '../formats/kube-object.js';
import {
  compareAddonVersions,
  minorIndex,
  parseAddonVersion,
  tryParseAddonVersion,
  type AddonVersion,
} from '../upgrade-planner/version.js';

/** A Kubernetes object as plain JSON (src/formats/kube-object.ts). */
export type { KubeObject };

const MANIFEST_DIR = 'fixtures/manifests';

let releases: Array<{ version: AddonVersion; file: string }> | undefined;

/** The upstream releases we have manifests for, oldest first. */
export function manifestReleases(): Array<{ version: AddonVersion; file: string }> {
  if (!releases) {
    releases = listPackageFolder(MANIFEST_DIR)
      .map((file) => {
        const match = /^aws-k8s-cni-(v\d+\.\d+\.\d+)(?:-.*)?\.yaml$/.exec(file);
        const version = match?.[1] ? tryParseAddonVersion(match[1]) : null;
        return version ? { version, file } : null;
      })
      .filter((entry): entry is { version: AddonVersion; file: string } => entry !== null)
      .sort((a, b) => compareAddonVersions(a.version, b.version));
  }
  return releases;
}

/** The releases (`v1.13.4`) whose tagged upstream manifest is shipped (master snapshots left out), oldest first. */
export function shippedReleases(): string[] {
  return manifestReleases()
    .filter((r) => /^aws-k8s-cni-v\d+\.\d+\.\d+\.yaml$/.test(r.file))
    .map((r) => `v${r.version.major}.${r.version.minor}.${r.version.patch}`);
}

/**
 * The manifest that stands for `version`: the same release when we have it, else the newest of the same
 * minor, else the newest older one (else the oldest we have). The builds of one release share a manifest.
 */
export function manifestFileFor(version: string): string {
  const wanted = parseAddonVersion(version);
  const all = manifestReleases();
  const sameRelease = all.find(
    (r) => r.version.major === wanted.major && r.version.minor === wanted.minor && r.version.patch === wanted.patch,
  );
  if (sameRelease) return sameRelease.file;
  const sameMinor = all.filter((r) => minorIndex(r.version) === minorIndex(wanted));
  const older = all.filter((r) => compareAddonVersions(r.version, wanted) < 0);
  const chosen = sameMinor.at(-1) ?? older.at(-1) ?? all[0];
  if (!chosen) throw new Error(`No upstream manifests found in ${packageLocation(MANIFEST_DIR)}.`);
  return chosen.file;
}

const parsedCache = new Map<string, KubeObject[]>();

function cachedManifest(version: string): readonly KubeObject[] {
  const file = manifestFileFor(version);
  let objects = parsedCache.get(file);
  if (!objects) {
    objects = (readPackageYaml(`${MANIFEST_DIR}/${file}`) as Array<KubeObject | null>)
      .filter((obj): obj is KubeObject => obj !== null && typeof obj === 'object' && 'kind' in obj);
    parsedCache.set(file, objects);
  }
  return objects;
}

/** Every object of the upstream manifest that stands for `version` (a fresh copy each call). */
export function loadUpstreamManifest(version: string): KubeObject[] {
  return structuredClone(cachedManifest(version)) as KubeObject[];
}

/** A fresh copy of one object of the upstream manifest for `version` (the first of `kind` named `name`), or undefined. */
export function upstreamObject(version: string, kind: string, name: string): KubeObject | undefined {
  const found = cachedManifest(version).find((obj) => obj.kind === kind && obj.metadata.name === name);
  return found ? structuredClone(found) : undefined;
}

/** The aws-node DaemonSet of the upstream manifest for `version`, images re-tagged to `version`. */
export function upstreamDaemonSet(version: string, registry?: string): KubeObject {
  const daemonSet = upstreamObject(version, 'DaemonSet', 'aws-node');
  if (!daemonSet) throw new Error(`The upstream manifest for ${version} has no aws-node DaemonSet.`);
  retagCniImages(daemonSet, version, registry);
  return daemonSet;
}

/**
 * Re-tags the `amazon-k8s-cni` and `amazon-k8s-cni-init` images of a DaemonSet to `tag` (the node agent
 * keeps its own version line) and optionally moves every image to `registry`.
 */
export function retagCniImages(daemonSet: KubeObject, tag: string, registry?: string): void {
  const spec = (daemonSet.spec as { template: { spec: Record<string, unknown> } }).template.spec;
  for (const key of ['containers', 'initContainers']) {
    for (const container of (spec[key] as Array<{ image: string }> | undefined) ?? []) {
      const { repository, tag: oldTag } = splitImage(container.image);
      const name = repository.split('/').slice(1).join('/');
      const isCni = /(^|\/)amazon-k8s-cni(-init)?$/.test(repository);
      const host = registry ?? repository.split('/')[0];
      container.image = `${host}/${name}:${isCni ? tag : oldTag}`;
    }
  }
}

/** The parts of an image reference `host/path/name[:tag][@sha256:…]`; tag and digest are null when absent. */
export function parseImage(image: string): { repository: string; tag: string | null; digest: string | null } {
  const at = image.indexOf('@');
  const named = at >= 0 ? image.slice(0, at) : image;
  const digest = at >= 0 ? image.slice(at + 1) : null;
  const colon = named.lastIndexOf(':');
  const slash = named.lastIndexOf('/');
  if (colon > slash) return { repository: named.slice(0, colon), tag: named.slice(colon + 1) || null, digest };
  return { repository: named, tag: null, digest };
}

/**
 * Splits an image reference into repository and tag; without a tag, the digest stands in for it, and
 * without either, `latest` (what the runtime pulls).
 */
export function splitImage(image: string): { repository: string; tag: string } {
  const { repository, tag, digest } = parseImage(image);
  return { repository, tag: tag ?? digest ?? 'latest' };
}

/** The pod template spec of a workload object (DaemonSet, Deployment), or {} when it has none. */
export function podTemplateSpec(workload: KubeObject): Record<string, unknown> {
  const spec = workload.spec as { template?: { spec?: Record<string, unknown> } } | undefined;
  return spec?.template?.spec ?? {};
}

/** The containers (or init containers) of a pod spec, [] when absent. */
export function containerList<T = Record<string, unknown>>(pod: Record<string, unknown>, key: 'containers' | 'initContainers'): T[] {
  const list = pod[key];
  return Array.isArray(list) ? (list as T[]) : [];
}
