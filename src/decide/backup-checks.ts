/**
 * What restore checks in a backup before it diffs anything: the invariants of an aws-node DaemonSet that
 * works (a backup cut short, even at a line boundary that leaves valid YAML, or edited by hand fails them),
 * and where its images come from. Pure.
 */
import { isEksImageRegistry } from './config/adoption.js';
import { parseImage, type KubeObject } from './manifests.js';

interface PodSpec {
  containers?: Array<{ name: string; image?: string; volumeMounts?: Array<{ name: string }> }>;
  initContainers?: Array<{ name: string; image?: string; volumeMounts?: Array<{ name: string }> }>;
  volumes?: Array<{ name: string }>;
  serviceAccountName?: string;
}

/**
 * The problems of a backup's DaemonSet as a working aws-node: it is `kube-system/aws-node`, has the
 * `aws-node` container and the `aws-vpc-cni-init` init container, the `aws-node` service account, an update
 * strategy, the CNI's host volumes, and a volume for every mount. Empty when it is sound.
 */
export function daemonSetProblems(ds: KubeObject): string[] {
  const problems: string[] = [];
  if (ds.kind !== 'DaemonSet') problems.push(`it holds a ${String(ds.kind)}, not a DaemonSet`);
  if (ds.metadata?.name !== 'aws-node') problems.push(`it holds the DaemonSet "${String(ds.metadata?.name)}", not aws-node`);
  if (ds.metadata?.namespace !== undefined && ds.metadata.namespace !== 'kube-system') {
    problems.push(`its DaemonSet is in namespace "${String(ds.metadata.namespace)}", not kube-system`);
  }
  const spec = (ds.spec ?? {}) as { updateStrategy?: { type?: string }; template?: { spec?: PodSpec } };
  const pod = spec.template?.spec ?? {};
  if (!spec.updateStrategy?.type) problems.push('its DaemonSet has no update strategy');
  if (pod.serviceAccountName !== 'aws-node') problems.push(`its pods run as service account ${pod.serviceAccountName ? `"${pod.serviceAccountName}"` : '(none)'}, not aws-node`);
  const containers = pod.containers ?? [];
  const init = pod.initContainers ?? [];
  if (!containers.some((c) => c.name === 'aws-node')) problems.push('it has no aws-node container');
  if (!init.some((c) => c.name === 'aws-vpc-cni-init')) problems.push('it has no aws-vpc-cni-init init container (it installs the CNI binaries on each node)');
  const volumes = new Set((pod.volumes ?? []).map((v) => v.name));
  for (const required of ['cni-bin-dir', 'cni-net-dir']) {
    if (!volumes.has(required)) problems.push(`it has no ${required} volume`);
  }
  const missing = new Set<string>();
  for (const c of [...containers, ...init]) {
    for (const mount of c.volumeMounts ?? []) if (!volumes.has(mount.name)) missing.add(mount.name);
    if (!c.image) problems.push(`its container ${c.name} has no image`);
  }
  if (missing.size > 0) problems.push(`it mounts volume(s) it does not define: ${[...missing].join(', ')}`);
  return problems;
}

/** The registry host of every image of a DaemonSet, by container. */
export function imageRegistries(ds: KubeObject): Array<{ container: string; image: string; registry: string }> {
  const pod = ((ds.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec ?? {}) as PodSpec;
  return [...(pod.initContainers ?? []), ...(pod.containers ?? [])]
    .filter((c) => typeof c.image === 'string')
    .map((c) => ({ container: c.name, image: c.image as string, registry: parseImage(c.image as string).repository.split('/')[0] ?? '' }));
}

/**
 * Images of the backup that come from neither an EKS registry nor a registry the live aws-node already
 * pulls from (`allowed`): a backup edited to pull from elsewhere is refused.
 */
export function foreignImages(ds: KubeObject, allowed: ReadonlySet<string>): Array<{ container: string; image: string }> {
  return imageRegistries(ds)
    .filter((i) => !isEksImageRegistry(i.registry) && !allowed.has(i.registry))
    .map(({ container, image }) => ({ container, image }));
}
