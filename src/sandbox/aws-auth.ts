/**
 * Who is calling, as AWS sees it: the access key id and the region of a SigV4 `Authorization` header's
 * credential scope (`Credential=AKID/20260101/us-west-2/eks/aws4_request`). The sandbox does not check
 * signatures; it reads the scope to route a call to a region and, through the access key, to an account.
 * Keys STS AssumeRole hands out join the directory, so a client can hop from one account into another.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ResolvedAccount } from './scenario.js';

/** The caller of one request. */
export interface Caller {
  accessKeyId: string | null;
  region: string | null;
  /** The account the access key belongs to; undefined for a key nobody issued. */
  account: ResolvedAccount | undefined;
}

const SCOPE = /Credential=([^/,\s]+)\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/;

/** The access key id and region of a request's SigV4 Authorization header (or its presigned query). */
export function credentialScope(req: IncomingMessage): { accessKeyId: string | null; region: string | null } {
  const header = req.headers.authorization ?? '';
  let match = SCOPE.exec(header);
  if (!match) {
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('X-Amz-Credential');
    if (query) match = SCOPE.exec(`Credential=${query}`);
  }
  return { accessKeyId: match?.[1] ?? null, region: match?.[2] ?? null };
}

/** Access keys → accounts: the scenario's keys plus the temporary ones STS issued. */
export class AccountDirectory {
  private readonly byKey = new Map<string, ResolvedAccount>();
  private readonly temporary = new Map<string, { accountId: string; roleArn: string; sessionName: string }>();

  constructor(readonly accounts: ResolvedAccount[]) {
    for (const account of accounts) this.byKey.set(account.accessKeyId, account);
  }

  account(id: string): ResolvedAccount | undefined {
    return this.accounts.find((a) => a.id === id);
  }

  /** The caller of a request; `fallbackAccount` answers for keys nobody issued (single-cluster sandboxes). */
  caller(req: IncomingMessage, fallbackAccount?: ResolvedAccount): Caller {
    const { accessKeyId, region } = credentialScope(req);
    const account = (accessKeyId ? this.byKey.get(accessKeyId) : undefined) ?? fallbackAccount;
    return { accessKeyId, region, account };
  }

  /** The assumed role a temporary key stands for, when it is one. */
  session(accessKeyId: string | null): { accountId: string; roleArn: string; sessionName: string } | undefined {
    return accessKeyId ? this.temporary.get(accessKeyId) : undefined;
  }

  /** Issues temporary credentials in `accountId` (STS AssumeRole). */
  issue(accountId: string, roleArn: string, sessionName: string): { accessKeyId: string; secretAccessKey: string; sessionToken: string } {
    const account = this.account(accountId);
    if (!account) throw new Error(`No account ${accountId}.`);
    const accessKeyId = `ASIA${createHash('sha256').update(`${roleArn}/${sessionName}/${randomBytes(4).toString('hex')}`).digest('hex').slice(0, 16).toUpperCase()}`;
    this.byKey.set(accessKeyId, account);
    this.temporary.set(accessKeyId, { accountId, roleArn, sessionName });
    return { accessKeyId, secretAccessKey: randomBytes(30).toString('base64'), sessionToken: randomBytes(96).toString('base64') };
  }
}
