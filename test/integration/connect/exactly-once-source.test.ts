// Exactly-once source delivery (KIP-618) on a Connect cluster of three worker processes with
// exactly.once.source.support=enabled: a FileStreamSource copies a file that keeps growing into a
// one-partition topic, and the worker running its task is killed with SIGKILL mid-stream. The new
// owner starts from the offsets committed in the same transactions as the records, so a
// read_committed reader (kafkajs) must see every line exactly once and in order: no loss, no
// duplicate, no reordering: the lines go into a queue history (src/testing/history.ts) as sends of
// unknown fate (the file's writer cannot know when the task sends them) and polls, which the queue
// checker must find free of duplicates, inconsistent offsets, non-monotonic polls, skips and values
// nobody wrote; that every line was read, in order, is checked beside it. Without exactly-once,
// the same kill repeats lines (distributed-processes.test.ts counts them).
import assert from 'node:assert/strict';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { History } from '../../../src/testing/history.js';
import { checkQueueHistory, formatQueueReport } from '../../../src/testing/queue-checker.js';
import { kafkajsClient } from '../../support/kafkajs.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { type Status, type WorkerProcess, createConnector, distributedWorkerProperties, rest, startWorker, stopWorkers } from './worker-processes.js';

const SESSION_TIMEOUT_MS = 6_000;

describe('Connect exactly-once source: a worker killed mid-transaction', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  const workers: WorkerProcess[] = [];
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0 } });
    dir = await temporaryDirectory();
  });
  after(async () => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await broker.close();
    await dir.remove();
  });

  it('delivers every line exactly once, in order, across a SIGKILL of the task\'s worker', async () => {
    const group = uniqueTopic('connect-eos');
    const properties = join(dir.path, 'worker.properties');
    await writeFile(properties, distributedWorkerProperties(broker.running.bootstrapServers, group, SESSION_TIMEOUT_MS, { 'exactly.once.source.support': 'enabled' }));
    for (let index = 0; index < 3; index++) workers.push(await startWorker(properties));
    const topic = uniqueTopic('connect-eos-data');
    const input = join(dir.path, 'input.txt');
    await writeFile(input, '');
    await createConnector(workers[1]!, {
      name: 'eos-source',
      config: { 'connector.class': 'FileStreamSource', file: input, topic, 'exactly.once.support': 'required', 'batch.size': '50' },
    });

    const history = new History();
    let next = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const lines = Array.from({ length: 20 }, () => `line-${next++}`);
        await appendFile(input, lines.map((line) => `${line}\n`).join(''));
        for (const value of lines) history.add({ type: 'send', process: 'file-writer', topic, partition: 0, value, outcome: 'unknown' });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const kafka = kafkajsClient(broker.running.bootstrapServers, 'eos-reader');
    const consumer = kafka.consumer({ groupId: `${group}-reader`, readUncommitted: false });
    const seen: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const value = message.value!.toString();
        seen.push(value);
        history.add({ type: 'poll', process: 'eos-reader', topic, partition, offset: Number(message.offset), value, isolation: 'read_committed' });
      },
    });
    try {
      await waitFor(() => seen.length >= 300, 'the source to deliver lines', 60_000);
      // The status topic may trail the data: wait until it names the task's worker.
      const owner = await waitFor(async () => {
        const task = (await rest<Status>(workers[0]!.url, 'GET', '/connectors/eos-source/status')).body.tasks[0];
        return task?.state === 'RUNNING' ? task.worker_id : false;
      }, 'the task\'s status to say where it runs', 20_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${workers.map((worker) => worker.stderr.split('\n').slice(-15).join('\n')).join('\n---\n')}`);
      });
      const victim = workers.find((worker) => worker.workerId === owner);
      assert.ok(victim, `the task runs on one of the workers: ${owner}`);
      victim.child.kill('SIGKILL');
      const survivors = workers.filter((worker) => worker !== victim);
      await waitFor(async () => {
        const task = (await rest<Status>(survivors[0]!.url, 'GET', '/connectors/eos-source/status')).body.tasks[0];
        return task?.state === 'RUNNING' && task.worker_id !== victim.workerId;
      }, 'the task to run on a surviving worker', 40_000);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      writing = false;
      await writer;
      const written = next;
      await waitFor(() => seen.length >= written, `all ${written} lines to be read (read_committed)`, 60_000).catch((error: Error) => {
        throw new Error(`${error.message}: ${seen.length} read\n${survivors.map((worker) => worker.stderr.split('\n').slice(-20).join('\n')).join('\n---\n')}`);
      });
      // A little longer: a duplicate would arrive after the last line.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const checked = checkQueueHistory(history, { finalReadComplete: true });
      assert.ok(checked.valid, formatQueueReport(checked));
      assert.equal(checked.stats.polls, seen.length, 'the checker saw every read');
      const expected = Array.from({ length: written }, (_, index) => `line-${index}`);
      const firstDifference = seen.findIndex((line, index) => line !== expected[index]);
      assert.equal(firstDifference, -1, `line ${firstDifference} is '${seen[firstDifference]}', expected '${expected[firstDifference]}' (${seen.length} read, ${written} written)`);
      assert.equal(seen.length, written, 'every line exactly once');
      await stopWorkers(survivors);
    } finally {
      await consumer.disconnect();
    }
  });
});
