/**
 * `vpccni upgrade --to V`: every check first, then a backup, then the plan one step at a time, each step
 * waited for and verified. Nothing changes before the last check has passed.
 */
import { gatherFacts, type GatheredFacts } from '../facts.js';
import { installedVersion } from '../checks/index.js';
import { parseConfigurationValues } from '../config/values.js';
import { backupDocumentOf, writeBackup } from '../backup.js';
import type { ResolveConflicts } from '../domain.js';
import { GateFailedError, InterruptedError, UnreachableError, UpgradeStoppedError, UsageError } from '../errors.js';
import { roleNameFromArn } from '../gateways/iam.js';
import type { UpgradePlan } from '../upgrade-planner/plan.js';
import { mergeFindings, planFromFacts } from '../reports.js';
import type { GlobalOptions, Runtime } from '../runtime.js';
import { journalPath, loadJournal, saveJournal, type Journal, type JournalStep } from '../upgrade/journal.js';
import { assertRoleUsable, decideValues, overwriteResets, storedValuesDropped, valueProblems } from '../upgrade/preflight.js';
import { describeState, printDryRun, type UpgradeReport } from '../upgrade/report.js';
import { rolloutOutcome, runStep, StepFailure } from '../upgrade/walk.js';
import { parseDuration, pollUntil } from '../upgrade/wait.js';
import { tryParseAddonVersion, versionMatches } from '../upgrade-planner/version.js';
import { confirm } from '../ui.js';
import { withRuntime } from './shared.js';

interface UpgradeOptions {
  to?: string;
  resolveConflicts?: ResolveConflicts;
  configurationValues?: string;
  serviceAccountRoleArn?: string;
  dryRun?: boolean;
  yes?: boolean;
  acceptSettingLoss?: boolean;
  timeout: string;
  backupDir: string;
  resume?: boolean;
}

const BUSY = new Set(['CREATING', 'UPDATING', 'DELETING']);

/** Parses the flags before anything is called, so bad input changes nothing and costs nothing. */
function parseFlags(o: UpgradeOptions) {
  if (!o.to && !o.resume) throw new UsageError('Say where to go with --to <version|latest|default>, or continue a stopped upgrade with --resume.');
  if (o.resume && (o.configurationValues || o.serviceAccountRoleArn || o.resolveConflicts)) {
    throw new UsageError('--resume continues with the settings the upgrade started with; do not pass --configuration-values, --service-account-role-arn or --resolve-conflicts with it.');
  }
  const timeoutMs = parseDuration(o.timeout);
  const user = o.configurationValues !== undefined ? parseConfigurationValues(o.configurationValues) : null;
  if (o.serviceAccountRoleArn) roleNameFromArn(o.serviceAccountRoleArn);
  return { timeoutMs, user };
}


/** Runs the upgrade; exit 0 done, 2 refused input, 4 stopped part-way, 130 interrupted. */
export async function upgradeCommand(options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  const o = options as unknown as UpgradeOptions;
  const flags = parseFlags(o);
  return withRuntime(globals, (runtime) => upgrade(runtime, o, flags));
}

