/**
 * Window definitions (tumbling and hopping TimeWindows, SessionWindows, JoinWindows), the serdes
 * of windowed keys in Kafka's layouts, and Suppressed (final results once a window closes). Times
 * are milliseconds of event time; a window is [start, end), end exclusive, as in Kafka.
 */
import type { DefaultSerdes, Serde, SerdeWithDefaults } from '../serdes.js';
import type { TimeWindow, Windowed } from '../state/window-store.js';

export type { TimeWindow, Windowed };

function checkDuration(what: string, ms: number, min: number): void {
  if (!Number.isFinite(ms) || !Number.isInteger(ms) || ms < min) throw new RangeError(`${what} must be an integer >= ${min} ms, not ${ms}`);
}

/** Fixed-size windows: tumbling (advance = size) or hopping (advance < size). */
export class TimeWindows {
  private constructor(
    readonly sizeMs: number,
    readonly advanceMs: number,
    readonly graceMs: number,
  ) {}

  static ofSizeWithNoGrace(sizeMs: number): TimeWindows {
    return TimeWindows.ofSizeAndGrace(sizeMs, 0);
  }

  /** Records up to `graceMs` late (behind stream time) still update their windows. */
  static ofSizeAndGrace(sizeMs: number, graceMs: number): TimeWindows {
    checkDuration('window size', sizeMs, 1);
    checkDuration('grace period', graceMs, 0);
    return new TimeWindows(sizeMs, sizeMs, graceMs);
  }

  advanceBy(advanceMs: number): TimeWindows {
    checkDuration('advance', advanceMs, 1);
    if (advanceMs > this.sizeMs) throw new RangeError(`advance (${advanceMs} ms) may not exceed the window size (${this.sizeMs} ms)`);
    return new TimeWindows(this.sizeMs, advanceMs, this.graceMs);
  }

  /** The windows a timestamp falls in, oldest first (Kafka's TimeWindows.windowsFor). */
  windowsFor(timestamp: number): TimeWindow[] {
    const out: TimeWindow[] = [];
    let start = Math.floor(Math.max(0, timestamp - this.sizeMs + this.advanceMs) / this.advanceMs) * this.advanceMs;
    for (; start <= timestamp; start += this.advanceMs) out.push({ start, end: start + this.sizeMs });
    return out;
  }
}

/**
 * Sliding windows: every distinct set of records of a key no more than `timeDifferenceMs` apart,
 * as [start, start + timeDifference] with both ends inclusive; a window exists only while it
 * holds records (one is created when a record enters or leaves a window).
 */
export class SlidingWindows {
  private constructor(
    readonly timeDifferenceMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceWithNoGrace(timeDifferenceMs: number): SlidingWindows {
    return SlidingWindows.ofTimeDifferenceAndGrace(timeDifferenceMs, 0);
  }

  static ofTimeDifferenceAndGrace(timeDifferenceMs: number, graceMs: number): SlidingWindows {
    checkDuration('time difference', timeDifferenceMs, 1);
    checkDuration('grace period', graceMs, 0);
    return new SlidingWindows(timeDifferenceMs, graceMs);
  }
}

/** Windows that grow while records of a key come less than `gap` apart. */
export class SessionWindows {
  private constructor(
    readonly inactivityGapMs: number,
    readonly graceMs: number,
  ) {}

  static ofInactivityGapWithNoGrace(gapMs: number): SessionWindows {
    return SessionWindows.ofInactivityGapAndGrace(gapMs, 0);
  }

  static ofInactivityGapAndGrace(gapMs: number, graceMs: number): SessionWindows {
    checkDuration('inactivity gap', gapMs, 1);
    checkDuration('grace period', graceMs, 0);
    return new SessionWindows(gapMs, graceMs);
  }
}

/** How far apart two records of a stream-stream join may be: other.ts in [ts - before, ts + after]. */
export class JoinWindows {
  private constructor(
    readonly beforeMs: number,
    readonly afterMs: number,
    readonly graceMs: number,
  ) {}

  static ofTimeDifferenceWithNoGrace(differenceMs: number): JoinWindows {
    return JoinWindows.ofTimeDifferenceAndGrace(differenceMs, 0);
  }

  static ofTimeDifferenceAndGrace(differenceMs: number, graceMs: number): JoinWindows {
    checkDuration('time difference', differenceMs, 0);
    checkDuration('grace period', graceMs, 0);
    return new JoinWindows(differenceMs, differenceMs, graceMs);
  }

  before(ms: number): JoinWindows {
    return new JoinWindows(ms, this.afterMs, this.graceMs);
  }

