/**
 * The EKS gateway: only the calls vpccni makes, returning domain types, errors translated.
 * The SDK is imported on first use so that `--help` and `--version` stay fast.
 */
import type { EKSClient } from '@aws-sdk/client-eks';
import type { AddonInfo, CatalogueEntry, ClusterInfo, PodIdentityAssociationInfo, ResolveConflicts, UpgradeInsightInfo } from '../domain.js';
import { UnreachableError } from '../errors.js';
import { MAX_NESTING, nestingTooDeep } from '../formats/nesting.js';
import { abortable, clientConfig, type AwsSettings } from './aws-config.js';
import { awsErrorCode, translateAwsError } from './aws-errors.js';
import { eksSdk } from './sdk-modules.js';

export const ADDON_NAME = 'vpc-cni';

/** The state of one UpdateAddon, as DescribeUpdate reports it. */
export interface UpdateInfo {
  id: string;
  status: string;
  errors: Array<{ errorCode: string; errorMessage: string }>;
}

/** The parameters of CreateAddon / UpdateAddon that vpccni sets. */
export interface AddonChange {
  version: string;
  resolveConflicts: ResolveConflicts;
  configurationValues?: string;
  serviceAccountRoleArn?: string;
  /** EKS Pod Identity associations EKS sets with the add-on (CreateAddon/UpdateAddon `podIdentityAssociations`). */
  podIdentityAssociations?: Array<{ serviceAccount: string; roleArn: string }>;
}

/** The EKS calls vpccni makes. */
export interface EksGateway {
  describeCluster(): Promise<ClusterInfo>;
  /** The add-on record, `managed: false` when EKS has no vpc-cni add-on on the cluster. */
  describeAddon(): Promise<AddonInfo & { raw: Record<string, unknown> | null }>;
  /** Every vpc-cni version EKS offers (all pages), with all compatibilities. */
  describeAddonVersions(kubernetesVersion?: string): Promise<CatalogueEntry[]>;
  /** The configuration schema (a JSON Schema as a string) of one version. */
  describeAddonConfiguration(version: string): Promise<string>;
  createAddon(change: AddonChange): Promise<void>;
  /** Starts an update and returns its id. */
  updateAddon(change: AddonChange): Promise<string>;
  describeUpdate(updateId: string): Promise<UpdateInfo>;
  /**
   * DeleteAddon. `preserve` keeps the add-on's objects on the cluster (aws-node runs on, self-managed from then
   * on); EKS only forgets its record (eks-service-2.json, DeleteAddonRequest `preserve`).
   */
  deleteAddon(options: { preserve: boolean }): Promise<void>;
  /** The Pod Identity associations of one service account (ListPodIdentityAssociations, then DescribePodIdentityAssociation). */
  listPodIdentityAssociations(namespace: string, serviceAccount: string): Promise<PodIdentityAssociationInfo[]>;
  /** The UPGRADE_READINESS insights (ListInsights, then DescribeInsight for those `describe` selects). */
  listUpgradeInsights(describe: (name: string, description: string) => boolean): Promise<UpgradeInsightInfo[]>;
  /** The node IAM role ARNs of the cluster's managed node groups (ListNodegroups, DescribeNodegroup). */
  listNodeRoleArns(): Promise<string[]>;
}

/** The request fields CreateAddon and UpdateAddon share. */
function changeInput(clusterName: string, change: AddonChange) {
  return {
    clusterName,
    addonName: ADDON_NAME,
    addonVersion: change.version,
    resolveConflicts: change.resolveConflicts,
    ...(change.configurationValues !== undefined ? { configurationValues: change.configurationValues } : {}),
    ...(change.serviceAccountRoleArn ? { serviceAccountRoleArn: change.serviceAccountRoleArn } : {}),
    ...(change.podIdentityAssociations?.length ? { podIdentityAssociations: change.podIdentityAssociations } : {}),
  };
}

