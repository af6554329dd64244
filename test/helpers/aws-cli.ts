/** The real AWS CLI v1 against a sandbox endpoint, with the credentials and region given (nothing ambient). */
import { execa } from 'execa';
import { isolatedEnv } from './cli.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface AwsResult {
  exitCode: number;
  json: Json;
  stderr: string;
}

/** Runs `aws <service> …` against `endpoint`; one attempt, JSON output. */
export async function aws(
  endpoint: string,
  args: string[],
  env: { region: string; accessKeyId?: string; secretAccessKey?: string; sessionToken?: string; kubeconfig?: string },
): Promise<AwsResult> {
  const result = await execa('aws', [...args, '--endpoint-url', endpoint, '--output', 'json'], {
    reject: false,
    env: isolatedEnv({
      AWS_DEFAULT_REGION: env.region,
      AWS_ACCESS_KEY_ID: env.accessKeyId ?? 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: env.secretAccessKey ?? 'sandbox',
      AWS_SESSION_TOKEN: env.sessionToken,
      AWS_MAX_ATTEMPTS: '1',
      AWS_RETRY_MODE: 'standard',
      AWS_PAGER: '',
    }),
  });
  const stdout = String(result.stdout ?? '');
  return { exitCode: result.exitCode ?? -1, json: stdout.trim() ? (JSON.parse(stdout) as Json) : {}, stderr: String(result.stderr ?? '') };
}

