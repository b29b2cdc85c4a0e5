// Test doubles for log tests: a manual clock, a logger that records warnings, and a helper to
// open a log manager on a memory file system. Imported by tests only.
import type { Clock } from '../base/clock.js';
import type { FileSystem } from '../base/file-system.js';
import { createLogger, type Logger } from '../base/logger.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { defaultLogConfig, type LogConfig } from '../log/log-config.js';
import { LogManager, type LogManagerOptions } from '../log/log-manager.js';
import type { PartitionLog } from '../log/partition-log.js';
import { readLastOffset } from '../protocol/records/batch-header.js';

export class ManualClock implements Clock {
  #nowMs: number;
  #timers: { atMs: number; callback: () => void }[] = [];

  constructor(nowMs = 1_700_000_000_000) {
    this.#nowMs = nowMs;
  }

  nowMs(): number {
    return this.#nowMs;
  }

  monotonicMs(): number {
    return this.#nowMs;
  }

  schedule(delayMs: number, callback: () => void): () => void {
    const timer = { atMs: this.#nowMs + delayMs, callback };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((candidate) => candidate !== timer);
    };
  }

  /** Time passes without any timer firing (the process was stopped); the next advance fires them. */
  jump(ms: number): void {
    this.#nowMs += ms;
  }

  advance(ms: number): void {
    this.#nowMs += ms;
    const due = this.#timers.filter((timer) => timer.atMs <= this.#nowMs);
    this.#timers = this.#timers.filter((timer) => timer.atMs > this.#nowMs);
    for (const timer of due) timer.callback();
  }
}

export interface RecordingLogger {
  readonly logger: Logger;
  readonly lines: string[];
  warnings(): string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const logger = createLogger((level, line) => lines.push(`${level} ${line}`), 'debug');
  return { logger, lines, warnings: () => lines.filter((line) => line.startsWith('warn')) };
}

export interface TestLogManagerOptions {
  fs?: FileSystem;
  dataDir?: string;
  clock?: Clock;
  logger?: Logger;
  config?: Partial<LogConfig>;
  extra?: Partial<LogManagerOptions>;
}

export async function openTestLogManager(options: TestLogManagerOptions = {}): Promise<LogManager> {
  return LogManager.open({
    fs: options.fs ?? new MemoryFileSystem(),
    dataDir: options.dataDir ?? '/data',
    clock: options.clock ?? new ManualClock(),
    logger: options.logger ?? recordingLogger().logger,
    defaults: { ...defaultLogConfig, ...options.config },
    checkpointIntervalMs: Number.POSITIVE_INFINITY,
    ...options.extra,
  });
}

/** Waits until `condition` holds, polling the event loop, failing after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Every batch of the log from its start to its end, read through its read path, in offset order. */
export async function readBatches(log: PartitionLog): Promise<Buffer[]> {
  const batches: Buffer[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const { chunks } = await log.read(next, { maxBytes: 1 << 20, maxOffset: log.logEndOffset, minOneBatch: true });
    for (const chunk of chunks) {
      if (readLastOffset(chunk) < next) continue;
      batches.push(chunk);
      next = readLastOffset(chunk) + 1;
    }
  }
  return batches;
}
