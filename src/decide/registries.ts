/**
 * The ECR registry EKS pulls its add-on images from, per region and partition (fixtures/image-registries.json,
 * copied from the EKS user guide's "View Amazon container image registries for Amazon EKS add-ons").
 */
import { readPackageJson } from '../package-files.js';

interface RegistryTable {
  source: string;
  registries: Record<string, string>;
}

// Data shipped with the program, read once like a constant.
const TABLE = readPackageJson<RegistryTable>('fixtures/image-registries.json');

/** The DNS suffix of a region's partition: `.amazonaws.com.cn` in China, `.amazonaws.eu` in the EU sovereign cloud. */
function dnsSuffix(region: string): string {
  if (region.startsWith('cn-')) return 'amazonaws.com.cn';
  if (region.startsWith('eusc-')) return 'amazonaws.eu';
  return 'amazonaws.com';
}

/**
 * The registry host EKS's add-on images come from in `region`: the user guide's table, else (a region newer than
 * the table) the commercial account 602401143452 in that region with its partition's suffix.
 */
export function eksImageRegistry(region: string): string {
  return TABLE.registries[region] ?? `602401143452.dkr.ecr.${region}.${dnsSuffix(region)}`;
}

/** Every registry account of the table. */
export function eksImageAccounts(): Set<string> {
  return new Set(Object.values(TABLE.registries).map((host) => host.split('.')[0] as string));
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.[a-z0-9-]+\.amazonaws\.(?:com(?:\.cn)?|eu)$/;

/** True when `host` is an ECR registry of one of the accounts EKS serves add-on images from. */
export function isEksRegistryHost(host: string, extraAccounts: Iterable<string> = []): boolean {
  const match = ECR_HOST.exec(host);
  if (!match) return false;
  const accounts = eksImageAccounts();
  for (const a of extraAccounts) accounts.add(a);
  return accounts.has(match[1] as string);
}

/** The host the upstream manifests (`config/master/aws-k8s-cni.yaml`) are written for. */
export const UPSTREAM_REGISTRY = '602401143452.dkr.ecr.us-west-2.amazonaws.com';

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** The partition a region belongs to (ARNs: `arn:<partition>:…`). */
export function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
