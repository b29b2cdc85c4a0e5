import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';

describe('offset index', () => {
  it('looks up the last entry at or before an offset', () => {
    const index = new OffsetIndex(100, 1024);
    index.append(109, 0);
    index.append(119, 500);
    index.append(129, 1000);
    assert.deepEqual(index.lookup(100), { offset: 100, position: 0 });
    assert.deepEqual(index.lookup(109), { offset: 109, position: 0 });
    assert.deepEqual(index.lookup(125), { offset: 119, position: 500 });
    assert.deepEqual(index.lookup(500), { offset: 129, position: 1000 });
  });

  it('persists incrementally, parses back, and truncates by position', () => {
    const index = new OffsetIndex(0, 1024);
    index.append(5, 100);
    const first = index.pendingWrite()!;
    index.markPersisted();
    index.append(9, 200);
    const second = index.pendingWrite()!;
    assert.deepEqual([first.position, first.data.length, second.position, second.data.length], [0, 8, 8, 8]);
    index.markPersisted();
    const parsed = OffsetIndex.parse(0, 1024, Buffer.concat([first.data, second.data]), 300);
    assert.ok(typeof parsed !== 'string');
    assert.deepEqual(parsed.lastEntry(), { offset: 9, position: 200 });
    parsed.truncateToPosition(200);
    assert.equal(parsed.entryCount, 1);
    assert.deepEqual(parsed.pendingWrite(), { truncateToBytes: 8, position: 8, data: Buffer.alloc(0) });
  });

  it('rejects a wrong size, decreasing entries and positions past the log', () => {
    assert.match(OffsetIndex.parse(0, 1024, Buffer.alloc(7), 100) as string, /multiple/);
    const entries = Buffer.alloc(16);
    entries.writeInt32BE(5, 0);
    entries.writeInt32BE(10, 4);
    entries.writeInt32BE(3, 8);
    entries.writeInt32BE(20, 12);
    assert.match(OffsetIndex.parse(0, 1024, entries, 100) as string, /not increasing/);
    assert.match(OffsetIndex.parse(0, 1024, entries.subarray(0, 8), 10) as string, /past the log/);
  });

  it('becomes full at segment.index.bytes', () => {
    const index = new OffsetIndex(0, 16);
    index.append(1, 0);
    index.append(2, 10);
    index.append(3, 20);
    assert.equal(index.isFull, true);
    assert.equal(index.entryCount, 2);
  });
});

describe('time index', () => {
  it('adds entries only when the timestamp grows and looks up strictly below', () => {
    const index = new TimeIndex(10, 1200);
    index.maybeAppend(1000, 10);
    index.maybeAppend(1000, 12);
    index.maybeAppend(2000, 20);
    assert.equal(index.entryCount, 2);
    assert.equal(index.lookup(999), 10);
    assert.equal(index.lookup(1000), 10);
    assert.equal(index.lookup(1001), 10);
    assert.equal(index.lookup(2001), 20);
    index.truncateToOffset(20);
    assert.deepEqual(index.lastEntry(), { timestamp: 1000, offset: 10 });
  });

  it('round-trips through its file bytes', () => {
    const index = new TimeIndex(0, 1200);
    index.maybeAppend(5, 1);
    index.maybeAppend(9, 4);
    const parsed = TimeIndex.parse(0, 1200, index.pendingWrite()!.data);
    assert.ok(typeof parsed !== 'string');
    assert.deepEqual(parsed.lastEntry(), { timestamp: 9, offset: 4 });
    assert.match(TimeIndex.parse(0, 1200, Buffer.alloc(13)) as string, /multiple/);
  });
});
