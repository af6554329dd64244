/**
 * The reads only some advisories need (a prometheus-adapter on v1.12–v1.13, the policyendpoints CRD when the
 * add-on is not managed) leave as soon as DescribeAddon answers, beside the DaemonSet read rather than after
 * it: one round trip less for each cluster of a fleet. Proved by holding the DaemonSet read until those reads
 * have started (a condition, not a clock).
 */
import { describe, expect, it, vi } from 'vitest';
import { gatherFacts } from '../src/gather/facts.js';
import type { ClusterObjects } from '../src/gateways/kubectl.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { apiRuntimes } from './helpers/api-runtime.js';
import { sandboxesClosedAfterEach } from './helpers/in-process-runtime.js';

const sandbox = sandboxesClosedAfterEach();
const runtimeFor = apiRuntimes();

/** A runtime whose DaemonSet read waits until `release`, and that records the other reads as they start. */
function heldObjects(sb: RunningSandbox) {
  const runtime = runtimeFor(sb);
  const real = runtime.kube;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const started: string[] = [];
  const kube = {
    ...real,
    readClusterObjects: async (): Promise<ClusterObjects> => {
      await held;
      return real.readClusterObjects();
    },
    getJson: (...args: Parameters<typeof real.getJson>) => {
      started.push(args[0].join(' '));
      return real.getJson(...args);
    },
  };
  return { runtime: { ...runtime, kube }, release, started };
}

describe('advisory reads start beside the DaemonSet read', () => {
  it('a managed v1.12 add-on: the prometheus-adapter read leaves before the DaemonSet is read', async () => {
    const sb = await sandbox('default');
    const { runtime, release, started } = heldObjects(sb);
    const facts = gatherFacts(runtime);
    await vi.waitFor(() => expect(started.some((s) => s.includes('app.kubernetes.io/name=prometheus-adapter'))).toBe(true), { timeout: 20_000, interval: 10 });
    expect(started.some((s) => s.startsWith('customresourcedefinitions'))).toBe(false); // managed: no CRD read
    release();
    const gathered = await facts;
    expect(gathered.modern!.prometheusAdapterPresent).toBe(false);
    expect(gathered.modern!.unread).toEqual([]);
  });

  it('a self-managed install: the CRD read leaves before the DaemonSet is read, and its answer is used', async () => {
    const sb = await sandbox('self-managed-v1.12-k8s-1.30');
    const { runtime, release, started } = heldObjects(sb);
    const facts = gatherFacts(runtime);
    await vi.waitFor(() => expect(started).toContain('customresourcedefinitions.v1.apiextensions.k8s.io policyendpoints.networking.k8s.aws'), { timeout: 20_000, interval: 10 });
    release();
    const gathered = await facts;
    expect(gathered.modern!.crds).toHaveProperty(['policyendpoints.networking.k8s.aws']);
    expect(gathered.modern!.prometheusAdapterPresent).toBe(false); // v1.12.6 from the DaemonSet: the early read is used
    // Each read was made once: the early ones were used, not made again.
    expect(started.filter((s) => s.startsWith('customresourcedefinitions'))).toHaveLength(1);
    expect(started.filter((s) => s.includes('prometheus-adapter'))).toHaveLength(1);
  });
});
