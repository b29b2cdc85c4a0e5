// The real clock, randomness and console logging, wired in only here (DESIGN.md decision 7).
import { randomBytes, randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock, RandomSource } from '../base/clock.js';
import { type LogLevelName, type Logger, createLogger } from '../base/logger.js';

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  schedule(delayMs, callback) {
    const timer = setTimeout(callback, Math.min(delayMs, 2_147_483_647));
    timer.unref();
    return () => clearTimeout(timer);
  },
};

export const systemRandom: RandomSource = {
  nextInt: (bound) => randomInt(bound),
  bytes: (length) => randomBytes(length),
};

/** Log lines on stderr, with an ISO timestamp and level, as an operator reads them. */
export function consoleLogger(level: LogLevelName = 'info'): Logger {
  return createLogger((lineLevel, line) => {
    process.stderr.write(`${new Date().toISOString()} ${lineLevel.toUpperCase().padEnd(5)} ${line}\n`);
  }, level);
}

/**
 * Keeps the process alive until `work` settles: the system clock's timers are unref'd (a broker's
 * timers never hold a process open), so a shutdown that waits on one (a resignation heard, a
 * controlled shutdown acknowledged) needs this once the sockets are closed.
 */
export async function keepingProcessAlive<T>(work: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 60_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
