/**
 * One upgrade run as a sequence of states: open the journal (resume or start), read the cluster, plan,
 * preflight (schemas, values, role), confirm the risks, then, for a real run, back up, write the journal
 * and walk. Nothing changes on the cluster before the backup, and the backup comes after every check.
 */
import { gatherFacts, type GatheredFacts } from '../../gather/facts.js';
import { ownerFinding, ownerOf, ownerUpgradeWarning } from '../../decide/owner.js';
import { installedVersion } from '../../decide/checks/index.js';
import { parseConfigurationValues, type ParsedConfigurationValues } from '../../decide/config/values.js';
import { mergeFindings, planFromFacts } from '../../decide/reports.js';
import { assertPodIdentityUsable } from '../../decide/pod-identity-preflight.js';
import { isDowngrade } from '../../upgrade-planner/plan.js';
import { sameRelease, tryParseAddonVersion, versionMatches } from '../../upgrade-planner/version.js';
import { asReset, assertRoleFitsCluster, assertRoleUsable, decideValues, overwriteResets, storedValuesDropped, valueProblems } from '../../decide/upgrade-preflight.js';
import type { ResolveConflicts } from '../../domain.js';
import { GateFailedError, UnreachableError, UpgradeStoppedError, UsageError } from '../../errors.js';
import { confirmRisks } from '../../render/upgrade-prompts.js';
import { printDryRun, type UpgradeReport } from '../../render/upgrade-report.js';
import { sandboxBackupDir } from '../backup.js';
import type { Runtime } from '../../runtime.js';
import { backupDocumentOf, writeBackup } from '../backup.js';
import { saveJournal, type Journal, type JournalStep } from './journal.js';
import { acquireJournalLock } from './lock.js';
import { announceRetry, BUSY, confirmRolledOut, graceOf, journalFileOf, openJournal, recoverOnResume, settleInFlight, stepsDone, withoutFailedRecord } from './resume.js';
import { stopUpgrade, withNextCommands } from './stop.js';
import { walkPlan } from './walk.js';
import { chooseConflictMode } from './conflict-mode.js';
import { withPredictedAdvisories } from '../../decide/apply-conflicts.js';
import { addManifestDiffs, announceSelfManaged, selfManagedRunOf, type SelfManagedRun } from './self-managed.js';

/** What the user asked for, parsed. */
export interface UpgradeRequest {
  to?: string;
  resolveConflicts?: ResolveConflicts;
  serviceAccountRoleArn?: string;
  /** Sets the Pod Identity association of kube-system/aws-node with every step (podIdentityAssociations). */
  podIdentityRoleArn?: string;
  values: ParsedConfigurationValues | null;
  dryRun?: boolean;
  yes?: boolean;
  acceptSettingLoss?: boolean;
  /** On a failed step, walk back to the starting version with the backup's settings (kept in the journal). */
  atomic?: boolean;
  /** Stay self-managed: apply the upstream manifest of every step. */
  selfManaged?: boolean;
  /** Adopt a self-managed install with one CreateAddon at the target, skipping minors. */
  jump?: boolean;
  timeoutMs: number;
  /** How long a Failed-but-applied update or a DEGRADED add-on gets to recover (default 5 minutes). */
  graceMs?: number;
  backupDir: string;
  resume?: boolean;
  /**
   * With `dryRun`: hands what the run decided to this instead of printing it (`plan --output terraform|…`),
   * so that the infrastructure-code pins carry exactly the modes and values the walk would send.
   */
  planned?: (planned: PlannedUpgrade) => void;
}

/** What a dry run decided: the steps with their conflict modes, and what each kind of step sends. */
export interface PlannedUpgrade {
  facts: GatheredFacts;
  report: UpgradeReport;
  /** The values text a create step sends (adopted settings), and the one update steps send (undefined: EKS keeps what it stores). */
  createValues: string | undefined;
  updateValues: string | undefined;
  serviceAccountRoleArn: string | undefined;
  podIdentityRoleArn: string | undefined;
}

