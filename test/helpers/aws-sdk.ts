/**
 * The real AWS SDK v3 clients against a sandbox, in the test's own process: for reads and set-up steps whose
 * wire format an AWS CLI call in the same file already proves, so that only the protocol costs a spawn.
 */
import { EKSClient } from '@aws-sdk/client-eks';
import { IAMClient } from '@aws-sdk/client-iam';
import { Agent } from 'node:http';

export interface SdkTarget {
  region: string;
  eksEndpoint?: string;
  iamEndpoint?: string;
}

export interface SdkKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

const SANDBOX_KEYS: SdkKeys = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'sandbox' };

/**
 * A new connection per request: with one attempt, a kept-alive socket the server closes after its idle timeout (a
 * test that waits on a CLI call or a gate for a few seconds) would fail the next call with ECONNRESET.
 */
const requestHandler = { httpAgent: new Agent({ keepAlive: false }) };

/** An EKS client of the sandbox's EKS endpoint: one attempt, so an error is the sandbox's answer. */
export function eksSdk(target: SdkTarget, keys: SdkKeys = SANDBOX_KEYS, region = target.region): EKSClient {
  return new EKSClient({ endpoint: target.eksEndpoint, region, credentials: keys, maxAttempts: 1, requestHandler });
}

/** An IAM client of the sandbox's IAM endpoint: one attempt. */
export function iamSdk(target: SdkTarget, keys: SdkKeys = SANDBOX_KEYS, region = target.region): IAMClient {
  return new IAMClient({ endpoint: target.iamEndpoint, region, credentials: keys, maxAttempts: 1, requestHandler });
}
