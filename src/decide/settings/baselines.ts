/**
 * The installs the settings model compares: the live one (from what was read of the cluster) and the
 * baselines it departs from.
 */
import { loadUpstreamManifest, upstreamDaemonSet, type KubeObject } from '../manifests.js';
import type { InstallObjects } from './leaves.js';
import { renderTarget } from './compare.js';

/** The live install from the objects read of the cluster; null without an aws-node DaemonSet. */
export function liveInstall(objects: {
  daemonSet: KubeObject | null;
  configMap?: KubeObject | null;
  eniConfigs?: KubeObject[];
}): InstallObjects | null {
  if (!objects.daemonSet) return null;
  return {
    daemonSet: objects.daemonSet,
    configMap: (objects.configMap?.data as Record<string, string> | undefined) ?? null,
    ...(objects.eniConfigs ? { eniConfigs: objects.eniConfigs } : {}),
  };
}

/**
 * The baseline of a self-managed install: the upstream manifest of the version it runs (DaemonSet re-tagged
 * to that version, and the `amazon-vpc-cni` ConfigMap when the release has one); no ENIConfigs.
 */
export function upstreamBaseline(runningVersion: string, registry?: string): InstallObjects {
  const configMap = loadUpstreamManifest(runningVersion).find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'amazon-vpc-cni');
  return {
    daemonSet: upstreamDaemonSet(runningVersion, registry),
    configMap: (configMap?.data as Record<string, string> | undefined) ?? null,
    eniConfigs: [],
  };
}

/**
 * The baseline of a managed add-on: what EKS rendered for its version with the values it stores, so that
 * the differences are the drift made with kubectl.
 */
export function managedBaseline(
  version: string,
  storedValues: Record<string, unknown>,
  options: { registry?: string; ipFamily?: 'ipv4' | 'ipv6' } = {},
): InstallObjects {
  return { ...renderTarget({ version, schemaText: '{}', ...options }, storedValues), eniConfigs: [] };
}
