// The replicated scenario every client family runs against a 3-broker combined cluster (startCluster,
// in-memory storage, one process, real TCP on loopback), given a driver for its client:
//   1. Two topics of 3 partitions with replication factor 3 and min.insync.replicas=2: one for
//      plain records, one for transactions. __consumer_offsets and __transaction_state have 1
//      partition each (RF 3), so the group and the transactional id have one coordinator each.
//   2. One client instance is opened for the whole scenario: a producer with acks=all (idempotent
//      where the client is), a consumer in a group subscribed to the records topic, committing what
//      it read, and a transactional producer (where the client has transactions).
//   3. With every broker up: 4 records to each partition, all acknowledged; the group reads them
//      exactly once at offsets 0-3 and commits; a committed and an aborted transaction over the 3
//      partitions, then a plain "sentinel" record per partition. Conveyor's protocol-level
//      read_committed reader checks the broker's answer at each leader from offset 0 (a wrong
//      answer there is the broker's); then a read_committed consumer of the client reads this
//      round, from after the previous round's sentinel to this round's, and sees the committed
//      transaction only.
//   4. The victim is crashed (power cut: its unsynced writes are lost): the leader of
//      __consumer_offsets-0 (the group's coordinator), which also leads data partitions of both
//      topics (asserted); for a client without groups, the leader of partition 0. Nothing is done
//      for the client: the same instance goes on at once.
//   5. While the victim is down: 4 more records to each partition, every one acknowledged (an
//      idempotent client must not fail any); the group reads every acknowledged record exactly once
//      and nothing from before the kill (it resumes from its committed offsets, with its
//      coordinator moved), at offsets 4-7 for an idempotent producer; a committed and an aborted
//      transaction, sentinels, and the read_committed consumer sees exactly both committed ones;
//      the group's committed offsets are the end of what it read.
//   6. The victim restarts, catches up (back in every ISR), and the same client writes one more
//      record to each partition, which the group reads.
// Where a client lacks a step, the driver says why and the scenario asserts the client's refusal
// instead (kafka-python 2.0.2: no idempotence, no transactions). kcat has no consumer group in this
// scenario (its -G balanced consumer is not driven here) and no transactions: it only produces
// (long-lived idempotent `kcat -P` processes) and consumes (long-lived `kcat -C` processes from the
// beginning); its consumers must read every record exactly once across the kill.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { AdminClient } from '../../../src/client/admin-client.js';
import { ClusterClient } from '../../../src/client/cluster-client.js';
import type { MetadataImage } from '../../../src/metadata/metadata-image.js';
import { type RunningCluster, startCluster } from '../../../src/node/start-cluster.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { connect } from '../../support/raw-client.js';
import { readCommittedPartition } from '../../support/read-committed.js';
import { waitFor } from '../../support/wait.js';

export const PARTITIONS = [0, 1, 2];
const PER_PARTITION = 4;
const WAIT_MS = 20_000;

export interface Sent {
  partition: number;
  value: string;
}

export interface Consumed extends Sent {
  offset: number;
}

export interface ProduceOutcome {
  /** The records the client acknowledged, with the offset it reported where it reports one. */
  acked: Array<Sent & { offset?: number }>;
  /** The records whose send failed, with the client's error. */
  failed: Array<Sent & { error: string }>;
}

export interface ScenarioNames {
  records: string;
  txn: string;
  groupId: string;
  transactionalId: string;
}

export interface ReplicatedSession {
  /** Sends the records with acks=all (in order per partition) and reports each one's outcome. */
  produce(topic: string, records: Sent[]): Promise<ProduceOutcome>;
  /**
   * The group consumer reads until `count` records came (or `timeoutMs` passed), committing what it
   * read (synchronously, after processing), and returns them in the order read.
   */
  groupConsume(count: number, timeoutMs: number): Promise<Consumed[]>;
  /** The group's committed offsets for the records topic's partitions, as the client reads them. */
  committed(): Promise<Array<{ partition: number; offset: number }>>;
  /** One transaction of the transactional producer, committed or aborted. */
  transaction(topic: string, records: Sent[], outcome: 'commit' | 'abort'): Promise<void>;
  /**
   * A read_committed consumer of the client reads `topic` from the given offset of each partition
   * (a fresh consumer each time) until it has seen every `until` record; returns what it read.
   */
  readCommitted(topic: string, from: ReadonlyMap<number, number>, until: Sent[], timeoutMs: number): Promise<Consumed[]>;
  close(): Promise<void>;
}

