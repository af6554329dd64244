/** What every command does around its own work: build the runtime, run, always close it. */
import { createRuntime, type GlobalOptions, type Runtime } from '../runtime.js';
import type { Finding } from '../domain.js';
import type { Ui } from '../render/ui.js';

/** Runs `body` with a runtime for the global options, closing the sandbox (if any) afterwards. */
export async function withRuntime<T>(globals: GlobalOptions, body: (runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await createRuntime(globals);
  try {
    return await body(runtime);
  } finally {
    await runtime.close();
  }
}

const MARK: Record<Finding['severity'], string> = { error: '✖', warning: '▲', info: 'ℹ' };

/** Findings as text lines, each with its remediation. */
export function renderFindings(ui: Ui, findings: Finding[]): string[] {
  if (findings.length === 0) return ['  none'];
  const colour = { error: 'red', warning: 'yellow', info: 'cyan' } as const;
  return findings.flatMap((f) => [
    `  ${ui.style(colour[f.severity], `${MARK[f.severity]} ${f.severity}`)} [${f.id}] ${f.message}`,
    ...(f.remediation ? [`      → ${f.remediation}`] : []),
  ]);
}

/** Exit 1 when a finding of severity `error` applies (status, plan), else 0. */
export function exitCodeFor(findings: Finding[]): number {
  return findings.some((f) => f.severity === 'error') ? 1 : 0;
}
