// The bounded queue between a CDC task's reading loop and its poll(): the loop waits for room
// (so a slow Kafka slows the reading, and memory stays bounded), poll() waits for records up to
// its interval. Records that share one offset object (a row's delete, tombstone and create) are
// handed out together, so no offset is stored, nor transaction committed, between them: a restart
// from that offset cannot skip the rest of the row.
import type { SourceRecord } from '../../api/data.js';

export class ChangeQueue {
  private records: SourceRecord[] = [];
  private roomWaiters: (() => void)[] = [];
  private dataWaiter: (() => void) | null = null;

  constructor(private readonly capacity: number) {}

  get length(): number {
    return this.records.length;
  }

  /** Waits while the queue is full; resolves false when `stopping()` says to give up instead. */
  async waitForRoom(stopping: () => boolean): Promise<boolean> {
    while (this.records.length >= this.capacity && !stopping()) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
    }
    return !stopping();
  }

  push(record: SourceRecord): void {
    this.records.push(record);
    this.dataWaiter?.();
  }

  /** Up to `max` records (more to keep a row's records together), after waiting up to `waitMs` for one. */
  async take(max: number, waitMs: number): Promise<SourceRecord[]> {
    if (this.records.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.dataWaiter = null;
          resolve();
        }, waitMs);
        this.dataWaiter = () => {
          clearTimeout(timer);
          this.dataWaiter = null;
          resolve();
        };
      });
    }
    const taken = this.records.splice(0, max);
    while (taken.length > 0 && this.records.length > 0 && this.records[0]!.sourceOffset === taken.at(-1)!.sourceOffset) taken.push(this.records.shift()!);
    for (const waiter of this.roomWaiters.splice(0)) waiter();
    return taken;
  }

  /** Wakes a waiting take() and every writer waiting for room (on stop, or when the loop failed). */
  wake(): void {
    this.dataWaiter?.();
    for (const waiter of this.roomWaiters.splice(0)) waiter();
  }
}
