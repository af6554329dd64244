/**
 * The OpenAPI v3 documents of the sandbox's Kubernetes API, as kube-apiserver serves them (k8s.io/kube-openapi
 * handler3): `/openapi/v3`, an index naming each group version's document with the hash of its content, and
 * `/openapi/v3/<gv>?hash=…`, the document itself. Each document has the PATCH operation of every kind the sandbox
 * serves (with its GVK and the fieldValidation parameter, so kubectl leaves validation to the server), and, for
 * `api/v1` and `apis/apps/v1`, the real component schemas that `kubectl explain configmap` and `kubectl explain
 * daemonset` read: fixtures/openapi/, Kubernetes' own documents trimmed to what ConfigMap and DaemonSet reach
 * (their source is in fixtures/README.md).
 */
import { createHash } from 'node:crypto';
import { listPackageFolder, readPackageJson } from '../package-files.js';
import { KUBE_RESOURCES, isRecord } from './kube-store.js';

type Json = Record<string, unknown>;

const DIR = 'fixtures/openapi';

/** A served document: its bytes and their hash (uppercase hex SHA-512, as handler3 computes it). */
export interface OpenApiDocument {
  body: Buffer;
  hash: string;
}

const gvPathOf = (r: { group: string; version: string }): string => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`);

function groupVersionPaths(): string[] {
  return [...new Set(KUBE_RESOURCES.map(gvPathOf))];
}

/** The real schemas of fixtures/openapi/<gv with / as __>_openapi.json, or none. */
function realSchemas(gvPath: string): Json {
  const file = `${gvPath.replaceAll('/', '__')}_openapi.json`;
  if (!listPackageFolder(DIR).includes(file)) return {};
  const doc = readPackageJson<Json>(`${DIR}/${file}`);
  const components = isRecord(doc.components) ? doc.components : {};
  return isRecord(components.schemas) ? components.schemas : {};
}

function buildDocument(gvPath: string, kubernetesVersion: string): OpenApiDocument | undefined {
  const resources = KUBE_RESOURCES.filter((r) => gvPathOf(r) === gvPath);
  if (resources.length === 0) return undefined;
  const paths: Json = {};
  for (const r of resources) {
    const prefix = `/${gvPath}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
    paths[prefix] = {
      patch: {
        operationId: `patch${r.kind}`,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
        parameters: [
          { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
        ],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  const doc = {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: `v${kubernetesVersion.replace(/^v/, '')}` },
    paths,
    components: { schemas: realSchemas(gvPath) },
  };
  const body = Buffer.from(JSON.stringify(doc));
  return { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

const cache = new Map<string, OpenApiDocument | undefined>();

/** The document of one group version (`api/v1`, `apis/apps/v1`), built once per Kubernetes version. */
export function openApiDocument(gvPath: string, kubernetesVersion: string): OpenApiDocument | undefined {
  const key = `${kubernetesVersion} ${gvPath}`;
  if (!cache.has(key)) cache.set(key, buildDocument(gvPath, kubernetesVersion));
  return cache.get(key);
}

/** `/openapi/v3`: `{ paths: { "apis/apps/v1": { serverRelativeURL: "/openapi/v3/apis/apps/v1?hash=…" } } }`. */
export function openApiIndex(kubernetesVersion: string): Json {
  const paths: Json = {};
  for (const gv of groupVersionPaths()) {
    const doc = openApiDocument(gv, kubernetesVersion);
    if (doc) paths[gv] = { serverRelativeURL: `/openapi/v3/${gv}?hash=${doc.hash}` };
  }
  return { paths };
}
