/**
 * Walking an upgrade plan: per step CreateAddon or UpdateAddon, wait for EKS, wait for the DaemonSet
 * rollout, check the running images carry the step's version; the journal written after every change of
 * state. A mutating call whose outcome is unknown is never repeated: the add-on's state is read instead.
 */
import type { ResolveConflicts } from '../../domain.js';
import { InterruptedError, UnreachableError, VpccniError } from '../../errors.js';
import { daemonSetInfo } from '../../gather/facts.js';
import { notReadyClause } from '../../gather/pods.js';
import type { EksGateway } from '../../gateways/eks.js';
import { AwsCallError } from '../../gateways/aws-errors.js';
import type { KubeGateway } from '../../gateways/kubectl.js';
import type { KubeObject } from '../../decide/manifests.js';
import { FIELD_MANAGER } from '../../decide/self-managed.js';
import type { ProgressLine } from '../../render/progress.js';
import { saveJournal, type Journal, type JournalStep } from './journal.js';
import { pollUntil } from './wait.js';
import { awaitRecovery, eksReport, mayRecover } from './grace.js';
import { forgetAddon } from './forget.js';
import { sameRelease, tryParseAddonVersion, type AddonVersion } from '../../upgrade-planner/version.js';

/** Why a step stopped, in words for the user. */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly kind: 'failed' | 'timeout' | 'interrupted' | 'stale',
  ) {
    super(message);
  }
}

/** What the walk needs. */
export interface WalkContext {
  eks: EksGateway;
  kube: KubeGateway;
  journal: Journal;
  journalFile: string;
  timeoutMs: number;
  /** How long a Failed-but-applied update or a DEGRADED add-on gets to recover before the step fails. */
  graceMs: number;
  signal: AbortSignal;
  /** The values text every step sends (undefined keeps what EKS stores), and the role. */
  configurationValues: string | undefined;
  serviceAccountRoleArn: string | undefined;
  podIdentityRoleArn?: string | undefined;
  /** The objects an `apply` step applies: the upstream manifest of the release, settings carried over. */
  renderManifest?: (release: string) => KubeObject[];
  progress(text: string): void;
  /** A live line for each wait (none when absent). */
  waiting?: (title: string) => ProgressLine;
  /** A resume after CREATE_FAILED: the failed record is deleted with `preserve` before the create is sent again. */
  retryFailedCreate?: boolean;
}

const DEFINITE_REJECTIONS = new Set([
  'InvalidParameterException',
  'InvalidRequestException',
  'ResourceInUseException',
  'ResourceNotFoundException',
  'AccessDeniedException',
  'ClientException',
  'UnsupportedAvailabilityZoneException',
]);

