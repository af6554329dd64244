/**
 * Probing the sandbox's Kubernetes API, which serves HTTPS with a CA of its own (src/sandbox/kube-auth.ts).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { parse } from 'yaml';

/**
 * GET /version (public: no token needed) over HTTPS trusting `ca`. Resolves the status, 'refused' for a refused
 * connection, or any other error's code (a TLS failure, say), so a test can tell "down" from "misconfigured".
 */
export function kubeVersionStatus(endpoint: string, ca: Buffer): Promise<number | string> {
  return new Promise((resolve) => {
    // No keep-alive agent: every probe is a new connection, as a client reconnecting after an outage makes.
    const req = request(`${endpoint}/version`, { ca, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' ? 'refused' : (error.code ?? String(error))));
    req.end();
  });
}

/** The cluster CA (PEM) of the first cluster in a kubeconfig file, as the sandbox writes it. */
export function caFromKubeconfig(file: string): Buffer {
  const config = parse(readFileSync(file, 'utf8')) as { clusters: Array<{ cluster: { 'certificate-authority-data': string } }> };
  return Buffer.from(config.clusters[0]!.cluster['certificate-authority-data'], 'base64');
}

/** One request to the sandbox's Kubernetes API with a bearer token: the status, the JSON body (or its text), the bytes and headers. */
export function kubeRequest(
  endpoint: string,
  ca: Buffer,
  token: string,
  method: string,
  path: string,
  body?: { contentType: string; text: string },
): Promise<{ status: number; body: unknown; raw: Buffer; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
    if (body) headers['Content-Type'] = body.contentType;
    const req = request(`${endpoint}${path}`, { method, ca, agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = raw.toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON: kept as text
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, raw, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(body?.text);
  });
}