/** The facts as the first EKS step will find them: after the manifest steps before it, their DaemonSet. */
function factsBeforeEks(facts: GatheredFacts, steps: JournalStep[], run: SelfManagedRun | null): GatheredFacts {
  const first = steps.findIndex((s) => s.action !== 'apply');
  const lastApply = first > 0 ? steps[first - 1] : undefined;
  if (!run || !lastApply || lastApply.action !== 'apply' || !facts.daemonSet) return facts;
  const ds = run.render(lastApply.to).find((o) => o.kind === 'DaemonSet' && o.metadata.name === 'aws-node');
  return ds ? { ...facts, daemonSet: { ...facts.daemonSet, raw: ds as unknown as Record<string, unknown> } } : facts;
}

/** Runs the upgrade; returns 0 when done, throws the typed error of any stop. */
export async function runUpgrade(runtime: Runtime, request: UpgradeRequest): Promise<number> {
  const o = { ...request, backupDir: sandboxBackupDir(runtime, request.backupDir) };
  // One run per cluster and backup directory at a time: the journal is taken exclusively before it is read.
  const lock = o.dryRun ? null : await acquireJournalLock(journalFileOf(runtime, o.backupDir));
  try {
    return await lockedRun(runtime, o);
  } catch (error) {
    throw o.dryRun ? error : await withNextCommands(runtime, o, error);
  } finally {
    await lock?.release();
  }
}

