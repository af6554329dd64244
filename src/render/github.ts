/**
 * GitHub Actions: one `::error::`/`::warning::`/`::notice::` workflow command per finding, and a Markdown
 * summary appended to $GITHUB_STEP_SUMMARY. Only when GITHUB_ACTIONS is set.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import { appendFileSync } from 'node:fs';
import type { Finding } from '../domain.js';

const LEVEL: Record<Finding['severity'], string> = { error: 'error', warning: 'warning', info: 'notice' };

/** Escapes the data part of a workflow command (as @actions/core does). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value of a workflow command (as @actions/core does). */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** The workflow command lines for findings, one line each. */
export function annotationLines(findings: Finding[]): string[] {
  return findings.map((f) => {
    const text = f.remediation ? `${f.message} Fix: ${f.remediation}` : f.message;
    return `::${LEVEL[f.severity]} title=${escapeProperty(`vpccni ${f.id}`)}::${escapeData(text)}`;
  });
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Makes text safe for one cell of a GitHub-flavoured Markdown table: on one line, `|` escaped (inside code
 * spans too, as GFM tables require), and `<`, `>`, `&` outside code spans turned into entities so that a
 * placeholder such as `<version>` is shown rather than taken for an HTML tag; `\`, `*` and `_` outside code spans
 * are backslash-escaped so that nothing turns into emphasis. Code spans stay verbatim.
 */
export function markdownCell(text: string): string {
  const oneLine = text.replace(/\r\n|\r|\n/g, ' ').trim();
  // Even indexes are prose, odd ones `code spans` (an unpaired backtick stays prose).
  const parts = oneLine.split(/(`[^`]+`)/);
  return parts
    .map((part, i) => (i % 2 === 1 ? part : escapeHtml(part).replace(/[\\*_]/g, '\\$&')))
    .join('')
    .replace(/\|/g, '\\|');
}

/** What a gate run tells the step summary. */
export interface GateSummary {
  title: string;
  pass: boolean;
  verdict: string;
  /** The command that fixes it, when there is one (e.g. `vpccni upgrade --to v1.14.0-eksbuild.3`), and its path. */
  fix?: { command: string; path: string; pin?: string } | null;
  findings: Finding[];
}

const ICON: Record<Finding['severity'], string> = { error: '❌ error', warning: '⚠️ warning', info: 'ℹ️ info' };

/** The Markdown step summary of a gate run (ends with a blank line, so that summaries can follow each other). */
export function summaryMarkdown(summary: GateSummary): string {
  const rows = summary.findings.map(
    (f) => `| ${ICON[f.severity]} | \`${f.id}\` | ${markdownCell(f.message)} | ${markdownCell(f.remediation ?? '')} |`,
  );
  return [
    `### ${summary.pass ? '✅' : '❌'} ${escapeHtml(summary.title)}`,
    '',
    `**${escapeHtml(summary.verdict)}**`,
    '',
    ...(summary.fix?.pin
      ? [`Change the owner's pin first: ${escapeHtml(summary.fix.pin)} (${escapeHtml(summary.fix.path)})`, '']
      : summary.fix
        ? [`Upgrade first: \`${summary.fix.command}\` (${escapeHtml(summary.fix.path)})`, '']
        : []),
    ...(summary.findings.length
      ? ['| severity | id | finding | what to do |', '|---|---|---|---|', ...rows]
      : ['No findings.']),
    '',
    '',
  ].join('\n');
}

/**
 * Under GitHub Actions, prints the annotations (on stderr, which the runner reads for workflow commands too,
 * so that stdout stays one JSON document with --output json) and appends the summary to $GITHUB_STEP_SUMMARY.
 * Does nothing elsewhere. A summary that cannot be written is reported as a warning and never changes the
 * gate's verdict.
 */
export function publishToGitHub(
  summary: GateSummary,
  env: NodeJS.ProcessEnv = process.env,
  write: (line: string) => void = (line) => process.stderr.write(line),
): boolean {
  if (!env.GITHUB_ACTIONS) return false;
  for (const line of annotationLines(summary.findings)) write(`${line}\n`);
  const file = env.GITHUB_STEP_SUMMARY;
  if (file) {
    try {
      appendFileSync(file, summaryMarkdown(summary));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      write(`::warning title=vpccni::${escapeData(`Could not append the step summary to ${file} (${reason}); the findings are in the annotations above.`)}\n`);
    }
  }
  return true;
}
