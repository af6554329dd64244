import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfigurationValues } from '../src/decide/config/values.js';
import { formatProblems, schemaAccepts, validateConfigurationValues } from '../src/decide/config/validate.js';

const SCHEMA_12 = readFileSync(new URL('../fixtures/addon-configuration/vpc-cni-v1.12.0-eksbuild.1.schema.json', import.meta.url), 'utf8');
const SCHEMA_15 = readFileSync(new URL('../fixtures/addon-configuration/vpc-cni-v1.15.1-eksbuild.1.schema.json', import.meta.url), 'utf8');
const SAMPLES = new URL('../fixtures/configuration-values/', import.meta.url);

function sample(name: string): Record<string, unknown> {
  return parseConfigurationValues(readFileSync(new URL(name, SAMPLES), 'utf8')).value;
}

function messages(value: unknown, schema: string): string[] {
  return validateConfigurationValues(value, schema).map((p) => p.message);
}

describe('real configuration values against the real schemas', () => {
  const expectations: Record<string, { v12: boolean; v15: boolean }> = {
    'eks-ug.resources-limits-cpu.json': { v12: true, v15: true },
    'eks-ug.env-externalsnat.json': { v12: true, v15: true },
    'aws-cli.describe-addon.resources-env-loglevel.yaml': { v12: true, v15: true },
    'issue-2540.enable-network-policy.json': { v12: false, v15: true },
    'network-policy-agent-issue-443.node-agent-log-level.json': { v12: false, v15: false },
    'upbound-issue-12.custom-networking-env.json': { v12: false, v15: true },
    'issue-2173.rejected-pod-sg-enforcing-mode.json': { v12: false, v15: true },
  };

  it('covers every sample in the fixtures', () => {
    expect(readdirSync(SAMPLES).filter((f) => f !== 'README.md').sort()).toEqual(Object.keys(expectations).sort());
  });

  for (const [file, expected] of Object.entries(expectations)) {
    it(`${file}: v1.12.0 ${expected.v12 ? 'accepts' : 'rejects'}, v1.15.1 ${expected.v15 ? 'accepts' : 'rejects'}`, () => {
      expect(validateConfigurationValues(sample(file), SCHEMA_12).length === 0).toBe(expected.v12);
      expect(validateConfigurationValues(sample(file), SCHEMA_15).length === 0).toBe(expected.v15);
    });
  }

  it('rejects POD_SECURITY_GROUP_ENFORCING_MODE on v1.12 at the path EKS names', () => {
    const problems = validateConfigurationValues(sample('issue-2173.rejected-pod-sg-enforcing-mode.json'), SCHEMA_12);
    expect(problems).toEqual([
      {
        path: 'env.POD_SECURITY_GROUP_ENFORCING_MODE',
        message:
          "env.POD_SECURITY_GROUP_ENFORCING_MODE is a VPC CNI setting, but this add-on version's schema does not accept it; choose an add-on version whose schema lists it.",
      },
    ]);
  });

  it('names the missing keys of the newer node-agent sample', () => {
    expect(validateConfigurationValues(sample('network-policy-agent-issue-443.node-agent-log-level.json'), SCHEMA_15).map((p) => p.path)).toEqual([
      'nodeAgent.logLevel',
    ]);
  });

  it('accepts {} (back to defaults) on both', () => {
    expect(validateConfigurationValues({}, SCHEMA_12)).toEqual([]);
    expect(validateConfigurationValues({}, SCHEMA_15)).toEqual([]);
  });
});

