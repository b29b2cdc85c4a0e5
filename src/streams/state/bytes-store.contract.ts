// The behaviour every KeyValueBytesStore shares, as one node:test suite that each store's test file
// runs with its own fixture. Imported by tests only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KeyValueBytes, KeyValueBytesStore } from './bytes-store.js';
import { compareBytes } from './key-order.js';

export interface BytesStoreFixture {
  /**
   * A new, unopened store object. A persistent store's objects all use the fixture's one location,
   * so a second object sees what the first flushed; an in-memory store's objects are independent.
   */
  store(): KeyValueBytesStore;
  /** Whether the store's data is still on disk (persistent stores), to check `destroy`. */
  dataExists?: () => Promise<boolean>;
  /** Whether approximateNumEntries is exact. */
  exactCount: boolean;
  cleanup(): Promise<void>;
}

const bytes = (...values: number[]) => new Uint8Array(values);
const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

async function collect(iterable: AsyncIterable<KeyValueBytes>): Promise<KeyValueBytes[]> {
  const entries: KeyValueBytes[] = [];
  for await (const entry of iterable) entries.push(entry);
  return entries;
}

async function keysOf(iterable: AsyncIterable<KeyValueBytes>): Promise<string[]> {
  return (await collect(iterable)).map((entry) => hex(entry.key));
}

/** A deterministic pseudo-random sequence (mulberry32), so a failing case can be replayed. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keys around the edges of the order: empty, prefixes, 0x00 and 0xff bytes. */
const EDGE_KEYS = [
  bytes(),
  bytes(0x00),
  bytes(0x00, 0x00),
  bytes(0x00, 0xff),
  bytes(0x01),
  bytes(0x01, 0x00),
  bytes(0x01, 0xff, 0xff),
  bytes(0x7f),
  bytes(0x80),
  bytes(0x80, 0x00),
  bytes(0xfe, 0xff),
  bytes(0xff),
  bytes(0xff, 0x00),
  bytes(0xff, 0xff),
  bytes(0xff, 0xff, 0xff),
];

