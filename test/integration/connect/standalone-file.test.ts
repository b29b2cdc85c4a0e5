// Kafka's Connect quick start on Conveyor, in-process: a standalone worker runs FileStreamSource
// (a file into a topic) and FileStreamSink (the topic out to another file). The output file must
// equal the input byte for byte, and stay equal across a clean worker restart with lines appended
// while the worker was down: nothing lost (source offsets from the offsets file, sink offsets from
// the consumer group) and nothing repeated. The tasks' counters are checked in process and on the
// REST port's GET /metrics.
import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { scrape, valueOf } from '../../support/metrics-text.js';
import { type TestBroker, startTestBroker, temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';

/** Lines with the shapes that break naive line handling: empty, long, non-ASCII, spaces. */
function lines(from: number, count: number): string {
  const out: string[] = [];
  for (let index = from; index < from + count; index++) {
    if (index % 97 === 0) out.push('');
    else if (index % 89 === 0) out.push(`long ${index} ${'x'.repeat(5000)}`);
    else out.push(`line ${index} ünïcødé ✓ ${' '.repeat(index % 3)}end`);
  }
  return `${out.join('\n')}\n`;
}

describe('Connect standalone: FileStreamSource to a topic to FileStreamSink', () => {
  let broker: TestBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  before(async () => {
    broker = await startTestBroker();
    dir = await temporaryDirectory();
  });
  after(async () => {
    await broker.close();
    await dir.remove();
  });

  it('copies a file byte for byte, and carries on after a restart without loss or repeats', async () => {
    const topic = uniqueTopic('connect-file');
    const input = join(dir.path, 'input.txt');
    const output = join(dir.path, 'output.txt');
    await writeFile(input, lines(0, 3000));
    const worker = {
      'bootstrap.servers': broker.running.bootstrapServers,
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'offset.storage.file.filename': join(dir.path, 'connect.offsets'),
      'offset.flush.interval.ms': '300',
      listeners: 'http://127.0.0.1:0',
    };
    const connectors: Record<string, string>[] = [
      { name: 'local-file-source', 'connector.class': 'FileStreamSource', 'tasks.max': '1', file: input, topic },
      { name: 'local-file-sink', 'connector.class': 'FileStreamSink', 'tasks.max': '1', file: output, topics: topic },
    ];
    const sameFiles = async () => {
      const [wanted, got] = await Promise.all([readFile(input), readFile(output).catch(() => Buffer.alloc(0))]);
      return got.length >= wanted.length ? got : false;
    };
    let connect: RunningConnect | undefined = await startConnect({ worker, connectors });
    try {
      const first = await waitFor(sameFiles, 'the sink to write every line', 30_000);
      assert.ok(first.equals(await readFile(input)), 'the output equals the input byte for byte');
      const status = await connect.herder.connectorStatus('local-file-source');
      assert.equal(status.connector.state, 'RUNNING');
      assert.deepEqual(status.tasks.map((task) => task.state), ['RUNNING']);
      assert.deepEqual(await connect.herder.connectorActiveTopics('local-file-sink'), [topic]);
      // The tasks' counters (Kafka Connect's metric names) count the 3,000 lines both ways. A task
      // counts a batch once put() or the producer's acknowledgement has returned to it, which can
      // be a moment after the lines are in the file: wait for the counts to settle, then check them.
      const taskMetrics = () => new Map(connect!.metrics().map((task) => [task.connector, task.metrics]));
      const metrics = await waitFor(() => {
        const now = taskMetrics();
        const settled = now.get('local-file-source')?.['source-record-write-total'] === 3000 && now.get('local-file-sink')?.['sink-record-send-total'] === 3000;
        return settled ? now : false;
      }, 'the tasks to count every line', 10_000).catch((error: Error) => {
        throw new Error(`${error.message}: ${JSON.stringify([...taskMetrics()])}`);
      });
      assert.equal(metrics.get('local-file-source')?.['source-record-write-total'], 3000);
      assert.equal(metrics.get('local-file-source')?.['source-record-poll-total'], 3000);
      assert.equal(metrics.get('local-file-sink')?.['sink-record-send-total'], 3000);
      // Both tasks commit offsets every offset.flush.interval.ms (300 ms) and count each commit.
      const commits = () => new Map(connect!.metrics().map((task) => [task.connector, task.metrics['offset-commit-completion-total'] ?? 0]));
      await waitFor(() => commits().get('local-file-source')! >= 1 && commits().get('local-file-sink')! >= 1, 'both tasks to count an offset commit', 10_000)
        .catch((error: Error) => { throw new Error(`${error.message}: ${JSON.stringify([...commits()])}`); });
      assert.equal(metrics.get('local-file-sink')?.['total-records-skipped'], 0, 'nothing skipped');
      // The same counters on the REST port's GET /metrics, under the JMX exporter's Connect names.
      const scraped = await scrape(`${connect.url}/metrics`);
      const source = { connector: 'local-file-source', task: '0' };
      const sink = { connector: 'local-file-sink', task: '0' };
      assert.equal(valueOf(scraped, 'kafka_connect_source_task_source_record_poll_total', source), 3000);
      assert.equal(valueOf(scraped, 'kafka_connect_source_task_source_record_write_total', source), 3000);
      assert.equal(valueOf(scraped, 'kafka_connect_sink_task_sink_record_send_total', sink), 3000);
      assert.equal(valueOf(scraped, 'kafka_connect_sink_task_sink_record_read_total', sink), 3000);
      assert.equal(valueOf(scraped, 'kafka_connect_connector_status', { ...source, status: 'running' }), 1);
      assert.equal(valueOf(scraped, 'kafka_connect_connect_worker_metrics_connector_count'), 2);
      assert.equal(valueOf(scraped, 'kafka_connect_connect_worker_metrics_task_count'), 2);

      await connect.close();
      connect = undefined;
      // Written while no worker runs: the restarted source must start after the lines it sent.
      await appendFile(input, lines(3000, 1500));
      connect = await startConnect({ worker, connectors });
      // And written while it runs.
      await appendFile(input, lines(4500, 500));
      const second = await waitFor(sameFiles, 'the sink to catch up after the restart', 30_000);
      assert.equal(second.length, (await readFile(input)).length, 'no line written twice');
      assert.ok(second.equals(await readFile(input)), 'the output equals the input byte for byte after the restart');
      // Offsets are stored every offset.flush.interval.ms: the last store names the end of the file.
      const size = (await readFile(input)).length;
      const offsets = await waitFor(async () => {
        const stored = await connect!.herder.connectorOffsets('local-file-source');
        return stored[0]?.offset?.position === size ? stored : false;
      }, 'the source offset to reach the end of the file');
      assert.deepEqual(offsets, [{ partition: { filename: input }, offset: { position: size } }]);
    } finally {
      await connect?.close();
    }
  });
});
