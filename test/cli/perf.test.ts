// `conveyor perf produce|consume|e2e` end to end against an in-process broker, run from source as
// child processes (tools-entry.ts): the counts they report are checked against the broker's log,
// latency percentiles must be present and ordered, the e2e warm-up must leave its records out of
// the latency, and bad options must be refused with a message naming the option.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { PerfReport } from '../../src/cli/perf/perf-report.js';
import { type TestBroker, listOffset, startTestBroker, uniqueTopic } from '../integration/helpers.js';
import { type ProcessResult, runProcess } from '../support/process.js';

const toolsEntry = fileURLToPath(new URL('./tools-entry.ts', import.meta.url));

let broker: TestBroker;
let server: string[];

function perf(args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', 'tsx', toolsEntry, 'perf', ...args, ...server], { timeoutMs: 60_000 });
}

async function report(args: string[]): Promise<PerfReport> {
  const result = await perf([...args, '--json']);
  assert.equal(result.code, 0, `conveyor perf ${args.join(' ')} failed:\n${result.stderr}`);
  return JSON.parse(result.stdout) as PerfReport;
}

function assertOrdered(latency: PerfReport['latency']): void {
  assert.ok(latency !== undefined, 'a latency summary');
  assert.ok(latency.count > 0);
  const { p50Ms, p95Ms, p99Ms, p999Ms, maxMs } = latency;
  assert.ok(p50Ms > 0 && p50Ms <= p95Ms && p95Ms <= p99Ms && p99Ms <= p999Ms && p999Ms <= maxMs, JSON.stringify(latency));
}

describe('conveyor perf', { timeout: 180_000, concurrency: 1 }, () => {
  before(async () => {
    broker = await startTestBroker();
    server = ['--bootstrap-server', broker.running.bootstrapServers];
  });
  after(() => broker.close());

  it('produce writes exactly the records it reports, and consume reads them all back', async () => {
    const topic = uniqueTopic('perf');
    const produced = await report(['produce', '-t', topic, '--partitions', '3', '-n', '30000', '--record-size', '100', '--batch-size', '16384', '--linger-ms', '2', '--acks', 'all', '--producers', '2']);
    assert.equal(produced.kind, 'produce');
    assert.equal(produced.records, 30_000);
    assert.equal(produced.errors, 0);
    assert.equal(produced.bytes, 30_000 * 100);
    assert.ok(produced.recordsPerSec > 0 && produced.mbPerSec > 0);
    assertOrdered(produced.latency);
    let inLog = 0;
    for (const partition of [0, 1, 2]) inLog += Number((await listOffset(broker.client, topic, partition, -1)).offset);
    assert.equal(inLog, 30_000, 'the log holds what produce reported');

    const consumed = await report(['consume', '-t', topic, '-n', '30000', '--partition-max-bytes', '65536']);
    assert.equal(consumed.kind, 'consume');
    assert.equal(consumed.records, 30_000);
    assert.ok(consumed.bytes > 30_000 * 100, 'batch bytes include the record framing');
  });

  it('e2e times produce-to-consume latency of records due after the warm-up', async () => {
    const topic = uniqueTopic('perf-e2e');
    const all = await report(['e2e', '-t', topic, '--throughput', '2000', '--record-size', '200', '--linger-ms', '0', '--duration-ms', '1500']);
    assert.equal(all.kind, 'e2e');
    assert.equal(all.errors, 0);
    assert.ok(all.records >= 2_000, `about 3,000 records at 2,000/s for 1.5 s, got ${all.records}`);
    assertOrdered(all.latency);
    assert.equal(all.latency!.count, all.records, 'every record timed without a warm-up');

    const warmed = await report(['e2e', '-t', topic, '--throughput', '2000', '--record-size', '200', '--linger-ms', '0', '--duration-ms', '1500', '--warmup-ms', '1000']);
    assertOrdered(warmed.latency);
    assert.ok(warmed.latency!.count < warmed.records * 0.6, `only the last third is timed: ${warmed.latency!.count} of ${warmed.records}`);
  });

  it('refuses bad options with a message naming them', async () => {
    const acks = await perf(['produce', '-t', uniqueTopic('perf-bad'), '-n', '10', '--acks', '2']);
    assert.equal(acks.code, 1);
    assert.match(acks.stderr, /--acks must be 0, 1 or all/);
    const warmup = await perf(['e2e', '-t', uniqueTopic('perf-bad'), '--warmup-ms', '-5']);
    assert.equal(warmup.code, 1);
    assert.match(warmup.stderr, /--warmup-ms must be zero or a positive integer/);
  });
});
