/**
 * The processors behind the DSL's operators, with Kafka Streams' record semantics: which records
 * are dropped (null keys before state, null values in aggregations), what timestamp an output
 * carries, and how KTable updates (Change: new and old value) flow.
 */
import type { Change, Processor, ProcessorContext, ProcessorSupplier, StreamRecord } from '../processor/api.js';
import type { TimestampedKeyValueStore, ValueAndTimestamp } from '../state/key-value-store.js';
import type { KeyValue } from './options.js';

type AnyRecord = StreamRecord<any, any>;

/** A processor that only transforms and forwards. */
function stateless(handle: (record: AnyRecord, context: ProcessorContext) => Promise<void> | void): ProcessorSupplier<any, any> {
  return () => {
    let context!: ProcessorContext;
    return {
      init: (ctx) => void (context = ctx),
      process: (record) => handle(record, context),
    };
  };
}

export const filterProcessor = (predicate: (key: any, value: any) => boolean, negate: boolean) =>
  stateless((r, ctx) => (predicate(r.key, r.value) !== negate ? ctx.forward(r) : undefined));

export const mapProcessor = (mapper: (key: any, value: any) => KeyValue<any, any>) =>
  stateless((r, ctx) => {
    const out = mapper(r.key, r.value);
    return ctx.forward({ ...r, key: out.key, value: out.value });
  });

export const mapValuesProcessor = (mapper: (value: any, key: any) => any) =>
  stateless((r, ctx) => ctx.forward({ ...r, value: mapper(r.value, r.key) }));

export const flatMapProcessor = (mapper: (key: any, value: any) => Iterable<KeyValue<any, any>>) =>
  stateless(async (r, ctx) => {
    for (const out of mapper(r.key, r.value)) await ctx.forward({ ...r, key: out.key, value: out.value });
  });

export const flatMapValuesProcessor = (mapper: (value: any, key: any) => Iterable<any>) =>
  stateless(async (r, ctx) => {
    for (const value of mapper(r.value, r.key)) await ctx.forward({ ...r, value });
  });

export const selectKeyProcessor = (selector: (key: any, value: any) => any) =>
  stateless((r, ctx) => ctx.forward({ ...r, key: selector(r.key, r.value) }));

export const peekProcessor = (action: (key: any, value: any) => void, forward: boolean) =>
  stateless((r, ctx) => {
    action(r.key, r.value);
    return forward ? ctx.forward(r) : undefined;
  });

export const passThroughProcessor = () => stateless((r, ctx) => ctx.forward(r));

/** split(): each record goes to the first branch whose predicate holds, else the default branch (if any). */
export const branchProcessor = (branches: { predicate: ((key: any, value: any) => boolean) | undefined; child: string }[]) =>
  stateless((r, ctx) => {
    for (const branch of branches) {
      if (!branch.predicate || branch.predicate(r.key, r.value)) return ctx.forward(r, branch.child);
    }
    return undefined;
  });

/** A mutable switch set while the topology is built: does this KTable node forward old values too? */
export interface OldValues {
  enabled: boolean;
}

function storeOf<V>(context: ProcessorContext, name: string): TimestampedKeyValueStore<any, V> {
  return context.getStateStore<TimestampedKeyValueStore<any, V>>(name);
}

/** A stateful processor: one timestamped store and the context. */
function withStore<V>(
  storeName: string,
  handle: (record: AnyRecord, store: TimestampedKeyValueStore<any, V>, context: ProcessorContext) => Promise<void>,
): ProcessorSupplier<any, any> {
  return () => {
    let context!: ProcessorContext;
    let store!: TimestampedKeyValueStore<any, V>;
    return {
      init(ctx) {
        context = ctx;
        store = storeOf<V>(ctx, storeName);
      },
      process: (record) => handle(record, store, context),
    };
  };
}