export interface ReplicatedDriver {
  /** Topic prefix and report name. */
  client: string;
  /** True, or why the client's producer cannot be idempotent (failed sends are then resent as new values, see produceAll). */
  idempotent: true | string;
  /** True, or why the client is not driven in a group here. */
  groups: true | string;
  /** True, or why it has no transactions; then `transactionRefusal` shows the client refusing one. */
  transactions: true | string;
  /** What the client answers when asked for a transactional producer it does not have. */
  transactionRefusal?(bootstrap: string, transactionalId: string): Promise<string>;
  open(bootstrap: string, names: ScenarioNames): Promise<ReplicatedSession>;
  /** Client-specific checks run at the end (the cluster whole again), e.g. to pin a known client bug. */
  finalChecks?(t: TestContext, session: ReplicatedSession, names: ScenarioNames): Promise<void>;
}

/** Runs the scenario as subtests of `t`, with its own cluster. */
export async function runReplicatedScenario(t: TestContext, driver: ReplicatedDriver): Promise<void> {
  const started = Date.now();
  const cluster = await startCluster({
    brokers: 3,
    storage: 'memory',
    config: {
      'broker.session.timeout.ms': 3000,
      'broker.heartbeat.interval.ms': 500,
      'replica.fetch.backoff.ms': 100,
      'auto.create.topics.enable': false,
      'offsets.topic.num.partitions': 1,
      'offsets.topic.replication.factor': 3,
      'transaction.state.log.num.partitions': 1,
      'transaction.state.log.replication.factor': 3,
      'transaction.state.log.min.isr': 2,
      'group.initial.rebalance.delay.ms': 0,
    },
  });
  let session: ReplicatedSession | undefined;
  t.after(async () => {
    await session?.close().catch(() => undefined);
    await cluster.close();
  });
  const c = driver.client;
  const names: ScenarioNames = { records: `${c}-records`, txn: `${c}-txn`, groupId: `${c}-group`, transactionalId: `${c}-txn-id` };
  const hasGroups = driver.groups === true;
  const hasTxn = driver.transactions === true;
  const idempotent = driver.idempotent === true;
  const images = new Images(cluster);
  await images.wait('three unfenced brokers on every node', cluster.nodeIds, (image) => [1, 2, 3].every((id) => image.brokers.get(id)?.fenced === false));

  for (const topic of [names.records, names.txn]) await createReplicatedTopic(cluster.node(1).bootstrapServer, topic);
  await images.wait('both topics with a leader and 3 in-sync replicas per partition', cluster.nodeIds, (image) =>
    [names.records, names.txn].every((topic) => PARTITIONS.every((p) => {
      const partition = image.partition(topic, p);
      return partition !== undefined && partition.leader >= 0 && partition.isr.length === 3;
    })));
  if (driver.idempotent !== true) t.diagnostic(`${c}: no idempotent producer (${driver.idempotent})`);
  if (driver.groups !== true) t.diagnostic(`${c}: no consumer group (${driver.groups})`);
  if (driver.transactions !== true) t.diagnostic(`${c}: no transactions (${driver.transactions})`);

  // Bootstrapped at every broker, as applications are: one of them is crashed later.
  session = await driver.open(cluster.bootstrapServers, names);
  const open = session;
  t.diagnostic(`${c}: cluster up and client open in ${Date.now() - started} ms`);

  /** What the group (or kcat's consumers) has read, per partition, in order. */
  const seen = new Map<number, Consumed[]>(PARTITIONS.map((p) => [p, []]));
  /** Every acknowledged record of the records topic, per partition, in acknowledgement order. */
  const acked = new Map<number, Array<Sent & { offset?: number }>>(PARTITIONS.map((p) => [p, []]));
  const txnExpected: Sent[] = [];
  /** Where each transaction round's read_committed check starts: after the previous round's sentinel. */
  const txnFrom = new Map(PARTITIONS.map((p) => [p, 0]));

  /**
   * Produces `round`'s records; an idempotent client must acknowledge every one (its own retries
   * cover a leader change). A client without idempotence is resent each failed record as a new
   * value (`…~retryN`), as an application would, so every value is sent once and each acknowledged
   * value must be read exactly once; a failed value may or may not be in the log.
   */
  const produceAll = async (round: string): Promise<{ ackedNow: Sent[]; failures: string[] }> => {
    let pending: Sent[] = PARTITIONS.flatMap((partition) => Array.from({ length: PER_PARTITION }, (_, i) => ({ partition, value: `${round}-${partition}-${i}` })));
    const ackedNow: Sent[] = [];
    const failures: string[] = [];
    for (let attempt = 0; pending.length > 0; attempt++) {
      assert.ok(attempt < 20, `${c}: records still failing after 20 attempts: ${JSON.stringify(pending)}; errors ${failures.slice(-3).join(' | ')}`);
      const outcome = await open.produce(names.records, pending);
      for (const record of outcome.acked) {
        acked.get(record.partition)!.push(record);
        ackedNow.push(record);
      }
      for (const failure of outcome.failed) {
        failures.push(`${failure.value}: ${failure.error}`);
        failedValues.add(failure.value);
      }
      assert.equal(outcome.acked.length + outcome.failed.length, pending.length, `${c}: an outcome for every record`);
      if (idempotent) assert.deepEqual(outcome.failed, [], `${c}: an idempotent producer must recover by itself, yet sends failed`);
      pending = outcome.failed.map(({ partition, value }) => ({ partition, value: `${value.replace(/~retry\d+$/, '')}~retry${attempt + 1}` }));
      // The application's back-off before it resends.
      if (pending.length > 0) await delay(500);
    }
    return { ackedNow, failures };
  };

  /** Values whose send failed (a client without idempotence): each may or may not be in the log. */
  const failedValues = new Set<string>();

  /**
   * The group reads until it has every record acknowledged in this round (and, for a client without
   * idempotence, any failed send that did reach the log), committing as it goes. Checked: no value
   * read twice, nothing read that was not sent, offsets in order, each partition resuming at the
   * offset the group had committed; for an idempotent producer, exactly the acknowledged records
   * in order at consecutive offsets.
   */
  const groupRead = async (expected: Sent[], expectFrom: Map<number, number>): Promise<void> => {
    const read: Consumed[] = [];
    const missing = () => expected.filter((e) => !read.some((r) => r.partition === e.partition && r.value === e.value));
    const deadline = Date.now() + 30_000;
    while (missing().length > 0 && Date.now() < deadline) {
      read.push(...(await open.groupConsume(missing().length, Math.max(1000, deadline - Date.now()))));
    }
    assert.deepEqual(missing(), [], `${c}: acknowledged records the group did not read (it read ${JSON.stringify(read)})`);
    for (const record of read) seen.get(record.partition)!.push(record);
    for (const p of PARTITIONS) {
      const ackedValues = acked.get(p)!.map((r) => r.value);
      const values = seen.get(p)!.map((r) => r.value);
      assert.equal(new Set(values).size, values.length, `${c}: partition ${p}: a record read twice by the group: ${JSON.stringify(values)}`);
      for (const value of values) assert.ok(ackedValues.includes(value) || failedValues.has(value), `${c}: partition ${p}: read ${value}, which was never sent or was sent in a later round`);
      const offsets = seen.get(p)!.map((r) => r.offset);
      assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), `${c}: partition ${p}: read out of offset order`);
      const now = read.filter((r) => r.partition === p);
      assert.ok(now.length > 0, `${c}: partition ${p}: nothing read this round`);
      assert.equal(now[0]!.offset, expectFrom.get(p), `${c}: partition ${p}: the group did not resume from its committed offset`);
      if (idempotent) {
        assert.deepEqual(values, ackedValues, `${c}: partition ${p}: values read`);
        assert.deepEqual(offsets, values.map((_, i) => i), `${c}: partition ${p}: offsets read`);
      }
    }
  };

  const txnRound = async (round: string): Promise<void> => {
    const committed = PARTITIONS.map((partition) => ({ partition, value: `${round}-committed-${partition}` }));
    const aborted = PARTITIONS.map((partition) => ({ partition, value: `${round}-aborted-${partition}` }));
    const sentinels = PARTITIONS.map((partition) => ({ partition, value: `${round}-sentinel-${partition}` }));
    await open.transaction(names.txn, committed, 'commit');
    await open.transaction(names.txn, aborted, 'abort');
    const outcome = await open.produce(names.txn, sentinels);
    assert.deepEqual(outcome.failed, [], `${c}: sentinels after the transactions`);
    const roundExpected = [...committed, ...sentinels];
    txnExpected.push(...roundExpected);
    // The broker's own answer first, through Conveyor's protocol-level read_committed reader at each
    // partition's leader, from offset 0 (every round so far): if it is wrong, the broker is.
    const running = cluster.nodeIds.filter((id) => cluster.node(id).broker !== undefined);
    for (const p of PARTITIONS) {
      const leader = images.leaderOf(names.txn, p, running);
      const [host, port] = cluster.node(leader).bootstrapServer.split(':');
      const raw = await connect(host!, Number(port));
      try {
        const { records } = await readCommittedPartition(raw, names.txn, p);
        const expected = txnExpected.filter((r) => r.partition === p).map((r) => r.value);
        assert.deepEqual(records.map((r) => r.value), expected, `broker: read_committed Fetch of ${names.txn}-${p} at its leader ${leader} (Conveyor's raw reader)`);
      } finally {
        raw.close();
      }
    }
    // Then the client's read_committed consumer, over this round's records: from the offset after
    // the previous round's sentinel, to this round's (between them: committed, aborted, marker...).
    const read = await open.readCommitted(names.txn, txnFrom, sentinels, 30_000);
    for (const p of PARTITIONS) {
      const mine = read.filter((r) => r.partition === p);
      assert.deepEqual(mine.map((r) => r.value), roundExpected.filter((r) => r.partition === p).map((r) => r.value), `${c}: read_committed on partition ${p} of ${names.txn} from offset ${txnFrom.get(p)} (the aborted transaction must not show)`);
      txnFrom.set(p, mine.at(-1)!.offset + 1);
    }
  };

  await t.test('with every broker up: produces, the group reads and commits, and transactions commit and abort', async (sub) => {
    const { ackedNow } = await produceAll('before');
    assert.equal(ackedNow.length, PARTITIONS.length * PER_PARTITION);
    for (const p of PARTITIONS) {
      const offsets = acked.get(p)!.map((r) => r.offset);
      if (offsets.every((o) => o !== undefined)) assert.deepEqual(offsets, [0, 1, 2, 3], `${c}: acknowledged offsets of partition ${p}`);
    }
    await groupRead(ackedNow, new Map(PARTITIONS.map((p) => [p, 0])));
    if (hasGroups) assert.deepEqual(await open.committed(), PARTITIONS.map((partition) => ({ partition, offset: PER_PARTITION })), `${c}: the group's committed offsets`);
    if (hasTxn) {
      await txnRound('t1');
    } else if (driver.transactionRefusal) {
      const refusal = await driver.transactionRefusal(cluster.bootstrapServers, names.transactionalId);
      sub.diagnostic(`${c} refuses a transactional producer: ${refusal}`);
      assert.match(refusal, /transactional_id|transactional/i);
    }
  });

  const groupCoordinator = () => images.leaderOf('__consumer_offsets', 0);
  const victim = hasGroups ? groupCoordinator() : images.leaderOf(names.records, 0);
  const live = cluster.nodeIds.filter((id) => id !== victim);
  const victimLeads = (topic: string) => PARTITIONS.filter((p) => images.leaderOf(topic, p) === victim);

  await t.test(`crashes the leader of the client's partition (node ${victim}); the same client instance goes on by itself`, async (sub) => {
    const ledRecords = victimLeads(names.records);
    const ledTxn = victimLeads(names.txn);
    assert.ok(victim > 0, 'a leader to crash');
    assert.ok(ledRecords.length > 0, `${c}: node ${victim} leads no partition of ${names.records}`);
    if (hasTxn) assert.ok(ledTxn.length > 0, `${c}: node ${victim} leads no partition of ${names.txn}`);
    const txnCoordinator = images.leaderOf('__transaction_state', 0);
    sub.diagnostic(`${c}: crashing node ${victim}: leader of ${names.records} ${JSON.stringify(ledRecords)} and ${names.txn} ${JSON.stringify(ledTxn)}` +
      `${hasGroups ? ', the group coordinator' : ''}${!hasTxn ? "" : txnCoordinator === victim ? ", the transaction coordinator" : `; the transaction coordinator is ${txnCoordinator}`}; active controller ${cluster.activeController()}`);
    const crashedAt = Date.now();
    await cluster.crash(victim);

    const before = new Map(PARTITIONS.map((p) => [p, seen.get(p)!.length > 0 ? seen.get(p)!.at(-1)!.offset + 1 : 0]));
    const { ackedNow, failures } = await produceAll('after');
    sub.diagnostic(`${c}: ${ackedNow.length} records acknowledged ${Date.now() - crashedAt} ms after the crash${failures.length > 0 ? `; ${failures.length} failed sends resent: ${failures.slice(0, 3).join(' | ')}` : ''}`);
    // The partitions are led by live nodes now (the client found them; this only reports it).
    for (const p of ledRecords) assert.ok(live.includes(images.leaderOf(names.records, p, live)), `partition ${p} has a live leader`);
    await groupRead(ackedNow, before);
    sub.diagnostic(`${c}: ${hasGroups ? 'the group' : 'the consumer'} read them ${Date.now() - crashedAt} ms after the crash`);
    if (hasGroups) {
      assert.notEqual(groupCoordinator(), victim);
      const ends = PARTITIONS.map((partition) => ({ partition, offset: seen.get(partition)!.at(-1)!.offset + 1 }));
      assert.deepEqual(await open.committed(), ends, `${c}: the group's committed offsets after the crash`);
    }
    if (hasTxn) {
      await txnRound('t2');
      sub.diagnostic(`${c}: a transaction committed and one aborted ${Date.now() - crashedAt} ms after the crash`);
    }
  });

  await t.test(`restarts node ${victim}: it catches up and the client goes on`, async () => {
    await cluster.restart(victim);
    await images.wait(`node ${victim} unfenced and back in every ISR`, cluster.nodeIds, (image) =>
      image.brokers.get(victim)?.fenced === false &&
      [names.records, names.txn].every((topic) => PARTITIONS.every((p) => image.partition(topic, p)?.isr.includes(victim) === true)));
    const before = new Map(PARTITIONS.map((p) => [p, seen.get(p)!.at(-1)!.offset + 1]));
    const outcome = await open.produce(names.records, PARTITIONS.map((partition) => ({ partition, value: `restarted-${partition}` })));
    assert.deepEqual(outcome.failed, []);
    for (const record of outcome.acked) acked.get(record.partition)!.push(record);
    await groupRead(outcome.acked, before);
  });

  if (driver.finalChecks) await driver.finalChecks(t, open, names);
}

