/**
 * The JSON copies of the YAML fixtures that `npm run build` writes (scripts/fixtures-json.mjs) and the built
 * CLI and sandbox read instead of parsing YAML at start-up (src/formats/yaml-files.ts): each holds exactly the
 * documents of its YAML file, and a copy older than its YAML is not used.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseYamlDocuments, readPackageYaml, readYamlDocuments } from '../src/formats/yaml-files.js';
import { listPackageFolder, packageFileTime, packageLocation } from '../src/package-files.js';

const root = fileURLToPath(new URL('..', import.meta.url));

describe('the built JSON copies of the YAML fixtures', () => {
  it.runIf(existsSync(join(root, 'dist/fixtures-json')))('hold the same documents as the YAML (manifests and scenarios)', () => {
    let compared = 0;
    for (const dir of ['manifests', 'scenarios']) {
      for (const file of readdirSync(join(root, 'fixtures', dir)).filter((f) => /\.ya?ml$/.test(f))) {
        const copy = join(root, 'dist/fixtures-json', dir, `${file}.json`);
        expect(existsSync(copy), `${copy}: run npm run build`).toBe(true);
        expect(JSON.parse(readFileSync(copy, 'utf8')), file).toEqual(parseYamlDocuments(readFileSync(join(root, 'fixtures', dir, file), 'utf8')));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(40);
  });

  it('a shipped fixture is found by its name from the package root (src/package-files.ts), from its copy when that is as new', () => {
    expect(listPackageFolder('fixtures/scenarios').sort()).toEqual(readdirSync(join(root, 'fixtures/scenarios')).sort());
    expect(packageLocation('fixtures/scenarios/default.yaml')).toBe(join(root, 'fixtures/scenarios/default.yaml'));
    const name = 'fixtures/manifests/aws-k8s-cni-v1.14.0.yaml';
    expect(readPackageYaml(name)).toEqual(parseYamlDocuments(readFileSync(join(root, name), 'utf8')));
    const copy = packageFileTime('dist/fixtures-json/manifests/aws-k8s-cni-v1.14.0.yaml.json');
    if (copy !== undefined) expect(copy).toBeGreaterThanOrEqual(packageFileTime(name)!);
    expect(packageFileTime('fixtures/no-such-file.yaml')).toBeUndefined();
  });

  it('a YAML file outside fixtures/ is parsed, every document but the empty ones', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vpccni-yaml-')), 'two.yaml');
    writeFileSync(file, 'a: 1\n---\n---\nb: [x]\n');
    utimesSync(file, new Date(), new Date());
    expect(readYamlDocuments(file)).toEqual([{ a: 1 }, { b: ['x'] }]);
  });
});
