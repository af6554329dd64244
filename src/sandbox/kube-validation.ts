/**
 * Write validation the real API server does and the sandbox needs: unknown fields (as for
 * `fieldValidation=Strict|Warn|Ignore`), an immutable DaemonSet selector and a selector that must match
 * the template's labels. The known fields are those of the built-in kinds the sandbox serves (not custom resources).
 */
import type { KubeObject } from '../formats/kube-object.js';
import { canonicalJson } from '../formats/json.js';
import { isRecord } from './kube-store.js';
import { invalid, required, type FieldError } from './kube-field-errors.js';

/** A field schema: an object of known keys, `'map'` (any keys), `'any'` (not checked), or a list of one schema. */
type Schema = { [key: string]: Schema } | 'map' | 'any' | [Schema];

const ANY = 'any' as const;
const MAP = 'map' as const;
const known = (...keys: string[]): Record<string, Schema> => Object.fromEntries(keys.map((k) => [k, ANY]));

const METADATA: Schema = {
  ...known('name', 'generateName', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'finalizers', 'ownerReferences', 'managedFields'),
  labels: MAP,
  annotations: MAP,
};

const ENV_VAR: Schema = known('name', 'value', 'valueFrom');

const CONTAINER: Schema = {
  ...known('name', 'image', 'command', 'args', 'workingDir', 'envFrom', 'resources', 'resizePolicy', 'restartPolicy', 'volumeDevices',
    'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy',
    'securityContext', 'stdin', 'stdinOnce', 'tty'),
  ports: [known('name', 'hostPort', 'containerPort', 'protocol', 'hostIP')],
  env: [ENV_VAR],
  volumeMounts: [known('name', 'readOnly', 'recursiveReadOnly', 'mountPath', 'subPath', 'mountPropagation', 'subPathExpr')],
};

const POD_SPEC: Schema = {
  ...known('volumes', 'restartPolicy', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'dnsPolicy', 'nodeSelector', 'serviceAccountName',
    'serviceAccount', 'automountServiceAccountToken', 'nodeName', 'hostNetwork', 'hostPID', 'hostIPC', 'shareProcessNamespace', 'securityContext',
    'imagePullSecrets', 'hostname', 'subdomain', 'affinity', 'schedulerName', 'tolerations', 'hostAliases', 'priorityClassName', 'priority',
    'dnsConfig', 'readinessGates', 'runtimeClassName', 'enableServiceLinks', 'preemptionPolicy', 'overhead', 'topologySpreadConstraints',
    'setHostnameAsFQDN', 'os', 'hostUsers', 'schedulingGates', 'resourceClaims', 'resources', 'ephemeralContainers'),
  containers: [CONTAINER],
  initContainers: [CONTAINER],
};

const TEMPLATE: Schema = { metadata: METADATA, spec: POD_SPEC };

/** The known top-level shape of each built-in kind the sandbox serves. */
const KIND_SCHEMAS: Record<string, Schema> = {
  DaemonSet: {
    ...known('apiVersion', 'kind', 'status'),
    metadata: METADATA,
    spec: { ...known('selector', 'updateStrategy', 'minReadySeconds', 'revisionHistoryLimit'), template: TEMPLATE },
  },
  Deployment: {
    ...known('apiVersion', 'kind', 'status'),
    metadata: METADATA,
    spec: { ...known('replicas', 'selector', 'strategy', 'minReadySeconds', 'revisionHistoryLimit', 'paused', 'progressDeadlineSeconds'), template: TEMPLATE },
  },
  ConfigMap: { ...known('apiVersion', 'kind', 'immutable', 'binaryData'), metadata: METADATA, data: MAP },
  Secret: { ...known('apiVersion', 'kind', 'immutable', 'type'), metadata: METADATA, data: MAP, stringData: MAP },
  ServiceAccount: { ...known('apiVersion', 'kind', 'secrets', 'imagePullSecrets', 'automountServiceAccountToken'), metadata: METADATA },
  Namespace: { ...known('apiVersion', 'kind', 'spec', 'status'), metadata: METADATA },
  Node: { ...known('apiVersion', 'kind', 'spec', 'status'), metadata: METADATA },
  Pod: { ...known('apiVersion', 'kind', 'status'), metadata: METADATA, spec: POD_SPEC },
  ClusterRole: { ...known('apiVersion', 'kind', 'rules', 'aggregationRule'), metadata: METADATA },
  Role: { ...known('apiVersion', 'kind', 'rules'), metadata: METADATA },
  ClusterRoleBinding: { ...known('apiVersion', 'kind', 'subjects', 'roleRef'), metadata: METADATA },
  RoleBinding: { ...known('apiVersion', 'kind', 'subjects', 'roleRef'), metadata: METADATA },
};

