/**
 * `plan --output terraform|eksctl|cloudformation`: the plan as the pins a team writes into its own
 * infrastructure code, one apply per step. Pure: the steps, their conflict modes and the values each sends
 * come from the upgrade's own dry run (src/act/upgrade/run.ts), never decided here.
 *
 * Owners' schemas: Terraform AWS provider `internal/service/eks/addon.go`, eksctl's ClusterConfig
 * `schema.json`, the CloudFormation registry schema of AWS::EKS::Addon (copies in fixtures/iac/).
 */
import { stringify } from 'yaml';
import type { ResolveConflicts } from '../domain.js';

export const IAC_FORMATS = ['terraform', 'eksctl', 'cloudformation'] as const;
export type IacFormat = (typeof IAC_FORMATS)[number];

/** Whether an `--output` value is one of the infrastructure-code formats. */
export function isIacFormat(format: string | undefined): format is IacFormat {
  return (IAC_FORMATS as readonly string[]).includes(format ?? '');
}

/** One step of the plan as the owner's code states it after that step. */
export interface IacStep {
  from: string;
  to: string;
  action: 'create' | 'update' | 'apply';
  resolveConflicts: ResolveConflicts | null;
  /** The configuration values the add-on holds after the step (sent with it, or kept from before); null: none. */
  configurationValues: string | null;
  /** Whether the step sends the values, or the add-on keeps the ones it stores. */
  valuesSent: boolean;
  serviceAccountRoleArn: string | null;
  podIdentityAssociations: Array<{ serviceAccount: string; roleArn: string }>;
}

/** The plan for one cluster in infrastructure-code terms. */
export interface IacPlan {
  cluster: string;
  region: string;
  from: string;
  to: string;
  steps: IacStep[];
}

/** What the upgrade's dry run hands over, as plain data (src/act/upgrade/run.ts, PlannedUpgrade). */
export interface IacInput {
  cluster: string;
  region: string;
  from: string;
  to: string;
  steps: Array<{ from: string; to: string; action: 'create' | 'update' | 'apply'; resolveConflicts: ResolveConflicts | null }>;
  /** The add-on's stored values and role now (null when self-managed or none). */
  storedValues: string | null;
  storedRoleArn: string | null;
  /** The Pod Identity associations of kube-system/aws-node now (null: they could not be read). */
  storedAssociations: Array<{ serviceAccount: string; roleArn: string }> | null;
  createValues: string | undefined;
  updateValues: string | undefined;
  serviceAccountRoleArn: string | undefined;
  podIdentityRoleArn: string | undefined;
}

/**
 * The state each step leaves, from what the walk sends: a step's values, role and associations are the ones
 * it sends, else the ones the add-on keeps from the step before (EKS keeps what UpdateAddon leaves out; a
 * CreateAddon starts from nothing). Infrastructure code states the whole resource, so a kept setting is
 * written out too: a pin that left it out would make Terraform or CloudFormation remove it.
 */
export function iacPlanOf(input: IacInput): IacPlan {
  let values = input.storedValues && input.storedValues.trim() !== '' ? input.storedValues : null;
  let role = input.storedRoleArn;
  let associations = input.storedAssociations ?? [];
  const steps = input.steps.map((s): IacStep => {
    if (s.action === 'apply') {
      return { ...s, configurationValues: null, valuesSent: false, serviceAccountRoleArn: null, podIdentityAssociations: [] };
    }
    const sent = s.action === 'create' ? input.createValues : input.updateValues;
    if (s.action === 'create') {
      values = null;
      role = null;
      associations = [];
    }
    if (sent !== undefined) values = sent;
    if (input.serviceAccountRoleArn) role = input.serviceAccountRoleArn;
    if (input.podIdentityRoleArn) associations = [{ serviceAccount: 'aws-node', roleArn: input.podIdentityRoleArn }];
    return { ...s, configurationValues: values, valuesSent: sent !== undefined, serviceAccountRoleArn: role, podIdentityAssociations: associations };
  });
  return { cluster: input.cluster, region: input.region, from: input.from, to: input.to, steps };
}