/** Creates a topic of 3 partitions, RF 3, min.insync.replicas=2, with Conveyor's admin client. */
async function createReplicatedTopic(bootstrap: string, topic: string): Promise<void> {
  const client = new ClusterClient(connectTcp, bootstrap, 'conveyor-replicated-test');
  try {
    await new AdminClient(client).createTopic(topic, { partitions: PARTITIONS.length, replicationFactor: 3, configs: { 'min.insync.replicas': '2' } });
  } finally {
    client.close();
  }
}

class Images {
  constructor(private readonly cluster: RunningCluster) {}

  /** The leader of a partition in the images of the running nodes (of `among`), -1 when none knows it. */
  leaderOf(topic: string, partition: number, among: readonly number[] = this.cluster.nodeIds): number {
    for (const id of among) {
      const found = this.cluster.node(id).broker?.services.image.partition(topic, partition);
      if (found) return found.leader;
    }
    return -1;
  }

  async wait(what: string, nodeIds: readonly number[], check: (image: MetadataImage) => boolean): Promise<void> {
    await waitFor(what, () => (nodeIds.every((id) => {
      const broker = this.cluster.node(id).broker;
      return broker !== undefined && check(broker.services.image);
    }) ? true : undefined), WAIT_MS);
  }
}

/**
 * A long-lived child process (a Python driver) that answers one JSON line per command:
 * {"id", "command", ...payload} in, {"id", "result"} or {"id", "error"} out. Its stderr is kept for
 * failures. It is the client instance: it lives for the whole scenario.
 */
