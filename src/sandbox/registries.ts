/**
 * Where EKS pulls the add-on's images from, per region, and the partition of a region: the sandbox's own copy of
 * these EKS facts (the product keeps its own in src/decide/registries.ts).
 * Source: fixtures/image-registries.json, the EKS user guide's table "View Amazon container image registries for
 * Amazon EKS add-ons" (awsdocs/amazon-eks-user-guide `1cc6ebb4`, latest/ug/workloads/add-ons-images.adoc).
 */
import { readPackageJson } from '../package-files.js';

const TABLE = readPackageJson<{ registries: Record<string, string> }>('fixtures/image-registries.json');

/**
 * The registry host of `region`: the guide's row; for a region newer than the table, account 602401143452 in that
 * region (the guide: "602401143452 … for all other regions") with the partition's DNS suffix.
 */
export function eksRegistryFor(region: string): string {
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : region.startsWith('eusc-') ? 'amazonaws.eu' : 'amazonaws.com';
  return TABLE.registries[region] ?? `602401143452.dkr.ecr.${region}.${suffix}`;
}

/** The ARN partition of a region (`arn:<partition>:…`): aws-cn for cn-*, aws-us-gov for us-gov-*, else aws. */
export function regionPartition(region: string): 'aws' | 'aws-cn' | 'aws-us-gov' {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
