/** The IAM gateway: the three read calls that check the add-on's IRSA role. */
import type { IAMClient } from '@aws-sdk/client-iam';
import type { RoleInfo } from '../domain.js';
import { UsageError } from '../errors.js';
import { abortable, clientConfig, type AwsSettings } from './aws-config.js';
import { awsErrorCode, translateAwsError } from './aws-errors.js';
import { iamSdk } from './sdk-modules.js';

/** The IAM calls vpccni makes. */
export interface IamGateway {
  /** The role with its trust policy and attached policies; `exists: false` on NoSuchEntity. */
  getRole(roleArn: string): Promise<RoleInfo>;
  listOpenIdConnectProviders(): Promise<string[]>;
  /** CreatePolicy; returns the policy ARN, or `existed: true` (and no ARN) when one of that name was there already. */
  createPolicy(name: string, document: unknown, description: string): Promise<{ arn: string; existed: boolean }>;
  /** CreateRole with the trust policy; returns the role ARN. */
  createRole(name: string, trustPolicy: unknown, description: string): Promise<string>;
  attachRolePolicy(roleName: string, policyArn: string): Promise<void>;
  /**
   * The permission policies of a role: each attached policy's default version (GetPolicy, GetPolicyVersion) and
   * each inline policy (ListRolePolicies, GetRolePolicy), parsed; those that could not be read are named.
   */
  readRolePolicies(roleArn: string): Promise<RolePolicies>;
}

/** A role's permission policy documents, as read. */
export interface RolePolicies {
  documents: Array<{ name: string; document: unknown }>;
  unreadable: string[];
}

function parsePolicyDocument(text: string | undefined): unknown {
  if (!text) return null;
  try {
    return JSON.parse(decodeURIComponent(text));
  } catch {
    return null;
  }
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
    (loaded ??= iamSdk().then((sdk) => ({
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

    async createPolicy(name, document, description) {
      const { client, sdk: m } = await sdk();
      try {
        const out = await client.send(new m.CreatePolicyCommand({ PolicyName: name, PolicyDocument: JSON.stringify(document), Description: description }));
        return { arn: out.Policy?.Arn ?? '', existed: false };
      } catch (error) {
        if (awsErrorCode(error) === 'EntityAlreadyExists' || awsErrorCode(error) === 'EntityAlreadyExistsException') {
          return { arn: '', existed: true };
        }
        throw translateAwsError(error, 'CreatePolicy', `create IAM policy ${name}`);
      }
    },

    async createRole(name, trustPolicy, description) {
      const { client, sdk: m } = await sdk();
      try {
        const out = await client.send(new m.CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trustPolicy), Description: description }));
        return out.Role?.Arn ?? '';
      } catch (error) {
        throw translateAwsError(error, 'CreateRole', `create IAM role ${name}`);
      }
    },

    async attachRolePolicy(roleName, policyArn) {
      const { client, sdk: m } = await sdk();
      try {
        await client.send(new m.AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }));
      } catch (error) {
        throw translateAwsError(error, 'AttachRolePolicy', `attach ${policyArn} to IAM role ${roleName}`);
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

    async readRolePolicies(roleArn) {
      const roleName = roleNameFromArn(roleArn);
      const { client, sdk: m } = await sdk();
      const documents: RolePolicies['documents'] = [];
      const unreadable: string[] = [];
      let attached: string[];
      let inline: string[];
      try {
        const lists = await Promise.all([
          (async () => {
            const arns: string[] = [];
            for await (const page of m.paginateListAttachedRolePolicies({ client }, { RoleName: roleName })) {
              for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
            }
            return arns;
          })(),
          (async () => {
            const names: string[] = [];
            for await (const page of m.paginateListRolePolicies({ client }, { RoleName: roleName })) names.push(...(page.PolicyNames ?? []));
            return names;
          })(),
        ]);
        [attached, inline] = lists;
      } catch (error) {
        throw translateAwsError(error, 'ListAttachedRolePolicies', `list the policies of IAM role ${roleName}`);
      }
      await Promise.all([
        ...attached.map(async (arn) => {
          try {
            const { Policy } = await client.send(new m.GetPolicyCommand({ PolicyArn: arn }));
            const { PolicyVersion } = await client.send(new m.GetPolicyVersionCommand({ PolicyArn: arn, VersionId: Policy?.DefaultVersionId ?? 'v1' }));
            const document = parsePolicyDocument(PolicyVersion?.Document);
            if (document === null) unreadable.push(arn);
            else documents.push({ name: arn, document });
          } catch {
            unreadable.push(arn);
          }
        }),
        ...inline.map(async (name) => {
          try {
            const out = await client.send(new m.GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }));
            const document = parsePolicyDocument(out.PolicyDocument);
            if (document === null) unreadable.push(`inline:${name}`);
            else documents.push({ name: `inline:${name}`, document });
          } catch {
            unreadable.push(`inline:${name}`);
          }
        }),
      ]);
      documents.sort((a, b) => a.name.localeCompare(b.name));
      return { documents, unreadable: unreadable.sort() };
    },
  };
}