/** Runs one step to the end; throws StepFailure with what EKS or Kubernetes reported. */
export async function runStep(ctx: WalkContext, step: JournalStep, index: number): Promise<void> {
  const deadline = Date.now() + ctx.timeoutMs;
  const change = {
    version: step.to,
    resolveConflicts: step.resolveConflicts as ResolveConflicts,
    ...(ctx.configurationValues !== undefined ? { configurationValues: ctx.configurationValues } : {}),
    ...(ctx.serviceAccountRoleArn ? { serviceAccountRoleArn: ctx.serviceAccountRoleArn } : {}),
    ...(ctx.podIdentityRoleArn ? { podIdentityAssociations: [{ serviceAccount: 'aws-node', roleArn: ctx.podIdentityRoleArn }] } : {}),
  };
  const n = `Step ${index + 1}/${ctx.journal.steps.length}`;
  let graceMs = 0;

  if (step.action === 'create' && ctx.retryFailedCreate && (await ctx.eks.describeAddon()).status === 'CREATE_FAILED') {
    ctx.progress(`${n}: DeleteAddon vpc-cni --preserve (the failed create's record; aws-node stays as it runs), then CreateAddon again`);
    if (!(await forgetAddon(ctx.eks, deadline, ctx.signal))) throw new StepFailure('EKS still had the failed add-on record (DELETING) when the timeout ran out', 'timeout');
  }
  // Fresh facts before every mutating call: the add-on and aws-node must be where the plan left them.
  const stale = await staleness(ctx, step);
  if (stale) throw new StepFailure(`the cluster changed since the plan was made (${stale}); nothing was sent for this step`, 'stale');
  step.result = 'started';
  await saveJournal(ctx.journalFile, ctx.journal);
  if (step.action === 'apply') {
    if (!ctx.renderManifest) throw new StepFailure('no manifest renderer was given for a self-managed step', 'failed');
    const objects = ctx.renderManifest(step.to);
    ctx.progress(`${n}: kubectl apply --server-side --field-manager=${FIELD_MANAGER} of the upstream ${step.to} manifest (${objects.length} objects, custom settings carried over)`);
    try {
      await ctx.kube.applyObjects(objects, { fieldManager: FIELD_MANAGER });
    } catch (error) {
      if (error instanceof VpccniError) throw new StepFailure(`Kubernetes refused the manifest: ${error.message}`, 'failed');
      throw error;
    }
  } else if (step.action === 'create') {
    ctx.progress(`${n}: CreateAddon vpc-cni ${step.to} (resolve conflicts ${step.resolveConflicts})`);
    await mutate(ctx, () => ctx.eks.createAddon(change), step);
    graceMs = await waitForCreate(ctx, step, deadline);
  } else {
    ctx.progress(`${n}: UpdateAddon vpc-cni ${step.from} → ${step.to} (resolve conflicts ${step.resolveConflicts})`);
    const updateId = await mutate(ctx, () => ctx.eks.updateAddon(change), step);
    if (updateId) {
      step.updateId = updateId;
      await saveJournal(ctx.journalFile, ctx.journal);
      graceMs = await waitForUpdate(ctx, updateId, step, deadline);
    } else {
      graceMs = await waitForAddonSettled(ctx, step, deadline);
    }
  }
  ctx.progress(`${n}: waiting for the aws-node rollout`);
  // The grace is time of its own: it never eats the rollout's share of --timeout.
  await waitForRollout(ctx, step, deadline + graceMs);
  step.result = 'succeeded';
  await saveJournal(ctx.journalFile, ctx.journal);
  ctx.progress(`${n}: done, aws-node runs ${step.to}`);
}

/**
 * Why the cluster is not where `step` starts, or null: for a create or an apply (self-managed, server-side
 * apply of the manifest), no add-on and aws-node at `from`'s release; for an update (after a create), the add-on ACTIVE at `from` and aws-node at `from`'s release.
 */
export async function staleness(ctx: Pick<WalkContext, 'eks' | 'kube'>, step: JournalStep): Promise<string | null> {
  const [addon, ds] = await Promise.all([ctx.eks.describeAddon(), ctx.kube.getDaemonSet()]);
  const running = ds ? daemonSetInfo(ds).version : null;
  const from = tryParseAddonVersion(step.from);
  const runningParsed = running ? tryParseAddonVersion(running) : null;
  const runs = (v: AddonVersion | null) => Boolean(v && runningParsed && sameRelease(v, runningParsed));
  // A create, or an apply of a self-managed install, starts where there is no add-on.
  if (step.action === 'create' || step.action === 'apply') {
    if (addon.managed) return `the EKS add-on now exists at ${addon.version ?? '?'} (${addon.status ?? '?'})`;
    if (!runs(from)) return `aws-node now runs ${running ?? 'nothing readable'}, not ${step.from}`;
    return null;
  }
  if (!addon.managed) return 'the EKS add-on no longer exists';
  if (addon.status && ['CREATING', 'UPDATING', 'DELETING'].includes(addon.status)) return `the add-on is ${addon.status}: another change is in flight`;
  // The plan starts from what aws-node runs; the record may disagree (a restore, a failed create), never both.
  if (!runs(from)) {
    return addon.version !== step.from
      ? `the add-on is now at ${addon.version ?? '?'} and aws-node runs ${running ?? 'nothing readable'}, not ${step.from}`
      : `aws-node runs ${running ?? 'nothing readable'}, not ${step.from}`;
  }
  return null;
}

