import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryFileSystem } from '../../base/memory-file-system.js';
import { offsetFileName } from '../log-file-names.js';
import { ManualClock, START_MS, appendUpdates, openCompactedLog, readLog } from '../../testing/test-compaction.js';
import { openTestLogManager } from '../../testing/log-support.js';
import { compactedConfig } from '../../testing/test-compaction.js';

const DIR = '/data/compacted-0';

async function names(fs: MemoryFileSystem): Promise<string[]> {
  return (await fs.readdir(DIR)).map((entry) => entry.name).sort();
}

/** Latest value per key as a reader sees it (tombstones aside). */
async function latestValues(log: Awaited<ReturnType<typeof openCompactedLog>>['log']): Promise<Map<string, string>> {
  const { records } = await readLog(log);
  return new Map(records.map((record) => [record.key!.toString(), record.value!.toString()]));
}

async function reopen(fs: MemoryFileSystem, clock: ManualClock) {
  const manager = await openTestLogManager({ fs, clock, config: compactedConfig, extra: { startBackgroundWork: false } });
  const log = manager.get('compacted', 0)!;
  // As the replica manager does when it becomes leader: everything in the log is committed.
  log.updateHighWatermark(log.logEndOffset);
  return { manager, log };
}

describe('segment swap', () => {
  it('a crash at any step of a clean loses nothing and leaves no temporary files', async () => {
    // Crash at each rename and unlink of a clean in turn, until a clean runs through uncrashed.
    let crashPoints = 0;
    for (let crashAt = 1; crashAt <= 200; crashAt += 1) {
      const fs = new MemoryFileSystem();
      const clock = new ManualClock(START_MS);
      const { log } = await openCompactedLog(fs, clock);
      await appendUpdates(log, 15, 120);
      await log.flush();
      const expected = await latestValues(log);
      const endOffset = log.logEndOffset;
      const first = await reopen(fs, clock);
      let operations = 0;
      let crashed = false;
      fs.setFaultInjector((operation) => {
        if (crashed) return 'EIO';
        if (operation !== 'rename' && operation !== 'unlink') return undefined;
        operations += 1;
        if (operations < crashAt) return undefined;
        crashed = true;
        return 'EIO';
      });
      await first.manager.cleaner!.cleanNow().catch(() => undefined);
      fs.setFaultInjector(undefined);
      if (!crashed) break;
      crashPoints += 1;
      // The process died here: the next start recovers from the files alone.
      const { manager, log: recovered } = await reopen(fs, clock);
      assert.deepEqual(await latestValues(recovered), expected, `crash at operation ${crashAt}: same latest values`);
      assert.equal(recovered.logEndOffset, endOffset);
      const leftovers = (await names(fs)).filter((name) => /\.(cleaned|swap|deleted)$/.test(name));
      assert.deepEqual(leftovers, [], `crash at operation ${crashAt}: no temporary files`);
      // And the cleaner still gets the log clean afterwards.
      await manager.cleaner!.cleanNow();
      assert.deepEqual(await latestValues(recovered), expected);
      await manager.close();
    }
    assert.ok(crashPoints >= 10 && crashPoints < 200, `crash points exercised: ${crashPoints}`);
  });

  it('completes a swap from the files: the .swap segment replaces the segments it covers', async () => {
    const fs = new MemoryFileSystem();
    const clock = new ManualClock(START_MS);
    const { manager, log } = await openCompactedLog(fs, clock);
    await appendUpdates(log, 300, 300);
    await appendUpdates(log, 5, 200, START_MS, 1000);
    await manager.cleaner!.cleanNow();
    const expected = await latestValues(log);
    const firstSegment = log.segments()[0]!;
    const covered = Math.floor((firstSegment.baseOffset + firstSegment.nextOffset) / 2);
    assert.ok(covered > firstSegment.baseOffset, 'the first cleaned segment spans several offsets');
    await manager.close();
    // Stage what a crash after the commit point leaves: the cleaned first segment renamed back to
    // `.swap`, and a stale copy of an old segment it covers.
    const [firstName] = (await names(fs)).filter((name) => name.endsWith('.log'));
    const base = Number(firstName!.slice(0, 20));
    await fs.rename(`${DIR}/${firstName}`, `${DIR}/${firstName}.swap`);
    await fs.writeFile(`${DIR}/${offsetFileName(base, '.log')}`, Buffer.alloc(0));
    await fs.writeFile(`${DIR}/${offsetFileName(covered, '.log')}`, Buffer.from('stale bytes that must never be read'));
    await fs.writeFile(`${DIR}/${offsetFileName(covered, '.index')}`, Buffer.alloc(0));
    await fs.writeFile(`${DIR}/${offsetFileName(base, '.log')}.cleaned`, Buffer.from('half written'));
    const { manager: reopened, log: recovered } = await reopen(fs, clock);
    assert.deepEqual(await latestValues(recovered), expected);
    const left = await names(fs);
    assert.ok(!left.includes(offsetFileName(covered, '.log')), 'the covered segment is gone');
    assert.ok(!left.some((name) => name.endsWith('.swap') || name.endsWith('.cleaned')));
    await reopened.close();
  });
});
