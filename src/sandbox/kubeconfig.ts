/** Kubeconfig files that point the real kubectl at the sandbox's API server. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/** Writes a kubeconfig with one cluster, context and user for a plain-http server (kubectl then sends no credentials). */
export function writeKubeconfig(path: string, options: { server: string; contextName: string }): void {
  const name = options.contextName;
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: options.server } }],
    contexts: [{ name, context: { cluster: name, user: name } }],
    'current-context': name,
    users: [{ name, user: {} }],
    preferences: {},
  };
  mkdirSync(dirname(path), { recursive: true });
  // kubectl warns about group- or world-readable kubeconfigs on some platforms.
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
