/**
 * What kube-apiserver's validation refuses (422 Invalid) in the objects vpccni and the tests write: DaemonSets,
 * Deployments and Pods (their pod spec), ConfigMaps, ServiceAccounts, CRDs and every object's name. The rules and
 * their order follow Kubernetes v1.33's `pkg/apis/core/validation/validation.go` (ValidateVolumes,
 * validateContainers, validateInitContainers, validateContainerCommon, validateContainerPorts, ValidateEnv,
 * validateEnvVarValueFrom, ValidateVolumeMounts, validateResourceRequirements, validateProbe, validateHandler,
 * ValidateConfigMap), apimachinery's `pkg/api/validation/objectmeta.go` and apiextensions-apiserver's
 * ValidateCustomResourceDefinition. The server validates the defaulted object: fields the defaulters fill (a port's
 * protocol, imagePullPolicy, terminationMessagePolicy, a probe's periods) are only checked when they are set.
 */
import { isRecord } from './kube-store.js';
import {
  canonicalQuantity,
  duplicate,
  forbidden,
  invalid,
  isConfigMapKey,
  isDns1123Label,
  isDns1123Subdomain,
  isEnvVarName,
  isRelaxedEnvVarName,
  isValidPortName,
  isValidPortNum,
  notFound,
  notSupported,
  parseQuantity,
  required,
  type FieldError,
} from './kube-field-errors.js';

type Json = Record<string, unknown>;

/** A Kubernetes object as the API receives it (structurally the sandbox's KubeObject; no import of the product's modules). */
type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; [key: string]: unknown }; [key: string]: unknown };

const record = (value: unknown): Json => (isRecord(value) ? value : {});
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const text = (value: unknown): string => (typeof value === 'string' ? value : '');
const isSet = (value: unknown): boolean => value !== undefined && value !== null;

/** Which rules apply: RelaxedEnvironmentVariableValidation is on by default from Kubernetes 1.32. */
export interface ValidationOptions {
  kubernetesVersion: string;
}

function relaxedEnvNames(version: string): boolean {
  const [major = 1, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return major > 1 || minor >= 32;
}

/** Every field error of `obj` a v1.33 API server reports on create or update (the selector rules are in kube-validation.ts). */
export function validateObject(obj: KubeObject, options: ValidationOptions): FieldError[] {
  const errs = validateName(obj);
  const spec = record(obj.spec);
  switch (obj.kind) {
    case 'DaemonSet':
    case 'Deployment': {
      const template = record(spec.template);
      errs.push(...validatePodSpec(record(template.spec), 'spec.template.spec', options));
      break;
    }
    case 'Pod':
      errs.push(...validatePodSpec(spec, 'spec', options));
      break;
    case 'ConfigMap':
      errs.push(...validateConfigMap(obj));
      break;
    default:
      break;
  }
  return errs;
}

/** ValidateObjectMeta's name rule per kind: a DNS-1123 label for namespaces, `<plural>.<group>` for CRDs, else a DNS-1123 subdomain. */
function validateName(obj: KubeObject): FieldError[] {
  const name = obj.metadata.name;
  if (!name) return [required('metadata.name', 'name or generateName is required')];
  let messages = obj.kind === 'Namespace' ? isDns1123Label(name) : isDns1123Subdomain(name);
  if (obj.kind === 'CustomResourceDefinition') {
    const spec = record(obj.spec);
    if (name !== `${text(record(spec.names).plural)}.${text(spec.group)}`) messages = [...messages, 'must be spec.names.plural+"."+spec.group'];
  }
  return messages.map((m) => invalid('metadata.name', name, m));
}

/** ValidateConfigMap: every key of data and binaryData a config key. */
function validateConfigMap(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = record(obj.data);
  for (const key of Object.keys(data)) for (const m of isConfigMapKey(key)) errs.push(invalid(`data[${key}]`, key, m));
  for (const key of Object.keys(record(obj.binaryData))) {
    for (const m of isConfigMapKey(key)) errs.push(invalid(`binaryData[${key}]`, key, m));
  }
  return errs;
}

/** The VolumeSource members, in the order validateVolumeSource counts them. */
const VOLUME_SOURCES = [
  'emptyDir', 'hostPath', 'gitRepo', 'gcePersistentDisk', 'awsElasticBlockStore', 'secret', 'nfs', 'iscsi', 'glusterfs', 'flocker',
  'persistentVolumeClaim', 'rbd', 'cinder', 'cephfs', 'quobyte', 'downwardAPI', 'fc', 'flexVolume', 'configMap', 'azureFile',
  'vsphereVolume', 'photonPersistentDisk', 'portworxVolume', 'azureDisk', 'storageos', 'projected', 'scaleIO', 'csi', 'ephemeral', 'image',
];

/** ValidatePodSpec, the parts above: volumes, then containers, then init containers. */
function validatePodSpec(spec: Json, path: string, options: ValidationOptions): FieldError[] {
  const { errs, volumes } = validateVolumes(list(spec.volumes), `${path}.volumes`);
  const containers = list(spec.containers).map(record);
  if (containers.length === 0) errs.push(required(`${path}.containers`));
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const at = `${path}.containers[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, at, options));
    if (names.has(text(c.name))) errs.push(duplicate(`${at}.name`, text(c.name)));
    else names.add(text(c.name));
    errs.push(...validateLifecycle(c.lifecycle, `${at}.lifecycle`));
    errs.push(...validateProbes(c, at));
    if (isSet(c.restartPolicy)) errs.push(forbidden(`${at}.restartPolicy`, 'may not be set for non-init containers'));
  });
  list(spec.initContainers).map(record).forEach((c, i) => {
    const at = `${path}.initContainers[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, at, options));
    const restartAlways = c.restartPolicy === 'Always';
    if (isSet(c.restartPolicy) && !restartAlways) errs.push(notSupported(`${at}.restartPolicy`, text(c.restartPolicy), ['Always']));
    // Names are unique across regular and init containers.
    if (names.has(text(c.name))) errs.push(duplicate(`${at}.name`, text(c.name)));
    else if (text(c.name)) names.add(text(c.name));
    if (restartAlways) {
      errs.push(...validateLifecycle(c.lifecycle, `${at}.lifecycle`));
      errs.push(...validateProbes(c, at));
    } else {
      for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (isSet(c[f])) errs.push(forbidden(`${at}.${f}`, 'may not be set for init containers without restartPolicy=Always'));
      }
    }
  });
  return errs;
}

