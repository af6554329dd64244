/**
 * Version catalogues (what DescribeAddonVersions offers) for the sandbox, as dated snapshots read from
 * fixtures/catalogues/<snapshot>.json. Each entry names its source; which parts are real and which derived
 * is in fixtures/README.md. A snapshot is read the first time a run asks for it (start-up reads one).
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonVersions.html
 */
import { readPackageJson } from '../package-files.js';
import type { ScenarioCatalogueEntry } from './scenario-types.js';

/** A catalogue snapshot file. */
export interface CatalogueSnapshot {
  snapshot: string;
  /** When EKS offered this (YYYY-MM-DD). */
  date: string;
  description: string;
  kubernetesVersions: string[];
  /** The default version per Kubernetes version (the one `defaultVersion: true` marks). */
  defaults: Record<string, string | null>;
  sources: string[];
  entries: Array<ScenarioCatalogueEntry & { source: string }>;
}

/** Reads one snapshot file. */
export function loadCatalogueSnapshot(name: string): CatalogueSnapshot {
  return readPackageJson<CatalogueSnapshot>(`fixtures/catalogues/${name}.json`);
}

function entriesOf(name: string): readonly ScenarioCatalogueEntry[] {
  return loadCatalogueSnapshot(name).entries.map(({ source: _source, compatibilities, ...rest }) => ({
    ...rest,
    compatibilities: compatibilities.map(({ clusterVersion, defaultVersion }) => ({ clusterVersion, defaultVersion })),
  }));
}

/** The snapshot names, oldest first. */
export const CATALOGUE_SNAPSHOTS = ['eks-1.28-launch', 'eks-2024-04', 'eks-2024-12', 'mid-2025', 'eks-2026-07'] as const;

/**
 * The built-in catalogues a scenario may name with `catalogueSnapshot`: each read on first access (an
 * enumerable getter, so `in` and `Object.keys` still list them all).
 */
export const CATALOGUES: Readonly<Record<string, readonly ScenarioCatalogueEntry[]>> = (() => {
  const out: Record<string, readonly ScenarioCatalogueEntry[]> = {};
  for (const name of CATALOGUE_SNAPSHOTS) {
    let cached: readonly ScenarioCatalogueEntry[] | undefined;
    Object.defineProperty(out, name, { enumerable: true, get: () => (cached ??= entriesOf(name)) });
  }
  return Object.freeze(out);
})();

/**
 * The Kubernetes 1.28 launch (September 2023), as the CLI contract's default scenario needs it: 1.27 tops out
 * at v1.14.0-eksbuild.3, v1.12.6-eksbuild.2 is 1.27's default but not offered for 1.28.
 */
export const DEFAULT_CATALOGUE: readonly ScenarioCatalogueEntry[] = CATALOGUES['eks-1.28-launch']!;

/** Mid 2025, Kubernetes 1.29–1.32, v1.16.0 to v1.20.x; still offers the known-bad v1.16.3 and v1.19.4. */
export const LATER_CATALOGUE: readonly ScenarioCatalogueEntry[] = CATALOGUES['mid-2025']!;

/** A version of another add-on as DescribeAddonVersions returns it (fixtures/catalogues/other-addons.json). */
export interface OtherAddonVersion {
  addonVersion: string;
  architecture: string[];
  compatibilities: Array<{ clusterVersion: string; platformVersions: string[]; defaultVersion: boolean }>;
  requiresConfiguration?: boolean;
  requiresIamPermissions?: boolean;
}

/** Another EKS add-on (coredns, kube-proxy, …) that DescribeAddonVersions lists beside vpc-cni. */
export interface OtherAddon {
  addonName: string;
  type: string;
  owner: string;
  publisher: string;
  addonVersions: OtherAddonVersion[];
}

let otherAddons: readonly OtherAddon[] | undefined;

/** The other AWS add-ons the sandbox lists (read on first use); their sources are in fixtures/README.md. */
export function otherAddonsCatalogue(): readonly OtherAddon[] {
  otherAddons ??= readPackageJson<{ addons: Array<OtherAddon & { source?: string }> }>('fixtures/catalogues/other-addons.json').addons.map(
    ({ source: _source, ...addon }) => addon,
  );
  return otherAddons;
}
