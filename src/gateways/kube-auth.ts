/**
 * The bearer token of a kube context, as kubectl would send it: a static token, a token file, or an exec
 * plugin run at most once per process and reused until its expirationTimestamp. An EKS exec plugin
 * (`aws eks get-token`, `aws-iam-authenticator token`) is answered in-process with the SDK's credentials.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { UnreachableError, UsageError } from '../errors.js';
import { eksTokenRequest, makeEksToken, sdkCredentials, type AwsCredentials, type BearerToken } from './eks-token.js';
import type { ExecPlugin, KubeConnection } from './kubeconfig.js';

/** Hands out the Authorization header value, refreshing it when it expires or the server says 401. */
export interface TokenSource {
  /** The header value (`Bearer …` or `Basic …`), or null for none. */
  authorization(): Promise<string | null>;
  /** Forgets a cached token (after a 401); true when a new one may help. */
  invalidate(): boolean;
  /** How many exec plugins were started (for tests and benchmarks). */
  readonly execRuns: number;
  /**
   * Starts making the token now when that talks to no Kubernetes API (an EKS token, in-process or by
   * `aws eks get-token`), so that it is ready when the context check passes instead of after it; a failure
   * is left to the first real use, which tries again. Other plugins (an OIDC login, say) wait for the check.
   */
  prepare?(): void;
}

/** Where the in-process EKS token gets its credentials and region (the sandbox passes its own). */
export interface EksTokenSettings {
  region?: string;
  credentials?: () => Promise<AwsCredentials>;
  /** Run the exec plugin even for EKS (benchmarks compare both). */
  disableInProcess?: boolean;
}

const EARLY_REFRESH_MS = 30_000;

/** The token source of a connection. */
export function tokenSource(connection: KubeConnection, eks: EksTokenSettings = {}, now: () => number = Date.now): TokenSource {
  let cached: BearerToken | null = null;
  let pending: Promise<BearerToken> | null = null;
  let execRuns = 0;
  const exec = connection.exec;
  const eksRequest = exec && !eks.disableInProcess ? eksTokenRequest(exec) : null;
  const eksPlugin = exec ? eksTokenRequest(exec) !== null : false;

  async function fresh(): Promise<BearerToken> {
    if (eksRequest) {
      const region = eksRequest.region ?? eks.region;
      if (!region) throw new UsageError('The kube context runs `aws eks get-token` without --region and no AWS region is set; pass --region.');
      const credentials = eksRequest.credentials ?? (eks.credentials ? await eks.credentials() : await sdkCredentials(eksRequest.profile));
      return makeEksToken(eksRequest.cluster, region, credentials, new Date(now()));
    }
    execRuns += 1;
    return runExecPlugin(exec!, connection);
  }

  const source: TokenSource = {
    get execRuns() {
      return execRuns;
    },
    prepare() {
      if (!eksPlugin || connection.token || connection.tokenFile) return;
      source.authorization().catch(() => undefined);
    },
    async authorization() {
      if (connection.token) return `Bearer ${connection.token}`;
      if (connection.tokenFile) {
        // kubectl re-reads the file (projected service account tokens rotate).
        try {
          return `Bearer ${readFileSync(connection.tokenFile, 'utf8').trim()}`;
        } catch {
          throw new UsageError(`The token file ${connection.tokenFile} named by the kubeconfig cannot be read; fix the kubeconfig.`);
        }
      }
      if (!exec) {
        if (connection.basicAuth) {
          return `Basic ${Buffer.from(`${connection.basicAuth.username}:${connection.basicAuth.password}`).toString('base64')}`;
        }
        return null;
      }
      if (cached && (cached.expiresAt === null || cached.expiresAt - EARLY_REFRESH_MS > now())) return `Bearer ${cached.token}`;
      pending ??= fresh().finally(() => {
        pending = null;
      });
      cached = await pending;
      return `Bearer ${cached.token}`;
    },
    invalidate() {
      if (!exec) return false;
      cached = null;
      return true;
    },
  };
  return source;
}

/** Runs an exec credential plugin once, as kubectl does (KUBERNETES_EXEC_INFO, the plugin's env). */
export function runExecPlugin(exec: ExecPlugin, connection: KubeConnection): Promise<BearerToken> {
  const info = {
    apiVersion: exec.apiVersion,
    kind: 'ExecCredential',
    spec: {
      interactive: false,
      ...(exec.provideClusterInfo
        ? {
            cluster: {
              server: connection.server,
              ...(connection.ca ? { 'certificate-authority-data': Buffer.from(connection.ca).toString('base64') } : {}),
              ...(connection.insecureSkipTlsVerify ? { 'insecure-skip-tls-verify': true } : {}),
              ...(connection.proxyUrl ? { 'proxy-url': connection.proxyUrl } : {}),
            },
          }
        : {}),
    },
  };
  const env: NodeJS.ProcessEnv = { ...process.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  for (const e of exec.env) env[e.name] = e.value;
  return new Promise((resolve, reject) => {
    const child = spawn(exec.command, exec.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (error) => {
      const missing = (error as { code?: string }).code === 'ENOENT';
      reject(
        new UnreachableError(
          missing
            ? `The kubeconfig's credential plugin "${exec.command}" was not found on the PATH; install it or fix the kubeconfig's users[].user.exec.`
            : `The kubeconfig's credential plugin "${exec.command}" could not be run: ${error.message}`,
          { cause: error },
        ),
      );
    });
    child.on('close', (code) => {
      const stderr = Buffer.concat(err).toString('utf8').trim().split('\n')[0] ?? '';
      if (code !== 0) {
        reject(new UnreachableError(`The credential plugin "${exec.command}" failed (exit ${code}${stderr ? `: ${stderr}` : ''}); run it yourself to see why.`));
        return;
      }
      try {
        const doc = JSON.parse(Buffer.concat(out).toString('utf8')) as { status?: { token?: string; expirationTimestamp?: string } };
        const token = doc.status?.token;
        if (!token) throw new Error('no status.token');
        const expires = doc.status?.expirationTimestamp ? Date.parse(doc.status.expirationTimestamp) : NaN;
        resolve({ token, expiresAt: Number.isFinite(expires) ? expires : null });
      } catch {
        reject(new UnreachableError(`The credential plugin "${exec.command}" printed no ExecCredential with a token; run it yourself to see why.`));
      }
    });
  });
}
