/**
 * What an upgrade says before it changes anything, and the questions it asks: settings carried over,
 * settings that would be lost, stored values a new --configuration-values drops, what OVERWRITE resets.
 * Each risk needs a yes (a flag, or y at a terminal); without one the run stops with exit 2, nothing changed.
 */
import { UsageError } from '../errors.js';
import type { AdoptionResult } from '../decide/config/adoption.js';
import type { ResetSetting } from '../decide/config/overwrite-diff.js';
import { confirm, type Ui } from './ui.js';
import type { UpgradeReport } from './upgrade-report.js';

/** The risks of one run, as the preflight found them. */
export interface UpgradeRisks {
  dropped: string[];
  adoption: AdoptionResult | undefined;
  /** Undefined when no step uses OVERWRITE. */
  resets: ResetSetting[] | undefined;
}

/** Prints each risk, records it in the report, and asks for (or checks) the yes it needs. */
export async function confirmRisks(
  ui: Ui,
  report: UpgradeReport,
  risks: UpgradeRisks,
  o: { dryRun?: boolean; yes?: boolean; acceptSettingLoss?: boolean },
): Promise<void> {
  const { dropped, adoption, resets } = risks;
  if (dropped.length > 0) {
    report.droppedSettings = dropped.map((path) => ({ path, value: null, reason: 'stored now, absent from --configuration-values (EKS replaces the values, it does not merge them)' }));
    ui.warn('EKS replaces the stored configuration values with the ones given; these stored settings would be removed:');
    for (const path of dropped) ui.warn(`  ${path}`);
    if (!o.dryRun && !o.yes && !(await confirm('Remove these settings?'))) {
      throw new UsageError(`--configuration-values leaves out ${dropped.length} setting(s) the add-on stores now (listed above); include them, or pass --yes to remove them.`);
    }
  }
  if (adoption) {
    report.carriedSettings = adoption.carried;
    report.droppedSettings = adoption.unsupported;
    if (adoption.carried.length > 0) {
      ui.info(`Carrying over ${adoption.carried.length} custom setting(s) of the self-managed install as configuration values:`);
      for (const c of adoption.carried) ui.info(`  ${c.path} = ${JSON.stringify(c.value)}`);
    }
    if (adoption.unsupported.length > 0) {
      ui.warn(`These custom settings cannot be carried into the EKS add-on and would be lost:`);
      for (const u of adoption.unsupported) ui.warn(`  ${u.path} = ${JSON.stringify(u.value)}: ${u.reason}`);
      if (!o.dryRun && !o.acceptSettingLoss && !(await confirm('Lose these settings?'))) {
        throw new UsageError(`${adoption.unsupported.length} custom setting(s) cannot be carried over (listed above); pass --accept-setting-loss to go on without them.`);
      }
    }
  }
  if (resets) {
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
}
