// A transactional consume-transform-produce workload on a cluster of real `conveyor start`
// processes (test/support/cluster-processes.ts), for the cluster exactly-once test
// (test/reliability/cluster-exactly-once.test.ts, which bounces brokers on its own schedule) and
// for callers that inflict their own faults (kill -9, SIGSTOP, network partitions, restarts, slow
// links). Its parts, all started by startEosWorkload:
//   - the input and output topics, `partitions` partitions each, replication factor 3 and
//     min.insync.replicas=2, created by the workload; __consumer_offsets and __transaction_state
//     get the same from EOS_CLUSTER_SETTINGS, which the caller merges into the cluster's settings;
//   - an input seeder: an idempotent kafkajs producer (acks=all, retrying without limit) writing
//     `records` records while the copy runs (value `n`, record n to partition n % partitions), in
//     `sends` rounds `sendPauseMs` apart (300 rounds 100 ms apart, about 45 s, by default), so the
//     copier commits hundreds of small transactions and every fault lands among them. It keeps,
//     per partition, the acknowledged records in order: what the output must hold;
//   - the exactly-once copier of exactly-once-copy.test.ts (test/reliability/exactly-once-copier.ts,
//     kafkajs, its own process, supervised by test/support/copier-supervisor.ts): a read_committed
//     group consumer on the input that copies each fetched batch to the same output partition
//     (value `copy-n`) in one transaction that also commits the input offsets. Its transactions
//     cross brokers: the transaction coordinator, the output partitions' leaders and the group
//     coordinator are wherever the cluster put them;
//   - an aborter: another transactional producer aborting small transactions on the output, one
//     after another, so the output holds aborted records a read_committed reader must skip.
//
// Nothing is hidden. The caller's `faults` object (completed, inProgress), updated around each
// fault, is what explains a connection loss: a copier exit the caller did not ask for (killCopier),
// a `copier failed` line, a copier's connection loss, or an aborter's connection error, that no
// fault explains (none in progress, none completed since that client, or the one it replaced,
// last worked), and any other error of the aborter or the seeder, rejects `failed`. Only the
// copier's and the seeder's failures stop the copy; an aborter's is reported by `finish` too.
//
// `finish` then checks, and returns every anomaly as a line naming partitions, offsets and values:
// the input written and every acknowledged record copied (the group's committed offsets) within
// its bound, the copy's progress otherwise described (every partition's LSO and high watermark,
// the group's offsets); then, from each partition's current leader as the running nodes' Metadata
// report it (newest leader epoch; the caller's paused nodes left out), on the raw protocol
// (test/support/read-committed.ts): no transaction left open on the output (last stable offset =
// high watermark, within a bound), the input holding exactly the acknowledged records in order,
// every input record in the output exactly once and in input order per partition, no aborted
// record visible, and the group's stable committed offsets equal to the input's end offsets.
// Every wait is bounded and says what it waited for; every request to a node is bounded too, so a
// paused node or a cut-off link costs a timeout, not a hang.
import { setTimeout as delay } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { FindCoordinatorApi, OffsetFetchApi } from '../../src/protocol/messages/index.js';
import { describeError, isConnectionError, isInvalidTxnStateError, isLeaderMovingError, isStorageError } from '../reliability/kafkajs-errors.js';
import type { ProcessCluster } from './cluster-processes.js';
import { type FaultCount, superviseCopier } from './copier-supervisor.js';
import { type TopicView, createReplicatedTopic, newestPartition, runningViews } from './leader-kill-support.js';
import { RawClient } from './raw-client.js';
import { type ReadCommittedResult, describeBatches, readCommittedPartition } from './read-committed.js';
import { waitFor } from './wait.js';

export type { FaultCount } from './copier-supervisor.js';

/** Partitions of __consumer_offsets and __transaction_state under EOS_CLUSTER_SETTINGS. */
export const EOS_INTERNAL_PARTITIONS = 3;

/**
 * What the workload needs of the cluster, merged by the caller into ProcessCluster's `settings`
 * (at least 3 nodes): both internal topics replicated 3 times with min.insync.replicas 2, like the
 * workload's own topics, and the copier's short group sessions (3 s) allowed and joined at once.
 */
export const EOS_CLUSTER_SETTINGS: Readonly<Record<string, string>> = {
  'group.initial.rebalance.delay.ms': '0',
  'group.min.session.timeout.ms': '1000',
  'offsets.topic.num.partitions': String(EOS_INTERNAL_PARTITIONS),
  'offsets.topic.replication.factor': '3',
  'transaction.state.log.num.partitions': String(EOS_INTERNAL_PARTITIONS),
  'transaction.state.log.replication.factor': '3',
  'transaction.state.log.min.isr': '2',
  'min.insync.replicas': '2',
};