/**
 * Makes a mutating call. When it fails without a definite answer (network, 5xx after the SDK's retries),
 * reads the add-on instead of calling again: if EKS took the change, the walk goes on waiting for it.
 */
async function mutate<T>(ctx: WalkContext, call: () => Promise<T>, step: JournalStep): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof AwsCallError && DEFINITE_REJECTIONS.has(error.code)) {
      throw new StepFailure(`EKS rejected it: ${error.message.replace(/^Could not [^:]+: /, '')}`, 'failed');
    }
    if (!(error instanceof VpccniError)) throw error;
    // Unknown outcome: look before doing anything else.
    const addon = await ctx.eks.describeAddon().catch(() => null);
    if (addon && (addon.status === 'UPDATING' || addon.status === 'CREATING' || addon.version === step.to)) {
      ctx.progress(`The call's answer was lost (${error.message}), but EKS has taken the change; waiting for it.`);
      return undefined;
    }
    throw new StepFailure(
      `the call's outcome is unknown (${error.message}) and the add-on shows no change (${addon ? `${addon.status ?? 'no status'}, ${addon.version ?? 'no version'}` : 'unreadable'}); it was not repeated`,
      'failed',
    );
  }
}

/** Runs `wait` under a live line titled `title`. */
async function live<T>(ctx: WalkContext, title: string, wait: (line: ProgressLine | undefined) => Promise<T>): Promise<T> {
  const line = ctx.waiting?.(title);
  try {
    return await wait(line);
  } finally {
    line?.stop();
  }
}

/** Waits for EKS to finish the update; returns the time spent in the grace (0 when there was none). */
async function waitForUpdate(ctx: WalkContext, updateId: string, step: JournalStep, deadline: number): Promise<number> {
  const update = await live(ctx, 'Waiting for EKS', (line) =>
    pollUntil(
      async () => {
        const u = await ctx.eks.describeUpdate(updateId);
        line?.update({ eks: `update ${u.status}` });
        return u.status === 'InProgress' ? undefined : u;
      },
      { deadline, signal: ctx.signal },
    ),
  );
  if (!update) throw new StepFailure(`update ${updateId} was still InProgress when the timeout ran out`, 'timeout');
  if (update.status !== 'Successful') {
    // A Failed update that EKS applied anyway (the add-on DEGRADED or ACTIVE at the new version) may recover.
    const addon = await ctx.eks.describeAddon();
    if (addon.version === step.to && mayRecover(addon)) return withinGrace(ctx, step, { ...update, id: updateId });
    throw new StepFailure(`EKS reported ${eksReport(addon, { ...update, id: updateId })}`, 'failed');
  }
  return 0;
}

/** Gives a DEGRADED add-on (or a Failed update EKS applied) the grace to be ACTIVE at the step's version. */
async function withinGrace(ctx: WalkContext, step: JournalStep, update?: { id: string; status: string; errors: Array<{ errorCode: string; errorMessage: string }> }): Promise<number> {
  const started = Date.now();
  const { recovered, report } = await live(ctx, 'Waiting for EKS to recover', (line) =>
    awaitRecovery({ eks: ctx.eks, version: step.to, graceMs: ctx.graceMs, signal: ctx.signal, progress: ctx.progress, ...(line ? { line } : {}), ...(update ? { update } : {}) }),
  );
  if (!recovered) throw new StepFailure(`EKS still reported ${report} when the grace ran out`, 'failed');
  return Date.now() - started;
}

async function waitForCreate(ctx: WalkContext, step: JournalStep, deadline: number): Promise<number> {
  const addon = await live(ctx, 'Waiting for EKS', (line) =>
    pollUntil(
      async () => {
        const a = await ctx.eks.describeAddon();
        line?.update({ eks: `add-on ${a.status ?? 'absent'}` });
        return a.status === 'CREATING' || a.status === 'UPDATING' || !a.managed ? undefined : a;
      },
      { deadline, signal: ctx.signal },
    ),
  );
  if (!addon) throw new StepFailure(`the add-on was still CREATING when the timeout ran out`, 'timeout');
  if (addon.status === 'DEGRADED' && addon.version === step.to) return withinGrace(ctx, step);
  if (addon.status !== 'ACTIVE') throw new StepFailure(`EKS reported ${eksReport(addon)}`, 'failed');
  if (addon.version !== step.to) {
    throw new StepFailure(`EKS reports version ${addon.version ?? 'none'} instead of ${step.to}`, 'failed');
  }
  return 0;
}

