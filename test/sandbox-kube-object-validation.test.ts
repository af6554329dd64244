/**
 * The sandbox's copy of kube-apiserver's validation (src/sandbox/kube-object-validation.ts), rule by rule, with the
 * messages Kubernetes v1.33 prints (pkg/apis/core/validation/validation.go, apimachinery's util/validation): a table
 * over one real DaemonSet (the v1.19.6 manifest's) and a ConfigMap, and a property: removing the key of any list-map
 * item of any shipped manifest's DaemonSet gives exactly one Required error at that item's key. kubectl drives the
 * same rules over HTTP in sandbox-kube-ssa-conformance.test.ts and sandbox-kube-validation.test.ts.
 */
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../src/decide/manifests.js';
import { canonicalQuantity, errorText } from '../src/sandbox/kube-field-errors.js';
import { quantityDecodeError, validateObject } from '../src/sandbox/kube-object-validation.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const MANIFESTS = new URL('../fixtures/manifests/', import.meta.url);
const parsed = new Map<string, KubeObject>();
/** A copy of the DaemonSet of a shipped manifest file (each file parsed once). */
function daemonSetOf(file: string): KubeObject {
  if (!parsed.has(file)) {
    const docs = parseAllDocuments(readFileSync(new URL(file, MANIFESTS), 'utf8')).map((d) => d.toJSON() as KubeObject | null);
    parsed.set(file, docs.find((o) => o?.kind === 'DaemonSet') as KubeObject);
  }
  return structuredClone(parsed.get(file) as KubeObject);
}
const BASE = daemonSetOf('aws-k8s-cni-v1.19.6.yaml');

/** The errors of the v1.19.6 DaemonSet changed by `edit` (pod spec `p`, aws-node container `c`), as `field: body`. */
function errorsAfter(edit: (p: Json, c: Json) => void, kubernetesVersion = '1.33'): string[] {
  const ds = structuredClone(BASE) as Json;
  const pod = ds.spec.template.spec as Json;
  edit(pod, pod.containers[0] as Json);
  return validateObject(ds as KubeObject, { kubernetesVersion }).map(errorText);
}

const C = 'spec.template.spec.containers[0]';
const ENV_COUNT = ((BASE as Json).spec.template.spec.containers[0].env as unknown[]).length;