/**
 * The plan in the owner's format: one commented block (Terraform) or YAML document per EKS step. Manifest
 * steps (`apply`, the install stays self-managed) have no such form: comments name them, with the command
 * that makes them, before the first EKS step.
 */
export function renderIac(format: IacFormat, plan: IacPlan): string {
  if (plan.steps.length === 0) return `# vpc-cni on ${plan.cluster} is at ${plan.from} already; nothing to pin.\n`;
  const render = { terraform: terraformStep, eksctl: eksctlStep, cloudformation: cloudFormationStep }[format];
  const eks = plan.steps.filter((s) => s.action !== 'apply');
  const manual = plan.steps.flatMap((s, i) => (s.action === 'apply' ? manifestStepComment(plan, s, i, format) : []));
  const blocks = eks.map((step, n) => {
    const lines = header(format, step, n + 1, eks.length, plan.steps.indexOf(step), plan.steps.length);
    return render(plan, step, n === 0 ? [...manual, ...lines] : lines);
  });
  return blocks.join(format === 'terraform' ? '\n' : '---\n');
}

function header(format: IacFormat, step: IacStep, n: number, of: number, index: number, total: number): string[] {
  const unit = {
    terraform: 'one terraform apply',
    eksctl: `one eksctl ${step.action === 'create' ? 'create' : 'update'} addon -f`,
    cloudformation: 'one stack update',
  }[format];
  const lines = [`# step ${n} of ${of}: ${step.from} → ${step.to}, ${unit}${of !== total ? ` (plan step ${index + 1} of ${total})` : ''}`];
  if (step.action === 'create') {
    lines.push(`# adopts the self-managed aws-node into the EKS add-on (CreateAddon, resolve conflicts ${step.resolveConflicts ?? 'unset'})`);
  }
  if (step.configurationValues !== null && !step.valuesSent) lines.push('# configuration values: kept as the add-on stores them (this step sends none)');
  if (n < of) lines.push(`# wait until the add-on is ACTIVE at ${step.to} and aws-node has rolled out before the next step`);
  return lines;
}

function manifestStepComment(plan: IacPlan, step: IacStep, index: number, format: IacFormat): string[] {
  const what = { terraform: 'aws_eks_addon', eksctl: 'an eksctl addons entry', cloudformation: 'AWS::EKS::Addon' }[format];
  return [
    `# plan step ${index + 1} of ${plan.steps.length}: ${step.from} → ${step.to} is a server-side apply of the upstream manifest (the install stays self-managed);`,
    `#   ${what} cannot express it. Make it first with: vpccni upgrade --to ${step.to} --self-managed`,
  ];
}

// ---- Terraform (HCL) ----

/** Arguments of one aws_eks_addon block, in the order the provider's documentation lists them. */
function terraformStep(plan: IacPlan, step: IacStep, comments: string[]): string {
  const attrs: Array<[string, string]> = [
    ['cluster_name', hclString(plan.cluster)],
    ['addon_name', hclString('vpc-cni')],
    ['addon_version', hclString(step.to)],
  ];
  if (step.resolveConflicts) attrs.push([step.action === 'create' ? 'resolve_conflicts_on_create' : 'resolve_conflicts_on_update', hclString(step.resolveConflicts)]);
  if (step.serviceAccountRoleArn) attrs.push(['service_account_role_arn', hclString(step.serviceAccountRoleArn)]);
  if (step.configurationValues !== null) attrs.push(['configuration_values', hclValuesExpression(step.configurationValues, '  ')]);
  // The DaemonSet ran before the add-on existed: deleting the resource later must not take pod networking away.
  if (step.action === 'create') attrs.push(['preserve', 'true']);
  const body = [...alignAttributes(attrs, '  ')];
  for (const a of step.podIdentityAssociations) {
    body.push('', '  pod_identity_association {', ...alignAttributes([['role_arn', hclString(a.roleArn)], ['service_account', hclString(a.serviceAccount)]], '    '), '  }');
  }
  return [...comments, 'resource "aws_eks_addon" "vpc_cni" {', ...body, '}', ''].join('\n');
}

