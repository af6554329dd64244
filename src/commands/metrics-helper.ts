/** `vpccni metrics-helper status|upgrade`: the cni-metrics-helper at the CNI's version (src/act/metrics-helper.ts). */
import { metricsHelperStatus, metricsHelperUpgrade } from '../act/metrics-helper.js';
import { parseDuration } from '../act/upgrade/wait.js';
import type { GlobalOptions } from '../runtime.js';
import { withRuntime } from './shared.js';

/** The helper's version against the CNI's, and its role; exit 1 when the role is broken. */
export async function metricsHelperStatusCommand(_options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  return withRuntime(globals, (runtime) => metricsHelperStatus(runtime));
}

/** Installs or updates the helper to the CNI's version. */
export async function metricsHelperUpgradeCommand(options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  const timeoutMs = parseDuration(String(options.timeout ?? '5m'));
  return withRuntime(globals, (runtime) =>
    metricsHelperUpgrade(runtime, {
      dryRun: Boolean(options.dryRun),
      yes: Boolean(options.yes),
      createRole: Boolean(options.createRole),
      timeoutMs,
      backupDir: String(options.backupDir ?? '.vpccni/backups'),
    }),
  );
}
