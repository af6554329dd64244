/**
 * GitHub Actions: one `::error::`/`::warning::`/`::notice::` workflow command per finding, and a Markdown
 * summary appended to $GITHUB_STEP_SUMMARY. Only when GITHUB_ACTIONS is set.
 * https://docs.github.com/actions/reference/workflow-commands-for-github-actions
 */
import { appendFileSync } from 'node:fs';
import type { Finding } from './domain.js';

const LEVEL: Record<Finding['severity'], string> = { error: 'error', warning: 'warning', info: 'notice' };

/** Escapes the data part of a workflow command (as @actions/core does). */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Escapes a property value of a workflow command. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

/** The workflow command lines for findings. */
export function annotationLines(findings: Finding[]): string[] {
  return findings.map((f) => {
    const text = f.remediation ? `${f.message} Fix: ${f.remediation}` : f.message;
    return `::${LEVEL[f.severity]} title=${escapeProperty(`vpccni ${f.id}`)}::${escapeData(text)}`;
  });
}

/** The Markdown step summary of a gate run. */
export function summaryMarkdown(title: string, verdict: string, findings: Finding[]): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const rows = findings.map(
    (f) => `| ${f.severity} | \`${f.id}\` | ${cell(f.message)} | ${cell(f.remediation ?? '')} |`,
  );
  return [
    `### ${title}`,
    '',
    verdict,
    '',
    ...(findings.length
      ? ['| severity | id | finding | what to do |', '|---|---|---|---|', ...rows]
      : ['No findings.']),
    '',
  ].join('\n');
}

/**
 * Under GitHub Actions, prints the annotations (on stderr, which the runner reads too, so that stdout stays
 * one JSON document with --output json) and appends the summary. Does nothing elsewhere.
 */
export function publishToGitHub(title: string, verdict: string, findings: Finding[], env = process.env): boolean {
  if (!env.GITHUB_ACTIONS) return false;
  for (const line of annotationLines(findings)) process.stderr.write(`${line}\n`);
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, summaryMarkdown(title, verdict, findings));
  return true;
}
