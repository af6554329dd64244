/**
 * An AWS IAM emulator on 127.0.0.1 speaking the Query protocol (iam-service-2.json, version 2010-05-08):
 * form-encoded `Action=GetRole&Version=2010-05-08&…`, XML answers in IAM's namespace, the trust policy
 * URL-encoded as IAM sends it, and `<ErrorResponse>` errors (NoSuchEntity 404, Throttling 400).
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRole.html
 */
import { createHash, randomUUID } from 'node:crypto';
import { partitionOf } from '../decide/registries.js';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { FaultInjector, listen, readBody, type RunningServer } from './eks-api.js';
import type { RequestLog } from './request-log.js';
import type { ResolvedScenario } from './scenario.js';

/** The IAM actions that change something (the request log marks them mutating). */
const MUTATING = new Set(['CreatePolicy', 'CreateRole', 'AttachRolePolicy']);

const XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

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
  scenario: ResolvedScenario;
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
    const send = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      this.options.log.record({ service: 'iam', method, path: url.pathname, operation: action, mutating: MUTATING.has(action) && status < 400, status });
    };
    const sendError = (error: IamError): void =>
      send(
        error.status,
        `<ErrorResponse xmlns="${XMLNS}">\n  <Error>\n    <Type>${error.type}</Type>\n    <Code>${error.code}</Code>\n    <Message>${xml(error.message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`,
      );

    const faults = this.options.faults;
    if (faults) {
      await faults.delay();
      const fault = faults.next();
      if (fault === 'throttle') return sendError(new IamError(400, 'Throttling', 'Rate exceeded'));
      if (fault === 500) return sendError(new IamError(500, 'ServiceFailure', 'Service Failure', 'Receiver'));
      if (fault === 503) return sendError(new IamError(503, 'ServiceUnavailable', 'Service Unavailable', 'Receiver'));
    }
    try {
      const result = this.dispatch(action, params);
      send(
        200,
        `<${action}Response xmlns="${XMLNS}">\n  <${action}Result>\n${result}  </${action}Result>\n  <ResponseMetadata>\n    <RequestId>${requestId}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`,
      );
    } catch (error) {
      if (error instanceof IamError) return sendError(error);
      sendError(new IamError(500, 'ServiceFailure', (error as Error).message, 'Receiver'));
    }
  }

  private role(name: string | null) {
    if (!name) throw new IamError(400, 'ValidationError', '1 validation error detected: Value null at \'roleName\' failed to satisfy constraint: Member must not be null');
    const role = this.options.scenario.iam.roles.find((r) => r.name === name);
    // Real wording: "The role with name X cannot be found."
    if (!role) throw new IamError(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
    return role;
  }

  /** Customer managed policies created through CreatePolicy: name → document. */
  private readonly policies = new Map<string, string>();

  private partition(): string {
    return partitionOf(this.options.scenario.cluster.region);
  }

  private roleXml(role: { name: string; trustPolicy?: unknown }, accountId: string): string {
    return (
      `    <Role>\n      <Path>/</Path>\n` +
      `      <AssumeRolePolicyDocument>${xml(encodeURIComponent(JSON.stringify(role.trustPolicy)))}</AssumeRolePolicyDocument>\n` +
      `      <MaxSessionDuration>3600</MaxSessionDuration>\n` +
      `      <RoleId>${iamId('AROA', role.name)}</RoleId>\n` +
      `      <RoleName>${xml(role.name)}</RoleName>\n` +
      `      <Arn>arn:${this.partition()}:iam::${accountId}:role/${xml(role.name)}</Arn>\n` +
      `      <CreateDate>${this.createDate}</CreateDate>\n` +
      `      <RoleLastUsed/>\n    </Role>\n`
    );
  }

  private dispatch(action: string, params: URLSearchParams): string {
    const { accountId } = this.options.scenario.cluster;
    switch (action) {
      case 'CreatePolicy': {
        const name = params.get('PolicyName') ?? '';
        const document = params.get('PolicyDocument') ?? '';
        if (!/^[\w+=,.@-]{1,128}$/.test(name)) throw new IamError(400, 'ValidationError', `1 validation error detected: Value '${name}' at 'policyName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+`);
        try {
          JSON.parse(document);
        } catch {
          throw new IamError(400, 'MalformedPolicyDocument', 'Syntax errors in policy.');
        }
        const arn = `arn:${this.partition()}:iam::${accountId}:policy/${name}`;
        if (this.policies.has(name)) throw new IamError(409, 'EntityAlreadyExists', `A policy called ${name} already exists. Duplicate names are not allowed.`);
        this.policies.set(name, document);
        return (
          `    <Policy>\n      <PolicyName>${xml(name)}</PolicyName>\n      <DefaultVersionId>v1</DefaultVersionId>\n` +
          `      <PolicyId>${iamId('ANPA', name)}</PolicyId>\n      <Path>/</Path>\n      <Arn>${xml(arn)}</Arn>\n` +
          `      <AttachmentCount>0</AttachmentCount>\n      <IsAttachable>true</IsAttachable>\n      <CreateDate>${new Date().toISOString()}</CreateDate>\n    </Policy>\n`
        );
      }
      case 'CreateRole': {
        const name = params.get('RoleName') ?? '';
        if (!/^[\w+=,.@-]{1,64}$/.test(name)) throw new IamError(400, 'ValidationError', `1 validation error detected: Value '${name}' at 'roleName' failed to satisfy constraint: Member must have length less than or equal to 64`);
        if (this.options.scenario.iam.roles.some((r) => r.name === name)) throw new IamError(409, 'EntityAlreadyExists', `Role with name ${name} already exists.`);
        let trustPolicy: unknown;
        try {
          trustPolicy = JSON.parse(params.get('AssumeRolePolicyDocument') ?? '');
        } catch {
          throw new IamError(400, 'MalformedPolicyDocument', 'This policy contains invalid Json');
        }
        const role = { name, trustPolicy, attachedPolicyArns: [] as string[] };
        this.options.scenario.iam.roles.push(role);
        return this.roleXml(role, accountId);
      }
      case 'AttachRolePolicy': {
        const role = this.role(params.get('RoleName'));
        const arn = params.get('PolicyArn') ?? '';
        const own = new RegExp(`^arn:${this.partition()}:iam::${accountId}:policy/(.+)$`).exec(arn);
        const managed = new RegExp(`^arn:${this.partition()}:iam::aws:policy/`).test(arn);
        if (!managed && !(own && this.policies.has(own[1] as string))) throw new IamError(404, 'NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
        role.attachedPolicyArns ??= [];
        if (!role.attachedPolicyArns.includes(arn)) role.attachedPolicyArns.push(arn);
        return '';
      }
      case 'GetRole': {
        return this.roleXml(this.role(params.get('RoleName')), accountId);
      }
      case 'ListAttachedRolePolicies': {
        const role = this.role(params.get('RoleName'));
        const members = (role.attachedPolicyArns ?? [])
          .map((arn) => `      <member>\n        <PolicyArn>${xml(arn)}</PolicyArn>\n        <PolicyName>${xml(arn.split('/').pop() ?? arn)}</PolicyName>\n      </member>\n`)
          .join('');
        return `    <IsTruncated>false</IsTruncated>\n    <AttachedPolicies>\n${members}    </AttachedPolicies>\n`;
      }
      case 'ListOpenIDConnectProviders': {
        const members = this.options.scenario.iam.oidcProviders
          .map((arn) => `      <member>\n        <Arn>${xml(arn)}</Arn>\n      </member>\n`)
          .join('');
        return `    <OpenIDConnectProviderList>\n${members}    </OpenIDConnectProviderList>\n`;
      }
      case 'GetOpenIDConnectProvider': {
        const arn = params.get('OpenIDConnectProviderArn') ?? '';
        if (!this.options.scenario.iam.oidcProviders.includes(arn)) {
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
