import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bytesStoreContract } from './bytes-store.contract.js';
import { inMemoryBytesStoreSupplier, OrderedBytesMap } from './in-memory-bytes-store.js';

bytesStoreContract('in-memory', async () => {
  const supplier = inMemoryBytesStoreSupplier('counts');
  return { store: () => supplier.get(undefined), exactCount: true, cleanup: async () => {} };
});

const key = (i: number) => new Uint8Array([i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff]);
const number = (bytes: Uint8Array) => ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;

describe('OrderedBytesMap', () => {
  it('keeps order through many levels of splits, in increasing, decreasing and scattered inserts', () => {
    for (const order of ['increasing', 'decreasing', 'scattered'] as const) {
      const map = new OrderedBytesMap<number>();
      const count = 20_000;
      for (let n = 0; n < count; n++) {
        const i = order === 'increasing' ? n : order === 'decreasing' ? count - 1 - n : (n * 7919) % count;
        map.set(key(i), i);
      }
      assert.equal(map.size, count);
      const all = [...map.slots()].map((slot) => number(slot.key));
      assert.deepEqual(all, Array.from({ length: count }, (_, i) => i), order);
      const window = [...map.slots({ from: key(12_345), to: key(12_400), reverse: true })].map((slot) => slot.value);
      assert.deepEqual(window, Array.from({ length: 56 }, (_, i) => 12_400 - i), `${order} reversed window`);
    }
  });

  it('drops emptied leaves: deleting in key order, as window retention does, leaves the rest scannable', () => {
    const map = new OrderedBytesMap<number>();
    for (let round = 0; round < 5; round++) {
      for (let i = round * 10_000; i < (round + 1) * 10_000; i++) map.set(key(i), i);
      for (let i = round * 10_000 - 5_000; i < round * 10_000 + 5_000; i++) if (i >= 0) map.delete(key(i));
      const first = round * 10_000 + 5_000;
      assert.equal(map.size, 5_000);
      assert.equal(number([...map.slots()][0]!.key), first);
      assert.equal([...map.slots({ reverse: true, to: key(first + 10) })].length, 11);
    }
    for (let i = 0; i < 50_000; i++) map.delete(key(i));
    assert.equal(map.size, 0);
    assert.deepEqual([...map.slots()], []);
    map.set(key(3), 3);
    assert.deepEqual([...map.slots({ reverse: true })].map((slot) => slot.value), [3]);
  });

  it('stays whole when deletes empty leaves from the right and from the middle', () => {
    for (const order of ['decreasing', 'scattered'] as const) {
      const map = new OrderedBytesMap<number>();
      const count = 30_000;
      for (let i = 0; i < count; i++) map.set(key(i), i);
      const present = new Set(Array.from({ length: count }, (_, i) => i));
      for (let n = 0; n < count; n++) {
        const i = order === 'decreasing' ? count - 1 - n : (n * 7919) % count;
        map.delete(key(i));
        present.delete(i);
        if (n % 997 === 0) {
          const probe = (n * 31) % count;
          assert.equal(map.get(key(probe)), present.has(probe) ? probe : undefined);
          const expected = [...present].filter((j) => j >= probe && j <= probe + 300).sort((a, b) => a - b);
          assert.deepEqual([...map.slots({ from: key(probe), to: key(probe + 300) })].map((slot) => slot.value), expected, `${order} at ${n}`);
          map.set(key(probe), probe);
          present.add(probe);
        }
      }
      assert.deepEqual([...map.slots()].map((slot) => slot.value), [...present].sort((a, b) => a - b));
    }
  });
});
