/**
 * What ships runs the bundle (scripts/bundle.mjs): bin/vpccni.js loads dist/bundle/cli.js, whose modules
 * still find the fixtures, schemas and advisories beside the package; VPCCNI_UNBUNDLED=1 runs tsc's dist/.
 * Which one ran is read off the CommonJS modules the process loaded from node_modules (none, bundled).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, parseJson, vpccni } from './helpers/cli.js';

/** A preload that prints, at exit, the node_modules packages loaded through require(). */
function tracer(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'vpccni-bundle-')), 'loaded.mjs');
  writeFileSync(
    file,
    `import { createRequire } from 'node:module';\nconst cache = createRequire(import.meta.url).cache;\n` +
      `process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify([...new Set(Object.keys(cache).filter((f) => f.includes('/node_modules/') && f.endsWith('.js')).map((f) => f.split('/node_modules/').pop().split('/').slice(0, f.split('/node_modules/').pop().startsWith('@') ? 2 : 1).join('/')))]) + '\\n'));\n`,
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
