/**
 * The journal lock under kills (issue 19): a run killed at any step of taking the lock never leaves a state in
 * which the next run refuses to start, and runs that race to take over a dead owner's lock never both win.
 * Each killed run is a real process (SIGKILL, no clean-up) running the built lock module; the built CLI is killed
 * mid-upgrade once, end to end.
 */
import { execa } from 'execa';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { acquireJournalLock, type LockStep } from '../src/act/upgrade/lock.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { spawnOnSandbox } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';

useInProcessCli();

const LOCK_MODULE = pathToFileURL(resolve('dist/act/upgrade/lock.js')).href;
const DEAD = { pid: 2 ** 22 + 11, host: hostname(), startedAt: 'a run that is gone' };

function journalIn(): string {
  return join(mkdtempSync(join(tmpdir(), 'vpccni-lock-')), 'upgrade-journal-demo-us-west-2.json');
}

/** Runs the built lock module in a child that SIGKILLs itself at `killAt` (or holds the lock until stdin ends). */
function child(journal: string, killAt: LockStep | null) {
  const script = `
    const { acquireJournalLock } = await import(${JSON.stringify(LOCK_MODULE)});
    const killAt = ${JSON.stringify(killAt)};
    process.stdout.write('ready\\n');
    await new Promise((r) => process.stdin.once('data', r));
    try {
      await acquireJournalLock(${JSON.stringify(journal)}, { onStep: (s) => { if (s === killAt) process.kill(process.pid, 'SIGKILL'); } });
      process.stdout.write('won\\n');
      await new Promise((r) => process.stdin.once('end', r));
    } catch (e) { process.stdout.write('refused: ' + e.message + '\\n'); }`;
  const proc = execa('node', ['--input-type=module', '-e', script], { reject: false, stdin: 'pipe' });
  const ready = new Promise<void>((done) => proc.stdout!.on('data', (c: Buffer) => String(c).includes('ready') && done()));
  const outcome = new Promise<string>((done) => {
    let text = '';
    proc.stdout!.on('data', (c: Buffer) => {
      text += String(c);
      if (/won|refused/.test(text)) done(text);
    });
    void proc.then(() => done(text));
  });
  return { proc, ready, outcome, go: () => proc.stdin!.write('go\n') };
}

/** What is left beside the journal: only the names, sorted. */
function leftovers(journal: string): string[] {
  const dir = resolve(journal, '..');
  return readdirSync(dir).sort();
}

describe('the journal lock survives a kill at every step', () => {
  const plain: LockStep[] = ['temp-written', 'linked'];
  it.each(plain)('a run killed at "%s" of taking a free lock: the next run takes the lock', async (step) => {
    const journal = journalIn();
    const killed = child(journal, step);
    await killed.ready;
    killed.go();
    const result = await killed.proc;
    expect(result.signal).toBe('SIGKILL');
    const next = await acquireJournalLock(journal);
    expect(JSON.parse(readFileSync(`${journal}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    await next.release();
    // No temporary owner file of the killed run is left behind once the next run has looked.
    expect(leftovers(journal).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  const takeover: LockStep[] = ['temp-written', 'claim-linked', 'claim-checked', 'renamed', 'claims-removed'];
  it.each(takeover)('a run killed at "%s" of taking over a dead owner\'s lock: the next run takes the lock', async (step) => {
    const journal = journalIn();
    writeFileSync(`${journal}.lock`, `${JSON.stringify(DEAD)}\n`);
    const killed = child(journal, step);
    await killed.ready;
    killed.go();
    expect((await killed.proc).signal).toBe('SIGKILL');
    const next = await acquireJournalLock(journal);
    expect(JSON.parse(readFileSync(`${journal}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    await next.release();
    expect(leftovers(journal).filter((n) => n.includes('.lock'))).toEqual([]);
  });

  it('a run killed while it held a claim on a claim: the next run still takes the lock', async () => {
    const journal = journalIn();
    writeFileSync(`${journal}.lock`, `${JSON.stringify(DEAD)}\n`);
    // The first run dies holding the claim on the dead owner; the second dies holding the claim on that claim.
    for (const _ of [1, 2]) {
      const killed = child(journal, 'claim-linked');
      await killed.ready;
      killed.go();
      expect((await killed.proc).signal).toBe('SIGKILL');
    }
    expect(leftovers(journal).filter((n) => n.includes('.claim.')).length).toBe(2);
    const next = await acquireJournalLock(journal);
    expect(JSON.parse(readFileSync(`${journal}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    await next.release();
    expect(leftovers(journal).filter((n) => n.includes('.lock'))).toEqual([]);
  });

  it('runs that race to take over a dead owner\'s lock: exactly one wins, the others name it', async () => {
    for (let round = 0; round < 3; round++) {
      const journal = journalIn();
      writeFileSync(`${journal}.lock`, `${JSON.stringify(DEAD)}\n`);
      const runs = Array.from({ length: 4 }, () => child(journal, null));
      await Promise.all(runs.map((r) => r.ready));
      runs.forEach((r) => r.go());
      const outcomes = await Promise.all(runs.map((r) => r.outcome));
      const winners = outcomes.filter((o) => o.includes('won'));
      expect(winners, outcomes.join(' | ')).toHaveLength(1);
      const holder = JSON.parse(readFileSync(`${journal}.lock`, 'utf8')) as { pid: number };
      const winner = runs[outcomes.findIndex((o) => o.includes('won'))]!;
      expect(holder.pid).toBe(winner.proc.pid);
      for (const o of outcomes.filter((o) => !o.includes('won'))) expect(o).toMatch(/refused: (Another vpccni upgrade .*process \d+|Could not take)/);
      runs.forEach((r) => r.proc.stdin!.end());
      await Promise.all(runs.map((r) => r.proc));
    }
  });

  it('an empty lock (left by an older vpccni killed mid-write) is named, with what to do', async () => {
    const journal = journalIn();
    writeFileSync(`${journal}.lock`, '');
    await expect(acquireJournalLock(journal)).rejects.toThrow(/unreadable \(an older vpccni left it\); delete it if no upgrade/);
  });
});

describe('vpccni upgrade killed mid-run', () => {
  let sandbox: RunningSandbox | undefined;
  afterEach(async () => {
    await sandbox?.close();
    sandbox = undefined;
  });

  it('SIGKILL while a step is in flight: the next `upgrade --resume` starts and finishes', async () => {
    sandbox = await startSandbox('default', { hold: ['eks-change'] });
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-lock-e2e-'));
    const run = spawnOnSandbox(sandbox, ['upgrade', '--backup-dir', dir, '--to', 'v1.13.4-eksbuild.1', '--yes']);
    await sandbox.gates.eksChange.waitForPending(1);
    run.kill('SIGKILL');
    expect((await run.result).exitCode).not.toBe(0);
    expect(readdirSync(dir).some((n) => n.endsWith('.lock'))).toBe(true);
    sandbox.gates.eksChange.release();
    const resumed = await onSandboxInProcess(sandbox, ['upgrade', '--backup-dir', dir, '--resume', '--yes']);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    await vi.waitFor(() => expect(sandbox!.addon()?.addonVersion).toBe('v1.13.4-eksbuild.1'));
    expect(readdirSync(dir).filter((n) => n.includes('.lock'))).toEqual([]);
  });
});
