/**
 * An AWS IAM emulator on 127.0.0.1 speaking the Query protocol (iam-service-2.json, version 2010-05-08):
 * form-encoded `Action=GetRole&Version=2010-05-08&…`, XML answers in IAM's namespace, the trust policy
 * URL-encoded as IAM sends it, and `<ErrorResponse>` errors (NoSuchEntity 404, Throttling 400).
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { readPackageJson } from '../package-files.js';
import type { AccountDirectory } from './aws-auth.js';
import { FaultInjector, listen, readBody, type RunningServer } from './eks-api.js';
import type { RequestLog } from './request-log.js';
import type { ResolvedScenario } from './scenario.js';
import type { ScenarioRole } from './scenario-types.js';

/** The IAM actions that change something (the request log marks them mutating). */
const MUTATING = new Set(['CreatePolicy', 'CreateRole', 'AttachRolePolicy']);

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const STS_ACTIONS = new Set(['AssumeRole', 'GetCallerIdentity']);

/** A managed policy the sandbox can show: its ARN, default version and document. */
interface ManagedPolicy {
  arn: string;
  name: string;
  versionId: string;
  createDate: string;
  document: unknown;
}

function loadJson(file: string): unknown {
  return readPackageJson(`fixtures/iam/${file}`);
}

/** An AWS-managed policy from its real `get-policy-version` output in fixtures/iam/. */
function awsManaged(name: string): ManagedPolicy {
  const version = (loadJson(`${name}.get-policy-version.json`) as { PolicyVersion: { Document: unknown; VersionId: string; CreateDate: string } }).PolicyVersion;
  return {
    arn: `arn:aws:iam::aws:policy/${name}`,
    name,
    versionId: version.VersionId,
    createDate: version.CreateDate.replace('+00:00', 'Z'),
    document: version.Document,
  };
}

/**
 * The policies of one account: the AWS-managed CNI policy and the two other policies of the EKS node role
 * (real text), and the customer-managed IPv6 one.
 */
function managedPolicies(accountId: string): ManagedPolicy[] {
  return [
    awsManaged('AmazonEKS_CNI_Policy'),
    awsManaged('AmazonEKSWorkerNodePolicy'),
    awsManaged('AmazonEC2ContainerRegistryReadOnly'),
    {
      arn: `arn:aws:iam::${accountId}:policy/AmazonEKS_CNI_IPv6_Policy`,
      name: 'AmazonEKS_CNI_IPv6_Policy',
      versionId: 'v1',
      createDate: '2024-01-15T10:00:00Z',
      document: loadJson('AmazonEKS_CNI_IPv6_Policy.json'),
    },
  ];
}

/** The IAM side of the sandbox's accounts: roles and OIDC providers per account, from the clusters. */
export function iamAccountsOf(clusters: ResolvedScenario[]): Map<string, { roles: ScenarioRole[]; oidcProviders: string[] }> {
  const accounts = new Map<string, { roles: ScenarioRole[]; oidcProviders: string[] }>();
  for (const c of clusters) {
    const entry = accounts.get(c.cluster.accountId) ?? { roles: [], oidcProviders: [] };
    for (const role of c.iam.roles) if (!entry.roles.some((r) => r.name === role.name)) entry.roles.push(role);
    for (const arn of c.iam.oidcProviders) if (!entry.oidcProviders.includes(arn)) entry.oidcProviders.push(arn);
    accounts.set(c.cluster.accountId, entry);
  }
  return accounts;
}

class IamError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

/** Escapes text for XML content. */
function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** IAM-style ids: a prefix and 17 upper-case characters derived from the name (stable across runs). */
function iamId(prefix: string, name: string): string {
  return prefix + createHash('sha256').update(name).digest('base64').replace(/[^A-Z0-9]/gi, '').toUpperCase().slice(0, 17);
}

/** Options of the IAM emulator. */
export interface IamApiOptions {
  /** Roles and OIDC providers per account id (`iamAccountsOf`). */
  iam: Map<string, { roles: ScenarioRole[]; oidcProviders: string[] }>;
  accounts: AccountDirectory;
  /** Single-cluster: keys nobody issued act in this account. Multi-cluster: undefined (such keys are refused). */
  defaultAccountId?: string;
  log: RequestLog;
  faults?: FaultInjector;
  port?: number;
}

