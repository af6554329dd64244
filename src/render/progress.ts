/**
 * A live line for each wait: elapsed time, EKS's update status, aws-node pods updated and available out of
 * desired. On a terminal the line is redrawn every second; without one (CI logs) a line is printed on each
 * change and at least every 30 s, so a long wait never looks hung. The clock and timer are passed in.
 */

/** What a wait knows so far. */
export interface WaitState {
  eks?: string;
  pods?: { desired: number; updated: number; available: number };
}

/** One wait's line. */
export interface ProgressLine {
  /** Merges what is newly known and shows it. */
  update(state: WaitState): void;
  /** Ends the line (a terminal's line is cleared). */
  stop(): void;
}

/** Where and how a progress line is drawn. */
export interface ProgressOptions {
  mode: 'tty' | 'log' | 'off';
  write(text: string): void;
  now?: () => number;
  /** Calls `tick` every `ms` until the returned function is called. */
  every?: (ms: number, tick: () => void) => () => void;
  /** Without a terminal: the longest silence (default 30 s). */
  heartbeatMs?: number;
}

/** `75s` → `1m15s`. */
export function formatElapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** The text of a state, without the elapsed time. */
export function describeWait(state: WaitState): string {
  const parts: string[] = [];
  if (state.eks) parts.push(`EKS ${state.eks}`);
  if (state.pods) {
    const { desired, updated, available } = state.pods;
    parts.push(`pods ${updated}/${desired} updated, ${available}/${desired} available`);
  }
  return parts.join(', ');
}

const realEvery = (ms: number, tick: () => void): (() => void) => {
  const timer = setInterval(tick, ms);
  timer.unref();
  return () => clearInterval(timer);
};

/** Starts a progress line titled `title`. */
export function startProgress(title: string, options: ProgressOptions): ProgressLine {
  if (options.mode === 'off') return { update: () => undefined, stop: () => undefined };
  const now = options.now ?? Date.now;
  const every = options.every ?? realEvery;
  const heartbeat = options.heartbeatMs ?? 30_000;
  const started = now();
  let state: WaitState = {};
  let lastText: string | null = null;
  let lastPrinted = started;
  let stopped = false;

  const line = (): string => {
    const detail = describeWait(state);
    return `${title} (${formatElapsed(now() - started)}${detail ? `; ${detail}` : ''})`;
  };
  const draw = (): void => {
    if (options.mode === 'tty') {
      options.write(`\r\x1b[2K${line()}`);
      return;
    }
    const text = describeWait(state);
    // Nothing known yet: the caller's own line said what we wait for; speak up on the heartbeat only.
    if ((text !== lastText && text !== '') || now() - lastPrinted >= heartbeat) {
      options.write(`${line()}\n`);
      lastText = text;
      lastPrinted = now();
    }
  };
  const cancel = every(1000, () => {
    if (!stopped) draw();
  });
  draw();
  return {
    update(next) {
      if (stopped) return;
      state = { ...state, ...next };
      draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      cancel();
      if (options.mode === 'tty') options.write('\r\x1b[2K');
    },
  };
}
