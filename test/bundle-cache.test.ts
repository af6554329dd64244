/**
 * The bundle's code cache (bin/bundle-loader.cjs): the first run writes V8's compiled code of the files it
 * loaded, later runs hand it back to V8; a damaged entry is compiled afresh and rewritten; entries of files
 * no longer in the bundle go; VPCCNI_COMPILE_CACHE=0 turns it off; a cache that cannot be written changes
 * nothing but speed. Each case loads the bundle's entry in a node of its own (the loader hooks require()).
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, isolatedEnv, parseJson, vpccni } from './helpers/cli.js';

const LOADER = join(ROOT, 'bin', 'bundle-loader.cjs');

interface Report {
  folder: string | null;
  read: string[];
  written: string[];
  rejected: string[];
}

/** Loads dist/bundle/cli.cjs under the loader with `env`; returns the loader's report, taken at exit. */
async function load(env: Record<string, string | undefined>): Promise<Report> {
  const script = [
    `const loader = require(${JSON.stringify(LOADER)});`,
    'const report = loader.installCodeCache();',
    `const { main } = require(${JSON.stringify(join(ROOT, 'dist', 'bundle', 'cli.cjs'))});`,
    'if (typeof main !== "function") throw new Error("no main");',
    // After the loader's own exit handler, which writes the cache.
    'process.on("exit", () => process.stdout.write(JSON.stringify(report)));',
  ].join('\n');
  const result = await execa(process.execPath, ['-e', script], { env, extendEnv: true, reject: false });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Report;
}

/** The bundle file an entry is of: `cli-abc.cjs.0123456789abcdef.v8` → `cli-abc.cjs`. */
const bundleFile = (entry: string) => entry.replace(/\.[0-9a-f]{16}\.v8$/, '');

const fresh = () => join(mkdtempSync(join(tmpdir(), 'vpccni-code-cache-')), 'cache');

describe('the code cache of the bundle', () => {
  it('is written by the first run, read by the next, and rewritten where an entry is damaged', async () => {
    const base = fresh();
    const first = await load({ VPCCNI_CACHE_DIR: base });
    expect(first.folder?.startsWith(base)).toBe(true);
    expect(first.read).toEqual([]);
    expect(first.written).toEqual(expect.arrayContaining([expect.stringMatching(/^cli\.cjs\.[0-9a-f]{16}\.v8$/), expect.stringMatching(/^cli-.+\.cjs\.[0-9a-f]{16}\.v8$/)]));
    expect(readdirSync(first.folder!).sort()).toEqual([...first.written].sort());

    const second = await load({ VPCCNI_CACHE_DIR: base });
    expect(second.read.sort()).toEqual(first.written.map(bundleFile).sort());
    expect(second.written).toEqual([]);

    // A damaged entry (cut short), one of a file the bundle no longer has, and one of another content of the
    // fixed-name cli.cjs (as a rebuild gives: same length, so V8 would take it, and run the old code).
    const entry = first.written.find((name) => name.startsWith('cli-'))!;
    const bytes = readFileSync(join(first.folder!, entry));
    writeFileSync(join(first.folder!, entry), bytes.subarray(0, bytes.length >> 1));
    writeFileSync(join(first.folder!, 'cli-0ld0ld0l.cjs.0123456789abcdef.v8'), 'gone');
    const stub = first.written.find((name) => name.startsWith('cli.cjs.'))!;
    writeFileSync(join(first.folder!, 'cli.cjs.0123456789abcdef.v8'), readFileSync(join(first.folder!, stub)));
    const third = await load({ VPCCNI_CACHE_DIR: base });
    expect(third.rejected).toEqual([bundleFile(entry)]);
    expect(third.written).toEqual([entry]);
    expect(readFileSync(join(first.folder!, entry)).length).toBeGreaterThan(bytes.length >> 1);
    expect(readdirSync(first.folder!).sort()).toEqual([...first.written].sort());
  });

  it('is off with VPCCNI_COMPILE_CACHE=0, and a cache that cannot be written is skipped', async () => {
    const base = fresh();
    const off = await load({ VPCCNI_CACHE_DIR: base, VPCCNI_COMPILE_CACHE: '0' });
    expect(off).toEqual({ folder: null, read: [], written: [], rejected: [] });
    expect(existsSync(base)).toBe(false);

    // A file where the folder would be: nothing can be written, and the bundle loads all the same.
    mkdirSync(join(base, '..'), { recursive: true });
    writeFileSync(base, 'in the way');
    const blocked = await load({ VPCCNI_CACHE_DIR: base });
    expect(blocked.written).toEqual([]);
    expect(blocked.read).toEqual([]);
  });

  it('lives under XDG_CACHE_HOME, else ~/.cache, when VPCCNI_CACHE_DIR is not set', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vpccni-code-cache-home-'));
    const xdg = await load({ VPCCNI_CACHE_DIR: undefined, HOME: home, XDG_CACHE_HOME: join(home, 'xdg') });
    expect(xdg.folder?.startsWith(join(home, 'xdg', 'vpccni', `v8-${process.version}-${process.arch}-`))).toBe(true);
    const plain = await load({ VPCCNI_CACHE_DIR: undefined, HOME: home, XDG_CACHE_HOME: undefined });
    expect(plain.folder?.startsWith(join(home, '.cache', 'vpccni', `v8-${process.version}-${process.arch}-`))).toBe(true);
  });

  it('gives the CLI the same answers with the cache cold, warm and off', async () => {
    const base = fresh();
    const runs: { exitCode: number; report: unknown }[] = [];
    for (const extra of [{}, {}, { VPCCNI_COMPILE_CACHE: '0' }]) {
      const result = await vpccni(['--sandbox', 'status', '--output', 'json'], { env: isolatedEnv({ VPCCNI_CACHE_DIR: base, ...extra }) });
      expect(result.stderr).toBe('');
      // The sandbox dates its insights from the time it starts: the same answers, at other times.
      const timeless = JSON.stringify(parseJson(result)).replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>');
      runs.push({ exitCode: result.exitCode, report: JSON.parse(timeless) });
    }
    expect(runs[1]).toEqual(runs[0]);
    expect(runs[2]).toEqual(runs[0]);
    expect(readdirSync(readdirSync(base).map((name) => join(base, name))[0]!).length).toBeGreaterThan(5);
  });
});
