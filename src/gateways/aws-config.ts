/** Client settings shared by the EKS and IAM gateways. */
import { eksSdk } from './sdk-modules.js';

/** Where and as whom to call AWS. Endpoints and credentials otherwise come from the SDK's own chain. */
export interface AwsSettings {
  region: string;
  profile?: string;
  /** Explicit endpoints (the sandbox); otherwise AWS_ENDPOINT_URL_EKS / _IAM / AWS_ENDPOINT_URL apply. */
  eksEndpoint?: string;
  iamEndpoint?: string;
  /** Static credentials (the sandbox), or a provider of them (a fleet's assumed role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | (() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>);
  /** Ends every call of the clients at once, retries included (a fleet's per-cluster timeout). */
  abortSignal?: AbortSignal;
  /** SDK clients to use instead of new ones (a fleet shares one per account and region); typed by the gateways. */
  clients?: { eks?: unknown; iam?: unknown };
  /** Max attempts of the SDK's standard retry strategy (default 3). */
  maxAttempts?: number;
}

/** The client config both SDK clients take. */
export function clientConfig(settings: AwsSettings, endpoint: string | undefined): Record<string, unknown> {
  return {
    region: settings.region,
    ...(settings.profile ? { profile: settings.profile } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    retryMode: 'standard',
    maxAttempts: settings.maxAttempts ?? Number(process.env.AWS_MAX_ATTEMPTS ?? 3),
  };
}

/**
 * The region the SDK's chain resolves (AWS_REGION, the profile's `region`), or undefined when it has none,
 * so that the caller can fall back to the region of an EKS kube context ARN.
 */
export async function sdkRegion(profile?: string): Promise<string | undefined> {
  // The chain's first source, read without loading the SDK, so that the kubectl reads can start first.
  if (!profile && process.env.AWS_REGION) return process.env.AWS_REGION;
  const { EKSClient } = await eksSdk();
  const client = new EKSClient(profile ? { profile } : {});
  try {
    const region = await client.config.region();
    return region || undefined;
  } catch {
    return undefined;
  } finally {
    client.destroy();
  }
}

/** The one part of an SDK client `abortable` touches. */
interface AbortableClient {
  middlewareStack: {
    add(middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>, options: Record<string, unknown>): void;
  };
  destroy(): void;
}

/**
 * Makes every call of `client` end when `signal` aborts: the call rejects at once (outside the retries), no
 * further attempt starts, and the client's sockets are closed, so that nothing lingers after a timeout.
 */
export function abortable<C>(client: C, signal: AbortSignal | undefined): C {
  if (!signal) return client;
  const c = client as unknown as AbortableClient;
  const aborted = () => Object.assign(new Error(String(signal.reason ?? 'aborted')), { name: 'AbortError' });
  // The calls in flight, each rejected when the signal aborts. Not a race against one never-settling promise
  // per client: each race would leave a reaction on it, holding every answer of a long-lived (fleet) client.
  const inFlight = new Set<(error: Error) => void>();
  signal.addEventListener(
    'abort',
    () => {
      for (const reject of inFlight) reject(aborted());
      inFlight.clear();
    },
    { once: true },
  );
  signal.addEventListener('abort', () => c.destroy(), { once: true });
  c.middlewareStack.add(
    (next) => (args) => {
      if (signal.aborted) return Promise.reject(aborted());
      return new Promise((resolve, reject) => {
        inFlight.add(reject);
        next(args)
          .then(resolve, reject)
          .finally(() => inFlight.delete(reject));
      });
    },
    { step: 'initialize', name: 'vpccniAbortWhole', priority: 'high' },
  );
  c.middlewareStack.add(
    (next) => (args) => (signal.aborted ? Promise.reject(aborted()) : next(args)),
    { step: 'finalizeRequest', name: 'vpccniAbortAttempt', priority: 'low' },
  );
  return client;
}
