/**
 * The critical path of gathering: the role's policies are read beside its GetRole, as soon as the role's ARN
 * is known, not after the Kubernetes reads. Proved by holding the Kubernetes reads until the IAM reads of the
 * policies have all been answered (a condition, not a clock).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gatherFacts } from '../src/gather/facts.js';
import { createKubeApiGateway } from '../src/gateways/kube-api.js';
import { tokenSource } from '../src/gateways/kube-auth.js';
import { createKubeHttp } from '../src/gateways/kube-http.js';
import type { ClusterObjects, KubeGateway } from '../src/gateways/kubectl.js';
import type { RunningSandbox } from '../src/sandbox/index.js';
import { runtimeFor, sandboxesClosedAfterEach } from './helpers/in-process-runtime.js';

const sandbox = sandboxesClosedAfterEach();
const clients: Array<{ close(): void }> = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A runtime on `sb` with the in-process Kubernetes client (no kubectl to start). */
function apiRuntime(sb: RunningSandbox) {
  const runtime = runtimeFor(sb);
  const connection = runtime.kubeContext!.connection!;
  const http = createKubeHttp(connection, tokenSource(connection));
  clients.push(http);
  const kube: KubeGateway = createKubeApiGateway(http);
  return { ...runtime, kube };
}

/** A runtime whose Kubernetes reads wait until `release` is called. */
function heldKubeRuntime(sb: RunningSandbox) {
  const runtime = apiRuntime(sb);
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let started = false;
  const real = runtime.kube;
  const kube = {
    ...real,
    readClusterObjects: async (): Promise<ClusterObjects> => {
      await held;
      started = true;
      return real.readClusterObjects();
    },
    getJson: async (...args: Parameters<typeof real.getJson>) => {
      await held;
      return real.getJson(...args);
    },
  };
  return { runtime: { ...runtime, kube }, release, started: () => started };
}

const operations = (sb: RunningSandbox) => sb.log.entries.map((e) => e.operation);

describe('gathering overlaps the IAM reads with the Kubernetes reads', () => {
  it('reads the IRSA role policies while the Kubernetes reads are still held', async () => {
    const sb = await sandbox('default');
    const { runtime, release, started } = heldKubeRuntime(sb);
    const facts = gatherFacts(runtime);
    await vi.waitFor(() => expect(operations(sb)).toContain('GetPolicyVersion'), { timeout: 20_000, interval: 20 });
    expect(started()).toBe(false);
    expect(operations(sb)).toEqual(expect.arrayContaining(['DescribeAddon', 'GetRole', 'ListAttachedRolePolicies', 'GetPolicy']));
    expect(sb.log.entries.filter((e) => e.service === 'kube')).toEqual([]);
    release();
    const read = await facts;
    expect(read.modern!.rolePermissions?.via).toBe('irsa');
    expect(read.modern!.unread).toEqual([]);
    // The policies read once (GetRole lists the attached ones too): the early read is the one used.
    expect(operations(sb).filter((o) => o === 'ListRolePolicies')).toHaveLength(1);
  });

  it('reads the Pod Identity role and its policies while the Kubernetes reads are still held', async () => {
    const sb = await sandbox('pod-identity');
    const { runtime, release } = heldKubeRuntime(sb);
    const facts = gatherFacts(runtime);
    await vi.waitFor(() => expect(operations(sb)).toContain('GetPolicyVersion'), { timeout: 20_000, interval: 20 });
    expect(operations(sb)).toEqual(expect.arrayContaining(['DescribePodIdentityAssociation', 'GetRole', 'ListAttachedRolePolicies']));
    expect(sb.log.entries.filter((e) => e.service === 'kube')).toEqual([]);
    release();
    const read = await facts;
    expect(read.modern!.rolePermissions?.via).toBe('pod-identity');
    expect(read.modern!.podIdentityRole?.exists).toBe(true);
    expect(read.modern!.unread).toEqual([]);
  });

  it('says nothing of an early read it does not use: a missing IRSA role is reported once, as before', async () => {
    const sb = await sandbox('irsa-role-missing');
    const read = await gatherFacts(apiRuntime(sb));
    expect(read.role?.exists).toBe(false);
    expect(read.modern!.unread.filter((u) => /policies of/.test(u))).toEqual([]);
  });
});
