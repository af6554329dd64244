/**
 * A maker of runtimes on an in-process sandbox whose Kubernetes gateway is the in-process API client (what
 * the CLI uses by default, `--kube-client api`): `runtimeFor` with its connections closed after each test.
 * For tests whose point is the upgrade or restore logic, not kubectl.
 */
import { afterEach } from 'vitest';
import type { Ui } from '../../src/render/ui.js';
import type { Runtime } from '../../src/runtime.js';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import { recordingUi, runtimeFor } from './in-process-runtime.js';

/** A maker of API-client runtimes for the calling test file (closed after each test). */
export function apiRuntimes(): (sandbox: RunningSandbox, ui?: Ui) => Runtime {
  const open: Runtime[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((runtime) => runtime.close()));
  });
  return (sandbox, ui = recordingUi()) => {
    const runtime = runtimeFor(sandbox, ui);
    open.push(runtime);
    return runtime;
  };
}
