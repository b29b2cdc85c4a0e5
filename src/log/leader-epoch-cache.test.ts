import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../base/logger.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { readOffsetCheckpoint, writeOffsetCheckpoint } from './checkpoint-file.js';
import { LeaderEpochCache } from './leader-epoch-cache.js';
import { recordingLogger } from '../testing/log-support.js';

describe('leader epoch cache', () => {
  it('assigns, drops conflicting entries, truncates and persists', async () => {
    const fs = new MemoryFileSystem();
    let logEndOffset = 50;
    const options = { fs, path: '/epochs', logger: silentLogger, logEndOffset: () => logEndOffset };
    const cache = new LeaderEpochCache(options);
    assert.equal(cache.latestEpoch, -1);
    assert.equal(cache.assign(1, 0), true);
    assert.equal(cache.assign(1, 5), false);
    cache.assign(3, 10);
    cache.assign(5, 30);
    assert.equal(cache.epochForOffset(15), 3);
    assert.deepEqual(cache.endOffsetFor(0), { epoch: 0, endOffset: 0 });
    assert.deepEqual(cache.endOffsetFor(4), { epoch: 3, endOffset: 30 });
    assert.deepEqual(cache.endOffsetFor(5), { epoch: 5, endOffset: 50 });
    cache.assign(4, 20);
    assert.deepEqual(cache.entries, [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }, { epoch: 4, startOffset: 20 }]);
    cache.truncateFromEnd(20);
    cache.truncateFromStart(5);
    assert.deepEqual(cache.entries, [{ epoch: 1, startOffset: 5 }, { epoch: 3, startOffset: 10 }]);
    await cache.persist();
    assert.equal((await fs.readFile('/epochs')).toString(), '0\n2\n1 5\n3 10\n');
    logEndOffset = 12;
    const loaded = await LeaderEpochCache.load(options);
    assert.deepEqual(loaded.endOffsetFor(3), { epoch: 3, endOffset: 12 });
  });
});

describe('checkpoint files', () => {
  it('round-trips topic partition offset lines, including dashed topics', async () => {
    const fs = new MemoryFileSystem();
    await writeOffsetCheckpoint(fs, '/cp', [{ topic: '__cluster_metadata', partition: 0, offset: 7 }, { topic: 'a-b', partition: 12, offset: 0 }]);
    assert.deepEqual(await readOffsetCheckpoint(fs, '/cp', silentLogger), [
      { topic: '__cluster_metadata', partition: 0, offset: 7 },
      { topic: 'a-b', partition: 12, offset: 0 },
    ]);
    assert.equal(await readOffsetCheckpoint(fs, '/missing', silentLogger), undefined);
  });

  for (const [name, text] of [
    ['bad version', '1\n0\n'],
    ['count mismatch', '0\n2\nt 0 1\n'],
    ['bad entry', '0\n1\nt zero 1\n'],
    ['empty', ''],
  ] as const) {
    it(`treats a corrupt file (${name}) as absent with a warning`, async () => {
      const fs = new MemoryFileSystem();
      await fs.writeFile('/cp', Buffer.from(text));
      const recorder = recordingLogger();
      assert.equal(await readOffsetCheckpoint(fs, '/cp', recorder.logger), undefined);
      assert.equal(recorder.warnings().length, 1);
    });
  }
});
