/**
 * The sandbox's lists, read by kubectl of two minors: a label selector keeps only the objects it names (the
 * selector runs before the list's objects are copied, so that a list of 5000 nodes selecting a few costs a
 * few), field selectors alike, and the items come in byte order of namespace and name, as etcd keeps its keys.
 */
import { describe, expect, it } from 'vitest';
import { KUBECTL_MINORS, kubectlFor } from './helpers/kubectl.js';
import { sandboxesClosedAfterEach } from './helpers/in-process-runtime.js';

const sandboxOf = sandboxesClosedAfterEach();

// Names whose byte order is not their order by length or as numbers.
const NAMES = ['ip-10-0-1-9.ec2.internal', 'ip-10-0-1-10.ec2.internal', 'ip-10-0-1-1-b.ec2.internal', 'hybrid-a', 'hybrid-10', 'hybrid-9'];

describe('sandbox lists with selectors', () => {
  it.each(KUBECTL_MINORS)('keep only what the selector names, in byte order of their names (kubectl %s)', async (minor) => {
    const sandbox = await sandboxOf('default', (s) => {
      s.nodes = NAMES.map((name) => {
        const labels: Record<string, string> = name.startsWith('hybrid') ? { 'eks.amazonaws.com/compute-type': 'hybrid' } : { 'eks.amazonaws.com/nodegroup': 'ng-1' };
        return { name, labels };
      });
    });
    const kubectl = kubectlFor(minor, sandbox.kubeconfig);
    const all = await kubectl('get', 'nodes', '-o', 'name');
    expect(all.stderr).toBe('');
    expect(all.stdout.trim().split('\n')).toEqual([...NAMES].sort((a, b) => (a < b ? -1 : 1)).map((n) => `node/${n}`));
    const hybrid = await kubectl('get', 'nodes', '-l', 'eks.amazonaws.com/compute-type=hybrid', '-o', 'name', '--chunk-size', '2');
    expect(hybrid.stdout.trim().split('\n')).toEqual(['node/hybrid-10', 'node/hybrid-9', 'node/hybrid-a']);
    const pods = await kubectl('get', 'pods', '-A', '-l', 'k8s-app=aws-node', '--field-selector', 'spec.nodeName=ip-10-0-1-10.ec2.internal', '-o', 'jsonpath={.items[*].spec.nodeName}');
    expect(pods.stdout).toBe('ip-10-0-1-10.ec2.internal');
  });
});
