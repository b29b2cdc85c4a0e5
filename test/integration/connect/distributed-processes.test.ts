// A Connect cluster of three worker processes (`conveyor connect distributed`, run from source)
// in one group on one broker. A FileStreamSource and a two-task FileStreamSink run while lines
// are appended to the input file; the worker running the source task is killed with SIGKILL.
// Its work must move to the other two within the session timeout (scheduled.rebalance.max.delay.ms
// is 0 here; Kafka's default holds lost work for 5 minutes first), and every line written to the
// input must reach the output: at least once, nothing lost. Lines are numbered, so repeats (the
// records after the last offset flush, sent again by the new owner) are counted and reported.
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { type Status, type WorkerProcess, createConnector, distributedWorkerProperties, rest, startWorker, stopWorkers } from './worker-processes.js';

const SESSION_TIMEOUT_MS = 6_000;

describe('Connect distributed: three worker processes, one killed', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  const workers: WorkerProcess[] = [];
  before(async () => {
    broker = await startTestBroker({ config: { 'group.initial.rebalance.delay.ms': 0, 'num.partitions': 3 } });
    dir = await temporaryDirectory();
  });
  after(async () => {
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await broker.close();
    await dir.remove();
  });

  it('moves the killed worker\'s tasks to the others and loses no line', async () => {
    const group = uniqueTopic('connect-procs');
    const properties = join(dir.path, 'worker.properties');
    await writeFile(properties, distributedWorkerProperties(broker.running.bootstrapServers, group, SESSION_TIMEOUT_MS));
    for (let index = 0; index < 3; index++) workers.push(await startWorker(properties));
    const topic = uniqueTopic('connect-procs-data');
    const input = join(dir.path, 'input.txt');
    const output = join(dir.path, 'output.txt');
    await writeFile(input, '');
    // Through the third worker: unless it leads, the request is forwarded to the leader.
    await createConnector(workers[2]!, { name: 'source', config: { 'connector.class': 'FileStreamSource', file: input, topic } });
    await createConnector(workers[2]!, { name: 'sink', config: { 'connector.class': 'FileStreamSink', file: output, topics: topic, 'tasks.max': '2' } });

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

    const status = (await rest<Status>(workers[0]!.url, 'GET', '/connectors/source/status')).body;
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
    process.stderr.write(`# ${written} lines, ${seen.length - distinct.size} repeated after the kill; the source task moved ${movedAfterMs} ms after SIGKILL (session timeout ${SESSION_TIMEOUT_MS} ms)\n`);
    await stopWorkers(survivors);
  });
});
