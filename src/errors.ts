/** Typed errors, each carrying the exit code the CLI contract gives it (../README.md, "Exit codes"). */

/** Base class: a failure with a one-sentence message meant for a person, and an exit code. */
export class VpccniError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** Exit 1: a gate or finding of severity `error` failed (check, status, plan). */
export class GateFailedError extends VpccniError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** Exit 2: bad flag, malformed version, invalid JSON/YAML, schema violation, impossible plan. */
export class UsageError extends VpccniError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 2, options);
  }
}

/** Exit 3: AWS or Kubernetes could not be reached or refused (credentials, not found, access denied, kubectl missing). */
export class UnreachableError extends VpccniError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 3, options);
  }
}

/** Exit 4: an upgrade stopped part-way; the message says which step, the state, the backup and how to resume. */
export class UpgradeStoppedError extends VpccniError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 4, options);
  }
}

/** Exit 130: the user pressed Ctrl-C. */
export class InterruptedError extends VpccniError {
  constructor(message = 'Interrupted.') {
    super(message, 130);
  }
}
