/** Reading the aws-node DaemonSet: the version comes from the `amazon-k8s-cni` image, however it is pinned. */
import { describe, expect, it } from 'vitest';
import { daemonSetInfo } from '../src/gather/facts.js';
import { parseImage, splitImage, upstreamDaemonSet } from '../src/decide/manifests.js';

const REGISTRY = '602401143452.dkr.ecr.us-west-2.amazonaws.com';

function withAwsNodeImage(image: string) {
  const ds = upstreamDaemonSet('v1.14.0-eksbuild.3');
  const pod = (ds.spec as { template: { spec: { containers: Array<{ name: string; image: string }> } } }).template.spec;
  pod.containers.find((c) => c.name === 'aws-node')!.image = image;
  return ds;
}

describe('daemonSetInfo', () => {
  it.each([
    [`${REGISTRY}/amazon-k8s-cni:v1.14.0-eksbuild.3`, 'v1.14.0-eksbuild.3'],
    [`${REGISTRY}/amazon-k8s-cni:v1.14.0-eksbuild.3@sha256:${'a'.repeat(64)}`, 'v1.14.0-eksbuild.3'],
    [`registry.local:5000/mirror/amazon-k8s-cni:v1.14.0`, 'v1.14.0'],
  ])('reads the version of %s as %s', (image, version) => {
    expect(daemonSetInfo(withAwsNodeImage(image)).version).toBe(version);
  });

  it('falls back to the init image when aws-node is pinned by digest alone', () => {
    const ds = withAwsNodeImage(`${REGISTRY}/amazon-k8s-cni@sha256:${'b'.repeat(64)}`);
    expect(daemonSetInfo(ds).version).toBe('v1.14.0-eksbuild.3');
  });
});

describe('parseImage and splitImage', () => {
  it.each([
    ['host/name:tag', { repository: 'host/name', tag: 'tag', digest: null }, 'tag'],
    ['host:5000/name:tag@sha256:abc', { repository: 'host:5000/name', tag: 'tag', digest: 'sha256:abc' }, 'tag'],
    ['host:5000/name@sha256:abc', { repository: 'host:5000/name', tag: null, digest: 'sha256:abc' }, 'sha256:abc'],
    ['host:5000/name', { repository: 'host:5000/name', tag: null, digest: null }, 'latest'],
  ])('%s', (image, parts, tag) => {
    expect(parseImage(image)).toEqual(parts);
    expect(splitImage(image)).toEqual({ repository: parts.repository, tag });
  });
});
