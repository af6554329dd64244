/**
 * `vpccni upgrade --to V`: parses the flags, then hands the run to the upgrade state machine
 * (src/act/upgrade/run.ts). Bad input is refused here, before anything is called.
 */
import { assertBackupDir } from '../act/backup.js';
import { parseDuration } from '../act/upgrade/wait.js';
import { DEFAULT_GRACE } from '../act/upgrade/grace.js';
import { runUpgrade } from '../act/upgrade/run.js';
import { parseConfigurationValues } from '../decide/config/values.js';
import type { ResolveConflicts } from '../domain.js';
import { UsageError } from '../errors.js';
import { roleNameFromArn } from '../gateways/iam.js';
import type { GlobalOptions } from '../runtime.js';
import { withRuntime } from './shared.js';

interface UpgradeOptions {
  to?: string;
  resolveConflicts?: ResolveConflicts;
  configurationValues?: string;
  serviceAccountRoleArn?: string;
  podIdentityRoleArn?: string;
  dryRun?: boolean;
  yes?: boolean;
  acceptSettingLoss?: boolean;
  timeout: string;
  grace?: string;
  backupDir: string;
  resume?: boolean;
  atomic?: boolean;
  selfManaged?: boolean;
  jump?: boolean;
}

/** Runs the upgrade; exit 0 done, 2 refused input, 4 stopped part-way, 130 interrupted. */
export async function upgradeCommand(options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  const o = options as unknown as UpgradeOptions;
  if (!o.to && !o.resume) throw new UsageError('Say where to go with --to <version|latest|default>, or continue a stopped upgrade with --resume.');
  if (o.resume && (o.configurationValues || o.serviceAccountRoleArn || o.podIdentityRoleArn || o.resolveConflicts)) {
    throw new UsageError('--resume continues with the settings the upgrade started with; do not pass --configuration-values, --service-account-role-arn, --pod-identity-role-arn or --resolve-conflicts with it.');
  }
  if (o.serviceAccountRoleArn && o.podIdentityRoleArn) {
    throw new UsageError('Pass either --service-account-role-arn (IRSA) or --pod-identity-role-arn (EKS Pod Identity), not both: aws-node would use the IRSA role and ignore the association.');
  }
  if (o.selfManaged && (o.configurationValues || o.serviceAccountRoleArn || o.resolveConflicts || o.jump)) {
    throw new UsageError('--self-managed applies the upstream manifests with the running custom settings; --configuration-values, --service-account-role-arn, --resolve-conflicts and --jump are for the EKS add-on, so leave them out.');
  }
  if (o.resume && (o.selfManaged || o.jump)) {
    throw new UsageError('--resume continues the way the upgrade started (its journal says whether it stays self-managed); do not pass --self-managed or --jump with it.');
  }
  const timeoutMs = parseDuration(o.timeout);
  const graceMs = parseDuration(o.grace ?? DEFAULT_GRACE, '--grace', 0);
  assertBackupDir(o.backupDir);
  const values = o.configurationValues !== undefined ? parseConfigurationValues(o.configurationValues) : null;
  if (o.serviceAccountRoleArn) roleNameFromArn(o.serviceAccountRoleArn);
  if (o.podIdentityRoleArn) roleNameFromArn(o.podIdentityRoleArn);
  const { configurationValues: _text, timeout: _timeout, grace: _grace, ...rest } = o;
  return withRuntime(globals, (runtime) => runUpgrade(runtime, { ...rest, values, timeoutMs, graceMs }));
}
