/** Builds kubeconfig connections without loading the kubeconfig reader (and its YAML parser). */
import type { KubeConnection } from './kubeconfig.js';

/** A connection to `server` with nothing else set but `set` (a cluster reached from DescribeCluster, a test). */
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