export function bytesStoreContract(name: string, createFixture: () => Promise<BytesStoreFixture>): void {
  const withStore = (test: (store: KeyValueBytesStore, fixture: BytesStoreFixture) => Promise<void>) => async () => {
    const fixture = await createFixture();
    const store = fixture.store();
    await store.open();
    try {
      await test(store, fixture);
    } finally {
      await store.close().catch(() => {});
      await fixture.cleanup();
    }
  };

  /** The edge keys in a scrambled order, each with a value naming it. */
  async function putEdgeKeys(store: KeyValueBytesStore): Promise<void> {
    const random = randomSource(23);
    const shuffled = [...EDGE_KEYS].sort(() => random() - 0.5);
    for (const key of shuffled) await store.put(key, Buffer.from(`v${hex(key)}`));
  }

  describe(`bytes-store contract: ${name}`, () => {
    it('puts, overwrites, gets and deletes; a missing or deleted key reads as undefined', withStore(async (store) => {
      assert.equal(await store.get(bytes(1)), undefined);
      await store.put(bytes(1), bytes(10));
      await store.put(bytes(2), bytes(20));
      await store.put(bytes(1), bytes(11));
      assert.deepEqual(await store.get(bytes(1)), bytes(11));
      assert.deepEqual(await store.get(bytes(2)), bytes(20));
      await store.delete(bytes(1));
      assert.equal(await store.get(bytes(1)), undefined);
      await store.delete(bytes(1));
      await store.delete(bytes(9));
      assert.deepEqual(await keysOf(store.range()), ['02']);
      await store.put(bytes(), bytes());
      assert.deepEqual(await store.get(bytes()), bytes(), 'the empty key holds an empty value');
    }));

    it('orders keys as unsigned bytes, a prefix before the keys it begins', withStore(async (store) => {
      await putEdgeKeys(store);
      const expected = [...EDGE_KEYS].sort(compareBytes).map(hex);
      assert.deepEqual(expected, EDGE_KEYS.map(hex), 'EDGE_KEYS is written in order');
      const entries = await collect(store.range());
      assert.deepEqual(entries.map((entry) => hex(entry.key)), expected);
      assert.deepEqual(entries.map((entry) => Buffer.from(entry.value).toString()), expected.map((key) => `v${key}`));
      assert.deepEqual(await keysOf(store.range({ reverse: true })), [...expected].reverse());
    }));

    it('takes both range bounds inclusive, present or not, forward and reversed', withStore(async (store) => {
      await putEdgeKeys(store);
      const ordered = EDGE_KEYS.map(hex);
      const between = (from: Uint8Array | undefined, to: Uint8Array | undefined) =>
        ordered.filter((key, i) => (from === undefined || compareBytes(EDGE_KEYS[i]!, from) >= 0) && (to === undefined || compareBytes(EDGE_KEYS[i]!, to) <= 0));
      const cases: [Uint8Array | undefined, Uint8Array | undefined][] = [
        [bytes(0x01), bytes(0x01)],
        [bytes(0x01), bytes(0x01, 0xff, 0xff)],
        [bytes(0x00), bytes(0x7f)],
        [bytes(0x00, 0x80), bytes(0x80, 0x00, 0x00)],
        [bytes(0xff), undefined],
        [undefined, bytes(0x00, 0x00)],
        [bytes(), bytes()],
        [bytes(0xff, 0xff, 0xff, 0x00), undefined],
        [undefined, undefined],
      ];
      for (const [from, to] of cases) {
        const label = `${from === undefined ? '-' : hex(from)}..${to === undefined ? '-' : hex(to)}`;
        const range = { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
        assert.deepEqual(await keysOf(store.range(range)), between(from, to), label);
        assert.deepEqual(await keysOf(store.range({ ...range, reverse: true })), between(from, to).reverse(), `${label} reversed`);
      }
      assert.deepEqual(await keysOf(store.range({ from: bytes(0x80), to: bytes(0x7f) })), [], 'from after to is empty');
      assert.deepEqual(await keysOf(store.range({ from: bytes(0x01), to: bytes(0x01) })), ['01'], 'a key, not the keys it prefixes');
    }));

    it('putAll writes and deletes (null values) in order, the later entry for a key winning', withStore(async (store) => {
      await store.put(bytes(1), bytes(1));
      await store.put(bytes(2), bytes(2));
      await store.putAll([
        { key: bytes(1), value: null },
        { key: bytes(3), value: bytes(3) },
        { key: bytes(4), value: bytes(4) },
        { key: bytes(4), value: null },
        { key: bytes(5), value: null },
        { key: bytes(2), value: null },
        { key: bytes(2), value: bytes(22) },
      ]);
      const entries = await collect(store.range());
      assert.deepEqual(entries.map((entry) => [hex(entry.key), hex(entry.value)]), [['02', '16'], ['03', '03']]);
      await store.putAll([]);
      assert.equal((await collect(store.range())).length, 2);
    }));

    it('copies keys and values on put, so a caller may reuse its buffers', withStore(async (store) => {
      const key = bytes(1, 2);
      const value = bytes(7, 7);
      await store.put(key, value);
      key[1] = 3;
      value[0] = 8;
      await store.putAll([{ key, value }]);
      key[1] = 4;
      value[0] = 9;
      assert.deepEqual(await store.get(bytes(1, 2)), bytes(7, 7));
      assert.deepEqual(await store.get(bytes(1, 3)), bytes(8, 7));
      assert.deepEqual(await keysOf(store.range()), ['0102', '0103']);
    }));

    it('a range scan survives writes made while it runs, each key still met once, in order', withStore(async (store) => {
      const key = (i: number) => bytes(i >> 8, i & 0xff);
      for (let i = 0; i < 1000; i += 2) await store.put(key(i), bytes(0));
      await store.flush();
      for (let i = 1000; i < 1200; i += 2) await store.put(key(i), bytes(0));
      for (const reverse of [false, true]) {
        const seen: number[] = [];
        let step = 0;
        for await (const entry of store.range({ reverse })) {
          const i = (entry.key[0]! << 8) | entry.key[1]!;
          seen.push(i);
          step++;
          // New keys on both sides of the cursor (a bounded number, or a scan could chase them forever), updates of seen and unseen keys, and deletes of
          // odd keys just added: enough to split and empty the in-memory tree's leaves under it.
          if (step <= 300) await store.put(key(2000 + step * 3), bytes(1));
          await store.put(key((step * 37) % 1200 | 1), bytes(1));
          await store.put(key((step * 53) % 1200 & ~1), bytes(2));
          if (step % 3 === 0) await store.delete(key(((step - 3) * 37) % 1200 | 1));
          if (step % 100 === 0) await store.flush();
        }
        for (let j = 1; j < seen.length; j++) {
          assert.ok(reverse ? seen[j]! < seen[j - 1]! : seen[j]! > seen[j - 1]!, `in order at ${j}: ${seen[j - 1]} then ${seen[j]}`);
        }
        const evens = seen.filter((i) => i < 1200 && i % 2 === 0);
        assert.equal(evens.length, 600, 'every key present throughout is met');
      }
    }));

    it('matches a model through random puts, deletes, putAlls and flushes', withStore(async (store) => {
      const random = randomSource(4242);
      const model = new Map<string, string>();
      const randomKey = () => {
        const key = new Uint8Array(Math.floor(random() * 4));
        for (let i = 0; i < key.length; i++) key[i] = random() < 0.3 ? 0xff : random() < 0.3 ? 0 : Math.floor(random() * 8);
        return key;
      };
      const check = async (label: string) => {
        const from = random() < 0.2 ? undefined : randomKey();
        const to = random() < 0.2 ? undefined : randomKey();
        const reverse = random() < 0.5;
        let expected = [...model.keys()]
          .map((key) => Buffer.from(key, 'hex'))
          .filter((key) => (from === undefined || compareBytes(key, from) >= 0) && (to === undefined || compareBytes(key, to) <= 0))
          .sort(compareBytes)
          .map((key) => `${hex(key)}=${model.get(hex(key))}`);
        if (reverse) expected = expected.reverse();
        const range = { reverse, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
        const actual = (await collect(store.range(range))).map((entry) => `${hex(entry.key)}=${hex(entry.value)}`);
        assert.deepEqual(actual, expected, `${label}: ${JSON.stringify({ from: from && hex(from), to: to && hex(to), reverse })}`);
      };
      for (let step = 0; step < 3000; step++) {
        const choice = random();
        const key = randomKey();
        const value = bytes(step & 0xff, step >> 8);
        if (choice < 0.5) {
          await store.put(key, value);
          model.set(hex(key), hex(value));
        } else if (choice < 0.8) {
          await store.delete(key);
          model.delete(hex(key));
        } else if (choice < 0.9) {
          const batch = [{ key, value }, { key: randomKey(), value: null }, { key: randomKey(), value }];
          await store.putAll(batch);
          for (const entry of batch) {
            if (entry.value === null) model.delete(hex(entry.key));
            else model.set(hex(entry.key), hex(entry.value));
          }
        } else if (choice < 0.93) {
          await store.flush();
        }
        const stored = await store.get(key);
        assert.equal(stored === undefined ? undefined : hex(stored), model.get(hex(key)), `get at step ${step}`);
        if (step % 50 === 0) await check(`step ${step}`);
      }
      await check('end');
    }));

    it('counts its entries', withStore(async (store, fixture) => {
      assert.equal(await store.approximateNumEntries(), 0);
      for (let i = 0; i < 300; i++) await store.put(bytes(i >> 8, i & 0xff), bytes(i & 0xff));
      for (let i = 0; i < 100; i++) await store.delete(bytes(i >> 8, i & 0xff));
      await store.flush();
      const count = await store.approximateNumEntries();
      if (fixture.exactCount) assert.equal(count, 200);
      else assert.ok(count >= 0, `an estimate, got ${count}`);
    }));

    it('is persistent as it says: a closed and reopened store keeps its data only then', withStore(async (store, fixture) => {
      await store.put(bytes(1), bytes(1));
      await store.put(bytes(2), bytes(2));
      await store.flush();
      await store.put(bytes(3), bytes(3));
      await store.delete(bytes(1));
      await store.close();
      const again = fixture.store();
      await again.open();
      try {
        assert.equal(again.persistent, store.persistent);
        assert.deepEqual(await keysOf(again.range()), store.persistent ? ['02', '03'] : []);
      } finally {
        await again.close();
      }
    }));

    it('destroy removes all of its data', withStore(async (store, fixture) => {
      await store.put(bytes(1), bytes(1));
      await store.flush();
      await store.put(bytes(2), bytes(2));
      await store.destroy();
      if (fixture.dataExists !== undefined) assert.equal(await fixture.dataExists(), false);
      const again = fixture.store();
      await again.open();
      try {
        assert.deepEqual(await keysOf(again.range()), []);
        assert.equal(await again.get(bytes(1)), undefined);
      } finally {
        await again.destroy();
      }
    }));
  });
}
