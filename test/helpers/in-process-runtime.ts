/**
 * Runs the real command code in this process against an in-process sandbox: the same gateways (real SDK
 * over loopback, kubectl) as the CLI, with a Ui that records what would be printed.
 */
import { createEksGateway } from '../../src/gateways/eks.js';
import { createIamGateway } from '../../src/gateways/iam.js';
import { createKubeGateway } from '../../src/gateways/kubectl.js';
import { resolveKubeContext } from '../../src/gateways/kubeconfig.js';
import { startProgress } from '../../src/render/progress.js';
import type { Ui } from '../../src/render/ui.js';
import type { Runtime } from '../../src/runtime.js';
import { afterEach } from 'vitest';
import { loadScenario, startSandbox, type RunningSandbox } from '../../src/sandbox/index.js';
import type { Scenario } from '../../src/sandbox/scenario-types.js';

/** A Ui that keeps every line. */
export interface RecordingUi extends Ui {
  stdout: string[];
  stderr: string[];
  documents: unknown[];
}

export function recordingUi(format: 'text' | 'json' = 'text'): RecordingUi {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const documents: unknown[] = [];
  return {
    format,
    color: false,
    stdout,
    stderr,
    documents,
    out: (text) => {
      if (format === 'text') stdout.push(text);
    },
    json: (document) => documents.push(structuredClone(document)),
    info: (text) => stderr.push(text),
    warn: (text) => stderr.push(text),
    debug: () => undefined,
    step: (_title, task) => task(),
    progress: (title) => startProgress(title, { mode: 'off', write: () => undefined }),
    style: (_f, text) => text,
  };
}

/**
 * A runtime on `sandbox` (closing it does not stop the sandbox). It behaves like a run against a real
 * cluster: no `sandbox` on the Runtime, so the journal, its lock and backups go where --backup-dir says.
 */
export function runtimeFor(sandbox: RunningSandbox, ui: Ui = recordingUi()): Runtime {
  const aws = {
    region: sandbox.region,
    eksEndpoint: sandbox.eksEndpoint,
    iamEndpoint: sandbox.iamEndpoint,
    credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
  };
  return {
    ui,
    clusterName: sandbox.cluster,
    region: sandbox.region,
    aws,
    sandbox: null,
    kubeContext: resolveKubeContext({ kubeconfig: sandbox.kubeconfig, context: sandbox.contextName }),
    eks: createEksGateway(aws, sandbox.cluster),
    iam: createIamGateway(aws),
    kube: createKubeGateway({ kubeconfig: sandbox.kubeconfig, context: sandbox.contextName }),
    close: async () => undefined,
  };
}

/**
 * A starter of sandboxes for the calling test file (50 ms updates and rollouts, `edit` applied to the
 * scenario first), each closed after its test.
 */
export function sandboxesClosedAfterEach(): (name: string, edit?: (s: Scenario) => void) => Promise<RunningSandbox> {
  const open: RunningSandbox[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (name, edit = () => {}) => {
    const s = loadScenario(name);
    s.sandbox = { ...s.sandbox, updateDurationMs: 50, rolloutDurationMs: 50 };
    edit(s);
    const sandbox = await startSandbox(s);
    open.push(sandbox);
    return sandbox;
  };
}
