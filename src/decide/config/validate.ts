/**
 * Validates configuration values against the add-on's configuration schema (the draft-06 document EKS
 * returns from DescribeAddonConfiguration) and turns Ajv's errors into one-line messages a person can act on.
 */
import type { ErrorObject } from 'ajv';
import { compileAddonSchema } from '../schema-validator.js';

/** One problem with configuration values: the dotted path (e.g. `env.WARM_IP_TARGET`) and what to do. */
export interface ConfigProblem {
  path: string;
  message: string;
}

type SchemaNode = Record<string, unknown>;

/**
 * Env vars the VPC CNI reads (upstream README "CNI Configuration Variables" and the release manifests):
 * a real setting missing from an older schema gets no misleading "did you mean".
 */
const KNOWN_CNI_ENV = new Set(
  (
    'ADDITIONAL_ENI_TAGS ANNOTATE_POD_IP AWS_EC2_ENDPOINT AWS_EXTERNAL_SERVICE_CIDRS AWS_MANAGE_ENIS_NON_SCHEDULABLE ' +
    'AWS_VPC_CNI_NODE_PORT_SUPPORT AWS_VPC_ENI_MTU AWS_VPC_K8S_CNI_CONFIGURE_RPFILTER AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG ' +
    'AWS_VPC_K8S_CNI_EXCLUDE_SNAT_CIDRS AWS_VPC_K8S_CNI_EXTERNALSNAT AWS_VPC_K8S_CNI_LOGLEVEL AWS_VPC_K8S_CNI_LOG_FILE ' +
    'AWS_VPC_K8S_CNI_RANDOMIZESNAT AWS_VPC_K8S_CNI_VETHPREFIX AWS_VPC_K8S_PLUGIN_LOG_FILE AWS_VPC_K8S_PLUGIN_LOG_LEVEL ' +
    'CLUSTER_ENDPOINT CLUSTER_NAME DISABLE_INTROSPECTION DISABLE_LEAKED_ENI_CLEANUP DISABLE_METRICS ' +
    'DISABLE_NETWORK_RESOURCE_PROVISIONING DISABLE_POD_V6 DISABLE_TCP_EARLY_DEMUX ENABLE_BANDWIDTH_PLUGIN ' +
    'ENABLE_IMDS_ONLY_MODE ENABLE_IPv4 ENABLE_IPv6 ENABLE_MULTI_NIC ENABLE_NFTABLES ENABLE_POD_ENI ENABLE_PREFIX_DELEGATION ' +
    'ENABLE_SUBNET_DISCOVERY ENABLE_V4_EGRESS ENABLE_V6_EGRESS ENI_CONFIG_ANNOTATION_DEF ENI_CONFIG_LABEL_DEF ' +
    'HOST_CNI_BIN_PATH HOST_CNI_CONFDIR_PATH INTROSPECTION_BIND_ADDRESS IP_COOLDOWN_PERIOD MAX_ENI MINIMUM_IP_TARGET ' +
    'NETWORK_POLICY_ENFORCING_MODE POD_MTU POD_SECURITY_GROUP_ENFORCING_MODE WARM_ENI_TARGET WARM_IP_TARGET WARM_PREFIX_TARGET'
  ).split(' '),
);

