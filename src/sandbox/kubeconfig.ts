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

/** Writes a kubeconfig with one cluster, context and user per entry; the first is the current context. */
export function writeMultiKubeconfig(path: string, entries: Array<{ server: string; contextName: string }>): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: entries.map((e) => ({ name: e.contextName, cluster: { server: e.server } })),
    contexts: entries.map((e) => ({ name: e.contextName, context: { cluster: e.contextName, user: e.contextName } })),
    'current-context': entries[0]?.contextName ?? '',
    users: entries.map((e) => ({ name: e.contextName, user: {} })),
    preferences: {},
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, stringify(config), { mode: 0o600 });
}
