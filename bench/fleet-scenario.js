// The fleet benchmark's sandbox scenario (bench/fleet.js), also read small by test/fleet-shared-reads.test.ts,
// which checks what the benchmark's ideal rests on: clusters spread over 2 regions × 2 accounts, each with the
// managed add-on and its IRSA role, the role a fleet run assumes in each account.

export const ACCOUNTS = ['111122223333', '444455556666'];
export const REGIONS = ['us-west-2', 'eu-west-1'];

/** The scenario's YAML: `clusters` clusters named `<prefix>-000`…, round-robin over regions, then accounts. */
export function fleetScenarioYaml(clusters, prefix) {
  const lines = [
    `name: ${prefix}-fleet`,
    `description: ${clusters} clusters over ${REGIONS.join(' and ')} in ${ACCOUNTS.join(' and ')} (the fleet benchmark).`,
    'catalogueSnapshot: mid-2025',
    'accounts:',
    ...ACCOUNTS.flatMap((id) => [`  - id: "${id}"`, `    accessKeyId: AKIABENCH${id}`, `    secretAccessKey: bench-${id}`]),
    'iam:',
    '  roles:',
    '    - name: AmazonEKSVPCCNIRole',
    '      attachedPolicyArns: [arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy]',
    '    - name: VpccniFleetReadOnly',
    '      attachedPolicyArns: []',
    'clusters:',
  ];
  for (let i = 0; i < clusters; i++) {
    const region = REGIONS[i % REGIONS.length];
    const account = ACCOUNTS[Math.floor(i / REGIONS.length) % ACCOUNTS.length];
    lines.push(`  - cluster: { name: ${prefix}-${String(i).padStart(3, '0')}, region: ${region}, accountId: "${account}", kubernetesVersion: "1.31" }`);
    lines.push('    addon: { version: v1.19.5-eksbuild.1 }');
  }
  return `${lines.join('\n')}\n`;
}
