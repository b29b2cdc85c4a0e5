// The scripted fault sequences of the chaos campaign that once found a problem, each a short
// `runChaos` with a fixed plan: kill -9 of every node for longer than kafkajs retries its
// connections, and a full then read-only log directory on a partition leader (about 50 s each).
// Their own file, apart from the seeded schedule of chaos.test.ts, so that each file stays well
// inside the test runner's per-file time limit on a loaded machine (together they once ran past it
// in a CI-equivalent run).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runChaos } from './chaos-run.js';
import { FaultyDisk } from './faulty-disk.js';

describe('chaos, scripted: kill -9 of every node for longer than kafkajs retries its connections', { timeout: 240_000 }, () => {
  // The first 20-minute campaign (seed 101) stopped recovering here: kafkajs's clients gave up
  // while no node answered, and the workload had no new client to carry on with.
  it('both workloads carry on once the nodes are back: writes acknowledged, the group reads again, the copy completes', async () => {
    const result = await runChaos({
      seed: 101,
      durationMs: 0,
      nemesis: ['kill'],
      // 20 s, as the hour-long campaign of seed 2028's fourth fault: the copier's next session then
      // starts while every node is down (kafkajs: KafkaJSNoBrokerAvailableError), which ended it there.
      plan: [{ kind: 'kill', target: 'all', durationMs: 20_000, quietMs: 5_000 }],
      log: (line) => console.log(line),
    });
    console.log(result.report);
    assert.deepEqual(result.anomalies, [], 'no anomalies');
    assert.equal(result.faults.length, 1);
    assert.match(result.faults[0]!.label, /kill -9 every node/);
    assert.ok(result.faults[0]!.ackRecoveryMs !== undefined && result.faults[0]!.readRecoveryMs !== undefined, 'the clients recovered');
  });
});

describe('chaos, scripted: a full, then a read-only log directory on a partition leader', { timeout: 240_000 }, () => {
  // The 35-minute campaign of seed 2027 lost its transactional workload here: the partitions in
  // the full directory answered KAFKA_STORAGE_ERROR (as Kafka's do) and moved to new leaders, but
  // kafkajs's consumer does not refresh its metadata on that error; the copier crashed when its
  // retries ran out. It now starts a new session on it, as it does on a lost connection. The
  // read-only directory after it (ext4 turned read-only under the broker's open files) fails the
  // same partitions the other way, and its repair loses what the file system had not committed.
  it('both workloads carry on: writes acknowledged, the group reads again, the copy completes', async (context) => {
    const probe = mkdtempSync(join(tmpdir(), 'chaos-disk-probe-'));
    const disk = FaultyDisk.mount(join(probe, 'disk'), 1024 * 1024);
    if (typeof disk !== 'string') disk.unmount();
    rmSync(probe, { recursive: true, force: true });
    if (typeof disk === 'string') return context.skip(disk);
    const result = await runChaos({
      seed: 2027,
      durationMs: 0,
      nemesis: ['disk'],
      plan: [
        { kind: 'disk', target: 'leader', disk: 'full', durationMs: 12_000, quietMs: 5_000 },
        { kind: 'disk', target: 'leader', disk: 'read-only', durationMs: 8_000, quietMs: 5_000 },
      ],
      log: (line) => console.log(line),
    });
    console.log(result.report);
    assert.deepEqual(result.anomalies, [], 'no anomalies');
    assert.match(result.faults[0]!.label, /full log directory/);
    assert.match(result.faults[1]!.label, /(read-only|full) log directory/);
    assert.ok(result.faults.every((fault) => fault.ackRecoveryMs !== undefined && fault.readRecoveryMs !== undefined), 'the clients recovered after both');
  });
});