/** The IAM emulator's request handling (exported for tests). */
export class IamApi {
  private readonly createDate = new Date(Date.now() - 90 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

  constructor(private readonly options: IamApiOptions) {}

  /** Handles one HTTP request (POST form body or GET query string). */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'POST').toUpperCase();
    const body = await readBody(req);
    const params = new URLSearchParams(method === 'POST' ? body : url.search);
    const action = params.get('Action') ?? 'Unknown';
    const requestId = randomUUID();
    const sts = STS_ACTIONS.has(action) || params.get('Version') === '2011-06-15';
    const ns = sts ? STS_XMLNS : XMLNS;
    const send = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      this.options.log.record({ service: sts ? 'sts' : 'iam', method, path: url.pathname, operation: action, mutating: !sts && MUTATING.has(action) && status < 400, status });
    };
    const sendError = (error: IamError): void =>
      send(
        error.status,
        `<ErrorResponse xmlns="${ns}">\n  <Error>\n    <Type>${error.type}</Type>\n    <Code>${error.code}</Code>\n    <Message>${xml(error.message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`,
      );

    const faults = this.options.faults;
    if (faults) {
      await faults.delay();
      const fault = faults.next(`${method} ${url.pathname}${url.search} ${body}`);
      if (fault === 'throttle') return sendError(new IamError(400, 'Throttling', 'Rate exceeded'));
      if (fault === 500) return sendError(new IamError(500, 'ServiceFailure', 'Service Failure', 'Receiver'));
      if (fault === 503) return sendError(new IamError(503, 'ServiceUnavailable', 'Service Unavailable', 'Receiver'));
    }
    try {
      const fallback = this.options.defaultAccountId ? this.options.accounts.account(this.options.defaultAccountId) : undefined;
      const caller = this.options.accounts.caller(req, fallback);
      if (!caller.account) {
        throw new IamError(403, sts ? 'InvalidClientTokenId' : 'InvalidClientTokenId', 'The security token included in the request is invalid.');
      }
      const principal =
        this.options.accounts.session(caller.accessKeyId)?.roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/') ??
        `arn:aws:iam::${caller.account.id}:user/sandbox`;
      if (caller.account.denyAccess) {
        const service = sts ? 'sts' : 'iam';
        throw new IamError(
          403,
          'AccessDenied',
          `User: ${principal} is not authorized to perform: ${service}:${action} because no identity-based policy allows the ${service}:${action} action`,
        );
      }
      const result = sts ? this.sts(action, params, caller.account.id, principal) : this.dispatch(action, params, caller.account.id);
      send(
        200,
        `<${action}Response xmlns="${ns}">\n  <${action}Result>\n${result}  </${action}Result>\n  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`,
      );
    } catch (error) {
      if (error instanceof IamError) return sendError(error);
      sendError(new IamError(500, 'ServiceFailure', (error as Error).message, 'Receiver'));
    }
  }

  private role(name: string | null, accountId: string) {
    if (!name) throw new IamError(400, 'ValidationError', '1 validation error detected: Value null at \'roleName\' failed to satisfy constraint: Member must not be null');
    const role = this.options.iam.get(accountId)?.roles.find((r) => r.name === name);
    // Real wording: "The role with name X cannot be found."
    if (!role) throw new IamError(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
    return role;
  }

  /** STS: AssumeRole (into any account of the sandbox that has the role) and GetCallerIdentity. */
  private sts(action: string, params: URLSearchParams, accountId: string, principal: string): string {
    if (action === 'GetCallerIdentity') {
      const userId = principal.includes(':assumed-role/') ? `${iamId('AROA', principal.split('/')[1] ?? '')}:${principal.split('/')[2] ?? ''}` : iamId('AIDA', principal);
      return `    <Arn>${xml(principal)}</Arn>\n    <UserId>${xml(userId)}</UserId>\n    <Account>${accountId}</Account>\n`;
    }
    if (action !== 'AssumeRole') throw new IamError(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
    const roleArn = params.get('RoleArn') ?? '';
    const sessionName = params.get('RoleSessionName') ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
      throw new IamError(400, 'ValidationError', `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`);
    }
    const match = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    const target = match ? this.options.accounts.account(match[1] ?? '') : undefined;
    const role = match ? this.options.iam.get(match[1] ?? '')?.roles.find((r) => r.name === match[2]) : undefined;
    if (!match || !target || !role) {
      throw new IamError(403, 'AccessDenied', `User: ${principal} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    const creds = this.options.accounts.issue(target.id, roleArn, sessionName);
    const expiration = new Date(Date.now() + Number(params.get('DurationSeconds') ?? 3600) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return (
      `    <AssumedRoleUser>\n      <AssumedRoleId>${iamId('AROA', role.name)}:${xml(sessionName)}</AssumedRoleId>\n` +
      `      <Arn>arn:aws:sts::${target.id}:assumed-role/${xml(role.name)}/${xml(sessionName)}</Arn>\n    </AssumedRoleUser>\n` +
      `    <Credentials>\n      <AccessKeyId>${creds.accessKeyId}</AccessKeyId>\n      <SecretAccessKey>${xml(creds.secretAccessKey)}</SecretAccessKey>\n` +
      `      <SessionToken>${xml(creds.sessionToken)}</SessionToken>\n      <Expiration>${expiration}</Expiration>\n    </Credentials>\n`
    );
  }

  /** Customer managed policies made with CreatePolicy, per account. */
  private readonly created = new Map<string, ManagedPolicy[]>();

  private policy(arn: string | null, accountId: string): ManagedPolicy {
    const policy = [...managedPolicies(accountId), ...(this.created.get(accountId) ?? [])].find((p) => p.arn === arn);
    // Real wording: "Policy arn:aws:iam::aws:policy/X does not exist or is not attachable."
    if (!policy) throw new IamError(404, 'NoSuchEntity', `Policy ${arn ?? 'null'} does not exist or is not attachable.`);
    return policy;
  }

  /**
   * One page of an IAM list as IAM pages it (iam-service-2.json, `MaxItems` 1–1000, default 100; `Marker` from the
   * last page; `IsTruncated`), never more than the `iamPageSize` fault allows. `list` names what is listed: a
   * marker is good only for the list it came from. Returns the items and the `IsTruncated`/`Marker` elements.
   */
  private page<T>(all: T[], params: URLSearchParams, list: string): { items: T[]; tail: string } {
    const maxItemsText = params.get('MaxItems');
    let maxItems = 100;
    if (maxItemsText !== null) {
      maxItems = Number(maxItemsText);
      if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 1000) {
        const bound = maxItems < 1 ? 'greater than or equal to 1' : 'less than or equal to 1000';
        throw new IamError(400, 'ValidationError', `1 validation error detected: Value '${maxItemsText}' at 'maxItems' failed to satisfy constraint: Member must have value ${bound}`);
      }
    }
    const size = Math.min(maxItems, this.options.faults?.faults.iamPageSize ?? maxItems);
    let offset = 0;
    const marker = params.get('Marker');
    if (marker !== null) {
      // The wording is the sandbox's own: IAM's answer to a forged marker was not found in a public source.
      const invalid = new IamError(400, 'ValidationError', 'Invalid Marker: pass the Marker of the previous page of this list, unchanged.');
      let decoded: { offset?: unknown; list?: unknown };
      try {
        decoded = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8')) as typeof decoded;
      } catch {
        throw invalid;
      }
      if (decoded.list !== list || !Number.isInteger(decoded.offset) || (decoded.offset as number) < 0) throw invalid;
      offset = decoded.offset as number;
    }
    const end = offset + size;
    const items = all.slice(offset, end);
    if (end >= all.length) return { items, tail: '    <IsTruncated>false</IsTruncated>\n' };
    const next = Buffer.from(JSON.stringify({ offset: end, list })).toString('base64url');
    return { items, tail: `    <IsTruncated>true</IsTruncated>\n    <Marker>${next}</Marker>\n` };
  }

  private dispatch(action: string, params: URLSearchParams, accountId: string): string {
    const oidcProviders = this.options.iam.get(accountId)?.oidcProviders ?? [];
    switch (action) {
      case 'CreatePolicy': {
        const name = params.get('PolicyName') ?? '';
        if (!/^[\w+=,.@-]{1,128}$/.test(name)) throw new IamError(400, 'ValidationError', `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
        let document: unknown;
        try {
          document = JSON.parse(params.get('PolicyDocument') ?? '');
        } catch {
          throw new IamError(400, 'MalformedPolicyDocument', 'Syntax errors in policy.');
        }
        const arn = `arn:aws:iam::${accountId}:policy/${name}`;
        const mine = this.created.get(accountId) ?? [];
        if (mine.some((p) => p.name === name)) throw new IamError(409, 'EntityAlreadyExists', `A policy called ${name} already exists. Duplicate names are not allowed.`);
        const createDate = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        mine.push({ arn, name, versionId: 'v1', createDate, document });
        this.created.set(accountId, mine);
        return (
          `    <Policy>\n      <PolicyName>${xml(name)}</PolicyName>\n      <DefaultVersionId>v1</DefaultVersionId>\n` +
          `      <PolicyId>${iamId('ANPA', name)}</PolicyId>\n      <Path>/</Path>\n      <Arn>${xml(arn)}</Arn>\n` +
          `      <AttachmentCount>0</AttachmentCount>\n      <IsAttachable>true</IsAttachable>\n      <CreateDate>${createDate}</CreateDate>\n    </Policy>\n`
        );
      }
      case 'CreateRole': {
        const name = params.get('RoleName') ?? '';
        if (!/^[\w+=,.@-]{1,64}$/.test(name)) throw new IamError(400, 'ValidationError', `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64`);
        const account = this.options.iam.get(accountId) ?? { roles: [], oidcProviders: [] };
        this.options.iam.set(accountId, account);
        if (account.roles.some((r) => r.name === name)) throw new IamError(409, 'EntityAlreadyExists', `Role with name ${name} already exists.`);
        let trustPolicy: unknown;
        try {
          trustPolicy = JSON.parse(params.get('AssumeRolePolicyDocument') ?? '');
        } catch {
          throw new IamError(400, 'MalformedPolicyDocument', 'This policy contains invalid Json');
        }
        account.roles.push({ name, trustPolicy, attachedPolicyArns: [] });
        return this.dispatch('GetRole', new URLSearchParams({ RoleName: name }), accountId);
      }
      case 'AttachRolePolicy': {
        const role = this.role(params.get('RoleName'), accountId);
        const policy = this.policy(params.get('PolicyArn'), accountId);
        role.attachedPolicyArns ??= [];
        if (!role.attachedPolicyArns.includes(policy.arn)) role.attachedPolicyArns.push(policy.arn);
        return '';
      }
      case 'ListRolePolicies': {
        const role = this.role(params.get('RoleName'), accountId);
        const { items, tail } = this.page(Object.keys(role.inlinePolicies ?? {}).sort(), params, `ListRolePolicies ${accountId} ${role.name}`);
        const members = items.map((name) => `      <member>${xml(name)}</member>\n`).join('');
        return `    <PolicyNames>\n${members}    </PolicyNames>\n${tail}`;
      }
      case 'GetRolePolicy': {
        const role = this.role(params.get('RoleName'), accountId);
        const name = params.get('PolicyName') ?? '';
        const document = role.inlinePolicies?.[name];
        if (!document) throw new IamError(404, 'NoSuchEntity', `The role policy with name ${name} cannot be found.`);
        return (
          `    <RoleName>${xml(role.name)}</RoleName>\n    <PolicyName>${xml(name)}</PolicyName>\n` +
          `    <PolicyDocument>${xml(encodeURIComponent(JSON.stringify(document)))}</PolicyDocument>\n`
        );
      }
      case 'GetPolicy': {
        const policy = this.policy(params.get('PolicyArn'), accountId);
        const attached = [...this.options.iam.values()].flatMap((a) => a.roles).filter((r) => r.attachedPolicyArns?.includes(policy.arn)).length;
        return (
          `    <Policy>\n      <PolicyName>${xml(policy.name)}</PolicyName>\n      <PolicyId>${iamId('ANPA', policy.arn)}</PolicyId>\n` +
          `      <Arn>${xml(policy.arn)}</Arn>\n      <Path>/</Path>\n      <DefaultVersionId>${policy.versionId}</DefaultVersionId>\n` +
          `      <AttachmentCount>${attached}</AttachmentCount>\n      <PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount>\n` +
          `      <IsAttachable>true</IsAttachable>\n      <CreateDate>${policy.createDate}</CreateDate>\n      <UpdateDate>${policy.createDate}</UpdateDate>\n    </Policy>\n`
        );
      }
      case 'GetPolicyVersion': {
        const policy = this.policy(params.get('PolicyArn'), accountId);
        const versionId = params.get('VersionId') ?? '';
        if (versionId !== policy.versionId) {
          throw new IamError(404, 'NoSuchEntity', `Policy ${policy.arn} version ${versionId} does not exist or is not attachable.`);
        }
        return (
          `    <PolicyVersion>\n      <Document>${xml(encodeURIComponent(JSON.stringify(policy.document)))}</Document>\n` +
          `      <VersionId>${policy.versionId}</VersionId>\n      <IsDefaultVersion>true</IsDefaultVersion>\n      <CreateDate>${policy.createDate}</CreateDate>\n    </PolicyVersion>\n`
        );
      }
      case 'GetRole': {
        const role = this.role(params.get('RoleName'), accountId);
        return (
          `    <Role>\n      <Path>/</Path>\n` +
          `      <AssumeRolePolicyDocument>${xml(encodeURIComponent(JSON.stringify(role.trustPolicy)))}</AssumeRolePolicyDocument>\n` +
          `      <MaxSessionDuration>3600</MaxSessionDuration>\n` +
          `      <RoleId>${iamId('AROA', role.name)}</RoleId>\n` +
          `      <RoleName>${xml(role.name)}</RoleName>\n` +
          `      <Arn>arn:aws:iam::${accountId}:role/${xml(role.name)}</Arn>\n` +
          `      <CreateDate>${this.createDate}</CreateDate>\n` +
          `      <RoleLastUsed/>\n    </Role>\n`
        );
      }
      case 'ListAttachedRolePolicies': {
        const role = this.role(params.get('RoleName'), accountId);
        const { items, tail } = this.page(role.attachedPolicyArns ?? [], params, `ListAttachedRolePolicies ${accountId} ${role.name}`);
        const members = items
          .map((arn) => `      <member>\n        <PolicyArn>${xml(arn)}</PolicyArn>\n        <PolicyName>${xml(arn.split('/').pop() ?? arn)}</PolicyName>\n      </member>\n`)
          .join('');
        return `    <AttachedPolicies>\n${members}    </AttachedPolicies>\n${tail}`;
      }
      case 'ListOpenIDConnectProviders': {
        const members = oidcProviders
          .map((arn) => `      <member>\n        <Arn>${xml(arn)}</Arn>\n      </member>\n`)
          .join('');
        return `    <OpenIDConnectProviderList>\n${members}    </OpenIDConnectProviderList>\n`;
      }
      case 'GetOpenIDConnectProvider': {
        const arn = params.get('OpenIDConnectProviderArn') ?? '';
        if (!oidcProviders.includes(arn)) {
          throw new IamError(404, 'NoSuchEntity', `OpenIDConnect Provider not found for arn ${arn}`);
        }
        return (
          `    <Url>${xml(arn.replace(/^arn:[^:]+:iam::\d+:oidc-provider\//, ''))}</Url>\n` +
          `    <ClientIDList>\n      <member>sts.amazonaws.com</member>\n    </ClientIDList>\n` +
          `    <ThumbprintList>\n      <member>9e99a48a9960b14926bb7f3b02e22da2b0ab7280</member>\n    </ThumbprintList>\n` +
          `    <CreateDate>${this.createDate}</CreateDate>\n`
        );
      }
      default:
        throw new IamError(400, 'InvalidAction', `Could not find operation ${action} for version 2010-05-08`);
    }
  }
}

/** Starts the IAM emulator on 127.0.0.1. */
export async function startIamApi(options: IamApiOptions): Promise<RunningServer> {
  const api = new IamApi(options);
  const server = createServer((req, res) => {
    api.handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/xml' });
      res.end(`<ErrorResponse><Error><Message>${xml((error as Error).message)}</Message></Error></ErrorResponse>`);
    });
  });
  return listen(server, options.port);
}