describe('messages a person can act on', () => {
  it('suggests the closest env name', () => {
    expect(messages({ env: { WARM_IP_TARGETS: '5' } }, SCHEMA_15)).toEqual(['env.WARM_IP_TARGETS is not a setting; did you mean WARM_IP_TARGET?']);
    expect(messages({ env: { enable_pod_eni: 'true' } }, SCHEMA_15)).toEqual(['env.enable_pod_eni is not a setting; did you mean ENABLE_POD_ENI?']);
  });

  it('does not suggest a different real setting for one the schema lacks', () => {
    const [message] = messages({ env: { WARM_IP_TARGET: '5' } }, SCHEMA_12);
    expect(message).not.toContain('did you mean');
    expect(message).toContain('env.WARM_IP_TARGET is a VPC CNI setting');
  });

  it('lists the allowed names when nothing is close', () => {
    expect(messages({ colour: 'blue' }, SCHEMA_12)).toEqual([
      "colour is not a setting in this add-on version's schema; the settings at the top level are: cri, env, resources.",
    ]);
    expect(messages({ resources: { limit: { cpu: '1' } } }, SCHEMA_12)).toEqual(['resources.limit is not a setting; did you mean limits?']);
  });

  it('explains booleans and integers as strings', () => {
    expect(messages({ env: { ENABLE_POD_ENI: 1 } }, SCHEMA_15)).toEqual(['env.ENABLE_POD_ENI must be "true" or "false" (a string), not 1.']);
    expect(messages({ env: { ENABLE_POD_ENI: true } }, SCHEMA_15)).toEqual(['env.ENABLE_POD_ENI must be "true" or "false" (a string), not true.']);
    expect(messages({ env: { ENABLE_POD_ENI: 'yes' } }, SCHEMA_15)).toEqual(['env.ENABLE_POD_ENI must be "true" or "false" (a string), not "yes".']);
    expect(messages({ env: { ENABLE_POD_ENI: 'TRUE' } }, SCHEMA_15)).toEqual([]);
    expect(messages({ env: { WARM_IP_TARGET: 5 } }, SCHEMA_15)).toEqual(['env.WARM_IP_TARGET must be a whole number as a string, e.g. "5", not 5.']);
    expect(messages({ env: { WARM_IP_TARGET: '5.5' } }, SCHEMA_15)).toEqual([
      'env.WARM_IP_TARGET must be a whole number as a string, e.g. "5", not "5.5".',
    ]);
  });

  it('names wrong types with the expected type', () => {
    expect(messages({ resources: { limits: { cpu: 1 } } }, SCHEMA_15)).toEqual(['resources.limits.cpu must be a string, not 1.']);
    expect(messages({ tolerations: { operator: 'Exists' } }, SCHEMA_15)).toEqual(['tolerations must be a list, not an object.']);
    expect(messages({ affinity: 'none' }, SCHEMA_15)).toEqual(['affinity must be an object or null, not "none".']);
    expect(messages({ livenessProbeTimeoutSeconds: '10' }, SCHEMA_15)).toEqual([
      'livenessProbeTimeoutSeconds must be a whole number (not in quotes), not "10".',
    ]);
    expect(messages({ env: 'WARM_IP_TARGET=5' }, SCHEMA_15)).toEqual(['env must be an object, not "WARM_IP_TARGET=5".']);
    expect(messages([], SCHEMA_15)).toEqual(['The configuration values must be an object, not a list.']);
  });

  it('names missing required keys', () => {
    expect(messages({ eniConfig: { create: true, region: 'us-west-2' } }, SCHEMA_15)).toEqual([
      'eniConfig.subnets is missing; eniConfig needs create, region, subnets.',
    ]);
  });

  it('gives one problem per line, deduplicated and sorted by path', () => {
    const problems = validateConfigurationValues(
      { resources: { limits: { cpu: 1 } }, env: { WARM_IP_TARGET: 5, ENABLE_POD_ENI: 1 }, bogus: true },
      SCHEMA_15,
    );
    expect(problems.map((p) => p.path)).toEqual(['bogus', 'env.ENABLE_POD_ENI', 'env.WARM_IP_TARGET', 'resources.limits.cpu']);
    expect(new Set(problems.map((p) => p.message)).size).toBe(problems.length);
    const text = formatProblems(problems);
    expect(text.split('\n')).toHaveLength(4);
    expect(text.split('\n')[1]).toBe('env.ENABLE_POD_ENI must be "true" or "false" (a string), not 1.');
  });

  it('knows where the schema has a place for a setting', () => {
    expect(schemaAccepts(SCHEMA_15, ['env', 'WARM_IP_TARGET'])).toBe(true);
    expect(schemaAccepts(SCHEMA_12, ['env', 'WARM_IP_TARGET'])).toBe(false);
    expect(schemaAccepts(SCHEMA_15, ['init', 'env', 'DISABLE_TCP_EARLY_DEMUX'])).toBe(true);
    expect(schemaAccepts(SCHEMA_12, ['init', 'env', 'DISABLE_TCP_EARLY_DEMUX'])).toBe(false);
    expect(schemaAccepts(SCHEMA_15, ['affinity'])).toBe(true);
    expect(schemaAccepts(SCHEMA_12, ['affinity'])).toBe(false);
  });
});
