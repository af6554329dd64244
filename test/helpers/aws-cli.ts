/**
 * The real AWS CLI v1 against a sandbox endpoint, with the credentials and region given (nothing ambient).
 *
 * Where `aws` on the PATH is a pyenv shim (a bash script that runs pyenv, which then runs Python), every call
 * pays for pyenv too: about twice the cost of the CLI itself. `awsCommand()` resolves the shim once per process
 * to the script it runs (`pyenv which aws`), the same AWS CLI; without pyenv it is plain `aws`.
 */
import { dirname, isAbsolute } from 'node:path';
import { execa, execaSync } from 'execa';
import { isolatedEnv } from './cli.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let resolved: string | undefined;

/** The AWS CLI to spawn: the script behind a pyenv shim when there is one, else `aws`. Resolved once. */
export function awsCommand(): string {
  if (resolved === undefined) {
    let path: string;
    try {
      const which = execaSync('pyenv', ['which', 'aws'], { reject: false, timeout: 30_000 });
      path = which.exitCode === 0 ? String(which.stdout).trim() : '';
    } catch {
      path = ''; // no pyenv on this machine
    }
    resolved = path && isAbsolute(path) ? path : 'aws';
  }
  return resolved;
}

/**
 * A PATH that finds `aws` without the shim, for a child that runs `aws` by name itself (kubectl's exec
 * credential plugin `aws eks get-token`): the resolved script's directory first, then the PATH as it was.
 */
export function pathWithAws(path = process.env.PATH ?? ''): string {
  const command = awsCommand();
  return isAbsolute(command) ? `${dirname(command)}:${path}` : path;
}

export interface AwsResult {
  exitCode: number;
  json: Json;
  stdout: string;
  stderr: string;
}

/** Runs `aws <service> …` against `endpoint`; one attempt unless `maxAttempts` says more (standard retries), JSON output. */
export async function aws(
  endpoint: string,
  args: string[],
  env: { region: string; accessKeyId?: string; secretAccessKey?: string; sessionToken?: string; kubeconfig?: string; maxAttempts?: number },
): Promise<AwsResult> {
  const result = await execa(awsCommand(), [...args, '--endpoint-url', endpoint, '--output', 'json'], {
    reject: false,
    env: isolatedEnv({
      AWS_DEFAULT_REGION: env.region,
      AWS_ACCESS_KEY_ID: env.accessKeyId ?? 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: env.secretAccessKey ?? 'sandbox',
      AWS_SESSION_TOKEN: env.sessionToken,
      AWS_MAX_ATTEMPTS: String(env.maxAttempts ?? 1),
      AWS_RETRY_MODE: 'standard',
      AWS_PAGER: '',
    }),
  });
  const stdout = String(result.stdout ?? '');
  return { exitCode: result.exitCode ?? -1, json: stdout.trim() ? (JSON.parse(stdout) as Json) : {}, stdout, stderr: String(result.stderr ?? '') };
}