async function upgrade(
  runtime: Runtime,
  o: UpgradeOptions,
  flags: ReturnType<typeof parseFlags>,
): Promise<number> {
  const { ui } = runtime;
  const journalFile = journalPath(o.backupDir, runtime.clusterName, runtime.region);
  const previous = await loadJournal(journalFile);
  if (o.resume && (!previous || previous.finished)) {
    throw new UsageError(`There is no stopped upgrade of ${runtime.clusterName} to resume (no open journal at ${journalFile}); start one with --to.`);
  }
  if (!o.resume && previous && !previous.finished && !o.dryRun) {
    throw new UsageError(`An upgrade of ${runtime.clusterName} to ${previous.to} stopped part-way (journal ${journalFile}); run \`vpccni upgrade --resume\` to finish it, or delete the journal to start over.`);
  }
  const asked = o.to ? tryParseAddonVersion(o.to) : null;
  const journalTarget = previous ? tryParseAddonVersion(previous.to) : null;
  if (o.resume && previous && o.to && !(asked && journalTarget && versionMatches(asked, journalTarget))) {
    throw new UsageError(`The stopped upgrade goes to ${previous.to}, not ${o.to}; run \`vpccni upgrade --resume\` without --to.`);
  }
  const resumed = o.resume ? previous : null;
  const roleArn = resumed?.serviceAccountRoleArn ?? o.serviceAccountRoleArn;
  const userValues =
    resumed?.configurationValues != null ? parseConfigurationValues(resumed.configurationValues) : flags.user;

  let facts = await ui.step(`Reading the vpc-cni add-on of ${runtime.clusterName}`, () =>
    gatherFacts(runtime, roleArn ? { roleArn } : {}),
  );

  // A resumed walk may find its last step still running: wait for it rather than call again.
  if (resumed && facts.addon.status && BUSY.has(facts.addon.status)) {
    facts = await settleInFlight(runtime, resumed, facts, flags.timeoutMs);
  } else if (facts.addon.status && BUSY.has(facts.addon.status)) {
    throw new GateFailedError(`The vpc-cni add-on of ${runtime.clusterName} is ${facts.addon.status}; wait until it is ACTIVE (vpccni status) and try again.`);
  }

  const installed = installedVersion(facts);
  if (!installed) {
    throw new UnreachableError(`Cluster "${facts.cluster.name}" has neither a vpc-cni add-on nor an aws-node DaemonSet with a readable version; there is nothing to upgrade.`);
  }
  const target = resumed?.to ?? (o.to as string);
  const plan: UpgradePlan = planFromFacts(facts, installed, target);
  const blocking = plan.findings.filter((f) => f.severity === 'error');
  if (blocking.length > 0) {
    const what = blocking.map((f) => [f.message, f.remediation].filter(Boolean).join(' ')).join(' ');
    throw new GateFailedError(`Refusing to move to ${plan.to}: ${what}`);
  }

  const resolve = (action: 'create' | 'update'): ResolveConflicts => {
    const asked = resumed?.resolveConflicts ?? o.resolveConflicts;
    if (action === 'create') {
      if (asked === 'PRESERVE') {
        throw new UsageError('--resolve-conflicts PRESERVE is not valid on CreateAddon (the first step adopts the self-managed install); use NONE or OVERWRITE.');
      }
      return asked ?? 'NONE';
    }
    return asked ?? 'PRESERVE';
  };
  // A step that was in flight when the walk stopped counts as done once EKS reports its version ACTIVE
  // (its rollout is checked with the next step, or below when it was the last).
  const settledIndex =
    resumed && facts.addon.managed && facts.addon.status === 'ACTIVE'
      ? resumed.steps.findIndex((s) => s.result !== 'succeeded' && s.result !== 'planned' && s.to === installed)
      : -1;
  const finished: JournalStep[] = (resumed?.steps ?? []).flatMap((s, i) => {
    if (s.result === 'succeeded') return [s];
    if (i !== settledIndex) return [];
    const { error: _error, ...rest } = s;
    return [{ ...rest, result: 'succeeded' as const }];
  });
  const steps: JournalStep[] = plan.steps.map((s) => ({ ...s, resolveConflicts: resolve(s.action), result: 'planned' }));

  if (steps.length === 0) {
    if (settledIndex >= 0) await confirmRolledOut(runtime, plan.to, flags.timeoutMs);
    const report: UpgradeReport = {
      schemaVersion: 1,
      from: resumed?.steps[0]?.from ?? plan.from,
      to: plan.to,
      backup: resumed?.backup ?? null,
      dryRun: Boolean(o.dryRun),
      steps: finished as UpgradeReport['steps'],
      findings: mergeFindings(plan.findings),
    };
    if (resumed && !o.dryRun) await saveJournal(journalFile, { ...resumed, steps: finished, finished: true });
    if (ui.format === 'json') ui.json(report);
    else if (resumed && finished.length > 0) {
      ui.out(`Upgraded vpc-cni on ${runtime.clusterName}: ${[report.from, ...finished.map((s) => s.to)].join(' → ')}`);
    } else ui.out(`vpc-cni on ${facts.cluster.name} is at ${plan.to} already; nothing to do.`);
    return 0;
  }

  // Preflight: schemas of every step, the values each carries, the role, what OVERWRITE resets.
  const versions = [...new Set(steps.map((s) => s.to))];
  const schemaTexts = await ui.step('Fetching the configuration schema of every step', () =>
    Promise.all(versions.map((v) => runtime.eks.describeAddonConfiguration(v))),
  );
  const schemas = new Map(versions.map((v, i) => [v, schemaTexts[i] as string]));
  const values = decideValues(facts, steps, userValues, schemas.get(steps[0]!.to)!);
  const problems = valueProblems(values.effective, schemas);
  if (problems.length > 0) {
    const byMessage = new Map<string, string[]>();
    for (const p of problems) byMessage.set(p.message.replace(/\.$/, ''), [...(byMessage.get(p.message.replace(/\.$/, '')) ?? []), p.version]);
    const list = [...byMessage].map(([message, versions]) => `${message} (${versions.join(', ')})`).join('; ');
    throw new UsageError(`The configuration values do not fit the schema of every step: ${list}; fix them (vpccni validate --configuration-values … --addon-version V) and run again.`);
  }
  if (roleArn) assertRoleUsable(facts.role ?? { arn: roleArn, exists: false, trustPolicy: null, attachedPolicyArns: [] }, facts.cluster.oidcIssuer, facts.oidcProviderArns);

  const report: UpgradeReport = {
    schemaVersion: 1,
    from: resumed?.steps[0]?.from ?? plan.from,
    to: plan.to,
    backup: null,
    dryRun: Boolean(o.dryRun),
    steps: [...finished, ...steps] as UpgradeReport['steps'],
    findings: mergeFindings(plan.findings),
  };
  const dropped = storedValuesDropped(facts, userValues);
  if (dropped.length > 0) {
    report.droppedSettings = dropped.map((path) => ({ path, value: null, reason: 'stored now, absent from --configuration-values (EKS replaces the values, it does not merge them)' }));
    ui.warn('EKS replaces the stored configuration values with the ones given; these stored settings would be removed:');
    for (const path of dropped) ui.warn(`  ${path}`);
    if (!o.dryRun && !o.yes && !(await confirm('Remove these settings?'))) {
      throw new UsageError(`--configuration-values leaves out ${dropped.length} setting(s) the add-on stores now (listed above); include them, or pass --yes to remove them.`);
    }
  }
  if (values.adoption) {
    report.carriedSettings = values.adoption.carried;
    report.droppedSettings = values.adoption.unsupported;
    if (values.adoption.carried.length > 0) {
      ui.info(`Carrying over ${values.adoption.carried.length} custom setting(s) of the self-managed install as configuration values:`);
      for (const c of values.adoption.carried) ui.info(`  ${c.path} = ${JSON.stringify(c.value)}`);
    }
    if (values.adoption.unsupported.length > 0) {
      ui.warn(`These custom settings cannot be carried into the EKS add-on and would be lost:`);
      for (const u of values.adoption.unsupported) ui.warn(`  ${u.path} = ${JSON.stringify(u.value)}: ${u.reason}`);
      if (!o.dryRun && !o.acceptSettingLoss && !(await confirm('Lose these settings?'))) {
        throw new UsageError(`${values.adoption.unsupported.length} custom setting(s) cannot be carried over (listed above); pass --accept-setting-loss to go on without them.`);
      }
    }
  }
  if (steps.some((s) => s.resolveConflicts === 'OVERWRITE')) {
    const resets = overwriteResets(facts, steps[0]!.to, values.effective);
    report.resetByOverwrite = resets;
    if (resets.length > 0) {
      ui.warn('--resolve-conflicts OVERWRITE will reset these settings to the add-on\'s defaults:');
      for (const r of resets) ui.warn(`  ${r.field}: ${r.current} → ${r.after ?? '(removed)'}`);
    } else {
      ui.info('--resolve-conflicts OVERWRITE: no custom setting differs from what the add-on will apply.');
    }
    if (!o.dryRun && !o.yes && !(await confirm('Go on with OVERWRITE?'))) {
      throw new UsageError('--resolve-conflicts OVERWRITE resets settings (listed above) and needs confirmation; pass --yes to accept, or use PRESERVE (updates) or NONE.');
    }
  }

  if (o.dryRun) {
    printDryRun(runtime, report, values.text, roleArn, o.backupDir);
    return 0;
  }

  // From here on the cluster changes: backup first.
  report.backup = await ui.step('Backing up the aws-node DaemonSet', () => writeBackup(o.backupDir, backupDocumentOf(facts)));
  ui.info(`Backup: ${report.backup}`);
  const journal: Journal = {
    schemaVersion: 1,
    kind: 'VpccniUpgradeJournal',
    cluster: runtime.clusterName,
    region: runtime.region,
    to: plan.to,
    resolveConflicts: resumed?.resolveConflicts ?? o.resolveConflicts ?? null,
    configurationValues: userValues?.text ?? null,
    serviceAccountRoleArn: roleArn ?? null,
    backup: report.backup,
    startedAt: resumed?.startedAt ?? new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    finished: false,
    steps: report.steps,
  };
  await saveJournal(journalFile, journal);

  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  let current: JournalStep | undefined;
  try {
    for (const [index, step] of journal.steps.entries()) {
      if (step.result === 'succeeded') continue;
      current = step;
      await runStep(
        {
          eks: runtime.eks,
          kube: runtime.kube,
          journal,
          journalFile,
          timeoutMs: flags.timeoutMs,
          signal: abort.signal,
          // The create step carries the adopted values; later steps keep what EKS then stores.
          configurationValues: step.action === 'create' ? values.text : userValues?.text,
          serviceAccountRoleArn: roleArn,
          progress: (text) => ui.info(text),
        },
        step,
        index,
      );
    }
  } catch (error) {
    const interrupted = error instanceof InterruptedError || abort.signal.aborted;
    if (!(error instanceof StepFailure) && !interrupted && !(error instanceof UnreachableError)) throw error;
    if (current) {
      current.result = 'failed';
      current.error = error instanceof Error ? error.message : String(error);
    }
    await saveJournal(journalFile, journal);
    if (ui.format === 'json') ui.json(report);
    const state = await describeState(runtime);
    const i = current ? journal.steps.indexOf(current) : -1;
    const which = current ? `step ${i + 1} of ${journal.steps.length} (${current.from} → ${current.to}, ${current.action === 'create' ? 'CreateAddon' : 'UpdateAddon'})` : 'the upgrade';
    const tail = `The cluster now: ${state}. Backup: ${report.backup}. Resume with \`vpccni upgrade --resume\` once the cause is fixed, or restore with \`vpccni restore ${report.backup}\`.`;
    if (interrupted) throw new InterruptedError(`Interrupted while waiting on ${which}; EKS may still be applying it. ${tail}`);
    throw new UpgradeStoppedError(`The upgrade stopped at ${which}: ${current?.error}. ${tail}`);
  } finally {
    process.off('SIGINT', onSigint);
  }
  journal.finished = true;
  await saveJournal(journalFile, journal);
  if (ui.format === 'json') ui.json(report);
  else {
    ui.out(`Upgraded vpc-cni on ${runtime.clusterName}: ${[report.from, ...report.steps.map((s) => s.to)].join(' → ')}`);
    ui.out(`Backup: ${report.backup}`);
  }
  return 0;
}

