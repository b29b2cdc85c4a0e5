/**
 * Processors of windowed aggregations, suppression and stream-stream joins, with Kafka Streams'
 * rules for time: stream time is the largest timestamp the processor has seen; a window closes
 * when stream time passes its end plus the grace period, and a record for a closed window is
 * dropped; session windows merge when records of a key come less than the gap apart.
 */
import type { Change, ProcessorContext, ProcessorSupplier, StreamRecord } from '../processor/api.js';
import type { KeyValueStore, ValueAndTimestamp } from '../state/key-value-store.js';
import type { SessionStore, TimeWindow, WindowStore, Windowed } from '../state/window-store.js';
import type { OldValues } from './processors.js';
import type { JoinWindows, SlidingWindows, TimeWindows } from './windows.js';

type AnyRecord = StreamRecord<any, any>;

/** Windowed aggregate over TimeWindows (count and reduce are aggregates). */
export const windowAggregateProcessor = <V, A>(
  storeName: string,
  windows: TimeWindows,
  initializer: () => A,
  aggregator: (key: any, value: V, aggregate: A) => A,
  oldValues: OldValues,
  /** Reduce starts from the first value instead of an initializer. */
  reduce?: (aggregate: A, value: V) => A,
): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store!: WindowStore<any, ValueAndTimestamp<A>>;
  let observedStreamTime = Number.NEGATIVE_INFINITY;
  return {
    init(ctx) {
      context = ctx;
      store = ctx.getStateStore(storeName);
    },
    async process(r: AnyRecord) {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
      observedStreamTime = Math.max(observedStreamTime, r.timestamp);
      await store.observeStreamTime(observedStreamTime);
      const closeTime = observedStreamTime - windows.graceMs;
      for (const window of windows.windowsFor(r.timestamp)) {
        // A window whose end plus grace stream time has passed is closed: the record is too late for it.
        if (window.end <= closeTime) continue;
        const old = await store.fetch(r.key, window.start);
        const aggregate = reduce
          ? old === null ? (r.value as unknown as A) : reduce(old.value, r.value)
          : aggregator(r.key, r.value, old === null ? initializer() : old.value);
        const timestamp = old === null ? r.timestamp : Math.max(r.timestamp, old.timestamp);
        await store.put(r.key, { value: aggregate, timestamp }, window.start);
        const key: Windowed<any> = { key: r.key, window };
        await context.forward({ ...r, key, timestamp, value: { newValue: aggregate, oldValue: oldValues.enabled ? (old?.value ?? null) : null } });
      }
    },
  };
};

/**
 * Sliding windows, by Kafka's algorithm: a record updates the windows it falls in, creates its
 * own left window [ts - d, ts] (seeded from the window that ended just before it), the right
 * window of the previous record if it now holds this one, and, when it came out of order, its
 * own right window [ts + 1, ts + 1 + d] holding the later records. Records earlier than d share
 * one window from 0.
 */
