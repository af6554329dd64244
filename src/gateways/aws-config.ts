/** Client settings shared by the EKS and IAM gateways. */

/** Where and as whom to call AWS. Endpoints and credentials otherwise come from the SDK's own chain. */
export interface AwsSettings {
  region: string;
  profile?: string;
  /** Explicit endpoints (the sandbox); otherwise AWS_ENDPOINT_URL_EKS / _IAM / AWS_ENDPOINT_URL apply. */
  eksEndpoint?: string;
  iamEndpoint?: string;
  /** Static credentials (the sandbox only). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
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
  const { EKSClient } = await import('@aws-sdk/client-eks');
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