/** Waits for the in-flight change of a stopped walk to settle, then reads the cluster again. */
async function settleInFlight(runtime: Runtime, journal: Journal, facts: GatheredFacts, timeoutMs: number): Promise<GatheredFacts> {
  const pending = journal.steps.find((s) => s.result === 'started' || s.result === 'failed');
  runtime.ui.info(`The add-on is ${facts.addon.status}; waiting for the change already in flight${pending ? ` (${pending.to})` : ''} instead of calling again.`);
  const settled = await pollUntil(
    async () => {
      const a = await runtime.eks.describeAddon();
      return a.status && BUSY.has(a.status) ? undefined : a;
    },
    { deadline: Date.now() + timeoutMs },
  );
  if (!settled) throw new UpgradeStoppedError(`The add-on is still ${facts.addon.status} after the timeout; check it with vpccni status and resume later.`);
  return gatherFacts(runtime, journal.serviceAccountRoleArn ? { roleArn: journal.serviceAccountRoleArn } : {});
}

/** Waits for the aws-node rollout of a step that settled while no walk was watching, and checks its images. */
async function confirmRolledOut(runtime: Runtime, version: string, timeoutMs: number): Promise<void> {
  const { done, running } = await rolloutOutcome(runtime.kube, Date.now() + timeoutMs);
  if (!done || running !== version) {
    throw new UpgradeStoppedError(`EKS reports ${version}, but the aws-node DaemonSet ${done ? `runs ${running ?? 'no readable version'}` : 'has not rolled out'}; check it with vpccni status and run \`vpccni upgrade --resume\` again.`);
  }
}
