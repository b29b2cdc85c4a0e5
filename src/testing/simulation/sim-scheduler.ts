// The simulation's clock: virtual time and one queue of timer events, ordered by (due time,
// insertion sequence) in a binary heap, so a run is a pure function of its seed. Each step pops the
// next event, moves virtual time to it, runs it, then drains the microtask queue before the next
// event, as a real event loop would finish a callback's promise continuations before its next timer.
//
// Rules for code running in a simulation: no real timers (setTimeout, setInterval, setImmediate)
// and no real I/O. Everything waits on this scheduler's timers or on promises that settle from
// them; the memory file system (src/base/memory-file-system.ts) settles with promises only, so it
// is drained with everything else. A real timer or socket would fire at an unrelated moment and
// the same seed would no longer give the same run.
import { assert } from '../../base/assert.js';
import type { Clock } from '../../base/clock.js';

/** Wall-clock time at virtual time 0 (2023-11-14), so timestamps look like real ones. */
export const SIMULATION_START_WALL_MS = 1_700_000_000_000;

export interface SimSchedulerOptions {
  /** nowMs() at virtual time 0; SIMULATION_START_WALL_MS by default. */
  startWallMs?: number;
}

interface ScheduledEvent {
  readonly atMs: number;
  readonly sequence: number;
  readonly callback: () => void;
  /** Position in the heap; -1 once popped or cancelled. */
  heapIndex: number;
}

/** Waits for one turn of the real event loop: every queued microtask (and nextTick) runs first. */
function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export class SimScheduler implements Clock {
  readonly #heap: ScheduledEvent[] = [];
  readonly #hooks: (() => void)[] = [];
  #virtualMs = 0;
  #wallOffsetMs: number;
  #nextSequence = 0;
  #eventsRun = 0;
  /** The first error a callback, hook or `fail` raised; a failed simulation stays failed. */
  #failure: { error: unknown } | undefined;

  constructor(options: SimSchedulerOptions = {}) {
    this.#wallOffsetMs = options.startWallMs ?? SIMULATION_START_WALL_MS;
  }

  /** Wall-clock time: the start time plus virtual time, plus every `jumpWallClock` so far. */
  nowMs(): number {
    return this.#wallOffsetMs + this.#virtualMs;
  }

  /** Virtual milliseconds since the scheduler was created; never jumps, never goes back. */
  monotonicMs(): number {
    return this.#virtualMs;
  }

  /** Runs `callback` `delayMs` virtual ms from now (a negative delay counts as 0); returns a cancel. */
  schedule(delayMs: number, callback: () => void): () => void {
    assert(Number.isFinite(delayMs), `delay must be finite, got ${delayMs}`);
    const event: ScheduledEvent = {
      atMs: this.#virtualMs + Math.max(0, delayMs),
      sequence: this.#nextSequence++,
      callback,
      heapIndex: this.#heap.length,
    };
    this.#heap.push(event);
    this.#siftUp(event.heapIndex);
    return () => this.#remove(event);
  }

  /** A clock-jump fault: shifts nowMs() by `deltaMs` (either way); monotonic time is untouched. */
  jumpWallClock(deltaMs: number): void {
    assert(Number.isFinite(deltaMs), `jump must be finite, got ${deltaMs}`);
    this.#wallOffsetMs += deltaMs;
  }

  /** A view of this clock for one node, whose timers can be cancelled together when it crashes. */
  clockFor(label: string): NodeClock {
    return new NodeClock(this, label);
  }

  /** Timers scheduled and neither run nor cancelled. */
  get pendingCount(): number {
    return this.#heap.length;
  }

  /** Events run so far. */
  get eventsRun(): number {
    return this.#eventsRun;
  }

  /** Virtual time of the next event, or undefined when none is pending. */
  get nextEventAtMs(): number | undefined {
    return this.#heap[0]?.atMs;
  }

  /**
   * Runs `hook` after every event, once the microtasks it started have drained (invariant
   * checkers); a throwing hook fails the run. Returns a function that removes the hook.
   */
  afterEachEvent(hook: () => void): () => void {
    this.#hooks.push(hook);
    return () => {
      const index = this.#hooks.indexOf(hook);
      if (index >= 0) this.#hooks.splice(index, 1);
    };
  }

  /**
   * Fails the run from code that cannot throw into an event (a promise continuation, a handler's
   * rejection): the current or next `step`, `runUntil` or `runFor` rejects with `error`.
   */
  fail(error: unknown): void {
    this.#failure ??= { error };
  }

  /** Lets every pending microtask run, without advancing virtual time; rejects if the run failed. */
  async drain(): Promise<void> {
    await drainMicrotasks();
    this.#throwIfFailed();
  }

  /**
   * Runs the next event, if any: advances virtual time to it, runs it, drains microtasks, runs the
   * hooks. Resolves with whether an event ran; rejects with the error if the event, a hook or
   * anything reported through `fail` threw.
   */
  async step(): Promise<boolean> {
    this.#throwIfFailed();
    const event = this.#heap[0];
    if (event === undefined) return false;
    this.#remove(event);
    this.#virtualMs = event.atMs;
    this.#eventsRun++;
    try {
      event.callback();
    } catch (error) {
      this.fail(error);
    }
    await drainMicrotasks();
    this.#throwIfFailed();
    for (const hook of [...this.#hooks]) {
      try {
        hook();
      } catch (error) {
        this.fail(error);
      }
      this.#throwIfFailed();
    }
    return true;
  }

  /**
   * Runs events until `predicate` holds (checked first, then after every event) or the next event
   * lies more than `limitMs` virtual ms ahead. Resolves with whether the predicate held; when it
   * did not, virtual time has advanced by `limitMs`.
   */
  async runUntil(predicate: () => boolean, limitMs: number): Promise<boolean> {
    assert(Number.isFinite(limitMs) && limitMs >= 0, `limit must be finite and non-negative, got ${limitMs}`);
    const deadlineMs = this.#virtualMs + limitMs;
    await this.drain();
    if (predicate()) return true;
    for (;;) {
      const next = this.#heap[0];
      if (next === undefined || next.atMs > deadlineMs) {
        this.#virtualMs = deadlineMs;
        return false;
      }
      await this.step();
      if (predicate()) return true;
    }
  }

  /** Runs every event due in the next `ms` virtual ms, then leaves virtual time at now + ms. */
  async runFor(ms: number): Promise<void> {
    await this.runUntil(() => false, ms);
  }

  #throwIfFailed(): void {
    if (this.#failure !== undefined) throw this.#failure.error;
  }

  #remove(event: ScheduledEvent): void {
    const index = event.heapIndex;
    if (index < 0) return;
    event.heapIndex = -1;
    const last = this.#heap.pop()!;
    if (last === event) return;
    this.#heap[index] = last;
    last.heapIndex = index;
    this.#siftUp(index);
    this.#siftDown(last.heapIndex);
  }

  #siftUp(start: number): void {
    const heap = this.#heap;
    let index = start;
    const event = heap[index]!;
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = heap[parentIndex]!;
      if (!before(event, parent)) break;
      heap[index] = parent;
      parent.heapIndex = index;
      index = parentIndex;
    }
    heap[index] = event;
    event.heapIndex = index;
  }

  #siftDown(start: number): void {
    const heap = this.#heap;
    let index = start;
    const event = heap[index]!;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, event)) break;
      heap[index] = heap[child]!;
      heap[index]!.heapIndex = index;
      index = child;
    }
    heap[index] = event;
    event.heapIndex = index;
  }
}