async function lockedRun(runtime: Runtime, o: UpgradeRequest): Promise<number> {
  const { ui } = runtime;
  const { journalFile, resumed } = await openJournal(runtime, o);
  const roleArn = resumed?.serviceAccountRoleArn ?? o.serviceAccountRoleArn;
  const podIdentityRoleArn = resumed?.podIdentityRoleArn ?? o.podIdentityRoleArn;
  const userValues = resumed?.configurationValues != null ? parseConfigurationValues(resumed.configurationValues) : o.values;

  let facts = await ui.step(`Reading the vpc-cni add-on of ${runtime.clusterName}`, () =>
    gatherFacts(runtime, roleArn ? { roleArn } : {}),
  );
  // A resumed walk may find its last step still running: wait for it rather than call again.
  if (resumed && facts.addon.status && BUSY.has(facts.addon.status)) {
    facts = await settleInFlight(runtime, resumed, facts, o.timeoutMs);
  }
  // A resume gives a DEGRADED add-on the same grace as the walk does before it calls the state final.
  if (resumed && facts.addon.status === 'DEGRADED') {
    facts = await recoverOnResume(runtime, resumed, facts, graceOf(o));
  } else if (facts.addon.status && BUSY.has(facts.addon.status)) {
    throw new GateFailedError(`The vpc-cni add-on of ${runtime.clusterName} is ${facts.addon.status}; wait until it is ACTIVE (vpccni status) and try again.`);
  }
  // After CREATE_FAILED the baseline is the cluster as the first run found it; the walk clears the record first.
  const retryCreate = resumed ? announceRetry(runtime, resumed, facts) : false;
  if (retryCreate) facts = withoutFailedRecord(facts);

  const installed = runningVersionToPlanFrom(facts) ?? installedVersion(facts);
  if (!installed) {
    throw new UnreachableError(`Cluster "${facts.cluster.name}" has neither a vpc-cni add-on nor an aws-node DaemonSet with a readable version; there is nothing to upgrade.`);
  }
  const mode = { selfManaged: resumed ? Boolean(resumed.selfManaged) : Boolean(o.selfManaged), jump: resumed ? Boolean(resumed.jump) : Boolean(o.jump) };
  const plan = planFromFacts(facts, installed, resumed?.to ?? (o.to as string), mode);
  const blocking = plan.findings.filter((f) => f.severity === 'error');
  if (blocking.length > 0) {
    const what = blocking.map((f) => [f.message, f.remediation].filter(Boolean).join(' ')).join(' ');
    throw new GateFailedError(`Refusing to move to ${plan.to}: ${what}`);
  }

  const asked = resumed?.resolveConflicts ?? o.resolveConflicts;
  const resolve = (action: 'create' | 'update' | 'apply'): ResolveConflicts | null => {
    if (action === 'apply') return null;
    if (action === 'update') return asked ?? 'PRESERVE';
    // After manifest steps every field EKS would conflict on was set by vpccni's own applies of upstream
    // manifests, and the custom settings travel as configuration values: OVERWRITE loses nothing of them.
    if (asked === undefined && plan.steps.some((s) => s.action === 'apply')) return 'OVERWRITE';
    if (asked === 'PRESERVE') {
      throw new UsageError('--resolve-conflicts PRESERVE is not valid on CreateAddon (the first step adopts the self-managed install); use NONE or OVERWRITE.');
    }
    return asked ?? 'NONE';
  };
  const { done, settled } = stepsDone(resumed, facts, installed);
  const steps: JournalStep[] = plan.steps.map((s) => ({ ...s, resolveConflicts: resolve(s.action), result: 'planned' }));
  const report: UpgradeReport = {
    schemaVersion: 1,
    from: resumed?.steps[0]?.from ?? plan.from,
    to: plan.to,
    backup: resumed && steps.length === 0 ? resumed.backup : null,
    dryRun: Boolean(o.dryRun),
    steps: [...done, ...steps] as UpgradeReport['steps'],
    findings: mergeFindings(plan.findings, ownerFinding(ownerOf(facts))),
    rollback: null,
  };
  // Infrastructure code that owns the add-on takes it back on its next run: say so before anything changes.
  const owner = steps.length > 0 ? ownerOf(facts) : null;
  if (owner) ui.warn(ownerUpgradeWarning(owner, plan.to));

  if (steps.length === 0) {
    // Done only when done: EKS reports the add-on ACTIVE at that version (CREATE_FAILED, UPDATE_FAILED and
    // DEGRADED are not), and aws-node has rolled out with images of that version.
    if (facts.addon.managed && facts.addon.status !== 'ACTIVE') {
      throw new UpgradeStoppedError(
        `The vpc-cni add-on of ${runtime.clusterName} is ${facts.addon.status ?? 'in no known state'} at ${facts.addon.version ?? '?'} (aws-node runs ${facts.daemonSet?.version ?? 'nothing readable'}); the upgrade is not done. Fix the cause (vpccni status names EKS's health issues) and run \`vpccni upgrade --resume\` again.`,
      );
    }
    if (settled || (resumed && !o.dryRun)) await confirmRolledOut(runtime, plan.to, o.timeoutMs);
    if (resumed && !o.dryRun) await saveJournal(journalFile, { ...resumed, steps: done, finished: true });
    if (ui.format === 'json') ui.json(report);
    else if (resumed && done.length > 0) {
      ui.out(`Upgraded vpc-cni on ${runtime.clusterName}: ${[report.from, ...done.map((s) => s.to)].join(' → ')}`);
    } else ui.out(`vpc-cni on ${facts.cluster.name} is at ${plan.to} already; nothing to do.`);
    return 0;
  }
  // A resume never sends the next step over a rollout the stopped walk left unfinished: wait for it, or stop.
  if (resumed && !o.dryRun) {
    const next = steps[0]!;
    const call = { create: 'CreateAddon', update: 'UpdateAddon', apply: 'the manifest apply' }[next.action];
    await confirmRolledOut(runtime, installed, o.timeoutMs, `${call} ${next.from} → ${next.to}`);
  }

  // Preflight: schemas of every EKS step, the values each carries, the role, what OVERWRITE resets.
  const eksSteps = steps.filter((s) => s.action !== 'apply');
  const versions = [...new Set(eksSteps.map((s) => s.to))];
  const schemaTexts = await ui.step('Fetching the configuration schema of every step', () =>
    Promise.all(versions.map((v) => runtime.eks.describeAddonConfiguration(v))),
  );
  const schemas = new Map(versions.map((v, i) => [v, schemaTexts[i] as string]));
  const valuesOf = () => (eksSteps.length > 0 ? decideValues(facts, steps, userValues, schemas.get(eksSteps[0]!.to)!, schemas) : { text: undefined, effective: {}, adoption: null, settings: null });
  let values = valuesOf();
  const selfManagedRun = steps.some((s) => s.action === 'apply') ? selfManagedRunOf(facts) : null;
  const problems = valueProblems(values.effective, schemas);
  if (problems.length > 0) {
    const byMessage = new Map<string, string[]>();
    for (const p of problems) byMessage.set(p.message.replace(/\.$/, ''), [...(byMessage.get(p.message.replace(/\.$/, '')) ?? []), p.version]);
    const list = [...byMessage].map(([message, versions]) => `${message} (${versions.join(', ')})`).join('; ');
    throw new UsageError(`The configuration values do not fit the schema of every step: ${list}; fix them (vpccni validate --configuration-values … --addon-version V) and run again.`);
  }
  if (roleArn) assertRoleFitsCluster(roleArn, facts.cluster.arn);
  if (podIdentityRoleArn) {
    assertRoleFitsCluster(podIdentityRoleArn, facts.cluster.arn);
    const role = await runtime.iam.getRole(podIdentityRoleArn);
    assertPodIdentityUsable(role, podIdentityRoleArn, facts);
  }
  if (roleArn) assertRoleUsable(facts.role ?? { arn: roleArn, exists: false, trustPolicy: null, attachedPolicyArns: [] }, facts.cluster.oidcIssuer, facts.oidcProviderArns);
  // Never start a call the facts show will fail: predict EKS's conflicts on the first EKS step, and choose its mode.
  const conflictMode = await chooseConflictMode(runtime, facts, steps, values.effective, { asked, target: plan.to, roleArn });
  if (conflictMode && eksSteps[0]) {
    const changed = eksSteps[0].resolveConflicts !== conflictMode.mode;
    eksSteps[0].resolveConflicts = conflictMode.mode;
    eksSteps[0].resolveConflictsReason = conflictMode.reason;
    if (changed) values = valuesOf();
    ui.info(`Step ${steps.indexOf(eksSteps[0]) + 1} resolves conflicts with ${conflictMode.mode}: ${conflictMode.reason}.`);
    if (steps[0] === eksSteps[0]) report.findings = withPredictedAdvisories(report.findings, conflictMode, eksSteps[0].action);
  }
  await confirmRisks(
    ui,
    report,
    {
      downgrade: isDowngrade(plan) ? downgradeLosses(facts, plan.from, plan.to) : undefined,
      dropped: storedValuesDropped(facts, userValues),
      adoption: values.adoption ?? undefined,
      resets: eksSteps.some((s) => s.resolveConflicts === 'OVERWRITE')
        ? values.settings && eksSteps[0]!.resolveConflicts === 'OVERWRITE'
          ? values.settings.lost.map(asReset)
          : overwriteResets(factsBeforeEks(facts, steps, selfManagedRun), eksSteps[0]!.to, values.effective)
        : undefined,
      settings: values.settings,
    },
    o,
  );
  if (selfManagedRun) await announceSelfManaged(ui, selfManagedRun, report, o);

  // What the walk sends with each step: the dry run's hand-off and the walk read it from here alone.
  const sends = {
    createValues: values.text,
    updateValues: eksSteps[0]?.action === 'update' && values.adoption ? values.text : userValues?.text,
    serviceAccountRoleArn: roleArn,
    podIdentityRoleArn,
  };
  if (o.dryRun && o.planned) {
    o.planned({ facts, report, ...sends });
    return 0;
  }
  if (o.dryRun) {
    if (selfManagedRun) addManifestDiffs(report, selfManagedRun, installed);
    printDryRun(runtime, report, values.text, roleArn, o.backupDir, podIdentityRoleArn);
    return 0;
  }

  // From here on the cluster changes: backup first, from a fresh read taken after the questions; if the
  // cluster moved while we asked (another run, a hand edit), stop rather than act on what we planned.
  const read = await ui.step(`Reading ${runtime.clusterName} again before the first change`, () =>
    gatherFacts(runtime, roleArn ? { roleArn } : {}),
  );
  const fresh = retryCreate ? withoutFailedRecord(read) : read;
  const moved = factsMoved(facts, fresh);
  if (moved) {
    throw new UpgradeStoppedError(`The cluster changed while the upgrade was being confirmed (${moved}); nothing was changed. Run vpccni upgrade again to plan from the cluster as it is now.`);
  }
  facts = fresh;
  report.backup = await ui.step('Backing up the aws-node DaemonSet', () => writeBackup(o.backupDir, backupDocumentOf(facts)));
  ui.info(`Backup: ${report.backup}`);
  const journal: Journal = {
    schemaVersion: 1,
    kind: 'VpccniUpgradeJournal',
    cluster: runtime.clusterName,
    region: runtime.region,
    to: plan.to,
    resolveConflicts: asked ?? null,
    configurationValues: userValues?.text ?? null,
    serviceAccountRoleArn: roleArn ?? null,
    ...(podIdentityRoleArn ? { podIdentityRoleArn } : {}),
    ...(mode.selfManaged ? { selfManaged: true } : {}),
    ...(mode.jump ? { jump: true } : {}),
    ...(resumed?.atomic || o.atomic ? { atomic: true } : {}),
    backup: resumed?.backup ?? report.backup,
    startedAt: resumed?.startedAt ?? new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    finished: false,
    steps: report.steps,
  };
  await saveJournal(journalFile, journal);
  await walkPlan({
    eks: runtime.eks,
    kube: runtime.kube,
    journal,
    journalFile,
    timeoutMs: o.timeoutMs,
    graceMs: graceOf(o),
    ...sends,
    ...(selfManagedRun ? { renderManifest: selfManagedRun.render } : {}),
    progress: (text) => ui.info(text),
    waiting: (title) => ui.progress(title),
    retryFailedCreate: retryCreate,
    stopped: (error, current, interrupted) => stopUpgrade(runtime, { report, journal, journalFile, backupDir: o.backupDir, timeoutMs: o.timeoutMs }, error, current, interrupted),
  });
  journal.finished = true;
  await saveJournal(journalFile, journal);
  if (ui.format === 'json') ui.json(report);
  else {
    ui.out(`Upgraded vpc-cni on ${runtime.clusterName}: ${[report.from, ...report.steps.map((s) => s.to)].join(' → ')}`);
    ui.out(`Backup: ${report.backup}`);
  }
  return 0;
}

