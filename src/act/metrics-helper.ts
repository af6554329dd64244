/**
 * `vpccni metrics-helper status|upgrade`: the cni-metrics-helper against the CNI's version, and the user
 * guide's procedure to install or update it: IAM policy and role (only with --create-role), the manifest of
 * the CNI's release rendered for the region, the service account annotated, the Deployment restarted and its
 * version checked; a backup of what it replaces first. Nothing changes before every check has passed.
 */
import { mkdir, open } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { installedVersion } from '../decide/checks/index.js';
import { oidcProviderArnFor } from '../decide/checks/irsa.js';
import {
  HELPER_NAME,
  HELPER_POLICY_DOCUMENT,
  HELPER_POLICY_NAME,
  ROLE_ANNOTATION,
  helperPath,
  helperRoleFindings,
  helperRoleName,
  helperRoleState,
  helperTargetFor,
  helperTrustPolicy,
  helperVersionOf,
  renderHelperManifest,
  type HelperRoleState,
} from '../decide/metrics-helper.js';
import type { KubeObject } from '../decide/manifests.js';
import { partitionOf } from '../decide/registries.js';
import { FIELD_MANAGER, manifestText, renderTargetFor, unifiedDiff } from '../decide/self-managed.js';
import type { Finding, RoleInfo } from '../domain.js';
import { GateFailedError, UnreachableError, UpgradeStoppedError, UsageError } from '../errors.js';
import { gatherFacts, type GatheredFacts } from '../gather/facts.js';
import { confirm } from '../render/ui.js';
import type { Runtime } from '../runtime.js';
import { backupTimestamp, stripServerFields } from './backup.js';
import { tryParseAddonVersion, minorIndex } from '../upgrade-planner/version.js';

/** The `metrics-helper status --output json` document (schemas/metrics-helper.schema.json). */
export interface MetricsHelperReport {
  schemaVersion: 1;
  cluster: { name: string; region: string };
  cni: { version: string | null };
  helper: { installed: boolean; version: string | null; serviceAccountRoleArn: string | null; roleState: HelperRoleState };
  /** The helper release that matches the CNI, null when vpccni ships none of its minor. */
  target: string | null;
  inStep: boolean;
  /** The helper releases an upgrade applies, one minor at a time. */
  path: string[];
  findings: Finding[];
  /** `upgrade` only. */
  dryRun?: boolean;
  backup?: string | null;
  roleCreated?: string | null;
  steps?: Array<{ to: string; result: 'planned' | 'succeeded'; diff?: string }>;
}

interface HelperFacts {
  facts: GatheredFacts;
  deployment: KubeObject | null;
  serviceAccount: KubeObject | null;
  roleArn: string | null;
  role: RoleInfo | null;
}

async function gatherHelper(runtime: Runtime): Promise<HelperFacts> {
  const [facts, serviceAccount] = await Promise.all([
    gatherFacts(runtime),
    runtime.kube.getJson(['serviceaccount', HELPER_NAME, '-n', 'kube-system']),
  ]);
  const annotations = (serviceAccount?.metadata.annotations ?? {}) as Record<string, string>;
  const roleArn = annotations[ROLE_ANNOTATION] ?? null;
  const role = roleArn ? await runtime.iam.getRole(roleArn) : null;
  return { facts, deployment: facts.raw.objects.metricsHelper, serviceAccount, roleArn, role };
}

function buildReport(h: HelperFacts): MetricsHelperReport {
  const cni = installedVersion(h.facts);
  const version = helperVersionOf(h.deployment);
  const target = cni ? helperTargetFor(cni) : null;
  const roleState = helperRoleState(h.role, h.facts.cluster.oidcIssuer, h.facts.oidcProviderArns);
  const v = tryParseAddonVersion(version ?? '');
  const t = tryParseAddonVersion(target ?? '');
  const inStep = v !== null && t !== null && v.major === t.major && v.minor === t.minor && v.patch === t.patch;
  const findings: Finding[] = [];
  if (!h.deployment) {
    findings.push({ id: 'metrics-helper-absent', severity: 'info', message: `The cni-metrics-helper is not installed on ${h.facts.cluster.name}.`, remediation: `Install it at the CNI's version: \`vpccni metrics-helper upgrade\`.` });
  } else if (!inStep && target) {
    const apart = v && t ? Math.abs(minorIndex(v) - minorIndex(t)) : 0;
    findings.push({
      id: 'metrics-helper-version-mismatch',
      severity: 'warning',
      message: `cni-metrics-helper runs ${version ?? 'an unreadable version'}, the CNI runs ${cni}${apart > 1 ? ` (${apart} minor versions apart)` : ''}; they should run the same version.`,
      remediation: `Update it: \`vpccni metrics-helper upgrade\` (to ${target}, one minor version at a time).`,
    });
  }
  if (cni && !target) {
    findings.push({ id: 'metrics-helper-no-manifest', severity: 'warning', message: `vpccni ships no cni-metrics-helper manifest of the CNI's minor (${cni}).`, remediation: 'Update vpccni, or follow the user guide with the release\'s manifest from GitHub.' });
  }
  if (h.deployment || h.roleArn) findings.push(...helperRoleFindings(roleState, h.roleArn));
  let path: string[] = [];
  if (target && !inStep) {
    try {
      path = helperPath(version, target);
    } catch (error) {
      findings.push({ id: 'metrics-helper-no-path', severity: 'warning', message: `No one-minor-at-a-time path from ${version} to ${target}: ${(error as Error).message}.` });
    }
  }
  return {
    schemaVersion: 1,
    cluster: { name: h.facts.cluster.name, region: h.facts.cluster.region },
    cni: { version: cni },
    helper: { installed: h.deployment !== null, version, serviceAccountRoleArn: h.roleArn, roleState },
    target,
    inStep,
    path,
    findings,
  };
}

