/**
 * The preflight's conflict prediction for the first EKS step of an upgrade: reads the live objects EKS will
 * apply to (with their field owners), predicts EKS's conflicts under NONE and decides the step's mode
 * (src/decide/apply-conflicts.ts). Runs before the backup; a NONE that would fail stops here, nothing changed.
 */
import { decideConflictMode, desiredAddonObjects, predictApplyConflicts, type ConflictModeDecision } from '../../decide/apply-conflicts.js';
import type { ConfigurationValues } from '../../decide/addon-render.js';
import { registryFor } from '../../decide/upgrade-preflight.js';
import type { ResolveConflicts } from '../../domain.js';
import { readApplyTargets } from '../../gather/apply-targets.js';
import type { GatheredFacts } from '../../gather/facts.js';
import type { Runtime } from '../../runtime.js';
import type { JournalStep } from './journal.js';

/** Decides the mode of the first EKS step of `steps` (null when there is none). */
export async function chooseConflictMode(
  runtime: Runtime,
  facts: GatheredFacts,
  steps: readonly JournalStep[],
  values: Record<string, unknown>,
  request: { asked: ResolveConflicts | undefined; target: string; roleArn: string | undefined },
): Promise<ConflictModeDecision | null> {
  const first = steps.find((s) => s.action !== 'apply');
  if (!first || first.action === 'apply') return null;
  const afterManifests = steps[0] !== first;
  const base = { action: first.action, asked: request.asked, afterManifests, to: first.to, target: request.target };
  // After vpccni's own manifest steps the live objects are not yet what the CreateAddon will meet.
  if (afterManifests) return decideConflictMode({ ...base, conflicts: [] });
  const desired = desiredAddonObjects(first.to, values as ConfigurationValues, {
    registry: registryFor(facts),
    ipFamily: facts.cluster.ipFamily,
    roleArn: request.roleArn ?? facts.addon.serviceAccountRoleArn ?? null,
  });
  const { live, unread } = await runtime.ui.step('Reading who owns the fields EKS will apply', () => readApplyTargets(runtime.kube, desired));
  for (const line of unread) runtime.ui.warn(`Could not read ${line}; its conflicts cannot be predicted.`);
  return decideConflictMode({ ...base, conflicts: predictApplyConflicts(live, desired) });
}
