/**
 * How EKS applies the vpc-cni add-on to the cluster, as far as the sandbox needs it: the desired
 * DaemonSet (the upstream manifest of the version plus the configuration values), conflict detection
 * against what EKS last applied, the PRESERVE / OVERWRITE / NONE rules, asynchronous updates and faults.
 * https://docs.aws.amazon.com/eks/latest/userguide/vpc-add-on-update.html
 * https://repost.aws/knowledge-center/eks-prevent-conflicts-managed-addons
 */
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { yamlLib } from '../formats/yaml-files.js';
import { canonicalJson } from '../formats/json.js';
import type { KubeObject } from '../formats/kube-object.js';
import type { ResolvedScenario } from './scenario.js';
import type { ScenarioFaults } from './scenario-types.js';
import type { PodIdentityStore } from './pod-identity.js';
import { Gate } from './gates.js';
import { renderAddon, type ChartValues } from './chart-render.js';
import { eksRegistryFor, regionPartition } from './registries.js';
import { minorDistance, parseVersion } from './versions.js';
import { strategicMerge } from './kube-api.js';
import { ApplyConflictError, serverSideApply, setAt, valueAt } from './kube-ssa.js';

/** The configuration values of an add-on (the chart's values; see chart-render.ts). */
export type ConfigurationValues = ChartValues;

/** A container as the sandbox's helpers touch it. */
export type Container = {
  name: string;
  image?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: unknown }>;
  args?: string[];
  resources?: unknown;
  livenessProbe?: { timeoutSeconds?: number };
  readinessProbe?: { timeoutSeconds?: number };
};
/** The pod spec parts the sandbox touches. */
export type PodSpec = { containers: Container[]; initContainers?: Container[]; affinity?: unknown; tolerations?: unknown };

/** The pod spec of a DaemonSet or Deployment. */
export function podSpecOf(workload: KubeObject): PodSpec {
  return (workload.spec as { template: { spec: PodSpec } }).template.spec;
}

/** Sets (or with null removes) env vars of one container. */
export function setEnv(container: Container | undefined, env: Record<string, string | null>): void {
  if (!container) return;
  container.env ??= [];
  for (const [name, value] of Object.entries(env)) {
    const index = container.env.findIndex((e) => e.name === name);
    if (value === null) {
      if (index >= 0) container.env.splice(index, 1);
    } else if (index >= 0) {
      container.env[index] = { name, value };
    } else {
      container.env.push({ name, value });
    }
  }
}

const require = createRequire(import.meta.url);
const validators = new Map<string, ValidateFunction>();

/**
 * Ajv, used directly, on the schema the sandbox serves: draft-06 (the schemas' `$schema`), every error reported,
 * and the schemas' two custom formats for env strings: `boolean` ("true"/"false"; any case, as the sandbox has
 * always accepted: no real EKS answer on the case was found) and `integer` (an optionally signed whole number).
 */
function schemaValidator(schemaText: string): ValidateFunction {
  let validate = validators.get(schemaText);
  if (!validate) {
    const { Ajv } = require('ajv') as typeof import('ajv');
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true });
    ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json') as object);
    ajv.addFormat('boolean', /^(true|false)$/i);
    ajv.addFormat('integer', /^[+-]?\d+$/);
    validate = ajv.compile(JSON.parse(schemaText) as object);
    validators.set(schemaText, validate);
  }
  return validate;
}

/** The part of the KubeStore the controller needs (kept structural so it can be tested alone). */
export interface ObjectStore {
  get(apiVersion: string, kind: string, name: string, namespace?: string): KubeObject | undefined;
  /** `manager: null` stores managedFields as given (a server-side apply's result). */
  put(obj: KubeObject, options?: { manager?: string | null }): KubeObject;
  delete(apiVersion: string, kind: string, name: string, namespace?: string): boolean;
}

/** An EKS error as the REST-JSON protocol sends it: HTTP status, `x-amzn-ErrorType`, `{"message"}`. */
export class EksApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'EksApiError';
  }
}

/** The add-on name the sandbox emulates. */
export const ADDON_NAME = 'vpc-cni';

/** The configuration schema per version now comes from fixtures/addon-configuration/index.json (./schemas.ts). */
import { configurationSchemaFor } from './schemas.js'; export { configurationSchemaFor };