/** ValidateVolumes: one source each, a unique DNS-1123 label for a name; only volumes without errors can be mounted. */
function validateVolumes(volumes: unknown[], path: string): { errs: FieldError[]; volumes: Set<string> } {
  const errs: FieldError[] = [];
  const valid = new Set<string>();
  const all = new Set<string>();
  volumes.map(record).forEach((vol, i) => {
    const at = `${path}[${i}]`;
    const el: FieldError[] = [];
    let count = 0;
    for (const source of VOLUME_SOURCES) {
      if (!isSet(vol[source])) continue;
      if (count > 0) el.push(forbidden(`${at}.${source}`, 'may not specify more than 1 volume type'));
      else {
        count++;
        if (source === 'hostPath' && !text(record(vol.hostPath).path)) el.push(required(`${at}.hostPath.path`));
      }
    }
    if (count === 0) el.push(required(at, 'must specify a volume type'));
    const name = text(vol.name);
    if (!name) el.push(required(`${at}.name`));
    else for (const m of isDns1123Label(name)) el.push(invalid(`${at}.name`, name, m));
    if (all.has(name)) el.push(duplicate(`${at}.name`, name));
    if (el.length === 0) valid.add(name);
    all.add(name);
    errs.push(...el);
  });
  return { errs, volumes: valid };
}

/** validateContainerCommon: name, image, ports, env, volume mounts, pull policy, resources. */
function validateContainerCommon(c: Json, volumes: Set<string>, at: string, options: ValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const name = text(c.name);
  if (!name) errs.push(required(`${at}.name`));
  else for (const m of isDns1123Label(name)) errs.push(invalid(`${at}.name`, name, m));
  if (!text(c.image)) errs.push(required(`${at}.image`));
  if (isSet(c.terminationMessagePolicy) && !['File', 'FallbackToLogsOnError'].includes(text(c.terminationMessagePolicy))) {
    errs.push(notSupported(`${at}.terminationMessagePolicy`, text(c.terminationMessagePolicy), ['File', 'FallbackToLogsOnError']));
  }
  errs.push(...validatePorts(list(c.ports), `${at}.ports`));
  errs.push(...validateEnv(list(c.env), `${at}.env`, options));
  errs.push(...validateVolumeMounts(list(c.volumeMounts), volumes, `${at}.volumeMounts`));
  if (isSet(c.imagePullPolicy) && !['Always', 'IfNotPresent', 'Never'].includes(text(c.imagePullPolicy))) {
    errs.push(notSupported(`${at}.imagePullPolicy`, text(c.imagePullPolicy), ['Always', 'IfNotPresent', 'Never']));
  }
  errs.push(...validateResources(record(c.resources), `${at}.resources`));
  return errs;
}

