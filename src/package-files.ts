/**
 * The package's own data files (fixtures/, schemas/, advisories/, dist/fixtures-json/), named from the
 * package root (`fixtures/manifests/aws-k8s-cni-v1.14.0.yaml`): the one place that knows where they are.
 * An install or a clone has them on disk beside dist/; the single executable (`npm run build:sea`,
 * scripts/bundle.mjs --sea) carries them as its SEA assets, keyed by the same names, and has no files.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package root: from src/ (vitest), dist/ and dist/bundle/ alike (the bundle rewrites import.meta.url). */
const ROOT = new URL('../', import.meta.url);

/** `node:sea`; getAssetKeys came with Node.js 24 (the single executable is built from Node.js 24). */
type Sea = typeof import('node:sea') & { getAssetKeys?: () => string[] };
let assets: { sea: Sea; keys: Set<string> } | null | undefined;

/** The single executable's assets, or null when this process runs from files. */
function seaAssets(): { sea: Sea; keys: Set<string> } | null {
  if (assets === undefined) {
    // getBuiltinModule, not an import: `node:sea` is a prefix-only built-in some loaders do not know.
    const sea = process.getBuiltinModule?.('node:sea') as Sea | undefined;
    if (!sea?.isSea()) assets = null;
    else if (!sea.getAssetKeys) throw new Error('This single executable was built from a Node.js without sea.getAssetKeys(); build it with npm run build:sea.');
    else assets = { sea, keys: new Set(sea.getAssetKeys()) };
  }
  return assets;
}

/** Where a package file is, for messages: its path, or the executable and the file's name in it. */
export function packageLocation(name: string): string {
  return seaAssets() ? `${process.execPath}:${name}` : fileURLToPath(new URL(name, ROOT));
}

/** The text of a package file (UTF-8). */
export function readPackageText(name: string): string {
  const sea = seaAssets();
  return sea ? sea.sea.getAsset(name, 'utf8') : readFileSync(new URL(name, ROOT), 'utf8');
}

/** A package file parsed as JSON. */
export function readPackageJson<T = unknown>(name: string): T {
  return JSON.parse(readPackageText(name)) as T;
}

/** The names of the files directly in a package folder (`fixtures/manifests`), unsorted. */
export function listPackageFolder(folder: string): string[] {
  const sea = seaAssets();
  if (!sea) return readdirSync(new URL(`${folder}/`, ROOT));
  const prefix = `${folder}/`;
  return [...sea.keys].filter((key) => key.startsWith(prefix) && !key.includes('/', prefix.length)).map((key) => key.slice(prefix.length));
}

/** When a package file was last changed (ms), for the JSON copies' check; one fixed time in the single executable. */
export function packageFileTime(name: string): number | undefined {
  const sea = seaAssets();
  if (sea) return sea.keys.has(name) ? 0 : undefined;
  try {
    return statSync(new URL(name, ROOT)).mtimeMs;
  } catch {
    return undefined;
  }
}
