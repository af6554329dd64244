/**
 * The sandbox's Kubernetes API server: node:https (or node:http in unit tests) over a KubeStore, speaking enough of the real API
 * (discovery both ways, OpenAPI v3 (kube-openapi.ts), CRUD, patches, watches, tables, SelfSubjectAccessReview) for the real
 * kubectl 1.27 to 1.33, refusing what a real server refuses: see kube-validation.ts, kube-ssa.ts (managedFields and
 * server-side apply conflicts), kube-protobuf.ts (1.32+ typed creates) and kube-auth.ts (HTTPS, EKS tokens).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { yamlLib } from '../formats/yaml-files.js';
import type { KubeObject } from '../formats/kube-object.js';
import type { RequestLog } from './request-log.js';
import { Gate } from './gates.js';
import { canonicalJson } from '../formats/json.js';
import { ApplyConflictError, TypedPatchError, fieldSet, serverSideApply } from './kube-ssa.js';
import { decodeProtobufObject } from './kube-protobuf.js';
import { toTable, wantsTable } from './kube-tables.js';
import { openApiDocument, openApiIndex } from './kube-openapi.js';
import { invalidWorkload, unknownFields } from './kube-validation.js';
import { aggregateText } from './kube-field-errors.js';
import { quantityDecodeError, validateObject } from './kube-object-validation.js';
import {
  KUBE_RESOURCES,
  isRecord,
  type KubeResource,
  type KubeStore,
  type KubeWatchEvent,
} from './kube-store.js';

/** How to start the emulated API server. */
export interface KubeApiOptions {
  /** "1.27": decides /version, hence which kubectl build the machine's dispatcher runs. */
  kubernetesVersion: string;
  log: RequestLog;
  latencyMs?: number;
  /** 0 or absent: any free port. */
  port?: number;
  /** Serve HTTPS with this certificate and key (PEM); absent: plain HTTP. */
  tls?: { certPem: string; keyPem: string };
  /** Accepts a bearer token; absent: no authentication. /version, /healthz, /livez and /readyz stay public, as on EKS. */
  authenticate?: (token: string) => boolean;
  /** The answer to SelfSubjectAccessReview (`kubectl auth can-i`); default: everything is allowed. */
  authorize?: (attributes: Record<string, unknown>) => boolean;
  /** The kube-outage gate (see gates.ts): an outage ends when it passes; held, it lasts until released. */
  outageGate?: Gate;
}

/** A running emulated API server. */
export interface KubeApi {
  /** http://127.0.0.1:PORT, or https:// with `tls` */
  url: string;
  close(): Promise<void>;
  /**
   * Stops accepting connections (ECONNREFUSED) for `ms` (while the kube-outage gate is open; while it is
   * held, until it is released or stepped), then listens again on the same port.
   */
  refuseConnectionsFor(ms: number): void;
  /** Delay added before every response; settable. */
  latencyMs: number;
}

type Json = Record<string, unknown>;

const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';
/** kubectl asks for the gnostic media type but rejects it as a Content-Type (the @ does not parse). */
const OPENAPI_V2_PROTOBUF = 'application/octet-stream';
/** What EKS lets anyone read (system:public-info-viewer). */
const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** Patch numbers of the EKS platform versions, so /version looks like a real EKS cluster's. */
const EKS_PATCH: Record<string, number> = {
  '1.23': 17, '1.24': 17, '1.25': 16, '1.26': 15, '1.27': 16, '1.28': 15,
  '1.29': 15, '1.30': 13, '1.31': 9, '1.32': 5, '1.33': 1, '1.34': 1,
};

/** An error answered as a Kubernetes Status object. */
class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Json,
  ) {
    super(message);
  }
}

