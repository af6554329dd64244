/** Kubeconfig files that point the real kubectl at the sandbox's API server. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** How kubectl authenticates: a bearer token, an `aws eks get-token` exec plugin, or nothing (plain HTTP tests). */
export type KubeconfigUser =
  | { token: string }
  | { exec: { cluster: string; region: string; env: Record<string, string> } }
  | Record<string, never>;

/**
 * Writes a kubeconfig with one cluster, context and user named `contextName`; with `caData` (base64 PEM) the
 * cluster carries `certificate-authority-data` as `aws eks update-kubeconfig` writes it.
 */
export function writeKubeconfig(path: string, options: { server: string; contextName: string; caData?: string; user?: KubeconfigUser }): void {
  const name = options.contextName;
  const user = options.user ?? {};
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: options.server, ...(options.caData ? { 'certificate-authority-data': options.caData } : {}) } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    users: [
      {
        name,
        user:
          'token' in user
            ? { token: user.token }
            : 'exec' in user
              ? {
                  exec: {
                    apiVersion: 'client.authentication.k8s.io/v1beta1',
                    // What `aws eks update-kubeconfig` writes; get-token presigns locally, with no network call.
                    command: 'aws',
                    args: ['--region', user.exec.region, 'eks', 'get-token', '--cluster-name', user.exec.cluster, '--output', 'json'],
                    env: Object.entries(user.exec.env).map(([envName, value]) => ({ name: envName, value })),
                    interactiveMode: 'IfAvailable',
                    provideClusterInfo: false,
                  },
                }
              : {},
      },
    ],
    preferences: {},
  };
  mkdirSync(dirname(path), { recursive: true });
  // kubectl warns about group- or world-readable kubeconfigs on some platforms. JSON is YAML: kubectl and every
  // kubeconfig reader take it, and the sandbox's start-up need not load a YAML library to write it.
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** Writes a kubeconfig with one cluster, context and user per entry; the first is the current context. */
export function writeMultiKubeconfig(path: string, entries: Array<{ server: string; contextName: string; caData?: string; token?: string }>): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: entries.map((e) => ({
      name: e.contextName,
      cluster: { server: e.server, ...(e.caData ? { 'certificate-authority-data': e.caData } : {}) },
    })),
    contexts: entries.map((e) => ({ name: e.contextName, context: { cluster: e.contextName, user: e.contextName } })),
    'current-context': entries[0]?.contextName ?? '',
    users: entries.map((e) => ({ name: e.contextName, user: e.token ? { token: e.token } : {} })),
    preferences: {},
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}
