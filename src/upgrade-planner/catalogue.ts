/** Pure look-ups over the DescribeAddonVersions catalogue: which versions EKS offers for a Kubernetes version. */
import type { CatalogueEntry } from '../domain.js';
import {
  compareAddonVersions,
  tryParseAddonVersion,
  versionMatches,
  type AddonVersion,
} from './version.js';

/** `1.30` for `1.30`, `v1.30` or ` 1.30 `; null when the text is not major.minor. */
function normaliseKubernetes(text: string): string | null {
  const match = /^v?(\d{1,3})\.(\d{1,3})$/.exec(text.trim());
  return match ? `${Number(match[1])}.${Number(match[2])}` : null;
}

/** True when the entry lists `kubernetesVersion` among its compatibilities. */
export function entrySupports(entry: CatalogueEntry, kubernetesVersion: string): boolean {
  const wanted = normaliseKubernetes(kubernetesVersion);
  if (wanted === null) return false;
  return entry.compatibilities.some((c) => normaliseKubernetes(c.clusterVersion) === wanted);
}

/** Entries with a parseable version, paired with the parsed version, newest first. */
function parsedNewestFirst(entries: CatalogueEntry[]): Array<{ entry: CatalogueEntry; parsed: AddonVersion }> {
  const out: Array<{ entry: CatalogueEntry; parsed: AddonVersion }> = [];
  for (const entry of entries) {
    const parsed = tryParseAddonVersion(entry.version);
    if (parsed) out.push({ entry, parsed });
  }
  return out.sort((a, b) => compareAddonVersions(b.parsed, a.parsed));
}

/** The entries offered for `kubernetesVersion`, newest first (unparseable versions are dropped). */
export function versionsFor(catalogue: CatalogueEntry[], kubernetesVersion: string): CatalogueEntry[] {
  return parsedNewestFirst(catalogue.filter((e) => entrySupports(e, kubernetesVersion))).map((p) => p.entry);
}

/** The newest version offered for `kubernetesVersion`, or null when none is. */
export function latestFor(catalogue: CatalogueEntry[], kubernetesVersion: string): string | null {
  return versionsFor(catalogue, kubernetesVersion)[0]?.version ?? null;
}

/** The version EKS marks as default for `kubernetesVersion` (the newest if several are marked), or null. */
export function defaultFor(catalogue: CatalogueEntry[], kubernetesVersion: string): string | null {
  const wanted = normaliseKubernetes(kubernetesVersion);
  const found = versionsFor(catalogue, kubernetesVersion).find((e) =>
    e.compatibilities.some((c) => normaliseKubernetes(c.clusterVersion) === wanted && c.defaultVersion),
  );
  return found?.version ?? null;
}

/**
 * True when `version` is offered for `kubernetesVersion`: exactly when it carries a build, by release when
 * it has none (a self-managed `v1.12.6` is offered when some `v1.12.6-eksbuild.N` is).
 */
export function isOffered(catalogue: CatalogueEntry[], version: string, kubernetesVersion: string): boolean {
  const wanted = tryParseAddonVersion(version);
  if (!wanted) return false;
  return versionsFor(catalogue, kubernetesVersion).some((e) => {
    const parsed = tryParseAddonVersion(e.version);
    return parsed !== null && versionMatches(wanted, parsed);
  });
}

/** The Kubernetes versions (ascending, `1.30` form) for which any entry matching `version` is offered. */
export function kubernetesVersionsOffering(catalogue: CatalogueEntry[], version: string): string[] {
  const wanted = tryParseAddonVersion(version);
  if (!wanted) return [];
  const found = new Set<string>();
  for (const entry of catalogue) {
    const parsed = tryParseAddonVersion(entry.version);
    if (!parsed || !versionMatches(wanted, parsed)) continue;
    for (const c of entry.compatibilities) {
      const k = normaliseKubernetes(c.clusterVersion);
      if (k !== null) found.add(k);
    }
  }
  return [...found].sort((a, b) => {
    const [am = 0, an = 0] = a.split('.').map(Number);
    const [bm = 0, bn = 0] = b.split('.').map(Number);
    return am - bm || an - bn;
  });
}