/** `$.env.X` from Ajv's `/env/X`, in the JSONPath style EKS's validator uses. */
function jsonPath(instancePath: string): string {
  return `$${instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('')}`;
}

function eksSchemaMessage(error: ErrorObject): string {
  const at = jsonPath(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `${at}.${String(params.additionalProperty)}: is not defined in the schema and the schema does not allow additional properties`;
    case 'type':
      return `${at}: ${Array.isArray(params.type) ? params.type.join(', ') : String(params.type)} expected`;
    case 'format':
      return `${at}: does not match the ${String(params.format)} pattern`;
    case 'required':
      return `${at}.${String(params.missingProperty)}: is missing but it is required`;
    case 'minProperties':
      return `${at}: should have a minimum of ${String(params.limit)} properties`;
    default:
      return `${at}: ${error.message ?? 'is not valid'}`;
  }
}

/**
 * Parses and validates configuration values (JSON or YAML text) against the version's schema, failing the
 * way EKS does: InvalidParameterException "ConfigurationValue provided in request is not supported [...]".
 */
export function validateConfigurationValues(version: string, text: string | undefined | null): ConfigurationValues {
  if (text === undefined || text === null || text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = yamlLib().parse(text); // YAML is a superset of JSON; EKS accepts both
  } catch {
    throw new EksApiError(400, 'InvalidParameterException', 'ConfigurationValue provided in request is not valid JSON or YAML');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new EksApiError(
      400,
      'InvalidParameterException',
      `ConfigurationValue provided in request is not supported [$: ${Array.isArray(parsed) ? 'array' : typeof parsed} found, object expected]`,
    );
  }
  const validate = schemaValidator(configurationSchemaFor(version));
  if (!validate(parsed)) {
    const messages = (validate.errors ?? []).filter((e) => e.keyword !== 'if').map(eksSchemaMessage);
    throw new EksApiError(
      400,
      'InvalidParameterException',
      `ConfigurationValue provided in request is not supported [${[...new Set(messages)].join(', ')}]`,
    );
  }
  return parsed as ConfigurationValues;
}

/** One field EKS compares before applying: where it is, and its value (undefined when absent). */
interface Field {
  path: string;
  value: unknown;
  set(target: KubeObject, value: unknown): void;
}


function leaves(value: unknown, prefix: string[] = []): Array<[string[], unknown]> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([k, v]) => leaves(v, [...prefix, k]));
  }
  return [[prefix, value]];
}

/**
 * The fields conflicts are computed on: env entries of every container and init container, resources,
 * affinity and tolerations. Keys are stable, paths are spelled as EKS's conflict messages spell them.
 */
function comparedFields(ds: KubeObject): Map<string, Field> {
  const fields = new Map<string, Field>();
  const pod = podSpecOf(ds);
  for (const key of ['containers', 'initContainers'] as const) {
    for (const container of pod[key] ?? []) {
      const base = `.spec.template.spec.${key}[name="${container.name}"]`;
      const find = (target: KubeObject): Container | undefined => podSpecOf(target)[key]?.find((c) => c.name === container.name);
      for (const entry of container.env ?? []) {
        const { name, ...rest } = entry;
        fields.set(`${base}.env[name="${name}"]`, {
          path: `${base}.env[name="${name}"].${'valueFrom' in rest ? 'valueFrom' : 'value'}`,
          value: rest,
          set(target, value) {
            const c = find(target);
            if (!c) return;
            c.env ??= [];
            const index = c.env.findIndex((e) => e.name === name);
            const next = { name, ...(value as object) };
            if (index >= 0) c.env[index] = next;
            else c.env.push(next);
          },
        });
      }
      for (const [path, value] of leaves(container.resources ?? {})) {
        if (path.length === 0) continue;
        fields.set(`${base}.resources.${path.join('.')}`, {
          path: `${base}.resources.${path.join('.')}`,
          value,
          set(target, v) {
            const c = find(target);
            if (!c) return;
            let node = ((c.resources ??= {}) as Record<string, unknown>);
            for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
            node[path.at(-1) as string] = v;
          },
        });
      }
    }
  }
  for (const key of ['affinity', 'tolerations'] as const) {
    if (pod[key] === undefined) continue;
    fields.set(`.spec.template.spec.${key}`, {
      path: `.spec.template.spec.${key}`,
      value: pod[key],
      set(target, v) {
        podSpecOf(target)[key] = structuredClone(v) as never;
      },
    });
  }
  return fields;
}

