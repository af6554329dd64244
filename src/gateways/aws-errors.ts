/** Turns AWS SDK errors into our typed errors with a sentence that says what to do next. */
import { UnreachableError, VpccniError } from '../errors.js';

/** An AWS call that EKS or IAM answered with an error we did not expect; `code` is the AWS error name. */
export class AwsCallError extends UnreachableError {
  readonly code: string;
  readonly operation: string;
  constructor(message: string, code: string, operation: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.operation = operation;
  }
}

interface SdkErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** The AWS error name of an SDK error (`ResourceNotFoundException`, `NoSuchEntity`, …). */
export function awsErrorCode(error: unknown): string {
  const e = error as SdkErrorLike;
  return e?.name ?? e?.code ?? 'Error';
}

/** Wraps an SDK error of `operation` into an AwsCallError (exit 3) with advice for the common causes. */
export function translateAwsError(error: unknown, operation: string, what: string): VpccniError {
  if (error instanceof VpccniError) return error;
  const e = error as SdkErrorLike;
  const code = awsErrorCode(error);
  const detail = (e?.message ?? String(error)).replace(/\s+/g, ' ').trim();
  let advice: string;
  if (code === 'CredentialsProviderError' || /credential/i.test(detail)) {
    advice = 'no AWS credentials were found; set AWS_PROFILE (or --profile) or run `aws configure`.';
  } else if (code === 'AccessDeniedException' || code === 'AccessDenied' || code === 'UnrecognizedClientException') {
    advice = `access was denied (${detail}); check the IAM permissions of your credentials.`;
  } else if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|socket hang up|ECONNRESET/.test(`${code} ${detail}`)) {
    advice = `the endpoint could not be reached (${detail}); check your network, --region and AWS_ENDPOINT_URL settings.`;
  } else if (/Region is missing/i.test(detail)) {
    advice = 'no AWS region is set; pass --region or set AWS_REGION.';
  } else {
    advice = `${code}: ${detail}`;
  }
  return new AwsCallError(`Could not ${what}: ${advice}`, code, operation, { cause: error });
}
