/**
 * Version catalogues (what DescribeAddonVersions offers) for the sandbox, as dated snapshots read from
 * fixtures/catalogues/<snapshot>.json. Each entry names its source; which parts are real and which derived
 * is in fixtures/README.md.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonVersions.html
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ScenarioCatalogueEntry } from './scenario-types.js';

/** A catalogue snapshot file. */
export interface CatalogueSnapshot {
  snapshot: string;
  /** When EKS offered this (YYYY-MM-DD). */
  date: string;
  description: string;
  kubernetesVersions: string[];
  sources: string[];
  entries: Array<ScenarioCatalogueEntry & { source: string }>;
}

const DIR = new URL('../../fixtures/catalogues/', import.meta.url);

/** Reads one snapshot file. */
export function loadCatalogueSnapshot(name: string): CatalogueSnapshot {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`${name}.json`, DIR)), 'utf8')) as CatalogueSnapshot;
}

function entriesOf(name: string): readonly ScenarioCatalogueEntry[] {
  return loadCatalogueSnapshot(name).entries.map(({ version, compatibilities }) => ({
    version,
    compatibilities: compatibilities.map(({ clusterVersion, defaultVersion }) => ({ clusterVersion, defaultVersion })),
  }));
}

/** The snapshot names, oldest first. */
export const CATALOGUE_SNAPSHOTS = ['eks-1.28-launch', 'eks-2024-04', 'eks-2024-12', 'mid-2025', 'eks-2026-07'] as const;

/**
 * The Kubernetes 1.28 launch (September 2023), as the CLI contract's default scenario needs it: 1.27 tops out
 * at v1.14.0-eksbuild.3, v1.12.6-eksbuild.2 is 1.27's default but not offered for 1.28.
 */
export const DEFAULT_CATALOGUE: readonly ScenarioCatalogueEntry[] = entriesOf('eks-1.28-launch');

/** Mid 2025, Kubernetes 1.29–1.32, v1.16.0 to v1.20.x; still offers the known-bad v1.16.3 and v1.19.4. */
export const LATER_CATALOGUE: readonly ScenarioCatalogueEntry[] = entriesOf('mid-2025');

/** The built-in catalogues a scenario may name with `catalogueSnapshot`. */
export const CATALOGUES: Readonly<Record<string, readonly ScenarioCatalogueEntry[]>> = {
  'eks-1.28-launch': DEFAULT_CATALOGUE,
  'mid-2025': LATER_CATALOGUE,
  'eks-2024-04': entriesOf('eks-2024-04'),
  'eks-2024-12': entriesOf('eks-2024-12'),
  'eks-2026-07': entriesOf('eks-2026-07'),
};