/**
 * The conflicting fields: set on the live object to something other than what EKS last applied (`base`)
 * and other than what it wants to apply now (`desired`). Fields removed from the live object are not
 * owned by anyone else, so EKS simply puts them back (as server-side apply does).
 */
export function findConflicts(live: KubeObject, base: KubeObject, desired: KubeObject): string[] {
  const liveFields = comparedFields(live);
  const baseFields = comparedFields(base);
  const desiredFields = comparedFields(desired);
  const conflicts: string[] = [];
  // An absent field is never equal to a present one, whatever its value.
  const text = (field: Field | undefined) => (field ? canonicalJson(field.value) : undefined);
  for (const [key, field] of liveFields) {
    const value = text(field);
    if (value !== text(baseFields.get(key)) && value !== text(desiredFields.get(key))) {
      conflicts.push(field.path);
    }
  }
  return conflicts;
}

/** What EKS writes: the desired object, with the live values of conflicting fields under PRESERVE. */
export function resolveConflicts(
  live: KubeObject | undefined,
  base: KubeObject,
  desired: KubeObject,
  mode: 'NONE' | 'OVERWRITE' | 'PRESERVE',
): { result: KubeObject; conflicts: string[] } {
  const result = structuredClone(desired);
  if (!live) return { result, conflicts: [] };
  const conflicts = findConflicts(live, base, desired);
  if (mode === 'PRESERVE') {
    const liveFields = comparedFields(live);
    for (const field of liveFields.values()) {
      if (conflicts.includes(field.path)) field.set(result, structuredClone(field.value));
    }
  }
  return { result, conflicts: mode === 'NONE' ? conflicts : [] };
}

/** EKS's ConfigurationConflict message for a list of conflicting DaemonSet fields. */
export function conflictMessage(paths: string[]): string {
  return `Conflicts found when trying to apply. Will not continue due to resolve conflicts mode. Conflicts: ${paths
    .map((p) => `DaemonSet.apps aws-node - ${p}`)
    .join(' ')}`;
}

/** The field manager EKS applies add-ons with. */
export const EKS_FIELD_MANAGER = 'eks';

/** `DaemonSet.apps`, `ConfigMap`, `CustomResourceDefinition.apiextensions.k8s.io`: how EKS names a kind in a conflict. */
function kindLabel(obj: KubeObject): string {
  const slash = obj.apiVersion.indexOf('/');
  return slash < 0 ? obj.kind : `${obj.kind}.${obj.apiVersion.slice(0, slash)}`;
}

/** EKS's ConfigurationConflict message for conflicts already named "<Kind> <name> - <path>". */
export function eksConflictMessage(conflicts: string[]): string {
  return `Conflicts found when trying to apply. Will not continue due to resolve conflicts mode. Conflicts: ${conflicts.join(' ')}`;
}

/** The add-on as DescribeAddon returns it (timestamps in epoch seconds, as on the wire). */
export interface AddonRecord {
  addonName: string;
  clusterName: string;
  status: string;
  addonVersion: string;
  health: { issues: Array<{ code: string; message: string; resourceIds: string[] }> };
  addonArn: string;
  createdAt: number;
  modifiedAt: number;
  serviceAccountRoleArn?: string;
  tags: Record<string, string>;
  publisher: string;
  owner: string;
  configurationValues?: string;
  /** ARNs of the Pod Identity associations the add-on owns. */
  podIdentityAssociations?: string[];
}

/** An add-on update as DescribeUpdate returns it. */
export interface UpdateRecord {
  id: string;
  status: 'InProgress' | 'Failed' | 'Cancelled' | 'Successful';
  type: 'AddonUpdate';
  params: Array<{ type: string; value: string }>;
  createdAt: number;
  errors: Array<{ errorCode: string; errorMessage: string; resourceIds: string[] }>;
}

/** Parameters of CreateAddon / UpdateAddon as they arrive in the JSON body. */
export interface AddonChangeInput {
  addonVersion?: string;
  serviceAccountRoleArn?: string;
  resolveConflicts?: string;
  configurationValues?: string;
  tags?: Record<string, string>;
  /** The idempotency token: a repeated UpdateAddon with the same token returns the same update, as EKS does. */
  clientRequestToken?: string;
  /** Pod Identity associations the add-on creates and owns (replaces the owned set on UpdateAddon). */
  podIdentityAssociations?: Array<{ serviceAccount: string; roleArn: string }>;
}

