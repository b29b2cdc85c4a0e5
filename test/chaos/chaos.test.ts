// The short share of the chaos campaign that `npm test` runs (about two minutes): three real
// `conveyor start` processes behind fault-injecting proxies, the queue workload, and a schedule of
// kill -9 and network partitions (isolate, minority/majority split, bridge, clients cut off from
// one node) aimed at the partition leader, the controller, the group coordinator or a random node.
// The long campaign is `npm run chaos` (docs/reliability.md). CONVEYOR_CHAOS_SEED replays another
// schedule; CONVEYOR_CHAOS_OUT keeps the report, chart and node logs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SendEvent } from '../../src/testing/history.js';
import { checkQueueHistory } from '../../src/testing/queue-checker.js';
import { runChaos } from './chaos-run.js';

const SEED = Number(process.env.CONVEYOR_CHAOS_SEED ?? 11);

describe(`chaos: kill -9 and network partitions under a queue workload (seed ${SEED})`, { timeout: 300_000 }, () => {
  it('loses no acknowledged write, duplicates none, recovers after every fault and converges', async () => {
    const result = await runChaos({
      seed: SEED,
      durationMs: 75_000,
      nemesis: ['kill', 'partition'],
      minFaultMs: 4_000,
      maxFaultMs: 8_000,
      minQuietMs: 4_000,
      maxQuietMs: 7_000,
      ...(process.env.CONVEYOR_CHAOS_OUT ? { outputDir: process.env.CONVEYOR_CHAOS_OUT } : {}),
      log: (line) => console.log(line),
    });
    console.log(result.report);
    assert.deepEqual(result.anomalies, [], 'no anomalies');
    assert.ok(result.faults.length >= 5, `${result.faults.length} faults injected`);
    assert.ok(result.faults.every((fault) => fault.ackRecoveryMs !== undefined && fault.readRecoveryMs !== undefined), 'the clients recovered after every fault');
    assert.ok(result.acknowledgedRecords > 500, `${result.acknowledgedRecords} records acknowledged`);
    // The same history with one acknowledged record taken out of every read must show a lost write.
    const events = result.history.events;
    const dropped = events.find((event): event is SendEvent => event.type === 'send' && event.outcome === 'ok')!.value;
    const tampered = events.filter((event) => !(event.type === 'poll' && event.value === dropped));
    assert.ok(checkQueueHistory(tampered, { finalReadComplete: true }).anomalies.some((anomaly) => anomaly.kind === 'lost-write'), 'a record missing from every read is reported lost');
  });
});
