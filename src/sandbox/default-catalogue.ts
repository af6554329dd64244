/**
 * Version catalogues (what DescribeAddonVersions offers) for the sandbox, built from REAL vpc-cni version
 * names: the AWS CLI example for Kubernetes 1.26 (fixtures/describe-addon-versions/), the EKS user guide,
 * and issues quoting `describe-addon-versions` output (sources in fixtures/README.md). Where only the
 * upstream release is known (CHANGELOG) and no EKS build was ever quoted, the build is `-eksbuild.1`.
 * https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeAddonVersions.html
 */
import type { ScenarioCatalogueEntry } from './scenario-types.js';

type Offer = [version: string, clusterVersions: string[]];

function build(offers: Offer[], defaults: Record<string, string>): ScenarioCatalogueEntry[] {
  return offers.map(([version, clusterVersions]) => ({
    version,
    compatibilities: clusterVersions.map((clusterVersion) => ({
      clusterVersion,
      defaultVersion: defaults[clusterVersion] === version,
    })),
  }));
}

const K_23_27 = ['1.23', '1.24', '1.25', '1.26', '1.27'];
const K_23_28 = [...K_23_27, '1.28'];

/**
 * A snapshot taken when Kubernetes 1.28 launched (September 2023): 1.27 tops out at v1.14.0-eksbuild.3,
 * v1.12.6-eksbuild.2 is 1.27's default but not offered for 1.28, the newer builds only for 1.28.
 */
export const DEFAULT_CATALOGUE: readonly ScenarioCatalogueEntry[] = build(
  [
    ['v1.15.1-eksbuild.1', ['1.28']],
    ['v1.15.0-eksbuild.2', ['1.28']],
    ['v1.14.1-eksbuild.1', ['1.28']],
    ['v1.14.0-eksbuild.3', K_23_28],
    ['v1.13.4-eksbuild.1', K_23_28],
    ['v1.13.3-eksbuild.1', K_23_27],
    ['v1.13.2-eksbuild.1', K_23_27],
    ['v1.13.0-eksbuild.1', K_23_27],
    ['v1.12.6-eksbuild.2', K_23_27],
    ['v1.12.6-eksbuild.1', K_23_27],
    ['v1.12.5-eksbuild.2', K_23_27],
    ['v1.12.2-eksbuild.1', ['1.23', '1.24', '1.25', '1.26']],
    ['v1.12.0-eksbuild.2', ['1.23', '1.24', '1.25', '1.26']],
    ['v1.12.0-eksbuild.1', ['1.23', '1.24', '1.25']],
    ['v1.11.4-eksbuild.1', ['1.23', '1.24', '1.25']],
    ['v1.10.4-eksbuild.1', ['1.23', '1.24']],
  ],
  {
    '1.23': 'v1.11.4-eksbuild.1',
    '1.24': 'v1.11.4-eksbuild.1',
    '1.25': 'v1.12.0-eksbuild.1',
    '1.26': 'v1.12.5-eksbuild.2',
    '1.27': 'v1.12.6-eksbuild.2',
    '1.28': 'v1.14.1-eksbuild.1',
  },
);

const K_29_31 = ['1.29', '1.30', '1.31'];
const K_29_32 = [...K_29_31, '1.32'];
const K_30_32 = ['1.30', '1.31', '1.32'];

/**
 * A later snapshot (mid 2025) for Kubernetes 1.29–1.32, from v1.16.0 to v1.20.x; it still offers the
 * known-bad v1.16.3 and v1.19.4 (EKS cannot withdraw them, see fixtures/known-issues.md).
 */
export const LATER_CATALOGUE: readonly ScenarioCatalogueEntry[] = build(
  [
    ['v1.20.1-eksbuild.1', K_30_32],
    ['v1.20.0-eksbuild.1', K_30_32],
    ['v1.19.6-eksbuild.1', K_29_32],
    ['v1.19.5-eksbuild.1', K_29_32],
    ['v1.19.4-eksbuild.1', K_29_32],
    ['v1.19.3-eksbuild.1', K_29_32],
    ['v1.19.2-eksbuild.1', K_29_32],
    ['v1.19.0-eksbuild.1', K_29_32],
    ['v1.18.6-eksbuild.1', K_29_31],
    ['v1.18.5-eksbuild.1', K_29_31],
    ['v1.18.2-eksbuild.1', K_29_31],
    ['v1.18.1-eksbuild.3', K_29_31],
    ['v1.18.1-eksbuild.1', K_29_31],
    ['v1.18.0-eksbuild.1', K_29_31],
    ['v1.17.1-eksbuild.1', K_29_31],
    ['v1.16.4-eksbuild.2', K_29_31],
    ['v1.16.3-eksbuild.2', K_29_31],
    ['v1.16.2-eksbuild.1', ['1.29', '1.30']],
    ['v1.16.0-eksbuild.1', ['1.29', '1.30']],
  ],
  {
    '1.29': 'v1.16.0-eksbuild.1',
    '1.30': 'v1.18.1-eksbuild.3',
    '1.31': 'v1.18.5-eksbuild.1',
    '1.32': 'v1.19.0-eksbuild.1',
  },
);

/** The built-in catalogues a scenario may name with `catalogueSnapshot`. */
export const CATALOGUES: Readonly<Record<string, readonly ScenarioCatalogueEntry[]>> = {
  'eks-1.28-launch': DEFAULT_CATALOGUE,
  'mid-2025': LATER_CATALOGUE,
};
