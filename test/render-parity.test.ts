/**
 * Parity, both ways (issue 21): for every add-on version the catalogues offer (one per schema and release
 * manifest) and a corpus of configuration values, what the product predicts EKS renders (src/decide/addon-render.ts
 * and the settings model's renderTarget) equals what the sandbox renders from the Helm chart
 * (src/sandbox/chart-render.ts): the whole DaemonSet (pod template included, env in order), the ConfigMap's data
 * and the ENIConfigs. The corpus: each leaf property of each served schema alone with an example value (two for
 * most, so that "True" is not read as "true"), fast-check combinations of them, the values of the built-in
 * scenarios and the real values of fixtures/configuration-values/. Every corpus entry is first validated against
 * the served schema, so only what EKS accepts is compared.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { desiredConfigMapData, desiredDaemonSet, desiredEniConfigs, type ConfigurationValues } from '../src/decide/addon-render.js';
import { renderTarget } from '../src/decide/settings/compare.js';
import { canonicalJson } from '../src/formats/json.js';
import { parseYamlDocuments } from '../src/formats/yaml-files.js';
import { configurationSchemaFor, validateConfigurationValues } from '../src/sandbox/addon-controller.js';
import { renderAddon } from '../src/sandbox/chart-render.js';
import { schemaEntryFor } from '../src/sandbox/schemas.js';
import { releaseFor } from '../src/sandbox/upstream-manifests.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const REGISTRY = '602401143452.dkr.ecr.eu-west-1.amazonaws.com';

type Json = Record<string, unknown>;

/** One version per (served schema, release manifest) among every version of the shipped catalogues. */
function versionsToCompare(): string[] {
  const all = new Set<string>();
  for (const file of readdirSync(`${FIXTURES}catalogues`)) {
    const catalogue = JSON.parse(readFileSync(`${FIXTURES}catalogues/${file}`, 'utf8')) as { entries?: Array<{ version: string }> };
    // other-addons.json lists coredns, kube-proxy and the rest: no vpc-cni snapshot.
    for (const entry of catalogue.entries ?? []) all.add(entry.version);
  }
  const groups = new Map<string, string>();
  for (const version of [...all].sort()) groups.set(`${schemaEntryFor(version).file} ${releaseFor(version).file}`, version);
  return [...groups.values()];
}

type Schema = { $ref?: string; type?: string | string[]; format?: string; properties?: Record<string, Schema>; required?: string[]; additionalProperties?: unknown; items?: Schema };

function resolve(root: { definitions?: Record<string, Schema> }, schema: Schema): Schema {
  return schema.$ref ? resolve(root, root.definitions?.[schema.$ref.split('/').at(-1) as string] as Schema) : schema;
}