/** The replication factor of the input and output topics (min.insync.replicas 2). */
export const EOS_REPLICATION_FACTOR = 3;

export interface EosNames {
  input: string;
  output: string;
  /** The copier's consumer group. */
  group: string;
  /** The copier's transactional id (each copier process of the run uses it: a new one fences the last). */
  transactionalId: string;
  aborterTransactionalId: string;
}

export const EOS_DEFAULT_NAMES: Readonly<EosNames> = {
  input: 'eos-input',
  output: 'eos-output',
  group: 'eos-copier',
  transactionalId: 'eos-copier-1',
  aborterTransactionalId: 'eos-aborter',
};

export interface EosWorkloadOptions {
  cluster: ProcessCluster;
  /** Input records to write in all. */
  records: number;
  /** Partitions of the input and of the output topic; 3 by default. The workload creates both topics. */
  partitions?: number;
  names?: Partial<EosNames>;
  /** The caller's faults, updated around each one: only a fault explains a client's connection loss. */
  faults: FaultCount;
  /** What one fault is called in failure messages (e.g. `broker bounce`); `fault` by default. */
  faultName?: string;
  /** Nodes the caller has paused (SIGSTOP), read live: never asked anything, never taken as a leader. */
  paused?: ReadonlySet<number>;
  /** Rounds of input sends (300 by default), `sendPauseMs` apart (100 by default). */
  sends?: number;
  sendPauseMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
  /** Each line of a copier's stderr (newline included) as it arrives, with the copier's number (1 for the first). */
  onCopierStderr?: (line: string, copier: number) => void;
  /** Copiers print their TRACE lines (to onCopierStderr only; see exactly-once-copier.ts). */
  traceCopier?: boolean;
}

export interface EosFinishOptions {
  /** Bound for the input to be written, then again for the copy to catch up with it. */
  timeoutMs: number;
  /**
   * End the input where it stands instead of waiting for all of it: the input producer starts no
   * new send, and the copy is checked against what it had acknowledged. A campaign's faults can
   * slow the input below its planned pace; what was acknowledged is still the whole input.
   */
  endInput?: boolean;
  /** Bound for every output partition's transactions to be ended (LSO = HW) once the copy is done; 30 s by default. */
  settleMs?: number;
  /** Bound for each final read (a partition, the group's offsets); 30 s by default. */
  readTimeoutMs?: number;
}

export interface EosResult {
  /** Every check that failed, one line each with the partitions, offsets and values involved; empty when all is well. */
  anomalies: string[];
  /** Figures for a report, one per line. */
  summary: string;
  /** Input records acknowledged to the seeder. */
  acknowledgedRecords: number;
  /** From the seeder's start to the copy caught up (or to the end of the wait for it). */
  copyMs: number;
  abortedTransactions: number;
  /** Copier processes launched, and those ended on purpose (killCopier, and the last one by finish). */
  copiers: { launched: number; killedOnPurpose: number };
  /** Connection losses survived, each explained by a fault: the copiers' RECOVERING lines, the aborter's errors. */
  recoveries: { copiers: string[]; aborter: string[] };
}

export interface EosWorkload {
  readonly names: Readonly<EosNames>;
  readonly partitions: number;
  /** Input records acknowledged so far. */
  seeded(): number;
  /** Input records copied so far: the sum of the group's committed offsets. Rejects if they cannot be read right now. */
  copiedSoFar(): Promise<number>;
  /** Rejects when the seeder, the aborter or a copier fails (an error no fault explains); never resolves. */
  readonly failed: Promise<never>;
  /** SIGKILLs the running copier (by its pid); resolves once its replacement is launched (bounded, 10 s). */
  killCopier(): Promise<void>;
  /** Every copier's stderr so far, for a failure report. */
  copierStderr(): string;
  /**
   * Waits (bounded) for the seeder to finish and the copy to catch up, stops the copier and the
   * aborter, runs every final check; returns the anomalies (empty when all is well) and figures.
   * Call once.
   */
  finish(options: EosFinishOptions): Promise<EosResult>;
  /** Stops the seeder, the aborter and the copier; idempotent, for after() or finally. */
  stop(): Promise<void>;
}

/** Bound for the input and output topics to be led with a full ISR once created. */
const TOPICS_READY_MS = 60_000;
/** Bound for any one exchange with a node (a read of a partition, a coordinator lookup). */
const REQUEST_BOUND_MS = 10_000;
/** Bound for the aborter's and the seeder's last operations once stopped. */
const STOP_BOUND_MS = 60_000;