function notFound(res: KubeResource, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedPlural(res)} "${name}" not found`, detailsOf(res, name));
}

function qualifiedPlural(res: KubeResource): string {
  return res.group ? `${res.plural}.${res.group}` : res.plural;
}

function detailsOf(res: KubeResource, name: string): Json {
  return { name, ...(res.group ? { group: res.group } : {}), kind: res.plural };
}

function statusBody(code: number, reason: string, message: string, details?: Json): Json {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: code < 400 ? 'Success' : 'Failure',
    message,
    ...(reason ? { reason } : {}),
    ...(details ? { details } : {}),
    code,
  };
}

/** Starts the API server on 127.0.0.1. */
export async function startKubeApi(store: KubeStore, options: KubeApiOptions): Promise<KubeApi> {
  const sockets = new Set<Socket>();
  const watches = new Set<ServerResponse>();
  let refusing = false;
  let closed = false;
  const outageGate = options.outageGate ?? new Gate('kube-outage');

  const api: KubeApi = {
    url: '',
    latencyMs: options.latencyMs ?? 0,
    close,
    refuseConnectionsFor,
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, statusBody(500, 'InternalError', String(error)));
      else res.destroy();
    });
  };
  // HTTPS speaks HTTP/2 as well as HTTP/1.1 (ALPN), as a real API server does: kubectl and vpccni multiplex
  // their requests on one connection instead of a TLS handshake each.
  const server: Server = options.tls
    ? (createSecureServer({ cert: options.tls.certPem, key: options.tls.keyPem, allowHTTP1: true }, onRequest as never) as unknown as Server)
    : createServer(onRequest);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await listen(options.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  api.url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  return api;

  function listen(onPort: number): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  function dropConnections(): void {
    for (const watch of watches) watch.end();
    for (const socket of sockets) socket.destroy();
  }

  function refuseConnectionsFor(ms: number): void {
    if (closed || refusing) return;
    refusing = true;
    server.close();
    dropConnections();
    // The one wait of an outage: the kube-outage gate.
    outageGate.after(ms, () => {
      refusing = false;
      if (!closed) listen(port).catch(() => undefined);
    }, `kube outage on port ${port}`);
  }

  async function close(): Promise<void> {
    closed = true;
    if (refusing) {
      refusing = false;
      return;
    }
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      dropConnections();
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const raw = await readBody(req);
    let body = raw.toString('utf8');
    if (api.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, api.latencyMs));
    let operation = `${method} ${url.pathname}`;
    const mutating = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method);
    const record = (status: number): void =>
      options.log.record({ service: 'kube', method, path: url.pathname + url.search, operation, mutating, status });
    try {
      if (options.authenticate && !PUBLIC_PATHS.has(url.pathname.replace(/\/+$/, ''))) {
        const header = req.headers.authorization ?? '';
        const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
        if (!token || !options.authenticate(token)) throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      }
      let contentType = req.headers['content-type'] ?? '';
      if (mutating && contentType.startsWith('application/vnd.kubernetes.protobuf')) {
        // kubectl 1.32+ sends its typed creates as protobuf: decode the kinds it sends that way, refuse the rest.
        const decoded = decodeProtobufObject(raw);
        if (decoded) {
          body = JSON.stringify(decoded);
          contentType = 'application/json';
          req.headers['content-type'] = contentType;
        }
      }
      if (mutating && contentType.startsWith('application/vnd.kubernetes.protobuf')) {
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/apply-patch+yaml, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
      }
      if (method === 'POST' && url.pathname === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
        operation = 'POST selfsubjectaccessreviews';
        const review = parseObject(body, contentType);
        const attributes = isRecord(review.spec) ? ((review.spec.resourceAttributes ?? review.spec.nonResourceAttributes ?? {}) as Record<string, unknown>) : {};
        const allowed = options.authorize ? options.authorize(attributes) : true;
        record(201);
        sendJson(res, 201, { ...review, metadata: { creationTimestamp: null }, status: { allowed, ...(allowed ? {} : { reason: 'denied by the sandbox scenario' }) } });
        return;
      }
      const route = parseResourcePath(url.pathname);
      if (route && !store.served(route.resource)) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
      if (route) {
        operation = `${url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1' ? 'WATCH' : method} ${
          route.resource.plural
        }${route.name ? `/${route.name}` : ''}${route.subresource ? `/${route.subresource}` : ''}`;
        const result = handleResource(route, method, url, req, body, res, (name) => {
          operation = `${method} ${route.resource.plural}/${name}`;
        });
        if (result === 'streaming') {
          record(200);
          return;
        }
        record(result.status);
        const warnings = result.warnings?.map((w) => `299 - ${JSON.stringify(w)}`);
        sendJson(res, result.status, result.body, 'application/json', warnings?.length ? { Warning: warnings } : {});
        return;
      }
      const answer = handleNonResource(url, method, req.headers.accept ?? '');
      record(answer.status);
      sendJson(res, answer.status, answer.body, answer.contentType, answer.headers);
    } catch (error) {
      const apiError =
        error instanceof ApiError ? error : new ApiError(500, 'InternalError', error instanceof Error ? error.message : String(error));
      record(apiError.code);
      sendJson(res, apiError.code, statusBody(apiError.code, apiError.reason, apiError.message, apiError.details));
    }
  }

  function handleNonResource(url: URL, method: string, accept: string): { status: number; body: unknown; contentType?: string; headers?: Record<string, string> } {
    const pathname = url.pathname;
    if (method !== 'GET') throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    const path = pathname.replace(/\/+$/, '') || '/';
    if (path === '/version') return { status: 200, body: versionInfo(options.kubernetesVersion) };
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return { status: 200, body: 'ok' };
    const served = KUBE_RESOURCES.filter((r) => store.served(r));
    if (path === '/api' || path === '/apis') {
      const aggregated = aggregatedType(accept);
      if (aggregated) return { status: 200, body: aggregatedDiscovery(path === '/api', aggregated, served), contentType: aggregated };
      return { status: 200, body: path === '/api' ? apiVersions(port) : apiGroupList(served) };
    }
    const gv = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (gv) {
      const group = gv[1] ? '' : (gv[2] as string);
      const version = gv[1] ?? (gv[3] as string);
      const resources = served.filter((r) => r.group === group && r.version === version);
      if (resources.length > 0) return { status: 200, body: apiResourceList(group, version, resources) };
    }
    if (/^\/apis\/[^/]+$/.test(path)) {
      const group = path.slice('/apis/'.length);
      const versions = groupVersions(served).find((g) => g.name === group);
      if (versions) return { status: 200, body: { kind: 'APIGroup', apiVersion: 'v1', ...versions } };
    }
    if (path === '/openapi/v2') {
      // kubectl 1.27 loads OpenAPI v2 (protobuf only) before any validated apply, whatever v3 says.
      return { status: 200, body: openApiV2Document(options.kubernetesVersion), contentType: OPENAPI_V2_PROTOBUF };
    }
    if (path === '/openapi/v3') return { status: 200, body: openApiIndex(options.kubernetesVersion) };
    const gvPath = /^\/openapi\/v3\/(api\/v1|apis\/[^/]+\/[^/]+)$/.exec(path)?.[1];
    const doc = gvPath ? openApiDocument(gvPath, options.kubernetesVersion) : undefined;
    if (doc) {
      // handler3: a request for another hash than the document's is sent on to the current one.
      const hash = url.searchParams.get('hash');
      if (hash && hash !== doc.hash) {
        return { status: 301, body: '', headers: { Location: `/openapi/v3/${gvPath as string}?hash=${doc.hash}` } };
      }
      return { status: 200, body: doc.body, contentType: 'application/json', headers: { ETag: `"${doc.hash}"` } };
    }
    throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  }

  function handleResource(
    route: ResourceRoute,
    method: string,
    url: URL,
    req: IncomingMessage,
    body: string,
    res: ServerResponse,
    nameKnown: (name: string) => void,
  ): { status: number; body: unknown; warnings?: string[] } | 'streaming' {
    const { resource, namespace, name, subresource } = route;
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    const dryRun = url.searchParams.has('dryRun');
    if (subresource && subresource !== 'status') throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (resource.namespaced && name && !namespace) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const current = (objName: string): KubeObject | undefined => store.get(apiVersion, resource.kind, objName, namespace);
    const manager = url.searchParams.get('fieldManager') || userAgentManager(req.headers['user-agent']);
    const warnings: string[] = [];
    const accept = req.headers.accept ?? '';
    const table = (objects: KubeObject[]): unknown => toTable(resource.kind, objects, String(store.resourceVersion), url.searchParams.get('includeObject'));
    /** Unknown fields: 400 under fieldValidation=Strict, a Warning header under Warn (the default), nothing under Ignore. */
    const checkFields = (obj: KubeObject): void => {
      const validation = url.searchParams.get('fieldValidation') ?? 'Warn';
      if (validation === 'Ignore') return;
      const unknown = unknownFields(obj);
      if (unknown.length === 0) return;
      if (validation === 'Strict') {
        const list = unknown.map((f) => `unknown field ${JSON.stringify(f)}`).join(', ');
        throw new ApiError(400, 'BadRequest', `${resource.kind} in version "${resource.version}" cannot be handled as a ${resource.kind}: strict decoding error: ${list}`);
      }
      for (const f of unknown) warnings.push(`unknown field ${JSON.stringify(f)}`);
    };
    /**
     * What kube-apiserver's validation refuses, on create, update, patch and apply, dry run or not: a quantity that
     * does not parse cannot be decoded (400); the rest is one 422 Invalid Status whose message aggregates the field
     * errors and whose causes list them (apimachinery's errors.NewInvalid).
     */
    const checkValid = (obj: KubeObject, before: KubeObject | undefined): void => {
      const undecodable = quantityDecodeError(obj);
      if (undecodable) throw new ApiError(400, 'BadRequest', `${resource.kind} in version "${resource.version}" cannot be handled as a ${resource.kind}: ${undecodable}`);
      const invalid = [...validateObject(obj, { kubernetesVersion: options.kubernetesVersion }), ...invalidWorkload(obj, before)];
      if (invalid.length === 0) return;
      throw new ApiError(422, 'Invalid', `${qualifiedKind(resource)} ${JSON.stringify(obj.metadata.name ?? '')} is invalid: ${aggregateText(invalid)}`, {
        name: obj.metadata.name ?? '',
        ...(resource.group ? { group: resource.group } : {}),
        kind: resource.kind,
        causes: invalid.map((i) => ({ reason: i.type, message: i.body, field: i.field })),
      });
    };
    const staleCheck = (wanted: unknown, existing: KubeObject): void => {
      if (typeof wanted === 'string' && wanted !== '' && wanted !== existing.metadata.resourceVersion) {
        throw new ApiError(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${qualifiedPlural(resource)} "${existing.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
          detailsOf(resource, existing.metadata.name),
        );
      }
    };
    /** A client that sends managedFields (kubectl's client-side-apply migration) sets them as they are. */
    const putAs = (obj: KubeObject, existing: KubeObject | undefined, subresourceName?: string): KubeObject => {
      const sent = obj.metadata.managedFields;
      const keep = Array.isArray(sent) && sent.length > 0 && canonicalJson(sent) !== canonicalJson(existing?.metadata.managedFields);
      if (!keep && existing) obj.metadata.managedFields = existing.metadata.managedFields;
      if (!keep && !existing) delete obj.metadata.managedFields;
      return store.put(obj, { manager: keep ? null : manager, ...(subresourceName ? { subresource: subresourceName } : {}) });
    };

    if (!name) {
      if (method === 'GET') {
        const watch = url.searchParams.get('watch');
        if (watch === 'true' || watch === '1') {
          startWatch(route, url, res);
          return 'streaming';
        }
        const items = store.list(apiVersion, resource.kind, resource.namespaced ? namespace : undefined, selectorFilter(url, resource));
        if (wantsTable(accept)) return { status: 200, body: table(items) };
        const page = paginate(items, url, store.resourceVersion);
        const list = { kind: `${resource.kind}List`, apiVersion, metadata: { resourceVersion: String(store.resourceVersion), ...page.metadata }, items: page.items };
        return { status: 200, body: asMetadataList(list, accept) };
      }
      if (method === 'POST') {
        const obj = parseObject(body, req.headers['content-type']);
        if (!obj.metadata.name && typeof obj.metadata.generateName === 'string') {
          obj.metadata.name = `${obj.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
        }
        checkIdentity(obj, resource, apiVersion, namespace, undefined);
        nameKnown(obj.metadata.name);
        checkFields(obj);
        checkValid(obj, undefined);
        if (current(obj.metadata.name)) {
          throw new ApiError(409, 'AlreadyExists', `${qualifiedPlural(resource)} "${obj.metadata.name}" already exists`, detailsOf(resource, obj.metadata.name));
        }
        return { status: 201, body: dryRun ? obj : putAs(stripServerFields(obj), undefined), warnings };
      }
      throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }

    const existing = current(name);
    switch (method) {
      case 'GET':
        if (!existing) throw notFound(resource, name);
        return { status: 200, body: wantsTable(accept) ? table([existing]) : existing };
      case 'PUT': {
        if (!existing) throw notFound(resource, name);
        const obj = parseObject(body, req.headers['content-type']);
        checkIdentity(obj, resource, apiVersion, namespace, name);
        staleCheck(obj.metadata.resourceVersion, existing);
        checkFields(obj);
        // The status subresource changes status only; the main resource never changes status.
        const next = subresource === 'status' ? withStatus(existing, obj.status) : withStatus(obj, existing.status);
        checkValid(next, existing);
        return { status: 200, body: dryRun ? next : putAs(next, existing, subresource), warnings };
      }
      case 'PATCH': {
        const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
        if (!existing && type !== 'application/apply-patch+yaml') throw notFound(resource, name);
        if (type === 'application/apply-patch+yaml') {
          const applied = appliedConfiguration(body, resource, apiVersion, namespace, name);
          staleCheck(applied.metadata.resourceVersion, existing ?? applied);
          checkFields(applied);
          const fieldManager = url.searchParams.get('fieldManager');
          if (!fieldManager) throw new ApiError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
          let merged: KubeObject;
          const force = url.searchParams.get('force') === 'true';
          try {
            try {
              merged = serverSideApply(existing, applied, fieldManager, force, strategicMerge);
            } catch (error) {
              // kubectl's first server-side apply after client-side ones may take the fields of its last-applied annotation.
              if (!(error instanceof ApplyConflictError) || fieldManager !== 'kubectl') throw error;
              const allowed = lastAppliedFields(existing);
              if (!error.conflicts.every((c) => allowed.has(JSON.stringify(c.elements)))) throw error;
              merged = serverSideApply(existing, applied, fieldManager, true, strategicMerge);
            }
          } catch (error) {
            // Kubernetes answers an error that is not an API status as 500 with no reason (ErrorToAPIStatus).
            if (error instanceof TypedPatchError) throw new ApiError(500, '', error.message);
            if (!(error instanceof ApplyConflictError)) throw error;
            throw new ApiError(409, 'Conflict', error.message, {
              causes: error.conflicts.map((c) => ({
                reason: 'FieldManagerConflict',
                message: `conflict with ${c.operation === 'Update' ? `"${c.manager}" using ${c.apiVersion}` : `"${c.manager}"`}`,
                field: c.path,
              })),
            });
          }
          if (existing) merged = withStatus(merged, existing.status);
          checkIdentity(merged, resource, apiVersion, namespace, name);
          checkValid(merged, existing);
          if (existing && canonicalJson(merged) === canonicalJson(existing)) return { status: 200, body: existing, warnings };
          const saved = dryRun ? merged : store.put(stripServerFields(merged, existing, true), { manager: null });
          return { status: existing ? 200 : 201, body: saved, warnings };
        }
        let patched = applyPatch(type, existing, body, resource, apiVersion);
        // A patch never changes status but through the status subresource; a kind without status (ConfigMap) gets no
        // `status` key (once set to undefined, it read as an unknown field and the patch failed with 400).
        if (subresource !== 'status' && existing) patched = withStatus(patched, existing.status);
        checkIdentity(patched, resource, apiVersion, namespace, name);
        if (existing) staleCheck(patched.metadata.resourceVersion, existing);
        checkFields(patched);
        checkValid(patched, existing);
        if (existing && canonicalJson(patched) === canonicalJson(existing)) return { status: 200, body: existing, warnings };
        const saved = dryRun ? patched : putAs(stripServerFields(patched, existing, true), existing, subresource);
        return { status: existing ? 200 : 201, body: saved, warnings };
      }
      case 'DELETE':
        if (!existing) throw notFound(resource, name);
        if (!dryRun) store.delete(apiVersion, resource.kind, name, namespace);
        return { status: 200, body: existing };
      default:
        throw new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  function startWatch(route: ResourceRoute, url: URL, res: ServerResponse): void {
    const { resource, namespace } = route;
    const matches = selectorFilter(url, resource);
    const wanted = (event: KubeWatchEvent): boolean =>
      event.resource === resource &&
      (!resource.namespaced || !namespace || event.object.metadata.namespace === namespace) &&
      matches(event.object);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    // Node holds headers until the first write; kubectl's watch would then wait past its own timeout.
    res.flushHeaders();
    watches.add(res);
    const send = (type: string, object: unknown): void => {
      if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
    };
    const from = url.searchParams.get('resourceVersion');
    if (!from || from === '0') {
      const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
      for (const obj of store.list(apiVersion, resource.kind, resource.namespaced ? namespace : undefined, matches)) {
        send('ADDED', obj);
      }
    } else {
      const replay = store.eventsAfter(Number(from));
      if (!replay) {
        send('ERROR', statusBody(410, 'Expired', `too old resource version: ${from} (${store.resourceVersion})`));
        res.end();
        watches.delete(res);
        return;
      }
      for (const event of replay.filter(wanted)) send(event.type, event.object);
    }
    const unsubscribe = store.subscribe((event) => {
      if (wanted(event)) send(event.type, event.object);
    });
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
    const timer = setTimeout(() => res.end(), Math.max(0, timeoutSeconds) * 1000);
    res.on('close', () => {
      clearTimeout(timer);
      unsubscribe();
      watches.delete(res);
    });
  }
}