export class LineSession {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  private stderr = '';
  private exited = false;

  constructor(command: string, args: string[]) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-6000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      let reply: { id?: number; result?: unknown; error?: string };
      try {
        reply = JSON.parse(line);
      } catch {
        this.stderr = (this.stderr + `[stdout] ${line}\n`).slice(-6000);
        return;
      }
      const waiter = this.waiting.get(reply.id ?? -1);
      if (!waiter) return;
      this.waiting.delete(reply.id!);
      if (reply.error !== undefined) waiter.reject(new Error(`${reply.error}\nstderr:\n${this.stderr.slice(-3000)}`));
      else waiter.resolve(reply.result);
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`driver exited (${code ?? signal})\nstderr:\n${this.stderr}`));
      this.waiting.clear();
    });
    this.child.stdin.on('error', () => {});
  }

  call<T>(command: string, payload: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error(`driver already exited\nstderr:\n${this.stderr}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${command} timed out after ${timeoutMs} ms\nstderr:\n${this.stderr.slice(-3000)}`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value as T);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin.write(`${JSON.stringify({ id, command, ...payload })}\n`);
    });
  }

  /** Asks the driver to close its clients and exit; kills it by its pid if it does not within 15 s. */
  async close(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    await this.call('close', {}, 15_000).catch(() => undefined);
    const timer = setTimeout(() => {
      if (!this.exited && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGKILL');
    }, 15_000);
    await gone;
    clearTimeout(timer);
  }
}
