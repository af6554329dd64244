/**
 * The kubeconfig read as kubectl reads it (the KUBECONFIG list merged, paths relative to their file, CA and
 * client certificate data or files, tokens, exec plugins), the exec plugin run once and reused until it
 * expires, and requests through a kubeconfig `proxy-url`.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenSource } from '../src/gateways/kube-auth.js';
import { createKubeHttp } from '../src/gateways/kube-http.js';
import { createKubeApiGateway } from '../src/gateways/kube-api.js';
import { resolveKubeContext, type KubeConnection } from '../src/gateways/kubeconfig.js';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { connectionTo } from './helpers/kube-connection.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'vpccni-kc-'));
}

describe('resolving a context', () => {
  it('merges the KUBECONFIG list (first file wins), and resolves files relative to the kubeconfig naming them', () => {
    const a = tempDir();
    const b = tempDir();
    writeFileSync(join(b, 'ca.crt'), PEM);
    writeFileSync(join(b, 'token'), 'from-file\n');
    writeFileSync(join(a, 'config'), stringify({ 'current-context': 'ctx', contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }] }));
    writeFileSync(
      join(b, 'config'),
      stringify({
        'current-context': 'ignored',
        clusters: [{ name: 'c', cluster: { server: 'https://k.example:6443', 'certificate-authority': 'ca.crt', 'proxy-url': 'http://proxy:3128', 'tls-server-name': 'kube' } }],
        users: [{ name: 'u', user: { tokenFile: 'token' } }],
        contexts: [{ name: 'ctx', context: { cluster: 'other' } }],
      }),
    );
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = [join(a, 'config'), join(b, 'config')].join(delimiter);
    try {
      const context = resolveKubeContext({});
      expect(context?.name).toBe('ctx');
      expect(context?.server).toBe('https://k.example:6443');
      expect(context?.connection).toMatchObject({ ca: PEM, proxyUrl: 'http://proxy:3128', tlsServerName: 'kube', tokenFile: join(b, 'token'), insecureSkipTlsVerify: false });
    } finally {
      if (saved === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = saved;
    }
  });

  it('decodes certificate-authority-data and client certificate data, and reads the exec plugin', () => {
    const dir = tempDir();
    const file = join(dir, 'config');
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    writeFileSync(
      file,
      stringify({
        'current-context': 'arn:aws:eks:us-west-2:111122223333:cluster/demo',
        clusters: [{ name: 'demo', cluster: { server: 'https://X.gr7.us-west-2.eks.amazonaws.com', 'certificate-authority-data': b64(PEM), 'insecure-skip-tls-verify': true } }],
        contexts: [{ name: 'arn:aws:eks:us-west-2:111122223333:cluster/demo', context: { cluster: 'demo', user: 'demo' } }],
        users: [
          {
            name: 'demo',
            user: {
              'client-certificate-data': b64('CERT'),
              'client-key-data': b64('KEY'),
              exec: { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'demo'], env: [{ name: 'AWS_PROFILE', value: 'p' }] },
            },
          },
        ],
      }),
    );
    const context = resolveKubeContext({ kubeconfig: file });
    expect(context?.eks).toEqual({ region: 'us-west-2', account: '111122223333', cluster: 'demo' });
    expect(context?.connection).toMatchObject({
      ca: PEM,
      insecureSkipTlsVerify: true,
      clientCertificate: 'CERT',
      clientKey: 'KEY',
      exec: { command: 'aws', args: ['eks', 'get-token', '--cluster-name', 'demo'], env: [{ name: 'AWS_PROFILE', value: 'p' }] },
    });
  });

  it('names the unreadable file a kubeconfig points at', () => {
    const dir = tempDir();
    const file = join(dir, 'config');
    writeFileSync(
      file,
      stringify({
        'current-context': 'c',
        clusters: [{ name: 'c', cluster: { server: 'https://k', 'certificate-authority': 'missing.crt' } }],
        contexts: [{ name: 'c', context: { cluster: 'c' } }],
      }),
    );
    expect(() => resolveKubeContext({ kubeconfig: file })).toThrow(/certificate authority .*missing\.crt .*cannot be read/);
  });
});

/** A connection with an exec plugin that counts its runs and says its token expires in `ttlMs`. */
function countingConnection(ttlMs: number): { connection: KubeConnection; runs: () => number } {
  const dir = tempDir();
  const count = join(dir, 'runs');
  const command = join(dir, 'plugin.mjs');
  writeFileSync(
    command,
    `#!${process.execPath}\nimport { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(count)}, 'x\\n');\n` +
      `process.stdout.write(JSON.stringify({ kind: 'ExecCredential', status: { token: 't' + Date.now(), expirationTimestamp: new Date(${Date.now() + ttlMs}).toISOString() } }));\n`,
  );
  chmodSync(command, 0o755);
  return {
    connection: connectionTo('http://127.0.0.1:1', {
      exec: { command, args: [], env: [], apiVersion: 'client.authentication.k8s.io/v1beta1', provideClusterInfo: false },
    }),
    runs: () => (existsSync(count) ? readFileSync(count, 'utf8').split('\n').filter(Boolean).length : 0),
  };
}

describe('the exec plugin', () => {
  it('runs once for many concurrent requests and is reused until shortly before it expires', async () => {
    const { connection, runs } = countingConnection(10 * 60_000);
    let now = Date.now();
    const tokens = tokenSource(connection, {}, () => now);
    const headers = await Promise.all(Array.from({ length: 8 }, () => tokens.authorization()));
    expect(new Set(headers).size).toBe(1);
    expect(runs()).toBe(1);
    now += 9 * 60_000;
    await tokens.authorization();
    expect(runs()).toBe(1);
    now += 60_000 - 10_000; // within the last 30 s of its life
    await tokens.authorization();
    expect(runs()).toBe(2);
    expect(tokens.execRuns).toBe(2);
  });

  it('runs again after the server answers 401', async () => {
    const { connection, runs } = countingConnection(10 * 60_000);
    const tokens = tokenSource(connection);
    await tokens.authorization();
    expect(tokens.invalidate()).toBe(true);
    await tokens.authorization();
    expect(runs()).toBe(2);
  });
});

describe('proxy-url', () => {
  let sb: RunningSandbox;
  let proxy: Server;
  const tunnels: string[] = [];
  beforeAll(async () => {
    sb = await startSandbox('default');
    proxy = createServer();
    proxy.on('connect', (req, client, head) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = netConnect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await sb.close();
  });

  it('tunnels every request through the proxy with CONNECT', async () => {
    const { port } = proxy.address() as AddressInfo;
    const connection: KubeConnection = {
      ...countingConnection(60_000).connection,
      server: sb.kubeEndpoint,
      exec: null,
      token: sb.kubeToken,
      ca: Buffer.from(sb.caData, 'base64').toString('utf8'),
      proxyUrl: `http://127.0.0.1:${port}`,
    };
    const http = createKubeHttp(connection, tokenSource(connection));
    try {
      const kube = createKubeApiGateway(http);
      const objects = await kube.readClusterObjects();
      expect(objects.daemonSet?.metadata.name).toBe('aws-node');
      expect(tunnels.length).toBeGreaterThan(0);
      expect(new Set(tunnels)).toEqual(new Set([new URL(sb.kubeEndpoint).host]));
    } finally {
      http.close();
    }
  });
});