/**
 * One page of a list (`limit`, `continue`), as the real API server pages: the continue token is opaque
 * (here the offset and the resourceVersion it was issued at) and a token older than the store's compacted
 * history answers 410 Expired.
 */
export function paginate(items: KubeObject[], url: URL, resourceVersion: number): { items: KubeObject[]; metadata: Json } {
  const limit = Number(url.searchParams.get('limit') ?? '0');
  const token = url.searchParams.get('continue');
  let start = 0;
  if (token) {
    const decoded = /^(\d+):(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!decoded) throw new ApiError(400, 'BadRequest', 'continue key is not valid');
    start = Number(decoded[2]);
  }
  if (!Number.isInteger(limit) || limit <= 0) return { items: items.slice(start), metadata: {} };
  const page = items.slice(start, start + limit);
  const end = start + page.length;
  if (end >= items.length) return { items: page, metadata: {} };
  return {
    items: page,
    metadata: { continue: Buffer.from(`${resourceVersion}:${end}`).toString('base64url'), remainingItemCount: items.length - end },
  };
}

/** A list as PartialObjectMetadataList when the Accept header asks for it (metadata only, as `kubectl get` tables do). */
export function asMetadataList(list: { apiVersion: string; kind: string; metadata: Json; items: KubeObject[] }, accept: string): Json {
  const wanted = accept.split(',').some((t) => /as=PartialObjectMetadataList/.test(t) && /g=meta\.k8s\.io/.test(t));
  if (!wanted) return list;
  return {
    kind: 'PartialObjectMetadataList',
    apiVersion: 'meta.k8s.io/v1',
    metadata: list.metadata,
    items: list.items.map((item) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: item.metadata })),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json', extra: Record<string, string | string[]> = {}): void {
  const text = Buffer.isBuffer(body) ? body : typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...extra,
    'Content-Type': typeof body === 'string' ? 'text/plain' : contentType,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** A request for objects: `/api/v1/...` or `/apis/<group>/<version>/...`. */
