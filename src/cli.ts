/**
 * The command line: options declared once for the parser and the help, each command's module loaded only
 * when it runs, and the one place errors become exit codes (docs/cli-contract.md, "Exit codes").
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { VpccniError } from './errors.js';
import { annotationLines } from './render/github.js';
import { escapeControl } from './render/ui.js';
import type { GlobalOptions } from './runtime.js';

/** Runs vpccni with `argv` (process.argv shape) and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  let verbose = argv.includes('--verbose');
  if (argv.length <= 2) {
    // A bare `vpccni` prints the help on stdout and exits 0 (commander would print it on stderr and exit 1).
    program.outputHelp();
    return 0;
  }
  try {
    await program.parseAsync(argv);
    // The code of this run's command (not process.exitCode, which concurrent in-process runs would share).
    return exitCodes.get(program) ?? (typeof process.exitCode === 'number' ? process.exitCode : 0);
  } catch (error) {
    verbose ||= Boolean(program.opts<GlobalOptions>().verbose);
    return reportError(error, verbose);
  }
}

/** Prints an error as one sentence (a stack trace only with --verbose) and returns its exit code. */
export function reportError(error: unknown, verbose: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return 0;
    }
    // Commander has printed its own message already.
    return 2;
  }
  if (error instanceof VpccniError) {
    process.stderr.write(`vpccni: ${escapeControl(error.message, { keepNewlines: false })}\n`);
    // Under GitHub Actions a run that stops before its verdict still shows why, as an annotation.
    if (process.env.GITHUB_ACTIONS) process.stderr.write(`${escapeControl(annotationLines([{ id: 'error', severity: 'error', message: error.message }])[0] ?? '')}\n`);
    if (verbose && error.cause) process.stderr.write(`${escapeControl(describeCause(error.cause))}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`vpccni: unexpected error: ${escapeControl(message.split('\n')[0] ?? '')} (run with --verbose for details).\n`);
  if (verbose && error instanceof Error && error.stack) process.stderr.write(`${escapeControl(error.stack)}\n`);
  return 1;
}

function describeCause(cause: unknown): string {
  return cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
}

/** Each program's command exit code, by root program. */
const exitCodes = new WeakMap<Command, number>();

type Action = (options: Record<string, unknown>, globals: GlobalOptions, args: string[]) => Promise<number>;

/** Wraps a lazily loaded command so that its exit code becomes the process's. */
function run(load: () => Promise<Action>) {
  return async (...params: unknown[]) => {
    const command = params.at(-1) as Command;
    const args = params.slice(0, -2).filter((p): p is string => typeof p === 'string');
    const action = await load();
    let root = command;
    while (root.parent) root = root.parent;
    exitCodes.set(root, await action(command.opts(), command.optsWithGlobals<GlobalOptions>(), args));
  };
}

const RESOLVE_CONFLICTS = ['PRESERVE', 'OVERWRITE', 'NONE'];
// `choices` (for the help) then a parser that accepts any case: an argParser replaces the choices check,
// so it must validate too, or an unknown mode would reach EKS only after the backup.
const resolveConflictsOption = () =>
  new Option('--resolve-conflicts <mode>', 'how EKS treats settings that differ from its defaults')
    .choices(RESOLVE_CONFLICTS)
    .argParser((value: string) => {
      const mode = value.toUpperCase();
      if (!RESOLVE_CONFLICTS.includes(mode)) throw new InvalidArgumentError(`Allowed choices are ${RESOLVE_CONFLICTS.join(', ')}.`);
      return mode;
    });

/** The commander program, every command and option declared once. */
export function buildProgram(): Command {
  const program = new Command('vpccni')
    .description('Manage the Amazon VPC CNI add-on (vpc-cni, the aws-node DaemonSet) on Amazon EKS.')
    .version(packageVersion(), '-V, --version')
    .option('--cluster <name>', 'EKS cluster (default: VPCCNI_CLUSTER, else the EKS kube context)')
    .option('--region <region>', 'AWS region (default: the AWS SDK chain, else the kube context ARN)')
    .option('--profile <name>', 'AWS shared-config profile')
    .option('--kubeconfig <path>', 'kubeconfig to use (default: KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kube context to use (default: the current context)')
    .addOption(
      new Option('--kube-client <client>', 'api: the Kubernetes API in-process; kubectl: run kubectl (the fallback)')
        .choices(['api', 'kubectl'])
        .default('api'),
    )
    .addOption(
      new Option('--output <format>', 'text for people, json for machines (fleet also: markdown, github-matrix; plan also: terraform, eksctl, cloudformation)')
        .choices(['text', 'json', 'markdown', 'github-matrix', 'terraform', 'eksctl', 'cloudformation'])
        .default('text'),
    )
    .option('--sandbox', 'run against the local sandbox (EKS, IAM and Kubernetes emulators on loopback)')
    .option('--scenario <name|file>', 'sandbox scenario: a built-in name (vpccni sandbox list) or a file; implies --sandbox')
    .option('--no-color', 'no colours (NO_COLOR is honoured too)')
    .option('--verbose', 'more detail, and stack traces on errors')
    .option('--quiet', 'only results and warnings')
    .option('--advisories <file>', 'a newer advisories file (default: VPCCNI_ADVISORIES, else the list shipped with vpccni)')
    .option('--owner-tag <KEY[=VALUE]>', 'a tag that marks the add-on as owned by infrastructure code, e.g. ManagedBy=Terraform; repeatable (default: VPCCNI_OWNER_TAGS, comma-separated)', (value: string, previous: string[] = []) => [...previous, value])
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run vpccni --help for usage)')
    .configureOutput({ outputError: (text, write) => write(`vpccni: ${text.replace(/^error: /, '')}`) });

  program
    .command('status')
    .description('report the add-on: version, managed or not, health, latest and default, path to latest, findings')
    .action(run(async () => (await import('./commands/status.js')).statusCommand));

  program
    .command('plan')
    .description('show the upgrade (or downgrade) path, one minor version per step')
    .requiredOption('--to <version|latest|default>', 'target version')
    .option('--self-managed', 'stay self-managed: plan upstream manifest steps only')
    .option('--jump', 'adopt a self-managed install with one CreateAddon at the target, skipping minors')
    .action(run(async () => (await import('./commands/plan.js')).planCommand));

  program
    .command('backup')
    .description('write the aws-node DaemonSet and related objects to a timestamped file')
    .option('--out <dir>', 'directory for the backup', '.vpccni/backups')
    .action(run(async () => (await import('./commands/backup.js')).backupCommand));

  program
    .command('restore')
    .description('re-apply the aws-node DaemonSet from a backup')
    .argument('<backup-file>', 'a file written by vpccni backup')
    .option('--dry-run', 'show what would change, change nothing')
    .option('--yes', 'do not ask for confirmation')
    .option('--timeout <duration>', 'how long to wait for the rollout (e.g. 5m, 90s)', '5m')
    .option('--backup-dir <dir>', 'where the backup of the live objects it replaces goes', '.vpccni/backups')
    .action(run(async () => (await import('./commands/restore.js')).restoreCommand));

  program
    .command('validate')
    .description("validate configuration values against the add-on's schema for a version")
    .requiredOption('--configuration-values <json|yaml|@file>', 'the values')
    .option('--addon-version <version>', 'version whose schema to use (default: the installed one)')
    .action(run(async () => (await import('./commands/validate.js')).validateCommand));

  program
    .command('upgrade')
    .description('walk the plan: backup, then CreateAddon/UpdateAddon per step, waiting for each')
    .option('--to <version|latest|default>', 'target version')
    .addOption(resolveConflictsOption())
    .option('--configuration-values <json|yaml|@file>', 'configuration values for every step')
    .option('--service-account-role-arn <arn>', 'IAM role for the aws-node service account (IRSA)')
    .option('--pod-identity-role-arn <arn>', 'set the EKS Pod Identity association of kube-system/aws-node to this role (podIdentityAssociations)')
    .option('--dry-run', 'print the calls it would make, change nothing')
    .option('--yes', 'answer yes to confirmations (needed for OVERWRITE without a terminal)')
    .option('--accept-setting-loss', 'go on although some custom settings cannot be carried over')
    .option('--timeout <duration>', 'how long to wait for each step (e.g. 20m, 90s)', '20m')
    .option('--grace <duration>', 'how long a Failed-but-applied update or a DEGRADED add-on gets to recover (e.g. 5m, 0s)', '5m')
    .option('--backup-dir <dir>', 'where the backup goes', '.vpccni/backups')
    .option('--resume', 'continue an interrupted upgrade from its journal')
    .option('--atomic', 'on a failed step, or a rollout not ready within --timeout, walk back to the starting version with the backup\'s settings (exit 4)')
    .option('--self-managed', 'stay self-managed: server-side apply the upstream manifest of each step, custom settings carried over')
    .option('--jump', 'adopt a self-managed install with one CreateAddon at the target, skipping minors')
    .action(run(async () => (await import('./commands/upgrade.js')).upgradeCommand));

  program
    .command('check')
    .description('CI gate: exit 0 only if the add-on is ready for a Kubernetes version')
    .option('--kubernetes-version <x.y>', 'the Kubernetes version to check for (default: the next minor)')
    .action(run(async () => (await import('./commands/check.js')).checkCommand));

  const metricsHelper = program.command('metrics-helper').description('the cni-metrics-helper, at the CNI\'s version');
  metricsHelper
    .command('status')
    .description("the helper's version against the CNI's, and its IAM role")
    .action(run(async () => (await import('./commands/metrics-helper.js')).metricsHelperStatusCommand));
  metricsHelper
    .command('upgrade')
    .description("install or update the helper to the CNI's version: manifest for the region, role, restart, check")
    .option('--dry-run', 'print what it would do, change nothing')
    .option('--yes', 'do not ask for confirmation')
    .option('--create-role', 'create the IAM policy and role (IRSA) when the helper has none')
    .option('--timeout <duration>', 'how long to wait for the rollout (e.g. 5m, 90s)', '5m')
    .option('--backup-dir <dir>', 'where the backup of what it replaces goes', '.vpccni/backups')
    .action(run(async () => (await import('./commands/metrics-helper.js')).metricsHelperUpgradeCommand));

  program
    .command('advisories')
    .description('list the known-bad vpc-cni versions in force, with their conditions and sources')
    .action(run(async () => (await import('./commands/advisories.js')).advisoriesCommand));

  const fleet = program.command('fleet').description('many clusters at once: every cluster of some accounts and regions, or of a fleet file');
  const fleetCommand = (name: 'status' | 'check' | 'plan', description: string) =>
    fleet
      .command(name)
      .description(description)
      .option('--regions <a,b>', 'regions to discover clusters in with ListClusters (default: --region, else the SDK\'s)')
      .option('--profiles <p,q>', 'AWS profiles to discover with, one account each')
      .option('--role-arn-template <arn>', 'a role to assume per account, e.g. arn:aws:iam::{account}:role/VpccniFleetReadOnly')
      .option('--accounts <ids>', 'the account ids for --role-arn-template, comma-separated')
      .option('--fleet <file>', 'a fleet file (YAML, schemas/fleet-file.schema.json) listing the clusters')
      .option('--selector <k=v,...>', 'only clusters whose labels match every pair')
      .option('--concurrency <n>', 'clusters read at once', '8')
      .option('--cluster-timeout <duration>', 'give up on a cluster after this long (e.g. 60s, 2m)', '60s');
  fleetCommand('status', 'the add-on of every cluster; exit 1 when one has an error finding, 3 when one could not be read')
    .action(run(async () => (await import('./commands/fleet.js')).fleetCommand('status')));
  fleetCommand('check', 'CI gate over the fleet: exit 0 only if every cluster is ready for the Kubernetes version')
    .option('--kubernetes-version <x.y>', 'the Kubernetes version to check for (default: each cluster\'s next minor)')
    .action(run(async () => (await import('./commands/fleet.js')).fleetCommand('check')));
  fleetCommand('plan', 'the upgrade path of every cluster to one version')
    .requiredOption('--to <version|latest|default>', 'target version')
    .action(run(async () => (await import('./commands/fleet.js')).fleetCommand('plan')));

  const sandbox = program.command('sandbox').description('the local sandbox of EKS, IAM and Kubernetes emulators');
  sandbox
    .command('serve')
    .description('serve the emulators on loopback until interrupted; prints endpoints and kubeconfig as one JSON line')
    .argument('[scenario]', 'built-in scenario name or scenario file', 'default')
    .option('--latency <ms>', 'added latency per call, in ms')
    .option('--throttle-rate <share>', 'share (0..1) of AWS calls answered with throttling')
    .option('--server-error-rate <share>', 'share (0..1) of AWS calls answered with HTTP 500/503')
    .option('--update-duration <ms>', 'how long each add-on update takes, in ms')
    .option('--rollout-duration <ms>', 'how long each DaemonSet rollout takes, in ms')
    .option('--fail-update <n>', 'the nth CreateAddon/UpdateAddon ends Failed')
    .option('--update-never-finishes', 'updates stay InProgress forever')
    .option('--rollout-never-finishes', 'DaemonSet rollouts never complete')
    .option('--kube-outage <call:ms>', 'the Kubernetes API refuses connections for ms after the nth mutating EKS call')
    .option('--dir <dir>', 'where to write the kubeconfig')
    .action(run(async () => (await import('./commands/sandbox.js')).sandboxServeCommand));
  sandbox
    .command('list')
    .description('the built-in scenarios')
    .action(run(async () => (await import('./commands/sandbox.js')).sandboxListCommand));

  addExamples(program);
  return program;
}

/** Two examples for each command's help (sandbox ones run anywhere, without an AWS account). */
const EXAMPLES: Record<string, [string, string]> = {
  status: ['vpccni status --cluster demo --region us-west-2', 'vpccni --sandbox status --output json'],
  plan: ['vpccni plan --to latest', 'vpccni --sandbox plan --to v1.14.0-eksbuild.3 --output terraform'],
  backup: ['vpccni backup --out ./backups', 'vpccni --sandbox backup --out /tmp/vpccni-backups'],
  restore: ['vpccni restore .vpccni/backups/aws-node-demo-20250101T000000Z.yaml --dry-run', 'vpccni restore backup.yaml --yes --timeout 10m'],
  validate: ['vpccni validate --configuration-values @values.json', `vpccni --sandbox validate --configuration-values '{"env":{"WARM_IP_TARGET":"5"}}'`],
  upgrade: ['vpccni upgrade --to latest --dry-run', 'vpccni --sandbox upgrade --to v1.14.0-eksbuild.3 --yes'],
  check: ['vpccni check --kubernetes-version 1.30', 'vpccni --sandbox check --output json'],
  serve: ['vpccni sandbox serve', 'vpccni sandbox serve slow-rollout --latency 100'],
  list: ['vpccni sandbox list', 'vpccni --scenario addon-degraded status'],
  sandbox: ['vpccni sandbox serve default', 'vpccni sandbox list'],
};

function addExamples(command: Command): void {
  for (const sub of command.commands) {
    const examples = EXAMPLES[sub.name()];
    if (examples) sub.addHelpText('after', `\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
    addExamples(sub);
  }
}

/** The package version, read from package.json next to dist/. */
function packageVersion(): string {
  return process.env.VPCCNI_VERSION ?? '0.0.0';
}

export type { Action };
