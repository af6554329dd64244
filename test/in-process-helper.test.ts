/**
 * The in-process runner (helpers/in-process.ts) the end-to-end tests rely on instead of spawning the CLI:
 * a run's own environment and working directory are set for that run only, runs that set them never overlap
 * another, its output reads as execa reports a spawned run's, and no run leaves a signal handler or an exit
 * code behind for the next.
 */
import { mkdtempSync, readdirSync, realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, vpccni } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';

useInProcessCli();

describe('vpccniInProcess', () => {
  it('prints what the built CLI prints, exit code included', async () => {
    const args = ['--sandbox', 'validate', '--configuration-values', '{"env":{"WARM_IP_TARGETS":"5"}}', '--addon-version', 'v1.14.0-eksbuild.3'];
    const [inProcess, spawned] = await Promise.all([vpccniInProcess(args), vpccni(args)]);
    expect(inProcess).toEqual(spawned);
  });

  it('sets a run’s environment for that run only, and refuses to overlap it with another run', async () => {
    expect(process.env.VPCCNI_CLUSTER).toBeUndefined();
    const home = process.env.HOME;
    const run = vpccniInProcess(['--sandbox', 'check', '--kubernetes-version', '1.x'], { env: isolatedEnv({ GITHUB_ACTIONS: 'true', VPCCNI_CLUSTER: 'x' }) });
    expect(process.env.GITHUB_ACTIONS).toBe('true');
    await expect(vpccniInProcess(['sandbox', 'list'])).rejects.toThrow(/cannot overlap/);
    const result = await run;
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^::error title=vpccni error::/m);
    expect(process.env.GITHUB_ACTIONS).toBeUndefined();
    expect(process.env.VPCCNI_CLUSTER).toBeUndefined();
    expect(process.env.HOME).toBe(home);

    const plain = vpccniInProcess(['sandbox', 'list']);
    await expect(vpccniInProcess(['sandbox', 'list'], { env: {} })).rejects.toThrow(/cannot overlap/);
    expect((await plain).exitCode).toBe(0);
    // Without GITHUB_ACTIONS the same error has no annotation.
    expect((await vpccniInProcess(['--sandbox', 'check', '--kubernetes-version', '1.x'])).stderr).not.toMatch(/::error/);
  });

  it('runs in its own working directory and comes back', async () => {
    const cwd = process.cwd();
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'vpccni-cwd-')));
    // backup's default --out is relative: under the working directory (.vpccni/sandbox/backups for a sandbox).
    const result = await vpccniInProcess(['--sandbox', 'backup'], { cwd: dir });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(readdirSync(join(dir, '.vpccni', 'sandbox', 'backups'))).toHaveLength(1);
    expect(process.cwd()).toBe(cwd);
  });

  it('leaves no signal handler and no exit code behind, even after an upgrade', async () => {
    const listeners = () => ['SIGINT', 'SIGTERM', 'exit'].map((s) => process.listenerCount(s));
    await vpccniInProcess(['--sandbox', 'status']); // the first run may install the temp-dir clean-up once
    const before = listeners();
    const backups = mkdtempSync(join(tmpdir(), 'vpccni-helper-backups-'));
    const up = await vpccniInProcess(['--sandbox', 'upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--backup-dir', backups]);
    expect(up.exitCode, up.stderr).toBe(0);
    const failed = await vpccniInProcess(['--sandbox', 'plan', '--to', 'banana']);
    expect(failed.exitCode).toBe(2);
    expect(listeners()).toEqual(before);
    expect(process.exitCode).toBeUndefined();
  });
});
