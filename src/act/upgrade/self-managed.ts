/**
 * The self-managed (`apply`) steps of an upgrade run: what they render (the upstream manifest of each step's
 * release for the region's registry or the install's mirror, custom settings carried over), what the run says
 * about them, and the manifest diff of each step for a dry run.
 */
import type { GatheredFacts } from '../../gather/facts.js';
import type { KubeObject } from '../../decide/manifests.js';
import {
  isMirror,
  manifestText,
  renderSelfManagedManifest,
  renderTargetFor,
  runningSettings,
  settingLine,
  type ManifestSetting,
  type RenderTarget,
} from '../../decide/self-managed.js';
import { UsageError } from '../../errors.js';
import { confirm } from '../../render/ui.js';
import type { Ui } from '../../render/ui.js';
import type { UpgradeReport } from '../../render/upgrade-report.js';
import { unifiedDiff } from '../../decide/self-managed.js';

/** What every `apply` step of one run renders from. */
export interface SelfManagedRun {
  settings: ManifestSetting[];
  target: RenderTarget;
  render(release: string): KubeObject[];
}

/** The render of the run's apply steps, from the facts read before the first change. */
export function selfManagedRunOf(facts: GatheredFacts): SelfManagedRun {
  const settings = runningSettings(facts, facts.raw.objects.configMap);
  const target = renderTargetFor(facts);
  return { settings, target, render: (release) => renderSelfManagedManifest(release, settings, target) };
}

/**
 * Says what the apply steps carry and where their images come from, records it in the report, and asks for
 * the yes that settings a manifest step cannot carry need (`--accept-setting-loss`).
 */
export async function announceSelfManaged(ui: Ui, run: SelfManagedRun, report: UpgradeReport, o: { dryRun?: boolean; acceptSettingLoss?: boolean }): Promise<void> {
  const lines = run.settings.filter((s) => s.carried).map(settingLine);
  const lost = run.settings.filter((s) => !s.carried);
  report.manifestSettings = lines;
  report.imageRegistry = run.target.imagePrefix;
  ui.info(`The manifest steps apply the upstream manifests with images from ${run.target.imagePrefix}${isMirror(run.target) ? ' (the mirror the install uses: it must hold the new images before the run)' : ''}.`);
  if (lines.length > 0) {
    ui.info(`Every manifest step carries the ${lines.length} custom setting(s) of the running install:`);
    for (const line of lines) ui.info(`  ${line}`);
  }
  if (lost.length > 0) {
    report.droppedSettings = [...(report.droppedSettings ?? []), ...lost.map((s) => ({ path: s.path, value: s.current ?? null, reason: s.reason ?? '' }))];
    ui.warn('These custom settings cannot be carried by the manifest steps and would be lost:');
    for (const s of lost) ui.warn(`  ${settingLine(s)}: ${s.reason}`);
    if (!o.dryRun && !o.acceptSettingLoss && !(await confirm('Lose these settings?'))) {
      throw new UsageError(`${lost.length} custom setting(s) cannot be carried by the manifest steps (listed above); pass --accept-setting-loss to go on without them.`);
    }
  }
}

/**
 * Adds each apply step's diff to the report: the first against the running release's manifest with the
 * same settings, each later one against the step before.
 */
export function addManifestDiffs(report: UpgradeReport, run: SelfManagedRun, running: string): void {
  let before: { label: string; text: string } | null = null;
  for (const step of report.steps) {
    if (step.action !== 'apply' || step.result === 'succeeded') {
      before = null;
      continue;
    }
    const from = before ?? { label: `${step.from} (the running release's manifest, same settings)`, text: safeText(run, step.from === running ? running : step.from) };
    const text = manifestText(run.render(step.to));
    step.diff = unifiedDiff(from.text, text, [from.label, step.to]);
    before = { label: step.to, text };
  }
}

function safeText(run: SelfManagedRun, release: string): string {
  try {
    return manifestText(run.render(release));
  } catch {
    return '';
  }
}
