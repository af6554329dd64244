/**
 * HTTP/2 to a Kubernetes API server, as kubectl (client-go) speaks it: one TLS connection per server, the
 * requests of a read multiplexed on it, instead of one TLS handshake per concurrent HTTP/1.1 request (the
 * largest CPU cost of reading many clusters). Negotiated by ALPN; a server that answers `http/1.1` is
 * remembered, and the probe's connection carries the first request, so that nothing is spent twice.
 */
import { connect as http2Connect, constants, type ClientHttp2Session } from 'node:http2';
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { KubeRequest, KubeResponse } from './kube-http.js';

/** The HTTP/2 connection of one client, opened on first use and again after it closed. */
export interface H2Channel {
  /** The session to send on, or null when the server speaks only HTTP/1.1. Rejects when the server cannot be reached. */
  session(): Promise<ClientHttp2Session | null>;
  /** Once, after `session()` gave null: the probe's connection, for the first HTTP/1.1 request. */
  takeSocket(): TLSSocket | null;
  close(): void;
}

/** The error codes that mean the connection went away under a request (worth a retry for reads). */
export const H2_CONNECTION_CODES = [
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_ERROR',
];

export function createH2Channel(base: URL, tls: ConnectionOptions, timeoutMs: number): H2Channel {
  let current: Promise<ClientHttp2Session | null> | null = null;
  let http1Only = false;
  let probe: TLSSocket | null = null;
  let closed = false;
  const sessions = new Set<ClientHttp2Session>();

  function open(): Promise<ClientHttp2Session | null> {
    const opening = new Promise<ClientHttp2Session | null>((resolve, reject) => {
      const host = base.hostname.replace(/^\[|\]$/g, '');
      const servername = tls.servername ?? (isIP(host) ? undefined : host);
      const socket = tlsConnect({ ...tls, host, port: Number(base.port || 443), ALPNProtocols: ['h2', 'http/1.1'], ...(servername ? { servername } : {}) });
      socket.setTimeout(timeoutMs, () => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      socket.once('error', (error) => {
        if (current === opening) current = null;
        reject(error);
      });
      socket.once('secureConnect', () => {
        socket.setTimeout(0);
        if (socket.alpnProtocol !== 'h2') {
          http1Only = true;
          probe = socket;
          socket.unref();
          resolve(null);
          return;
        }
        const session = http2Connect(base.origin, { createConnection: () => socket });
        sessions.add(session);
        session.unref();
        const forget = () => {
          sessions.delete(session);
          if (current === opening) current = null;
        };
        session.on('error', forget);
        session.once('goaway', forget);
        session.once('close', forget);
        resolve(session);
      });
    });
    opening.catch(() => undefined);
    return opening;
  }

  return {
    session() {
      if (http1Only) return Promise.resolve(null);
      if (closed) return Promise.reject(Object.assign(new Error('the client was closed'), { code: 'ECONNABORTED' }));
      current ??= open();
      return current;
    },
    takeSocket() {
      const socket = probe;
      probe = null;
      socket?.ref();
      return socket;
    },
    close() {
      closed = true;
      probe?.destroy();
      probe = null;
      for (const session of sessions) session.destroy();
      sessions.clear();
      current = null;
    },
  };
}

/** One request on a session, read to the end; the session holds the process only while requests are open. */
export function h2Request(session: ClientHttp2Session, path: string, req: KubeRequest, headers: Record<string, string | number>, timeoutMs: number): Promise<KubeResponse> {
  return new Promise((resolve, reject) => {
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    let stream: ReturnType<ClientHttp2Session['request']>;
    try {
      stream = session.request({ ':method': req.method, ':path': path, ...lower }, { endStream: req.body === undefined });
    } catch (error) {
      reject(error);
      return;
    }
    openRequests.set(session, (openRequests.get(session) ?? 0) + 1);
    session.ref();
    let status = 0;
    let done = false;
    const chunks: Buffer[] = [];
    const settle = (fn: () => void) => {
      if (done) return;
      done = true;
      // Disarm the stream's timer: left armed, it keeps the ended stream, and through it the session, its TLS
      // socket and SecureContext, alive until it fires (a fleet run's every cluster, for the whole timeout).
      stream.setTimeout(0);
      fn();
    };
    stream.setTimeout(timeoutMs, () => {
      settle(() => reject(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
      stream.close(constants.NGHTTP2_CANCEL);
    });
    stream.on('response', (h) => {
      status = Number(h[':status'] ?? 0);
    });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const reset = () => Object.assign(new Error('the connection closed before the response ended'), { code: 'ECONNRESET' });
    stream.on('end', () => settle(() => (status === 0 || stream.rstCode ? reject(reset()) : resolve({ status, text: Buffer.concat(chunks).toString('utf8') }))));
    stream.on('error', (error) => settle(() => reject(error)));
    stream.on('close', () => {
      const left = (openRequests.get(session) ?? 1) - 1;
      openRequests.set(session, left);
      if (left === 0 && !session.destroyed) session.unref();
      settle(() => reject(reset()));
    });
    if (req.body !== undefined) stream.end(req.body);
  });
}

/** Requests open on each session: it holds the process only while one is. */
const openRequests = new WeakMap<ClientHttp2Session, number>();
