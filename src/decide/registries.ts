/**
 * The Amazon ECR registries EKS and the upstream manifests pull the VPC CNI's images from, per region
 * (EKS user guide, "View Amazon container image registries for Amazon EKS add-ons"), and the partition of
 * a region. Pure data: the upstream manifests name `602401143452.dkr.ecr.us-west-2.amazonaws.com`, and
 * their regional variants (`aws-k8s-cni-cn.yaml`, `aws-k8s-cni-us-gov-west-1.yaml`) differ from it only in
 * that host, so a manifest is rendered for a region by replacing the host with `registryForRegion`.
 */

/** The account of the regional registry where it is not 602401143452. */
const REGION_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '877085696533',
  'ap-east-1': '800184023465',
  'ap-south-2': '900889452093',
  'ap-southeast-3': '296578399912',
  'ap-southeast-4': '491585149902',
  'ap-southeast-5': '151610086707',
  'ap-southeast-7': '121268973566',
  'ca-west-1': '761377655185',
  'cn-north-1': '918309763551',
  'cn-northwest-1': '961992271922',
  'eu-central-2': '900612956339',
  'eu-south-1': '590381155156',
  'eu-south-2': '455263428931',
  'il-central-1': '066635153087',
  'me-central-1': '759879836304',
  'me-south-1': '558608220178',
  'mx-central-1': '730335286997',
  'us-gov-east-1': '151742754352',
  'us-gov-west-1': '013241004608',
};

const DEFAULT_ACCOUNT = '602401143452';

/** The host the upstream manifests are written for. */
export const UPSTREAM_REGISTRY = '602401143452.dkr.ecr.us-west-2.amazonaws.com';

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** The partition a region belongs to. */
export function partitionOf(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/** The account of the region's add-on image registry. */
export function registryAccountFor(region: string): string {
  return REGION_ACCOUNTS[region] ?? DEFAULT_ACCOUNT;
}

/** The registry host of the region, e.g. `918309763551.dkr.ecr.cn-north-1.amazonaws.com.cn`. */
export function registryForRegion(region: string): string {
  const suffix = partitionOf(region) === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${registryAccountFor(region)}.dkr.ecr.${region}.${suffix}`;
}

/** True when `host` is one of the regional add-on image registries of the table (any region). */
export function isRegionalRegistry(host: string): boolean {
  const match = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return match !== null && registryAccountFor(match[2] as string) === match[1];
}
