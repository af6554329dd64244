/** The live line of a wait, on a driven clock: redrawn on a terminal, a line per change or 30 s in a log. */
import { describe, expect, it } from 'vitest';
import { describeWait, formatElapsed, startProgress } from '../src/render/progress.js';

/** A clock and an interval the test moves by hand. */
function drivenClock() {
  let now = 0;
  const ticks: Array<{ every: number; next: number; tick: () => void; live: boolean }> = [];
  return {
    now: () => now,
    every: (ms: number, tick: () => void) => {
      const t = { every: ms, next: now + ms, tick, live: true };
      ticks.push(t);
      return () => {
        t.live = false;
      };
    },
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = ticks.filter((t) => t.live && t.next <= end).sort((a, b) => a.next - b.next)[0];
        if (!due) break;
        now = due.next;
        due.next += due.every;
        due.tick();
      }
      now = end;
    },
  };
}

describe('without a terminal', () => {
  it('prints a line on each change and at least every 30 s, never more', () => {
    const clock = drivenClock();
    const lines: string[] = [];
    const line = startProgress('Waiting for EKS', { mode: 'log', write: (t) => lines.push(t), now: clock.now, every: clock.every });
    expect(lines).toEqual([]);
    line.update({ eks: 'update InProgress' });
    expect(lines).toEqual(['Waiting for EKS (0s; EKS update InProgress)\n']);
    clock.advance(29_000);
    line.update({ eks: 'update InProgress' });
    expect(lines).toHaveLength(1);
    clock.advance(1_000);
    expect(lines.at(-1)).toBe('Waiting for EKS (30s; EKS update InProgress)\n');
    clock.advance(60_000);
    expect(lines).toHaveLength(4);
    expect(lines.at(-1)).toBe('Waiting for EKS (1m30s; EKS update InProgress)\n');
    line.update({ pods: { desired: 3, updated: 1, available: 2 } });
    expect(lines.at(-1)).toBe('Waiting for EKS (1m30s; EKS update InProgress, pods 1/3 updated, 2/3 available)\n');
    line.stop();
    clock.advance(120_000);
    expect(lines).toHaveLength(5);
  });
});

describe('on a terminal', () => {
  it('redraws one line every second with the elapsed time, and clears it at the end', () => {
    const clock = drivenClock();
    const out: string[] = [];
    const line = startProgress('Waiting for the aws-node rollout', { mode: 'tty', write: (t) => out.push(t), now: clock.now, every: clock.every });
    line.update({ pods: { desired: 3, updated: 0, available: 3 } });
    clock.advance(3_000);
    expect(out.at(-1)).toBe('\r\x1b[2KWaiting for the aws-node rollout (3s; pods 0/3 updated, 3/3 available)');
    expect(out.every((t) => !t.includes('\n'))).toBe(true);
    line.stop();
    expect(out.at(-1)).toBe('\r\x1b[2K');
  });
});

describe('with --quiet', () => {
  it('prints nothing', () => {
    const out: string[] = [];
    const line = startProgress('x', { mode: 'off', write: (t) => out.push(t) });
    line.update({ eks: 'update InProgress' });
    line.stop();
    expect(out).toEqual([]);
  });
});

describe('formatting', () => {
  it.each([
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m00s'],
    [754_000, '12m34s'],
  ])('%i ms is %s', (ms, text) => expect(formatElapsed(ms)).toBe(text));

  it('says what is known', () => {
    expect(describeWait({})).toBe('');
    expect(describeWait({ eks: 'add-on CREATING' })).toBe('EKS add-on CREATING');
  });
});
