/**
 * What `vpccni sandbox serve` tells its clients: the first stdout line (schemas/sandbox-serve.schema.json)
 * and the hint on stderr. A multi-cluster sandbox adds every cluster and the credentials of each account
 * (docs/sandbox-fleet.md).
 */
import type { RunningSandbox } from './index.js';

/** The first line `sandbox serve` prints, as an object. */
export function serveLine(sandbox: RunningSandbox): Record<string, unknown> {
  return {
    eksEndpoint: sandbox.eksEndpoint,
    iamEndpoint: sandbox.iamEndpoint,
    kubeEndpoint: sandbox.kubeEndpoint,
    kubeconfig: sandbox.kubeconfig,
    context: sandbox.contextName,
    cluster: sandbox.cluster,
    region: sandbox.region,
    scenario: sandbox.scenario.name,
    stsEndpoint: sandbox.stsEndpoint,
    regions: sandbox.regions,
    clusters: sandbox.clusters.map((c) => ({
      cluster: c.cluster,
      region: c.region,
      account: c.account,
      kubernetesVersion: c.kubernetesVersion,
      kubeEndpoint: c.kubeEndpoint,
      context: c.contextName,
    })),
    accounts: sandbox.accounts.map((a) => ({
      account: a.id,
      accessKeyId: a.accessKeyId,
      secretAccessKey: a.secretAccessKey,
      denyAccess: a.denyAccess,
    })),
  };
}

/** The stderr hint: how to point the AWS CLI, kubectl and vpccni at the sandbox. */
export function serveHint(sandbox: RunningSandbox): string {
  if (sandbox.multi) {
    return [
      `Sandbox "${sandbox.scenario.name}" is serving ${sandbox.clusters.length} clusters in ${sandbox.regions.join(', ')}; EKS routes by AWS_REGION and the access key's account:`,
      ...sandbox.accounts.map(
        (a) => `  account ${a.id}${a.denyAccess ? ' (denies access)' : ''}: AWS_ACCESS_KEY_ID=${a.accessKeyId} AWS_SECRET_ACCESS_KEY=${a.secretAccessKey}`,
      ),
      `  export AWS_ENDPOINT_URL_EKS=${sandbox.eksEndpoint} AWS_ENDPOINT_URL_IAM=${sandbox.iamEndpoint} AWS_ENDPOINT_URL_STS=${sandbox.stsEndpoint}`,
      `  export KUBECONFIG=${sandbox.kubeconfig}   # one context per cluster`,
      'Press Ctrl-C to stop.',
    ].join('\n');
  }
  return [
    `Sandbox "${sandbox.scenario.name}" is serving cluster ${sandbox.cluster} (${sandbox.region}). Try:`,
    `  export AWS_ENDPOINT_URL_EKS=${sandbox.eksEndpoint} AWS_ENDPOINT_URL_IAM=${sandbox.iamEndpoint}`,
    `  export AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox AWS_REGION=${sandbox.region}`,
    `  export KUBECONFIG=${sandbox.kubeconfig}`,
    `  vpccni status`,
    'Press Ctrl-C to stop.',
  ].join('\n');
}
