/**
 * `abortable` (src/gateways/aws-config.ts): the fleet's shared EKS and IAM clients end every call in flight when
 * the run's signal aborts, and a call that answered leaves nothing behind on the client. Against a loopback
 * server that holds the requests it is told to hold (no clock: the test waits until the server has them).
 */
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortable, clientConfig } from '../src/gateways/aws-config.js';

/** An EKS stand-in: answers DescribeCluster of `answered`, holds every other request until the client goes away. */
function holdingServer() {
  const held: Array<{ req: IncomingMessage; closed: Promise<void> }> = [];
  const waiters: Array<() => void> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    if (req.url?.endsWith('/clusters/answered')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ cluster: { name: 'answered', version: '1.31' } }));
      return;
    }
    held.push({ req, closed: new Promise((resolve) => res.once('close', () => resolve())) });
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    server,
    held,
    /** Resolves once `n` requests are held. */
    async holding(n: number): Promise<void> {
      while (held.length < n) await new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

describe('abortable SDK clients', () => {
  const stand = holdingServer();
  let endpoint = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => stand.server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(stand.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    stand.server.closeAllConnections();
    await new Promise((resolve) => stand.server.close(resolve));
  });

  const client = (signal: AbortSignal) =>
    abortable(
      new EKSClient({ ...clientConfig({ region: 'us-west-2', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'test' }, maxAttempts: 1 }, endpoint) }),
      signal,
    );

  it('answers calls as usual while the signal has not aborted, many in a row on one client', async () => {
    const run = new AbortController();
    const eks = client(run.signal);
    for (let i = 0; i < 20; i++) {
      const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'answered' }));
      expect(cluster?.name).toBe('answered');
    }
    run.abort('done');
  });

  it('rejects every call in flight with the reason when the signal aborts, closes their connections, and refuses new calls', async () => {
    const run = new AbortController();
    const eks = client(run.signal);
    const calls = ['a', 'b', 'c'].map((name) => eks.send(new DescribeClusterCommand({ name })));
    for (const call of calls) call.catch(() => undefined);
    await stand.holding(3);
    run.abort('The fleet run ended.');
    for (const call of calls) await expect(call).rejects.toMatchObject({ name: 'AbortError', message: 'The fleet run ended.' });
    // The client was destroyed: the server sees each held request's connection go.
    await Promise.all(stand.held.slice(0, 3).map((h) => h.closed));
    await expect(eks.send(new DescribeClusterCommand({ name: 'answered' }))).rejects.toMatchObject({ name: 'AbortError' });
  });
});