  after(ms: number): JoinWindows {
    return new JoinWindows(this.beforeMs, ms, this.graceMs);
  }

  get sizeMs(): number {
    return this.beforeMs + this.afterMs;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function long(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(value));
  return out;
}

function readLong(bytes: Uint8Array, offset: number): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigInt64(offset));
}

/**
 * Kafka's windowed key layouts: time windows `[key][start]` (the end is start + size, which the
 * reader must know), session windows `[key][end][start]`.
 */
function windowedSerdeOf<K>(inner: Serde<K>, kind: 'time' | 'session', windowSizeMs: number | undefined): Serde<Windowed<K>> {
  const suffix = kind === 'time' ? 8 : 16;
  return {
    serialize(topic, windowed) {
      if (windowed === null) return null;
      const key = inner.serialize(topic, windowed.key) ?? new Uint8Array(0);
      return kind === 'time'
        ? concat(key, long(windowed.window.start))
        : concat(concat(key, long(windowed.window.end)), long(windowed.window.start));
    },
    deserialize(topic, bytes) {
      if (bytes === null) return null;
      const key = inner.deserialize(topic, bytes.subarray(0, bytes.length - suffix)) as K;
      if (kind === 'session') {
        return { key, window: { start: readLong(bytes, bytes.length - 8), end: readLong(bytes, bytes.length - 16) } };
      }
      const start = readLong(bytes, bytes.length - 8);
      return { key, window: { start, end: windowSizeMs === undefined ? Number.MAX_SAFE_INTEGER : start + windowSizeMs } };
    },
  };
}

/** A windowed serde whose inner serde may be the app's default key serde. */
export function windowedSerde<K>(inner: Serde<K> | undefined, kind: 'time' | 'session', windowSizeMs?: number): SerdeWithDefaults<Windowed<K>> {
  const resolved = inner ? windowedSerdeOf(inner, kind, windowSizeMs) : undefined;
  const unresolved = (): never => {
    throw new Error('windowed serde used before the default key serde was given');
  };
  return {
    serialize: (topic, value) => (resolved ? resolved.serialize(topic, value) : unresolved()),
    deserialize: (topic, bytes) => (resolved ? resolved.deserialize(topic, bytes) : unresolved()),
    withDefaults: (defaults: DefaultSerdes) => {
      const serde = inner ?? (defaults.key as Serde<K> | undefined);
      if (!serde) throw new Error('no key serde given and no default: pass one to the operator or set default.key.serde');
      return windowedSerdeOf(serde, kind, windowSizeMs);
    },
  };
}

/** Kafka's WindowedSerdes: read windowed keys from an output topic. */
export const WindowedSerdes = {
  timeWindowedSerdeFrom<K>(inner: Serde<K>, windowSizeMs: number): Serde<Windowed<K>> {
    return windowedSerdeOf(inner, 'time', windowSizeMs);
  },
  sessionWindowedSerdeFrom<K>(inner: Serde<K>): Serde<Windowed<K>> {
    return windowedSerdeOf(inner, 'session', undefined);
  },
};

export interface BufferConfig {
  /** Records kept at most (by key); unbounded when absent. */
  readonly maxRecords: number | undefined;
  /** What to do when full: emit the oldest early, or stop the app (never emit early, for final results). */
  readonly whenFull: 'emitEarly' | 'shutDown';
}

export const BufferConfig = {
  unbounded: (): BufferConfig => ({ maxRecords: undefined, whenFull: 'shutDown' }),
  maxRecords: (n: number, whenFull: 'emitEarly' | 'shutDown' = 'emitEarly'): BufferConfig => ({ maxRecords: n, whenFull }),
};

export class Suppressed {
  private constructor(
    readonly mode: 'untilWindowCloses' | 'untilTimeLimit',
    readonly timeLimitMs: number,
    readonly buffer: BufferConfig,
    readonly name: string | undefined,
  ) {}

  /** One final result per window, once stream time passes the window's end plus its grace. */
  static untilWindowCloses(buffer: BufferConfig = BufferConfig.unbounded()): Suppressed {
    return new Suppressed('untilWindowCloses', 0, { ...buffer, whenFull: 'shutDown' }, undefined);
  }

  /** The latest update of a key, once `timeLimitMs` of stream time passed since the key's first buffered update. */
  static untilTimeLimit(timeLimitMs: number, buffer: BufferConfig = BufferConfig.unbounded()): Suppressed {
    checkDuration('time limit', timeLimitMs, 0);
    return new Suppressed('untilTimeLimit', timeLimitMs, buffer, undefined);
  }

  withName(name: string): Suppressed {
    return new Suppressed(this.mode, this.timeLimitMs, this.buffer, name);
  }
}
