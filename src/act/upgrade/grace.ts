/**
 * EKS-aware waiting: a Failed update that EKS applied anyway, or a DEGRADED add-on, often recovers to
 * ACTIVE within minutes (its health check gave up before the pods were ready). Such a state gets a grace
 * period before vpccni calls it final, and what EKS reports (update status, health issues' codes and
 * messages) is shown while it waits: on the live line, and as a line of its own on each change (CI logs).
 * UPDATE_FAILED and CREATE_FAILED are final at once: EKS did not apply the change.
 */
import type { AddonInfo } from '../../domain.js';
import type { EksGateway, UpdateInfo } from '../../gateways/eks.js';
import type { ProgressLine } from '../../render/progress.js';
import { formatElapsed } from '../../render/progress.js';
import { pollUntil } from './wait.js';

/** The default grace: long enough for a real DaemonSet to reach its desired replicas after EKS gave up. */
export const DEFAULT_GRACE = '5m';

/** What EKS reports, in words: the update (when there is one) and the add-on with its health issues. */
export function eksReport(addon: Pick<AddonInfo, 'status' | 'version' | 'health'>, update?: Pick<UpdateInfo, 'id' | 'status' | 'errors'>): string {
  const parts: string[] = [];
  if (update) {
    const errors = update.errors.map((e) => `${e.errorCode}: ${e.errorMessage}`).join('; ');
    parts.push(`update ${update.id} ${update.status}${errors ? ` (${errors})` : ''}`);
  }
  const issues = addon.health.map((i) => `${i.code}: ${i.message}`).join('; ');
  parts.push(`add-on ${addon.status ?? 'in no status'} at ${addon.version ?? 'no version'}${issues ? ` (${issues})` : ''}`);
  return parts.join('; ');
}

/** True when the add-on may still recover on its own: DEGRADED, or ACTIVE (then it already has). */
export function mayRecover(addon: Pick<AddonInfo, 'status'>): boolean {
  return addon.status === 'DEGRADED' || addon.status === 'ACTIVE';
}

/** What a grace wait needs. */
export interface GraceWait {
  eks: Pick<EksGateway, 'describeAddon'>;
  /** The version the add-on must reach ACTIVE at. */
  version: string;
  graceMs: number;
  signal?: AbortSignal;
  /** A line of its own (stderr) on each change of what EKS reports. */
  progress(text: string): void;
  line?: ProgressLine;
  /** The update that EKS reported Failed, if any: named with every report. */
  update?: Pick<UpdateInfo, 'id' | 'status' | 'errors'>;
}

/**
 * Waits up to the grace for the add-on to be ACTIVE at `version`. Returns whether it recovered and the last
 * report of EKS (what the stop names when it did not). Gives up early when the add-on can no longer recover
 * at that version (another version, UPDATE_FAILED, gone). A grace of 0 looks once.
 */
export async function awaitRecovery(w: GraceWait): Promise<{ recovered: boolean; report: string }> {
  let last = '';
  const started = Date.now();
  const recovered = await pollUntil(
    async () => {
      const addon = await w.eks.describeAddon();
      const report = eksReport(addon, w.update);
      if (report !== last) {
        w.progress(
          last === ''
            ? `EKS reports ${report}; giving it up to ${formatElapsed(w.graceMs)} to recover (--grace) before the step counts as failed.`
            : `EKS now reports ${report} (after ${formatElapsed(Date.now() - started)} of the grace).`,
        );
        last = report;
      }
      w.line?.update({ eks: addon.status === 'ACTIVE' ? 'add-on ACTIVE' : `add-on ${addon.status ?? 'absent'}${addon.health[0] ? ` (${addon.health[0].code})` : ''}` });
      if (addon.status === 'ACTIVE' && addon.version === w.version) return true;
      if (!addon.managed || addon.version !== w.version || !(mayRecover(addon) || addon.status === 'UPDATING')) {
        return false;
      }
      return undefined;
    },
    { deadline: started + w.graceMs, ...(w.signal ? { signal: w.signal } : {}) },
  );
  if (recovered) w.progress(`EKS reports the add-on ACTIVE at ${w.version}: it recovered within the grace.`);
  return { recovered: recovered === true, report: last };
}