/** An EksGateway over the AWS SDK v3 for one cluster. */
export function createEksGateway(settings: AwsSettings, clusterName: string): EksGateway {
  let client: Promise<{ client: EKSClient; sdk: typeof import('@aws-sdk/client-eks') }> | undefined;
  const sdk = () =>
    (client ??= eksSdk().then((sdk) => ({
      sdk,
      client: (settings.clients?.eks as EKSClient | undefined) ?? abortable(new sdk.EKSClient(clientConfig(settings, settings.eksEndpoint)), settings.abortSignal),
    })));
  const where = `in ${settings.region}`;

  return {
    async describeCluster() {
      const { client, sdk: m } = await sdk();
      try {
        const { cluster } = await client.send(new m.DescribeClusterCommand({ name: clusterName }));
        return {
          name: cluster?.name ?? clusterName,
          region: settings.region,
          arn: cluster?.arn ?? null,
          kubernetesVersion: cluster?.version ?? 'unknown',
          endpoint: cluster?.endpoint ?? null,
          certificateAuthority: cluster?.certificateAuthority?.data ?? null,
          ipFamily: cluster?.kubernetesNetworkConfig?.ipFamily === 'ipv6' ? 'ipv6' : 'ipv4',
          oidcIssuer: cluster?.identity?.oidc?.issuer ?? null,
          autoMode: cluster?.computeConfig?.enabled === true,
        };
      } catch (error) {
        if (awsErrorCode(error) === 'ResourceNotFoundException') {
          throw new UnreachableError(
            `Cluster "${clusterName}" was not found ${where}; check --cluster and --region (aws eks list-clusters --region ${settings.region}).`,
            { cause: error },
          );
        }
        throw translateAwsError(error, 'DescribeCluster', `describe cluster "${clusterName}" ${where}`);
      }
    },

    async describeAddon() {
      const { client, sdk: m } = await sdk();
      try {
        const { addon } = await client.send(
          new m.DescribeAddonCommand({ clusterName, addonName: ADDON_NAME }),
        );
        return {
          managed: true,
          version: addon?.addonVersion ?? null,
          status: addon?.status ?? null,
          health: (addon?.health?.issues ?? []).map((issue) => ({
            code: issue.code ?? 'Unknown',
            message: issue.message ?? '',
            resourceIds: issue.resourceIds ?? [],
          })),
          serviceAccountRoleArn: addon?.serviceAccountRoleArn ?? null,
          configurationValues: addon?.configurationValues ?? null,
          tags: { ...(addon?.tags ?? {}) },
          raw: JSON.parse(JSON.stringify(addon ?? {})) as Record<string, unknown>,
        };
      } catch (error) {
        if (awsErrorCode(error) === 'ResourceNotFoundException') {
          return {
            managed: false,
            version: null,
            status: null,
            health: [],
            serviceAccountRoleArn: null,
            configurationValues: null,
            raw: null,
          };
        }
        throw translateAwsError(error, 'DescribeAddon', `describe the ${ADDON_NAME} add-on of "${clusterName}"`);
      }
    },

    async describeAddonVersions(kubernetesVersion) {
      const { client, sdk: m } = await sdk();
      const entries: CatalogueEntry[] = [];
      try {
        const pages = m.paginateDescribeAddonVersions(
          { client },
          // The largest page EKS allows: the pages come one after the other, on status's critical path.
          { addonName: ADDON_NAME, maxResults: 100, ...(kubernetesVersion ? { kubernetesVersion } : {}) },
        );
        for await (const page of pages) {
          for (const addon of page.addons ?? []) {
            if (addon.addonName !== ADDON_NAME) continue;
            for (const info of addon.addonVersions ?? []) {
              if (!info.addonVersion) continue;
              entries.push({
                version: info.addonVersion,
                compatibilities: (info.compatibilities ?? []).map((c) => ({
                  clusterVersion: c.clusterVersion ?? '',
                  defaultVersion: c.defaultVersion ?? false,
                })),
                ...(info.requiresIamPermissions !== undefined ? { requiresIamPermissions: info.requiresIamPermissions } : {}),
                ...(info.computeTypes ? { computeTypes: info.computeTypes } : {}),
              });
            }
          }
        }
      } catch (error) {
        const on = kubernetesVersion ? ` on Kubernetes ${kubernetesVersion}` : '';
        throw translateAwsError(error, 'DescribeAddonVersions', `describe the ${ADDON_NAME} versions${on}`);
      }
      return entries;
    },

    async describeAddonConfiguration(version) {
      const { client, sdk: m } = await sdk();
      try {
        const out = await client.send(
          new m.DescribeAddonConfigurationCommand({ addonName: ADDON_NAME, addonVersion: version }),
        );
        if (!out.configurationSchema) {
          throw new UnreachableError(`EKS returned no configuration schema for ${ADDON_NAME} ${version}.`);
        }
        // Compiled and walked recursively later: a schema no real EKS sends must not overflow the stack.
        if (nestingTooDeep(out.configurationSchema)) {
          throw new UnreachableError(`EKS returned a configuration schema for ${ADDON_NAME} ${version} nested deeper than ${MAX_NESTING} levels; check the EKS endpoint vpccni talks to.`);
        }
        return out.configurationSchema;
      } catch (error) {
        throw translateAwsError(
          error,
          'DescribeAddonConfiguration',
          `fetch the configuration schema of ${ADDON_NAME} ${version}`,
        );
      }
    },

    async createAddon(change) {
      const { client, sdk: m } = await sdk();
      try {
        await client.send(
          new m.CreateAddonCommand(changeInput(clusterName, change)),
        );
      } catch (error) {
        throw translateAwsError(error, 'CreateAddon', `create the ${ADDON_NAME} add-on at ${change.version}`);
      }
    },

    async updateAddon(change) {
      const { client, sdk: m } = await sdk();
      try {
        const { update } = await client.send(
          new m.UpdateAddonCommand(changeInput(clusterName, change)),
        );
        if (!update?.id) throw new UnreachableError('EKS accepted UpdateAddon but returned no update id.');
        return update.id;
      } catch (error) {
        throw translateAwsError(error, 'UpdateAddon', `update the ${ADDON_NAME} add-on to ${change.version}`);
      }
    },

    async deleteAddon({ preserve }) {
      const { client, sdk: m } = await sdk();
      try {
        await client.send(new m.DeleteAddonCommand({ clusterName, addonName: ADDON_NAME, preserve }));
      } catch (error) {
        throw translateAwsError(error, 'DeleteAddon', `delete the ${ADDON_NAME} add-on record${preserve ? ' (preserving its objects)' : ''}`);
      }
    },

    async describeUpdate(updateId) {
      const { client, sdk: m } = await sdk();
      try {
        const { update } = await client.send(
          new m.DescribeUpdateCommand({ name: clusterName, updateId, addonName: ADDON_NAME }),
        );
        return {
          id: updateId,
          status: update?.status ?? 'Unknown',
          errors: (update?.errors ?? []).map((e) => ({
            errorCode: e.errorCode ?? 'Unknown',
            errorMessage: e.errorMessage ?? '',
          })),
        };
      } catch (error) {
        throw translateAwsError(error, 'DescribeUpdate', `describe update ${updateId}`);
      }
    },

    async listPodIdentityAssociations(namespace, serviceAccount) {
      const { client, sdk: m } = await sdk();
      try {
        const ids: string[] = [];
        for await (const page of m.paginateListPodIdentityAssociations({ client }, { clusterName, namespace, serviceAccount })) {
          for (const a of page.associations ?? []) if (a.associationId) ids.push(a.associationId);
        }
        return await Promise.all(
          ids.map(async (associationId) => {
            const { association: a } = await client.send(new m.DescribePodIdentityAssociationCommand({ clusterName, associationId }));
            return {
              associationId,
              associationArn: a?.associationArn ?? null,
              namespace: a?.namespace ?? namespace,
              serviceAccount: a?.serviceAccount ?? serviceAccount,
              roleArn: a?.roleArn ?? '',
              ownerArn: a?.ownerArn ?? null,
            };
          }),
        );
      } catch (error) {
        throw translateAwsError(error, 'ListPodIdentityAssociations', `list the Pod Identity associations of ${namespace}/${serviceAccount}`);
      }
    },

    async listUpgradeInsights(describe) {
      const { client, sdk: m } = await sdk();
      try {
        const summaries = [];
        for await (const page of m.paginateListInsights({ client }, { clusterName, filter: { categories: ['UPGRADE_READINESS'] } })) {
          summaries.push(...(page.insights ?? []));
        }
        return await Promise.all(
          summaries.map(async (s): Promise<UpgradeInsightInfo> => {
            const base: UpgradeInsightInfo = {
              id: s.id ?? '',
              name: s.name ?? '',
              category: s.category ?? 'UPGRADE_READINESS',
              kubernetesVersion: s.kubernetesVersion ?? null,
              status: s.insightStatus?.status ?? 'UNKNOWN',
              reason: s.insightStatus?.reason ?? null,
              description: s.description ?? null,
              lastRefreshTime: s.lastRefreshTime ? s.lastRefreshTime.toISOString() : null,
              lastTransitionTime: s.lastTransitionTime ? s.lastTransitionTime.toISOString() : null,
              recommendation: null,
              addons: [],
            };
            if (!s.id || !describe(base.name, base.description ?? '')) return base;
            const { insight } = await client.send(new m.DescribeInsightCommand({ clusterName, id: s.id }));
            return {
              ...base,
              recommendation: insight?.recommendation ?? null,
              addons: (insight?.categorySpecificSummary?.addonCompatibilityDetails ?? []).map((d) => ({
                name: d.name ?? '',
                compatibleVersions: d.compatibleVersions ?? [],
              })),
            };
          }),
        );
      } catch (error) {
        throw translateAwsError(error, 'ListInsights', `list the upgrade insights of "${clusterName}"`);
      }
    },

    async listNodeRoleArns() {
      const { client, sdk: m } = await sdk();
      try {
        const names: string[] = [];
        for await (const page of m.paginateListNodegroups({ client }, { clusterName })) names.push(...(page.nodegroups ?? []));
        const roles = await Promise.all(
          names.map(async (nodegroupName) => (await client.send(new m.DescribeNodegroupCommand({ clusterName, nodegroupName }))).nodegroup?.nodeRole ?? null),
        );
        return [...new Set(roles.filter((r): r is string => Boolean(r)))];
      } catch (error) {
        throw translateAwsError(error, 'ListNodegroups', `list the node groups of "${clusterName}"`);
      }
    },
  };
}
