/** A kubeconfig connection for client tests: nothing set but what the test names. */
import type { KubeConnection } from '../../src/gateways/kubeconfig.js';

export function connectionTo(server: string, set: Partial<KubeConnection> = {}): KubeConnection {
  return {
    server,
    ca: null,
    insecureSkipTlsVerify: false,
    tlsServerName: null,
    proxyUrl: null,
    clientCertificate: null,
    clientKey: null,
    token: null,
    tokenFile: null,
    basicAuth: null,
    exec: null,
    ...set,
  };
}
