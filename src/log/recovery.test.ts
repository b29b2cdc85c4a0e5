import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { hasValidCrc, readBaseOffset, readLastOffset } from '../protocol/records/batch-header.js';
import type { LogConfig } from './log-config.js';
import type { PartitionLog } from './partition-log.js';
import { buildBatch } from '../testing/test-batches.js';
import { openTestLogManager, recordingLogger } from '../testing/log-support.js';

const config: Partial<LogConfig> = { segmentBytes: 1200, indexIntervalBytes: 150 };
const dir = '/data/t-0';
const segmentFile = (base: number, suffix: string) => `${dir}/${String(base).padStart(20, '0')}${suffix}`;

/** A log with `batches` two-record batches over several segments, left as a crash would (no close). */
async function crashedLog(fs: MemoryFileSystem, batches = 30): Promise<number[]> {
  const manager = await openTestLogManager({ fs, config });
  const log = await manager.createLog('t', 0);
  for (let index = 0; index < batches; index += 1) {
    await log.append(buildBatch({ count: 2, valueBytes: 30, timestampMs: 1000 + index }), { leaderEpoch: 7, appendTimeMs: 0 });
  }
  return log.segmentBaseOffsets;
}

async function reopen(fs: MemoryFileSystem) {
  const recorder = recordingLogger();
  const manager = await openTestLogManager({ fs, config, logger: recorder.logger });
  return { manager, log: manager.get('t', 0)!, warnings: recorder.warnings() };
}

async function readOffsets(log: PartitionLog): Promise<number[]> {
  const offsets: number[] = [];
  let next = log.logStartOffset;
  while (next < log.logEndOffset) {
    const { chunks } = await log.read(next, { maxBytes: 1 << 20, maxOffset: log.logEndOffset, minOneBatch: true });
    assert.ok(chunks.length > 0);
    for (const chunk of chunks) {
      assert.ok(hasValidCrc(chunk));
      offsets.push(readBaseOffset(chunk));
      next = readLastOffset(chunk) + 1;
    }
  }
  return offsets;
}

async function mutate(fs: MemoryFileSystem, path: string, change: (bytes: Buffer) => Buffer): Promise<void> {
  await fs.writeFile(path, change(await fs.readFile(path)));
}

const evenOffsets = (count: number) => Array.from({ length: count }, (_, index) => index * 2);

describe('log recovery after an unclean shutdown', () => {
  it('keeps everything when nothing is damaged', async () => {
    const fs = new MemoryFileSystem();
    await crashedLog(fs);
    const { manager, log, warnings } = await reopen(fs);
    assert.equal(manager.hadCleanShutdown, false);
    assert.deepEqual(warnings, []);
    assert.equal(log.logEndOffset, 60);
    assert.deepEqual(await readOffsets(log), evenOffsets(30));
    assert.deepEqual(log.leaderEpochCache.entries, [{ epoch: 7, startOffset: 0 }]);
    await manager.close();
  });

  it('truncates a torn batch at the tail', async () => {
    const fs = new MemoryFileSystem();
    const bases = await crashedLog(fs);
    await mutate(fs, segmentFile(bases.at(-1)!, '.log'), (bytes) => bytes.subarray(0, bytes.length - 10));
    const { manager, log, warnings } = await reopen(fs);
    assert.equal(log.logEndOffset, 58);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /torn batch/);
    assert.match(warnings[0]!, /position=\d+/);
    assert.match(warnings[0]!, /0+\d+\.log/);
    assert.deepEqual(await readOffsets(log), evenOffsets(29));
    assert.equal((await log.append(buildBatch(), { leaderEpoch: 7, appendTimeMs: 0 })).baseOffset, 58);
    await manager.close();
  });

  it('truncates at a batch with flipped bytes and deletes the later segments', async () => {
    const fs = new MemoryFileSystem();
    const bases = await crashedLog(fs);
    assert.ok(bases.length >= 3);
    // Corrupt a record byte (covered by the CRC) in the third batch of the first segment.
    await mutate(fs, segmentFile(bases[0]!, '.log'), (bytes) => {
      const batchBytes = bytes.readInt32BE(8) + 12;
      bytes[batchBytes * 2 + 70]! ^= 0xff;
      return bytes;
    });
    const { manager, log, warnings } = await reopen(fs);
    assert.equal(log.logEndOffset, 4);
    assert.deepEqual(log.segmentBaseOffsets, [bases[0]]);
    assert.ok(warnings.some((line) => /CRC mismatch/.test(line)), warnings.join('\n'));
    assert.ok(warnings.some((line) => /deleting segments/.test(line)));
    assert.deepEqual(await readOffsets(log), [0, 2]);
    await manager.close();
  });

  it('cuts garbage appended after the last batch', async () => {
    const fs = new MemoryFileSystem();
    const bases = await crashedLog(fs);
    await mutate(fs, segmentFile(bases.at(-1)!, '.log'), (bytes) => Buffer.concat([bytes, Buffer.alloc(100, 0x5a)]));
    const { manager, log, warnings } = await reopen(fs);
    assert.equal(log.logEndOffset, 60);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /truncating log segment/);
    assert.deepEqual(await readOffsets(log), evenOffsets(30));
    await manager.close();
  });

  it('treats a corrupt recovery point checkpoint as absent and recovers from the start', async () => {
    const fs = new MemoryFileSystem();
    const manager = await openTestLogManager({ fs, config });
    const log = await manager.createLog('t', 0);
    for (let index = 0; index < 10; index += 1) await log.append(buildBatch(), { leaderEpoch: 0, appendTimeMs: 0 });
    await manager.close();
    await fs.unlink('/data/.kafka_cleanshutdown');
    await fs.writeFile('/data/recovery-point-offset-checkpoint', Buffer.from('0\n3\nt 0 x\n'));
    const { manager: again, log: recovered, warnings } = await reopen(fs);
    assert.ok(warnings.some((line) => /corrupt checkpoint file/.test(line) && /recovery-point-offset-checkpoint/.test(line)), warnings.join('\n'));
    assert.equal(recovered.logEndOffset, 10);
    await again.close();
  });

  it('rebuilds the leader epoch cache from the batches when its checkpoint is corrupt', async () => {
    const fs = new MemoryFileSystem();
    await crashedLog(fs, 5);
    await fs.writeFile(`${dir}/leader-epoch-checkpoint`, Buffer.from('garbage'));
    const { manager, log, warnings } = await reopen(fs);
    assert.ok(warnings.some((line) => /corrupt checkpoint/.test(line)));
    assert.deepEqual(log.leaderEpochCache.entries, [{ epoch: 7, startOffset: 0 }]);
    // Durable before the close: the recovery point moved to the log end, so no later recovery looks again.
    assert.equal((await fs.readFile(`${dir}/leader-epoch-checkpoint`)).toString(), '0\n1\n7 0\n');
    await manager.close();
  });
});