/** KGroupedStream aggregate (count and reduce are aggregates too): drops null keys and null values, as Kafka does. */
export const streamAggregateProcessor = <V, A>(
  storeName: string,
  initializer: () => A,
  aggregator: (key: any, value: V, aggregate: A) => A,
  oldValues: OldValues,
) =>
  withStore<A>(storeName, async (r, store, ctx) => {
    if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
    const old = await store.get(r.key);
    const timestamp = old === null ? r.timestamp : Math.max(r.timestamp, old.timestamp);
    const aggregate = aggregator(r.key, r.value, old === null ? initializer() : old.value);
    await store.put(r.key, { value: aggregate, timestamp });
    await ctx.forward({ ...r, timestamp, value: { newValue: aggregate, oldValue: oldValues.enabled ? (old?.value ?? null) : null } });
  });

export const streamReduceProcessor = <V>(storeName: string, reducer: (aggregate: V, value: V) => V, oldValues: OldValues) =>
  withStore<V>(storeName, async (r, store, ctx) => {
    if (r.key === null || r.key === undefined || r.value === null || r.value === undefined) return;
    const old = await store.get(r.key);
    const timestamp = old === null ? r.timestamp : Math.max(r.timestamp, old.timestamp);
    const aggregate = old === null ? r.value : reducer(old.value, r.value);
    await store.put(r.key, { value: aggregate, timestamp });
    await ctx.forward({ ...r, timestamp, value: { newValue: aggregate, oldValue: oldValues.enabled ? (old?.value ?? null) : null } });
  });

/**
 * KTABLE-SOURCE and KSTREAM-TOTABLE: each record is the key's new value (null deletes). With a
 * store, the old value comes from it; without, there is no old value to send.
 */
export const tableSourceProcessor = (storeName: () => string | undefined, oldValues: OldValues): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store: TimestampedKeyValueStore<any, unknown> | undefined;
  return {
    init(ctx) {
      context = ctx;
      const name = storeName();
      store = name ? storeOf(ctx, name) : undefined;
    },
    async process(r) {
      if (r.key === null || r.key === undefined) return;
      const value = r.value ?? null;
      if (!store) {
        await context.forward({ ...r, value: { newValue: value, oldValue: null } });
        return;
      }
      const old = await store.get(r.key);
      await store.put(r.key, value === null ? null : { value, timestamp: r.timestamp });
      await context.forward({ ...r, value: { newValue: value, oldValue: oldValues.enabled ? (old?.value ?? null) : null } });
    },
  };
};

/** A KTable operator's output, written to its store when it is materialized, then forwarded. */
async function emitTableChange(
  r: AnyRecord,
  change: Change<unknown>,
  store: TimestampedKeyValueStore<any, unknown> | undefined,
  oldValues: OldValues,
  context: ProcessorContext,
): Promise<void> {
  if (store) {
    const old = await store.get(r.key);
    await store.put(r.key, change.newValue === null ? null : { value: change.newValue, timestamp: r.timestamp });
    change = { newValue: change.newValue, oldValue: oldValues.enabled ? (old?.value ?? null) : null };
  }
  await context.forward({ ...r, value: change });
}

/** KTable filter and mapValues: a function of the value, applied to the new and (if asked) old values. */
export const tableTransformProcessor = (
  compute: (key: any, value: any) => any,
  storeName: string | undefined,
  oldValues: OldValues,
  /** filter: with old values sent, an update that is filtered out on both sides is not forwarded. */
  dropDoubleNull: boolean,
): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store: TimestampedKeyValueStore<any, unknown> | undefined;
  return {
    init(ctx) {
      context = ctx;
      store = storeName ? storeOf(ctx, storeName) : undefined;
    },
    async process(r) {
      const change = r.value as Change<unknown>;
      const newValue = change.newValue === null ? null : compute(r.key, change.newValue);
      const oldValue = oldValues.enabled && change.oldValue !== null ? compute(r.key, change.oldValue) : null;
      if (dropDoubleNull && oldValues.enabled && newValue === null && oldValue === null) return;
      await emitTableChange(r, { newValue, oldValue }, store, oldValues, context);
    },
  };
};