export const slidingAggregateProcessor = <V, A>(
  storeName: string,
  windows: SlidingWindows,
  initializer: () => A,
  aggregator: (key: any, value: V, aggregate: A) => A,
  oldValues: OldValues,
): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store!: WindowStore<any, ValueAndTimestamp<A>>;
  let observedStreamTime = Number.NEGATIVE_INFINITY;
  const d = windows.timeDifferenceMs;

  const updateAndForward = async (r: AnyRecord, window: TimeWindow, current: ValueAndTimestamp<A>, closeTime: number) => {
    // A sliding window includes its end: it is closed only once stream time minus grace is past it.
    if (window.end < closeTime) return;
    const aggregate = aggregator(r.key, r.value, current.value);
    const timestamp = Math.max(r.timestamp, current.timestamp);
    await store.put(r.key, { value: aggregate, timestamp }, window.start);
    await context.forward({ ...r, key: { key: r.key, window }, timestamp, value: { newValue: aggregate, oldValue: oldValues.enabled ? current.value : null } });
  };

  const createRightWindow = async (r: AnyRecord, rightAgg: ValueAndTimestamp<A>) => {
    const window = { start: r.timestamp + 1, end: r.timestamp + 1 + d };
    await store.put(r.key, rightAgg, window.start);
    await context.forward({ ...r, key: { key: r.key, window }, timestamp: rightAgg.timestamp, value: { newValue: rightAgg.value, oldValue: null } });
  };

  const fetch = async (key: unknown, from: number, to: number) => {
    const found: { window: TimeWindow; value: ValueAndTimestamp<A> }[] = [];
    for await (const entry of store.fetchRange(key, from, to)) found.push({ window: { start: entry.windowStart, end: entry.windowStart + d }, value: entry.value });
    return found;
  };

  const processEarly = async (r: AnyRecord, closeTime: number) => {
    const ts = r.timestamp;
    let combined: { window: TimeWindow; value: ValueAndTimestamp<A> } | undefined;
    let rightAgg: ValueAndTimestamp<A> | undefined;
    let rightCreated = false;
    let previous: number | undefined;
    const starts = new Set<number>();
    for (const w of await fetch(r.key, 0, ts + 1)) {
      starts.add(w.window.start);
      if (w.window.start === 0) {
        combined = w;
        if (w.value.timestamp < ts) previous = w.value.timestamp;
      } else if (w.window.start <= ts) {
        rightAgg = w.value;
        await updateAndForward(r, w.window, w.value, closeTime);
      } else {
        rightCreated = true;
      }
    }
    if (!rightAgg && combined && combined.value.timestamp > ts) rightAgg = combined.value;
    if (!rightCreated && rightAgg && rightAgg.timestamp > ts) await createRightWindow(r, rightAgg);
    if (previous !== undefined && !starts.has(previous + 1)) {
      await updateAndForward(r, { start: previous + 1, end: previous + 1 + d }, { value: initializer(), timestamp: ts }, closeTime);
    }
    if (!combined) await updateAndForward(r, { start: 0, end: d }, { value: initializer(), timestamp: ts }, closeTime);
    else await updateAndForward(r, combined.window, combined.value, closeTime);
  };

  const processInOrder = async (r: AnyRecord, closeTime: number) => {
    const ts = r.timestamp;
    const starts = new Set<number>();
    let leftAgg: ValueAndTimestamp<A> | undefined;
    let rightAgg: ValueAndTimestamp<A> | undefined;
    let leftCreated = false;
    let rightCreated = false;
    let previous: number | undefined;
    for (const w of await fetch(r.key, Math.max(0, ts - 2 * d), ts + 1)) {
      starts.add(w.window.start);
      if (w.window.end < ts) {
        leftAgg = w.value;
        previous = w.value.timestamp;
      } else if (w.window.end === ts) {
        leftCreated = true;
        if (w.value.timestamp < ts) previous = w.value.timestamp;
        await updateAndForward(r, w.window, w.value, closeTime);
      } else if (w.window.start <= ts) {
        rightAgg = w.value;
        await updateAndForward(r, w.window, w.value, closeTime);
      } else {
        rightCreated = true;
      }
    }
    // The previous record's right window, now that it holds this record.
    if (previous !== undefined && !starts.has(previous + 1) && previous + 1 + d >= ts) {
      await updateAndForward(r, { start: previous + 1, end: previous + 1 + d }, { value: initializer(), timestamp: ts }, closeTime);
    }
    if (!leftCreated) {
      const seed = previous !== undefined && ts - d <= previous && leftAgg ? leftAgg.value : initializer();
      await updateAndForward(r, { start: ts - d, end: ts }, { value: seed, timestamp: ts }, closeTime);
    }
    if (!rightCreated && rightAgg && rightAgg.timestamp > ts) await createRightWindow(r, rightAgg);
  };

  return {
    init(ctx) {
      context = ctx;
      store = ctx.getStateStore(storeName);
    },
    async process(r: AnyRecord) {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
      observedStreamTime = Math.max(observedStreamTime, r.timestamp);
      await store.observeStreamTime(observedStreamTime);
      const closeTime = observedStreamTime - windows.graceMs;
      // Even the record's right window has closed: too late for every window.
      if (r.timestamp + 1 + d <= closeTime) return;
      if (r.timestamp < d) await processEarly(r, closeTime);
      else await processInOrder(r, closeTime);
    },
  };
};

/** Session windows: a record joins (and merges) the key's sessions within `gap` of it. */
export const sessionAggregateProcessor = <V, A>(
  storeName: string,
  gapMs: number,
  graceMs: number,
  initializer: () => A,
  aggregator: (key: any, value: V, aggregate: A) => A,
  merger: (key: any, left: A, right: A) => A,
  oldValues: OldValues,
): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store!: SessionStore<any, A>;
  let observedStreamTime = Number.NEGATIVE_INFINITY;
  return {
    init(ctx) {
      context = ctx;
      store = ctx.getStateStore(storeName);
    },
    async process(r: AnyRecord) {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
      observedStreamTime = Math.max(observedStreamTime, r.timestamp);
      await store.observeStreamTime(observedStreamTime);
      const closeTime = observedStreamTime - graceMs;
      let merged: TimeWindow = { start: r.timestamp, end: r.timestamp };
      let aggregate = initializer();
      const absorbed: { window: TimeWindow; value: A }[] = [];
      for await (const session of store.findSessions(r.key, r.timestamp - gapMs, r.timestamp + gapMs)) absorbed.push(session);
      for (const session of absorbed) {
        aggregate = merger(r.key, aggregate, session.value);
        merged = { start: Math.min(merged.start, session.window.start), end: Math.max(merged.end, session.window.end) };
      }
      if (merged.end < closeTime) return;
      for (const session of absorbed) {
        if (session.window.start === merged.start && session.window.end === merged.end) continue;
        await store.put(r.key, session.window, null);
        const key: Windowed<any> = { key: r.key, window: session.window };
        await context.forward({ ...r, key, timestamp: session.window.end, value: { newValue: null, oldValue: oldValues.enabled ? session.value : null } });
      }
      const previous = absorbed.find((s) => s.window.start === merged.start && s.window.end === merged.end);
      aggregate = aggregator(r.key, r.value, aggregate);
      await store.put(r.key, merged, aggregate);
      const key: Windowed<any> = { key: r.key, window: merged };
      await context.forward({ ...r, key, timestamp: merged.end, value: { newValue: aggregate, oldValue: oldValues.enabled ? (previous?.value ?? null) : null } });
    },
  };
};