/** What differs between two reads that a plan depends on (the add-on record, aws-node's spec), or null. */
export function factsMoved(before: GatheredFacts, after: GatheredFacts): string | null {
  const a = before.addon;
  const b = after.addon;
  if (a.managed !== b.managed) return b.managed ? `the EKS add-on now exists at ${b.version ?? '?'}` : 'the EKS add-on is gone';
  if (a.version !== b.version) return `the add-on moved from ${a.version ?? '?'} to ${b.version ?? '?'}`;
  if (a.status !== b.status) return `the add-on went from ${a.status ?? '?'} to ${b.status ?? '?'}`;
  if (a.configurationValues !== b.configurationValues) return "the add-on's configuration values changed";
  const da = before.daemonSet;
  const db = after.daemonSet;
  if (!da !== !db) return db ? 'aws-node appeared' : 'aws-node is gone';
  if (da && db && (da.version !== db.version || da.generation !== db.generation)) {
    return `aws-node changed (${da.version ?? '?'} generation ${da.generation} → ${db.version ?? '?'} generation ${db.generation})`;
  }
  return null;
}

/**
 * The running aws-node version when it disagrees with the add-on record (a restore, a failed create, a hand
 * edit): plans start from what runs, so that a step never moves aws-node more than one minor. Null when they
 * agree or either is unreadable. The catalogue's build of that release is used when there is one.
 */
