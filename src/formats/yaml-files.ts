/**
 * YAML without paying for it at start-up: the `yaml` library is required on first use, and the shipped YAML
 * fixtures (manifests, scenarios) are read from the JSON copies `npm run build` writes to
 * dist/fixtures-json/ (scripts/fixtures-json.mjs) when those are at least as new as the YAML; parsing a
 * manifest costs ~250 ms of a cold process, reading its JSON under 1 ms. Before a build there are no
 * copies and the YAML is parsed. The files are found through src/package-files.ts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { packageFileTime, readPackageJson, readPackageText } from '../package-files.js';

const require = createRequire(import.meta.url);

/** The `yaml` library, loaded on first use. */
export function yamlLib(): typeof import('yaml') {
  return require('yaml') as typeof import('yaml');
}

/**
 * Every non-empty document of a shipped YAML fixture (`fixtures/manifests/aws-k8s-cni-v1.14.0.yaml`), as plain
 * JSON values: from its JSON copy when that is as new as the YAML.
 */
export function readPackageYaml(name: string): unknown[] {
  if (name.startsWith('fixtures/')) {
    const copy = `dist/fixtures-json/${name.slice('fixtures/'.length)}.json`;
    const copied = packageFileTime(copy);
    if (copied !== undefined && copied >= (packageFileTime(name) ?? -Infinity)) return readPackageJson<unknown[]>(copy);
  }
  return parseYamlDocuments(readPackageText(name));
}

/** Every non-empty document of a YAML file, as plain JSON values. */
export function readYamlDocuments(path: string): unknown[] {
  return parseYamlDocuments(readFileSync(path, 'utf8'));
}

/** The non-empty documents of a YAML text, as plain JSON values. */
export function parseYamlDocuments(text: string): unknown[] {
  return yamlLib()
    .parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter((value) => value !== null && value !== undefined);
}