/** Rejects, naming `what` (worded when the time is up), if `work` has not settled within `ms`. */
async function bounded<T>(what: string | (() => string), ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = () => new Error(`timed out after ${ms} ms waiting for ${typeof what === 'string' ? what : what()}`);
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(expired()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** An error as one line: the message of the harness's own errors, kafkajs's with their causes. */
function reason(error: unknown): string {
  return error instanceof Error && error.constructor === Error ? error.message : describeError(error);
}

/** A node the harness may ask: running and not paused. */
function usable(cluster: ProcessCluster, paused: ReadonlySet<number>, node: number): boolean {
  return node >= 0 && cluster.nodeIds.includes(node) && cluster.isRunning(node) && !paused.has(node);
}

/** The current leader of `topic`-`partition`: the newest epoch among the running (unpaused) nodes' Metadata, if that node runs and is not paused. */
export async function leaderOf(cluster: ProcessCluster, topic: string, partition: number, paused: ReadonlySet<number> = new Set()): Promise<{ leader: number; leaderEpoch: number } | undefined> {
  const newest = newestPartition(await runningViews(cluster, topic, paused), partition);
  if (newest === undefined || !usable(cluster, paused, newest.leader)) return undefined;
  return { leader: newest.leader, leaderEpoch: newest.leaderEpoch };
}

/** Talks to one node on the raw protocol: connect within 2 s, `use` within `boundMs`, then the connection is closed. */
async function withClient<T>(cluster: ProcessCluster, nodeId: number, what: string, use: (client: RawClient) => Promise<T>, boundMs = REQUEST_BOUND_MS): Promise<T> {
  const [host, port] = cluster.address(nodeId).split(':');
  const client = await RawClient.connect(host!, Number(port), 2_000);
  try {
    return await bounded(`${what} on node ${nodeId}`, boundMs, use(client));
  } finally {
    await client.close();
  }
}

/**
 * Why the topic is not ready yet, or undefined: every node of the cluster answering Metadata
 * (ProcessCluster nodes are all running at the start) and listing every node as an unfenced
 * broker, and every partition led by a running node with all its replicas in the ISR, on every node.
 */
function topicNotReady(cluster: ProcessCluster, paused: ReadonlySet<number>, views: readonly TopicView[], partitions: number): string | undefined {
  if (views.length !== cluster.nodeIds.length) return `${views.length} of ${cluster.nodeIds.length} nodes answer Metadata`;
  for (const view of views) {
    if (view.brokers.length !== cluster.nodeIds.length) return `node ${view.node} lists brokers ${view.brokers.join(',')}`;
    if (view.partitions.length !== partitions) return `node ${view.node} lists ${view.partitions.length} partitions`;
    for (const entry of view.partitions) {
      if (!usable(cluster, paused, entry.leader)) return `node ${view.node}: partition ${entry.partition} leader ${entry.leader}`;
      if (entry.replicas.length !== EOS_REPLICATION_FACTOR || entry.isr.join(',') !== entry.replicas.join(',')) return `node ${view.node}: partition ${entry.partition} replicas ${entry.replicas.join(',')} isr ${entry.isr.join(',')}`;
    }
  }
  return undefined;
}

/**
 * One partition's output as runs of consecutive input records, for an anomaly: e.g.
 * `copy-0..copy-2999 (positions 0-999) at offsets 0-1020; copy-2700..copy-3297 at ...` shows
 * where a stretch was copied twice.
 */
function describeRuns(records: readonly { offset: number; value: string }[], wanted: readonly string[]): string {
  const position = new Map(wanted.map((value, index) => [value, index]));
  const runs: string[] = [];
  let start: { index: number; offset: number; value: string } | undefined;
  let last: { index: number; offset: number; value: string } | undefined;
  const flush = () => {
    if (start !== undefined && last !== undefined) runs.push(`${start.value}..${last.value} (positions ${start.index}-${last.index}) at offsets ${start.offset}-${last.offset}`);
  };
  for (const record of records) {
    const index = position.get(record.value) ?? -1;
    if (last === undefined || index !== last.index + 1 || index < 0) {
      flush();
      start = { index, offset: record.offset, value: record.value };
    }
    last = { index, offset: record.offset, value: record.value };
  }
  flush();
  return runs.length <= 40 ? runs.join('; ') : `${runs.slice(0, 20).join('; ')}; ... ${runs.length - 40} runs left out ...; ${runs.slice(-20).join('; ')}`;
}

/** Where `records` first part from `wanted` (position, offset, values), or undefined if they are the same. */
function firstDifference(records: readonly { offset: number; value: string }[], wanted: readonly string[]): string | undefined {
  for (let index = 0; index < Math.max(records.length, wanted.length); index++) {
    const record = records[index];
    if (record?.value !== wanted[index]) {
      const found = record === undefined ? 'nothing (the log ends there)' : `${record.value} at offset ${record.offset}`;
      return `${records.length} records where ${wanted.length} were expected, first difference at position ${index}: ${found} where ${wanted[index] ?? 'nothing'} was expected`;
    }
  }
  return undefined;
}

/** Starts the workload: creates the topics, waits until they are in sync, then starts the seeder, the aborter and the copier. */
export async function startEosWorkload(options: EosWorkloadOptions): Promise<EosWorkload> {
  const { cluster, records, faults } = options;
  const partitions = options.partitions ?? 3;
  const names: EosNames = { ...EOS_DEFAULT_NAMES, ...options.names };
  const faultName = options.faultName ?? 'fault';
  const paused = options.paused ?? new Set<number>();
  const sends = options.sends ?? 300;
  const sendPauseMs = options.sendPauseMs ?? 100;
  const log = options.log ?? (() => {});
  const bootstrap = cluster.bootstrapServers;
  if (cluster.nodeIds.length < EOS_REPLICATION_FACTOR) throw new Error(`the exactly-once workload needs at least ${EOS_REPLICATION_FACTOR} nodes, not ${cluster.nodeIds.length}`);

  const askable = cluster.nodeIds.filter((id) => usable(cluster, paused, id));
  if (askable.length === 0) throw new Error('no running node to create the topics through');
  await createReplicatedTopic(cluster, askable[0]!, names.input, partitions, EOS_REPLICATION_FACTOR, { 'min.insync.replicas': '2' });
  await createReplicatedTopic(cluster, askable[1 % askable.length]!, names.output, partitions, EOS_REPLICATION_FACTOR, { 'min.insync.replicas': '2' });
  let notReady: string | undefined = 'not asked yet';
  await waitFor(`topics ${names.input} and ${names.output} led with a full ISR on every node`, async () => {
    for (const topic of [names.input, names.output]) {
      notReady = topicNotReady(cluster, paused, await runningViews(cluster, topic, paused), partitions);
      if (notReady !== undefined) {
        notReady = `${topic}: ${notReady}`;
        return undefined;
      }
    }
    return true;
  }, TOPICS_READY_MS, 100).catch((error: unknown) => {
    throw new Error(`${String(error)} (last seen: ${notReady})`);
  });
  log(`eos workload: topics ${names.input} and ${names.output} in sync`);

  // ---- the group's committed offsets, the copy's progress --------------------------------------

  /**
   * The group's committed offsets of the input partitions, from its coordinator (FindCoordinator on
   * a running node), or undefined if they cannot be read right now. With `requireStable`, offsets
   * of a transaction still open are an error (undefined) rather than left out.
   */
  const groupOffsets = async (requireStable: boolean): Promise<number[] | undefined> => {
    const asked = cluster.nodeIds.find((id) => usable(cluster, paused, id));
    if (asked === undefined) return undefined;
    const coordinator = await withClient(cluster, asked, `FindCoordinator for group ${names.group}`, async (client) => {
      const response = await client.request(FindCoordinatorApi, 4, { keyType: 0, coordinatorKeys: [names.group] }, { timeoutMs: 5_000 });
      const entry = response.coordinators?.[0];
      return entry?.errorCode === ErrorCode.NONE ? entry.nodeId : undefined;
    });
    if (coordinator === undefined || !usable(cluster, paused, coordinator)) return undefined;
    return withClient(cluster, coordinator, `OffsetFetch for group ${names.group}`, async (client) => {
      const response = await client.request(OffsetFetchApi, 7, { groupId: names.group, topics: [{ name: names.input, partitionIndexes: Array.from({ length: partitions }, (_, index) => index) }], requireStable }, { timeoutMs: 5_000 });
      if (response.errorCode !== ErrorCode.NONE) return undefined;
      const entries = response.topics?.[0]?.partitions ?? [];
      if (entries.some((entry) => entry.errorCode !== ErrorCode.NONE)) return undefined;
      // -1: nothing committed yet for the partition.
      return Array.from({ length: partitions }, (_, index) => Number(entries.find((entry) => entry.partitionIndex === index)?.committedOffset ?? -1));
    });
  };

  const copiedSoFar = async (): Promise<number> => {
    const offsets = await groupOffsets(false);
    if (offsets === undefined) throw new Error(`the committed offsets of group ${names.group} cannot be read right now`);
    return offsets.reduce((sum, offset) => sum + Math.max(0, offset), 0);
  };

  /** One partition read at read_committed from its current leader, in one attempt. */
  const readFromLeader = async (topic: string, partition: number): Promise<(ReadCommittedResult & { leader: number }) | undefined> => {
    const leader = await leaderOf(cluster, topic, partition, paused);
    if (leader === undefined) return undefined;
    return { ...(await withClient(cluster, leader.leader, `a read_committed read of ${topic}-${partition}`, (client) => readCommittedPartition(client, topic, partition))), leader: leader.leader };
  };

  /** The output's batches (markers too) from a little before the first record copied twice to a little after its second copy. */
  const describeFirstDuplicate = async (partition: number, records: readonly { offset: number; value: string }[]): Promise<string> => {
    const first = new Map<string, number>();
    let again: { offset: number; value: string } | undefined;
    for (const record of records) {
      if (first.has(record.value)) {
        again = record;
        break;
      }
      first.set(record.value, record.offset);
    }
    if (again === undefined) return '(none)';
    const from = Math.max(0, first.get(again.value)! - 30);
    const to = again.offset + 30;
    const leader = await leaderOf(cluster, names.output, partition, paused);
    if (leader === undefined) return `(no leader of ${names.output}-${partition} to read from)`;
    const lines = await withClient(cluster, leader.leader, `the batches of ${names.output}-${partition}`, (client) =>
      describeBatches(client, names.output, partition, from, to),
    ).catch((error: unknown) => [describeError(error)]);
    return lines.map((line) => `  ${line}`).join('\n');
  };

  /** Where each input and output partition stands, for the report of a copy that stopped moving. */
  const describeStuck = async (): Promise<string> => {
    const parts: string[] = [`group offsets ${JSON.stringify(await groupOffsets(false).catch((error: unknown) => describeError(error)))}`];
    for (const topic of [names.input, names.output]) {
      for (let partition = 0; partition < partitions; partition++) {
        const leader = await leaderOf(cluster, topic, partition, paused).catch(() => undefined);
        if (leader === undefined) {
          parts.push(`${topic}-${partition}: no leader`);
          continue;
        }
        const read = await withClient(cluster, leader.leader, `a read_committed read of ${topic}-${partition}`, (client) => readCommittedPartition(client, topic, partition)).catch((error: unknown) => describeError(error));
        parts.push(typeof read === 'string' ? `${topic}-${partition} on node ${leader.leader}: ${read}` : `${topic}-${partition} on node ${leader.leader} (epoch ${leader.leaderEpoch}): LSO ${read.lastStableOffset}, HW ${read.highWatermark}, ${read.records.length} committed records`);
      }
    }
    return parts.join('; ');
  };

  // ---- the seeder ------------------------------------------------------------------------------

  /**
   * Writes the input while the copy runs: `sends` rounds of about records / sends records each
   * (record n to partition n % partitions, value `n`), one send per partition, one at a time with
   * a pause after each round, from an idempotent kafkajs producer (acks=all, retrying without
   * limit through the faults). `expected` holds, per partition, the output values of the
   * acknowledged records in order. A send kafkajs gives up on rejects `failed`: the input would no
   * longer be known.
   */
  const expected = new Map<number, string[]>(Array.from({ length: partitions }, (_, partition) => [partition, []]));
  const perSend = Math.max(partitions, Math.ceil(records / sends));
  let seeded = 0;
  let stopping = false;
  /** The input ends after the send in progress (finish's endInput). */
  let inputEnded = false;
  // The client's own retries (connecting, metadata) are as patient as the sends': with every node
  // down at once (a chaos campaign kills them all), kafkajs's default of 5 gives up within seconds.
  const seederKafka = new Kafka({ clientId: 'eos-input', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, connectionTimeout: 1_000, retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 100, maxRetryTime: 1_000 } });
  const seederProducer = seederKafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 50, maxRetryTime: 500 } });
  const seederStartedAt = performance.now();
  const seederDone = (async () => {
    await seederProducer.connect();
    try {
      for (let start = 0; start < records && !stopping && !inputEnded; start += perSend) {
        const numbers = Array.from({ length: Math.min(perSend, records - start) }, (_, index) => start + index);
        // One partition per send: kafkajs 2.2.4 keeps a send's responses per broker across its
        // retries, so a partition whose leader moved to a broker that had already answered for
        // another partition is never sent again, and the send still succeeds (tulios/kafkajs#1303,
        // #1798). Input lost that way showed up here as acknowledged records missing from the input.
        for (let partition = 0; partition < partitions && !stopping && !inputEnded; partition++) {
          const mine = numbers.filter((n) => n % partitions === partition);
          if (mine.length === 0) continue;
          await seederProducer.send({ topic: names.input, acks: -1, timeout: 10_000, messages: mine.map((n) => ({ key: `k${n}`, value: String(n), partition })) });
          for (const n of mine) expected.get(partition)!.push(`copy-${n}`);
          seeded += mine.length;
        }
        await delay(sendPauseMs);
      }
    } catch (error) {
      if (!stopping) throw new Error(`the input producer failed after ${seeded} records: ${describeError(error)}`);
    } finally {
      await seederProducer.disconnect().catch(() => undefined);
    }
  })();
  seederDone.catch(() => undefined); // observed through `failed` and finish

  // ---- the aborter -----------------------------------------------------------------------------

  /**
   * Aborts small transactions on the output topic, one after another, until stopped. A connection,
   * storage, leader-moving or INVALID_TXN_STATE error is tolerated (the client is replaced) only if
   * a fault is in progress or completed since the aborter last worked: since its client's first
   * transaction ended, or for a client replacing one that failed, since its predecessor's did (as a
   * copier keeps its predecessor's until `RECOVERED`: the replacement may meet the same fault's
   * aftermath). Any other error rejects `failed`. A client replaced with a transaction possibly
   * open is fenced by the next one's InitProducerId, and the last one by `fenceAborter`.
   */
  let aborterRunning = true;
  let aborted = 0;
  let aborterLastEndedInError = false;
  const tolerated: string[] = [];
  const newAborter = () =>
    new Kafka({ clientId: 'eos-aborter', brokers: bootstrap.split(','), logLevel: logLevel.NOTHING, retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 } }).producer({
      transactionalId: names.aborterTransactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
    });
  const aborterLoop = (async () => {
    // Faults completed when the aborter last worked (see above).
    let faultsAtWork = faults.completed;
    while (aborterRunning) {
      const producer = newAborter();
      try {
        await producer.connect();
        aborterLastEndedInError = false;
        let working = false;
        while (aborterRunning) {
          const transaction = await producer.transaction();
          // One partition per send, as the seeder: a kafkajs 2.2.4 send across brokers that is
          // retried while one of its requests is unanswered can send a partition's next sequence
          // to its new leader (OUT_OF_ORDER_SEQUENCE_NUMBER, test/reliability/kafkajs-sequence-race.test.ts).
          for (let partition = 0; partition < partitions; partition++) {
            await transaction.send({ topic: names.output, messages: [{ value: `ABORTED-${aborted}`, partition }] });
          }
          await transaction.abort();
          aborted += 1;
          if (!working) {
            working = true;
            faultsAtWork = faults.completed;
          }
          // Pacing, not synchronisation: leaves the copier and the brokers most of the machine.
          await delay(50);
        }
      } catch (error) {
        aborterLastEndedInError = true;
        const explained = faults.inProgress || faults.completed !== faultsAtWork;
        // INVALID_TXN_STATE: as for the copier (exactly-once-copier.ts), fatal to the producer and
        // replaced, accepted only where a fault explains it (seen after healed partitions; docs/reliability.md).
        if (!(explained && (isConnectionError(error) || isStorageError(error) || isLeaderMovingError(error) || isInvalidTxnStateError(error)))) {
          throw new Error(`the aborter failed (${explained ? 'not a connection, storage or leader-moving error' : `no ${faultName} explains it`}): ${describeError(error)}`);
        }
        tolerated.push(describeError(error));
        // A node cut off or down refuses at once: not a reconnection loop at full speed.
        await delay(200);
      } finally {
        await producer.disconnect().catch(() => undefined);
      }
    }
  })();
  aborterLoop.catch(() => undefined); // observed through `failed` and endAborter
  let aborterEnded: Promise<void> | undefined;
  /** Stops the aborter: its loop ends after its current transaction (bounded, once for finish and stop together); rejects if it failed. */
  const endAborter = () => {
    aborterRunning = false;
    aborterEnded ??= bounded(() => `the aborter to stop (it was in its transaction number ${aborted + 1})`, STOP_BOUND_MS, aborterLoop);
    return aborterEnded;
  };
  /** After endAborter: a new instance's InitProducerId aborts a transaction the last client may have left open. */
  const fenceAborter = async (): Promise<void> => {
    if (!aborterLastEndedInError) return;
    const producer = newAborter();
    await bounded('a new aborter instance to fence the transaction its last client may have left open', STOP_BOUND_MS, producer.connect()).finally(() => producer.disconnect().catch(() => undefined));
  };

  // ---- the copier ------------------------------------------------------------------------------

  const supervisor = superviseCopier({
    args: () => [bootstrap, names.input, names.output, names.group, names.transactionalId],
    faults,
    faultName,
    ...(options.onCopierStderr === undefined ? {} : { onStderr: options.onCopierStderr }),
    trace: options.traceCopier === true,
  });

  const never = <T>(work: Promise<T>) => work.then(() => new Promise<never>(() => {}));
  /** A failure that stops the copy: the copier's or the seeder's. */
  const copyFailed: Promise<never> = Promise.race([supervisor.failed, never(seederDone)]);
  copyFailed.catch(() => undefined);
  const failed: Promise<never> = Promise.race([copyFailed, never(aborterLoop)]);
  failed.catch(() => undefined); // the caller races it; unobserved it must not end the process
  /**
   * `work`, or the copy's first failure if that comes first. An aborter that failed does not stop
   * the copy: `finish` reports it and still runs every check.
   */
  const guarded = <T>(work: Promise<T>) => Promise.race([work, copyFailed]);

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping = true;
      // A send retrying without limit against nodes that are gone ends with its connections.
      if (seeded < records) await seederProducer.disconnect().catch(() => undefined);
      await supervisor.stop().catch((error: unknown) => log(`eos workload stop: copier: ${describeError(error)}`));
      await endAborter().catch((error: unknown) => log(`eos workload stop: ${reason(error)}`));
      await bounded('the input producer to stop', STOP_BOUND_MS, seederDone).catch((error: unknown) => log(`eos workload stop: ${reason(error)}`));
    })();
    return stopped;
  };

  const finish = async (finishOptions: EosFinishOptions): Promise<EosResult> => {
    const settleMs = finishOptions.settleMs ?? 30_000;
    const readTimeoutMs = finishOptions.readTimeoutMs ?? 30_000;
    const anomalies: string[] = [];
    const lines: string[] = [];
    let copyMs = Number.NaN;
    const result = (): EosResult => ({
      anomalies,
      summary: lines.join('\n'),
      acknowledgedRecords: seeded,
      copyMs,
      abortedTransactions: aborted,
      copiers: supervisor.counts(),
      recoveries: { copiers: supervisor.recoveries(), aborter: [...tolerated] },
    });
    // What was copied: the input's acknowledged records when the copy completed, else how far it got.
    const figures = (completed = true) => `${completed ? `copied ${seeded} acknowledged records in ${Math.round(copyMs)} ms` : `the copy of ${seeded} acknowledged records did not complete (ended after ${Math.round(copyMs)} ms)`}; ${aborted} aborted transactions; copiers ${JSON.stringify(supervisor.counts())}; errors survived (connection, storage, leader moving): copiers ${supervisor.recoveries().length}, aborter ${tolerated.length}`;

    // The input written, then every acknowledged record copied (the group's offsets say so; the output is read below).
    try {
      if (finishOptions.endInput === true && seeded < records) {
        inputEnded = true;
        log(`eos workload: input ended at ${seeded} of ${records} planned records`);
      }
      await guarded(bounded(() => (inputEnded ? `the input producer to end its last send (${seeded} acknowledged so far)` : `the input producer to write its ${records} records (${seeded} acknowledged so far)`), finishOptions.timeoutMs, seederDone));
      log(`eos workload: input written after ${Math.round(performance.now() - seederStartedAt)} ms`);
      await guarded(waitFor(`every input record copied (${seeded} acknowledged)`, async () => ((await copiedSoFar()) >= seeded ? true : undefined), finishOptions.timeoutMs, 200)).catch(async (error: unknown) => {
        // A failure of the workload is reported as it is; a copy that stopped moving with where it stands.
        if (error instanceof Error && error.message.startsWith('timed out')) throw new Error(`${error.message}; ${await describeStuck()}`);
        throw error;
      });
      copyMs = performance.now() - seederStartedAt;
      await guarded(supervisor.stop());
    } catch (error) {
      copyMs = performance.now() - seederStartedAt;
      anomalies.push(`the copy did not complete: ${reason(error)}`);
      await stop();
      lines.push(figures(false));
      return result();
    }
    // An aborter that failed (at any time) or does not stop is reported, and the checks still run;
    // a transaction its last client may have left open is fenced first (one left open anyway shows
    // as LSO < HW on the output).
    await endAborter().catch((error: unknown) => anomalies.push(reason(error)));
    await fenceAborter().catch((error: unknown) => anomalies.push(reason(error)));
    const abortedTransactions = aborted;
    await stop();
    lines.push(figures());

    // Every transaction ended: no output partition waits on an open one (bounded: markers are written asynchronously).
    let reads: (ReadCommittedResult & { leader: number })[] = [];
    let readErrors: string[] = [];
    const settled = await waitFor(`every ${names.output} partition with no open transaction (LSO = high watermark)`, async () => {
      reads = [];
      readErrors = [];
      for (let partition = 0; partition < partitions; partition++) {
        const read = await readFromLeader(names.output, partition).catch((error: unknown) => {
          readErrors.push(`${names.output}-${partition}: ${describeError(error)}`);
          return undefined;
        });
        if (read === undefined) return undefined;
        reads.push(read);
      }
      return reads.every((read) => read.lastStableOffset === read.highWatermark) ? true : undefined;
    }, settleMs, 500).then(
      () => true,
      (error: unknown) => {
        const standing = reads.map((read, partition) => `${names.output}-${partition} on node ${read.leader}: LSO ${read.lastStableOffset}, HW ${read.highWatermark}`);
        anomalies.push(`${reason(error)}: ${[...standing, ...readErrors].join('; ') || `no leader of ${names.output}-${reads.length} to read from`}`);
        return false;
      },
    );

    // The input holds every acknowledged record once, in order (else a difference in the output is the input's).
    const input: { offset: number; value: string }[][] = [];
    for (let partition = 0; partition < partitions; partition++) {
      const read = await waitFor(`a read of ${names.input}-${partition} from its leader`, () => readFromLeader(names.input, partition), readTimeoutMs, 200).catch((error: unknown) => {
        anomalies.push(reason(error));
        return undefined;
      });
      if (read === undefined) break;
      input.push(read.records.map((record) => ({ offset: record.offset, value: `copy-${record.value}` })));
    }
    const committedOffsets = await waitFor(`the stable committed offsets of group ${names.group}`, () => groupOffsets(true), readTimeoutMs, 200).catch((error: unknown) => {
      anomalies.push(reason(error));
      return undefined;
    });
    if (settled) lines.push(`final read: ${reads.map((read, partition) => `p${partition} from node ${read.leader}: ${read.records.length} records, HW ${read.highWatermark}`).join('; ')}; committed input offsets ${committedOffsets?.join(',') ?? 'unknown'}`);

    if (abortedTransactions === 0) anomalies.push('the aborter ended no transaction: it never ran');
    for (let partition = 0; partition < input.length; partition++) {
      const difference = firstDifference(input[partition]!, expected.get(partition)!);
      if (difference !== undefined) anomalies.push(`${names.input}-${partition} differs from the acknowledged input records (the input producer's doing, not the copy's): ${difference}`);
    }
    if (settled) {
      const visible = reads.flatMap((read) => read.records).filter((record) => record.value.startsWith('ABORTED'));
      if (visible.length > 0) anomalies.push(`${visible.length} aborted records visible to read_committed: ${visible.slice(0, 10).map((record) => `${names.output}-${record.partition}@${record.offset} ${record.value}`).join(', ')}`);
      for (let partition = 0; partition < partitions; partition++) {
        const records = reads[partition]!.records.map((record) => ({ offset: record.offset, value: record.value }));
        const values = records.map((record) => record.value);
        const wanted = expected.get(partition)!;
        const duplicates = values.length - new Set(values).size;
        const present = new Set(values);
        const missing = wanted.filter((value) => !present.has(value));
        if (duplicates > 0) {
          anomalies.push(`${names.output}-${partition}: ${duplicates} records copied more than once; the output: ${describeRuns(records, wanted)}`);
          log(`eos workload: ${names.output}-${partition} around its first record copied twice:\n${await describeFirstDuplicate(partition, records)}`);
        }
        if (missing.length > 0) anomalies.push(`${names.output}-${partition}: ${missing.length} of ${wanted.length} acknowledged input records missing from the output (the first: ${missing.slice(0, 10).join(', ')}); the output: ${describeRuns(records, wanted)}`);
        if (duplicates === 0 && missing.length === 0) {
          const difference = firstDifference(records, wanted);
          if (difference !== undefined) anomalies.push(`${names.output}-${partition}: the output differs from the input (order or content): ${difference}`);
        }
      }
    }
    const endOffsets = Array.from({ length: partitions }, (_, partition) => expected.get(partition)!.length);
    if (committedOffsets !== undefined && committedOffsets.join(',') !== endOffsets.join(',')) anomalies.push(`the group's committed offsets ${committedOffsets.join(',')} are not the input's end offsets ${endOffsets.join(',')}`);
    log(`eos workload: connection errors: copiers ${JSON.stringify(supervisor.recoveries())}, aborter ${JSON.stringify(tolerated)}`);
    return result();
  };

  return {
    names,
    partitions,
    seeded: () => seeded,
    copiedSoFar,
    failed,
    async killCopier() {
      const launched = supervisor.counts().launched;
      supervisor.kill();
      await guarded(waitFor('a new copier launched after the SIGKILL of the last one', () => (supervisor.counts().launched > launched ? true : undefined), 10_000));
    },
    copierStderr: () => supervisor.stderr(),
    finish,
    stop,
  };
}