describe('index repair on a clean start', () => {
  async function cleanLog(fs: MemoryFileSystem): Promise<number[]> {
    const bases = await crashedLog(fs);
    const manager = await openTestLogManager({ fs, config });
    await manager.close();
    return bases;
  }

  it('rebuilds a missing offset index of an old segment when first read', async () => {
    const fs = new MemoryFileSystem();
    const bases = await cleanLog(fs);
    await fs.unlink(segmentFile(bases[1]!, '.index'));
    const recorder = recordingLogger();
    const manager = await openTestLogManager({ fs, config, logger: recorder.logger });
    assert.equal(manager.hadCleanShutdown, true);
    const log = manager.get('t', 0)!;
    assert.deepEqual(await readOffsets(log), evenOffsets(30));
    assert.ok(recorder.warnings().some((line) => /rebuilding segment indexes/.test(line) && /missing offset index/.test(line)));
    assert.ok((await fs.stat(segmentFile(bases[1]!, '.index'))).size > 0);
    await manager.close();
  });

  it('rebuilds a corrupt index and a missing time index of the active segment when first used', async () => {
    const fs = new MemoryFileSystem();
    const bases = await cleanLog(fs);
    await fs.writeFile(segmentFile(bases.at(-1)!, '.index'), Buffer.from('xyz'));
    await fs.unlink(segmentFile(bases.at(-1)!, '.timeindex'));
    const recorder = recordingLogger();
    const manager = await openTestLogManager({ fs, config, logger: recorder.logger });
    const log = manager.get('t', 0)!;
    // A clean start takes the log end offset from the checkpoints and reads no segment yet.
    assert.equal(log.logEndOffset, 60);
    assert.ok(!recorder.warnings().some((line) => /corrupt offset index/.test(line)));
    assert.deepEqual(await readOffsets(log), evenOffsets(30));
    const warnings = recorder.warnings();
    assert.ok(warnings.some((line) => /corrupt offset index/.test(line)), warnings.join('\n'));
    assert.deepEqual(await log.offsetForTimestamp(1029), { offset: 56, timestamp: 1029 });
    await manager.close();
  });

  it('rebuilds an index whose entries point past the end of the log', async () => {
    const fs = new MemoryFileSystem();
    const bases = await cleanLog(fs);
    const bogus = Buffer.alloc(8);
    bogus.writeInt32BE(1, 0);
    bogus.writeInt32BE(1_000_000, 4);
    await fs.writeFile(segmentFile(bases[0]!, '.index'), bogus);
    const recorder = recordingLogger();
    const manager = await openTestLogManager({ fs, config, logger: recorder.logger });
    assert.deepEqual(await readOffsets(manager.get('t', 0)!), evenOffsets(30));
    assert.ok(recorder.warnings().some((line) => /past the log/.test(line)));
    await manager.close();
  });
});
