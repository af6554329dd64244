/** `vpccni advisories`: the known-bad versions in force (shipped, or the file `--advisories` names), with sources. */
import { loadAdvisories } from '../gather/advisories.js';
import { uiFor, type GlobalOptions } from '../runtime.js';
import { versionsText } from '../upgrade-planner/advisories.js';

/** The `advisories --output json` document (schemas/advisories-output.schema.json). */
export interface AdvisoriesReport {
  schemaVersion: 1;
  file: string | null;
  advisories: Array<{ id: string; versions: string[]; severity: string; message: string; remediation: string; source: string }>;
}

export async function advisoriesCommand(_options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  const ui = uiFor(globals);
  const loaded = loadAdvisories(globals.advisories);
  const report: AdvisoriesReport = {
    schemaVersion: 1,
    file: loaded.file,
    advisories: loaded.advisories.map((a) => ({
      id: a.id,
      versions: a.versions,
      severity: a.errorWhen ? `${a.severity} (error when its condition holds)` : a.severity,
      message: a.message,
      remediation: a.remediation,
      source: a.source,
    })),
  };
  if (ui.format === 'json') {
    ui.json(report);
    return 0;
  }
  ui.out(`${report.advisories.length} advisories from ${loaded.file ?? 'the list shipped with vpccni'}${loaded.updated ? ` (updated ${loaded.updated})` : ''}:`);
  for (const a of loaded.advisories) {
    ui.out('');
    ui.out(ui.style('bold', `${a.id}`) + `  ${versionsText(a)}  [${a.errorWhen ? `${a.severity}, error when its condition holds` : a.severity}]`);
    ui.out(`  ${a.message}`);
    ui.out(`  → ${a.remediation}`);
    ui.out(`  source: ${a.source}`);
  }
  return 0;
}
