/**
 * The in-process client reads what the gather stage asks with kubectl's words: `kind [name] -n ns`, and
 * `kind --all-namespaces -l selector` (the prometheus-adapter read, which it used to refuse, leaving the
 * advisory's fact unread on every run of a v1.12–v1.13 add-on).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createKubeApiGateway } from '../src/gateways/kube-api.js';
import { tokenSource } from '../src/gateways/kube-auth.js';
import { createKubeHttp } from '../src/gateways/kube-http.js';
import { resolveKubeContext } from '../src/gateways/kubeconfig.js';
import { sandboxesClosedAfterEach } from './helpers/in-process-runtime.js';

const sandbox = sandboxesClosedAfterEach();
const clients: Array<{ close(): void }> = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

async function client() {
  const sb = await sandbox('default');
  const connection = resolveKubeContext({ kubeconfig: sb.kubeconfig, context: sb.contextName })!.connection!;
  const http = createKubeHttp(connection, tokenSource(connection));
  clients.push(http);
  return { sb, kube: createKubeApiGateway(http) };
}

describe('getJson over the API', () => {
  it('lists across namespaces with a label selector, and in one namespace', async () => {
    const { sb, kube } = await client();
    const adapters = (await kube.getJson(['deployments.v1.apps', '--all-namespaces', '-l', 'app.kubernetes.io/name=prometheus-adapter'])) as unknown as { items: unknown[] };
    expect(adapters.items).toEqual([]);
    const daemonSets = (await kube.getJson(['daemonsets.v1.apps', '-n', 'kube-system'])) as unknown as { items: Array<{ metadata: { name: string } }> };
    expect(daemonSets.items.map((d) => d.metadata.name)).toContain('aws-node');
    const paths = sb.log.entries.filter((e) => e.service === 'kube').map((e) => e.path);
    expect(paths).toContain('/apis/apps/v1/deployments?labelSelector=app.kubernetes.io%2Fname%3Dprometheus-adapter');
    expect(paths).toContain('/apis/apps/v1/namespaces/kube-system/daemonsets');
  });

  it('refuses, before any request, what it does not know', async () => {
    const { sb, kube } = await client();
    await expect(kube.getJson(['deployments.v1.apps', '--watch'])).rejects.toThrow(/does not read/);
    await expect(kube.getJson(['deployments.v1.apps', 'one', '--all-namespaces'])).rejects.toThrow(/does not read/);
    expect(sb.log.entries.filter((e) => e.service === 'kube')).toEqual([]);
  });
});