/** What a suppression buffer keeps per key; kept in a logged store so a restarted task has it back. */
export interface BufferedRecord {
  readonly timestamp: number;
  /** When it may be emitted: the window end (final results) or its first update's time (time limit). */
  readonly bufferTime: number;
  /** The key's value before the first buffered update, and the latest. */
  readonly change: Change<unknown>;
  readonly sequence: number;
}

/**
 * KTable.suppress: holds each key's latest update until its time comes (stream time minus the
 * suppress duration reaches its buffer time), then forwards it once.
 */
export const suppressProcessor = (
  storeName: string,
  mode: 'untilWindowCloses' | 'untilTimeLimit',
  durationMs: () => number,
  maxRecords: number | undefined,
  whenFull: 'emitEarly' | 'shutDown',
): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store!: KeyValueStore<any, BufferedRecord>;
  const buffer = new Map<string, { key: unknown; record: BufferedRecord }>();
  let streamTime = Number.NEGATIVE_INFINITY;
  let sequence = 0;
  const id = (key: unknown) => JSON.stringify(key);

  const emit = async (entryId: string) => {
    const entry = buffer.get(entryId)!;
    buffer.delete(entryId);
    await store.delete(entry.key);
    await context.forward({ key: entry.key, value: entry.record.change, timestamp: entry.record.timestamp, headers: [] });
  };

  const evictDue = async () => {
    const due = [...buffer.entries()]
      .filter(([, e]) => e.record.bufferTime <= streamTime - durationMs())
      .sort(([, a], [, b]) => a.record.bufferTime - b.record.bufferTime || a.record.sequence - b.record.sequence);
    for (const [entryId] of due) await emit(entryId);
  };

  return {
    async init(ctx) {
      context = ctx;
      store = ctx.getStateStore(storeName);
      for await (const entry of store.all()) {
        buffer.set(id(entry.key), { key: entry.key, record: entry.value });
        sequence = Math.max(sequence, entry.value.sequence);
      }
    },
    async process(r: AnyRecord) {
      streamTime = Math.max(streamTime, r.timestamp);
      const change = r.value as Change<unknown>;
      const entryId = id(r.key);
      const previous = buffer.get(entryId)?.record;
      const bufferTime = previous?.bufferTime ?? (mode === 'untilWindowCloses' ? (r.key as Windowed<unknown>).window.end : r.timestamp);
      const record: BufferedRecord = {
        timestamp: r.timestamp,
        bufferTime,
        change: { newValue: change.newValue, oldValue: previous ? previous.change.oldValue : change.oldValue },
        sequence: previous?.sequence ?? ++sequence,
      };
      buffer.set(entryId, { key: r.key, record });
      await store.put(r.key, record);
      await evictDue();
      if (maxRecords !== undefined && buffer.size > maxRecords) {
        if (whenFull === 'shutDown') throw new Error(`suppression buffer ${storeName} is full (${maxRecords} records)`);
        const oldest = [...buffer.entries()].sort(([, a], [, b]) => a.record.bufferTime - b.record.bufferTime || a.record.sequence - b.record.sequence)[0]!;
        await emit(oldest[0]);
      }
    },
  };
};

/** KSTREAM-WINDOWED: keeps each record of one join side in that side's window store, then passes it on. */
export const joinWindowProcessor = (storeName: string): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store!: WindowStore<any, ValueAndTimestamp<unknown>>;
  return {
    init(ctx) {
      context = ctx;
      store = ctx.getStateStore(storeName);
    },
    async process(r: AnyRecord) {
      if (r.key !== null && r.key !== undefined && r.value !== null && r.value !== undefined) {
        await store.observeStreamTime(context.currentStreamTimeMs());
        await store.put(r.key, { value: r.value, timestamp: r.timestamp }, r.timestamp);
      }
      await context.forward(r);
    },
  };
};

