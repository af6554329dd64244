/** Clusters that need no aws-node: EKS Auto Mode (EKS runs the networking) and clusters with another CNI. */
import type { ClusterFacts, Finding } from '../../domain.js';

/** DaemonSet names of other CNIs in kube-system. */
export const OTHER_CNI_DAEMONSETS = ['cilium', 'calico-node', 'kube-flannel-ds', 'weave-net', 'antrea-agent', 'kube-router', 'canal'];

/** Why the cluster has no aws-node by design, or null when it should have one. */
export function vpcCniNotUsed(facts: ClusterFacts): 'auto-mode' | 'other-cni' | null {
  if (facts.daemonSet !== null || facts.addon.managed) return null;
  if (facts.cluster.autoMode) return 'auto-mode';
  if ((facts.modern?.otherCnis ?? []).length > 0) return 'other-cni';
  return null;
}

/** An info finding saying which networking the cluster uses instead of the VPC CNI add-on. */
export function networkingModeFindings(facts: ClusterFacts): Finding[] {
  const mode = vpcCniNotUsed(facts);
  if (mode === 'auto-mode') {
    return [
      {
        id: 'auto-mode',
        severity: 'info',
        message: 'The cluster runs EKS Auto Mode: EKS manages pod networking itself, so no aws-node DaemonSet and no vpc-cni add-on are needed.',
        remediation: 'Nothing to do for the add-on; nodes you run yourself (managed node groups) beside Auto Mode would need it.',
      },
    ];
  }
  if (mode === 'other-cni') {
    return [
      {
        id: 'other-cni',
        severity: 'info',
        message: `The cluster runs another CNI (${facts.modern?.otherCnis.join(', ')} in kube-system) and no aws-node; vpccni has nothing to manage here.`,
        remediation: 'Nothing to do; install the vpc-cni add-on only if you move back to the VPC CNI.',
      },
    ];
  }
  if (facts.cluster.autoMode && facts.daemonSet !== null) {
    // DescribeAddonVersions' computeTypes says where the add-on version runs; vpc-cni's lists no `auto`.
    const types = facts.catalogue.find((e) => e.version === facts.addon.version)?.computeTypes;
    const where = types && !types.includes('auto') ? ` (EKS offers ${facts.addon.version} for ${types.join(', ')} compute only)` : '';
    return [
      {
        id: 'auto-mode',
        severity: 'info',
        message: `The cluster runs EKS Auto Mode beside an aws-node DaemonSet; aws-node serves only the nodes you run yourself${where}.`,
      },
    ];
  }
  return [];
}

/** What vpccni could not read (a missing permission, an API the endpoint lacks): one info finding naming each. */
export function unreadFindings(facts: ClusterFacts): Finding[] {
  const unread = facts.modern?.unread ?? [];
  if (unread.length === 0) return [];
  return [
    {
      id: 'facts-not-read',
      severity: 'info',
      message: `vpccni could not read ${unread.join('; ')}; the findings that depend on them are left out.`,
      remediation: 'Grant the read permissions listed in the README ("EKS Pod Identity, upgrade insights, Auto Mode and the advisories file") to whoever runs vpccni.',
    },
  ];
}
