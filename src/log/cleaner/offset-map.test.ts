import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OFFSET_MAP_SLOT_BYTES, OffsetMap } from './offset-map.js';

const key = (index: number) => Buffer.from(`key-${index}`);

describe('offset map', () => {
  it('keeps the latest offset per key and answers -1 for unknown keys', () => {
    const map = new OffsetMap(1024 * OFFSET_MAP_SLOT_BYTES);
    map.put(key(1), 10);
    map.put(key(2), 11);
    map.put(key(1), 12);
    assert.equal(map.get(key(1)), 12);
    assert.equal(map.get(key(2)), 11);
    assert.equal(map.get(key(3)), -1);
    assert.equal(map.size, 2);
    assert.equal(map.latestOffset, 12);
  });

  it('has a fixed size: it is full at its load factor and refuses more', () => {
    const map = new OffsetMap(100 * OFFSET_MAP_SLOT_BYTES, 0.9);
    assert.equal(map.slots, 100);
    assert.equal(map.maxEntries, 90);
    for (let index = 0; index < 90; index += 1) map.put(key(index), index);
    assert.ok(map.isFull);
    assert.equal(map.remaining, 0);
    // An existing key still updates in place without growing.
    map.put(key(5), 1000);
    assert.equal(map.get(key(5)), 1000);
    assert.throws(() => map.put(key(999), 1001), /load factor/);
    assert.equal(map.memoryBytes, 100 * OFFSET_MAP_SLOT_BYTES);
  });

  it('finds every one of many keys after probing (no lost entries)', () => {
    const map = new OffsetMap(20_000 * OFFSET_MAP_SLOT_BYTES);
    for (let index = 0; index < 18_000; index += 1) map.put(key(index), index * 2);
    for (let index = 0; index < 18_000; index += 1) assert.equal(map.get(key(index)), index * 2);
    assert.ok(map.collisionRate >= 1);
  });

  it('clears for the next pass', () => {
    const map = new OffsetMap(64 * OFFSET_MAP_SLOT_BYTES);
    map.put(key(1), 1);
    map.clear();
    assert.equal(map.size, 0);
    assert.equal(map.get(key(1)), -1);
    assert.equal(map.latestOffset, -1);
  });

  it('treats empty keys as keys', () => {
    const map = new OffsetMap(64 * OFFSET_MAP_SLOT_BYTES);
    map.put(Buffer.alloc(0), 7);
    assert.equal(map.get(Buffer.alloc(0)), 7);
  });
});
