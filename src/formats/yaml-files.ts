/**
 * YAML without paying for it at start-up: the `yaml` library is required on first use, and the shipped YAML
 * fixtures (manifests, scenarios) are read from the JSON copies `npm run build` writes to
 * dist/fixtures-json/ (scripts/fixtures-json.mjs) when those are at least as new as the YAML; parsing a
 * manifest costs ~250 ms of a cold process, reading its JSON under 1 ms. From src/ (vitest) there are no
 * copies and the YAML is parsed.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const COPIES = fileURLToPath(new URL('../fixtures-json/', import.meta.url));

/** The `yaml` library, loaded on first use. */
export function yamlLib(): typeof import('yaml') {
  return require('yaml') as typeof import('yaml');
}

/** Every non-empty document of a YAML file, as plain JSON values. */
export function readYamlDocuments(path: string): unknown[] {
  const rel = relative(FIXTURES, path);
  if (!rel.startsWith('..')) {
    const copy = `${COPIES}${rel}.json`;
    if (existsSync(copy) && statSync(copy).mtimeMs >= statSync(path).mtimeMs) return JSON.parse(readFileSync(copy, 'utf8')) as unknown[];
  }
  return parseYamlDocuments(readFileSync(path, 'utf8'));
}

/** The non-empty documents of a YAML text, as plain JSON values. */
export function parseYamlDocuments(text: string): unknown[] {
  return yamlLib()
    .parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter((value) => value !== null && value !== undefined);
}
