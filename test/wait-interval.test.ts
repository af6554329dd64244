/** How late a wait notices the end of an operation: at most 2 % of the time waited, after a short start. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextInterval } from '../src/act/upgrade/wait.js';

/** The moment a poll first sees an operation that ends at `endMs` (polls at 0, then after each interval). */
function noticedAt(endMs: number): number {
  let t = 0;
  while (t < endMs) t += nextInterval(t);
  return t;
}

describe('nextInterval', () => {
  it('polls every 150 ms at first, then at 2 % of the time waited, at most every 10 s', () => {
    expect(nextInterval(0)).toBe(150);
    expect(nextInterval(5_000)).toBe(150);
    expect(nextInterval(60_000)).toBe(1_200);
    expect(nextInterval(3_600_000)).toBe(10_000);
  });

  it('notices an operation of 10 s to 8 min at most 2 % late, and a longer one at most 10 s late', () => {
    fc.assert(
      fc.property(fc.integer({ min: 10_000, max: 2 * 3_600_000 }), (endMs) => {
        const late = noticedAt(endMs) - endMs;
        expect(late).toBeLessThanOrEqual(Math.max(150, Math.min(10_000, Math.ceil(endMs * 0.0205))));
      }),
      { numRuns: 200 },
    );
  });

  it('costs a 20-minute update about 330 polls', () => {
    let polls = 0;
    for (let t = 0; t < 20 * 60_000; t += nextInterval(t)) polls += 1;
    expect(polls).toBeGreaterThan(250);
    expect(polls).toBeLessThan(400);
  });
});
