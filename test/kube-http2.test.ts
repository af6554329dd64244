/**
 * The in-process Kubernetes client speaks HTTP/2 where the API server offers it (ALPN), as kubectl does: the
 * concurrent reads of one cluster share one TLS connection instead of a handshake each (the largest CPU cost
 * of reading a fleet). Against a server that speaks only HTTP/1.1 it falls back, the probe's connection
 * carrying the first request. A 401 is retried once with a new token; a connection that drops is a
 * connection failure (which reads retry). Servers on 127.0.0.1 with the sandbox's CA; no clock decides.
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { TokenSource } from '../src/gateways/kube-auth.js';
import { createKubeHttp, isConnectionFailure, type KubeHttp } from '../src/gateways/kube-http.js';
import { createH2Channel, h2Request } from '../src/gateways/kube-http2.js';
import type { KubeConnection } from '../src/gateways/kubeconfig.js';
import { clusterTls } from '../src/sandbox/kube-auth.js';
import { connectionTo } from './helpers/kube-connection.js';

type Handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

interface Running {
  url: string;
  /** TLS connections accepted, and the protocol of each request. */
  connections: number;
  protocols: string[];
  server: HttpsServer | Http2SecureServer;
}

const open: Array<{ server: Running; client?: KubeHttp }> = [];
afterEach(async () => {
  for (const { server, client } of open.splice(0)) {
    client?.close();
    await new Promise<void>((resolve) => server.server.close(() => resolve()));
  }
});

async function serve(http2: boolean, handler: Handler): Promise<Running> {
  const tls = clusterTls();
  const running: Running = { url: '', connections: 0, protocols: [], server: null as never };
  const onRequest: Handler = (req, res) => {
    running.protocols.push(req.httpVersion);
    handler(req, res);
  };
  const server = http2
    ? createSecureServer({ cert: tls.certPem, key: tls.keyPem, allowHTTP1: true }, onRequest)
    : createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, onRequest as (req: IncomingMessage, res: ServerResponse) => void);
  server.on('secureConnection', () => running.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  running.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  running.server = server;
  open.push({ server: running });
  return running;
}

function connection(server: string): KubeConnection {
  return connectionTo(server, { ca: clusterTls().caPem });
}

/** Tokens `t1`, `t2`, …: a new one after each invalidate. */
function tokens(): TokenSource & { issued: number } {
  let n = 1;
  return {
    issued: 1,
    execRuns: 0,
    authorization: () => Promise.resolve(`Bearer t${n}`),
    invalidate() {
      n += 1;
      this.issued = n;
      return true;
    },
  };
}

function client(server: Running, source: TokenSource = tokens()): KubeHttp {
  const http = createKubeHttp(connection(server.url), source);
  open.find((o) => o.server === server)!.client = http;
  return http;
}

// @types/node 22 gives HTTP/1.1 and HTTP/2 responses writeHead overloads that do not unify; both take (status, headers).
const echo: Handler = (req, res) => {
  (res as ServerResponse).writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ path: req.url, auth: req.headers.authorization ?? null }));
};

describe('the in-process Kubernetes client over HTTP/2', () => {
  it('sends concurrent requests on one TLS connection to a server that speaks HTTP/2', async () => {
    const server = await serve(true, echo);
    const http = client(server);
    const paths = ['/api/v1/nodes', '/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node', '/api/v1/namespaces/kube-system/configmaps/amazon-vpc-cni', '/apis/apps/v1/namespaces/kube-system/daemonsets', '/apis/crd.k8s.amazonaws.com/v1alpha1/eniconfigs', '/version?x=1'];
    const responses = await Promise.all(paths.map((path) => http.request({ method: 'GET', path })));
    expect(responses.map((r) => r.status)).toEqual(paths.map(() => 200));
    expect(responses.map((r) => (JSON.parse(r.text) as { path: string }).path)).toEqual(paths);
    expect(server.protocols).toEqual(paths.map(() => '2.0'));
    expect(server.connections).toBe(1);
    // A later request rides the same connection.
    expect((await http.request({ method: 'GET', path: '/version' })).status).toBe(200);
    expect(server.connections).toBe(1);
  });

  it('lets go of a closed connection at once: no timer of an ended request holds its session and TLS socket', async () => {
    const server = await serve(true, echo);
    const tls = { secureContext: createSecureContext({ ca: clusterTls().caPem }), rejectUnauthorized: true };
    const channel = createH2Channel(new URL(server.url), tls, 30_000);
    let session = await channel.session();
    const responses = await Promise.all(Array.from({ length: 5 }, (_, i) => h2Request(session!, `/version?i=${i}`, { method: 'GET', path: '' }, {}, 30_000)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const ref = new WeakRef(session!);
    session = null;
    channel.close();
    // Collected, not kept until the 30 s request timeout of each ended stream fires.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < 10 && ref.deref() !== undefined; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      gc();
    }
    expect(ref.deref()).toBeUndefined();
  });

  it('falls back to HTTP/1.1, the probe connection carrying the first request, no handshake wasted', async () => {
    const server = await serve(false, echo);
    const http = client(server);
    const first = await http.request({ method: 'GET', path: '/version' });
    expect(first.status).toBe(200);
    expect(server.connections).toBe(1);
    const more = await Promise.all([1, 2, 3].map(() => http.request({ method: 'GET', path: '/api/v1/nodes' })));
    expect(more.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(server.protocols.every((p) => p === '1.1')).toBe(true);
    expect(server.connections).toBeLessThanOrEqual(4);
  });

  it('asks again with a new token after a 401, on the same connection, and sends a body', async () => {
    const server = await serve(true, (req, res) => {
      if (req.headers.authorization !== 'Bearer t2') {
        (res as ServerResponse).writeHead(401, { 'Content-Type': 'application/json' });
        res.end('{"kind":"Status","code":401}');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        (res as ServerResponse).writeHead(201, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
      });
    });
    const source = tokens();
    const http = client(server, source);
    const response = await http.request({ method: 'PATCH', path: '/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node', body: '{"a":1}', contentType: 'application/merge-patch+json' });
    expect(response.status).toBe(201);
    expect(JSON.parse(response.text)).toEqual({ method: 'PATCH', type: 'application/merge-patch+json', body: '{"a":1}' });
    expect(source.issued).toBe(2);
    expect(server.connections).toBe(1);
  });

  it('turns a stream reset or a connection dropped under a request into a connection failure, and reconnects for the next', async () => {
    const drops: Array<(req: Http2ServerRequest) => void> = [(req) => req.stream.close(1), (req) => req.stream.session?.destroy()];
    const server = await serve(true, (req, res) => {
      const drop = drops.shift();
      if (drop) drop(req as Http2ServerRequest);
      else echo(req, res);
    });
    const http = client(server);
    for (let i = 0; i < 2; i++) {
      const failure = await http.request({ method: 'GET', path: '/version' }).then(
        () => null,
        (error: unknown) => error,
      );
      expect(isConnectionFailure(failure)).toBe(true);
    }
    expect((await http.request({ method: 'GET', path: '/version' })).status).toBe(200);
    expect(server.connections).toBe(2);
  });

  it('refuses a server whose certificate the CA does not vouch for', async () => {
    const server = await serve(true, echo);
    const http = createKubeHttp({ ...connection(server.url), ca: null }, tokens());
    open.find((o) => o.server === server)!.client = http;
    await expect(http.request({ method: 'GET', path: '/version' })).rejects.toThrow(/certificate/);
  });
});
