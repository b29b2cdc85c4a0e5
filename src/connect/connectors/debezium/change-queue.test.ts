// The CDC tasks' queue: bounded, waits both ways, and never splits the records of one offset.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SourceRecord } from '../../api/data.js';
import { ChangeQueue } from './change-queue.js';

function record(value: string, offset: Record<string, unknown>): SourceRecord {
  return { topic: 't', kafkaPartition: null, keySchema: null, key: null, valueSchema: null, value, timestamp: null, headers: [], sourcePartition: { server: 's' }, sourceOffset: offset };
}

describe('ChangeQueue', () => {
  it('hands out the records sharing the last one\'s offset with it, even past the batch size', async () => {
    const queue = new ChangeQueue(100);
    const first = { row: 1 };
    const second = { row: 2 };
    queue.push(record('c1', first));
    queue.push(record('d2', second));
    queue.push(record('tombstone2', second));
    queue.push(record('c2', second));
    queue.push(record('c3', { row: 3 }));
    assert.deepEqual((await queue.take(2, 10)).map((r) => r.value), ['c1', 'd2', 'tombstone2', 'c2']);
    assert.deepEqual((await queue.take(2, 10)).map((r) => r.value), ['c3']);
  });

  it('makes a writer wait for room, and a reader wait for records up to its interval', async () => {
    const queue = new ChangeQueue(1);
    queue.push(record('a', { n: 1 }));
    let roomed = false;
    const writer = queue.waitForRoom(() => false).then((room) => {
      roomed = room;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(roomed, false, 'full: the writer waits');
    assert.deepEqual((await queue.take(10, 10)).map((r) => r.value), ['a']);
    await writer;
    assert.equal(roomed, true);
    const started = Date.now();
    assert.deepEqual(await queue.take(10, 50), []);
    assert.ok(Date.now() - started >= 40, 'an empty take waits out its interval');
    const waiting = queue.take(10, 10_000);
    queue.push(record('b', { n: 2 }));
    assert.deepEqual((await waiting).map((r) => r.value), ['b'], 'a push wakes the reader');
  });

  it('wake() releases a waiting reader and writers, which see that they must stop', async () => {
    const queue = new ChangeQueue(1);
    queue.push(record('a', { n: 1 }));
    let stopping = false;
    const writer = queue.waitForRoom(() => stopping);
    stopping = true;
    queue.wake();
    assert.equal(await writer, false);
    const empty = new ChangeQueue(1);
    const waiting = empty.take(1, 10_000);
    empty.wake();
    assert.deepEqual(await waiting, []);
  });
});
