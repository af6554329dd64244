/**
 * "Nothing lost, nothing stale": each case a held-out check found, reproduced first and passing now. Input
 * that slipped through or hung, a journal without a lock, facts gone stale behind a prompt, a gate that passed
 * a broken cluster, damaged backups restored. In process (the real code, the real SDK and the Kubernetes API
 * client, or kubectl, against the sandbox); the terminal escaping through the whole CLI, in-process.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { assertBackupDir, backupDocumentOf, readBackup, toYaml } from '../src/act/backup.js';
import { runRestore } from '../src/act/restore.js';
import { acquireJournalLock } from '../src/act/upgrade/lock.js';
import { runUpgrade } from '../src/act/upgrade/run.js';
import { staleness } from '../src/act/upgrade/walk.js';
import { checkReadiness } from '../src/decide/checks/index.js';
import { parseConfigurationValues } from '../src/decide/config/values.js';
import { assertRoleFitsCluster } from '../src/decide/upgrade-preflight.js';
import { UpgradeStoppedError, UsageError } from '../src/errors.js';
import { gatherFacts } from '../src/gather/facts.js';
import { createEksGateway } from '../src/gateways/eks.js';
import { escapeControl } from '../src/render/ui.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import type { Scenario } from '../src/sandbox/scenario-types.js';
import { onSandboxInProcess, useInProcessCli } from './helpers/in-process.js';
import { recordingUi, runtimeFor, sandboxesClosedAfterEach, type RuntimeOptions } from './helpers/in-process-runtime.js';

const sandboxOf = sandboxesClosedAfterEach();
useInProcessCli();

const tmp = (): string => mkdtempSync(join(tmpdir(), 'vpccni-lost-'));

function refused(run: () => unknown, message: RegExp): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(UsageError);
  expect((error as Error).message).toMatch(message);
}

describe('input that slipped through or hung: refused with exit 2', () => {
  it('refuses duplicate keys in JSON and YAML (EKS refuses them after the backup otherwise)', () => {
    refused(() => parseConfigurationValues('{"env":{"WARM_IP_TARGET":"5","WARM_IP_TARGET":"6"}}'), /appears twice/);
    refused(() => parseConfigurationValues('env:\n  WARM_IP_TARGET: "5"\n  WARM_IP_TARGET: "6"\n'), /unique/);
  });

  it('refuses a __proto__ key instead of dropping it', () => {
    refused(() => parseConfigurationValues('{"__proto__":{"env":{"WARM_IP_TARGET":"5"}}}'), /"__proto__" is not allowed/);
    refused(() => parseConfigurationValues('env:\n  __proto__:\n    X: "1"\n'), /"__proto__" is not allowed/);
  });

  it('reports a YAML alias bomb as an input error', () => {
    const bomb = 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n';
    refused(() => parseConfigurationValues(bomb), /YAML aliases/);
  });

  it('never blocks on a FIFO, never reads /dev/zero or /proc, never echoes a binary file', () => {
    const dir = tmp();
    const fifo = join(dir, 'values.fifo');
    execFileSync('mkfifo', [fifo]);
    refused(() => parseConfigurationValues(`@${fifo}`), /FIFO/);
    refused(() => parseConfigurationValues('@/dev/zero'), /pseudo-filesystem/);
    refused(() => parseConfigurationValues('@/proc/self/status'), /pseudo-filesystem/);
    const binary = join(dir, 'values.bin');
    writeFileSync(binary, Buffer.concat([Buffer.from('{"env":'), Buffer.alloc(80 * 1024, 0)]));
    let message = '';
    try {
      parseConfigurationValues(`@${binary}`);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/binary file/);
    expect(message.length).toBeLessThan(300);
  });

  it('refuses a --backup-dir under /proc or that is a file, before anything is read', () => {
    refused(() => assertBackupDir('/proc/x'), /pseudo-filesystem/);
    const file = join(tmp(), 'plain-file');
    writeFileSync(file, 'x');
    refused(() => assertBackupDir(file), /is a file/);
    expect(() => assertBackupDir(join(tmp(), 'new', 'dir'))).not.toThrow();
  });

  it('refuses a role ARN of another partition or account than the cluster', () => {
    const cluster = 'arn:aws:eks:us-west-2:111122223333:cluster/demo';
    refused(() => assertRoleFitsCluster('arn:aws-cn:iam::111122223333:role/AmazonEKSVPCCNIRole', cluster), /partition aws-cn/);
    refused(() => assertRoleFitsCluster('arn:aws:iam::444455556666:role/AmazonEKSVPCCNIRole', cluster), /account 444455556666/);
    expect(() => assertRoleFitsCluster('arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole', cluster)).not.toThrow();
  });

  it('escapes control characters: --to with escape sequences never reaches the terminal raw', async () => {
    expect(escapeControl('a\x1b]0;x\x07b\x9bc')).toBe('a\\x1b]0;x\\x07b\\x9bc');
    const sandbox = await sandboxOf('default');
    const result = await onSandboxInProcess(sandbox, ['plan', '--to', 'v1.99\x1b]0;pwned\x07\x1b[2J']);
    expect(result.exitCode).toBe(2);
    // eslint-disable-next-line no-control-regex -- asserting that no control character is left
    expect(result.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(result.stderr).toContain('\\x1b]0;pwned\\x07');
  });
});

describe('the journal lock', () => {
  it('stops a second run at once, saying who holds the lock; takes over the lock of a dead pid on this host', async () => {
    const journal = join(tmp(), 'upgrade-journal-demo-us-west-2.json');
    const first = await acquireJournalLock(journal);
    await expect(acquireJournalLock(journal, { me: { pid: process.pid + 1, host: hostname(), startedAt: 'now' } })).rejects.toThrow(
      new RegExp(`process ${process.pid} on ${hostname()}`),
    );
    await first.release();
    // A lock left by a process that is gone (a pid that cannot exist) is taken over.
    writeFileSync(`${journal}.lock`, JSON.stringify({ pid: 2 ** 22 + 7, host: hostname(), startedAt: 'earlier' }));
    const taken = await acquireJournalLock(journal);
    expect(JSON.parse(readFileSync(`${journal}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    await taken.release();
    // One from another host is never taken over.
    writeFileSync(`${journal}.lock`, JSON.stringify({ pid: 2 ** 22 + 7, host: 'other-host', startedAt: 'earlier' }));
    await expect(acquireJournalLock(journal)).rejects.toThrow(/on other-host/);
  });

  it('a second upgrade from the same directory stops with exit 2 and changes nothing', async () => {
    const sandbox = await sandboxOf('default');
    const dir = tmp();
    const held = await acquireJournalLock(join(dir, `upgrade-journal-${sandbox.cluster}-${sandbox.region}.json`), {
      me: { pid: process.pid, host: hostname(), startedAt: 'by the first run' },
    });
    const error = await runUpgrade(runtimeFor(sandbox), { to: 'v1.13.4-eksbuild.1', values: null, timeoutMs: 30_000, backupDir: dir, yes: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/Another vpccni upgrade/);
    expect(sandbox.log.mutating()).toEqual([]);
    await held.release();
  });
});

describe('stale facts', () => {
  it('stops (exit 4, nothing sent) when another run upgraded the cluster between the plan and the first change', async () => {
    const sandbox = await sandboxOf('default');
    const runtime = runtimeFor(sandbox, recordingUi());
    const other = createEksGateway(runtime.aws, sandbox.cluster);
    let reads = 0;
    const describeAddon = runtime.eks.describeAddon.bind(runtime.eks);
    runtime.eks.describeAddon = async () => {
      reads += 1;
      if (reads === 2) {
        // Another run moves the add-on while this one waits at its prompt.
        await other.updateAddon({ version: 'v1.13.4-eksbuild.1', resolveConflicts: 'OVERWRITE' });
        for (;;) {
          const a = await describeAddon();
          if (a.status === 'ACTIVE') break;
          await new Promise((r) => setImmediate(r));
        }
      }
      return describeAddon();
    };
    const error = await runUpgrade(runtime, { to: 'v1.14.0-eksbuild.3', values: null, timeoutMs: 30_000, backupDir: tmp(), yes: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UpgradeStoppedError);
    expect((error as Error).message).toMatch(/moved from v1\.12\.6-eksbuild\.2 to v1\.13\.4-eksbuild\.1/);
    // Only the other run's call: this run sent nothing, and no step went down.
    expect(sandbox.log.mutating().map((e) => e.operation)).toEqual(['UpdateAddon']);
    expect(sandbox.addon()).toMatchObject({ addonVersion: 'v1.13.4-eksbuild.1' });
  });

  it('a step whose start the cluster no longer matches is not sent', async () => {
    const sandbox = await sandboxOf('default');
    const runtime = runtimeFor(sandbox);
    const step = { from: 'v1.13.4-eksbuild.1', to: 'v1.14.0-eksbuild.3', action: 'update' as const, resolveConflicts: 'PRESERVE' as const, result: 'planned' as const };
    expect(await staleness(runtime, step)).toMatch(/now at v1\.12\.6-eksbuild\.2 and aws-node runs v1\.12\.6-eksbuild\.2, not v1\.13\.4-eksbuild\.1/);
    expect(await staleness(runtime, { ...step, from: 'v1.12.6-eksbuild.2', to: 'v1.13.4-eksbuild.1' })).toBeNull();
  });
});

describe('a step is done only when it is done', () => {
  it('a resumed adoption whose CreateAddon ended CREATE_FAILED is not "nothing to do": it creates again, and stops and keeps the journal open when that fails too', async () => {
    // EKS fails the CreateAddon (a NONE that would conflict is refused before any change since issue 19), and the retry too.
    const sandbox = await sandboxOf('custom-settings-network-policy', undefined, { failUpdateNumber: 1 });
    const backupDir = tmp();
    const first = await runUpgrade(runtimeFor(sandbox), { to: 'v1.14.0-eksbuild.3', yes: true, values: null, timeoutMs: 30_000, backupDir }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UpgradeStoppedError);
    expect(sandbox.addon()).toMatchObject({ status: 'CREATE_FAILED' });
    sandbox.controller.options.faults!.failUpdateNumber = 2;
    // The adoption overwrites (predicted before the first run's backup): the resume confirms it again.
    const resumed = await runUpgrade(runtimeFor(sandbox), { resume: true, yes: true, values: null, timeoutMs: 30_000, backupDir }).catch((e: unknown) => e);
    expect(resumed).toBeInstanceOf(UpgradeStoppedError);
    // The resume retried (DeleteAddon --preserve, CreateAddon) and EKS failed the create again.
    expect((resumed as Error).message).toMatch(/step 1 of 1 \(v1\.14\.0 → v1\.14\.0-eksbuild\.3, CreateAddon\): EKS reported add-on CREATE_FAILED/);
    expect(sandbox.log.entries.filter((e) => e.mutating && e.status < 300).map((e) => e.operation)).toEqual(['CreateAddon', 'DeleteAddon', 'CreateAddon']);
    const journal = JSON.parse(readFileSync(join(backupDir, `upgrade-journal-${sandbox.cluster}-${sandbox.region}.json`), 'utf8')) as { finished: boolean };
    expect(journal.finished).toBe(false);
  });

  it('plans from the running aws-node when the record says otherwise: never more than one minor per step', async () => {
    const sandbox = await sandboxOf('default', (s) => {
      s.addon = { ...(s.addon as NonNullable<Scenario['addon']>), version: 'v1.14.0-eksbuild.3' };
      s.daemonSet = { manifest: 'v1.12.6', imageTag: 'v1.12.6-eksbuild.2' };
    });
    const ui = recordingUi('json');
    // The v1.12.6 images were put back by hand (kubectl-edit owns them): PRESERVE would keep them and the walk could
    // not finish (refused since issue 19), so this walk overwrites.
    const error = await runUpgrade(runtimeFor(sandbox, ui), { to: 'v1.14.0-eksbuild.3', resolveConflicts: 'OVERWRITE', values: null, timeoutMs: 60_000, backupDir: tmp(), yes: true, acceptSettingLoss: true, dryRun: true }).then(() => null, (e: unknown) => e);
    expect(error, ui.stderr.join('\n')).toBeNull();
    const report = ui.documents.at(-1) as { steps: Array<{ from: string; to: string }> };
    expect(report.steps.map((s) => `${s.from} → ${s.to}`)).toEqual(['v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1', 'v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3']);
  });
});

describe('downgrades are confirmed like OVERWRITE', () => {
  it('names network policy as what goes away below v1.14 and refuses without --yes', async () => {
    const sandbox = await sandboxOf('default', (s) => {
      s.addon = { ...(s.addon as NonNullable<Scenario['addon']>), version: 'v1.14.0-eksbuild.3' };
      s.daemonSet = { manifest: 'v1.14.0', imageTag: 'v1.14.0-eksbuild.3' };
    });
    const ui = recordingUi();
    const error = await runUpgrade(runtimeFor(sandbox, ui), { to: 'v1.13.4-eksbuild.1', values: null, timeoutMs: 30_000, backupDir: tmp() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/down from v1\.14\.0-eksbuild\.3 to v1\.13\.4-eksbuild\.1/);
    expect(ui.stderr.join('\n')).toMatch(/network policy enforcement/);
    expect(sandbox.log.mutating()).toEqual([]);
  });
});

describe('check fails on a cluster that does not run what EKS says', () => {
  it('fails when aws-node runs v1.12.6 and the add-on record says v1.14.0, and v1.12.6 is not offered for 1.28', async () => {
    const sandbox = await sandboxOf('default', (s) => {
      s.addon = { ...(s.addon as NonNullable<Scenario['addon']>), version: 'v1.14.0-eksbuild.3' };
      s.daemonSet = { manifest: 'v1.12.6', imageTag: 'v1.12.6-eksbuild.2' };
    });
    const facts = await gatherFacts(runtimeFor(sandbox));
    const readiness = checkReadiness(facts, '1.28');
    expect(readiness.pass).toBe(false);
    const ids = readiness.findings.filter((f) => f.severity === 'error').map((f) => f.id);
    expect(ids).toContain('running-version-mismatch');
    expect(ids).toContain('running-version-not-offered');
  });
});

describe('restore validates the backup before it diffs', () => {
  async function backupFile(sandbox: RunningSandbox, edit: (text: string) => string, options: RuntimeOptions = {}): Promise<string> {
    const facts = await gatherFacts(runtimeFor(sandbox, recordingUi(), options));
    const file = join(tmp(), 'backup.yaml');
    writeFileSync(file, edit(toYaml(backupDocumentOf(facts))));
    return file;
  }

  it('refuses a backup cut at a line boundary (still valid YAML) with exit 2', async () => {
    const sandbox = await sandboxOf('default');
    // Read with kubectl (so that the other Kubernetes client stays covered): its YAML has the keys sorted, so
    // the cut at initContainers keeps the containers and drops the init container and the volumes after it.
    const file = await backupFile(sandbox, (text) => {
      const lines = text.split('\n');
      const cut = lines.findIndex((l) => /^\s+initContainers:/.test(l));
      return `${lines.slice(0, cut).join('\n')}\n`;
    }, { kubeClient: 'kubectl' });
    expect(() => parseYaml(readFileSync(file, 'utf8'))).not.toThrow();
    await expect(readBackup(file)).rejects.toThrow(/aws-vpc-cni-init init container.*volume.*Nothing was changed/s);
  });

  it('refuses a backup of another object, and one with an alias bomb, with exit 2', async () => {
    const sandbox = await sandboxOf('default');
    const other = await backupFile(sandbox, (text) => {
      const doc = parseYaml(text) as { daemonSet: { metadata: { name: string } } };
      doc.daemonSet.metadata.name = 'kube-proxy';
      return stringify(doc);
    });
    await expect(readBackup(other)).rejects.toThrow(UsageError);
    await expect(readBackup(other)).rejects.toThrow(/not aws-node/);
    const bombFile = join(tmp(), 'bomb.yaml');
    writeFileSync(bombFile, 'a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n');
    await expect(readBackup(bombFile)).rejects.toThrow(UsageError);
  });

  it('refuses a backup edited to pull docker.io/evil/amazon-k8s-cni, changing nothing', async () => {
    const sandbox = await sandboxOf('default');
    const file = await backupFile(sandbox, (text) => text.replace(/image: \S+\/amazon-k8s-cni:/, 'image: docker.io/evil/amazon-k8s-cni:'));
    const doc = await readBackup(file);
    const error = await runRestore(runtimeFor(sandbox), file, doc, { dryRun: false, yes: true, timeoutSeconds: 30, backupDir: join(tmp(), 'backups') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/docker\.io\/evil\/amazon-k8s-cni/);
    expect(sandbox.log.mutating()).toEqual([]);
  });
});