async function waitForAddonSettled(ctx: WalkContext, step: JournalStep, deadline: number): Promise<number> {
  const addon = await live(ctx, 'Waiting for EKS', (line) =>
    pollUntil(
      async () => {
        const a = await ctx.eks.describeAddon();
        line?.update({ eks: `add-on ${a.status ?? 'absent'}` });
        return a.status === 'UPDATING' || a.status === 'CREATING' ? undefined : a;
      },
      { deadline, signal: ctx.signal },
    ),
  );
  if (!addon) throw new StepFailure('the add-on was still UPDATING when the timeout ran out', 'timeout');
  if (addon.status === 'DEGRADED' && addon.version === step.to) return withinGrace(ctx, step);
  if (addon.status !== 'ACTIVE' || addon.version !== step.to) throw new StepFailure(`EKS reports ${eksReport(addon)}`, 'failed');
  return 0;
}

/**
 * Watches the aws-node rollout until `deadline` and reads the version its images carry. EKS has applied the
 * DaemonSet by the time it reports a step done, so its spec is read while the rollout is watched: one kubectl
 * start less on every step's critical path.
 */
export async function rolloutOutcome(
  kube: KubeGateway,
  deadline: number,
  line?: ProgressLine,
): Promise<{ done: boolean; running: string | null }> {
  const seconds = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
  const [done, ds] = await Promise.all([kube.rolloutStatus(seconds, (pods) => line?.update({ pods })), kube.getDaemonSet()]);
  return { done, running: ds ? daemonSetInfo(ds).version : null };
}

async function waitForRollout(ctx: WalkContext, step: JournalStep, deadline: number): Promise<void> {
  const { done, running } = await live(ctx, 'Waiting for the aws-node rollout', (line) => rolloutOutcome(ctx.kube, deadline, line));
  if (ctx.signal.aborted) throw new InterruptedError();
  if (!done) throw new StepFailure(`the aws-node DaemonSet had not rolled out when the timeout ran out${await notReadyClause(ctx.kube)}`, 'timeout');
  if (running !== step.to) {
    throw new StepFailure(`the aws-node DaemonSet runs ${running ?? 'no readable version'} instead of ${step.to}`, 'failed');
  }
}

/** What `walkPlan` needs beyond a step's context. */
export interface PlanWalk extends Omit<WalkContext, 'signal' | 'configurationValues'> {
  /** The values the create step carries (adopted settings), and the ones later steps send (user's). */
  createValues: string | undefined;
  updateValues: string | undefined;
  /** Called with the stopped step when the walk stops, to say where the cluster is; its message is used. */
  stopped(error: unknown, current: JournalStep | undefined, interrupted: boolean): Promise<never>;
}

/** Runs every step of the journal not yet done, in order; Ctrl-C stops the wait, never the call. */
export async function walkPlan(w: PlanWalk): Promise<void> {
  const { createValues, updateValues, stopped: _stopped, ...context } = w;
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on('SIGINT', onSigint);
  let current: JournalStep | undefined;
  try {
    for (const [index, step] of w.journal.steps.entries()) {
      if (step.result === 'succeeded') continue;
      current = step;
      await runStep({ ...context, signal: abort.signal, configurationValues: step.action === 'create' ? createValues : updateValues }, step, index);
    }
  } catch (error) {
    const interrupted = error instanceof InterruptedError || abort.signal.aborted;
    if (!(error instanceof StepFailure) && !interrupted && !(error instanceof UnreachableError)) throw error;
    if (current) {
      // A step stopped for stale facts sent nothing: it stays planned.
      current.result = error instanceof StepFailure && error.kind === 'stale' ? 'planned' : 'failed';
      current.error = error instanceof Error ? error.message : String(error);
    }
    await saveJournal(w.journalFile, w.journal);
    await w.stopped(error, current, interrupted);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