/** The health issue a failed-but-applied change leaves (sandbox fault `failedButApplied`). */
const APPLIED_FAILURE = {
  code: 'InsufficientNumberOfReplicas',
  message: "The add-on is unhealthy because it doesn't have the desired number of replicas.",
};

const epochSeconds = (): number => Date.now() / 1000;
const DS_KEY = ['apps/v1', 'DaemonSet', 'aws-node', 'kube-system'] as const;

/** The EKS side of one sandbox cluster's vpc-cni add-on. */
export class AddonController {
  addon: AddonRecord | null = null;
  readonly updates = new Map<string, UpdateRecord>();
  private readonly updatesByToken = new Map<string, UpdateRecord>();
  /** The DaemonSet EKS last applied (what conflicts are computed against); null before the add-on exists. */
  lastApplied: KubeObject | null = null;
  private changeCount = 0;
  private readonly registry: string;
  /** The eks-change gate: each change waits in it (for updateDurationMs while open) before it finishes. */
  readonly gate: Gate;

  constructor(
    readonly scenario: ResolvedScenario,
    readonly store: ObjectStore,
    readonly options: { updateDurationMs?: number; faults?: ScenarioFaults; gate?: Gate; podIdentity?: PodIdentityStore } = {},
  ) {
    this.gate = options.gate ?? new Gate('eks-change');
    const { cluster } = scenario;
    this.registry = eksRegistryFor(cluster.region);
    const initial = scenario.addon;
    if (initial) {
      const now = epochSeconds() - 86_400;
      this.addon = {
        addonName: ADDON_NAME,
        clusterName: cluster.name,
        status: initial.status,
        addonVersion: initial.version,
        health: { issues: initial.health.map((h) => ({ ...h, resourceIds: h.resourceIds ?? [] })) },
        addonArn: this.addonArn(),
        createdAt: now,
        modifiedAt: now,
        ...(initial.serviceAccountRoleArn ? { serviceAccountRoleArn: initial.serviceAccountRoleArn } : {}),
        tags: { ...initial.tags },
        publisher: 'eks',
        owner: 'aws',
        ...(initial.configurationValues ? { configurationValues: initial.configurationValues } : {}),
      };
      this.lastApplied = this.desired(initial.version, initial.configurationValues);
      const addon = this.addon;
      const owned = scenario.podIdentityAssociations.filter((a) => a.ownedByAddon);
      if (owned.length > 0 && options.podIdentity) {
        addon.podIdentityAssociations = owned.map((a) => options.podIdentity!.create(a, addon.addonArn).associationArn);
      }
    }
    // Associations nobody owns exist whether or not the add-on does.
    for (const a of scenario.podIdentityAssociations.filter((x) => !x.ownedByAddon || !this.addon)) options.podIdentity?.create(a);
  }

  /**
   * Starts what the scenario set in motion: a DEGRADED add-on recovering on its own (`degradedRecovers`).
   * Called once the sandbox is up, so that the wait goes through the sandbox's gate.
   */
  start(): void {
    if (this.addon?.status === 'DEGRADED') this.recoverLater(this.addon);
  }

  /** `faults.degradedRecovers`: the add-on goes from DEGRADED to ACTIVE after one more wait. */
  private recoverLater(addon: AddonRecord): void {
    if (!this.options.faults?.degradedRecovers) return;
    this.defer(() => {
      if (this.addon !== addon || addon.status !== 'DEGRADED') return;
      addon.status = 'ACTIVE';
      addon.health = { issues: [] };
      addon.modifiedAt = epochSeconds();
    }, `Recover ${ADDON_NAME} from DEGRADED`);
  }

  /** One wait of the EKS side (a recovery, a deletion) through the eks-change gate. */
  private defer(advance: () => void, label: string): void {
    // The eks-change gate: updateDurationMs while open; a test holds it and steps or releases.
    this.gate.after(this.options.updateDurationMs ?? this.scenario.sandbox.updateDurationMs, advance, label);
  }

