/**
 * What ships runs the bundle (scripts/bundle.mjs): bin/vpccni.js imports dist/bundle/cli.mjs, whose modules
 * still find the fixtures, schemas and advisories beside the package; VPCCNI_UNBUNDLED=1 runs tsc's dist/.
 * Which one ran is read off the modules, ES or CommonJS, the process loaded from node_modules (none, bundled).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, parseJson, vpccni } from './helpers/cli.js';

/** A preload that prints, at exit, the node_modules packages whose modules Node loaded (import or require). */
function tracer(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vpccni-bundle-')), 'loaded.mjs');
  writeFileSync(
    file,
    [
      `import { registerHooks } from 'node:module';`,
      `const loaded = new Set();`,
      `registerHooks({ load(url, context, next) {`,
      `  const inside = url.split('/node_modules/')[1];`,
      `  if (inside) loaded.add(inside.split('/').slice(0, inside.startsWith('@') ? 2 : 1).join('/'));`,
      `  return next(url, context);`,
      `} });`,
      `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify([...loaded]) + '\\n'));`,
    ].join('\n'),
  );
  return file;
}

const loaded = (stderr: string): string[] => JSON.parse(/^LOADED (.*)$/m.exec(stderr)?.[1] ?? 'null') as string[];

describe('the bundle', () => {
  it('is what bin/vpccni.js runs, and it reads the fixtures, schemas and advisories of the package', async () => {
    const env = isolatedEnv({ NODE_OPTIONS: `--import ${tracer()}` });
    const result = await vpccni(['--sandbox', '--scenario', 'pod-identity', 'status', '--output', 'json'], { env });
    expect([0, 1]).toContain(result.exitCode);
    const report = parseJson<{ schemaVersion: number; cluster: { name: string }; addon: { podIdentityAssociations?: unknown[] } }>(result);
    expect(report.schemaVersion).toBe(1);
    expect(report.addon.podIdentityAssociations?.length).toBeGreaterThan(0);
    const packages = loaded(result.stderr);
    expect(packages.filter((p) => p.startsWith('@aws-sdk/') || p === 'commander' || p === 'yaml')).toEqual([]);
  });

  it('steps aside for tsc\'s dist/ with VPCCNI_UNBUNDLED=1', async () => {
    const env = isolatedEnv({ NODE_OPTIONS: `--import ${tracer()}`, VPCCNI_UNBUNDLED: '1' });
    const result = await vpccni(['--help'], { env });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: vpccni/);
    expect(loaded(result.stderr)).toContain('commander');
  });
});