export const tableToStreamProcessor = (mapper: ((key: any, value: any) => any) | undefined) =>
  stateless((r, ctx) => {
    const newValue = (r.value as Change<unknown>).newValue;
    return ctx.forward({ ...r, key: mapper ? mapper(r.key, newValue) : r.key, value: newValue });
  });

/**
 * KTABLE-SELECT (KTable.groupBy): re-keys each update. A changed key sends the old value's
 * removal under the old pair's key and the new value under the new key, as separate records.
 */
export const tableSelectProcessor = (selector: (key: any, value: any) => KeyValue<any, any>) =>
  stateless(async (r, ctx) => {
    const change = r.value as Change<unknown>;
    const next = change.newValue === null ? null : selector(r.key, change.newValue);
    const previous = change.oldValue === null ? null : selector(r.key, change.oldValue);
    if (next && previous && next.key === previous.key) {
      await ctx.forward({ ...r, key: next.key, value: { newValue: next.value, oldValue: previous.value } });
      return;
    }
    if (previous && previous.key !== null) await ctx.forward({ ...r, key: previous.key, value: { newValue: null, oldValue: previous.value } });
    if (next && next.key !== null) await ctx.forward({ ...r, key: next.key, value: { newValue: next.value, oldValue: null } });
  });

/** KGroupedTable aggregate: subtract the old value, then add the new one (Kafka's order). */
export const tableAggregateProcessor = <V, A>(
  storeName: string,
  initializer: (() => A) | undefined,
  adder: (key: any, value: V, aggregate: A | null) => A,
  subtractor: (key: any, value: V, aggregate: A) => A | null,
  oldValues: OldValues,
) =>
  withStore<A>(storeName, async (r, store, ctx) => {
    if (r.key === null || r.key === undefined) return;
    const change = r.value as Change<V>;
    const old = await store.get(r.key);
    const oldAggregate: A | null = old?.value ?? null;
    let timestamp = r.timestamp;
    let intermediate: A | null = oldAggregate;
    if (change.oldValue !== null && oldAggregate !== null) {
      intermediate = subtractor(r.key, change.oldValue, oldAggregate);
      timestamp = Math.max(r.timestamp, old!.timestamp);
    }
    let aggregate: A | null = intermediate;
    if (change.newValue !== null) {
      const base = intermediate === null && initializer ? initializer() : intermediate;
      aggregate = adder(r.key, change.newValue, base);
      if (old) timestamp = Math.max(r.timestamp, old.timestamp);
    }
    await store.put(r.key, aggregate === null ? null : { value: aggregate, timestamp });
    await ctx.forward({ ...r, timestamp, value: { newValue: aggregate, oldValue: oldValues.enabled ? oldAggregate : null } });
  });

/** Reads a KTable's current value for a key: from its store, or computed through its parent's getter. */
export interface ValueGetter<V> {
  init(context: ProcessorContext): void;
  get(key: any): Promise<ValueAndTimestamp<V> | null>;
}

export interface ValueGetterSupplier<V> {
  /** The stores a processor using this getter must be connected to. */
  storeNames(): string[];
  get(): ValueGetter<V>;
}

export function storeGetter<V>(storeName: string): ValueGetterSupplier<V> {
  return {
    storeNames: () => [storeName],
    get() {
      let store!: TimestampedKeyValueStore<any, V>;
      return {
        init: (ctx) => void (store = storeOf<V>(ctx, storeName)),
        get: (key) => store.get(key),
      };
    },
  };
}

/** A getter for an unmaterialized filter or mapValues: the parent's value through the same function. */
export function computedGetter<V>(parent: ValueGetterSupplier<any>, compute: (key: any, value: any) => V | null): ValueGetterSupplier<V> {
  return {
    storeNames: () => parent.storeNames(),
    get() {
      const inner = parent.get();
      return {
        init: (ctx) => inner.init(ctx),
        async get(key) {
          const found = await inner.get(key);
          if (found === null) return null;
          const value = compute(key, found.value);
          return value === null ? null : { value, timestamp: found.timestamp };
        },
      };
    },
  };
}

