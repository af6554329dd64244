/**
 * The fleet's outputs: a table for people, Markdown for a GitHub step summary, the JSON document and the
 * GitHub Actions matrix. All of them from the same rows (src/decide/fleet.ts).
 */
import { appendFileSync } from 'node:fs';
import { blockingFindings, githubMatrix, sortRows, type FleetMode, type FleetReport, type FleetRow } from '../decide/fleet.js';

import { markdownCell } from './github.js';

export type FleetOutput = 'text' | 'json' | 'markdown' | 'github-matrix';

/** The heading of the "ready" column. */
function readyHeading(mode: FleetMode, rows: FleetRow[]): string {
  if (mode.kind === 'check') {
    const targets = [...new Set(rows.map((r) => r.target).filter((t): t is string => t !== null))];
    return targets.length === 1 ? `READY FOR ${targets[0]}` : 'READY FOR NEXT';
  }
  if (mode.kind === 'plan') return `PLAN TO ${mode.to}`;
  return 'HEALTHY';
}

function readyCell(mode: FleetMode, row: FleetRow): string {
  if (row.error !== null) return 'unreadable';
  if (mode.kind === 'plan') {
    if (!row.pass) return 'no';
    return row.steps.length === 0 ? 'at target' : `${row.steps.length} step${row.steps.length > 1 ? 's' : ''}`;
  }
  if (mode.kind === 'check' && row.target && !row.pass) return `no${row.upgradeTo ? ` (upgrade to ${row.upgradeTo})` : ''}`;
  return row.pass ? 'yes' : 'no';
}

function blockingCell(row: FleetRow): string {
  if (row.error !== null) return row.error;
  const blocking = blockingFindings(row);
  return blocking.length === 0 ? '' : blocking.map((f) => f.id).join(', ');
}

/** The cells of a row, in the table's column order. */
function cells(mode: FleetMode, row: FleetRow): string[] {
  return [
    row.cluster,
    row.region,
    row.account ?? '?',
    row.kubernetesVersion ?? '-',
    row.version ?? '-',
    row.managed === null ? '-' : row.managed ? (row.owner ? `yes (owner: ${row.owner.kind})` : 'yes') : 'no',
    readyCell(mode, row),
    blockingCell(row),
  ];
}

function headings(mode: FleetMode, rows: FleetRow[]): string[] {
  return ['CLUSTER', 'REGION', 'ACCOUNT', 'K8S', 'VPC-CNI', 'MANAGED', readyHeading(mode, rows), 'BLOCKING'];
}

/** One line saying how the fleet stands, naming the clusters that could not be read. */
export function fleetSummary(rows: FleetRow[]): string {
  const unreadable = rows.filter((r) => r.error !== null);
  const ready = rows.filter((r) => r.error === null && r.pass).length;
  const notReady = rows.filter((r) => r.error === null && !r.pass).length;
  const names = unreadable.map((r) => (r.cluster === '*' ? `account ${r.account ?? r.profile ?? '?'} in ${r.region}` : `${r.cluster} (${r.region})`));
  return (
    `${rows.length} row${rows.length === 1 ? '' : 's'}: ${ready} ready, ${notReady} not ready, ${unreadable.length} could not be read` +
    (names.length ? ` (${names.join(', ')})` : '') +
    '.'
  );
}

/** The table for people, as lines. */
export function renderFleetText(mode: FleetMode, rows: FleetRow[]): string[] {
  const sorted = sortRows(rows);
  const table = [headings(mode, sorted), ...sorted.map((r) => cells(mode, r))];
  const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  return [...lines, '', fleetSummary(sorted)];
}

const md = markdownCell;

/**
 * Under GitHub Actions, appends the Markdown to $GITHUB_STEP_SUMMARY (so that a `--output github-matrix` step
 * leaves the table for people too); a summary that cannot be written is a warning, never a different verdict.
 */
export function publishFleetSummary(markdown: string, env: NodeJS.ProcessEnv = process.env, warn: (text: string) => void = () => undefined): boolean {
  if (!env.GITHUB_ACTIONS || !env.GITHUB_STEP_SUMMARY) return false;
  try {
    appendFileSync(env.GITHUB_STEP_SUMMARY, `${markdown}\n`);
    return true;
  } catch (error) {
    warn(`Could not append the step summary to ${env.GITHUB_STEP_SUMMARY} (${(error as Error).message}); the results are on stdout.`);
    return false;
  }
}

/** Markdown for `$GITHUB_STEP_SUMMARY`: the table, then each not-ready cluster's blocking findings. */
export function renderFleetMarkdown(mode: FleetMode, rows: FleetRow[]): string {
  const sorted = sortRows(rows);
  const title = mode.kind === 'check' ? 'vpccni fleet check' : mode.kind === 'plan' ? `vpccni fleet plan --to ${mode.to}` : 'vpccni fleet status';
  const head = headings(mode, sorted).map((h) => h.charAt(0) + h.slice(1).toLowerCase());
  const out = [
    `## ${title}`,
    '',
    fleetSummary(sorted),
    '',
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...sorted.map((r) => {
      const raw = cells(mode, r);
      raw[0] = `\`${raw[0]}\``;
      const c = raw.map(md);
      c[6] = r.error !== null ? `⚠️ ${c[6]}` : r.pass ? `✅ ${c[6]}` : `❌ ${c[6]}`;
      return `| ${c.join(' | ')} |`;
    }),
  ];
  const details = sorted.filter((r) => r.error === null && blockingFindings(r).length > 0);
  if (details.length > 0) {
    out.push('', '### Blocking findings');
    for (const r of details) {
      out.push('', `**${md(r.cluster)}** (${r.region}, ${r.account ?? '?'})`, '');
      for (const f of blockingFindings(r)) {
        out.push(`- \`${f.id}\`: ${md(f.message)}${f.remediation ? ` — ${md(f.remediation)}` : ''}`);
      }
    }
  }
  return `${out.join('\n')}\n`;
}

/** The document for `--output` (the JSON report, or the matrix), as text. */
export function renderFleetDocument(output: 'json' | 'github-matrix', mode: FleetMode, report: FleetReport): string {
  if (output === 'json') return `${JSON.stringify(report, null, 2)}\n`;
  return `${JSON.stringify(githubMatrix(mode, report.clusters))}\n`;
}
