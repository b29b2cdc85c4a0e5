/**
 * Foreign-key table join (Kafka's KIP-213): each left row names a right row by a key extracted
 * from its value. The left side sends a subscription (left key, hash of its value) to the right
 * side through a topic partitioned by the foreign key; the right side keeps subscriptions in a
 * store and answers, now and whenever the right row changes, through a topic partitioned by the
 * left key; the left side joins an answer only if the hash still matches its current value (so a
 * late answer for an older value is dropped).
 */
import { createHash } from 'node:crypto';
import type { Change, ProcessorContext, ProcessorSupplier, StreamRecord } from '../processor/api.js';
import type { DefaultSerdes, Serde, SerdeWithDefaults } from '../serdes.js';
import type { KeyValueStore } from '../state/key-value-store.js';
import type { ValueGetterSupplier } from './processors.js';

/**
 * Kafka's subscription instructions: answer (with null when the foreign row is missing), answer
 * only if the foreign row exists (a new row of an inner join: no tombstone for a row never
 * joined), unsubscribe, unsubscribe and answer null (the row is gone).
 */
export type Instruction = 'propagate' | 'propagateIfAvailable' | 'delete' | 'deleteAndPropagate';

export interface Subscription {
  readonly instruction: Instruction;
  readonly leftKey: unknown;
  /** Hash of the left value the subscription was made for; null for a deleted row. */
  readonly hash: string | null;
}

export interface SubscriptionResponse {
  readonly rightValue: unknown;
  readonly hash: string | null;
}

/** What the right side stores per (foreign key, left key). */
export interface StoredSubscription {
  readonly foreignKey: unknown;
  readonly leftKey: unknown;
  readonly hash: string | null;
}

/** JSON that also carries bigints and bytes, so any DSL value can be hashed the same way every time. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
    return v;
  });
}

export function valueHash(value: unknown): string | null {
  return value === null || value === undefined ? null : createHash('md5').update(stableJson(value)).digest('hex');
}

function subscriptionId(foreignKey: unknown, leftKey: unknown): string {
  return `${foreignKeyPrefix(foreignKey)}${stableJson(leftKey)}`;
}

function foreignKeyPrefix(foreignKey: unknown): string {
  return `${stableJson(foreignKey)}\u0000`;
}

/** Left side: a row's (new, old) foreign keys become subscriptions and unsubscriptions. */
export const registrationProcessor = (extractor: (value: any) => unknown, leftJoin: boolean): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  return {
    init: (ctx) => void (context = ctx),
    async process(r: StreamRecord<any, any>) {
      if (r.key === null || r.key === undefined) return;
      const change = r.value as Change<unknown>;
      const newFk = change.newValue === null ? null : (extractor(change.newValue) ?? null);
      const oldFk = change.oldValue === null ? null : (extractor(change.oldValue) ?? null);
      const send = (fk: unknown, instruction: Instruction, hash: string | null) =>
        context.forward({ ...r, key: fk, value: { instruction, leftKey: r.key, hash } satisfies Subscription });
      if (newFk === null) {
        // The row is gone (or names nothing): unsubscribe, and let the answer clear the join result.
        if (oldFk !== null) await send(oldFk, 'deleteAndPropagate', null);
        return;
      }
      if (oldFk !== null && stableJson(oldFk) !== stableJson(newFk)) await send(oldFk, 'delete', null);
      const fresh = change.oldValue === null && !leftJoin;
      await send(newFk, fresh ? 'propagateIfAvailable' : 'propagate', valueHash(change.newValue));
    },
  };
};

/** Right side: stores subscriptions and answers each with the right row's current value. */
export const subscriptionProcessor = (storeName: string, right: ValueGetterSupplier<any>): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store!: KeyValueStore<string, StoredSubscription>;
  const getter = right.get();
  return {
    init(ctx) {
      context = ctx;
      store = ctx.getStateStore(storeName);
      getter.init(ctx);
    },
    async process(r: StreamRecord<any, any>) {
      const subscription = r.value as Subscription;
      const id = subscriptionId(r.key, subscription.leftKey);
      if (subscription.instruction === 'delete' || subscription.instruction === 'deleteAndPropagate') {
        await store.delete(id);
        if (subscription.instruction === 'delete') return;
        await context.forward({ ...r, key: subscription.leftKey, value: { rightValue: null, hash: null } satisfies SubscriptionResponse });
        return;
      }
      await store.put(id, { foreignKey: r.key, leftKey: subscription.leftKey, hash: subscription.hash });
      const found = await getter.get(r.key);
      if (found === null && subscription.instruction === 'propagateIfAvailable') return;
      await context.forward({ ...r, key: subscription.leftKey, value: { rightValue: found?.value ?? null, hash: subscription.hash } });
    },
  };
};