/** Stream-table join (and stream-globalTable with a key mapper): looks the table up at the stream record's time. */
export const streamTableJoinProcessor = (
  getter: ValueGetterSupplier<any>,
  joiner: (value: any, tableValue: any, key: any) => any,
  left: boolean,
  keyMapper: ((key: any, value: any) => any) | undefined,
): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  const table = getter.get();
  return {
    init(ctx) {
      context = ctx;
      table.init(ctx);
    },
    async process(r) {
      // A null value cannot be joined; a null lookup key only joins in a left join (KIP-962).
      if (r.value === null || r.value === undefined) return;
      const lookupKey = keyMapper ? keyMapper(r.key, r.value) : r.key;
      const missingKey = lookupKey === null || lookupKey === undefined;
      if (missingKey && !left) return;
      const found = missingKey ? null : await table.get(lookupKey);
      if (found === null && !left) return;
      await context.forward({ ...r, value: joiner(r.value, found?.value ?? null, r.key) });
    },
  };
};

export type TableJoinKind = 'inner' | 'left' | 'right' | 'outer';

/**
 * One side of a table-table join: an update on this side is joined with the other side's current
 * value. `right` is the other side of a left join: it only emits when this side's partner exists.
 */
export const tableTableJoinProcessor = (
  kind: TableJoinKind,
  other: ValueGetterSupplier<any>,
  joiner: (value: any, otherValue: any) => any,
  oldValues: OldValues,
): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  const getter = other.get();
  return {
    init(ctx) {
      context = ctx;
      getter.init(ctx);
    },
    async process(r) {
      if (r.key === null || r.key === undefined) return;
      const change = r.value as Change<unknown>;
      const found = await getter.get(r.key);
      const otherValue = found?.value ?? null;
      let timestamp = r.timestamp;
      if (found === null) {
        if (kind === 'inner' || kind === 'right') return;
        if (change.newValue === null && change.oldValue === null) return;
      } else {
        timestamp = Math.max(r.timestamp, found.timestamp);
      }
      const join = (value: unknown): unknown => {
        if (kind === 'inner' || kind === 'left') return value === null ? null : joiner(value, otherValue);
        if (kind === 'right') return joiner(value, otherValue);
        return value === null && otherValue === null ? null : joiner(value, otherValue);
      };
      const newValue = join(change.newValue);
      const oldValue = oldValues.enabled ? join(change.oldValue) : null;
      await context.forward({ ...r, timestamp, value: { newValue, oldValue } });
    },
  };
};

/** KTABLE-MERGE: both join sides meet here; a materialized join result is written to its store. */
export const tableMergeProcessor = (storeName: string | undefined, oldValues: OldValues): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store: TimestampedKeyValueStore<any, unknown> | undefined;
  return {
    init(ctx) {
      context = ctx;
      store = storeName ? storeOf(ctx, storeName) : undefined;
    },
    process: (r) => emitTableChange(r, r.value as Change<unknown>, store, oldValues, context),
  };
};

/** A getter for an unmaterialized table-table join: both sides' values through the joiner. */
export function joinGetter(
  kind: 'inner' | 'left' | 'outer',
  left: ValueGetterSupplier<any>,
  right: ValueGetterSupplier<any>,
  joiner: (value: any, otherValue: any) => any,
): ValueGetterSupplier<any> {
  return {
    storeNames: () => [...left.storeNames(), ...right.storeNames()],
    get() {
      const l = left.get();
      const r = right.get();
      return {
        init(ctx) {
          l.init(ctx);
          r.init(ctx);
        },
        async get(key) {
          const a = await l.get(key);
          const b = await r.get(key);
          if (a === null && (kind !== 'outer' || b === null)) return null;
          if (b === null && kind === 'inner') return null;
          const timestamp = Math.max(a?.timestamp ?? 0, b?.timestamp ?? 0);
          return { value: joiner(a?.value ?? null, b?.value ?? null), timestamp };
        },
      };
    },
  };
}

export type { Processor };