/** The unknown fields of an object, spelled as the API server does: `spec.template.spec.containers[0].foo`. */
export function unknownFields(obj: KubeObject): string[] {
  const schema = KIND_SCHEMAS[obj.kind];
  if (!schema) return [];
  const out: string[] = [];
  const walk = (value: unknown, at: Schema, where: string): void => {
    if (at === ANY || at === MAP) return;
    if (Array.isArray(at)) {
      if (Array.isArray(value)) value.forEach((item, i) => walk(item, at[0], `${where}[${i}]`));
      return;
    }
    if (!isRecord(value)) return;
    for (const [k, v] of Object.entries(value)) {
      const next = at[k];
      const path = where ? `${where}.${k}` : k;
      if (next === undefined) out.push(path);
      else walk(v, next, path);
    }
  };
  walk(obj, schema, '');
  return out;
}

function goStringMap(value: unknown): string {
  if (!isRecord(value)) return 'map[string]string(nil)';
  const entries = Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(String(value[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

function goLabelSelector(selector: unknown): string {
  const s = isRecord(selector) ? selector : {};
  const expressions = Array.isArray(s.matchExpressions) && s.matchExpressions.length > 0
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
        .filter(isRecord)
        .map((e) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key ?? '')}, Operator:${JSON.stringify(e.operator ?? '')}, Values:[]string{${((e.values as unknown[]) ?? []).map((v) => JSON.stringify(v)).join(', ')}}}`)
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels)}, MatchExpressions:${expressions}}`;
}

function selectorMatches(selector: unknown, labels: Record<string, unknown>): boolean {
  if (!isRecord(selector)) return false;
  const matchLabels = isRecord(selector.matchLabels) ? selector.matchLabels : {};
  const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions.filter(isRecord) : [];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return false;
  for (const [k, v] of Object.entries(matchLabels)) if (labels[k] !== v) return false;
  return expressions.every((e) => {
    const k = String(e.key ?? '');
    const values = Array.isArray(e.values) ? e.values.map(String) : [];
    const has = k in labels;
    switch (e.operator) {
      case 'In':
        return has && values.includes(String(labels[k]));
      case 'NotIn':
        return !has || !values.includes(String(labels[k]));
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
}

/** The apps/v1 rules for DaemonSets and Deployments: a selector matching the template's labels, immutable after creation. */
export function invalidWorkload(obj: KubeObject, existing: KubeObject | undefined): FieldError[] {
  if (obj.kind !== 'DaemonSet' && obj.kind !== 'Deployment') return [];
  const spec = isRecord(obj.spec) ? obj.spec : {};
  const template = isRecord(spec.template) ? spec.template : {};
  const templateMeta = isRecord(template.metadata) ? template.metadata : {};
  const labels = isRecord(templateMeta.labels) ? templateMeta.labels : {};
  const out: FieldError[] = [];
  if (!isRecord(spec.selector)) {
    out.push(required('spec.selector'));
  } else if (!selectorMatches(spec.selector, labels)) {
    out.push(invalid('spec.template.metadata.labels', { go: goStringMap(labels) }, '`selector` does not match template `labels`'));
  }
  const before = existing && isRecord(existing.spec) ? existing.spec.selector : undefined;
  if (existing && canonicalJson(before) !== canonicalJson(spec.selector)) {
    out.push(invalid('spec.selector', { go: goLabelSelector(spec.selector) }, 'field is immutable'));
  }
  return out;
}