/** Right side: a right row's change is sent to every left row subscribed to it. */
export const foreignTableProcessor = (storeName: string): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  let store!: KeyValueStore<string, StoredSubscription>;
  return {
    init(ctx) {
      context = ctx;
      store = ctx.getStateStore(storeName);
    },
    async process(r: StreamRecord<any, any>) {
      if (r.key === null || r.key === undefined) return;
      const change = r.value as Change<unknown>;
      const prefix = foreignKeyPrefix(r.key);
      const subscribers: StoredSubscription[] = [];
      // '\u0001' sorts right after the '\u0000' that ends the prefix: the range is exactly this foreign key's.
      for await (const entry of store.range(prefix, `${prefix.slice(0, -1)}\u0001`)) subscribers.push(entry.value);
      for (const s of subscribers) {
        await context.forward({ ...r, key: s.leftKey, value: { rightValue: change.newValue, hash: s.hash } satisfies SubscriptionResponse });
      }
    },
  };
};

/** Left side: joins an answer with the row's current value, if it is still the value subscribed with. */
export const responseResolverProcessor = (
  left: ValueGetterSupplier<any>,
  joiner: (leftValue: any, rightValue: any) => unknown,
  leftJoin: boolean,
): ProcessorSupplier<any, any> => () => {
  let context!: ProcessorContext;
  const getter = left.get();
  return {
    init(ctx) {
      context = ctx;
      getter.init(ctx);
    },
    async process(r: StreamRecord<any, any>) {
      const response = r.value as SubscriptionResponse;
      const current = await getter.get(r.key);
      const currentValue = current?.value ?? null;
      // An answer to an older value of the row (it changed since): a newer answer will come.
      if (valueHash(currentValue) !== response.hash) return;
      let joined: unknown = null;
      if (currentValue !== null) {
        if (response.rightValue !== null) joined = joiner(currentValue, response.rightValue);
        else if (leftJoin) joined = joiner(currentValue, null);
      }
      await context.forward({ ...r, value: { newValue: joined, oldValue: null } satisfies Change<unknown> });
    },
  };
};

function base64(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes).toString('base64');
}

function fromBase64(text: string | null): Uint8Array | null {
  return text === null ? null : Uint8Array.from(Buffer.from(text, 'base64'));
}

function resolve<T>(serde: Serde<T> | undefined, defaults: DefaultSerdes, which: 'key' | 'value'): Serde<T> {
  const resolved = serde && 'withDefaults' in serde ? (serde as SerdeWithDefaults<T>).withDefaults(defaults) : serde;
  const found = resolved ?? (defaults[which] as Serde<T> | undefined);
  if (!found) throw new Error(`no ${which} serde given and no default: pass one to the operator or set default.${which}.serde`);
  return found;
}

/** A JSON envelope whose typed fields go through the app's serdes (base64 inside). */
function envelope<T>(encode: (defaults: DefaultSerdes) => { to: (v: T) => unknown; from: (j: any) => T }): SerdeWithDefaults<T> {
  const early = (): never => {
    throw new Error('serde used before the default serdes were given');
  };
  return {
    serialize: early,
    deserialize: early,
    withDefaults(defaults) {
      const { to, from } = encode(defaults);
      return {
        serialize: (_t, v) => (v === null ? null : new TextEncoder().encode(JSON.stringify(to(v)))),
        deserialize: (_t, b) => (b === null ? null : from(JSON.parse(new TextDecoder().decode(b)))),
      };
    },
  };
}

export function subscriptionSerde(leftKeySerde: Serde<any> | undefined): SerdeWithDefaults<Subscription> {
  return envelope((defaults) => {
    const keys = resolve(leftKeySerde, defaults, 'key');
    return {
      to: (s) => ({ i: s.instruction, h: s.hash, k: base64(keys.serialize('', s.leftKey)) }),
      from: (j) => ({ instruction: j.i, hash: j.h, leftKey: keys.deserialize('', fromBase64(j.k)) }),
    };
  });
}

export function responseSerde(rightValueSerde: Serde<any> | undefined): SerdeWithDefaults<SubscriptionResponse> {
  return envelope((defaults) => {
    const values = resolve(rightValueSerde, defaults, 'value');
    return {
      to: (r) => ({ h: r.hash, v: r.rightValue === null ? null : base64(values.serialize('', r.rightValue)) }),
      from: (j) => ({ hash: j.h, rightValue: j.v === null ? null : values.deserialize('', fromBase64(j.v)) }),
    };
  });
}

export function storedSubscriptionSerde(foreignKeySerde: Serde<any> | undefined, leftKeySerde: Serde<any> | undefined): SerdeWithDefaults<StoredSubscription> {
  return envelope((defaults) => {
    const fks = resolve(foreignKeySerde, defaults, 'key');
    const keys = resolve(leftKeySerde, defaults, 'key');
    return {
      to: (s) => ({ f: base64(fks.serialize('', s.foreignKey)), k: base64(keys.serialize('', s.leftKey)), h: s.hash }),
      from: (j) => ({ foreignKey: fks.deserialize('', fromBase64(j.f)), leftKey: keys.deserialize('', fromBase64(j.k)), hash: j.h }),
    };
  });
}
