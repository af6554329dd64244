/**
 * vpccni at a real terminal: spinners only on a sized interactive stderr, and the y/N prompts of OVERWRITE.
 * Runs the CLI under util-linux `script`, which gives it a pseudo-terminal.
 */
import { execa } from 'execa';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, isolatedEnv } from './helpers/cli.js';

const haveScript = (await execa('sh', ['-c', 'command -v script'], { reject: false })).exitCode === 0;

/**
 * Runs `vpccni …args` in a pseudo-terminal of the given width (0: unsized); answers the first y/N prompt with
 * `answer` as soon as it appears, keeping the terminal's input open until the CLI exits.
 */
async function inTerminal(args: string[], options: { columns: number; answer?: string }) {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const size = options.columns > 0 ? `stty cols ${options.columns} rows 30; ` : '';
  const child = execa('script', ['-qfec', `${size}${process.execPath} ${BIN} ${quoted}`, '/dev/null'], {
    reject: false,
    timeout: 60_000,
    stdin: 'pipe',
    env: isolatedEnv({ NO_COLOR: '1', CI: undefined }),
    extendEnv: true,
  });
  let seen = '';
  let answered = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    seen += chunk.toString();
    if (!answered && options.answer !== undefined && seen.includes('[y/N]')) {
      answered = true;
      child.stdin?.write(`${options.answer}\r`);
    }
  });
  const result = await child;
  return { exitCode: result.exitCode, stdout: seen };
}

describe.skipIf(!haveScript).concurrent('at a terminal', () => {
  it('shows a spinner on a sized terminal and still prints the report', async () => {
    const result = await inTerminal(['--sandbox', 'status'], { columns: 100 });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/Reading the vpc-cni add-on of demo/);
    expect(result.stdout).toMatch(/Add-on\s+vpc-cni v1\.12\.6-eksbuild\.2, managed by EKS, ACTIVE/);
  });

  it('does not spin on a terminal of width 0 (which sends ora into an endless redraw)', async () => {
    const result = await inTerminal(['--sandbox', 'status'], { columns: 0 });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.length).toBeLessThan(20_000);
    expect(result.stdout).not.toMatch(/Reading the vpc-cni add-on/);
  });

  it('asks before OVERWRITE and goes on after a yes', async () => {
    const backups = mkdtempSync(join(tmpdir(), 'vpccni-tty-'));
    const result = await inTerminal(
      ['--scenario', 'self-managed-custom-networking', 'upgrade', '--to', '1.13.4', '--resolve-conflicts', 'OVERWRITE', '--backup-dir', backups],
      { columns: 100, answer: 'y' },
    );
    expect(result.stdout).toMatch(/Go on with OVERWRITE\? \[y\/N\]/);
    expect(result.stdout).toMatch(/Step 1\/1: done, aws-node runs v1\.13\.4-eksbuild\.1/);
    expect(result.exitCode).toBe(0);
    expect(readdirSync(backups).some((f) => f.endsWith('.yaml'))).toBe(true);
  });

  it('stops with exit 2 and changes nothing after a no', async () => {
    const backups = mkdtempSync(join(tmpdir(), 'vpccni-tty-'));
    const result = await inTerminal(
      ['--scenario', 'self-managed-custom-networking', 'upgrade', '--to', '1.13.4', '--resolve-conflicts', 'OVERWRITE', '--backup-dir', backups],
      { columns: 100, answer: 'n' },
    );
    expect(result.stdout).toMatch(/Go on with OVERWRITE\? \[y\/N\]/);
    expect(result.stdout).toMatch(/needs confirmation; pass --yes/);
    expect(result.exitCode).toBe(2);
    expect(readdirSync(backups)).toEqual([]);
  });
});