/** Every problem of `value` against the schema (given as the string EKS returns), deduplicated, sorted by path. */
export function validateConfigurationValues(value: unknown, schemaText: string): ConfigProblem[] {
  const validate = compileAddonSchema(schemaText);
  if (validate(value)) return [];
  const root = JSON.parse(schemaText) as SchemaNode;
  const seen = new Set<string>();
  const problems: ConfigProblem[] = [];
  // A value of the wrong type makes every other error at or below it noise.
  const wrongType = (validate.errors ?? [])
    .filter((e) => e.keyword === 'type')
    .map((e) => dotted(pointerSegments(e.instancePath)));
  for (const error of validate.errors ?? []) {
    const problem = describeError(error, value, root);
    if (
      problem &&
      error.keyword !== 'type' &&
      wrongType.some((p) => p === problem.path || problem.path.startsWith(p === '' ? '' : `${p}.`))
    ) {
      continue;
    }
    if (!problem) continue;
    const key = `${problem.path}\u0000${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(problem);
  }
  return problems.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.message < b.message ? -1 : 1));
}

/** One problem per line, in order, ready for stderr. */
export function formatProblems(problems: ConfigProblem[]): string {
  return problems.map((p) => p.message).join('\n');
}

/**
 * The (ref-resolved) schema node that governs `path` (keys, e.g. ['env', 'WARM_IP_TARGET']), or null when
 * the schema does not allow anything there. Used to tell whether a schema can hold a setting.
 */
export function schemaNodeAt(schemaText: string, path: readonly string[]): SchemaNode | null {
  const root = JSON.parse(schemaText) as SchemaNode;
  let node: SchemaNode | null = resolve(root, root);
  for (const key of path) {
    if (!node) return null;
    node = childSchema(root, node, key);
  }
  return node;
}

/** True when the schema has a place for `path`. */
export function schemaAccepts(schemaText: string, path: readonly string[]): boolean {
  return schemaNodeAt(schemaText, path) !== null;
}

function resolve(root: SchemaNode, node: unknown): SchemaNode | null {
  let current = node;
  for (let depth = 0; depth < 32; depth++) {
    if (typeof current !== 'object' || current === null) return null;
    const ref = (current as SchemaNode).$ref;
    if (typeof ref !== 'string') return current as SchemaNode;
    if (!ref.startsWith('#/')) return null;
    current = ref
      .slice(2)
      .split('/')
      .map(unescapePointer)
      .reduce<unknown>((acc, seg) => (typeof acc === 'object' && acc !== null ? (acc as SchemaNode)[seg] : undefined), root);
  }
  return null;
}

function childSchema(root: SchemaNode, node: SchemaNode, key: string): SchemaNode | null {
  const properties = node.properties as Record<string, unknown> | undefined;
  if (properties && Object.hasOwn(properties, key)) return resolve(root, properties[key]);
  if (/^\d+$/.test(key) && node.items !== undefined) return resolve(root, Array.isArray(node.items) ? node.items[Number(key)] : node.items);
  const additional = node.additionalProperties;
  if (additional === false) return null;
  if (typeof additional === 'object' && additional !== null) return resolve(root, additional);
  // additionalProperties absent or true: anything goes (e.g. `affinity`, an object of any shape).
  return {};
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointerSegments(pointer: string): string[] {
  return pointer === '' ? [] : pointer.slice(1).split('/').map(unescapePointer);
}

function dotted(segments: readonly string[]): string {
  return segments.join('.');
}

function valueAt(value: unknown, segments: readonly string[]): unknown {
  let current = value;
  for (const seg of segments) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string, unknown>)[seg];
  }
  return current;
}

function schemaFor(root: SchemaNode, segments: readonly string[]): SchemaNode | null {
  let node = resolve(root, root);
  for (const seg of segments) {
    if (!node) return null;
    node = childSchema(root, node, seg);
  }
  return node;
}

function describeError(error: ErrorObject, value: unknown, root: SchemaNode): ConfigProblem | null {
  const segments = pointerSegments(error.instancePath);
  const path = dotted(segments);
  const where = path === '' ? 'The configuration values' : path;
  const actual = valueAt(value, segments);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const full = dotted([...segments, key]);
      const node = schemaFor(root, segments);
      const allowed = Object.keys((node?.properties as Record<string, unknown> | undefined) ?? {}).sort();
      if (KNOWN_CNI_ENV.has(key) && (segments.at(-1) === 'env') && !allowed.includes(key)) {
        return {
          path: full,
          message: `${full} is a VPC CNI setting, but this add-on version's schema does not accept it; choose an add-on version whose schema lists it.`,
        };
      }
      const suggestion = closestName(key, allowed);
      if (suggestion) return { path: full, message: `${full} is not a setting; did you mean ${suggestion}?` };
      const scope = path === '' ? 'at the top level' : `under ${path}`;
      const list = allowed.length > 0 ? `; the settings ${scope} are: ${allowed.join(', ')}` : `; nothing can be set ${scope}`;
      return { path: full, message: `${full} is not a setting in this add-on version's schema${list}.` };
    }
    case 'type': {
      const node = schemaFor(root, segments);
      const format = typeof node?.format === 'string' ? node.format : undefined;
      const expected = String(params.type);
      if (expected === 'string' && format === 'boolean') {
        return { path, message: `${where} must be "true" or "false" (a string), not ${shown(actual)}.` };
      }
      if (expected === 'string' && format === 'integer') {
        return { path, message: `${where} must be a whole number as a string, e.g. "5", not ${shown(actual)}.` };
      }
      return { path, message: `${where} must be ${typeName(expected)}, not ${shown(actual)}.` };
    }
    case 'format': {
      if (params.format === 'boolean') return { path, message: `${where} must be "true" or "false" (a string), not ${shown(actual)}.` };
      if (params.format === 'integer') return { path, message: `${where} must be a whole number as a string, e.g. "5", not ${shown(actual)}.` };
      return { path, message: `${where} must be in the ${String(params.format)} format, not ${shown(actual)}.` };
    }
    case 'required': {
      const missing = String(params.missingProperty);
      const full = dotted([...segments, missing]);
      const node = schemaFor(root, segments);
      const required = Array.isArray(node?.required) ? (node.required as string[]) : [];
      const needs = required.length > 1 ? `; ${where} needs ${required.join(', ')}` : '';
      return { path: full, message: `${full} is missing${needs}.` };
    }
    case 'minProperties':
      return { path, message: `${where} needs at least ${String(params.limit)} entr${params.limit === 1 ? 'y' : 'ies'}.` };
    case 'minItems':
      return { path, message: `${where} needs at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}.` };
    case 'enum':
      return {
        path,
        message: `${where} must be one of ${((params.allowedValues as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(', ')}, not ${shown(actual)}.`,
      };
    case '$ref':
    case 'if':
    case 'anyOf':
    case 'oneOf':
      // Summaries of errors reported on their own.
      return error.keyword === '$ref' ? null : { path, message: `${where} ${error.message ?? 'is not valid'}.` };
    default:
      return { path, message: `${where} ${error.message ?? 'is not valid'}.` };
  }
}

function typeName(type: string): string {
  const names = type.split(',').map((t) => {
    switch (t) {
      case 'object':
        return 'an object';
      case 'array':
        return 'a list';
      case 'string':
        return 'a string';
      case 'integer':
        return 'a whole number (not in quotes)';
      case 'number':
        return 'a number';
      case 'boolean':
        return 'true or false (not in quotes)';
      case 'null':
        return 'null';
      default:
        return t;
    }
  });
  return names.length <= 1 ? (names[0] ?? type) : `${names.slice(0, -1).join(', ')} or ${names.at(-1) as string}`;
}

function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const cut = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(cut);
  }
  return String(value);
}

/** The allowed name closest to `name` when it is close enough to be a likely typo, else null. */
function closestName(name: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0.5 : editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = name.length <= 5 ? 1 : 2;
  return best !== null && bestDistance <= limit ? best : null;
}

/** Levenshtein distance (insert, delete, substitute), with adjacent transposition counting as one. */
function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => (d[i] as number[])[j] as number;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(rows - 1, cols - 1);
}