/** `configuration_values`: jsonencode of the values as an HCL object (a string when the text is not JSON). */
function hclValuesExpression(text: string, indent: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return hclString(text);
  }
  return `jsonencode(${hclValue(value, indent)})`;
}

/** Lines `key = value` aligned as `terraform fmt` aligns a run of single-line attributes. */
function alignAttributes(attrs: Array<[string, string]>, indent: string): string[] {
  const lines: string[] = [];
  let run: Array<[string, string]> = [];
  const flush = () => {
    const width = Math.max(...run.map(([k]) => k.length));
    for (const [k, v] of run) lines.push(`${indent}${k.padEnd(width)} = ${v}`);
    run = [];
  };
  for (const [k, v] of attrs) {
    if (v.includes('\n')) {
      if (run.length > 0) flush();
      lines.push(`${indent}${k} = ${v}`);
    } else run.push([k, v]);
  }
  if (run.length > 0) flush();
  return lines;
}

/** A JSON value as an HCL expression; objects and lists of objects span lines, as `terraform fmt` keeps them. */
function hclValue(value: unknown, indent: string): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return hclString(value);
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) return `[${value.map((v) => hclValue(v, inner)).join(', ')}]`;
    return `[\n${value.map((v) => `${inner}${hclValue(v, inner)},`).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  const attrs = entries.map(([k, v]): [string, string] => [hclKey(k), hclValue(v, inner)]);
  return `{\n${alignAttributes(attrs, inner).join('\n')}\n${indent}}`;
}

const KEYWORDS = new Set(['true', 'false', 'null', 'for', 'in', 'if', 'endfor', 'endif']);

function hclKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && !KEYWORDS.has(key) ? key : hclString(key);
}

/** An HCL quoted string: HCL's escapes, and `${` and `%{` doubled so that no template sequence starts. */
export function hclString(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `"${out.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{')}"`;
}

// ---- eksctl (ClusterConfig) ----

function eksctlStep(plan: IacPlan, step: IacStep, comments: string[]): string {
  const addon: Record<string, unknown> = { name: 'vpc-cni', version: step.to };
  if (step.serviceAccountRoleArn) addon.serviceAccountRoleARN = step.serviceAccountRoleArn;
  if (step.resolveConflicts) addon.resolveConflicts = step.resolveConflicts;
  if (step.podIdentityAssociations.length > 0) {
    addon.podIdentityAssociations = step.podIdentityAssociations.map((a) => ({ namespace: 'kube-system', serviceAccountName: a.serviceAccount, roleARN: a.roleArn }));
  }
  if (step.configurationValues !== null) addon.configurationValues = step.configurationValues;
  const doc = { apiVersion: 'eksctl.io/v1alpha5', kind: 'ClusterConfig', metadata: { name: plan.cluster, region: plan.region }, addons: [addon] };
  return `${comments.join('\n')}\n${stringify(doc, { lineWidth: 0 })}`;
}

// ---- CloudFormation (AWS::EKS::Addon) ----

function cloudFormationStep(plan: IacPlan, step: IacStep, comments: string[]): string {
  const properties: Record<string, unknown> = { ClusterName: plan.cluster, AddonName: 'vpc-cni', AddonVersion: step.to };
  if (step.resolveConflicts) properties.ResolveConflicts = step.resolveConflicts;
  if (step.configurationValues !== null) properties.ConfigurationValues = step.configurationValues;
  if (step.serviceAccountRoleArn) properties.ServiceAccountRoleArn = step.serviceAccountRoleArn;
  if (step.podIdentityAssociations.length > 0) {
    properties.PodIdentityAssociations = step.podIdentityAssociations.map((a) => ({ ServiceAccount: a.serviceAccount, RoleArn: a.roleArn }));
  }
  // The DaemonSet ran before the add-on existed: deleting the stack's resource must not take pod networking away.
  if (step.action === 'create') properties.PreserveOnDelete = true;
  const doc = { Resources: { VpcCniAddon: { Type: 'AWS::EKS::Addon', Properties: properties } } };
  return `${comments.join('\n')}\n${stringify(doc, { lineWidth: 0 })}`;
}
