/** GitHub Actions output: workflow-command escaping, annotations, the step summary and when it is written. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Finding } from '../src/domain.js';
import {
  annotationLines,
  escapeData,
  escapeProperty,
  markdownCell,
  publishToGitHub,
  summaryMarkdown,
  type GateSummary,
} from '../src/render/github.js';
import { isolatedEnv } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';

/** Undoes the workflow-command escaping the way the runner does (actions/runner ActionCommand.Unescape). */
function unescape(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
}

/** Parses `::level key=value,...::data` as the runner does. */
function parseCommand(line: string): { level: string; properties: Record<string, string>; data: string } {
  const match = /^::([a-z]+)(?: ([^:]*))?::(.*)$/s.exec(line);
  if (!match) throw new Error(`not a workflow command: ${line}`);
  const properties: Record<string, string> = {};
  for (const pair of (match[2] ?? '').split(',').filter(Boolean)) {
    const at = pair.indexOf('=');
    properties[pair.slice(0, at)] = unescape(pair.slice(at + 1));
  }
  return { level: match[1] ?? '', properties, data: unescape(match[3] ?? '') };
}

const findings: Finding[] = [
  {
    id: 'not-offered-for-target',
    severity: 'error',
    message: 'v1.12.6-eksbuild.2 is not offered for Kubernetes 1.28.',
    remediation: 'Run `vpccni upgrade --to v1.14.0-eksbuild.3` (v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3).',
  },
  {
    id: 'addon-health-issues',
    severity: 'error',
    message: 'EKS reports: ConfigurationConflict: Conflicts found.\nDaemonSet.apps aws-node - .spec.template.spec.containers[name="aws-node"].env[name="WARM_IP_TARGET"]: 100% sure, a|b',
  },
  { id: 'self-managed', severity: 'warning', message: 'Self-managed.', remediation: 'Adopt it: `vpccni upgrade --to <version>`.' },
  { id: 'newer-version-available', severity: 'info', message: 'v1.14.0-eksbuild.3 is newer.' },
];

describe('workflow command escaping', () => {
  it.each([
    ['plain text', 'plain text'],
    ['100%', '100%25'],
    ['%0A stays literal', '%250A stays literal'],
    ['line 1\nline 2', 'line 1%0Aline 2'],
    ['crlf\r\nend', 'crlf%0D%0Aend'],
    ['a: b, c', 'a: b, c'],
    ['::error::injected', '::error::injected'],
  ])('escapeData(%j) = %j', (input, output) => {
    expect(escapeData(input)).toBe(output);
    expect(unescape(output)).toBe(input);
  });

  it.each([
    ['vpccni not-offered-for-target', 'vpccni not-offered-for-target'],
    ['a: b', 'a%3A b'],
    ['x,y=z', 'x%2Cy=z'],
    ['50%\n', '50%25%0A'],
  ])('escapeProperty(%j) = %j', (input, output) => {
    expect(escapeProperty(input)).toBe(output);
    expect(unescape(output)).toBe(input);
  });

  it('keeps a message that looks like a workflow command from becoming one', () => {
    const [line] = annotationLines([{ id: 'x', severity: 'warning', message: 'bad\n::error::injected' }]);
    expect(line?.split('\n')).toHaveLength(1);
    expect(line).toBe('::warning title=vpccni x::bad%0A::error::injected');
  });
});

describe('annotationLines', () => {
  it('writes one line per finding, error/warning/notice, with the id as title and the fix appended', () => {
    const lines = annotationLines(findings);
    expect(lines).toHaveLength(findings.length);
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
    const parsed = lines.map(parseCommand);
    expect(parsed.map((p) => p.level)).toEqual(['error', 'error', 'warning', 'notice']);
    expect(parsed.map((p) => p.properties.title)).toEqual([
      'vpccni not-offered-for-target',
      'vpccni addon-health-issues',
      'vpccni self-managed',
      'vpccni newer-version-available',
    ]);
    expect(parsed[0]?.data).toBe(`${findings[0]?.message} Fix: ${findings[0]?.remediation}`);
    expect(parsed[1]?.data).toBe(findings[1]?.message);
  });

  it('is empty without findings', () => {
    expect(annotationLines([])).toEqual([]);
  });
});

