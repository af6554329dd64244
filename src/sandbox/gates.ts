/**
 * Gates: explicit switches a test (or a person) drives, in place of the sandbox's timers, so that no test
 * orders events by the wall clock. Every point where the sandbox would otherwise wait on a timer makes ONE
 * call here, `gate.after(ms, advance, label)`:
 *
 * - while the gate is open, `advance` runs after `ms` (the interactive defaults: updateDurationMs, ...), at
 *   once (synchronously) when `ms` is 0;
 * - while it is held, `advance` waits in the gate's queue (a change stays InProgress, a rollout stays
 *   partial, an outage goes on) until the test calls `step()` (the oldest waiting one advances) or
 *   `release()` (all advance and the gate opens). A timer that fires while the gate is held queues too, so
 *   holding at any moment freezes what is in flight.
 *
 * The gates of one sandbox (`sandbox.gates`, and over HTTP for `vpccni sandbox serve`:
 * `GET /_sandbox/gates`, `POST /_sandbox/gates/{name}/{hold|release|step}` on the EKS emulator; see
 * docs/sandbox-gates.md):
 * - `eks-change`: CreateAddon / UpdateAddon stay CREATING / InProgress; one passage finishes one change.
 * - `rollout`: a DaemonSet rollout; one passage is one step of it (the whole rollout while the Kubernetes
 *   emulator rolls out all at once, one pod when it goes pod by pod).
 * - `kube-outage`: the end of a Kubernetes API outage; while held the API refuses connections until
 *   released. `startKubeOutage()` on the sandbox (or `POST /_sandbox/gates/kube-outage/start`) begins one now.
 */

/** The names of the gates, as the control endpoint spells them. */
export const GATE_NAMES = ['eks-change', 'rollout', 'kube-outage'] as const;
export type GateName = (typeof GATE_NAMES)[number];

/** What a gate shows to a test: held or not, what waits in it, how many passed. */
export interface GateState {
  held: boolean;
  /** Labels of the passages waiting (held) or timing (open), oldest first. */
  pending: string[];
  /** How many passages went through (by step, release or timer). */
  passed: number;
}

interface Passage {
  label: string;
  advance: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** True once its timer fired (or it was queued while held): it waits only for the gate. */
  due: boolean;
}

/** One gate; see the file comment. */
export class Gate {
  private heldNow = false;
  private readonly passages: Passage[] = [];
  private passedCount = 0;
  private readonly watchers = new Set<() => void>();
  private closed = false;

  constructor(
    readonly name: GateName,
    held = false,
  ) {
    this.heldNow = held;
  }

  get held(): boolean {
    return this.heldNow;
  }

  /** The hook: runs `advance` after `ms` while open; while held, when stepped or released. */
  after(ms: number, advance: () => void, label: string = this.name): void {
    if (this.closed) return;
    const passage: Passage = { label, advance, timer: undefined, due: false };
    this.passages.push(passage);
    if (this.heldNow) passage.due = true;
    else if (ms <= 0) this.pass(passage); // open and due now: synchronously, as the timer-less code did
    else this.arm(passage, ms);
    this.changed();
  }

  /** From now on nothing passes until `step()` or `release()`; timers in flight wait when they fire. */
  hold(): void {
    this.heldNow = true;
    this.changed();
  }

  /** Opens the gate: everything waiting passes now (timers still running pass now as well). */
  release(): void {
    this.heldNow = false;
    while (this.passages.length > 0) this.pass(this.passages[0] as Passage);
    this.changed();
  }

  /** Lets the oldest waiting passage through; the gate stays held. Returns false when nothing waits. */
  step(): boolean {
    const next = this.passages[0];
    if (!next) return false;
    this.pass(next);
    this.changed();
    return true;
  }

  state(): GateState {
    return { held: this.heldNow, pending: this.passages.map((p) => p.label), passed: this.passedCount };
  }