/** validateContainerPorts: IANA_SVC_NAME names, unique; container ports 1–65535; protocol TCP, UDP or SCTP (TCP by default). */
function validatePorts(ports: unknown[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.map(record).forEach((port, i) => {
    const at = `${path}[${i}]`;
    const name = text(port.name);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length) for (const m of msgs) errs.push(invalid(`${at}.name`, name, m));
      else if (names.has(name)) errs.push(duplicate(`${at}.name`, name));
      else names.add(name);
    }
    const containerPort = Number(port.containerPort ?? 0);
    if (!containerPort) errs.push(required(`${at}.containerPort`));
    else for (const m of isValidPortNum(containerPort)) errs.push(invalid(`${at}.containerPort`, containerPort, m));
    const hostPort = Number(port.hostPort ?? 0);
    if (hostPort) for (const m of isValidPortNum(hostPort)) errs.push(invalid(`${at}.hostPort`, hostPort, m));
    if (isSet(port.protocol) && !['SCTP', 'TCP', 'UDP'].includes(text(port.protocol))) {
      errs.push(notSupported(`${at}.protocol`, text(port.protocol), ['SCTP', 'TCP', 'UDP']));
    }
  });
  return errs;
}

/** validEnvDownwardAPIFieldPathExpressions (v1.33) */
const ENV_FIELD_PATHS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs'];

