/** Waiting with a short first interval and backoff, a deadline, and Ctrl-C. */
import { InterruptedError, UsageError } from '../../errors.js';

/** Parses `20m`, `90s`, `1h`, `1500ms` or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new UsageError(`--timeout "${text}" is not a duration; use e.g. 90s, 20m or 1h.`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  const ms = Number(match[1]) * unit;
  if (ms < 1000 || ms > 24 * 3_600_000) throw new UsageError(`--timeout must be between 1s and 24h, not "${text}".`);
  return ms;
}

/** Sleeps, waking early (with InterruptedError) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The next polling interval: short at first, then a fixed share of the time already waited, never more than
 * `maxMs`. Noticing the end of an operation late costs at most that share of its time (1 % on average with
 * 2 %): EKS updates take minutes, so the share, not start-up, decides how far an upgrade runs over the sum
 * of its updates (bench/kube-client.js). 2 % polls about 330 times in a 20-minute update, one call every 3.6 s.
 */
export function nextInterval(waitedMs: number, firstMs = 150, maxMs = 10_000, share = 0.02): number {
  return Math.min(maxMs, Math.max(firstMs, Math.round(waitedMs * share)));
}

/**
 * Polls `probe` until it returns a value other than undefined, or the deadline passes (then returns
 * undefined). Throws InterruptedError on abort.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined>,
  options: { deadline: number; signal?: AbortSignal; firstMs?: number; maxMs?: number },
): Promise<T | undefined> {
  const started = Date.now();
  for (;;) {
    if (options.signal?.aborted) throw new InterruptedError();
    const value = await probe();
    if (value !== undefined) return value;
    const wait = nextInterval(Date.now() - started, options.firstMs, options.maxMs);
    if (Date.now() + wait > options.deadline) return undefined;
    await sleep(wait, options.signal);
  }
}