export function runningVersionToPlanFrom(facts: GatheredFacts): string | null {
  const running = facts.daemonSet?.version;
  const record = facts.addon.managed ? facts.addon.version : null;
  const r = running ? tryParseAddonVersion(running) : null;
  const a = record ? tryParseAddonVersion(record) : null;
  if (!r || !a || sameRelease(r, a)) return null;
  const build = facts.catalogue.map((e) => e.version).find((v) => {
    const parsed = tryParseAddonVersion(v);
    return parsed !== null && versionMatches(r, parsed);
  });
  return build ?? running ?? null;
}

/** What a downgrade from `from` to `to` takes away, in words (network policy below v1.14, …). */
export function downgradeLosses(facts: GatheredFacts, from: string, to: string): { from: string; to: string; lost: string[] } {
  const lost: string[] = [];
  const target = tryParseAddonVersion(to);
  const agent = facts.daemonSet?.containers.some((c) => c.name === 'aws-eks-nodeagent');
  if (target && target.major === 1 && target.minor < 14 && agent) {
    lost.push('network policy enforcement: the aws-eks-nodeagent container (and every NetworkPolicy it enforces) does not exist below v1.14');
  }
  lost.push(`every fix and setting added after ${to}; settings the ${to} schema lacks are refused or dropped`);
  return { from, to, lost };
}
