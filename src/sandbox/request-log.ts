/** Every request the sandbox's emulators answered, so tests can prove what was (not) called. */

export interface LoggedRequest {
  service: 'eks' | 'iam' | 'sts' | 'kube';
  method: string;
  path: string;
  /** EKS/IAM operation name (`UpdateAddon`), or for kube e.g. `PATCH daemonsets/aws-node`. */
  operation: string;
  /** True for calls that change state (EKS Create/Update/Delete, kube POST/PUT/PATCH/DELETE). */
  mutating: boolean;
  status: number;
  at: number;
}

/** An append-only log shared by the emulators of one sandbox. */
export class RequestLog {
  readonly entries: LoggedRequest[] = [];

  record(entry: Omit<LoggedRequest, 'at'>): void {
    this.entries.push({ ...entry, at: Date.now() });
  }

  /** The mutating requests, in order. */
  mutating(): LoggedRequest[] {
    return this.entries.filter((entry) => entry.mutating);
  }
}
