/**
 * Starts `vpccni sandbox serve` as a child process, the way a user would, and gives the environment in which
 * vpccni, kubectl and the AWS CLI all talk to it.
 */
import { execa, type ResultPromise } from 'execa';
import { createInterface } from 'node:readline';
import { BIN, isolatedEnv, ROOT } from './cli.js';

/** The first line `sandbox serve` prints. */
export interface ServeInfo {
  eksEndpoint: string;
  iamEndpoint: string;
  kubeEndpoint: string;
  kubeconfig: string;
  context: string;
  cluster: string;
  region: string;
  scenario: string;
}

/** A running sandbox server. */
export interface Served {
  info: ServeInfo;
  /** Environment for the CLI under test: endpoints, dummy credentials, the sandbox kubeconfig. */
  env: Record<string, string | undefined>;
  /** Global flags naming the cluster explicitly. */
  flags: string[];
  stop(): Promise<void>;
}

/** Starts the sandbox server for a scenario (and extra `serve` flags); resolves once it is listening. */
export async function serve(scenario = 'default', extra: string[] = []): Promise<Served> {
  const baseEnv = isolatedEnv();
  const child: ResultPromise = execa('node', [BIN, 'sandbox', 'serve', scenario, ...extra], {
    cwd: ROOT,
    env: baseEnv,
    reject: false,
    stdin: 'ignore',
    buffer: false,
  });
  const lines = createInterface({ input: child.stdout! });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sandbox serve printed nothing within 150 s')), 150_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    void child.then((r) => reject(new Error(`sandbox serve exited early (${r.exitCode}): ${String(r.stderr ?? '')}`)));
  });
  const info = JSON.parse(first) as ServeInfo;
  const env = {
    ...baseEnv,
    AWS_ENDPOINT_URL_EKS: info.eksEndpoint,
    AWS_ENDPOINT_URL_IAM: info.iamEndpoint,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: info.region,
    AWS_DEFAULT_REGION: info.region,
    KUBECONFIG: info.kubeconfig,
  };
  return {
    info,
    env,
    flags: ['--cluster', info.cluster, '--region', info.region],
    async stop() {
      child.kill('SIGINT');
      await child;
    },
  };
}