/** An unmatched record of a left or outer stream-stream join, waiting for its window to close. */
export interface UnmatchedRecord {
  readonly side: 'left' | 'right';
  readonly key: unknown;
  readonly value: unknown;
  readonly timestamp: number;
}

/**
 * One side of a stream-stream join: stores this side's record in its window store, then joins it
 * with the other side's records of the same key within the join window. Left and outer joins
 * remember unmatched records and emit them joined with null once their window (plus grace) has
 * closed, as Kafka does since 3.1 (no early null results).
 */
export const streamStreamJoinProcessor = (options: {
  otherStore: string;
  /** The store of unmatched records both sides share (left and outer joins). */
  outerStore: string | undefined;
  windows: JoinWindows;
  /** This side is the left stream (before/after apply as given) or the right one (mirrored). */
  isLeftSide: boolean;
  /** Remember this side's unmatched records (left side of a left join, both sides of an outer one). */
  emitUnmatched: boolean;
  /** The user's joiner, always (leftValue, rightValue, key). */
  joiner: (leftValue: unknown, rightValue: unknown, key: unknown) => unknown;
}): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let otherStore!: WindowStore<any, ValueAndTimestamp<unknown>>;
  let outer: KeyValueStore<string, UnmatchedRecord> | undefined;
  let sequence = 0;
  const { windows, joiner } = options;
  const before = options.isLeftSide ? windows.beforeMs : windows.afterMs;
  const after = options.isLeftSide ? windows.afterMs : windows.beforeMs;
  const join = (thisValue: unknown, otherValue: unknown, key: unknown) =>
    options.isLeftSide ? joiner(thisValue, otherValue, key) : joiner(otherValue, thisValue, key);

  /** Emits the unmatched records (of both sides: the store is shared) whose window has closed, oldest first. */
  const emitExpired = async (streamTime: number) => {
    if (!outer) return;
    const expired: { id: string; record: UnmatchedRecord }[] = [];
    for await (const entry of outer.all()) {
      const closesAt = entry.value.timestamp + (entry.value.side === 'left' ? windows.afterMs : windows.beforeMs) + windows.graceMs;
      if (closesAt < streamTime) expired.push({ id: entry.key, record: entry.value });
    }
    for (const { id, record } of expired) {
      await outer.delete(id);
      const value = record.side === 'left' ? joiner(record.value, null, record.key) : joiner(null, record.value, record.key);
      await context.forward({ key: record.key, value, timestamp: record.timestamp, headers: [] });
    }
  };

  return {
    init(ctx) {
      context = ctx;
      otherStore = ctx.getStateStore(options.otherStore);
      outer = options.outerStore ? ctx.getStateStore(options.outerStore) : undefined;
    },
    async process(r: AnyRecord) {
      if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
      const streamTime = context.currentStreamTimeMs();
      await otherStore.observeStreamTime(streamTime);
      // Too late: every window this record could join in has closed (Kafka drops it).
      if (r.timestamp + after + windows.graceMs < streamTime) return;
      if (r.timestamp === streamTime) await emitExpired(streamTime);
      let matched = false;
      for await (const other of otherStore.fetchRange(r.key, r.timestamp - before, r.timestamp + after)) {
        matched = true;
        // The other side's record, if it was waiting unmatched, is matched now.
        if (outer) await deleteUnmatched(outer, options.isLeftSide ? 'right' : 'left', other.value.timestamp, r.key);
        await context.forward({ ...r, timestamp: Math.max(r.timestamp, other.value.timestamp), value: join(r.value, other.value.value, r.key) });
      }
      if (!matched && options.emitUnmatched && outer) {
        const side = options.isLeftSide ? 'left' : 'right';
        await outer.put(`${unmatchedPrefix(side, r.timestamp, r.key)}${String(++sequence).padStart(10, '0')}`, {
          side,
          key: r.key,
          value: r.value,
          timestamp: r.timestamp,
        });
      }
    },
  };
};

/** Unmatched records are keyed by side, time (zero-padded, so they sort by time), key and a sequence number. */
function unmatchedPrefix(side: string, timestamp: number, key: unknown): string {
  return `${String(timestamp).padStart(16, '0')}:${side}:${JSON.stringify(key)}:`;
}

async function deleteUnmatched(store: KeyValueStore<string, UnmatchedRecord>, side: string, timestamp: number, key: unknown): Promise<void> {
  const prefix = unmatchedPrefix(side, timestamp, key);
  const ids: string[] = [];
  for await (const entry of store.range(prefix, `${prefix}\uffff`)) ids.push(entry.key);
  for (const id of ids) await store.delete(id);
}
