/**
 * A thin HTTP client for one Kubernetes API server over node:https: the kubeconfig's TLS settings (CA,
 * client certificate, insecure-skip-tls-verify, tls-server-name), an HTTP(S) `proxy-url` through CONNECT,
 * keep-alive connections, the bearer token of a TokenSource (refreshed once on 401), per-call timeouts.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, createSecureContext, type ConnectionOptions, type SecureContext } from 'node:tls';
import { UnreachableError, UsageError } from '../errors.js';
import type { TokenSource } from './kube-auth.js';
import { createH2Channel, H2_CONNECTION_CODES, h2Request } from './kube-http2.js';
import type { KubeConnection } from './kubeconfig.js';

/** A response read to the end. */
export interface KubeResponse {
  status: number;
  text: string;
}

/** One request. */
export interface KubeRequest {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  accept?: string;
  timeoutMs?: number;
}

/** The client. `stream` hands back the open response of a watch. */
export interface KubeHttp {
  request(req: KubeRequest): Promise<KubeResponse>;
  stream(req: KubeRequest): Promise<{ status: number; response: IncomingMessage; abort(): void }>;
  close(): void;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', ...H2_CONNECTION_CODES]);

/** True when an error means the server could not be reached (worth a retry for reads). */
export function isConnectionFailure(error: unknown): boolean {
  return error instanceof KubeConnectionError;
}

/** The server could not be reached. */
export class KubeConnectionError extends UnreachableError {}

/** Builds the client for a connection. */
export function createKubeHttp(connection: KubeConnection, tokens: TokenSource, options: { timeoutMs?: number } = {}): KubeHttp {
  let base: URL;
  try {
    base = new URL(connection.server);
  } catch {
    throw new UsageError(`The kube context's server "${connection.server}" is not a URL; fix the kubeconfig.`);
  }
  const secure = base.protocol === 'https:';
  const credentials = {
    ...(connection.ca ? { ca: connection.ca } : {}),
    ...(connection.clientCertificate ? { cert: connection.clientCertificate } : {}),
    ...(connection.clientKey ? { key: connection.clientKey } : {}),
  };
  const tls: ConnectionOptions = {
    ...(secure ? sharedSecureContext(credentials) : credentials),
    rejectUnauthorized: !connection.insecureSkipTlsVerify,
    ...(connection.tlsServerName ? { servername: connection.tlsServerName } : {}),
  };
  const agent = secure ? new HttpsAgent({ keepAlive: true, ...tls }) : new HttpAgent({ keepAlive: true });
  const proxy = connection.proxyUrl ? new URL(connection.proxyUrl) : null;
  if (proxy && proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new UsageError(`The kubeconfig's proxy-url scheme ${proxy.protocol} is not supported by the in-process client; use --kube-client kubectl.`);
  }
  if (proxy) installConnectProxy(agent, proxy, secure ? tls : null);
  const timeoutMs = options.timeoutMs ?? 30_000;
  // Requests go over HTTP/2 where the server speaks it (ALPN), as kubectl's do; watches and proxies keep HTTP/1.1.
  const h2 = secure && !proxy ? createH2Channel(base, tls, timeoutMs) : null;

  /** The request's URL under the server's base path. */
  const urlOf = (req: KubeRequest) => new URL(base.pathname.replace(/\/+$/, '') + req.path, base);

  /** The headers of a request, over either protocol. */
  const headersOf = (req: KubeRequest, authorization: string | null): Record<string, string | number> => ({
    Accept: req.accept ?? 'application/json',
    'User-Agent': 'vpccni',
    ...(authorization ? { Authorization: authorization } : {}),
    ...(req.body !== undefined ? { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(req.body) } : {}),
  });

  function open(req: KubeRequest, authorization: string | null, socket: Duplex | null = null): Promise<{ response: IncomingMessage; abort(): void }> {
    const url = urlOf(req);
    const headers: OutgoingHttpHeaders = headersOf(req, authorization);
    const send = secure ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const via = socket ? { createConnection: () => socket } : { agent };
      const r = send(url, { method: req.method, headers, ...via, ...(secure ? tls : {}) }, (response) => {
        resolve({ response, abort: () => r.destroy() });
      });
      r.setTimeout(req.timeoutMs ?? timeoutMs, () => r.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      r.on('error', (error: NodeJS.ErrnoException) => reject(translate(error, url)));
      r.end(req.body);
    });
  }

