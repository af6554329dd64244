import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { assertSameCluster, backupTimestamp, readBackup, stripServerFields, toYaml, writeBackup, type BackupDocument } from '../src/act/backup.js';
import { UsageError } from '../src/errors.js';
import { upstreamDaemonSet, type KubeObject } from '../src/decide/manifests.js';

const NOW = new Date('2026-11-21T23:59:59.123Z');

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'vpccni-backup-'));
}

/** What `kubectl get daemonset aws-node -n kube-system -o yaml` returns: upstream v1.12.6 plus server fields. */
function liveDaemonSet(): KubeObject {
  const ds = upstreamDaemonSet('v1.12.6-eksbuild.2');
  Object.assign(ds.metadata, {
    uid: '1c9a1a4e-0000-4000-8000-000000000001',
    resourceVersion: '123456',
    generation: 3,
    creationTimestamp: '2026-01-02T03:04:05Z',
    managedFields: [{ manager: 'kubectl-client-side-apply', operation: 'Update' }],
    selfLink: '/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node',
    annotations: {
      'deprecated.daemonset.template.generation': '3',
      'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"apps/v1"}',
      'example.com/owner': 'platform',
    },
  });
  (ds.spec as { template: { metadata: Record<string, unknown> } }).template.metadata.creationTimestamp = null;
  ds.status = { currentNumberScheduled: 3, desiredNumberScheduled: 3, numberReady: 3, observedGeneration: 3 };
  return ds;
}

function backupDoc(): BackupDocument {
  return {
    schemaVersion: 1,
    kind: 'VpccniBackup',
    createdAt: NOW.toISOString(),
    cluster: { name: 'demo', region: 'us-west-2', arn: 'arn:aws:eks:us-west-2:111122223333:cluster/demo', endpoint: 'https://127.0.0.1:6443' },
    daemonSet: stripServerFields(liveDaemonSet()),
    configMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'amazon-vpc-cni', namespace: 'kube-system' }, data: { 'enable-windows-ipam': 'false' } },
    eniConfigs: [
      { apiVersion: 'crd.k8s.amazonaws.com/v1alpha1', kind: 'ENIConfig', metadata: { name: 'us-west-2a' }, spec: { subnet: 'subnet-0a', securityGroups: ['sg-1'] } },
    ],
    addon: { addonName: 'vpc-cni', addonVersion: 'v1.12.6-eksbuild.2', status: 'ACTIVE', configurationValues: '{"env":{"WARM_IP_TARGET":"10"}}' },
  };
}

async function usageError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('stripServerFields', () => {
  it('drops what the API server owns and keeps the rest', () => {
    const stripped = stripServerFields(liveDaemonSet());
    expect(stripped.status).toBeUndefined();
    expect(Object.keys(stripped.metadata).sort()).toEqual(['annotations', 'labels', 'name', 'namespace']);
    expect(stripped.metadata.annotations).toEqual({ 'example.com/owner': 'platform' });
    expect((stripped.spec as { template: { metadata: Record<string, unknown> } }).template.metadata).not.toHaveProperty('creationTimestamp');
    expect(stripped.spec).toEqual(upstreamDaemonSet('v1.12.6-eksbuild.2').spec);
  });

  it('does not change its argument and drops empty annotations', () => {
    const live = liveDaemonSet();
    (live.metadata.annotations as Record<string, string>)['example.com/owner'] = 'x';
    delete (live.metadata.annotations as Record<string, string>)['example.com/owner'];
    const stripped = stripServerFields(live);
    expect(stripped.metadata).not.toHaveProperty('annotations');
    expect(live.metadata.uid).toBe('1c9a1a4e-0000-4000-8000-000000000001');
  });
});