  /** Resolves once `predicate` holds for the gate's state (checked now and after every change). */
  until(predicate: (state: GateState) => boolean): Promise<GateState> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const state = this.state();
        if (!predicate(state)) return false;
        this.watchers.delete(watcher);
        resolve(state);
        return true;
      };
      const watcher = (): void => void check();
      if (!check()) this.watchers.add(watcher);
    });
  }

  /** Resolves once at least `count` passages wait in the gate (e.g. the update is InProgress). */
  waitForPending(count = 1): Promise<GateState> {
    return this.until((s) => s.pending.length >= count);
  }

  /** Drops everything waiting without running it (the sandbox is closing). */
  close(): void {
    this.closed = true;
    for (const p of this.passages) if (p.timer) clearTimeout(p.timer);
    this.passages.length = 0;
    this.watchers.clear();
  }

  private arm(passage: Passage, ms: number): void {
    passage.timer = setTimeout(() => {
      passage.timer = undefined;
      passage.due = true;
      if (!this.heldNow) {
        this.pass(passage);
        this.changed();
      }
    }, ms);
    passage.timer.unref?.();
  }

  private pass(passage: Passage): void {
    const index = this.passages.indexOf(passage);
    if (index < 0) return;
    this.passages.splice(index, 1);
    if (passage.timer) clearTimeout(passage.timer);
    passage.timer = undefined;
    this.passedCount++;
    passage.advance();
  }

  private changed(): void {
    for (const watcher of [...this.watchers]) watcher();
  }
}

/** The gates of one sandbox. */
export class Gates {
  readonly eksChange: Gate;
  readonly rollout: Gate;
  readonly kubeOutage: Gate;
  /** Set by the sandbox: begins a Kubernetes API outage now (it ends when the kube-outage gate lets it). */
  startKubeOutage: () => void = () => undefined;

  constructor(held: Partial<Record<GateName, boolean>> = {}) {
    this.eksChange = new Gate('eks-change', held['eks-change'] ?? false);
    this.rollout = new Gate('rollout', held.rollout ?? false);
    this.kubeOutage = new Gate('kube-outage', held['kube-outage'] ?? false);
  }

  get(name: string): Gate | undefined {
    switch (name) {
      case 'eks-change':
        return this.eksChange;
      case 'rollout':
        return this.rollout;
      case 'kube-outage':
        return this.kubeOutage;
      default:
        return undefined;
    }
  }

  state(): Record<GateName, GateState> {
    return { 'eks-change': this.eksChange.state(), rollout: this.rollout.state(), 'kube-outage': this.kubeOutage.state() };
  }

  close(): void {
    this.eksChange.close();
    this.rollout.close();
    this.kubeOutage.close();
  }

  /**
   * The control endpoint, not part of any AWS API: `GET /_sandbox/gates` and
   * `POST /_sandbox/gates/{name}/{hold|release|step|start}`. Returns null for other paths; otherwise the
   * HTTP status and the JSON body (the gates' state after the action).
   */
  control(method: string, pathname: string): { status: number; body: unknown } | null {
    if (!pathname.startsWith('/_sandbox/gates')) return null;
    if (method === 'GET' && (pathname === '/_sandbox/gates' || pathname === '/_sandbox/gates/')) {
      return { status: 200, body: { gates: this.state() } };
    }
    const match = /^\/_sandbox\/gates\/([^/]+)(?:\/([^/]+))?$/.exec(pathname);
    const gate = match ? this.get(decodeURIComponent(match[1] ?? '')) : undefined;
    if (!match || !gate) {
      return { status: 404, body: { message: `No gate at ${pathname}; the gates are ${GATE_NAMES.join(', ')}.` } };
    }
    if (method === 'GET' && !match[2]) return { status: 200, body: { gate: gate.name, ...gate.state() } };
    if (method !== 'POST') return { status: 405, body: { message: `Use POST ${pathname}.` } };
    switch (match[2]) {
      case 'hold':
        gate.hold();
        break;
      case 'release':
        gate.release();
        break;
      case 'step':
        gate.step();
        break;
      case 'start':
        if (gate !== this.kubeOutage) return { status: 400, body: { message: 'Only the kube-outage gate can be started.' } };
        this.startKubeOutage();
        break;
      default:
        return { status: 404, body: { message: `Unknown gate action "${match[2] ?? ''}"; use hold, release or step.` } };
    }
    return { status: 200, body: { gate: gate.name, ...gate.state() } };
  }
}
