/**
 * Reading a fleet: every target through `gatherFacts` (the single-cluster read) with its own gateways, at
 * most `concurrency` at a time, each within `clusterTimeoutMs`; a cluster that fails or times out becomes a
 * row with the reason, and the others go on.
 */
import { VpccniError } from '../errors.js';
import { gatherFacts, type GatheredFacts } from './facts.js';
import type { FleetAccess } from './fleet-access.js';
import { sharingKey, type FleetTarget } from './fleet-targets.js';

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the items. */
export async function mapLimit<I, O>(items: I[], limit: number, fn: (item: I, index: number) => Promise<O>): Promise<O[]> {
  const results = new Array<O>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * The order to read targets in: round-robin over the groups of clusters that share their clients and answers
 * (the same credentials and region: see fleet-access.ts), keeping each group's own order. The first clusters of
 * a group wait for its shared reads (the add-on role and its policies, a chain of round trips); in the order
 * found, one group fills the first wave and the next group's chain starts only when its first cluster does, so
 * the chains would run one after another. Interleaved, the first wave starts them all at once.
 */
export function readOrder(targets: FleetTarget[]): number[] {
  const groups = new Map<string, number[]>();
  for (const [index, t] of targets.entries()) {
    const key = sharingKey(t, t.region);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(index);
  }
  const order: number[] = [];
  const lists = [...groups.values()];
  for (let round = 0; order.length < targets.length; round++) {
    for (const list of lists) if (round < list.length) order.push(list[round]!);
  }
  return order;
}

/** A timer that can be cancelled; tests pass their own so that no test waits on the clock. */
export type Deadline = (ms: number) => { expired: Promise<void>; cancel(): void };

/** The real timer. */
export const realDeadline: Deadline = (ms) => {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
};

/** One cluster's outcome: its facts, or why there are none. */
export type ClusterOutcome = { target: FleetTarget; facts: GatheredFacts } | { target: FleetTarget; error: string };

export interface ReadFleetOptions {
  concurrency: number;
  clusterTimeoutMs: number;
  deadline?: Deadline;
  /** Called as each cluster finishes (progress on stderr). */
  onDone?: (outcome: ClusterOutcome, done: number, total: number) => void;
  /** The read of one cluster (default: gatherFacts); tests drive it. */
  gather?: typeof gatherFacts;
}

/** The one sentence a failure becomes in its row. */
export function describeError(error: unknown): string {
  if (error instanceof VpccniError) return error.message;
  const e = error as { name?: string; message?: string };
  return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message ?? String(error)}`;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * Reads every target; never throws for one cluster's failure. With `decide`, each outcome is turned into its
 * result as soon as it is in, so that a cluster's facts (its raw objects) are not all held until the end.
 */
export async function readFleet(targets: FleetTarget[], access: FleetAccess, options: ReadFleetOptions): Promise<ClusterOutcome[]>;
export async function readFleet<R>(targets: FleetTarget[], access: FleetAccess, options: ReadFleetOptions & { decide: (outcome: ClusterOutcome) => R }): Promise<R[]>;
export async function readFleet<R>(
  targets: FleetTarget[],
  access: FleetAccess,
  options: ReadFleetOptions & { decide?: (outcome: ClusterOutcome) => R },
): Promise<Array<R | ClusterOutcome>> {
  const decide = options.decide ?? ((outcome: ClusterOutcome) => outcome);
  const deadline = options.deadline ?? realDeadline;
  const gather = options.gather ?? gatherFacts;
  let done = 0;
  // A cluster's slot goes to the next target as soon as its reads are in; deciding it waits until the I/O
  // ready now was handled (setImmediate), so that the next cluster's first requests go out before it, not
  // after: on one thread, deciding first would add its CPU to every next cluster's round trips.
  const decided = new Array<Promise<R | ClusterOutcome>>(targets.length);
  await mapLimit(readOrder(targets), options.concurrency, async (index) => {
    const target = targets[index]!;
    const controller = new AbortController();
    const timer = deadline(options.clusterTimeoutMs);
    let opened: Awaited<ReturnType<FleetAccess['open']>> | null = null;
    let outcome: ClusterOutcome;
    try {
      opened = await access.open(target, controller.signal);
      const read = gather(opened.gateways);
      read.catch(() => undefined);
      const timedOut = timer.expired.then(() => 'timeout' as const);
      const first = await Promise.race([read, timedOut]);
      if (first === 'timeout') {
        const message = `Timed out after ${seconds(options.clusterTimeoutMs)} reading the cluster; check that its EKS and Kubernetes API endpoints answer, or raise --cluster-timeout.`;
        controller.abort(message);
        outcome = { target, error: message };
      } else {
        outcome = { target, facts: first };
      }
    } catch (error) {
      outcome = { target, error: describeError(error) };
    } finally {
      timer.cancel();
    }
    done += 1;
    options.onDone?.(outcome, done, targets.length);
    // Letting go of the cluster's connection waits with deciding it, after the next cluster's requests.
    decided[index] = afterIo(() => {
      opened?.close();
      if (!controller.signal.aborted) controller.abort('done');
      return decide(outcome);
    });
  });
  return Promise.all(decided);
}

/** `fn`'s result once the I/O events ready now were handled; a throw rejects it (handled where it is awaited). */
function afterIo<T>(fn: () => T): Promise<T> {
  const result = new Promise<T>((resolve, reject) =>
    setImmediate(() => {
      try {
        resolve(fn());
      } catch (error) {
        reject(error);
      }
    }),
  );
  result.catch(() => undefined);
  return result;
}
