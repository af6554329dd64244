/**
 * Credentials from an EC2 instance role (IMDSv2), as a CI runner on EC2 or a bastion gets them: the built CLI
 * (the bundle, with Node's compile cache) takes them from an instance metadata service on loopback and
 * reads the sandbox with them. The SDK's metadata client is loaded by a dynamic import() inside the bundle,
 * which must work with the bundle's code cold and from the cache; a credential chain swallows a provider's
 * errors, so only a run that ends with the sandbox's answers proves it.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { onSandbox, parseJson, sandboxEnv, vpccni } from './helpers/cli.js';
import { sandboxesClosedAfterEach } from './helpers/in-process-runtime.js';

const sandboxOf = sandboxesClosedAfterEach();
let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/**
 * IMDSv2 as the EC2 user guide describes it: PUT /latest/api/token, then the role's name and its credentials
 * under /latest/meta-data/iam/security-credentials/, and the instance's region at
 * /latest/meta-data/placement/region, each with the token's header.
 */
async function metadataService(region: string): Promise<{ endpoint: string; seen: string[] }> {
  const seen: string[] = [];
  const TOKEN = 'AQAEAEx-instance-token';
  server = createServer((req: IncomingMessage, res) => {
    const tokenOk = req.headers['x-aws-ec2-metadata-token'] === TOKEN;
    seen.push(`${req.method} ${req.url}${tokenOk ? ' (token)' : ''}`);
    if (req.method === 'PUT' && req.url === '/latest/api/token' && req.headers['x-aws-ec2-metadata-token-ttl-seconds']) return res.end(TOKEN);
    if (!tokenOk) return res.writeHead(401).end();
    if (req.url === '/latest/meta-data/iam/security-credentials/') return res.end('ci-runner-role');
    if (req.url === '/latest/meta-data/placement/region') return res.end(region);
    if (req.url === '/latest/meta-data/iam/security-credentials/ci-runner-role') {
      const expiration = new Date(Date.now() + 6 * 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
      return res.end(
        JSON.stringify({ Code: 'Success', LastUpdated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), Type: 'AWS-HMAC', AccessKeyId: 'test', SecretAccessKey: 'test', Token: 'instance-session-token', Expiration: expiration }),
      );
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, seen };
}

describe('an EC2 instance role', () => {
  it('gives the built CLI its credentials through IMDSv2, and status reads the cluster with them', async () => {
    const sandbox = await sandboxOf('default');
    const imds = await metadataService(sandbox.region);
    const result = await onSandbox(sandbox, ['status', '--output', 'json'], {
      env: { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_EC2_METADATA_DISABLED: undefined, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint },
    });
    expect(result.stderr).toBe('');
    expect(parseJson<{ cluster: { name: string } }>(result).cluster.name).toBe('demo');
    expect(imds.seen).toEqual(
      expect.arrayContaining(['PUT /latest/api/token', 'GET /latest/meta-data/iam/security-credentials/ (token)', 'GET /latest/meta-data/iam/security-credentials/ci-runner-role (token)']),
    );
  });

  it('gives it the region too when nothing else names one, with the code cache cold and warm', async () => {
    // The SDK reads the instance's region with a dynamic import() of node:http inside the bundle, and its
    // region chain swallows errors: with the cache warm that import once failed, and the region silently
    // came from the kube context's ARN instead. So: the metadata service must be asked, both times.
    const sandbox = await sandboxOf('default');
    const imds = await metadataService(sandbox.region);
    const cache = mkdtempSync(join(tmpdir(), 'vpccni-imds-cache-'));
    const env = sandboxEnv(sandbox, {
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      AWS_EC2_METADATA_DISABLED: undefined,
      AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
      VPCCNI_CACHE_DIR: cache,
    });
    for (const cacheState of ['cold', 'warm']) {
      imds.seen.length = 0;
      const result = await vpccni(['--kubeconfig', sandbox.kubeconfig, '--context', sandbox.contextName, '--cluster', sandbox.cluster, 'status', '--output', 'json'], { env });
      expect(result.stderr, cacheState).toBe('');
      expect(parseJson<{ cluster: { region: string } }>(result).cluster.region).toBe(sandbox.region);
      expect(imds.seen, cacheState).toContain('GET /latest/meta-data/placement/region (token)');
      // The first run filled the cache the second one starts from.
      expect(readdirSync(join(cache, 'compile-cache')).length, cacheState).toBe(1);
    }
  });
});
