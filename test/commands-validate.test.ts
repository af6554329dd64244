/**
 * `vpccni validate` against the sandbox, whose configuration schemas are the real ones EKS published, with the
 * real configuration values of fixtures/configuration-values/. One run spawns the real, built CLI; the rest
 * run the same CLI in-process (main(argv), helpers/in-process.ts).
 */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isolatedEnv, parseJson, ROOT, vpccni } from './helpers/cli.js';
import { useInProcessCli, vpccniInProcess } from './helpers/in-process.js';
import { schemaErrors } from './helpers/schemas.js';

const FIXTURES = join(ROOT, 'fixtures', 'configuration-values');
useInProcessCli();

interface ValidateDoc {
  schemaVersion: 1;
  addonVersion: string;
  valid: boolean;
  problems: Array<{ path: string; message: string }>;
}

/** Runs `vpccni --sandbox [--scenario S] --output json validate …` and checks the document's schema. */
async function validateJson(values: string, extra: string[] = [], scenario?: string) {
  const result = await vpccniInProcess([
    '--sandbox',
    ...(scenario ? ['--scenario', scenario] : []),
    '--output',
    'json',
    'validate',
    '--configuration-values',
    values,
    ...extra,
  ]);
  const doc = parseJson<ValidateDoc>(result);
  expect(schemaErrors('validate', doc)).toEqual([]);
  return { result, doc };
}

describe('vpccni validate: problems, one line each', () => {
  it('rejects an unknown env key with a did-you-mean, exit 2, in text and JSON', async () => {
    const values = '{"env":{"WARM_IP_TARGETS":"5"}}';
    // The real, built CLI, spawned: the one end-to-end run of validate.
    const text = await vpccni(['--sandbox', 'validate', '--configuration-values', values, '--addon-version', 'v1.14.0-eksbuild.3']);
    expect(text.exitCode, text.stderr).toBe(2);
    expect(text.stdout.trim().split('\n')).toEqual(['env.WARM_IP_TARGETS: is not a setting; did you mean WARM_IP_TARGET?']);
    expect(text.stderr).toMatch(/not valid for vpc-cni v1\.14\.0-eksbuild\.3/);

    const { result, doc } = await validateJson(values, ['--addon-version', 'v1.14.0-eksbuild.3']);
    expect(result.exitCode).toBe(2);
    expect(doc).toEqual({
      schemaVersion: 1,
      addonVersion: 'v1.14.0-eksbuild.3',
      valid: false,
      problems: [{ path: 'env.WARM_IP_TARGETS', message: 'env.WARM_IP_TARGETS is not a setting; did you mean WARM_IP_TARGET?' }],
    });
  });

  it('rejects a boolean where the schema wants the string "true"/"false", and lists every problem', async () => {
    const values = JSON.stringify({ env: { AWS_VPC_K8S_CNI_EXTERNALSNAT: true, WARM_IP_TARGET: 5 }, bogus: 1 });
    const text = await vpccniInProcess(['--sandbox', 'validate', '--configuration-values', values, '--addon-version', '1.15.1-eksbuild.1']);
    expect(text.exitCode, text.stderr).toBe(2);
    const lines = text.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines).toContain('env.AWS_VPC_K8S_CNI_EXTERNALSNAT: must be "true" or "false" (a string), not true.');
    expect(lines.find((l) => l.startsWith('env.WARM_IP_TARGET: '))).toMatch(/whole number as a string/);
    expect(lines.find((l) => l.startsWith('bogus: '))).toBeDefined();
  });

  it('refuses malformed JSON and YAML with exit 2 and the line and column, before any call', async () => {
    const json = await vpccniInProcess(['--sandbox', 'validate', '--configuration-values', '{"env": {"WARM_IP_TARGET": "5"}']);
    expect(json.exitCode).toBe(2);
    expect(json.stdout).toBe('');
    expect(json.stderr).toMatch(/^vpccni: --configuration-values is not valid JSON or YAML: .* at line 1, column 32\.$/);

    const yaml = await vpccniInProcess(['--sandbox', 'validate', '--configuration-values', 'env:\n  WARM_IP_TARGET: "5"\n  MINIMUM_IP_TARGET: [1\n']);
    expect(yaml.exitCode).toBe(2);
    expect(yaml.stderr).toMatch(/not valid JSON or YAML: .* at line \d+, column \d+\./);

    const json2 = await vpccniInProcess(['--sandbox', '--output', 'json', 'validate', '--configuration-values', '[1,']);
    expect(json2.exitCode).toBe(2);
    expect(json2.stdout).toBe('');
  });

  it('says EKS has no schema for an unknown version (exit 2), and refuses a malformed one', async () => {
    const unknown = await vpccniInProcess(['--sandbox', 'validate', '--configuration-values', '{}', '--addon-version', 'v1.99.0-eksbuild.1']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain(
      'EKS has no configuration schema for vpc-cni v1.99.0-eksbuild.1; check the version (vpccni plan --to latest).',
    );
    const plain = await vpccniInProcess(['--sandbox', 'validate', '--configuration-values', '{}', '--addon-version', 'v1.99.0']);
    expect(plain.exitCode).toBe(2);
    expect(plain.stderr).toMatch(/EKS has no configuration schema for vpc-cni v1\.99\.0/);
    const bad = await vpccniInProcess(['--sandbox', 'validate', '--configuration-values', '{}', '--addon-version', 'latest-ish']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/is not an add-on version/);
  });
});

