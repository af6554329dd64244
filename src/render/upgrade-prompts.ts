/**
 * What an upgrade says before it changes anything, and the questions it asks: settings carried over,
 * settings that would be lost, stored values a new --configuration-values drops, what OVERWRITE resets.
 * Each risk needs a yes (a flag, or y at a terminal); without one the run stops with exit 2, nothing changed.
 */
import { UsageError } from '../errors.js';
import type { AdoptionResult } from '../decide/config/adoption.js';
import type { ResetSetting } from '../decide/config/overwrite-diff.js';
import type { SettingsComparison } from '../decide/settings/index.js';
import { confirm, type Ui } from './ui.js';
import type { UpgradeReport } from './upgrade-report.js';

/** The risks of one run, as the preflight found them. */
export interface UpgradeRisks {
  dropped: string[];
  adoption: AdoptionResult | undefined;
  /** Undefined when no step uses OVERWRITE. */
  resets: ResetSetting[] | undefined;
  /** The fate of every custom setting on the first step (the settings model); lost ones need a yes. */
  settings?: SettingsComparison | null;
  /** Set when the plan goes to an older version: what goes away. Needs a yes, like OVERWRITE. */
  downgrade?: { from: string; to: string; lost: string[] } | undefined;
}

/** Prints each risk, records it in the report, and asks for (or checks) the yes it needs. */
export async function confirmRisks(
  ui: Ui,
  report: UpgradeReport,
  risks: UpgradeRisks,
  o: { dryRun?: boolean; yes?: boolean; acceptSettingLoss?: boolean },
): Promise<void> {
  const { dropped, adoption, resets, downgrade } = risks;
  if (downgrade) {
    ui.warn(`This is a downgrade (${downgrade.from} → ${downgrade.to}); it takes away:`);
    for (const line of downgrade.lost) ui.warn(`  ${line}`);
    if (!o.dryRun && !o.yes && !(await confirm('Downgrade?'))) {
      throw new UsageError(`Moving vpc-cni down from ${downgrade.from} to ${downgrade.to} takes away what is listed above and needs confirmation; pass --yes to accept.`);
    }
  }
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
      ui.info(`Carrying over ${adoption.carried.length} custom setting(s) as configuration values:`);
      for (const c of adoption.carried) ui.info(`  ${c.path} = ${JSON.stringify(c.value)}`);
    }
  }
  const settings = risks.settings;
  if (settings) {
    report.keptSettings = settings.kept.map((d) => ({ path: d.path, value: d.current ?? null, reason: d.reason }));
    const conflicts = settings.kept.filter((d) => d.conflict);
    if (conflicts.length > 0) {
      ui.warn('Under NONE, EKS will stop with a conflict on these settings (nothing is changed then; OVERWRITE resets them, PRESERVE keeps them on updates):');
      for (const d of conflicts) ui.warn(`  ${d.path} = ${shown(d.current)}`);
    }
    report.droppedSettings = settings.lost.map((d) => ({ path: d.path, value: d.current ?? null, reason: d.reason, ...(d.step ? { step: d.step.number } : {}) }));
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
  const lost = settings?.lost ?? [];
  if (lost.length > 0) {
    ui.warn(`These settings cannot be carried over and would be lost:`);
    for (const d of lost) ui.warn(`  ${d.path} = ${shown(d.current)}: ${d.reason}${d.step && d.step.of > 1 ? ` (lost at ${stepName(d.step)})` : ''}`);
    if (!o.dryRun && !o.acceptSettingLoss && !(await confirm('Lose these settings?'))) {
      const named = lost.map((d) => (d.step && d.step.of > 1 ? `${d.path} at ${stepName(d.step)}` : d.path)).join(', ');
      throw new UsageError(`${lost.length} setting(s) would be lost (listed above: ${named}); carry them with --configuration-values where the schema allows, or pass --accept-setting-loss to go on without them.`);
    }
  }
}

function stepName(step: { number: number; of: number; to: string }): string {
  return `step ${step.number} of ${step.of} (→ ${step.to})`;
}

function shown(value: unknown): string {
  return value === undefined ? '(removed)' : typeof value === 'string' ? value : JSON.stringify(value);
}