  /** Pod Identity associations of a CreateAddon / UpdateAddon, checked before anything changes. */
  private checkPodIdentity(list: AddonChangeInput['podIdentityAssociations']): void {
    if (list === undefined) return;
    if (!this.options.podIdentity) {
      throw new EksApiError(400, 'InvalidParameterException', 'Pod Identity is not available on this cluster.');
    }
    for (const entry of list) {
      if (entry.serviceAccount !== 'aws-node') {
        throw new EksApiError(400, 'InvalidParameterException', `Service account ${entry.serviceAccount} is not used by addon ${ADDON_NAME}; use aws-node.`, {
          addonName: ADDON_NAME,
          clusterName: this.scenario.cluster.name,
        });
      }
      if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(entry.roleArn ?? '')) {
        throw new EksApiError(400, 'InvalidParameterException', `The role ARN ${String(entry.roleArn)} is not valid.`);
      }
      const existing = this.options.podIdentity.find('kube-system', entry.serviceAccount);
      if (existing && existing.ownerArn !== this.addon?.addonArn) {
        throw new EksApiError(409, 'ResourceInUseException', `Association already exists: ${existing.associationArn}`, {
          addonName: ADDON_NAME,
          clusterName: this.scenario.cluster.name,
        });
      }
    }
  }

  /** Makes the add-on own exactly `list` (kube-system associations), as a finished change does. */
  private syncPodIdentity(addon: AddonRecord, list: AddonChangeInput['podIdentityAssociations']): void {
    const store = this.options.podIdentity;
    if (list === undefined || !store) return;
    for (const owned of store.ownedBy(addon.addonArn)) store.delete(owned.associationId, addon.addonArn);
    const arns = list.map((e) => store.create({ namespace: 'kube-system', serviceAccount: e.serviceAccount, roleArn: e.roleArn }, addon.addonArn).associationArn);
    if (arns.length > 0) addon.podIdentityAssociations = arns;
    else delete addon.podIdentityAssociations;
  }

  private addonArn(): string {
    const { cluster } = this.scenario;
    return `arn:${regionPartition(cluster.region)}:eks:${cluster.region}:${cluster.accountId}:addon/${cluster.name}/${ADDON_NAME}/${randomUUID()}`;
  }

  /** The DaemonSet EKS would apply for a version and configuration text (already validated). */
  desired(version: string, configurationValues: string | null | undefined): KubeObject {
    return this.render(version, validateConfigurationValues(version, configurationValues)).daemonSet;
  }

  /** The chart's rendering of `version` with `config` for this cluster (chart-render.ts). */
  render(version: string, config: ConfigurationValues): ReturnType<typeof renderAddon> {
    return renderAddon(version, config, { registry: this.registry, ipFamily: this.scenario.cluster.ipFamily });
  }

  /** True when the catalogue offers `version` for the cluster's Kubernetes version. */
  offered(version: string): boolean {
    const k8s = this.scenario.cluster.kubernetesVersion;
    return this.scenario.catalogue.some(
      (entry) => entry.version === version && entry.compatibilities.some((c) => c.clusterVersion === k8s),
    );
  }

  /** The default version for the cluster's Kubernetes version. */
  defaultVersion(): string | undefined {
    const k8s = this.scenario.cluster.kubernetesVersion;
    return this.scenario.catalogue.find((e) => e.compatibilities.some((c) => c.clusterVersion === k8s && c.defaultVersion))
      ?.version;
  }

  private checkVersion(version: string): void {
    if (!this.offered(version)) {
      throw new EksApiError(400, 'InvalidParameterException', 'Addon version specified is not supported', {
        addonName: ADDON_NAME,
        clusterName: this.scenario.cluster.name,
      });
    }
  }

  private checkResolveConflicts(value: string | undefined, operation: 'CreateAddon' | 'UpdateAddon'): 'NONE' | 'OVERWRITE' | 'PRESERVE' {
    const mode = (value ?? 'NONE').toUpperCase();
    if (mode !== 'NONE' && mode !== 'OVERWRITE' && mode !== 'PRESERVE') {
      throw new EksApiError(400, 'InvalidParameterException', `Resolve conflicts option ${value} is not supported`);
    }
    if (mode === 'PRESERVE' && operation === 'CreateAddon') {
      // Real wording, https://github.com/eksctl-io/eksctl/pull/5880
      throw new EksApiError(400, 'InvalidParameterException', 'Resolve conflicts option preserve is not supported for operation CreateAddon', {
        addonName: ADDON_NAME,
        clusterName: this.scenario.cluster.name,
      });
    }
    return mode;
  }

  private checkRoleArn(arn: string | undefined): void {
    if (arn !== undefined && arn !== '' && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+/.test(arn)) {
      throw new EksApiError(400, 'InvalidParameterException', `The role ARN ${arn} is not valid.`);
    }
  }

  /** CreateAddon: validates synchronously, then CREATING for updateDurationMs, then ACTIVE or CREATE_FAILED. */
  createAddon(input: AddonChangeInput): AddonRecord {
    // Parameters are validated before the resource is looked at.
    const mode = this.checkResolveConflicts(input.resolveConflicts, 'CreateAddon');
    if (this.addon) {
      throw new EksApiError(409, 'ResourceInUseException', 'Addon already exists.', {
        addonName: ADDON_NAME,
        clusterName: this.scenario.cluster.name,
      });
    }
    const version = input.addonVersion ?? this.defaultVersion();
    if (!version) throw new EksApiError(400, 'InvalidParameterException', 'Addon version specified is not supported');
    this.checkVersion(version);
    this.checkRoleArn(input.serviceAccountRoleArn);
    this.checkPodIdentity(input.podIdentityAssociations);
    const desired = this.desired(version, input.configurationValues);
    const now = epochSeconds();
    this.addon = {
      addonName: ADDON_NAME,
      clusterName: this.scenario.cluster.name,
      status: 'CREATING',
      addonVersion: version,
      health: { issues: [] },
      addonArn: this.addonArn(),
      createdAt: now,
      modifiedAt: now,
      ...(input.serviceAccountRoleArn ? { serviceAccountRoleArn: input.serviceAccountRoleArn } : {}),
      tags: input.tags ?? {},
      publisher: 'eks',
      owner: 'aws',
      ...(input.configurationValues ? { configurationValues: input.configurationValues } : {}),
    };
    const record = this.addon;
    // Over a self-managed install EKS has applied nothing yet: conflicts are judged against its own object.
    const number = this.changeCount + 1;
    this.schedule(record, null, () => {
      this.syncPodIdentity(record, input.podIdentityAssociations);
      this.finish(record, null, version, desired, desired, mode, number);
    });
    return structuredClone(record);
  }

  /** UpdateAddon: validates synchronously, then InProgress for updateDurationMs, then Successful or Failed. */
  updateAddon(input: AddonChangeInput): UpdateRecord {
    const addon = this.requireAddon();
    const repeated = input.clientRequestToken ? this.updatesByToken.get(input.clientRequestToken) : undefined;
    if (repeated) return structuredClone(repeated);
    if (['CREATING', 'UPDATING', 'DELETING'].includes(addon.status)) {
      // Real wording: eksctl-io/eksctl#8091 (CREATING), awslabs/cdk-eks-blueprints#447 (UPDATING).
      throw new EksApiError(409, 'ResourceInUseException', `Addon ${ADDON_NAME} cannot be updated as it is currently in ${addon.status} state`, {
        addonName: ADDON_NAME,
        clusterName: this.scenario.cluster.name,
      });
    }
    const mode = this.checkResolveConflicts(input.resolveConflicts, 'UpdateAddon');
    const version = input.addonVersion ?? addon.addonVersion;
    if (version !== addon.addonVersion) this.checkVersion(version);
    const from = parseVersion(addon.addonVersion);
    const to = parseVersion(version);
    if (from && to && minorDistance(from, to) > 1) {
      // Real wording, https://github.com/dfds/infrastructure-modules/pull/270
      throw new EksApiError(400, 'InvalidParameterException', 'Updating VPC-CNI can only go up or down 1 minor version at a time', {
        addonName: ADDON_NAME,
        clusterName: this.scenario.cluster.name,
      });
    }
    this.checkRoleArn(input.serviceAccountRoleArn);
    this.checkPodIdentity(input.podIdentityAssociations);
    const configurationValues =
      input.configurationValues !== undefined ? input.configurationValues : addon.configurationValues;
    const desired = this.desired(version, configurationValues);
    const update: UpdateRecord = {
      id: randomUUID(),
      status: 'InProgress',
      type: 'AddonUpdate',
      // Only the parameters that were sent, in EKS's order.
      params: [
        ...(input.addonVersion !== undefined ? [{ type: 'AddonVersion', value: input.addonVersion }] : []),
        ...(input.resolveConflicts !== undefined ? [{ type: 'ResolveConflicts', value: input.resolveConflicts }] : []),
        ...(input.configurationValues !== undefined
          ? [{ type: 'ConfigurationValues', value: input.configurationValues }]
          : []),
        ...(input.serviceAccountRoleArn !== undefined
          ? [{ type: 'ServiceAccountRoleArn', value: input.serviceAccountRoleArn }]
          : []),
        ...(input.podIdentityAssociations !== undefined
          ? [{ type: 'PodIdentityAssociations', value: JSON.stringify(input.podIdentityAssociations) }]
          : []),
      ],
      createdAt: epochSeconds(),
      errors: [],
    };
    this.updates.set(update.id, update);
    if (input.clientRequestToken) this.updatesByToken.set(input.clientRequestToken, update);
    addon.status = 'UPDATING';
    addon.modifiedAt = epochSeconds();
    const base = this.lastApplied ?? desired;
    const number = this.changeCount + 1;
    this.schedule(addon, update, () => {
      this.syncPodIdentity(addon, input.podIdentityAssociations);
      if (input.serviceAccountRoleArn !== undefined) {
        if (input.serviceAccountRoleArn === '') delete addon.serviceAccountRoleArn;
        else addon.serviceAccountRoleArn = input.serviceAccountRoleArn;
      }
      if (input.configurationValues !== undefined) {
        if (input.configurationValues.trim() === '') delete addon.configurationValues;
        else addon.configurationValues = input.configurationValues;
      }
      this.finish(addon, update, version, desired, base, mode, number);
    });
    return structuredClone(update);
  }

  /** DeleteAddon: removes the record; without `preserve` EKS also deletes the add-on's objects. */
  deleteAddon(preserve: boolean): AddonRecord {
    const addon = this.requireAddon();
    if (addon.status === 'DELETING') return structuredClone(addon);
    // DELETING for one wait (the add-on still answers DescribeAddon), then gone, as EKS does.
    addon.status = 'DELETING';
    addon.modifiedAt = epochSeconds();
    this.defer(() => {
      if (this.addon !== addon) return;
      const store = this.options.podIdentity;
      for (const owned of store?.ownedBy(addon.addonArn) ?? []) store?.delete(owned.associationId, addon.addonArn);
      this.addon = null;
      this.lastApplied = null;
      if (!preserve) this.store.delete(...DS_KEY);
    }, `DeleteAddon ${ADDON_NAME}`);
    return structuredClone(addon);
  }

  /** DescribeUpdate; an add-on update is found only with its `addonName` (as EKS does). */
  describeUpdate(id: string, addonName?: string | null): UpdateRecord {
    const update = addonName === ADDON_NAME ? this.updates.get(id) : undefined;
    if (!update) throw new EksApiError(404, 'ResourceNotFoundException', `No update found for ID: ${id}`);
    return structuredClone(update);
  }

  /** DescribeAddon's record, or ResourceNotFoundException as EKS words it. */
  requireAddon(): AddonRecord {
    if (!this.addon) {
      throw new EksApiError(404, 'ResourceNotFoundException', `No addon: ${ADDON_NAME} found in cluster: ${this.scenario.cluster.name}`, {
        addonName: ADDON_NAME,
        clusterName: this.scenario.cluster.name,
      });
    }
    return this.addon;
  }

  private schedule(addon: AddonRecord, update: UpdateRecord | null, finish: () => void): void {
    const number = ++this.changeCount;
    const faults = this.options.faults ?? {};
    if (faults.updateNeverFinishes) return;
    const label = update ? `UpdateAddon ${update.id}` : `CreateAddon ${addon.addonVersion}`;
    // The one wait of a change: the eks-change gate (updateDurationMs unless a test holds it).
    this.gate.after(this.options.updateDurationMs ?? this.scenario.sandbox.updateDurationMs, () => {
      if (this.addon !== addon) return; // deleted meanwhile
      if (faults.failUpdateNumber === number) {
        // An EKS-style failure that changes nothing on the cluster, like a denying admission webhook.
        this.markFailed(
          addon,
          update,
          'AdmissionRequestDenied',
          `admission webhook "validation.gatekeeper.sh" denied the request: [sandbox-fault] add-on change ${number} was told to fail (faults.failUpdateNumber)`,
        );
        return;
      }
      finish();
    }, label);
  }

  private markFailed(addon: AddonRecord, update: UpdateRecord | null, code: string, message: string): void {
    const resourceIds: string[] = [];
    addon.status = update ? 'UPDATE_FAILED' : 'CREATE_FAILED';
    addon.health = { issues: [{ code, message, resourceIds }] };
    addon.modifiedAt = epochSeconds();
    if (update) {
      update.status = 'Failed';
      update.errors = [{ errorCode: code, errorMessage: message, resourceIds }];
    }
  }

  private finish(
    addon: AddonRecord,
    update: UpdateRecord | null,
    version: string,
    desired: KubeObject,
    base: KubeObject,
    mode: 'NONE' | 'OVERWRITE' | 'PRESERVE',
    number?: number,
  ): void {
    void base; // conflicts come from field ownership (managedFields), no longer from what EKS last applied
    const config = validateConfigurationValues(version, addon.configurationValues);
    const conflicts = this.applyAsEks([...this.addonObjects(version, addon.serviceAccountRoleArn, config), desired], mode);
    if (conflicts.length > 0) {
      this.markFailed(addon, update, 'ConfigurationConflict', eksConflictMessage(conflicts));
      return;
    }
    this.lastApplied = desired;
    addon.addonVersion = version;
    addon.status = 'ACTIVE';
    addon.health = { issues: [] };
    addon.modifiedAt = epochSeconds();
    if (update) update.status = 'Successful';
    const applied = this.options.faults?.failedButApplied;
    if (applied && applied.changeNumber === number) {
      // EKS applied the change but its health check gave up: the update says Failed, the add-on is at the new version.
      addon.status = applied.addonStatus ?? 'DEGRADED';
      addon.health = { issues: addon.status === 'DEGRADED' ? [{ ...APPLIED_FAILURE, resourceIds: [] }] : [] };
      if (update) {
        update.status = 'Failed';
        update.errors = [{ errorCode: APPLIED_FAILURE.code, errorMessage: APPLIED_FAILURE.message, resourceIds: [] }];
      }
    }
    if (addon.status === 'DEGRADED') this.recoverLater(addon);
  }

  /** The add-on's other objects (CRDs, RBAC, ConfigMap, ServiceAccount with the IRSA annotation). */
  addonObjects(version: string, roleArn: string | undefined, config: ConfigurationValues = {}): KubeObject[] {
    const rendered = this.render(version, config);
    const others = rendered.others();
    for (const obj of others) {
      if (obj.kind === 'ServiceAccount' && obj.metadata.name === 'aws-node') {
        // IRSA: EKS annotates the service account with the add-on's role (EKS user guide cni-iam-role.html).
        const annotations = { ...((obj.metadata.annotations as Record<string, string> | undefined) ?? {}) };
        if (roleArn) annotations['eks.amazonaws.com/role-arn'] = roleArn;
        obj.metadata.annotations = annotations;
      }
    }
    // The chart's ENIConfigs (eniConfig.create) follow the CRDs they need.
    return [...others, ...rendered.eniConfigs];
  }

  /**
   * Server-side applies the objects as the field manager `eks`, as EKS does: fields other managers own and EKS
   * would change are conflicts. NONE writes nothing and returns them ("DaemonSet.apps aws-node - .spec…");
   * OVERWRITE forces (EKS takes the fields); PRESERVE applies the other managers' values for them.
   */
  applyAsEks(objects: KubeObject[], mode: 'NONE' | 'OVERWRITE' | 'PRESERVE'): string[] {
    const conflicts: string[] = [];
    const results: KubeObject[] = [];
    for (const obj of objects) {
      const live = this.store.get(obj.apiVersion, obj.kind, obj.metadata.name, obj.metadata.namespace);
      try {
        results.push(serverSideApply(live, obj, EKS_FIELD_MANAGER, mode === 'OVERWRITE', strategicMerge));
      } catch (error) {
        if (!(error instanceof ApplyConflictError)) throw error;
        if (mode === 'NONE') {
          conflicts.push(...error.conflicts.map((c) => `${kindLabel(obj)} ${obj.metadata.name} - ${c.path}`));
          continue;
        }
        const applied = structuredClone(obj);
        for (const c of error.conflicts) setAt(applied, c.elements, valueAt(live, c.elements));
        results.push(serverSideApply(live, applied, EKS_FIELD_MANAGER, true, strategicMerge));
      }
    }
    if (conflicts.length > 0) return conflicts;
    for (const obj of results) this.store.put(obj, { manager: null });
    return [];
  }

  /** Stops pending updates (they stay InProgress). */
  close(): void {
    this.gate.close();
  }
}