/** ValidateEnv and validateEnvVarValueFrom: a name each, and a valueFrom of exactly one source unless value is set. */
function validateEnv(vars: unknown[], path: string, options: ValidationOptions): FieldError[] {
  const errs: FieldError[] = [];
  const rule = relaxedEnvNames(options.kubernetesVersion) ? isRelaxedEnvVarName : isEnvVarName;
  vars.map(record).forEach((ev, i) => {
    const at = `${path}[${i}]`;
    const name = text(ev.name);
    if (!name) errs.push(required(`${at}.name`));
    else for (const m of rule(name)) errs.push(invalid(`${at}.name`, name, m));
    if (!isSet(ev.valueFrom)) return;
    const from = record(ev.valueFrom);
    const fromAt = `${at}.valueFrom`;
    const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((s) => isSet(from[s]));
    if (isSet(from.fieldRef)) {
      const ref = record(from.fieldRef);
      const fieldPath = text(ref.fieldPath);
      if (!fieldPath) errs.push(required(`${fromAt}.fieldRef.fieldPath`));
      else if (!ENV_FIELD_PATHS.includes(fieldPath) && !/^metadata\.(labels|annotations)\[.+\]$/.test(fieldPath)) {
        errs.push(notSupported(`${fromAt}.fieldRef.fieldPath`, fieldPath, ENV_FIELD_PATHS));
      }
    }
    for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
      if (!isSet(from[ref])) continue;
      const key = text(record(from[ref]).key);
      if (!key) errs.push(required(`${fromAt}.${ref}.key`));
      else for (const m of isConfigMapKey(key)) errs.push(invalid(`${fromAt}.${ref}.key`, key, m));
    }
    if (sources.length === 0) errs.push(invalid(fromAt, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    else if (text(ev.value)) errs.push(invalid(fromAt, '', 'may not be specified when `value` is not empty'));
    else if (sources.length > 1) errs.push(invalid(fromAt, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

/** ValidateVolumeMounts: a name naming a (valid) volume, a unique mount path. */
function validateVolumeMounts(mounts: unknown[], volumes: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const paths = new Set<string>();
  mounts.map(record).forEach((mnt, i) => {
    const at = `${path}[${i}]`;
    const name = text(mnt.name);
    const mountPath = text(mnt.mountPath);
    if (!name) errs.push(required(`${at}.name`));
    if (!volumes.has(name)) errs.push(notFound(`${at}.name`, name));
    if (!mountPath) errs.push(required(`${at}.mountPath`));
    if (paths.has(mountPath)) errs.push(invalid(`${at}.mountPath`, mountPath, 'must be unique'));
    paths.add(mountPath);
  });
  return errs;
}

/** The standard container resource names (isStandardContainerResourceName); names with a `/` are extended resources. */
function validResourceName(name: string): boolean {
  return name.includes('/') || ['cpu', 'memory', 'ephemeral-storage'].includes(name) || name.startsWith('hugepages-');
}

/** validateResourceRequirements: standard names, no negative quantity, requests ≤ limits; quantities printed canonical (Quantity.String()). */
function validateResources(resources: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const limits = record(resources.limits);
  const requests = record(resources.requests);
  const check = (kind: 'limits' | 'requests', name: string, raw: unknown): number | undefined => {
    const at = `${path}.${kind}[${name}]`;
    if (!validResourceName(name)) errs.push(invalid(at, name, 'must be a standard resource for containers'));
    const q = parseQuantity(raw);
    if ('error' in q) return undefined;
    if (q.value < 0) errs.push(invalid(at, canonicalQuantity(raw), 'must be greater than or equal to 0'));
    return q.value;
  };
  for (const [name, raw] of Object.entries(limits)) check('limits', name, raw);
  for (const [name, raw] of Object.entries(requests)) {
    const value = check('requests', name, raw);
    if (value === undefined || !(name in limits)) continue;
    const limit = parseQuantity(limits[name]);
    if ('value' in limit && value > limit.value) {
      errs.push(invalid(`${path}.requests`, canonicalQuantity(raw), `must be less than or equal to ${name} limit of ${canonicalQuantity(limits[name])}`));
    }
  }
  return errs;
}

/** validateLivenessProbe, validateReadinessProbe, validateStartupProbe. */
function validateProbes(c: Json, at: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (!isSet(c[kind])) continue;
    const probe = record(c[kind]);
    const path = `${at}.${kind}`;
    errs.push(...validateHandler(probe, ['exec', 'httpGet', 'tcpSocket', 'grpc'], path));
    for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
      const value = probe[f];
      if (typeof value === 'number' && value < 0) errs.push(invalid(`${path}.${f}`, value, 'must be greater than or equal to 0'));
    }
    if (kind !== 'readinessProbe' && typeof probe.successThreshold === 'number' && probe.successThreshold !== 1 && probe.successThreshold > 0) {
      errs.push(invalid(`${path}.successThreshold`, probe.successThreshold, 'must be 1'));
    }
  }
  return errs;
}

/** validateLifecycle: postStart and preStop handlers. */
function validateLifecycle(lifecycle: unknown, path: string): FieldError[] {
  if (!isSet(lifecycle)) return [];
  const l = record(lifecycle);
  return ['postStart', 'preStop'].flatMap((h) => (isSet(l[h]) ? validateHandler(record(l[h]), ['exec', 'httpGet', 'tcpSocket', 'sleep'], `${path}.${h}`) : []));
}

/** validateHandler: exactly one handler type; an exec needs a command, a port must be a valid number or name. */
function validateHandler(handler: Json, kinds: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const kind of kinds) {
    if (!isSet(handler[kind])) continue;
    if (count > 0) {
      errs.push(forbidden(`${path}.${kind}`, 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    const h = record(handler[kind]);
    if (kind === 'exec' && list(h.command).length === 0) errs.push(required(`${path}.exec.command`));
    if (kind === 'httpGet' || kind === 'tcpSocket' || kind === 'grpc') errs.push(...validatePortNumOrName(h.port, `${path}.${kind}.port`));
  }
  if (count === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

/** ValidatePortNumOrName */
function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return isValidPortNum(port).map((m) => invalid(path, port, m));
  if (typeof port === 'string') return isValidPortName(port).map((m) => invalid(path, port, m));
  return isValidPortNum(0).map((m) => invalid(path, 0, m));
}

/** The quantities a pod spec holds that do not parse: the API server cannot decode the object (400, not 422). */
export function quantityDecodeError(obj: KubeObject): string | undefined {
  const spec = obj.kind === 'Pod' ? record(obj.spec) : record(record(record(obj.spec).template).spec);
  if (obj.kind !== 'Pod' && obj.kind !== 'DaemonSet' && obj.kind !== 'Deployment') return undefined;
  const quantities: unknown[] = [];
  for (const c of [...list(spec.containers), ...list(spec.initContainers)].map(record)) {
    const resources = record(c.resources);
    quantities.push(...Object.values(record(resources.limits)), ...Object.values(record(resources.requests)));
  }
  for (const v of list(spec.volumes).map(record)) if (isSet(record(v.emptyDir).sizeLimit)) quantities.push(record(v.emptyDir).sizeLimit);
  for (const q of quantities) {
    const parsed = parseQuantity(q);
    if ('error' in parsed) return parsed.error;
  }
  return undefined;
}
