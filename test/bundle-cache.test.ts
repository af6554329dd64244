/**
 * The bundle's compile cache (Node's module.enableCompileCache, turned on by bin/vpccni.js): the first run
 * writes V8's compiled code of the files it loaded into vpccni's own folder, later runs are handed it back; a
 * rebuild (same file names, other code) is compiled afresh and its entries rewritten, never served the old
 * code; VPCCNI_COMPILE_CACHE=0 turns it off; a cache that cannot be written changes nothing but speed. What
 * Node did with each file is read off its own account of it (NODE_DEBUG_NATIVE=COMPILE_CACHE on stderr).
 */
import { execa } from 'execa';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT, isolatedEnv, parseJson, vpccni } from './helpers/cli.js';

interface Account {
  /** Bundle files whose cached code V8 took. */
  accepted: string[];
  /** Bundle files whose cache entry was written at exit. */
  written: string[];
  /** Bundle files whose entry was of another content. */
  mismatched: string[];
}

const files = (stderr: string, pattern: RegExp) => [...stderr.matchAll(pattern)].map((m) => m[1]!.split('/').pop()!).sort();

/** Runs `vpccni --help` (the bundle's entry and the modules --help needs) with `env`; Node's account of it. */
async function help(env: Record<string, string | undefined>, bin = BIN): Promise<Account & { stdout: string }> {
  const result = await execa('node', [bin, '--help'], { env: isolatedEnv({ NODE_DEBUG_NATIVE: 'COMPILE_CACHE', ...env }), extendEnv: true, reject: false });
  expect(result.exitCode, result.stderr).toBe(0);
  const stderr = String(result.stderr);
  expect(stderr.split('\n').filter((line) => line && !line.startsWith('[compile cache]'))).toEqual([]);
  return {
    stdout: String(result.stdout),
    accepted: files(stderr, /for (?:ESM )?(file:\S+) was accepted/g),
    written: files(stderr, /writing cache for (?:ESM )?(file:\S+) to [^\n]*\.\.\.success$/gm),
    mismatched: files(stderr, /for (?:ESM )?(file:\S+)\.\.\.\[[\d ]+\]\.\.\.code hash mismatch/g),
  };
}

const fresh = () => join(mkdtempSync(join(tmpdir(), 'vpccni-code-cache-')), 'cache');

/** The folder Node keeps this line's entries in: one per Node.js version, architecture and V8 flags. */
function lineFolder(base: string): string {
  const folders = readdirSync(join(base, 'compile-cache'));
  expect(folders).toEqual([expect.stringMatching(new RegExp(`^${process.version.replace(/\./g, '\\.')}-${process.arch}-`))]);
  return join(base, 'compile-cache', folders[0]!);
}

describe('the compile cache of the bundle', () => {
  it('is written in its own folder by the first run and read by the next', async () => {
    const base = fresh();
    const first = await help({ VPCCNI_CACHE_DIR: base });
    expect(first.accepted).toEqual([]);
    expect(first.written).toContain('cli.mjs');
    expect(readdirSync(lineFolder(base)).length).toBe(first.written.length);

    const second = await help({ VPCCNI_CACHE_DIR: base });
    expect(second.accepted).toEqual(first.written);
    expect(second.written).toEqual([]);
    expect(second.stdout).toBe(first.stdout);
  });

  it('never serves a rebuilt file its old code: the entry is compiled afresh and rewritten', async () => {
    // A copy of what ships the CLI's --help (the launcher, package.json and the bundle), rebuilt in place:
    // one bundle file's text changes, its name and length do not.
    const pkg = mkdtempSync(join(tmpdir(), 'vpccni-rebuilt-'));
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    cpSync(join(ROOT, 'bin'), join(pkg, 'bin'), { recursive: true });
    cpSync(join(ROOT, 'dist', 'bundle'), join(pkg, 'dist', 'bundle'), { recursive: true });
    const bin = join(pkg, 'bin', 'vpccni.js');
    const base = fresh();
    const cold = await help({ VPCCNI_CACHE_DIR: base }, bin);
    expect(cold.stdout).toMatch(/^Manage the Amazon VPC CNI add-on/m);
    expect(cold.written).toContain('cli.mjs');
    const entries = readdirSync(lineFolder(base)).sort();

    const entry = join(pkg, 'dist', 'bundle', 'cli.mjs');
    const code = readFileSync(entry, 'utf8');
    expect(code).toContain('Manage the Amazon VPC CNI add-on');
    writeFileSync(entry, code.replace('Manage the Amazon VPC CNI add-on', 'MANAGE THE AMAZON VPC CNI ADD-ON'));
    const rebuilt = await help({ VPCCNI_CACHE_DIR: base }, bin);
    expect(rebuilt.stdout).toMatch(/^MANAGE THE AMAZON VPC CNI ADD-ON/m);
    expect(rebuilt.mismatched).toEqual(['cli.mjs']);
    expect(rebuilt.written).toEqual(['cli.mjs']);
    expect(rebuilt.accepted).toEqual(cold.written.filter((name) => name !== 'cli.mjs'));
    // The rebuilt file's entry replaced the old one.
    expect(readdirSync(lineFolder(base)).sort()).toEqual(entries);

    const again = await help({ VPCCNI_CACHE_DIR: base }, bin);
    expect(again.stdout).toBe(rebuilt.stdout);
    expect(again.accepted).toEqual(cold.written);
  });

  it('is off with VPCCNI_COMPILE_CACHE=0, and a cache that cannot be written is skipped', async () => {
    const base = fresh();
    const off = await help({ VPCCNI_CACHE_DIR: base, VPCCNI_COMPILE_CACHE: '0' });
    expect(off).toMatchObject({ accepted: [], written: [], mismatched: [] });
    expect(existsSync(base)).toBe(false);

    // A file where the folder would be: nothing can be written, and the CLI runs all the same.
    mkdirSync(join(base, '..'), { recursive: true });
    writeFileSync(base, 'in the way');
    const blocked = await help({ VPCCNI_CACHE_DIR: base });
    expect(blocked).toMatchObject({ accepted: [], written: [] });
    expect(blocked.stdout).toBe(off.stdout);
  });

  it('lives under XDG_CACHE_HOME, else ~/.cache, when VPCCNI_CACHE_DIR is not set', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vpccni-code-cache-home-'));
    await help({ VPCCNI_CACHE_DIR: undefined, HOME: home, XDG_CACHE_HOME: join(home, 'xdg') });
    expect(readdirSync(lineFolder(join(home, 'xdg', 'vpccni'))).length).toBeGreaterThan(0);
    expect(existsSync(join(home, '.cache'))).toBe(false);
    await help({ VPCCNI_CACHE_DIR: undefined, HOME: home, XDG_CACHE_HOME: undefined });
    expect(readdirSync(lineFolder(join(home, '.cache', 'vpccni'))).length).toBeGreaterThan(0);
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
    expect(readdirSync(lineFolder(base)).length).toBeGreaterThan(5);
  });
});