/** `metrics-helper status`: exit 1 when an error finding (a broken role) applies. */
export async function metricsHelperStatus(runtime: Runtime): Promise<number> {
  const h = await runtime.ui.step(`Reading the CNI and the cni-metrics-helper of ${runtime.clusterName}`, () => gatherHelper(runtime));
  const report = buildReport(h);
  printReport(runtime, report);
  return report.findings.some((f) => f.severity === 'error') ? 1 : 0;
}

function printReport(runtime: Runtime, r: MetricsHelperReport): void {
  const { ui } = runtime;
  if (ui.format === 'json') {
    ui.json(r);
    return;
  }
  ui.out(`CNI:                ${r.cni.version ?? 'not installed'}`);
  ui.out(`cni-metrics-helper: ${r.helper.installed ? r.helper.version ?? 'unreadable version' : 'not installed'}${r.inStep ? ' (in step with the CNI)' : ''}`);
  ui.out(`  role:             ${r.helper.serviceAccountRoleArn ?? 'none'} (${r.helper.roleState})`);
  if (r.target && !r.inStep) ui.out(`Target:             ${r.target}${r.path.length > 1 ? ` via ${r.path.slice(0, -1).join(', ')}` : ''}`);
  if (r.findings.length > 0) {
    ui.out('Findings');
    for (const f of r.findings) ui.out(`  ${f.severity} [${f.id}] ${f.message}${f.remediation ? `\n      → ${f.remediation}` : ''}`);
  }
}

/** What `metrics-helper upgrade` was asked. */
export interface HelperUpgradeRequest {
  dryRun?: boolean;
  yes?: boolean;
  createRole?: boolean;
  timeoutMs: number;
  backupDir: string;
}

