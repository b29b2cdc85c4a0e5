import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { silentLogger } from '../base/logger.js';
import { hasValidCrc, patchBaseOffsetAndEpoch, readBaseOffset, readLastOffsetDelta, readMaxTimestamp } from '../protocol/records/batch-header.js';
import type { BatchHeaderInfo } from './batch-scanner.js';
import { FileHandleCache } from './file-handle-cache.js';
import { readAheadBudget } from './read-ahead.js';
import { Segment } from './segment.js';
import { buildBatch } from '../testing/test-batches.js';

const settings = { segmentIndexBytes: 10 * 1024 * 1024, indexIntervalBytes: 4096 };
const LOG_FILE = '/p/00000000000000000000.log';

async function newSegment(fs = new MemoryFileSystem()) {
  await fs.mkdir('/p');
  const handles = new FileHandleCache(fs, 16, silentLogger);
  const segment = await Segment.create({ fs, handles, logger: silentLogger }, '/p', 0, settings, 0);
  return { fs, handles, segment };
}

/** Appends `values` as one batch per value at the segment's end; returns the batches as stored. */
async function appendBatches(segment: Segment, values: string[], validated: boolean): Promise<Buffer[]> {
  const batches: Buffer[] = [];
  const headers: BatchHeaderInfo[] = [];
  let position = segment.size;
  let offset = segment.nextOffset;
  for (const value of values) {
    const batch = buildBatch({ values: [value], valueBytes: 2000 });
    patchBaseOffsetAndEpoch(batch, 0, offset, 0);
    const lastOffset = offset + readLastOffsetDelta(batch);
    headers.push({ position, size: batch.length, baseOffset: offset, lastOffset, maxTimestamp: readMaxTimestamp(batch) });
    batches.push(batch);
    position += batch.length;
    offset = lastOffset + 1;
  }
  await segment.append(batches, headers, validated);
  return batches;
}

async function flipByteInFile(fs: MemoryFileSystem, position: number): Promise<void> {
  const bytes = await fs.readFile(LOG_FILE);
  bytes[position] = (bytes[position] ?? 0) ^ 0xff;
  await fs.writeFile(LOG_FILE, bytes);
}

const all = Number.MAX_SAFE_INTEGER;

describe('segment reads: checked once, read ahead', () => {
  it('batches appended after validation count as checked; others are checked on their first read', async () => {
    const { segment, handles } = await newSegment();
    await appendBatches(segment, ['a', 'b'], true);
    assert.equal(segment.verifiedBytes, segment.size);
    const checkedUpTo = segment.size;
    await appendBatches(segment, ['c'], false);
    assert.equal(segment.verifiedBytes, checkedUpTo, 'an append the caller did not validate is not trusted');
    await appendBatches(segment, ['d'], true);
    assert.equal(segment.verifiedBytes, checkedUpTo, 'nothing after an unchecked batch is trusted until it is read');
    const read = await segment.read(0, all, 1 << 20, true);
    assert.equal(read.chunks.length, 4);
    assert.equal(segment.verifiedBytes, segment.size);
    await handles.closeAll();
  });

  it('a corrupt batch never checked is refused on every read, the good ones before it are served', async () => {
    const { fs, segment, handles } = await newSegment();
    const batches = await appendBatches(segment, ['a', 'b', 'c'], false);
    const corruptPosition = batches[0]!.length + batches[1]!.length;
    await flipByteInFile(fs, corruptPosition + batches[2]!.length - 5);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const fromStart = await segment.read(0, all, 1 << 20, true);
      assert.equal(fromStart.chunks.length, 2);
      assert.equal(fromStart.corruption?.offset, 2);
      const atCorrupt = await segment.read(2, all, 1 << 20, true);
      assert.equal(atCorrupt.chunks.length, 0);
      assert.equal(atCorrupt.corruption?.position, corruptPosition);
    }
    assert.equal(segment.verifiedBytes, corruptPosition, 'the checked prefix stops before the corrupt batch');
    await handles.closeAll();
  });

  it('a batch read and checked by an earlier process is checked again by the next one', async () => {
    const first = await newSegment();
    const batches = await appendBatches(first.segment, ['a', 'b'], true);
    assert.equal((await first.segment.read(0, all, 1 << 20, true)).chunks.length, 2);
    await first.segment.flush();
    await first.handles.closeAll();
    await flipByteInFile(first.fs, batches[0]!.length + batches[1]!.length - 5);
    // The next process: the same files, a segment object loaded from them.
    const handles = new FileHandleCache(first.fs, 16, silentLogger);
    const reopened = Segment.existing({ fs: first.fs, handles, logger: silentLogger }, '/p', 0, settings, 0);
    await reopened.ensureLoaded(async () => assert.fail('no rebuild expected'));
    assert.equal(reopened.verifiedBytes, 0);
    const read = await reopened.read(0, all, 1 << 20, true);
    assert.equal(read.chunks.length, 1);
    assert.equal(read.corruption?.offset, 1);
    const again = await reopened.read(1, all, 1 << 20, true);
    assert.equal(again.chunks.length, 0);
    assert.ok(again.corruption !== undefined);
    await handles.closeAll();
  });

  it('a read-ahead never serves bytes that a truncation replaced', async () => {
    const { segment, handles } = await newSegment();
    const batches = await appendBatches(segment, ['a', 'b', 'c'], true);
    // One batch per read: the second batch is read ahead after the first read.
    const first = await segment.read(0, all, batches[0]!.length, true);
    assert.equal(first.chunks.length, 1);
    assert.ok(readAheadBudget.bytes > 0, 'the bytes after the read are read ahead');
    await segment.truncateTo(1);
    const replaced = await appendBatches(segment, ['B'], false);
    const second = await segment.read(1, all, 1 << 20, true);
    assert.equal(second.chunks.length, 1);
    assert.ok(second.chunks[0]!.equals(replaced[0]!), 'the batch now in the file, not the one read ahead');
    assert.ok(hasValidCrc(second.chunks[0]!));
    assert.equal(readBaseOffset(second.chunks[0]!), 1);
    await handles.closeAll();
  });

  it('sequential reads continue where the last one ended, read ahead or not', async () => {
    const { segment, handles } = await newSegment();
    const values = Array.from({ length: 40 }, (_, index) => `v${index}`);
    const batches = await appendBatches(segment, values, true);
    const seen: Buffer[] = [];
    let next = 0;
    while (next < segment.nextOffset) {
      const read = await segment.read(next, all, 3 * batches[0]!.length + 100, true);
      assert.ok(read.chunks.length > 0);
      for (const chunk of read.chunks) seen.push(chunk);
      next = readBaseOffset(read.chunks.at(-1)!) + 1;
      // Every other read starts mid-way, from the offset index.
      if (next % 2 === 0 && next < segment.nextOffset) {
        const middle = await segment.read(next - 1, all, batches[0]!.length, true);
        assert.equal(readBaseOffset(middle.chunks[0]!), next - 1);
      }
    }
    assert.equal(seen.length, batches.length);
    seen.forEach((chunk, index) => assert.ok(chunk.equals(batches[index]!), `batch ${index}`));
    await handles.closeAll();
  });
});
