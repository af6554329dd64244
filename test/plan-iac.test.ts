/**
 * Issue 22: `plan --output terraform|eksctl|cloudformation`. The CLI runs in-process against a sandbox; each
 * step's pins are checked against the owner's own schema (fixtures/iac/, sources in fixtures/README.md) with
 * ajv, the Terraform output also by `terraform fmt -check -` (offline, no provider) and by a parser of the
 * emitted HCL subset (test/helpers/hcl-subset.ts). The modes and values are compared with what the upgrade's
 * dry run plans and with what a real `vpccni upgrade` sends the sandbox (read back with the AWS CLI).
 */
import { Ajv } from 'ajv';
import { execa } from 'execa';
import fc from 'fast-check';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { hclString, iacPlanOf, renderIac } from '../src/render/iac.js';
import { loadScenario, startSandbox, type RunningSandbox } from '../src/sandbox/index.js';
import { aws } from './helpers/aws-cli.js';
import { parseJson } from './helpers/cli.js';
import { parseHclSubset, type HclResource } from './helpers/hcl-subset.js';
import { onSandboxInProcess, useInProcessCli, vpccniInProcess } from './helpers/in-process.js';

useInProcessCli();

const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/iac/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
// The owners' schemas carry keywords of their own (preferredOrder, x-intellij-…, insertionOrder, typeName…).
const ajv = new Ajv({ allErrors: true, strict: false });
const terraformSchema = ajv.compile(fixture('terraform-aws-eks-addon.schema.json'));
const eksctlSchema = ajv.compile(fixture('eksctl-clusterconfig-addons.schema.json'));
const cloudFormationSchema = ajv.compile(fixture('aws-eks-addon.json'));
const errors = (validate: typeof terraformSchema, doc: unknown) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`));

/** `terraform fmt -check -`: exit 0 only for canonical HCL (terraform 1.x, offline). */
async function terraformFmtCheck(text: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('terraform', ['fmt', '-check', '-no-color', '-'], { input: text, reject: false, env: { TF_CLI_CONFIG_FILE: '/dev/null', CHECKPOINT_DISABLE: '1' } });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** The text of each resource block with the comments above it, as a user pastes one step. */
function terraformBlocks(text: string): string[] {
  return text.split(/\n\n(?=#)/).map((b) => (b.endsWith('\n') ? b : `${b}\n`));
}

const open: RunningSandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sandboxFor(name: string): Promise<RunningSandbox> {
  const s = loadScenario(name);
  s.sandbox = { ...s.sandbox, updateDurationMs: 50, rolloutDurationMs: 50 };
  const sandbox = await startSandbox(s);
  open.push(sandbox);
  return sandbox;
}

interface DryStep { from: string; to: string; action: string; resolveConflicts: string | null }

describe('the default scenario: v1.12.6-eksbuild.2 to v1.14.0-eksbuild.3 on Kubernetes 1.27', () => {
  it('prints the two-step pin sequence in each owner\'s terms, each step valid against the owner\'s schema', async () => {
    const sandbox = await sandboxFor('default');
    const dry = parseJson<{ steps: DryStep[] }>(await onSandboxInProcess(sandbox, ['upgrade', '--to', 'v1.14.0-eksbuild.3', '--dry-run', '--output', 'json']));
    expect(dry.steps.map((s) => [s.to, s.resolveConflicts])).toEqual([
      ['v1.13.4-eksbuild.1', 'PRESERVE'],
      ['v1.14.0-eksbuild.3', 'PRESERVE'],
    ]);
    const status = parseJson<{ addon: { serviceAccountRoleArn: string; configurationValues: unknown } }>(await onSandboxInProcess(sandbox, ['status', '--output', 'json']));
    const role = status.addon.serviceAccountRoleArn;
    expect(role).toMatch(/^arn:aws:iam::/);

    // Terraform: two aws_eks_addon blocks, canonical HCL, each within the provider's schema.
    const tf = await onSandboxInProcess(sandbox, ['plan', '--to', 'v1.14.0-eksbuild.3', '--output', 'terraform']);
    expect(tf.exitCode, tf.stderr).toBe(0);
    const resources = parseHclSubset(tf.stdout);
    expect(resources.map((r) => [r.type, r.name])).toEqual([
      ['aws_eks_addon', 'vpc_cni'],
      ['aws_eks_addon', 'vpc_cni'],
    ]);
    expect(resources[0]!.comments[0]).toBe('step 1 of 2: v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1, one terraform apply');
    expect(resources[1]!.comments[0]).toBe('step 2 of 2: v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3, one terraform apply');
    resources.forEach((r, i) => {
      expect(errors(terraformSchema, r.body), `step ${i + 1}`).toEqual([]);
      expect(r.body).toEqual({
        cluster_name: 'demo',
        addon_name: 'vpc-cni',
        addon_version: dry.steps[i]!.to,
        resolve_conflicts_on_update: dry.steps[i]!.resolveConflicts,
        service_account_role_arn: role,
      });
    });
    const whole = await terraformFmtCheck(tf.stdout);
    expect(whole.exitCode, whole.stdout + whole.stderr).toBe(0);
    const blocks = terraformBlocks(tf.stdout);
    expect(blocks).toHaveLength(2);
    for (const block of blocks) {
      const fmt = await terraformFmtCheck(block);
      expect(fmt.exitCode, block + fmt.stdout + fmt.stderr).toBe(0);
    }

    // eksctl: one ClusterConfig document per step, within eksctl's schema.
    const ek = await onSandboxInProcess(sandbox, ['plan', '--to', 'v1.14.0-eksbuild.3', '--output', 'eksctl']);
    expect(ek.exitCode, ek.stderr).toBe(0);
    const docs = parseAllDocuments(ek.stdout).map((d) => d.toJS() as Record<string, unknown>);
    expect(docs).toHaveLength(2);
    docs.forEach((doc, i) => {
      expect(errors(eksctlSchema, doc), `step ${i + 1}`).toEqual([]);
      expect(doc).toEqual({
        apiVersion: 'eksctl.io/v1alpha5',
        kind: 'ClusterConfig',
        metadata: { name: 'demo', region: 'us-west-2' },
        addons: [{ name: 'vpc-cni', version: dry.steps[i]!.to, serviceAccountRoleARN: role, resolveConflicts: dry.steps[i]!.resolveConflicts }],
      });
    });
    expect(ek.stdout).toContain('# step 1 of 2: v1.12.6-eksbuild.2 → v1.13.4-eksbuild.1, one eksctl update addon -f');

    // CloudFormation: one AWS::EKS::Addon template fragment per stack update, within the registry schema.
    const cf = await onSandboxInProcess(sandbox, ['plan', '--to', 'v1.14.0-eksbuild.3', '--output', 'cloudformation']);
    expect(cf.exitCode, cf.stderr).toBe(0);
    const templates = parseAllDocuments(cf.stdout).map((d) => d.toJS() as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> });
    expect(templates).toHaveLength(2);
    templates.forEach((t, i) => {
      const resource = Object.values(t.Resources);
      expect(resource).toHaveLength(1);
      expect(resource[0]!.Type).toBe('AWS::EKS::Addon');
      expect(errors(cloudFormationSchema, resource[0]!.Properties), `step ${i + 1}`).toEqual([]);
      expect(resource[0]!.Properties).toEqual({
        ClusterName: 'demo',
        AddonName: 'vpc-cni',
        AddonVersion: dry.steps[i]!.to,
        ResolveConflicts: dry.steps[i]!.resolveConflicts,
        ServiceAccountRoleArn: role,
      });
    });
    expect(cf.stdout).toContain('# step 2 of 2: v1.13.4-eksbuild.1 → v1.14.0-eksbuild.3, one stack update');

    // Read-only: planning as code changed nothing.
    expect(sandbox.log.mutating()).toEqual([]);
    expect(sandbox.addon()!.addonVersion).toBe('v1.12.6-eksbuild.2');
  }, 120_000);

  it('--output terraform|eksctl|cloudformation is for plan only, and plan --self-managed has no add-on to pin: exit 2, one sentence', async () => {
    const sandbox = await sandboxFor('default');
    for (const args of [['status', '--output', 'terraform'], ['check', '--output', 'eksctl'], ['upgrade', '--to', 'latest', '--dry-run', '--output', 'cloudformation']]) {
      const r = await onSandboxInProcess(sandbox, args);
      expect(r.exitCode, args.join(' ')).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/--output (terraform|eksctl|cloudformation) prints an upgrade plan as infrastructure code and works with `vpccni plan --to <version>` only/);
    }
    const selfManaged = await vpccniInProcess(['--sandbox', 'plan', '--to', 'latest', '--self-managed', '--output', 'terraform']);
    expect(selfManaged.exitCode).toBe(2);
    expect(selfManaged.stderr.trim().split('\n')).toHaveLength(1);
    expect(selfManaged.stderr).toMatch(/plan --self-managed keeps aws-node self-managed: .*aws_eks_addon cannot express; drop --self-managed/);
    expect(sandbox.log.mutating()).toEqual([]);
  }, 60_000);

  it('prints a comment alone when there is nothing to pin', async () => {
    const sandbox = await sandboxFor('ready-for-1.28');
    const r = await onSandboxInProcess(sandbox, ['plan', '--to', 'v1.14.0-eksbuild.3', '--output', 'terraform']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(parseHclSubset(r.stdout)).toEqual([]);
    expect(r.stdout.trim()).toBe('# vpc-cni on demo is at v1.14.0-eksbuild.3 already; nothing to do.\n# Nothing to pin.');
  }, 60_000);
});

describe('what the add-on keeps, and what the upgrade refuses', () => {
  it('writes the Pod Identity association the add-on owns, and the stored values an update keeps, so that no apply removes them', async () => {
    const sandbox = await sandboxFor('pod-identity');
    const status = parseJson<{ addon: { podIdentityAssociations: Array<{ serviceAccount: string; roleArn: string; ownerArn: string | null }> } }>(
      await onSandboxInProcess(sandbox, ['status', '--output', 'json']),
    );
    const owned = status.addon.podIdentityAssociations.filter((a) => a.ownerArn);
    expect(owned).toHaveLength(1);
    const tf = await onSandboxInProcess(sandbox, ['plan', '--to', 'latest', '--output', 'terraform']);
    expect(tf.exitCode, tf.stderr).toBe(0);
    const [step] = parseHclSubset(tf.stdout);
    expect(step!.body.pod_identity_association).toEqual(owned.map((a) => ({ role_arn: a.roleArn, service_account: a.serviceAccount })));
    expect(step!.body.service_account_role_arn).toBeUndefined();
    expect(errors(terraformSchema, step!.body)).toEqual([]);

    const stored = await sandboxFor('v1.19.3-custom-networking-sgp');
    const cf = await onSandboxInProcess(stored, ['plan', '--to', 'latest', '--output', 'cloudformation']);
    expect(cf.exitCode, cf.stderr).toBe(0);
    const props = (parseAllDocuments(cf.stdout)[0]!.toJS() as { Resources: { VpcCniAddon: { Properties: Record<string, unknown> } } }).Resources.VpcCniAddon.Properties;
    expect(props.ConfigurationValues).toBe(stored.addon()!.configurationValues);
    expect(cf.stdout).toContain('# configuration values: kept as the add-on stores them (this step sends none)');
    expect(errors(cloudFormationSchema, props)).toEqual([]);
  }, 120_000);

  it('refuses, as the upgrade does, a target the advisories block: exit 1, nothing on stdout', async () => {
    const sandbox = await sandboxFor('v1.19.3-custom-networking-sgp');
    const r = await onSandboxInProcess(sandbox, ['plan', '--to', 'v1.19.4-eksbuild.1', '--output', 'terraform']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Refusing to move to v1\.19\.4-eksbuild\.1: .*custom networking/);
  }, 60_000);
});

describe('adopting a self-managed install (self-managed → EKS add-on)', () => {
  it('carries the custom settings as configuration_values exactly as a real vpccni upgrade sends them in CreateAddon, with its mode', async () => {
    // Self-managed v1.13.4 with ENABLE_PREFIX_DELEGATION on Kubernetes 1.31: manifest steps to v1.15.5, then CreateAddon.
    const sandbox = await sandboxFor('self-managed-v1.13-k8s-1.31');
    const target = 'v1.16.4-eksbuild.2';
    const tf = await onSandboxInProcess(sandbox, ['plan', '--to', target, '--output', 'terraform']);
    expect(tf.exitCode, tf.stderr).toBe(0);
    const cf = await onSandboxInProcess(sandbox, ['plan', '--to', target, '--output', 'cloudformation']);
    const ek = await onSandboxInProcess(sandbox, ['plan', '--to', target, '--output', 'eksctl']);
    expect(sandbox.log.mutating()).toEqual([]);

    // The manifest steps have no aws_eks_addon form: comments name them and the command that makes them.
    expect(tf.stdout).toContain('# plan step 1 of 3: v1.13.4 → v1.14.1 is a server-side apply of the upstream manifest (the install stays self-managed);');
    expect(tf.stdout).toContain('aws_eks_addon cannot express it. Make it first with: vpccni upgrade --to v1.15.5 --self-managed');
    const [create, ...rest] = parseHclSubset(tf.stdout) as [HclResource, ...HclResource[]];
    expect(rest).toEqual([]);
    expect(create.comments).toContain('step 1 of 1: v1.15.5 → v1.16.4-eksbuild.2, one terraform apply (plan step 3 of 3)');
    expect(errors(terraformSchema, create.body)).toEqual([]);
    expect((await terraformFmtCheck(tf.stdout)).exitCode).toBe(0);

    // The same adoption, for real.
    const dir = mkdtempSync(join(tmpdir(), 'vpccni-iac-'));
    const run = await onSandboxInProcess(sandbox, ['upgrade', '--to', target, '--yes', '--backup-dir', dir, '--output', 'json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const report = parseJson<{ steps: DryStep[] }>(run);
    const created = report.steps.find((s) => s.action === 'create')!;
    expect(create.body.resolve_conflicts_on_create).toBe(created.resolveConflicts);
    expect(create.body.resolve_conflicts_on_update).toBeUndefined();
    expect(create.body.preserve).toBe(true);

    // What the sandbox received in CreateAddon, read back by an independent client.
    const described = await aws(sandbox.eksEndpoint, ['eks', 'describe-addon', '--cluster-name', 'demo', '--addon-name', 'vpc-cni'], { region: sandbox.region });
    expect(described.exitCode, described.stderr).toBe(0);
    const sent = (described.json as { addon: { configurationValues: string; addonVersion: string } }).addon;
    expect(sent.addonVersion).toBe(target);
    expect(JSON.parse(create.body.configuration_values as string)).toEqual(JSON.parse(sent.configurationValues));
    expect(JSON.parse(sent.configurationValues)).toMatchObject({ env: { ENABLE_PREFIX_DELEGATION: 'true' } });
    // eksctl and CloudFormation carry the very text the upgrade sent.
    const cfProps = (parseAllDocuments(cf.stdout)[0]!.toJS() as { Resources: { VpcCniAddon: { Properties: Record<string, unknown> } } }).Resources.VpcCniAddon.Properties;
    expect(cfProps.ConfigurationValues).toBe(sent.configurationValues);
    expect(cfProps.ResolveConflicts).toBe(created.resolveConflicts);
    expect(cfProps.PreserveOnDelete).toBe(true);
    expect(errors(cloudFormationSchema, cfProps)).toEqual([]);
    const ekAddon = (parseAllDocuments(ek.stdout)[0]!.toJS() as { addons: Array<Record<string, unknown>> }).addons[0]!;
    expect(ekAddon.configurationValues).toBe(sent.configurationValues);
    expect(ekAddon.resolveConflicts).toBe(created.resolveConflicts);
    expect(ek.stdout).toContain('one eksctl create addon -f');
  }, 300_000);

  it('uses the mode and the carried settings of the upgrade\'s dry run (custom-settings-self-managed)', async () => {
    const sandbox = await sandboxFor('custom-settings-self-managed');
    const dry = parseJson<{ steps: DryStep[]; carriedSettings: Array<{ path: string; value: unknown }> }>(
      await onSandboxInProcess(sandbox, ['upgrade', '--to', 'latest', '--dry-run', '--output', 'json']),
    );
    const tf = await onSandboxInProcess(sandbox, ['plan', '--to', 'latest', '--output', 'terraform']);
    expect(tf.exitCode, tf.stderr).toBe(0);
    const resources = parseHclSubset(tf.stdout);
    expect(resources).toHaveLength(dry.steps.length);
    const create = resources[0]!.body;
    expect(create.resolve_conflicts_on_create).toBe(dry.steps[0]!.resolveConflicts);
    const values = JSON.parse(create.configuration_values as string) as Record<string, unknown>;
    expect(dry.carriedSettings.length).toBeGreaterThan(0);
    for (const { path, value } of dry.carriedSettings) {
      expect(path.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], values), path).toEqual(value);
    }
    expect(errors(terraformSchema, create)).toEqual([]);
    expect((await terraformFmtCheck(tf.stdout)).exitCode).toBe(0);
  }, 120_000);
});

describe('the renderers (pure)', () => {
  const plan = (values: string | null, extra: Partial<Parameters<typeof iacPlanOf>[0]> = {}) =>
    iacPlanOf({
      cluster: 'demo',
      region: 'us-west-2',
      from: 'v1.19.5-eksbuild.1',
      to: 'v1.20.1-eksbuild.1',
      steps: [{ from: 'v1.19.5-eksbuild.1', to: 'v1.20.1-eksbuild.1', action: 'update', resolveConflicts: 'PRESERVE' }],
      storedValues: values,
      storedRoleArn: null,
      storedAssociations: [{ serviceAccount: 'aws-node', roleArn: 'arn:aws:iam::111122223333:role/AmazonEKSPodIdentityAmazonVPCCNIRole' }],
      createValues: undefined,
      updateValues: undefined,
      serviceAccountRoleArn: undefined,
      podIdentityRoleArn: undefined,
      ...extra,
    });

  it.each([
    ['plain', '"plain"'],
    ['quote " and backslash \\', '"quote \\" and backslash \\\\"'],
    ['line\nbreak\ttab', '"line\\nbreak\\ttab"'],
    ['${var.x} and %{ if }', '"$${var.x} and %%{ if }"'],
    ['bell \u0007', '"bell \\u0007"'],
  ])('hclString(%j) is %s', (text, hcl) => {
    expect(hclString(text)).toBe(hcl);
  });

  it('writes the stored values and the add-on\'s own Pod Identity association into every format', () => {
    const p = plan('{"env":{"WARM_IP_TARGET":"5"}}');
    const tf = parseHclSubset(renderIac('terraform', p))[0]!.body;
    expect(tf.pod_identity_association).toEqual([{ role_arn: 'arn:aws:iam::111122223333:role/AmazonEKSPodIdentityAmazonVPCCNIRole', service_account: 'aws-node' }]);
    expect(errors(terraformSchema, tf)).toEqual([]);
    const ek = parseAllDocuments(renderIac('eksctl', p))[0]!.toJS() as { addons: Array<Record<string, unknown>> };
    expect(errors(eksctlSchema, ek)).toEqual([]);
    expect(ek.addons[0]!.podIdentityAssociations).toEqual([{ namespace: 'kube-system', serviceAccountName: 'aws-node', roleARN: 'arn:aws:iam::111122223333:role/AmazonEKSPodIdentityAmazonVPCCNIRole' }]);
    const cf = (parseAllDocuments(renderIac('cloudformation', p))[0]!.toJS() as { Resources: { VpcCniAddon: { Properties: Record<string, unknown> } } }).Resources.VpcCniAddon.Properties;
    expect(errors(cloudFormationSchema, cf)).toEqual([]);
    expect(cf.PodIdentityAssociations).toEqual([{ ServiceAccount: 'aws-node', RoleArn: 'arn:aws:iam::111122223333:role/AmazonEKSPodIdentityAmazonVPCCNIRole' }]);
    expect(cf.ConfigurationValues).toBe('{"env":{"WARM_IP_TARGET":"5"}}');
  });

  it('renders any configuration values as canonical HCL whose jsonencode gives the same JSON back', async () => {
    const key = fc.oneof(fc.constantFrom('env', 'WARM_IP_TARGET', 'true', 'for', 'kubernetes.io/os', 'a-b', '${x}', '%{y}', 'ünï', ''), fc.string({ maxLength: 8 }));
    const scalar = fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(), fc.constant(null), fc.double({ noNaN: true, noDefaultInfinity: true }));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
    }));
    const samples = fc.sample(fc.dictionary(key, value, { minKeys: 1, maxKeys: 5 }), { numRuns: 60, seed: 22 });
    const texts = samples.map((v) => renderIac('terraform', plan(JSON.stringify(v))));
    texts.forEach((text, i) => {
      const body = parseHclSubset(text)[0]!.body;
      expect(JSON.parse(body.configuration_values as string), text).toEqual(JSON.parse(JSON.stringify(samples[i])));
    });
    // One terraform start for all of them: fmt -check of the concatenation is canonical only if each is.
    const fmt = await terraformFmtCheck(texts.join('\n'));
    expect(fmt.exitCode, fmt.stdout + fmt.stderr).toBe(0);
  }, 60_000);
});
