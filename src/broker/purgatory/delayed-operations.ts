// Requests that wait (fetch long polls now, acks=all and group joins later) are delayed operations:
// each watches keys and is completed by an event on one of them, or by its own timeout, never by a
// polling timer (DESIGN.md decision 6).
import type { Clock } from '../../base/clock.js';

export abstract class DelayedOperation {
  private completed = false;
  private cancelTimer: (() => void) | undefined;
  private release: (() => void) | undefined;

  /** Whether the operation's condition holds now; checked on every event on a watched key. */
  abstract canComplete(): boolean;

  /** Runs exactly once: when the condition holds, on timeout, or when forced at shutdown. */
  protected abstract onComplete(): void;

  get isCompleted(): boolean {
    return this.completed;
  }

  /** Completes the operation unless it already completed; returns whether this call did it. */
  forceComplete(): boolean {
    if (this.completed) return false;
    this.completed = true;
    this.cancelTimer?.();
    this.release?.();
    this.cancelTimer = undefined;
    this.release = undefined;
    this.onComplete();
    return true;
  }

  /** Called by DelayedOperations when the operation is parked: `release` unwatches it. */
  park(clock: Clock, timeoutMs: number, release: () => void): void {
    this.release = release;
    this.cancelTimer = clock.schedule(timeoutMs, () => this.forceComplete());
  }
}

export class DelayedOperations<Operation extends DelayedOperation = DelayedOperation> {
  private readonly watchers = new Map<string, Set<Operation>>();
  private pending = 0;
  private shuttingDown = false;

  constructor(
    private readonly clock: Clock,
    /** Parked operations beyond this are completed at once, so waiting requests cannot grow without bound. */
    private readonly maxPending: number,
  ) {}

  /**
   * Completes `operation` now if it can, else parks it on `keys` until an event on one of them
   * lets it complete or `timeoutMs` passes.
   */
  tryCompleteElseWatch(operation: Operation, keys: readonly string[], timeoutMs: number): void {
    if (this.shuttingDown || operation.canComplete() || this.pending >= this.maxPending || timeoutMs <= 0) {
      operation.forceComplete();
      return;
    }
    this.pending++;
    for (const key of keys) {
      let set = this.watchers.get(key);
      if (!set) {
        set = new Set();
        this.watchers.set(key, set);
      }
      set.add(operation);
    }
    const release = () => {
      this.pending--;
      for (const key of keys) {
        const set = this.watchers.get(key);
        set?.delete(operation);
        if (set?.size === 0) this.watchers.delete(key);
      }
    };
    operation.park(this.clock, timeoutMs, release);
  }

  /** An event on `key`: completes every watching operation whose condition now holds. */
  checkAndComplete(key: string): void {
    const set = this.watchers.get(key);
    if (!set) return;
    for (const operation of [...set]) {
      if (!operation.isCompleted && operation.canComplete()) operation.forceComplete();
    }
  }

  /** Completes everything waiting and, from now on, every new operation at once: for shutdown. */
  shutdown(): void {
    this.shuttingDown = true;
    this.completeAll();
  }

  /** Completes everything still waiting. */
  completeAll(): void {
    const all = new Set<Operation>();
    for (const set of this.watchers.values()) for (const operation of set) all.add(operation);
    for (const operation of all) operation.forceComplete();
  }

  get size(): number {
    return this.pending;
  }
}