interface ResourceRoute {
  resource: KubeResource;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

function parseResourcePath(pathname: string): ResourceRoute | undefined {
  const parts = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1] as string;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1] as string;
    version = parts[2] as string;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = KUBE_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === rest[0]);
  if (!resource || rest.length > 3) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  if (namespace !== undefined && !resource.namespaced) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
  return { resource, namespace, name: rest[1], subresource: rest[2] };
}

function parseObject(body: string, contentType: string | undefined): KubeObject {
  let value: unknown;
  try {
    value = contentType?.includes('yaml') ? yamlLib().parse(body) : JSON.parse(body);
  } catch (error) {
    throw new ApiError(400, 'BadRequest', `the body of the request could not be decoded: ${(error as Error).message}`);
  }
  if (!isRecord(value) || !isRecord(value.metadata)) throw new ApiError(400, 'BadRequest', 'the request body is not an object with metadata');
  return value as KubeObject;
}

function checkIdentity(obj: KubeObject, res: KubeResource, apiVersion: string, namespace: string | undefined, name: string | undefined): void {
  if (obj.kind !== res.kind || (obj.apiVersion && obj.apiVersion !== apiVersion)) {
    throw new ApiError(400, 'BadRequest', `the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersion})`);
  }
  if (!obj.metadata.name) throw new ApiError(422, 'Invalid', `${res.kind} is invalid: metadata.name: Required value: name or generateName is required`);
  if (name && obj.metadata.name !== name) {
    throw new ApiError(400, 'BadRequest', `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  }
  if (res.namespaced) {
    if (obj.metadata.namespace && namespace && obj.metadata.namespace !== namespace) {
      throw new ApiError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = namespace ?? obj.metadata.namespace ?? 'default';
  }
}

/** The object with `status` as given, or without a status key when there is none. */
function withStatus(obj: KubeObject, status: unknown): KubeObject {
  const { status: _dropped, ...rest } = obj;
  return (status === undefined ? rest : { ...rest, status }) as KubeObject;
}

/** Drops what clients may not set, keeping what the store must carry over from the existing object. */
function stripServerFields(obj: KubeObject, existing?: KubeObject, keepManagedFields = false): KubeObject {
  const copy = structuredClone(obj);
  delete copy.metadata.resourceVersion;
  if (!keepManagedFields) delete copy.metadata.managedFields;
  if (!existing) delete copy.metadata.uid;
  return copy;
}

/** The fields of kubectl's last-applied-configuration annotation, which kubectl's server-side apply may take over. */
function lastAppliedFields(obj: KubeObject | undefined): Set<string> {
  const annotations = obj && isRecord(obj.metadata.annotations) ? obj.metadata.annotations : {};
  const text = annotations['kubectl.kubernetes.io/last-applied-configuration'];
  if (typeof text !== 'string') return new Set();
  try {
    return fieldSet(JSON.parse(text));
  } catch {
    return new Set();
  }
}

function qualifiedKind(res: KubeResource): string {
  return res.group ? `${res.kind}.${res.group}` : res.kind;
}

/** The manager of an update without fieldManager: the User-Agent's program name, as the API server derives it. */
function userAgentManager(userAgent: string | undefined): string {
  const first = (userAgent ?? 'unknown').split('/')[0]?.trim() ?? 'unknown';
  return first.slice(0, 128) || 'unknown';
}

/** The body of an apply patch, as an object named as the URL names it. */
function appliedConfiguration(body: string, res: KubeResource, apiVersion: string, namespace: string | undefined, name: string): KubeObject {
  let patch: unknown;
  try {
    patch = yamlLib().parse(body);
  } catch (error) {
    throw new ApiError(400, 'BadRequest', `the body of the request could not be decoded: ${(error as Error).message}`);
  }
  if (!isRecord(patch)) throw new ApiError(400, 'BadRequest', 'the applied configuration must be an object');
  const metadata: Json = { ...(isRecord(patch.metadata) ? patch.metadata : {}), name };
  if (res.namespaced) metadata.namespace = namespace;
  return { ...patch, apiVersion: typeof patch.apiVersion === 'string' ? patch.apiVersion : apiVersion, kind: typeof patch.kind === 'string' ? patch.kind : res.kind, metadata } as KubeObject;
}

// ---- selectors ----

type Predicate = (obj: KubeObject) => boolean;

/** The fields each kind can be selected by, beyond metadata.name and metadata.namespace (the real server's field label conversions). */
const FIELD_LABELS: Record<string, string[]> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.podIPs', 'status.nominatedNodeName'],
  Node: ['spec.unschedulable'],
  Secret: ['type'],
  Namespace: ['status.phase'],
};

function selectorFilter(url: URL, res?: KubeResource): Predicate {
  const labelSelector = url.searchParams.get('labelSelector') ?? '';
  const fieldSelector = url.searchParams.get('fieldSelector') ?? '';
  const labels = parseLabelSelector(labelSelector);
  const fields = parseFieldSelector(fieldSelector);
  if (res) {
    const allowed = new Set(['metadata.name', 'metadata.namespace', ...(FIELD_LABELS[res.kind] ?? [])]);
    for (const term of splitTerms(fieldSelector)) {
      const field = /^([^!=]+)/.exec(term)?.[1]?.trim() ?? term;
      if (!allowed.has(field)) {
        throw new ApiError(400, 'BadRequest', `field label not supported: ${field}`);
      }
    }
  }
  return (obj) => labels(obj) && fields(obj);
}

function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) terms.push(current.trim());
  return terms.filter(Boolean);
}

/** Kubernetes label selector syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`. */
export function parseLabelSelector(selector: string): Predicate {
  const tests = splitTerms(selector).map((term): ((labels: Record<string, unknown>) => boolean) => {
    let m = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
    if (m) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = list.split(',').map((v) => v.trim());
      return op === 'in'
        ? (labels) => key in labels && values.includes(String(labels[key]))
        : (labels) => !(key in labels) || !values.includes(String(labels[key]));
    }
    m = /^([^\s!=]+)\s*(!=|==|=)\s*(\S*)$/.exec(term);
    if (m) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      return op === '!=' ? (labels) => labels[key] !== value : (labels) => labels[key] === value;
    }
    m = /^!\s*([^\s!=]+)$/.exec(term);
    if (m) {
      const key = m[1] as string;
      return (labels) => !(key in labels);
    }
    if (/^[^\s!=(),]+$/.test(term)) return (labels) => term in labels;
    throw new ApiError(400, 'BadRequest', `unable to parse requirement: ${term}`);
  });
  return (obj) => {
    const labels = isRecord(obj.metadata.labels) ? obj.metadata.labels : {};
    return tests.every((test) => test(labels));
  };
}

function parseFieldSelector(selector: string): Predicate {
  const tests = splitTerms(selector).map((term): Predicate => {
    const m = /^([^!=]+)(!=|==|=)(.*)$/.exec(term);
    if (!m) throw new ApiError(400, 'BadRequest', `invalid field selector: ${term}`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    return (obj) => {
      let current: unknown = obj;
      for (const key of field.split('.')) current = isRecord(current) ? current[key] : undefined;
      const actual = current === undefined ? '' : String(current);
      return op === '!=' ? actual !== value : actual === value;
    };
  });
  return (obj) => tests.every((test) => test(obj));
}

// ---- patches ----

function applyPatch(
  type: string,
  existing: KubeObject | undefined,
  body: string,
  res: KubeResource,
  apiVersion: string,
): KubeObject {
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch (error) {
    throw new ApiError(400, 'BadRequest', `the body of the request could not be decoded: ${(error as Error).message}`);
  }
  const base: unknown = existing ?? {};
  let result: unknown;
  switch (type) {
    case 'application/json-patch+json':
      if (!Array.isArray(patch)) throw new ApiError(400, 'BadRequest', 'a JSON patch must be an array of operations');
      result = jsonPatch(structuredClone(base), patch);
      break;
    case 'application/merge-patch+json':
      result = mergePatch(structuredClone(base), patch);
      break;
    case 'application/strategic-merge-patch+json':
      if (!res.group.endsWith('k8s.io') && res.group !== '' && res.group !== 'apps') {
        throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
      }
      result = strategicMerge(structuredClone(base), patch);
      break;
    default:
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`,
      );
  }
  if (!isRecord(result) || !isRecord(result.metadata)) throw new ApiError(422, 'Invalid', 'the patched object has no metadata');
  const obj = result as KubeObject;
  obj.apiVersion ??= apiVersion;
  obj.kind ??= res.kind;
  return obj;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  const out: Json = isRecord(target) ? target : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** Merge keys of the lists the strategic merge patch merges (first key present in a patch element wins). */
const MERGE_KEYS: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  volumeDevices: ['devicePath'],
  ports: ['containerPort', 'port', 'name'],
  imagePullSecrets: ['name'],
  hostAliases: ['ip'],
  conditions: ['type'],
  topologySpreadConstraints: ['topologyKey'],
  resourceClaims: ['name'],
};

/** Strategic merge patch as kubectl sends it: lists merged by key, `$patch`, `$setElementOrder`, `$retainKeys`, `$deleteFromPrimitiveList`. */
export function strategicMerge(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const copy = structuredClone(patch);
    delete copy.$patch;
    return copy;
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Json = isRecord(target) ? target : {};
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys.map(String));
    for (const key of Object.keys(out)) if (!keep.has(key)) delete out[key];
  }
  const orders: Array<[string, unknown[]]> = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders.push([key.slice('$setElementOrder/'.length), value]);
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const remove = new Set((Array.isArray(value) ? value : []).map((v) => canonicalJson(v)));
      if (Array.isArray(out[field])) out[field] = (out[field] as unknown[]).filter((v) => !remove.has(canonicalJson(v)));
      continue;
    }
    if (value === null) {
      delete out[key];
    } else if (Array.isArray(value) && MERGE_KEYS[key]) {
      out[key] = mergeList(Array.isArray(out[key]) ? (out[key] as unknown[]) : [], value, MERGE_KEYS[key]);
    } else if (isRecord(value)) {
      const merged = strategicMerge(out[key], value);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else {
      out[key] = structuredClone(value);
    }
  }
  for (const [field, order] of orders) {
    const list = out[field];
    const keys = MERGE_KEYS[field];
    if (!Array.isArray(list) || !keys) continue;
    const identity = (item: unknown): string | undefined => {
      if (!isRecord(item)) return canonicalJson(item);
      const key = keys.find((k) => k in item);
      return key ? `${key}=${canonicalJson(item[key])}` : undefined;
    };
    const rank = new Map(order.map((item, index) => [identity(item), index]));
    out[field] = [...list].sort((a, b) => (rank.get(identity(a)) ?? order.length) - (rank.get(identity(b)) ?? order.length));
  }
  return out;
}

function mergeList(target: unknown[], patch: unknown[], keys: string[]): unknown[] {
  if (patch.some((item) => isRecord(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isRecord(item) && item.$patch === 'replace')).map((item) => structuredClone(item));
  }
  const out = [...target];
  for (const item of patch) {
    if (!isRecord(item)) {
      out.push(structuredClone(item));
      continue;
    }
    const key = keys.find((k) => k in item && k !== '$patch');
    const index = key === undefined ? -1 : out.findIndex((t) => isRecord(t) && canonicalJson(t[key]) === canonicalJson(item[key]));
    if (item.$patch === 'delete') {
      if (index >= 0) out.splice(index, 1);
      continue;
    }
    if (index >= 0) out[index] = strategicMerge(out[index], item);
    else out.push(strategicMerge({}, item));
  }
  return out;
}

/** RFC 6902 JSON patch. */
function jsonPatch(doc: unknown, operations: unknown[]): unknown {
  let root = doc;
  const tokens = (pointer: string): string[] =>
    pointer === '' ? [] : pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  const parentOf = (pointer: string): { parent: unknown; key: string } => {
    const parts = tokens(pointer);
    const key = parts.pop();
    if (key === undefined) throw new ApiError(422, 'Invalid', 'a JSON patch cannot address the whole document here');
    let parent: unknown = root;
    for (const part of parts) {
      parent = Array.isArray(parent) ? parent[Number(part)] : isRecord(parent) ? parent[part] : undefined;
      if (parent === undefined) throw new ApiError(422, 'Invalid', `the JSON patch path ${pointer} does not exist`);
    }
    return { parent, key };
  };
  const read = (pointer: string): unknown => {
    let value: unknown = root;
    for (const part of tokens(pointer)) value = Array.isArray(value) ? value[Number(part)] : isRecord(value) ? value[part] : undefined;
    return value;
  };
  const remove = (pointer: string): unknown => {
    const { parent, key } = parentOf(pointer);
    if (Array.isArray(parent)) return parent.splice(Number(key), 1)[0];
    if (isRecord(parent) && key in parent) {
      const old = parent[key];
      delete parent[key];
      return old;
    }
    throw new ApiError(422, 'Invalid', `the JSON patch path ${pointer} does not exist`);
  };
  const add = (pointer: string, value: unknown): void => {
    if (pointer === '') {
      root = value;
      return;
    }
    const { parent, key } = parentOf(pointer);
    if (Array.isArray(parent)) parent.splice(key === '-' ? parent.length : Number(key), 0, value);
    else if (isRecord(parent)) parent[key] = value;
    else throw new ApiError(422, 'Invalid', `the JSON patch path ${pointer} does not exist`);
  };
  for (const raw of operations) {
    if (!isRecord(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new ApiError(400, 'BadRequest', 'every JSON patch operation needs op and path');
    }
    const path = raw.path;
    switch (raw.op) {
      case 'add':
        add(path, structuredClone(raw.value));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        remove(path);
        add(path, structuredClone(raw.value));
        break;
      case 'move':
        add(path, remove(String(raw.from)));
        break;
      case 'copy':
        add(path, structuredClone(read(String(raw.from))));
        break;
      case 'test':
        if (canonicalJson(read(path)) !== canonicalJson(raw.value)) throw new ApiError(422, 'Invalid', `the JSON patch test at ${path} failed`);
        break;
      default:
        throw new ApiError(400, 'BadRequest', `unknown JSON patch operation ${raw.op}`);
    }
  }
  return root;
}

// ---- discovery and OpenAPI ----

function versionInfo(kubernetesVersion: string): Json {
  const [major = '1', minor = '0'] = kubernetesVersion.replace(/^v/, '').split('.');
  const patch = EKS_PATCH[`${major}.${minor}`] ?? 0;
  return {
    major,
    minor,
    gitVersion: `v${major}.${minor}.${patch}-eks-a18cd3a`,
    gitCommit: 'a18cd3a4f2a7b9c1e0d5f6a8b7c9d0e1f2a3b4c5',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.23.4',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

function aggregatedType(accept: string): string | undefined {
  const offered = accept.split(',').map((part) => part.replace(/\s+/g, ''));
  for (const type of offered) {
    if (!type.includes('as=APIGroupDiscoveryList')) continue;
    if (type.includes('v=v2beta1')) return AGGREGATED_V2BETA1;
    if (type.includes('v=v2')) return AGGREGATED_V2;
  }
  return undefined;
}

function apiVersions(port: number): Json {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }],
  };
}

function groupVersions(resources: readonly KubeResource[]): Array<{ name: string; versions: Json[]; preferredVersion: Json }> {
  const groups = new Map<string, Set<string>>();
  for (const r of resources) if (r.group) groups.set(r.group, (groups.get(r.group) ?? new Set()).add(r.version));
  return [...groups].map(([name, versions]) => {
    const list = [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version }));
    return { name, versions: list, preferredVersion: list[0] as Json };
  });
}

function apiGroupList(resources: readonly KubeResource[]): Json {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupVersions(resources) };
}

function apiResourceList(group: string, version: string, resources: KubeResource[]): Json {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: resources.flatMap((r) => [
      {
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: VERBS,
        ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories.length ? { categories: r.categories } : {}),
      },
      ...(r.kind === 'DaemonSet' || r.kind === 'Deployment'
        ? [{ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] }]
        : []),
    ]),
  };
}

function aggregatedDiscovery(core: boolean, contentType: string, resources: readonly KubeResource[]): Json {
  const apiVersion = contentType === AGGREGATED_V2BETA1 ? 'apidiscovery.k8s.io/v2beta1' : 'apidiscovery.k8s.io/v2';
  const groups = core ? [''] : [...new Set(resources.filter((r) => r.group).map((r) => r.group))];
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion,
    metadata: {},
    items: groups.map((group) => {
      const versions = [...new Set(resources.filter((r) => r.group === group).map((r) => r.version))];
      return {
        metadata: { name: group },
        versions: versions.map((version) => ({
          version,
          freshness: 'Current',
          resources: resources.filter((r) => r.group === group && r.version === version).map((r) => ({
            resource: r.plural,
            responseKind: { group, version, kind: r.kind },
            scope: r.namespaced ? 'Namespaced' : 'Cluster',
            singularResource: r.singular,
            verbs: VERBS,
            ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
            ...(r.categories.length ? { categories: r.categories } : {}),
          })),
        })),
      };
    }),
  };
}

// ---- OpenAPI v2, protobuf (gnostic openapi_v2.Document), hand-encoded: only what kubectl reads ----

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** A length-delimited protobuf field (strings and embedded messages). */
function field(num: number, value: string | Buffer): Buffer {
  const data = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  return Buffer.concat([varint((num << 3) | 2), varint(data.length), data]);
}

const message = (...fields: Buffer[]): Buffer => Buffer.concat(fields);

/**
 * Title, version and, per kind, the PATCH operation with its GVK extension and fieldValidation parameter: kubectl
 * then leaves validation to the server and, finding no schemas, computes apply patches from its built-in types.
 */
function openApiV2Document(kubernetesVersion: string): Buffer {
  const queryParam = (name: string): Buffer =>
    field(8, field(1, field(2, field(3, message(field(2, 'query'), field(4, name), field(6, 'string'))))));
  const paths = KUBE_RESOURCES.map((r) => {
    const gv = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    const name = `${gv}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
    const gvk = `group: "${r.group}"\nkind: ${r.kind}\nversion: ${r.version}\n`;
    const operation = message(
      field(5, `patch${r.kind}`),
      queryParam('dryRun'),
      queryParam('fieldManager'),
      queryParam('fieldValidation'),
      queryParam('force'),
      field(9, field(1, message(field(1, '200'), field(2, field(1, field(1, 'OK')))))),
      field(13, message(field(1, 'x-kubernetes-group-version-kind'), field(2, field(2, gvk)))),
    );
    return field(2, message(field(1, name), field(2, field(8, operation))));
  });
  return message(
    field(1, '2.0'),
    field(2, message(field(1, 'Kubernetes'), field(2, versionInfo(kubernetesVersion).gitVersion as string))),
    field(8, Buffer.concat(paths)),
  );
}