describe('pod template validation, as kube-apiserver v1.33 words it', () => {
  it('passes every shipped manifest object as it is', () => {
    for (const file of readdirSync(MANIFESTS).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(new URL(file, MANIFESTS), 'utf8'))) {
        const obj = doc.toJSON() as KubeObject | null;
        if (obj?.kind) expect(validateObject(obj, { kubernetesVersion: '1.27' }), `${file} ${obj.kind}`).toEqual([]);
      }
    }
  });

  it.each<[string, (p: Json, c: Json) => void, string[]]>([
    ['a nameless env var', (_p, c) => c.env.splice(3, 0, { value: 'x' }), [`${C}.env[3].name: Required value`]],
    [
      'a container name that is no DNS-1123 label',
      (_p, c) => (c.name = 'AWS_node'),
      [`${C}.name: Invalid value: "AWS_node": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`],
    ],
    ['a container without image', (_p, c) => delete c.image, [`${C}.image: Required value`]],
    [
      'the same container name among init and regular containers',
      (p) => (p.initContainers[0].name = 'aws-node'),
      ['spec.template.spec.initContainers[0].name: Duplicate value: "aws-node"'],
    ],
    [
      'a port number out of range and a bad port name',
      (_p, c) => (c.ports = [{ containerPort: 70000, name: 'Metrics' }]),
      [
        `${C}.ports[0].name: Invalid value: "Metrics": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`,
        `${C}.ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive`,
      ],
    ],
    [
      'two ports of one name, and an unknown protocol',
      (_p, c) => (c.ports = [{ containerPort: 61678, name: 'metrics' }, { containerPort: 61679, name: 'metrics', protocol: 'HTTP' }]),
      [`${C}.ports[1].name: Duplicate value: "metrics"`, `${C}.ports[1].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`],
    ],
    [
      'a volume mount naming no volume, and a duplicate mount path',
      (_p, c) => c.volumeMounts.push({ name: 'nowhere', mountPath: c.volumeMounts[0].mountPath }),
      [`${C}.volumeMounts[5].name: Not found: "nowhere"`, `${C}.volumeMounts[5].mountPath: Invalid value: "/host/opt/cni/bin": must be unique`],
    ],
    [
      'a volume without a source, and a duplicate volume name',
      (p) => p.volumes.push({ name: 'cni-bin-dir' }),
      ['spec.template.spec.volumes[6]: Required value: must specify a volume type', 'spec.template.spec.volumes[6].name: Duplicate value: "cni-bin-dir"'],
    ],
    [
      'a volume with two sources',
      (p) => (p.volumes[0].emptyDir = {}),
      // A volume in error cannot be mounted either (ValidateVolumes returns only the valid ones).
      ['spec.template.spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type', 'spec.template.spec.containers[1].volumeMounts[1].name: Not found: "bpf-pin-path"'],
    ],
    [
      'requests over limits, printed canonical (Quantity.String())',
      (_p, c) => (c.resources = { requests: { cpu: '2000m', memory: '1024Mi' }, limits: { cpu: '0.5', memory: '2Gi' } }),
      [`${C}.resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 500m`],
    ],
    [
      'a negative quantity and an unknown resource',
      (_p, c) => (c.resources = { requests: { cpu: '-1', gpu: '1' } }),
      [`${C}.resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0`, `${C}.resources.requests[gpu]: Invalid value: "gpu": must be a standard resource for containers`],
    ],
    [
      'a probe with two handlers and a negative period',
      (_p, c) => Object.assign(c.livenessProbe, { tcpSocket: { port: 61678 }, periodSeconds: -1 }),
      [`${C}.livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type`, `${C}.livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0`],
    ],
    ['a probe without a handler', (_p, c) => (c.readinessProbe = { periodSeconds: 10 }), [`${C}.readinessProbe: Required value: must specify a handler type`]],
    [
      'a liveness probe needing more than one success',
      (_p, c) => (c.livenessProbe.successThreshold = 2),
      [`${C}.livenessProbe.successThreshold: Invalid value: 2: must be 1`],
    ],
    [
      'a probe on an init container',
      (p) => (p.initContainers[0].readinessProbe = { exec: { command: ['true'] } }),
      ['spec.template.spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always'],
    ],
    [
      'a valueFrom beside a value',
      (_p, c) => (c.env[0].valueFrom = { fieldRef: { fieldPath: 'spec.nodeName' } }),
      [`${C}.env[0].valueFrom: Invalid value: "": may not be specified when \`value\` is not empty`],
    ],
    [
      'an unsupported downward API field',
      (_p, c) => c.env.push({ name: 'HOST', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }),
      [
        `${C}.env[${ENV_COUNT}].valueFrom.fieldRef.fieldPath: Unsupported value: "spec.hostname": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"`,
      ],
    ],
    ['an unknown pull policy', (_p, c) => (c.imagePullPolicy = 'Sometimes'), [`${C}.imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"`]],
  ])('%s', (_name, edit, expected) => {
    expect(errorsAfter(edit)).toEqual(expected);
  });

  it('checks env var names strictly before Kubernetes 1.32 and relaxed from it (RelaxedEnvironmentVariableValidation)', () => {
    const edit = (_p: Json, c: Json): void => void c.env.push({ name: '1_STARTS_WITH_DIGIT', value: 'x' });
    expect(errorsAfter(edit, '1.31')).toEqual([
      `${C}.env[${ENV_COUNT}].name: Invalid value: "1_STARTS_WITH_DIGIT": a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')`,
    ]);
    expect(errorsAfter(edit, '1.32')).toEqual([]);
    expect(errorsAfter((_p, c) => void c.env.push({ name: 'A=B', value: 'x' }), '1.33')).toEqual([
      `${C}.env[${ENV_COUNT}].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
    ]);
  });

  it.each([
    ['2000m', '2'], ['0.5', '500m'], ['1000', '1k'], ['1024Mi', '1Gi'], ['1.5Gi', '1536Mi'], ['1e3', '1e3'], ['100M', '100M'], ['1023', '1023'], ['1000Mi', '1000Mi'], ['0', '0'],
  ])('prints the quantity %s as %s, its canonical form', (raw, canonical) => {
    expect(canonicalQuantity(raw)).toBe(canonical);
  });

  it('cannot decode a quantity that does not parse (400, before validation)', () => {
    const ds = structuredClone(BASE) as Json;
    ds.spec.template.spec.containers[0].resources = { requests: { cpu: 'lots' } };
    expect(quantityDecodeError(ds as KubeObject)).toBe("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'");
    ds.spec.template.spec.containers[0].resources = { requests: { cpu: '10iK' } };
    expect(quantityDecodeError(ds as KubeObject)).toBe("unable to parse quantity's suffix");
  });
});

describe('names and ConfigMap keys', () => {
  const configMap = (data: Record<string, string>, name = 'amazon-vpc-cni'): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'kube-system' }, data });

  it('refuses a ConfigMap key outside [-._a-zA-Z0-9]+ and one over 253 characters', () => {
    expect(validateObject(configMap({ 'enable windows ipam': 'true', ['k'.repeat(254)]: 'x', '..': 'x' }), { kubernetesVersion: '1.33' }).map(errorText)).toEqual([
      `data[enable windows ipam]: Invalid value: "enable windows ipam": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
      `data[${'k'.repeat(254)}]: Invalid value: "${'k'.repeat(254)}": must be no more than 253 characters`,
      `data[..]: Invalid value: "..": must not be '..'`,
    ]);
  });

  it('refuses an object name that is no DNS-1123 subdomain, and a CRD not named <plural>.<group>', () => {
    expect(validateObject(configMap({}, 'Amazon_VPC_CNI'), { kubernetesVersion: '1.33' }).map(errorText)).toEqual([
      `metadata.name: Invalid value: "Amazon_VPC_CNI": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    ]);
    const crd: KubeObject = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'eniconfig.crd.k8s.amazonaws.com' }, spec: { group: 'crd.k8s.amazonaws.com', names: { plural: 'eniconfigs' } } };
    expect(validateObject(crd, { kubernetesVersion: '1.33' }).map(errorText)).toEqual([
      'metadata.name: Invalid value: "eniconfig.crd.k8s.amazonaws.com": must be spec.names.plural+"."+spec.group',
    ]);
  });
});

/** The list-map fields of a pod spec and their key, and where they are. */
const LIST_MAPS: Array<{ where: (p: Json) => Json[][]; key: string; label: string }> = [
  { where: (p) => [p.containers ?? []], key: 'name', label: 'containers' },
  { where: (p) => [p.initContainers ?? []], key: 'name', label: 'initContainers' },
  { where: (p) => [p.volumes ?? []], key: 'name', label: 'volumes' },
  { where: (p) => [...(p.containers ?? []), ...(p.initContainers ?? [])].map((c: Json) => c.env ?? []), key: 'name', label: 'env' },
  { where: (p) => [...(p.containers ?? []), ...(p.initContainers ?? [])].map((c: Json) => c.ports ?? []), key: 'containerPort', label: 'ports' },
  { where: (p) => [...(p.containers ?? []), ...(p.initContainers ?? [])].map((c: Json) => c.volumeMounts ?? []), key: 'mountPath', label: 'volumeMounts' },
];

describe('a list-map item without its key (property)', () => {
  const files = readdirSync(MANIFESTS).filter((f) => /^aws-k8s-cni-v.*\.yaml$/.test(f));
  it('is refused with a Required error at its key, in any shipped DaemonSet, for any list-map and item', () => {
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.constantFrom(...LIST_MAPS), fc.nat(), fc.nat(), (file, map, listPick, itemPick) => {
        const ds = daemonSetOf(file) as Json;
        const lists = map.where(ds.spec.template.spec).filter((l) => l.length > 0);
        fc.pre(lists.length > 0);
        const list = lists[listPick % lists.length] as Json[];
        const item = list[itemPick % list.length] as Json;
        delete item[map.key];
        const errors = validateObject(ds as KubeObject, { kubernetesVersion: '1.33' }).map(errorText);
        expect(errors.some((e) => e.endsWith(`.${map.key}: Required value`)), `${file} ${map.label}: ${errors.join('; ')}`).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
