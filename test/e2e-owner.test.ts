/**
 * Add-ons that infrastructure code owns (issue 22): the README's default scenario given CloudFormation's stack
 * tags (`cloudformation-owned`) shows its owner in `status`, `check` names the stack's pin, `upgrade` warns before
 * the backup; a team's own tag through `--owner-tag` and VPCCNI_OWNER_TAGS; bad input refused with exit 2.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { loadScenario } from '../src/sandbox/scenario.js';
import { onSandbox, parseJson } from './helpers/cli.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';

useInProcessCli();

const OWNER = { kind: 'cloudformation', detail: 'stack demo-addons, logical id VpcCniAddon' };
const PIN =
  "change the add-on's version in CloudFormation stack demo-addons (logical id VpcCniAddon) to v1.13.4-eksbuild.1, then v1.14.0-eksbuild.3, one stack update each; `vpccni plan --to v1.14.0-eksbuild.3 --output cloudformation` prints them";

describe('an add-on owned by a CloudFormation stack', () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    sandbox = await startSandbox('cloudformation-owned');
  });
  afterAll(() => sandbox?.close());

  it('status shows the owner in text (the built CLI) and JSON', async () => {
    const text = await onSandbox(sandbox, ['status']);
    const json = await onSandboxInProcess(sandbox, ['status', '--output', 'json']);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain('Owner       cloudformation: stack demo-addons, logical id VpcCniAddon');
    expect(text.stdout).toContain(`owned: ${PIN}`);
    expect(text.stdout).not.toContain('run: vpccni upgrade');
    const report = parseJson<{ owner: unknown; findings: Array<{ id: string }> }>(json);
    expect(schemaErrors('status', report)).toEqual([]);
    expect(report.owner).toEqual(OWNER);
    expect(report.findings.map((f) => f.id)).toContain('addon-owned-by-iac');
  });

  it('check names the pin to change in the stack instead of vpccni upgrade', async () => {
    const text = await onSandboxInProcess(sandbox, ['check', '--kubernetes-version', '1.28']);
    const json = await onSandboxInProcess(sandbox, ['check', '--kubernetes-version', '1.28', '--output', 'json']);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain(`Change the owner's pin first: ${PIN}  (v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3)`);
    expect(text.stdout).not.toContain('vpccni upgrade --to');
    expect(json.exitCode).toBe(1);
    const report = parseJson<{ owner: unknown; suggestedUpgrade: { command: string; pin: string }; findings: Array<{ id: string; remediation?: string }> }>(json);
    expect(schemaErrors('check', report)).toEqual([]);
    expect(report.owner).toEqual(OWNER);
    expect(report.suggestedUpgrade).toMatchObject({ command: 'vpccni plan --to v1.14.0-eksbuild.3 --output cloudformation', pin: PIN });
    expect(report.findings.find((f) => f.id === 'not-offered-for-target')?.remediation).toContain(PIN);
  });

  it('upgrade warns before the backup that the stack will take the add-on back, naming its pin', async () => {
    const backupDir = mkdtempSync(join(tmpdir(), 'vpccni-owned-'));
    const result = await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.13.4-eksbuild.1', '--yes', '--backup-dir', backupDir]);
    expect(result.exitCode, result.stderr).toBe(0);
    const warning =
      "The vpc-cni add-on is owned by CloudFormation (stack demo-addons, logical id VpcCniAddon): its next run will take the add-on back unless you also change the add-on's version in CloudFormation stack demo-addons (logical id VpcCniAddon) to v1.13.4-eksbuild.1.";
    const all = `${result.stderr}\n${result.stdout}`;
    expect(all).toContain(warning);
    const backupAt = all.search(/Backup: /);
    expect(backupAt).toBeGreaterThan(-1);
    expect(all.indexOf(warning)).toBeLessThan(backupAt);
    expect(sandbox.controller.addon?.addonVersion).toBe('v1.13.4-eksbuild.1');
  });
});

describe("a team's own owner tag", () => {
  let sandbox: RunningSandbox;
  beforeAll(async () => {
    const s = loadScenario('default');
    s.addon = { ...s.addon!, tags: { ManagedBy: 'Terraform' } };
    sandbox = await startSandbox(s);
  });
  afterAll(() => sandbox?.close());

  const ownerOf = async (args: string[], env?: Record<string, string>) =>
    parseJson<{ owner: unknown }>(await onSandboxInProcess(sandbox, [...args, 'status', '--output', 'json'], env ? { env } : {})).owner;

  it('--owner-tag (repeatable) and VPCCNI_OWNER_TAGS name it; without them nothing does', async () => {
    expect(await ownerOf([])).toBeNull();
    expect(await ownerOf(['--owner-tag', 'team=network', '--owner-tag', 'ManagedBy=terraform'])).toEqual({ kind: 'terraform', detail: 'tag ManagedBy=Terraform' });
    expect(await ownerOf([], { VPCCNI_OWNER_TAGS: 'team=network,ManagedBy' })).toEqual({ kind: 'terraform', detail: 'tag ManagedBy=Terraform' });
    // The flag wins over the variable.
    expect(await ownerOf(['--owner-tag', 'ManagedBy=Pulumi'], { VPCCNI_OWNER_TAGS: 'ManagedBy' })).toBeNull();
  });

  it.each([
    [['--owner-tag', '=Terraform'], {}, '--owner-tag "=Terraform" names no tag key'],
    [[], { VPCCNI_OWNER_TAGS: 'ManagedBy=Terraform,' }, 'VPCCNI_OWNER_TAGS "" names no tag key'],
    [['--owner-tag', `${'k'.repeat(129)}`], {}, 'is longer than an EKS tag can be'],
  ])('refuses %j %j with exit 2, one sentence, before any call', async (flags, env, message) => {
    const before = sandbox.log.entries.length;
    const result = await onSandboxInProcess(sandbox, [...flags, 'status'], { env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(sandbox.log.entries.length).toBe(before);
  });
});
