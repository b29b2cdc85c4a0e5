// kcat (librdkafka) on a 3-broker cluster with replicated partitions: the shared replicated scenario
// (replicated-scenario.ts), produce and consume only: kcat has no transactions, and this scenario
// does not drive a consumer group with it (kcat -C is assigned every partition from the beginning).
// The consumer is one long-lived `kcat -C -u` over every partition, started once: it must print
// every acknowledged record exactly once, across the crash, at consecutive offsets. The producer
// cannot be one long-lived process: kcat 1.7 -P sends its input only once stdin ends (kcat reads
// it in blocks; checked with -u too), so each produce step runs one `kcat -P` per partition
// (enable.idempotence=true, acks=all), whose delivery reports (-v -v -v, on stderr, in order) are
// the acknowledgements; those started after the crash must find the new leaders themselves.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { requireClient } from '../../support/clients.js';
import { runChecked } from '../../support/process.js';
import { waitFor } from '../../support/wait.js';
import { type Consumed, PARTITIONS, type ProduceOutcome, type ReplicatedDriver, runReplicatedScenario } from './replicated-scenario.js';

const KCAT = 'kcat';

/** One long-lived kcat process; its stdout and stderr lines are kept for the driver. */
class KcatProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly stderr: string[] = [];
  private exited = false;

  constructor(args: string[], onStdout: (line: string) => void, onStderr?: (line: string) => void) {
    this.child = spawn(KCAT, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', onStdout);
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderr.push(line);
      if (this.stderr.length > 200) this.stderr.shift();
      onStderr?.(line);
    });
    this.child.on('exit', () => {
      this.exited = true;
    });
    this.child.stdin.on('error', () => {});
  }

  get alive(): boolean {
    return !this.exited;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end();
    const timer = setTimeout(() => {
      if (!this.exited && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
    }, 5_000);
    await gone;
    clearTimeout(timer);
  }
}

interface Report {
  ok: boolean;
  offset: number;
  error: string;
}

const driver: ReplicatedDriver = {
  client: 'kcat',
  idempotent: true,
  groups: 'kcat is driven here without a consumer group: `kcat -C` assigned every partition, its one instance reading across the crash',
  transactions: 'kcat has no transactions',
  async open(bootstrap, names) {
    const queue: Consumed[] = [];
    const consumer = new KcatProcess(['-b', bootstrap, '-C', '-t', names.records, '-o', 'beginning', '-u', '-f', '%p %o %s\\n'], (line) => {
      const match = /^(\d+) (\d+) (.*)$/.exec(line);
      if (match) queue.push({ partition: Number(match[1]), offset: Number(match[2]), value: match[3]! });
    });
    const none = (what: string) => () => Promise.reject(new Error(`kcat has no ${what}`));
    return {
      async produce(topic, records) {
        const outcome: ProduceOutcome = { acked: [], failed: [] };
        for (const partition of PARTITIONS) {
          const mine = records.filter((record) => record.partition === partition);
          if (mine.length === 0) continue;
          // -v -v -v prints each delivery report on stderr, in order for the partition.
          const { stderr } = await runChecked(KCAT, ['-b', bootstrap, '-P', '-t', topic, '-p', String(partition), '-X', 'enable.idempotence=true', '-X', 'acks=all', '-v', '-v', '-v'], {
            input: mine.map((record) => `${record.value}\n`).join(''),
            timeoutMs: 60_000,
          });
          const reports: Report[] = [];
          for (const line of stderr.split('\n')) {
            const delivered = /Message delivered to partition (\d+) \(offset (-?\d+)\)/.exec(line);
            if (delivered) reports.push({ ok: Number(delivered[1]) === partition, offset: Number(delivered[2]), error: `delivered to partition ${delivered[1]}` });
            else if (/Delivery failed/.test(line)) reports.push({ ok: false, offset: -1, error: line });
          }
          if (reports.length !== mine.length) throw new Error(`kcat -P to partition ${partition}: ${reports.length} delivery reports for ${mine.length} records; stderr:\n${stderr.slice(-2000)}`);
          mine.forEach((record, i) => {
            const report = reports[i]!;
            if (report.ok) outcome.acked.push({ ...record, offset: report.offset });
            else outcome.failed.push({ ...record, error: report.error });
          });
        }
        return outcome;
      },
      async groupConsume(count, timeoutMs) {
        await waitFor(`${count} records from kcat -C`, () => (queue.length >= count ? true : undefined), timeoutMs).catch(() => undefined);
        if (queue.length < count && !consumer.alive) throw new Error(`kcat -C exited: ${consumer.stderr.slice(-10).join(' / ')}`);
        return queue.splice(0, count);
      },
      committed: none('consumer group'),
      transaction: none('transactions'),
      readCommitted: none('transactions'),
      async close() {
        await consumer.stop();
      },
    };
  },
};

test('kcat on a 3-broker cluster survives the crash of its partition leader', { timeout: 90_000 }, async (t) => {
  const client = await requireClient(t, 'kcat');
  if (client === undefined) return;
  t.diagnostic(`kcat ${client.version}`);
  await runReplicatedScenario(t, driver);
});