/** Example values of a leaf: a string of its format (two spellings of a boolean), an integer, a whole object. */
function leafExamples(name: string, schema: Schema): unknown[] {
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  if (schema.format === 'boolean') return ['true', 'True'];
  if (schema.format === 'integer') return ['600'];
  if (types.includes('integer')) return [30];
  if (types.includes('array')) return [[{ key: 'dedicated', operator: 'Equal', value: 'cni', effect: 'NoSchedule' }], []];
  if (types.includes('object')) {
    // Affinity: a map the chart merges over its default, or null (removes it).
    return [{ podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname' }] } }, null, {}];
  }
  if (/LOG_?LEVEL|logLevel/i.test(name)) return ['INFO', 'info'];
  return [`/example/${name}`];
}

/** Every leaf of an object schema as [path, examples]; objects with required members count as one leaf. */
function leaves(root: Schema & { definitions?: Record<string, Schema> }, schema: Schema, path: string[] = []): Array<[string[], unknown[]]> {
  const s = resolve(root, schema);
  if (s.properties && !s.required && s.additionalProperties === false) {
    return Object.entries(s.properties).flatMap(([key, child]) => leaves(root, child, [...path, key]));
  }
  const name = path.at(-1) ?? '';
  if (name === 'eniConfig') {
    return [[path, [
      { create: true, region: 'eu-west-1', subnets: { 'eu-west-1b': { id: 'subnet-0b', securityGroups: ['sg-1', 'sg-2'] }, 'eu-west-1a': { id: 'subnet-0a' } } },
      { create: false, region: 'eu-west-1', subnets: { 'eu-west-1a': { id: 'subnet-0a' } } },
      { create: true, region: 'eu-west-1', subnets: { 'eu-west-1c': { id: 'subnet-0c', securityGroups: [] } } },
    ]]];
  }
  return [[path, leafExamples(name, s)]];
}

function withLeaf(values: Json, path: string[], value: unknown): Json {
  const out = structuredClone(values);
  let node = out;
  for (const part of path.slice(0, -1)) node = (node[part] ??= {}) as Json;
  node[path.at(-1) as string] = value;
  return out;
}

/** Configuration values of the built-in scenarios and of fixtures/configuration-values/. */
function realValues(): Json[] {
  const out: Json[] = [];
  for (const file of readdirSync(`${FIXTURES}scenarios`)) {
    for (const doc of parseYamlDocuments(readFileSync(`${FIXTURES}scenarios/${file}`, 'utf8')) as Array<{ addon?: { configurationValues?: string | null } }>) {
      const text = doc?.addon?.configurationValues;
      if (text) out.push(parseYamlDocuments(text)[0] as Json);
    }
  }
  for (const file of readdirSync(`${FIXTURES}configuration-values`)) {
    if (/\.(json|ya?ml)$/.test(file)) out.push(parseYamlDocuments(readFileSync(`${FIXTURES}configuration-values/${file}`, 'utf8'))[0] as Json);
  }
  return out;
}

/** The differences between the product's prediction and the sandbox's rendering, as short texts. */
function differences(version: string, values: Json, ipFamily: 'ipv4' | 'ipv6'): string[] {
  const config = values as ConfigurationValues;
  const sandbox = renderAddon(version, values, { registry: REGISTRY, ipFamily });
  const product = desiredDaemonSet(version, config, { registry: REGISTRY, ipFamily });
  const model = renderTarget({ version, schemaText: configurationSchemaFor(version), registry: REGISTRY, ipFamily }, values);
  const out: string[] = [];
  const same = (what: string, a: unknown, b: unknown) => {
    if (JSON.stringify(sortKeys(a)) !== JSON.stringify(sortKeys(b))) out.push(`${what}: product ${canonicalJson(a)} ≠ sandbox ${canonicalJson(b)}`);
  };
  same('DaemonSet', product, sandbox.daemonSet);
  same('settings model DaemonSet', model.daemonSet, sandbox.daemonSet);
  same('ConfigMap data', desiredConfigMapData(version, config), sandbox.configMapData);
  same('settings model ConfigMap data', model.configMap ?? null, sandbox.configMapData);
  same('ENIConfigs', desiredEniConfigs(config), sandbox.eniConfigs);
  same('settings model ENIConfigs', model.eniConfigs ?? [], sandbox.eniConfigs);
  return out;
}

/** Object keys sorted (their order carries no meaning), list order kept (env order does). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().filter((k) => (value as Json)[k] !== undefined).map((k) => [k, sortKeys((value as Json)[k])]));
  }
  return value;
}

function accepted(version: string, values: Json): boolean {
  try {
    validateConfigurationValues(version, JSON.stringify(values));
    return true;
  } catch {
    return false;
  }
}

const VERSIONS = versionsToCompare();

describe('the product predicts what the sandbox renders from the chart', () => {
  it('covers every schema the sandbox serves', () => {
    const served = new Set(VERSIONS.map((v) => schemaEntryFor(v).file));
    expect(served.size).toBeGreaterThanOrEqual(11);
  });

  it.each(VERSIONS)('%s: every leaf alone, the real values, and their combinations', (version) => {
    const schema = JSON.parse(configurationSchemaFor(version)) as Schema & { definitions?: Record<string, Schema> };
    const corpus: Json[] = [{}];
    const singles: Array<[string[], unknown]> = [];
    for (const [path, examples] of leaves(schema, schema)) {
      for (const example of examples) {
        const values = withLeaf({}, path, example);
        // Every generated leaf value is one EKS accepts for this version.
        expect(accepted(version, values), `${path.join('.')}=${JSON.stringify(example)}`).toBe(true);
        corpus.push(values);
        singles.push([path, example]);
      }
    }
    for (const values of realValues()) if (accepted(version, values)) corpus.push(values);
    const found: string[] = [];
    // Each single on an IPv4 cluster; the empty values and the real ones on IPv6 too (the combinations draw both).
    const reals = corpus.length - singles.length - 1;
    corpus.forEach((values, index) => {
      const families = index === 0 || index >= corpus.length - reals ? (['ipv4', 'ipv6'] as const) : (['ipv4'] as const);
      for (const ipFamily of families) {
        for (const d of differences(version, values, ipFamily)) found.push(`${JSON.stringify(values)} (${ipFamily}): ${d}`);
      }
    });
    expect(found.slice(0, 5)).toEqual([]);
    fc.assert(
      fc.property(fc.subarray(singles, { minLength: 2, maxLength: 12 }), fc.constantFrom<'ipv4' | 'ipv6'>('ipv4', 'ipv6'), (picked, ipFamily) => {
        let values: Json = {};
        for (const [path, example] of picked) values = withLeaf(values, path, example);
        if (!accepted(version, values)) return true;
        const d = differences(version, values, ipFamily);
        if (d.length > 0) found.push(`${JSON.stringify(values)} (${ipFamily}): ${d[0]}`);
        return d.length === 0;
      }),
      { numRuns: 30, seed: 21 },
    );
    expect(found.slice(0, 5)).toEqual([]);
  });
});
