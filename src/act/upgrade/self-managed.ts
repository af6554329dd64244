/**
 * The self-managed (`apply`) steps of an upgrade run: what they render (the upstream manifest of each step's
 * release for the region's registry or the install's mirror, custom settings carried over), what the run says
 * about them, and the manifest diff of each step for a dry run.
 */
import type { GatheredFacts } from '../../gather/facts.js';
import type { CustomSettings } from '../../decide/config/adoption.js';
import type { KubeObject } from '../../decide/manifests.js';
import {
  carriedSettingLines,
  isMirror,
  manifestText,
  renderSelfManagedManifest,
  renderTargetFor,
  runningCustomSettings,
  type RenderTarget,
} from '../../decide/self-managed.js';
import type { Ui } from '../../render/ui.js';
import type { UpgradeReport } from '../../render/upgrade-report.js';
import { unifiedDiff } from '../../decide/self-managed.js';

/** What every `apply` step of one run renders from. */
export interface SelfManagedRun {
  custom: CustomSettings;
  target: RenderTarget;
  render(release: string): KubeObject[];
}

/** The render of the run's apply steps, from the facts read before the first change. */
export function selfManagedRunOf(facts: GatheredFacts): SelfManagedRun {
  const custom = runningCustomSettings(facts);
  const target = renderTargetFor(facts, facts.raw.objects.configMap);
  return { custom, target, render: (release) => renderSelfManagedManifest(release, custom, target) };
}

/** Says what the apply steps carry and where their images come from; records it in the report. */
export function announceSelfManaged(ui: Ui, run: SelfManagedRun, report: UpgradeReport): void {
  const lines = carriedSettingLines(run.custom);
  report.manifestSettings = lines;
  report.imageRegistry = run.target.imagePrefix;
  ui.info(`The manifest steps apply the upstream manifests with images from ${run.target.imagePrefix}${isMirror(run.target) ? ' (the mirror the install uses: it must hold the new images before the run)' : ''}.`);
  if (lines.length > 0) {
    ui.info(`Every manifest step carries the ${lines.length} custom setting(s) of the running install:`);
    for (const line of lines) ui.info(`  ${line}`);
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