describe('vpccni validate: real configuration values on the right versions', () => {
  // fixtures/configuration-values/README.md: the verdict of each file on each real schema.
  const table: Array<[file: string, on112: boolean, on115: boolean]> = [
    ['eks-ug.resources-limits-cpu.json', true, true],
    ['eks-ug.env-externalsnat.json', true, true],
    ['aws-cli.describe-addon.resources-env-loglevel.yaml', true, true],
    ['issue-2540.enable-network-policy.json', false, true],
    ['network-policy-agent-issue-443.node-agent-log-level.json', false, false],
    ['upbound-issue-12.custom-networking-env.json', false, true],
    ['issue-2173.rejected-pod-sg-enforcing-mode.json', false, true],
  ];
  it.each(table)('%s', async (file, on112, on115) => {
    const [a, b] = await Promise.all(
      ['v1.12.0-eksbuild.1', 'v1.15.1-eksbuild.1'].map((v) => validateJson(`@${join(FIXTURES, file)}`, ['--addon-version', v])),
    );
    expect(a!.doc.valid, JSON.stringify(a!.doc.problems)).toBe(on112);
    expect(a!.result.exitCode).toBe(on112 ? 0 : 2);
    expect(b!.doc.valid, JSON.stringify(b!.doc.problems)).toBe(on115);
    expect(b!.result.exitCode).toBe(on115 ? 0 : 2);
  });

  it('names the settings the 1.12 schema lacks, and the text verdict of a valid file', async () => {
    const { doc } = await validateJson(`@${join(FIXTURES, 'upbound-issue-12.custom-networking-env.json')}`, ['--addon-version', 'v1.12.0-eksbuild.1']);
    expect(doc.problems.map((p) => p.path).sort()).toEqual(['env.ENI_CONFIG_LABEL_DEF', 'env.WARM_IP_TARGET']);
    const ok = await vpccniInProcess([
      '--sandbox', 'validate', '--configuration-values', `@${join(FIXTURES, 'aws-cli.describe-addon.resources-env-loglevel.yaml')}`,
      '--addon-version', 'v1.14.0-eksbuild.3',
    ]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('Valid for vpc-cni v1.14.0-eksbuild.3.');
  });
});

describe('vpccni validate: which version', () => {
  it('defaults to the installed version: the managed add-on, or the newest build of a self-managed plain tag', async () => {
    const [managed, selfManaged, v119] = await Promise.all([
      validateJson('{"env":{"WARM_ENI_TARGET":"1"}}'),
      validateJson('{"env":{"WARM_ENI_TARGET":"1"}}', [], 'self-managed-custom-networking'),
      validateJson('{"env":{"ENABLE_POD_ENI":"true"}}', [], 'v1.19.3-custom-networking-sgp'),
    ]);
    expect(managed.doc).toMatchObject({ addonVersion: 'v1.12.6-eksbuild.2', valid: true, problems: [] });
    expect(managed.result.exitCode).toBe(0);
    // The self-managed DaemonSet runs the plain v1.12.6; its newest EKS build is v1.12.6-eksbuild.2.
    expect(selfManaged.doc).toMatchObject({ addonVersion: 'v1.12.6-eksbuild.2', valid: true });
    expect(selfManaged.result.stderr).toMatch(/newest EKS build of v1\.12\.6/);
    expect(v119.doc.addonVersion).toMatch(/^v1\.19\.3-eksbuild\.\d+$/);
    expect(v119.doc.valid).toBe(true);

    // The installed 1.12 schema has no WARM_IP_TARGET: the default version matters.
    const onInstalled = await validateJson('{"env":{"WARM_IP_TARGET":"5"}}');
    expect(onInstalled.doc.valid).toBe(false);
    expect(onInstalled.doc.problems[0]?.message).toMatch(/schema does not accept it/);
  });

  it('needs only EKS, not kubectl, when --addon-version is given', async () => {
    // A PATH holding node alone (for the run's own spawns): any kubectl call would fail with "kubectl was not found" (exit 3).
    const bin = join(mkdtempSync(join(tmpdir(), 'vpccni-nokubectl-')), 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const env = isolatedEnv({ PATH: bin });
    const result = await vpccniInProcess(
      ['--sandbox', 'validate', '--configuration-values', '{"env":{"WARM_IP_TARGET":"5"}}', '--addon-version', 'v1.13.4'],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('Valid for vpc-cni v1.13.4-eksbuild.1.');
    // Without it, the installed version of a self-managed install comes from the DaemonSet: read in-process by
    // default, so still no kubectl; through kubectl when asked for it.
    const inProcess = await vpccniInProcess(
      ['--sandbox', '--scenario', 'self-managed-custom-networking', 'validate', '--configuration-values', '{}'],
      { env },
    );
    expect(inProcess.exitCode, inProcess.stderr).toBe(0);
    expect(inProcess.stdout).toBe('Valid for vpc-cni v1.12.6-eksbuild.2.');
    const needsKubectl = await vpccniInProcess(
      ['--sandbox', '--scenario', 'self-managed-custom-networking', '--kube-client', 'kubectl', 'validate', '--configuration-values', '{}'],
      { env },
    );
    expect(needsKubectl.exitCode).toBe(3);
    expect(needsKubectl.stderr).toMatch(/kubectl was not found/);
  });
});