function before(a: ScheduledEvent, b: ScheduledEvent): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.sequence < b.sequence);
}

/**
 * One node's view of the scheduler: the same time, but it tracks the node's timers so that a
 * crash can cancel them all (`cancelAll`) and, once halted, ignores timers the dead node's
 * leftover promise continuations still try to arm.
 */
export class NodeClock implements Clock {
  readonly #scheduler: SimScheduler;
  readonly #cancels = new Set<() => void>();
  #halted = false;

  constructor(
    scheduler: SimScheduler,
    readonly label: string,
  ) {
    this.#scheduler = scheduler;
  }

  nowMs(): number {
    return this.#scheduler.nowMs();
  }

  monotonicMs(): number {
    return this.#scheduler.monotonicMs();
  }

  schedule(delayMs: number, callback: () => void): () => void {
    if (this.#halted) return () => {};
    const cancels = this.#cancels;
    const cancelEvent = this.#scheduler.schedule(delayMs, () => {
      cancels.delete(cancel);
      callback();
    });
    const cancel = (): void => {
      if (cancels.delete(cancel)) cancelEvent();
    };
    cancels.add(cancel);
    return cancel;
  }

  /** Cancels every pending timer of this node; the clock stays usable. */
  cancelAll(): void {
    for (const cancel of [...this.#cancels]) cancel();
  }

  /** Cancels every pending timer and ignores any scheduled later (the node's process died). */
  halt(): void {
    this.#halted = true;
    this.cancelAll();
  }

  get halted(): boolean {
    return this.#halted;
  }

  /** This node's timers not yet run or cancelled. */
  get pendingCount(): number {
    return this.#cancels.size;
  }
}
