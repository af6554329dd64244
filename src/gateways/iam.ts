/** The IAM gateway: the three read calls that check the add-on's IRSA role. */
import type { IAMClient } from '@aws-sdk/client-iam';
import type { RoleInfo } from '../domain.js';
import { UsageError } from '../errors.js';
import { abortable, clientConfig, type AwsSettings } from './aws-config.js';
import { awsErrorCode, translateAwsError } from './aws-errors.js';

/** The IAM calls vpccni makes. */
export interface IamGateway {
  /** The role with its trust policy and attached policies; `exists: false` on NoSuchEntity. */
  getRole(roleArn: string): Promise<RoleInfo>;
  listOpenIdConnectProviders(): Promise<string[]>;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

/** The role name of a role ARN; UsageError for anything else. */
export function roleNameFromArn(roleArn: string): string {
  const match = ROLE_ARN.exec(roleArn);
  if (!match?.[1]) {
    throw new UsageError(
      `"${roleArn}" is not an IAM role ARN; use the form arn:aws:iam::111122223333:role/AmazonEKSVPCCNIRole.`,
    );
  }
  return match[1];
}

/** An IamGateway over the AWS SDK v3. */
export function createIamGateway(settings: AwsSettings): IamGateway {
  let loaded: Promise<{ client: IAMClient; sdk: typeof import('@aws-sdk/client-iam') }> | undefined;
  const sdk = () =>
    (loaded ??= import('@aws-sdk/client-iam').then((sdk) => ({
      sdk,
      client: (settings.clients?.iam as IAMClient | undefined) ?? abortable(new sdk.IAMClient(clientConfig(settings, settings.iamEndpoint)), settings.abortSignal),
    })));

  return {
    async getRole(roleArn) {
      const roleName = roleNameFromArn(roleArn);
      const { client, sdk: m } = await sdk();
      try {
        const [{ Role }, attached] = await Promise.all([
          client.send(new m.GetRoleCommand({ RoleName: roleName })),
          (async () => {
            const arns: string[] = [];
            for await (const page of m.paginateListAttachedRolePolicies({ client }, { RoleName: roleName })) {
              for (const policy of page.AttachedPolicies ?? []) if (policy.PolicyArn) arns.push(policy.PolicyArn);
            }
            return arns;
          })(),
        ]);
        const document = Role?.AssumeRolePolicyDocument;
        let trustPolicy: unknown = null;
        if (document) {
          try {
            trustPolicy = JSON.parse(decodeURIComponent(document));
          } catch {
            trustPolicy = null;
          }
        }
        return { arn: Role?.Arn ?? roleArn, exists: true, trustPolicy, attachedPolicyArns: attached };
      } catch (error) {
        if (awsErrorCode(error) === 'NoSuchEntityException' || awsErrorCode(error) === 'NoSuchEntity') {
          return { arn: roleArn, exists: false, trustPolicy: null, attachedPolicyArns: [] };
        }
        throw translateAwsError(error, 'GetRole', `read IAM role ${roleName}`);
      }
    },

    async listOpenIdConnectProviders() {
      const { client, sdk: m } = await sdk();
      try {
        const out = await client.send(new m.ListOpenIDConnectProvidersCommand({}));
        return (out.OpenIDConnectProviderList ?? []).map((p) => p.Arn ?? '').filter(Boolean);
      } catch (error) {
        throw translateAwsError(error, 'ListOpenIDConnectProviders', 'list the IAM OIDC providers');
      }
    },
  };
}