  async function withAuth(req: KubeRequest): Promise<{ response: IncomingMessage; abort(): void }> {
    let opened = await open(req, await tokens.authorization());
    if (opened.response.statusCode === 401 && tokens.invalidate()) {
      opened.response.resume();
      opened = await open(req, await tokens.authorization());
    }
    return opened;
  }

  /** One request read to the end: on the HTTP/2 session when there is one, else over HTTP/1.1. */
  async function exchange(req: KubeRequest, authorization: string | null): Promise<KubeResponse> {
    const url = urlOf(req);
    try {
      const session = h2 ? await h2.session() : null;
      if (session) return await h2Request(session, url.pathname + url.search, req, headersOf(req, authorization), req.timeoutMs ?? timeoutMs);
    } catch (error) {
      throw translate(error as NodeJS.ErrnoException, url);
    }
    const { response } = await open(req, authorization, h2?.takeSocket() ?? null);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response) chunks.push(chunk as Buffer);
    } catch (error) {
      throw translate(error as NodeJS.ErrnoException, url);
    }
    return { status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') };
  }

  return {
    async request(req) {
      let response = await exchange(req, await tokens.authorization());
      if (response.status === 401 && tokens.invalidate()) response = await exchange(req, await tokens.authorization());
      return response;
    },
    async stream(req) {
      const { response, abort } = await withAuth(req);
      return { status: response.statusCode ?? 0, response, abort };
    },
    close: () => {
      h2?.close();
      agent.destroy();
    },
  };
}

/**
 * The CA and client certificate parsed once into a SecureContext that every connection of this client
 * shares (given as `ca`/`cert`/`key`, each connection would parse them again: a fleet run's largest CPU cost
 * in TLS). Options Node cannot parse are passed on as they are, so that they fail where they always did.
 */
function sharedSecureContext(credentials: { ca?: string; cert?: string; key?: string }): { secureContext: SecureContext } | typeof credentials {
  if (!credentials.ca && !credentials.cert && !credentials.key) return credentials;
  try {
    return { secureContext: createSecureContext(credentials) };
  } catch {
    return credentials;
  }
}

function translate(error: NodeJS.ErrnoException, url: URL): Error {
  if (error instanceof UnreachableError) return error;
  const code = error.code ?? '';
  if (CONNECTION_CODES.has(code) || code === 'ECONNABORTED') {
    return new KubeConnectionError(
      `The Kubernetes API server ${url.host} could not be reached (${code}); check the kube context and your network.`,
      { cause: error },
    );
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) {
    return new UnreachableError(
      `The Kubernetes API server ${url.host} presented a certificate its kubeconfig's CA does not vouch for (${code}); run \`aws eks update-kubeconfig\` again or fix certificate-authority-data.`,
      { cause: error },
    );
  }
  return new UnreachableError(`The request to the Kubernetes API server ${url.host} failed: ${error.message}`, { cause: error });
}

/** Routes the agent's connections through an HTTP CONNECT proxy (kubeconfig `proxy-url`). */
function installConnectProxy(agent: HttpAgent | HttpsAgent, proxy: URL, tls: ConnectionOptions | null): void {
  const proxyAuth = proxy.username ? `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` : null;
  const target = agent as unknown as {
    createConnection: (options: { host?: string; port?: number | string; servername?: string }, callback: (error: Error | null, socket?: Duplex) => void) => void;
  };
  target.createConnection = (options, callback) => {
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? (tls ? 443 : 80));
    const send = proxy.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: `${host}:${port}`,
      headers: { Host: `${host}:${port}`, ...(proxyAuth ? { 'Proxy-Authorization': proxyAuth } : {}) },
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        callback(Object.assign(new Error(`proxy answered ${res.statusCode}`), { code: 'ECONNREFUSED' }));
        return;
      }
      if (!tls) return callback(null, socket);
      const servername = tls.servername ?? (isIP(host) ? undefined : host);
      const secured = tlsConnect({ ...tls, socket, ...(servername ? { servername } : {}) });
      secured.once('secureConnect', () => callback(null, secured));
      secured.once('error', (error) => callback(error));
    });
    req.on('error', (error) => callback(error));
    req.end();
  };
}
