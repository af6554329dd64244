/** `vpccni sandbox serve` and `vpccni sandbox list`. */
import { UsageError } from '../errors.js';
import type { GlobalOptions } from '../runtime.js';
import { uiFor } from '../runtime.js';
import type { ScenarioFaults } from '../sandbox/scenario-types.js';

/** Lists the built-in scenarios (one per line; a JSON array with --output json). */
export async function sandboxListCommand(_options: Record<string, unknown>, globals: GlobalOptions): Promise<number> {
  const ui = uiFor(globals);
  const { listScenarios } = await import('../sandbox/index.js');
  const scenarios = listScenarios();
  if (ui.format === 'json') ui.json(scenarios.map((s) => s.name));
  else for (const s of scenarios as Array<{ name: string; description: string }>) ui.out(`${s.name.padEnd(34)} ${s.description}`);
  return 0;
}

function share(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new UsageError(`${flag} must be a number from 0 to 1, not "${String(value)}".`);
  return n;
}

function millis(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 3_600_000) {
    throw new UsageError(`${flag} must be a whole number of milliseconds from 0 to 3600000, not "${String(value)}".`);
  }
  return n;
}

/** Serves the emulators until SIGINT/SIGTERM; the first stdout line is the endpoints as JSON. */
export async function sandboxServeCommand(
  options: Record<string, unknown>,
  globals: GlobalOptions,
  args: string[],
): Promise<number> {
  const faults: ScenarioFaults = {};
  const latency = millis(options.latency, '--latency');
  const throttle = share(options.throttleRate, '--throttle-rate');
  const serverErrors = share(options.serverErrorRate, '--server-error-rate');
  if (latency !== undefined) faults.latencyMs = latency;
  if (throttle !== undefined) faults.throttleRate = throttle;
  if (serverErrors !== undefined) faults.serverErrorRate = serverErrors;
  if (options.failUpdate !== undefined) {
    const n = Number(options.failUpdate);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--fail-update must be a whole number from 1, not "${String(options.failUpdate)}".`);
    faults.failUpdateNumber = n;
  }
  if (options.updateNeverFinishes) faults.updateNeverFinishes = true;
  if (options.rolloutNeverFinishes) faults.rolloutNeverFinishes = true;
  if (options.kubeOutage !== undefined) {
    const match = /^(\d+):(\d+)$/.exec(String(options.kubeOutage));
    if (!match) throw new UsageError(`--kube-outage must be <after-mutating-call>:<ms>, e.g. 1:2000, not "${String(options.kubeOutage)}".`);
    faults.kubeOutage = { afterMutatingCall: Number(match[1]), durationMs: Number(match[2]) };
  }
  const updateDurationMs = millis(options.updateDuration, '--update-duration');
  const rolloutDurationMs = millis(options.rolloutDuration, '--rollout-duration');
  const ui = uiFor(globals);
  const { startSandbox, loadScenario, serveLine, serveHint } = await import('../sandbox/index.js');
  const scenario = loadScenario(args[0] ?? globals.scenario ?? 'default');
  if (updateDurationMs !== undefined || rolloutDurationMs !== undefined) {
    scenario.sandbox = {
      ...scenario.sandbox,
      ...(updateDurationMs !== undefined ? { updateDurationMs } : {}),
      ...(rolloutDurationMs !== undefined ? { rolloutDurationMs } : {}),
    };
  }
  const sandbox = await startSandbox(scenario, {
    faults,
    ...(typeof options.dir === 'string' ? { dir: options.dir } : {}),
  });
  process.stdout.write(`${JSON.stringify(serveLine(sandbox))}\n`);
  ui.info(serveHint(sandbox));
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sandbox.close();
  return 0;
}
