// A Connect cluster of three, then of two, worker processes (`conveyor connect distributed`, run
// from source) in one group on one broker. A FileStreamSource and a two-task FileStreamSink run
// while lines are appended to the input file; the worker running the source task is killed with
// SIGKILL. Its work must move to the others within the session timeout and a rebalance (asserted:
// under twice the session timeout; scheduled.rebalance.max.delay.ms is 0 in this worker config,
// Kafka's default holds lost work for 5 minutes first), and every line written to the
// input must reach the output: at least once, nothing lost. Lines are numbered, so repeats (the
// records after the last offset flush, sent again by the new owner) are counted and reported.
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { type Status, type WorkerProcess, createConnector, distributedWorkerProperties, rest, startWorker, stopWorkers } from './worker-processes.js';

const SESSION_TIMEOUT_MS = 6_000;

describe('Connect distributed: worker processes, one killed', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  /** Every worker process started, killed at the end if still running. */
  const started: WorkerProcess[] = [];
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0, 'num.partitions': 3 } });
    dir = await temporaryDirectory();
  });
  after(async () => {
    for (const worker of started) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await broker.close();
    await dir.remove();
  });

  it('three workers: moves the killed worker\'s tasks to the others within twice the session timeout and loses no line', async () => {
    await killOneOf(3);
  });

  it('two workers: moves everything the killed worker ran to the last one within twice the session timeout and loses no line', async () => {
    await killOneOf(2);
  });

  async function killOneOf(count: number): Promise<void> {
    const group = uniqueTopic('connect-procs');
    const properties = join(dir.path, `worker-${count}.properties`);
    await writeFile(properties, distributedWorkerProperties(broker.running.bootstrapServers, group, SESSION_TIMEOUT_MS, { 'scheduled.rebalance.max.delay.ms': '0' }));
    const workers: WorkerProcess[] = [];
    for (let index = 0; index < count; index++) workers.push(await startWorker(properties));
    started.push(...workers);
    const topic = uniqueTopic('connect-procs-data');
    const input = join(dir.path, `input-${count}.txt`);
    const output = join(dir.path, `output-${count}.txt`);
    await writeFile(input, '');
    // Through the last worker: unless it leads, the request is forwarded to the leader.
    await createConnector(workers[count - 1]!, { name: 'source', config: { 'connector.class': 'FileStreamSource', file: input, topic } });
    await createConnector(workers[count - 1]!, { name: 'sink', config: { 'connector.class': 'FileStreamSink', file: output, topics: topic, 'tasks.max': '2' } });

    let next = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        const lines = Array.from({ length: 20 }, () => `line-${next++}\n`).join('');
        await appendFile(input, lines);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const outputLines = async () => (await readFile(output, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    await waitFor(async () => (await outputLines()).length >= 200, 'the pipeline to copy lines', 60_000);

    // The status topic may trail the data: wait until it names the source task's worker.
    const status = await waitFor(async () => {
      const current = (await rest<Status>(workers[0]!.url, 'GET', '/connectors/source/status')).body;
      return current.tasks[0]?.state === 'RUNNING' ? current : false;
    }, 'the source task\'s status to say where it runs', 20_000);
    const victim = workers.find((worker) => worker.workerId === status.tasks[0]?.worker_id);
    assert.ok(victim, `the source task runs on one of the workers: ${JSON.stringify(status)}`);
    const survivors = workers.filter((worker) => worker !== victim);
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();

    // The source task moves to a survivor within the session timeout and a rebalance.
    const moved = await waitFor(async () => {
      const current = (await rest<Status>(survivors[0]!.url, 'GET', '/connectors/source/status')).body;
      const task = current.tasks[0];
      return task?.state === 'RUNNING' && task.worker_id !== victim.workerId ? current : false;
    }, 'the source task to run on a surviving worker', 40_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${survivors.map((worker) => worker.stderr.split('\n').slice(-25).join('\n')).join('\n---\n')}`);
    });
    const movedAfterMs = Date.now() - killedAt;
    assert.ok(survivors.some((worker) => worker.workerId === moved.tasks[0]!.worker_id), 'the new owner is a survivor');
    // The group notices within the session timeout; the rest (a rebalance, the task's start, its
    // status read back) must fit in as long again.
    assert.ok(movedAfterMs < 2 * SESSION_TIMEOUT_MS, `the source task moved ${movedAfterMs} ms after SIGKILL (session timeout ${SESSION_TIMEOUT_MS} ms)`);

    await new Promise((resolve) => setTimeout(resolve, 2_000));
    writing = false;
    await writer;
    const written = next;
    const seen = await waitFor(async () => {
      const lines = await outputLines();
      return new Set(lines).size >= written ? lines : false;
    }, `every one of ${written} lines to reach the output`, 60_000).catch(async (error: Error) => {
      const distinct = new Set(await outputLines());
      const missing = Array.from({ length: written }, (_, index) => index).filter((index) => !distinct.has(`line-${index}`));
      const logs = survivors.map((worker) => worker.stderr.split('\n').filter((line) => !/joined generation/.test(line)).slice(-15).join('\n')).join('\n---\n');
      throw new Error(`${error.message}: ${distinct.size} distinct lines, ${missing.length} missing (first ${missing.slice(0, 5).join(', ')}; last ${missing.slice(-3).join(', ')})\n${logs}`);
    });
    const distinct = new Set(seen);
    for (let index = 0; index < written; index++) assert.ok(distinct.has(`line-${index}`), `line-${index} reached the output`);
    assert.equal(distinct.size, written, 'no line that was never written');
    // Every sink task runs on a survivor (statuses are read from the status topic, so they may trail the data).
    await waitFor(async () => {
      const sinkStatus = (await rest<Status>(survivors[0]!.url, 'GET', '/connectors/sink/status')).body;
      return sinkStatus.tasks.length === 2 && sinkStatus.tasks.every((task) => task.state === 'RUNNING' && survivors.some((worker) => worker.workerId === task.worker_id));
    }, 'both sink tasks to be RUNNING on survivors', 20_000);
    process.stderr.write(`# ${count} workers: ${written} lines, ${seen.length - distinct.size} repeated after the kill; the source task moved ${movedAfterMs} ms after SIGKILL (session timeout ${SESSION_TIMEOUT_MS} ms)\n`);
    await stopWorkers(survivors);
  }
});
