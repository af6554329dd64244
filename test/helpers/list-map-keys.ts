/**
 * The list-map items of a workload that lack a key field, named by path: env by name, containers and init
 * containers by name, ports by containerPort, volumes by name, volumeMounts by mountPath (the
 * `x-kubernetes-list-map-keys` of the Kubernetes API). A real API server never keeps such an item.
 */
import type { KubeObject } from '../../src/decide/manifests.js';

type Json = Record<string, unknown>;
const items = (value: unknown): Json[] => (Array.isArray(value) ? (value as Json[]) : []);

/** `spec.template.spec.containers[0].env[22] has no name`, one line per item without its key. */
export function itemsWithoutKeys(obj: KubeObject): string[] {
  const out: string[] = [];
  const template = ((obj.spec as Json | undefined)?.template as Json | undefined)?.spec as Json | undefined;
  const spec = template ?? (obj.spec as Json | undefined) ?? {};
  const base = template ? 'spec.template.spec' : 'spec';
  const check = (list: Json[], at: string, key: string): void =>
    list.forEach((item, i) => {
      if (item[key] === undefined || item[key] === '') out.push(`${at}[${i}] has no ${key}`);
    });
  check(items(spec.volumes), `${base}.volumes`, 'name');
  for (const field of ['containers', 'initContainers']) {
    items(spec[field]).forEach((c, i) => {
      const at = `${base}.${field}[${i}]`;
      if (!c.name) out.push(`${at} has no name`);
      check(items(c.env), `${at}.env`, 'name');
      check(items(c.ports), `${at}.ports`, 'containerPort');
      check(items(c.volumeMounts), `${at}.volumeMounts`, 'mountPath');
    });
  }
  return out;
}
