/**
 * The sandbox's deterministic faults against the real AWS CLI's own retries: a request the sandbox just
 * failed goes through on its retry (as on a real service, where no rate below one fails the same request
 * every time), and a rate of one fails every attempt. The count decides which call is hit, never the clock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { aws } from './helpers/aws-cli.js';

const running: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function start(faults: { serverErrorRate: number }): Promise<RunningSandbox> {
  const sb = await startSandbox({ name: 'fault-retry', sandbox: { faults } });
  running.push(sb);
  return sb;
}

const describeCluster = (sb: RunningSandbox, maxAttempts: number) =>
  aws(sb.eksEndpoint, ['eks', 'describe-cluster', '--name', 'demo'], { region: sb.region, maxAttempts });
const statuses = (sb: RunningSandbox) => sb.log.entries.filter((e) => e.operation === 'DescribeCluster').map((e) => e.status);

describe('faults and the AWS CLI retries', () => {
  it('at a rate of 0.9 (nearly every call hit), the retry of the request just failed goes through', async () => {
    const sb = await start({ serverErrorRate: 0.9 });
    // The first call of the count is never hit; the second is, and so would be the third but for its retry.
    expect((await describeCluster(sb, 1)).exitCode).toBe(0);
    const retried = await describeCluster(sb, 2);
    expect(retried.exitCode, retried.stderr).toBe(0);
    expect(retried.json.cluster.name).toBe('demo');
    expect(statuses(sb)).toEqual([200, 500, 200]);
  });

  it('at a rate of one, every attempt fails, retries included', async () => {
    const sb = await start({ serverErrorRate: 1 });
    const failed = await describeCluster(sb, 2);
    expect(failed.exitCode).not.toBe(0);
    expect(failed.stderr).toMatch(/\(ServiceUnavailableException\) when calling the DescribeCluster operation \(reached max retries: 1\)/);
    expect(statuses(sb)).toEqual([500, 503]);
  });
});