describe('writeBackup and readBackup', () => {
  it('writes one YAML document named after the cluster and UTC time, and reads it back equal', async () => {
    const dir = join(tempDir(), 'nested', 'backups');
    const path = await writeBackup(dir, backupDoc(), NOW);
    expect(path).toBe(join(dir, 'aws-node-demo-20261121T235959Z.yaml'));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['aws-node-demo-20261121T235959Z.yaml']);
    const text = readFileSync(path, 'utf8');
    expect(parseAllDocuments(text)).toHaveLength(1);
    expect(text).toContain('kind: VpccniBackup');
    expect(text).toContain('value: "9001"');
    expect(await readBackup(path)).toEqual(backupDoc());
  });

  it('never overwrites: two backups in the same second get two files', async () => {
    const dir = tempDir();
    const first = await writeBackup(dir, backupDoc(), NOW);
    const changed = backupDoc();
    changed.addon = null;
    const [second, third] = await Promise.all([writeBackup(dir, changed, NOW), writeBackup(dir, changed, NOW)]);
    expect(first).toBe(join(dir, 'aws-node-demo-20261121T235959Z.yaml'));
    expect([second, third].sort()).toEqual([join(dir, 'aws-node-demo-20261121T235959Z-2.yaml'), join(dir, 'aws-node-demo-20261121T235959Z-3.yaml')]);
    expect((await readBackup(first)).addon).not.toBeNull();
    expect(readdirSync(dir).sort()).toEqual([
      'aws-node-demo-20261121T235959Z-2.yaml',
      'aws-node-demo-20261121T235959Z-3.yaml',
      'aws-node-demo-20261121T235959Z.yaml',
    ]);
  });

  it('reports a directory that cannot be made as a UsageError', async () => {
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, 'x');
    expect(await usageError(writeBackup(join(file, 'backups'), backupDoc(), NOW))).toMatch(
      /^Could not write the backup to .*not-a-dir\/backups \((ENOTDIR|EEXIST)\); choose a writable directory/,
    );
  });

  it('leaves no temporary file behind and reports an unwritable directory as a UsageError', async () => {
    const dir = tempDir();
    chmodSync(dir, 0o500);
    try {
      if (process.getuid?.() === 0) return; // root writes anyway
      expect(await usageError(writeBackup(dir, backupDoc(), NOW))).toMatch(/^Could not write the backup to .*EACCES.*--backup-dir/);
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      chmodSync(dir, 0o700);
    }
  });

  it('rejects a missing, corrupt or foreign file', async () => {
    const dir = tempDir();
    expect(await usageError(readBackup(join(dir, 'nope.yaml')))).toContain('does not exist');
    const corrupt = join(dir, 'corrupt.yaml');
    writeFileSync(corrupt, toYaml(backupDoc()).slice(0, 200) + '\n  bad: [unclosed\n');
    expect(await usageError(readBackup(corrupt))).toContain('is not valid YAML');
    const plain = join(dir, 'aws-k8s-cni-old.yaml');
    writeFileSync(plain, toYaml(backupDoc()).replace(/^kind: VpccniBackup$/m, 'kind: DaemonSet'));
    expect(await usageError(readBackup(plain))).toContain('plain DaemonSet manifest');
    const other = join(dir, 'other.yaml');
    writeFileSync(other, 'kind: ConfigMap\napiVersion: v1\n');
    expect(await usageError(readBackup(other))).toContain('its kind is ConfigMap, not VpccniBackup');
    const newer = join(dir, 'newer.yaml');
    writeFileSync(newer, toYaml(backupDoc()).replace(/^schemaVersion: 1$/m, 'schemaVersion: 2'));
    expect(await usageError(readBackup(newer))).toContain('newer vpccni');
    const noDaemonSet = join(dir, 'no-ds.yaml');
    writeFileSync(noDaemonSet, 'schemaVersion: 1\nkind: VpccniBackup\ncluster: {name: demo, region: us-west-2}\n');
    expect(await usageError(readBackup(noDaemonSet))).toContain('no DaemonSet');
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    expect(await usageError(readBackup(empty))).toContain('not a vpccni backup');
  });

  it('names the file with the UTC second', () => {
    expect(backupTimestamp(new Date('2026-01-02T03:04:05.999Z'))).toBe('20260102T030405Z');
  });
});

describe('assertSameCluster', () => {
  it('accepts the same cluster and refuses another', () => {
    const doc = backupDoc();
    expect(() => assertSameCluster(doc, { name: 'demo', region: 'us-west-2', arn: doc.cluster.arn })).not.toThrow();
    expect(() => assertSameCluster(doc, { name: 'demo', region: 'us-west-2', arn: null })).not.toThrow();
    expect(() => assertSameCluster(doc, { name: 'prod', region: 'eu-west-1', arn: null })).toThrow(
      new UsageError('This backup is of cluster demo in us-west-2, not of prod in eu-west-1; refusing to restore it here.'),
    );
    expect(() => assertSameCluster(doc, { name: 'demo', region: 'us-west-2', arn: 'arn:aws:eks:us-west-2:444455556666:cluster/demo' })).toThrow(
      /of cluster arn:aws:eks:us-west-2:111122223333:cluster\/demo, not of arn:aws:eks:us-west-2:444455556666:cluster\/demo; refusing/,
    );
  });
});