describe('markdownCell', () => {
  it.each([
    ['plain', 'plain'],
    ['a|b', 'a\\|b'],
    ['two\nlines\r\nhere', 'two lines here'],
    ['use <version> & co', 'use &lt;version&gt; &amp; co'],
    ['run `vpccni upgrade --to <version>`', 'run `vpccni upgrade --to <version>`'],
    ['code `a|b` pipe', 'code `a\\|b` pipe'],
    ['AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=*', 'AWS\\_VPC\\_K8S\\_CNI\\_CUSTOM\\_NETWORK\\_CFG=\\*'],
    ['C:\\path', 'C:\\\\path'],
    ['an unpaired ` backtick <b>', 'an unpaired ` backtick &lt;b&gt;'],
  ])('markdownCell(%j) = %j', (input, output) => {
    expect(markdownCell(input)).toBe(output);
  });
});

describe('summaryMarkdown', () => {
  const failing: GateSummary = {
    title: 'vpccni check: demo → Kubernetes 1.28',
    pass: false,
    verdict: 'FAIL: vpc-cni v1.12.6-eksbuild.2 on demo is not ready for Kubernetes 1.28.',
    fix: { command: 'vpccni upgrade --to v1.14.0-eksbuild.3', path: 'v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3' },
    findings,
  };

  it('has the verdict, the fix and one table row per finding, each on one line', () => {
    const markdown = summaryMarkdown(failing);
    const lines = markdown.split('\n');
    expect(lines[0]).toBe('### ❌ vpccni check: demo → Kubernetes 1.28');
    expect(markdown).toContain('**FAIL: vpc-cni v1.12.6-eksbuild.2 on demo is not ready for Kubernetes 1.28.**');
    expect(markdown).toContain(
      'Upgrade first: `vpccni upgrade --to v1.14.0-eksbuild.3` (v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3)',
    );
    const rows = lines.filter((l) => l.startsWith('| ') && !l.startsWith('| severity'));
    expect(rows).toHaveLength(findings.length);
    // Every row has exactly four cells: escaped pipes do not split it.
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(4);
    expect(rows[1]).toContain('100% sure, a\\|b');
    expect(rows[2]).toContain('`vpccni upgrade --to <version>`');
    expect(markdown.endsWith('\n\n')).toBe(true);
  });

  it('says so when there is nothing to report', () => {
    const markdown = summaryMarkdown({ title: 'vpccni check', pass: true, verdict: 'PASS: ready.', findings: [] });
    expect(markdown).toBe('### ✅ vpccni check\n\n**PASS: ready.**\n\nNo findings.\n\n');
  });
});

describe('publishToGitHub', () => {
  const summary: GateSummary = { title: 'vpccni check', pass: false, verdict: 'FAIL.', findings };

  it('does nothing outside GitHub Actions', () => {
    const written: string[] = [];
    const file = join(mkdtempSync(join(tmpdir(), 'vpccni-gh-')), 'summary.md');
    expect(publishToGitHub(summary, { GITHUB_STEP_SUMMARY: file }, (l) => written.push(l))).toBe(false);
    expect(written).toEqual([]);
    expect(() => readFileSync(file)).toThrow();
  });

  it('writes the annotations and appends the summary to what earlier steps wrote', () => {
    const written: string[] = [];
    const file = join(mkdtempSync(join(tmpdir(), 'vpccni-gh-')), 'summary.md');
    writeFileSync(file, 'earlier\n');
    expect(publishToGitHub(summary, { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: file }, (l) => written.push(l))).toBe(true);
    expect(written).toEqual(annotationLines(findings).map((l) => `${l}\n`));
    expect(readFileSync(file, 'utf8')).toBe(`earlier\n${summaryMarkdown(summary)}`);
  });

  it('annotates without a summary file, and warns instead of failing when it cannot be written', () => {
    const written: string[] = [];
    expect(publishToGitHub(summary, { GITHUB_ACTIONS: 'true' }, (l) => written.push(l))).toBe(true);
    expect(written).toHaveLength(findings.length);
    written.length = 0;
    const missing = join(mkdtempSync(join(tmpdir(), 'vpccni-gh-')), 'no', 'such', 'dir.md');
    expect(publishToGitHub(summary, { GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: missing }, (l) => written.push(l))).toBe(true);
    expect(written).toHaveLength(findings.length + 1);
    expect(parseCommand(written.at(-1)?.trimEnd() ?? '')).toMatchObject({ level: 'warning', properties: { title: 'vpccni' } });
  });
});

describe('an error before the verdict under GitHub Actions', () => {
  useInProcessCli();
  it('is annotated too, so the failed job says why', async () => {
    const result = await vpccniInProcess(['--sandbox', 'check', '--kubernetes-version', '1.x'], {
      env: isolatedEnv({ GITHUB_ACTIONS: 'true' }),
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr.split('\n')).toContain(
      '::error title=vpccni error::"1.x" is not a Kubernetes version; use major.minor, for example 1.30.',
    );
  });
});
