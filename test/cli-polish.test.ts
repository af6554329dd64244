/**
 * The small things of a CLI people use every day: help with the global options and examples, a bare
 * `vpccni` on stdout, Ctrl-C at a prompt, temporary directories gone after every kind of exit, and
 * in-process sandbox runs that keep their journal and backups apart from real ones.
 * The built CLI is spawned where the process is the point (the bare launcher, a terminal, signals); the rest
 * runs in-process (main(argv), helpers/in-process.ts).
 */
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { BIN, isolatedEnv, ROOT, vpccni } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';

useInProcessCli();

const COMMANDS = ['status', 'plan', 'backup', 'restore', 'validate', 'upgrade', 'check', 'sandbox serve', 'sandbox list'];

describe('help', () => {
  it.each(COMMANDS)('`%s --help` shows the global options and two examples', async (command) => {
    const result = await vpccniInProcess([...command.split(' '), '--help']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Global Options:/);
    expect(result.stdout).toMatch(/--kube-client <client>/);
    expect(result.stdout).toMatch(/--sandbox/);
    const examples = result.stdout.split('Examples:')[1] ?? '';
    expect(examples.match(/^\s+\$ vpccni /gm)).toHaveLength(2);
  });

  it('a bare `vpccni` (the built launcher) prints the help on stdout and exits 0', async () => {
    const result = await vpccni([]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: vpccni/);
    expect(result.stdout).toMatch(/Commands:/);
    expect(result.stderr).toBe('');
  });

  it('an unknown command is still bad input', async () => {
    const result = await vpccniInProcess(['stauts']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'stauts'/);
  });
});

const haveScript = (await execa('sh', ['-c', 'command -v script'], { reject: false })).exitCode === 0;

describe.skipIf(!haveScript)('Ctrl-C at a prompt', () => {
  it('exits 130 with one line and no backup written', async () => {
    const backups = mkdtempSync(join(tmpdir(), 'vpccni-tty-'));
    const args = ['--scenario', 'self-managed-custom-networking', 'upgrade', '--to', '1.13.4', '--resolve-conflicts', 'OVERWRITE', '--backup-dir', backups];
    const quoted = args.map((a) => `'${a}'`).join(' ');
    const child = execa('script', ['-qfec', `stty cols 100 rows 30; ${process.execPath} ${BIN} ${quoted}`, '/dev/null'], {
      reject: false,
      timeout: 60_000,
      stdin: 'pipe',
      env: isolatedEnv({ NO_COLOR: '1', CI: undefined }),
      extendEnv: true,
    });
    let seen = '';
    let sent = false;
    child.stdout?.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (!sent && seen.includes('[y/N]')) {
        sent = true;
        child.stdin?.write('\x03');
      }
    });
    const result = await child;
    expect(sent).toBe(true);
    expect(result.exitCode).toBe(130);
    const after = seen.slice(seen.indexOf('[y/N]'));
    expect(after).toMatch(/vpccni: Interrupted at the prompt; nothing was changed\./);
    expect(after).not.toMatch(/unexpected error|Aborted with Ctrl\+C/);
    // eslint-disable-next-line no-control-regex
    const visible = after.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    const lines = visible.split(/\r?\n/).slice(1).filter((l) => l.trim() !== '' && !/^\^C$/.test(l.trim()));
    expect(lines, JSON.stringify(after)).toHaveLength(1);
    expect(readdirSync(backups)).toEqual([]);
  });
});

describe('temporary directories', () => {
  const leftovers = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('vpccni-sandbox-'));

  it('a --sandbox run leaves none behind', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'vpccni-tmp-'));
    const result = await vpccniInProcess(['--sandbox', 'status'], { env: { TMPDIR: tmp } });
    expect(result.exitCode).toBe(0);
    expect(leftovers(tmp)).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('`sandbox serve` removes its directory on %s', async (signal) => {
    const tmp = mkdtempSync(join(tmpdir(), 'vpccni-tmp-'));
    const child = execa('node', [BIN, 'sandbox', 'serve'], { env: isolatedEnv({ TMPDIR: tmp }), extendEnv: true, reject: false, stdin: 'ignore', buffer: false });
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    expect(JSON.parse(first).kubeconfig).toContain(tmp);
    expect(leftovers(tmp)).toHaveLength(1);
    child.kill(signal);
    await child;
    expect(leftovers(tmp)).toEqual([]);
  });
});

describe('in-process sandbox runs', () => {
  it('keep their journal and backups apart: a stopped sandbox upgrade does not block the next one', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'vpccni-cwd-'));
    const tmp = join(cwd, 'tmp');
    mkdirSync(tmp);
    // faulty-aws's second update failure stops the walk at step 2; without its throttling, whose SDK backoff
    // (tested in faults.test.ts) only made this test wait.
    const faulty = parseYaml(readFileSync(join(ROOT, 'fixtures', 'scenarios', 'faulty-aws.yaml'), 'utf8')) as { sandbox: { faults: Record<string, unknown> } };
    faulty.sandbox.faults = { failUpdateNumber: faulty.sandbox.faults.failUpdateNumber };
    const scenario = join(mkdtempSync(join(tmpdir(), 'vpccni-scenario-')), 'faulty-aws-unthrottled.yaml');
    writeFileSync(scenario, stringify({ ...faulty, name: 'faulty-aws-unthrottled' }));
    for (let i = 0; i < 2; i++) {
      const result = await vpccniInProcess(['--scenario', scenario, 'upgrade', '--to', 'latest', '--yes'], { env: { TMPDIR: tmp }, cwd });
      expect(result.exitCode).toBe(4);
      expect(result.stderr).toMatch(/The upgrade stopped at step 2 of 2/);
      expect(result.stderr).not.toMatch(/stopped part-way/);
    }
    expect(readdirSync(join(cwd, '.vpccni'))).toEqual(['sandbox']);
    expect(readdirSync(join(cwd, '.vpccni', 'sandbox', 'backups'))).toHaveLength(2);
    expect(readdirSync(tmp)).toEqual([]);
  });
});