/** `metrics-helper upgrade`: 0 done (or nothing to do), 2 refused before any change, 4 stopped part-way. */
export async function metricsHelperUpgrade(runtime: Runtime, o: HelperUpgradeRequest): Promise<number> {
  const { ui } = runtime;
  const h = await ui.step(`Reading the CNI and the cni-metrics-helper of ${runtime.clusterName}`, () => gatherHelper(runtime));
  const report = buildReport(h);
  report.dryRun = Boolean(o.dryRun);
  const cluster = h.facts.cluster;
  if (!report.cni.version) throw new UnreachableError(`Cluster "${cluster.name}" runs no readable VPC CNI version, so there is no version to put the cni-metrics-helper at.`);
  if (!report.target) throw new GateFailedError(`vpccni ships no cni-metrics-helper manifest of the CNI's minor (${report.cni.version}); follow the user guide with that release's manifest from GitHub.`);

  // The role: usable as it is, created when asked, else refused (nothing changed yet).
  const state = report.helper.roleState;
  const issuer = cluster.oidcIssuer;
  const account = /^arn:[^:]+:eks:[^:]+:(\d{12}):/.exec(cluster.arn ?? '')?.[1] ?? null;
  const partition = partitionOf(cluster.region);
  let roleArn = h.roleArn;
  let createRole: { name: string; trust: unknown; policyArn: string } | null = null;
  if (state === 'untrusted' || state === 'no-oidc-provider') {
    throw new UsageError(helperRoleFindings(state, h.roleArn).map((f) => `${f.message} ${f.remediation ?? ''}`.trim()).join(' '));
  }
  if (state === 'missing' || state === 'none') {
    if (o.createRole) {
      if (!issuer || !account) throw new UsageError('The cluster has no OIDC issuer (or no readable account), so no role for service accounts can be created; create an IAM OIDC provider first (eksctl utils associate-iam-oidc-provider).');
      const name = state === 'missing' ? (h.roleArn as string).split('/').pop()! : helperRoleName(cluster.name);
      const host = issuer.replace(/^https:\/\//, '').replace(/\/+$/, '');
      // The provider as IAM lists it (its ARN carries the account's partition).
      const provider = h.facts.oidcProviderArns.find((arn) => arn.endsWith(`:oidc-provider/${host}`));
      if (!provider) {
        throw new UsageError(`The cluster's IAM OIDC provider ${oidcProviderArnFor(`arn:${partition}:iam::${account}:role/${name}`, issuer)} does not exist; create it (eksctl utils associate-iam-oidc-provider --cluster ${cluster.name} --approve) and run again.`);
      }
      createRole = { name, trust: helperTrustPolicy(provider, host), policyArn: `arn:${partition}:iam::${account}:policy/${HELPER_POLICY_NAME}` };
      roleArn = `arn:${partition}:iam::${account}:role/${name}`;
    } else if (state === 'missing') {
      throw new UsageError(`The cni-metrics-helper service account names ${h.roleArn}, which does not exist in IAM; pass --create-role to create it with the user guide's policy, or fix the annotation.`);
    } else {
      ui.warn('The cni-metrics-helper will have no IAM role of its own (it then needs the node role to allow cloudwatch:PutMetricData); pass --create-role to create one.');
    }
  }

  const path = report.inStep && !createRole ? [] : report.inStep ? [report.target] : report.path;
  const prefix = renderTargetFor(h.facts).imagePrefix;
  const render = (release: string) => renderHelperManifest(release, { imagePrefix: prefix, roleArn, live: h.deployment });
  let previous = h.deployment ? manifestText(render(report.helper.version && tryParseAddonVersion(report.helper.version) ? closestRelease(report.helper.version) : report.target)) : '';
  let label = h.deployment ? `cni-metrics-helper ${report.helper.version}` : '(not installed)';
  report.steps = path.map((to) => {
    const text = manifestText(render(to));
    const diff = unifiedDiff(previous, text, [label, `cni-metrics-helper ${to}`]);
    previous = text;
    label = `cni-metrics-helper ${to}`;
    return { to, result: 'planned' as const, diff };
  });
  report.roleCreated = createRole ? roleArn : null;

  if (path.length === 0) {
    if (ui.format === 'json') ui.json(report);
    else ui.out(`cni-metrics-helper on ${cluster.name} is at ${report.helper.version} already, in step with the CNI (${report.cni.version}); nothing to do.`);
    return 0;
  }
  if (o.dryRun) {
    printHelperDryRun(runtime, report, createRole, prefix);
    return 0;
  }
  if (!o.yes && !(await confirm(`Install cni-metrics-helper ${report.target} on ${cluster.name}?`))) {
    throw new UsageError('Nothing was changed; pass --yes to go on without a terminal.');
  }

  // From here on the cluster changes: backup first.
  report.backup = h.deployment || h.serviceAccount ? await writeHelperBackup(o.backupDir, cluster.name, [h.deployment, h.serviceAccount]) : null;
  if (report.backup) ui.info(`Backup: ${report.backup}`);
  if (createRole) {
    ui.info(`Creating IAM policy ${HELPER_POLICY_NAME} and role ${createRole.name}`);
    const policy = await runtime.iam.createPolicy(HELPER_POLICY_NAME, HELPER_POLICY_DOCUMENT, 'Grants permission to write metrics to CloudWatch');
    const created = await runtime.iam.createRole(createRole.name, createRole.trust, `cni-metrics-helper of EKS cluster ${cluster.name}`);
    await runtime.iam.attachRolePolicy(createRole.name, policy.arn || createRole.policyArn);
    // Annotate with the ARN IAM gave the role.
    if (created) roleArn = report.roleCreated = created;
  }
  for (const [i, step] of report.steps.entries()) {
    ui.info(`Step ${i + 1}/${report.steps.length}: kubectl apply --server-side --field-manager=${FIELD_MANAGER} of the cni-metrics-helper ${step.to} manifest for ${cluster.region}`);
    await runtime.kube.applyObjects(render(step.to), { fieldManager: FIELD_MANAGER });
    await runtime.kube.restartRollout('deployment', HELPER_NAME);
    const seconds = Math.max(1, Math.ceil(o.timeoutMs / 1000));
    if (!(await runtime.kube.waitRollout('deployment', HELPER_NAME, seconds))) {
      throw new UpgradeStoppedError(`The cni-metrics-helper Deployment had not rolled out to ${step.to} when the timeout ran out; check it with \`kubectl rollout status deployment ${HELPER_NAME} -n kube-system\`${report.backup ? `; the previous objects are in ${report.backup}` : ''}.`);
    }
    const running = helperVersionOf(await runtime.kube.getJson(['deployment', HELPER_NAME, '-n', 'kube-system']));
    if (running !== step.to) throw new UpgradeStoppedError(`The cni-metrics-helper Deployment runs ${running ?? 'no readable version'} instead of ${step.to}; check it with \`vpccni metrics-helper status\`.`);
    step.result = 'succeeded';
  }
  report.helper = { ...report.helper, installed: true, version: report.target, serviceAccountRoleArn: roleArn, roleState: createRole ? 'ok' : report.helper.roleState };
  report.inStep = true;
  report.findings = report.findings.filter((f) => !/^metrics-helper-(absent|version-mismatch|no-role|role-missing)$/.test(f.id) || (f.id === 'metrics-helper-no-role' && !roleArn));
  if (ui.format === 'json') ui.json(report);
  else {
    const before = h.deployment ? helperVersionOf(h.deployment) ?? 'unreadable' : 'not installed';
    ui.out(`cni-metrics-helper on ${cluster.name}: ${[before, ...report.steps.map((s) => s.to)].join(' → ')}, the CNI's version (${report.cni.version})`);
    if (roleArn) ui.out(`Role: ${roleArn}${createRole ? ' (created)' : ''}`);
    if (report.backup) ui.out(`Backup: ${report.backup}`);
  }
  return 0;
}

function closestRelease(version: string): string {
  const v = tryParseAddonVersion(version)!;
  return helperTargetFor(`v${v.major}.${v.minor}.${v.patch}`) ?? `v${v.major}.${v.minor}.${v.patch}`;
}

function printHelperDryRun(runtime: Runtime, r: MetricsHelperReport, createRole: { name: string; trust: unknown; policyArn: string } | null, prefix: string): void {
  const { ui } = runtime;
  if (ui.format === 'json') {
    ui.json(r);
    return;
  }
  const lines = [`Dry run: what \`vpccni metrics-helper upgrade\` would do on ${r.cluster.name}, in order. Nothing was changed.`];
  let n = 1;
  if (r.helper.installed) lines.push(`  ${n++}. back up the cni-metrics-helper Deployment and ServiceAccount`);
  if (createRole) {
    lines.push(`  ${n++}. aws iam create-policy --policy-name ${HELPER_POLICY_NAME} --policy-document '${JSON.stringify(HELPER_POLICY_DOCUMENT)}'`);
    lines.push(`  ${n++}. aws iam create-role --role-name ${createRole.name} --assume-role-policy-document '${JSON.stringify(createRole.trust)}'`);
    lines.push(`  ${n++}. aws iam attach-role-policy --role-name ${createRole.name} --policy-arn ${createRole.policyArn}`);
  }
  for (const step of r.steps ?? []) {
    lines.push(`  ${n++}. kubectl apply --server-side --field-manager=${FIELD_MANAGER} --force-conflicts -f <cni-metrics-helper ${step.to} manifest, images from ${prefix}${r.roleCreated ?? r.helper.serviceAccountRoleArn ? `, service account annotated ${ROLE_ANNOTATION}=${r.roleCreated ?? r.helper.serviceAccountRoleArn}` : ''}>`);
    lines.push(`  ${n++}. kubectl rollout restart deployment ${HELPER_NAME} -n kube-system; kubectl rollout status …; check its image carries ${step.to}`);
    if (step.diff) lines.push(...step.diff.trimEnd().split('\n').map((l) => `       ${l}`));
  }
  for (const line of lines) ui.out(line);
}

/** Writes the helper's live objects to `<dir>/cni-metrics-helper-<cluster>-<timestamp>.yaml`, never over a file. */
async function writeHelperBackup(dir: string, cluster: string, objects: Array<KubeObject | null>): Promise<string> {
  const absolute = resolve(dir);
  try {
    await mkdir(absolute, { recursive: true, mode: 0o700 });
    for (let n = 1; ; n++) {
      const file = join(absolute, `${HELPER_NAME}-${cluster}-${backupTimestamp(new Date())}${n > 1 ? `-${n}` : ''}.yaml`);
      try {
        const handle = await open(file, 'wx', 0o600);
        try {
          await handle.writeFile(objects.filter((x): x is KubeObject => x !== null).map((x) => stringify(stripServerFields(x))).join('---\n'));
          await handle.sync();
        } finally {
          await handle.close();
        }
        return file;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
  } catch (error) {
    throw new UsageError(`The backup could not be written to ${absolute} (${(error as Error).message}); pass --backup-dir with a writable directory.`);
  }
}
