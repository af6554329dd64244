import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigurationValues, parseStoredConfigurationValues } from '../src/decide/config/values.js';
import { UsageError } from '../src/errors.js';

const SAMPLES = new URL('../fixtures/configuration-values/', import.meta.url);

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    return (error as Error).message;
  }
  throw new Error('expected a UsageError');
}

describe('parseConfigurationValues', () => {
  it('reads JSON and keeps the text to send as given', () => {
    const parsed = parseConfigurationValues('{"resources":{"limits":{"cpu":"100m"}}}');
    expect(parsed.value).toEqual({ resources: { limits: { cpu: '100m' } } });
    expect(parsed.text).toBe('{"resources":{"limits":{"cpu":"100m"}}}');
  });

  it('reads the real YAML sample from the aws-cli describe-addon example', () => {
    const text = readFileSync(new URL('aws-cli.describe-addon.resources-env-loglevel.yaml', SAMPLES), 'utf8');
    expect(parseConfigurationValues(text).value).toEqual({
      resources: { limits: { cpu: '100m' } },
      env: { AWS_VPC_K8S_CNI_LOGLEVEL: 'DEBUG' },
    });
  });

  it('accepts {} (back to defaults)', () => {
    expect(parseConfigurationValues('{}').value).toEqual({});
    expect(parseConfigurationValues('  {}\n').text).toBe('{}');
  });

  it('accepts YAML flow style, as EKS would read it', () => {
    expect(parseConfigurationValues('{env: {WARM_IP_TARGET: "5"}}').value).toEqual({ env: { WARM_IP_TARGET: '5' } });
  });

  it('names line and column of malformed JSON', () => {
    const message = usageMessage(() => parseConfigurationValues('{\n  "env": {\n    "A": "1",,\n  }\n}'));
    expect(message).toMatch(/^--configuration-values is not valid JSON or YAML: .* at line 3, column 14\.$/);
  });

  it('names line and column of JSON cut short', () => {
    const message = usageMessage(() => parseConfigurationValues('{"env": {"WARM_IP_TARGET": "5"}'));
    expect(message).toContain('at line 1, column 32.');
  });

  it('names line and column of malformed YAML', () => {
    const message = usageMessage(() => parseConfigurationValues('env:\n  WARM_IP_TARGET: "5\n'));
    expect(message).toMatch(/^--configuration-values is not valid JSON or YAML: .*quote.* at line 2, column \d+\.$/);
    const dup = usageMessage(() => parseConfigurationValues('env:\n  A: "1"\n  A: "2"\n'));
    expect(dup).toContain('at line 3, column 3.');
  });

  it('rejects what is not an object', () => {
    expect(usageMessage(() => parseConfigurationValues('[1, 2]'))).toContain('must be an object');
    expect(usageMessage(() => parseConfigurationValues('"true"'))).toContain('not the string "true"');
    expect(usageMessage(() => parseConfigurationValues('hello'))).toContain('must be an object');
    expect(usageMessage(() => parseConfigurationValues('null'))).toContain('not null');
  });

  it('rejects empty input', () => {
    expect(usageMessage(() => parseConfigurationValues(''))).toMatch(/is empty; .*\{\} to reset/);
    expect(usageMessage(() => parseConfigurationValues('  \n '))).toContain('is empty');
  });

  it('rejects more than 256 KiB', () => {
    const huge = JSON.stringify({ env: { ADDITIONAL_ENI_TAGS: 'x'.repeat(300 * 1024) } });
    expect(usageMessage(() => parseConfigurationValues(huge))).toContain('more than the 256 KiB allowed');
  });

  it('reads @file, JSON or YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-values-'));
    const file = join(dir, 'values.yaml');
    writeFileSync(file, 'env:\n  WARM_IP_TARGET: "5"\n');
    expect(parseConfigurationValues(`@${file}`).value).toEqual({ env: { WARM_IP_TARGET: '5' } });
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"env": }x');
    expect(usageMessage(() => parseConfigurationValues(`@${bad}`))).toContain(`--configuration-values file ${bad} is not valid JSON or YAML`);
  });

  it('uses an injected reader for @file and reports a missing file', () => {
    const files: Record<string, string> = { 'a.json': '{"env":{"ENABLE_POD_ENI":"true"}}' };
    const readFile = (path: string): string => {
      const text = files[path];
      if (text === undefined) throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
      return text;
    };
    expect(parseConfigurationValues('@a.json', { readFile }).value).toEqual({ env: { ENABLE_POD_ENI: 'true' } });
    expect(usageMessage(() => parseConfigurationValues('@missing.json', { readFile }))).toBe(
      '--configuration-values names the file missing.json, which does not exist; check the path after the @.',
    );
    expect(usageMessage(() => parseConfigurationValues('@/no/such/dir/values.json'))).toContain('does not exist');
    expect(usageMessage(() => parseConfigurationValues('@'))).toContain('needs a file name');
  });
});

describe('parseStoredConfigurationValues', () => {
  it('reads what DescribeAddon returns, JSON or YAML, empty or absent', () => {
    expect(parseStoredConfigurationValues(null)).toEqual({});
    expect(parseStoredConfigurationValues('')).toEqual({});
    expect(parseStoredConfigurationValues('{"env":{"AWS_VPC_K8S_CNI_EXTERNALSNAT":"true"}}')).toEqual({
      env: { AWS_VPC_K8S_CNI_EXTERNALSNAT: 'true' },
    });
    expect(
      parseStoredConfigurationValues("resources:\n    limits:\n        cpu: '100m'\nenv:\n    AWS_VPC_K8S_CNI_LOGLEVEL: 'DEBUG'"),
    ).toEqual({ resources: { limits: { cpu: '100m' } }, env: { AWS_VPC_K8S_CNI_LOGLEVEL: 'DEBUG' } });
  });

  it('says so when the stored text is broken', () => {
    expect(() => parseStoredConfigurationValues('{"env": ')).toThrow(UsageError);
    expect(() => parseStoredConfigurationValues('- a')).toThrow(/not an object/);
  });
});
