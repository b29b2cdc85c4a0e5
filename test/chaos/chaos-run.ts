// A Jepsen-style campaign against a cluster of real `conveyor start` processes: a fault-injecting
// proxy in front of every listener (src/testing/chaos/fault-network.ts), a schedule of faults
// drawn from a seed (src/testing/chaos/nemesis.ts: kill -9, SIGSTOP pauses past the session
// timeout, network partitions, clean and rolling restarts, slow and lossy links), each followed by
// a fault-free period in which the clients must recover, and a queue workload: an idempotent
// acks=all kafkajs producer writing every partition and a kafkajs consumer group reading them.
//
// What is checked: the queue checker (src/testing/queue-checker.ts) over the whole history with a
// final read of every partition from its leader (no lost acknowledged write, no duplicate, no
// offset holding two values, no non-monotonic send or poll, no poll skip without a reassignment);
// after every fault, a write acknowledged on every partition and a record read by the consumer
// within a bound; at the end, a full ISR again and every acknowledged record read by the consumer;
// and, sampled every second from every node's Metadata, never two leaders of one partition in one
// leader epoch. The report lists the operations, the faults with their times and recovery, the
// anomalies with the offsets and values involved, and draws throughput and latency over time with
// the fault periods marked (src/testing/chaos/chart.ts).
// First, before anything loads kafkajs: its consumer's worker queue, fixed (see the module).
import { kafkajsWorkerQueue } from '../support/kafkajs-worker-queue.js';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { FindCoordinatorApi } from '../../src/protocol/messages/index.js';
import { renderChaosChart, sendSeries, type ChartPeriod } from '../../src/testing/chaos/chart.js';
import { FaultNetwork } from '../../src/testing/chaos/fault-network.js';
import { type NemesisKind, type PlannedFault, planFaults } from '../../src/testing/chaos/nemesis.js';
import { History } from '../../src/testing/history.js';
import { checkQueueHistory, formatQueueReport } from '../../src/testing/queue-checker.js';
import { readCommittedOffsets, seededRandom, withTimeout } from '../../src/testing/workload.js';
import { ProcessCluster } from '../support/cluster-processes.js';
import { EOS_CLUSTER_SETTINGS, type EosWorkload, type FaultCount, startEosWorkload } from '../support/eos-workload.js';
import { FaultyDisk } from './faulty-disk.js';
import { MetadataWorkload } from './metadata-workload.js';
import { nodeLogReport } from './node-log-summary.js';
import { FAST_FAILOVER_SETTINGS, IdempotentProducer, RecordingConsumer, createReplicatedTopic, newestPartition, notInSync, readFromLeaders, runningViews } from '../support/leader-kill-support.js';

export interface ChaosOptions {
  readonly seed: number;
  /** How long the fault schedule runs (the warm-up and the final checks come on top). */
  readonly durationMs: number;
  readonly nemesis: readonly NemesisKind[];
  readonly nodes?: number;
  readonly partitions?: number;
  /** Fault and quiet period bounds (nemesis.ts defaults when unset). */
  readonly minFaultMs?: number;
  readonly maxFaultMs?: number;
  readonly minQuietMs?: number;
  readonly maxQuietMs?: number;
  /** A scripted fault sequence instead of one drawn from the seed (a regression test of a sequence that found something). */
  readonly plan?: readonly PlannedFault[];
  /**
   * Also the transactional workload (test/support/eos-workload.ts): an exactly-once
   * consume-transform-produce copier process with an input writer and an aborter, checked at the
   * end with read_committed reads (every input record copied once, in order, nothing aborted
   * visible, no transaction left open). On by default.
   */
  readonly transactional?: boolean;
  /** Where report.txt, chart.svg and every node's whole output go (nothing kept when unset). */
  readonly outputDir?: string;
  /** Progress lines as the run goes. */
  readonly log?: (line: string) => void;
}

/** A fault as it happened. */
export interface FaultPeriod extends ChartPeriod {
  readonly kind: NemesisKind;
  /** From the fault's end (heal, restart, resume) to an acknowledged write on every partition, and to a read by the consumer. */
  ackRecoveryMs?: number;
  readRecoveryMs?: number;
}

export interface ChaosResult {
  readonly ok: boolean;
  /** Every anomaly, one line each with what was involved. */
  readonly anomalies: readonly string[];
  readonly report: string;
  readonly svg: string;
  readonly faults: readonly FaultPeriod[];
  readonly acknowledgedRecords: number;
  /** Every send, poll and final read, for the caller's own checks. */
  readonly history: History;
}

const TOPIC = 'chaos-queue';
const GROUP = 'chaos-readers';
/** Fast failover, and the internal topics replicated as the workload's own. */
const SETTINGS: Record<string, string> = {
  ...FAST_FAILOVER_SETTINGS,
  'offsets.topic.replication.factor': '3',
  'transaction.state.log.replication.factor': '3',
  'transaction.state.log.min.isr': '2',
};
const WARM_UP_MS = 3_000;
/** Each node's faulty disk (ext4 on a loop device over a tmpfs: memory, only as much as is written). */
const DISK_BYTES = 512 * 1024 * 1024;
/** Liveness bounds after a fault ends (not targets: a run that misses one reports an anomaly). */
const ACK_RECOVERY_BOUND_MS = 30_000;
const READ_RECOVERY_BOUND_MS = 30_000;
const IN_SYNC_BOUND_MS = 60_000;
const FINAL_CONSUME_BOUND_MS = 60_000;

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => {});
  const nodes = options.nodes ?? 3;
  const partitions = options.partitions ?? 3;
  const random = seededRandom(options.seed ^ 0x5eed);
  const { minFaultMs, maxFaultMs, minQuietMs, maxQuietMs } = options;
  // Disk faults need a small file system per node that the nemesis can fill.
  const disks = new Map<number, FaultyDisk>();
  const notes: string[] = [];
  let kinds = options.nemesis;
  const disksDir = kinds.includes('disk') ? mkdtempSync(join(tmpdir(), 'conveyor-chaos-disks-')) : undefined;
  if (disksDir !== undefined) {
    for (let id = 1; id <= nodes; id++) {
      const disk = FaultyDisk.mount(join(disksDir, `node-${id}`), DISK_BYTES);
      if (typeof disk === 'string') {
        notes.push(`disk faults left out: ${disk}`);
        kinds = kinds.filter((kind) => kind !== 'disk');
        for (const mounted of disks.values()) mounted.unmount();
        disks.clear();
        break;
      }
      disks.set(id, disk);
    }
    if (kinds.length === 0) throw new Error(notes.join('; '));
  }
  const plan = options.plan ?? planFaults({ seed: options.seed, kinds, totalMs: options.durationMs, ...definedOnly({ minFaultMs, maxFaultMs, minQuietMs, maxQuietMs }) });
  for (const note of notes) log(note);
  const anomalies: string[] = [];
  const faults: FaultPeriod[] = [];
  const history = new History();
  const network = new FaultNetwork({ random });
  const logsDir = options.outputDir === undefined ? undefined : join(options.outputDir, 'logs');
  const transactional = options.transactional ?? true;
  const cluster = await ProcessCluster.start({ nodes, settings: transactional ? { ...EOS_CLUSTER_SETTINGS, ...SETTINGS } : SETTINGS, proxy: network, ...(logsDir ? { outputDir: logsDir } : {}), ...(disks.size > 0 ? { extraLogDir: (id: number) => disks.get(id)?.dir } : {}) });
  const startedAt = performance.now();
  const since = () => performance.now() - startedAt;
  // kafkajs lets some errors of its own background work escape as unhandled rejections: a crashed
  // consumer leaves its group from its crash handler, and that LeaveGroup's retriable error
  // (NOT_COORDINATOR while the coordinator moves) is thrown into the void. They killed the first
  // hour-long campaign at its 118th fault. A retriable kafkajs error is counted, anything else is
  // an anomaly. For the run this handler is the only one: node:test's own fails whichever test is
  // running on any unhandled rejection (it failed seed 11 in CI), so it is set aside and put back.
  let clientEchoes = 0;
  const onUnhandledRejection = (error: unknown) => {
    if (isRetriableKafkajsError(error)) clientEchoes += 1;
    else anomalies.push(`${fmt(since())}: an unhandled rejection in the workload: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  };
  const setAside = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', onUnhandledRejection);
  const paused = new Set<number>();
  let producer: IdempotentProducer | undefined;
  // The queue workload's kafkajs warnings and errors (producer and group reader) go beside the node
  // logs (logs/clients.log): a client that stops making progress without crashing says why there.
  const clientLogFile = logsDir === undefined ? undefined : createWriteStream(join(logsDir, 'clients.log'));
  const clientLog = clientLogFile === undefined ? undefined : (line: string) => clientLogFile.write(`${line}\n`);
  const endClientLog = () => new Promise<void>((resolve) => (clientLogFile === undefined ? resolve() : clientLogFile.end(resolve)));
  // The group's reader; a new member replaces one kafkajs gave up on (all nodes down longer than its retries).
  const consumers: RecordingConsumer[] = [];
  const startConsumer = async () => consumers.push(await RecordingConsumer.start(history, { bootstrapServers: cluster.bootstrapServers, process: `consumer-${consumers.length + 1}`, groupId: GROUP, topic: TOPIC, clientLog }));
  const seenByGroup = (value: string) => consumers.some((consumer) => consumer.seen.has(value));
  const firstReadAfter = (at: number) => consumers.flatMap((consumer) => consumer.polled).filter((polled) => (producer!.sendOf(polled.value)?.sentAt ?? -1) > at).sort((a, b) => a.at - b.at)[0];
  let reviver: Promise<void> | undefined;
  // Faults in progress and completed: the transactional workload's clients may lose a connection only then.
  const faultCount: FaultCount = { completed: 0, inProgress: false };
  let eos: EosWorkload | undefined;
  let eosSummary = '';
  let endCopierLog = async () => {};
  let admin: MetadataWorkload | undefined;
  let watching = true;
  let watcher: Promise<void> | undefined;
  let offsetsWatcher: Promise<void> | undefined;
  let finalReads = '';
  try {
    await createReplicatedTopic(cluster, 1, TOPIC, partitions, Math.min(3, nodes), { 'min.insync.replicas': String(Math.min(2, nodes)) });
    producer = await IdempotentProducer.start(history, { bootstrapServers: cluster.bootstrapServers, process: 'producer', topic: TOPIC, partitions, maxRecordsPerSend: 4, paceMs: 10, random, renewAfterGiveUp: true, clientLog });
    await startConsumer();
    reviver = (async () => {
      while (watching) {
        if (consumers.at(-1)!.dead) {
          await consumers.at(-1)!.stop();
          await startConsumer().catch((error: unknown) => log(`a new group member did not start: ${String(error)}`));
        }
        await delay(1_000);
      }
    })();
    if (transactional) {
      // About one input round every 200 ms through the schedule, so its transactions run until the end.
      const sends = Math.max(50, Math.round(options.durationMs / 200));
      // The copiers' stderr, TRACE lines too, goes beside the node logs (logs/copier.log): it places an anomaly among the transactions.
      const copierLog = logsDir === undefined ? undefined : createWriteStream(join(logsDir, 'copier.log'));
      endCopierLog = () => new Promise<void>((resolve) => (copierLog === undefined ? resolve() : copierLog.end(resolve)));
      const copierOutput = copierLog === undefined ? {} : { traceCopier: true, onCopierStderr: (line: string, copier: number) => copierLog.write(`[copier ${copier}] ${line}`) };
      eos = await startEosWorkload({ cluster, records: sends * partitions * 4, partitions, sends, sendPauseMs: 100, faults: faultCount, faultName: 'chaos fault', paused, log, ...copierOutput });
      eos.failed.catch((error: unknown) => anomalies.push(`${fmt(since())}: transactional workload: ${error instanceof Error ? error.message : String(error)}`));
    }
    admin = await MetadataWorkload.start({ bootstrapServers: cluster.bootstrapServers, paceMs: 2_000, replicationFactor: Math.min(3, nodes) });
    watcher = watchLeaders(cluster, paused, () => watching, (line) => anomalies.push(`${fmt(since())}: ${line}`));
    offsetsWatcher = watchCommittedOffsets(history, cluster, paused, partitions, () => watching, (line) => anomalies.push(`${fmt(since())}: ${line}`));
    await delay(WARM_UP_MS);

    for (const [index, planned] of plan.entries()) {
      const startMs = since();
      faultCount.inProgress = true;
      const fault = await inflict(planned, { cluster, network, paused, random, partitions, disks, transactionalId: eos?.names.transactionalId });
      log(`${fmt(startMs)} fault ${index + 1}/${plan.length}: ${fault.label}`);
      await delay(planned.durationMs);
      try {
        await fault.end();
      } finally {
        faultCount.completed += 1;
        faultCount.inProgress = false;
      }
      const endMs = since();
      const period: FaultPeriod = { kind: planned.kind, startMs, endMs, label: fault.label };
      faults.push(period);
      // Recovery: a write acknowledged on every partition, and one read by the consumer, both sent after the fault ended.
      const endedAt = performance.now();
      const acked = await within(ACK_RECOVERY_BOUND_MS, () => range(partitions).every((partition) => producer!.acknowledgedSince(partition, endedAt).length > 0));
      if (acked) period.ackRecoveryMs = Math.max(...range(partitions).map((partition) => producer!.acknowledgedSince(partition, endedAt)[0]!.doneAt - endedAt));
      else anomalies.push(`${fmt(since())}: no write acknowledged on every partition within ${ACK_RECOVERY_BOUND_MS} ms of the end of '${fault.label}' (partitions without: ${range(partitions).filter((partition) => producer!.acknowledgedSince(partition, endedAt).length === 0).join(',')})`);
      const read = await within(READ_RECOVERY_BOUND_MS, () => firstReadAfter(endedAt) !== undefined);
      if (read) period.readRecoveryMs = firstReadAfter(endedAt)!.at - endedAt;
      else anomalies.push(`${fmt(since())}: the consumer read no record sent after the end of '${fault.label}' within ${READ_RECOVERY_BOUND_MS} ms`);
      log(`${fmt(endMs)} ended; acknowledged on every partition after ${fmtMs(period.ackRecoveryMs)}, read after ${fmtMs(period.readRecoveryMs)}`);
      await delay(Math.max(0, planned.quietMs - (performance.now() - endedAt)));
    }

    // The end: everything healed and running, a full ISR, then every acknowledged record read.
    network.heal();
    for (const id of paused) cluster.resume(id);
    paused.clear();
    await Promise.all(cluster.nodeIds.filter((id) => !cluster.isRunning(id)).map((id) => cluster.restart(id)));
    let lastGap: string | undefined;
    const inSync = await within(IN_SYNC_BOUND_MS, async () => (lastGap = notInSync(cluster, await runningViews(cluster, TOPIC), partitions)) === undefined, 250);
    if (!inSync) anomalies.push(`${fmt(since())}: no full ISR within ${IN_SYNC_BOUND_MS} ms of healing (${lastGap})`);
    watching = false;
    await watcher;
    await offsetsWatcher;
    await reviver;
    await producer.stop();
    await admin.stop();
    if (eos !== undefined) {
      // The schedule is over: the input ends where it stands (faults can slow it below its planned pace).
      const result = await eos.finish({ timeoutMs: 120_000, endInput: true });
      eosSummary = result.summary;
      for (const anomaly of result.anomalies) anomalies.push(`transactional: ${anomaly}`);
    }
    for (const id of cluster.nodeIds) {
      let missing: string | undefined;
      if (!(await within(30_000, async () => (missing = await admin!.missingOn(cluster, id).catch((error: unknown) => String(error))) === undefined, 500))) anomalies.push(`${fmt(since())}: ${missing}`);
    }
    const acknowledged = producer.sends.filter((send) => send.outcome === 'ok').flatMap((send) => send.values);
    if (!(await within(FINAL_CONSUME_BOUND_MS, () => acknowledged.every(seenByGroup), 200))) {
      const unseen = acknowledged.filter((value) => !seenByGroup(value));
      anomalies.push(`${fmt(since())}: the consumer group did not read ${unseen.length} acknowledged records within ${FINAL_CONSUME_BOUND_MS} ms (first: ${unseen.slice(0, 5).join(', ')})`);
    }
    for (const consumer of consumers) await consumer.stop();
    const mustCover = new Map<number, number>();
    for (const send of producer.sends) if (send.outcome === 'ok') mustCover.set(send.partition, Math.max(mustCover.get(send.partition) ?? -1, send.baseOffset! + send.values.length - 1));
    const reads = await readFromLeaders(history, cluster, TOPIC, partitions, 'final-read', mustCover);
    finalReads = reads.map((read) => `p${read.partition} from node ${read.leader}: ${read.records} records, high watermark ${read.highWatermark}${read.corruptBatches.length > 0 ? `, CORRUPT: ${read.corruptBatches.join('; ')}` : ''}`).join('; ');
    for (const read of reads) if (read.corruptBatches.length > 0) anomalies.push(`the final read of p${read.partition} met corrupt batches: ${read.corruptBatches.join('; ')}`);
  } catch (error) {
    anomalies.push(`the run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    watching = false;
    await watcher?.catch(() => {});
    await offsetsWatcher?.catch(() => {});
    await reviver?.catch(() => {});
    await eos?.stop().catch(() => {});
    await endCopierLog();
    await producer?.stop().catch(() => {});
    await admin?.stop().catch(() => {});
    for (const consumer of consumers) await consumer.stop().catch(() => {});
    await endClientLog();
    for (const id of paused) cluster.resume(id);
    await cluster.stopAll();
    await network.close();
    process.off('unhandledRejection', onUnhandledRejection);
    for (const listener of setAside) process.on('unhandledRejection', listener);
    for (const disk of disks.values()) disk.unmount();
    if (disksDir !== undefined) rmSync(disksDir, { recursive: true, force: true });
  }

  const check = checkQueueHistory(history, { finalReadComplete: finalReads !== '' });
  for (const anomaly of check.anomalies) anomalies.push(anomaly.message);
  const durationMs = since();
  const sends = producer?.sends ?? [];
  const series = sendSeries(sends.filter((send) => send.outcome !== 'pending').map((send) => ({ startMs: send.sentAt - startedAt, endMs: send.doneAt - startedAt, records: send.values.length, acknowledged: send.outcome === 'ok' })), durationMs);
  const title = `conveyor chaos: seed ${options.seed}, ${nodes} nodes, nemesis ${options.nemesis.join(',')}, ${faults.length} faults, ${anomalies.length} anomalies`;
  const svg = renderChaosChart({ title, durationMs, ...series, faults, anomalies: anomalies.length > 0 ? [{ atMs: durationMs, label: anomalies.slice(0, 5).join('\n') }] : [] });
  const acknowledgedRecords = sends.reduce((total, send) => total + (send.outcome === 'ok' ? send.values.length : 0), 0);
  const report = [
    title,
    `run: ${fmt(durationMs)} (schedule ${fmt(options.durationMs)}, warm-up ${fmt(WARM_UP_MS)}); topic ${TOPIC}: ${partitions} partitions, replication factor ${Math.min(3, nodes)}, min.insync.replicas ${Math.min(2, nodes)}`,
    `operations: ${sends.length} sends, ${acknowledgedRecords} records acknowledged, ${sends.filter((send) => send.outcome === 'unknown').length} sends given up by kafkajs (${producer?.renewals ?? 0} new producers after them); ` +
      `group reader: ${consumers.length} members in turn, ${consumers.reduce((sum, consumer) => sum + consumer.polled.length, 0)} polls, ${consumers.reduce((sum, consumer) => sum + consumer.joins.length, 0)} group joins, ${consumers.reduce((sum, consumer) => sum + consumer.crashes.length, 0)} kafkajs crashes (it restarts a member after a retriable one); final read: ${finalReads || 'none'}`,
    `metadata: ${admin?.created.length ?? 0} topics created and ${admin && admin.acknowledgedRetention >= 0 ? admin.askedRetention.size - admin.unknownRetention.size : 0} config changes acknowledged, ${admin?.failures.length ?? 0} admin calls failed (outcome unknown); every node checked for them at the end`,
    ...(transactional ? [`transactional: ${eosSummary || 'not finished'}`] : []),
    `retriable kafkajs errors its background work left unhandled (counted, not anomalies): ${clientEchoes}`,
    `kafkajs worker-queue races met by the group reader (batches kafkajs's own worker would have lost, stalling the reader for good; taken by the fixed worker, test/support/kafkajs-worker-queue.ts): ${kafkajsWorkerQueue.racesMet}`,
    `send latency: ${latencySummary(sends.filter((send) => send.outcome === 'ok').map((send) => send.doneAt - send.sentAt))}`,
    ...notes,
    `faults (${faults.length}):`,
    ...faults.map((fault) => `  ${fmt(fault.startMs)}-${fmt(fault.endMs)} ${fault.label}; acknowledged again after ${fmtMs(fault.ackRecoveryMs)}, read after ${fmtMs(fault.readRecoveryMs)}`),
    ...(logsDir === undefined ? [] : ['brokers, from their logs:', ...nodeLogReport(logsDir, Array.from({ length: nodes }, (_, index) => index + 1))]),
    `queue checker: ${formatQueueReport(check)}`,
    anomalies.length === 0 ? 'anomalies: none' : `anomalies (${anomalies.length}):`,
    ...anomalies.map((anomaly) => `  ${anomaly}`),
  ].join('\n');
  if (options.outputDir !== undefined) {
    mkdirSync(options.outputDir, { recursive: true });
    writeFileSync(join(options.outputDir, 'report.txt'), `${report}\n`);
    writeFileSync(join(options.outputDir, 'chart.svg'), svg);
  }
  return { ok: anomalies.length === 0, anomalies, report, svg, faults, acknowledgedRecords, history };
}

interface Inflicted {
  readonly label: string;
  /** Heals, restarts or resumes what the fault did. */
  end(): Promise<void>;
}

interface Context {
  readonly cluster: ProcessCluster;
  readonly network: FaultNetwork;
  readonly paused: Set<number>;
  readonly random: () => number;
  readonly partitions: number;
  readonly disks: ReadonlyMap<number, FaultyDisk>;
  /** The transactional workload's copier, when it runs. */
  readonly transactionalId: string | undefined;
}

/** Resolves the fault's target in the cluster as it is now and starts the fault. */
async function inflict(planned: PlannedFault, context: Context): Promise<Inflicted> {
  const { cluster, network, paused } = context;
  const { ids, role } = await resolveTarget(planned, context);
  const name = (id: number) => String(id);
  const who = `${ids.length === cluster.nodeIds.length && ids.length > 1 ? 'every node' : `node ${ids.join(',')}`}${role ? ` (${role})` : ''}`;
  switch (planned.kind) {
    case 'kill': {
      await Promise.all(ids.map((id) => cluster.kill(id, 'SIGKILL')));
      return { label: `kill -9 ${who}`, end: () => Promise.all(ids.map((id) => cluster.restart(id))).then(() => {}) };
    }
    case 'pause': {
      for (const id of ids) {
        cluster.pause(id);
        paused.add(id);
      }
      return {
        label: `SIGSTOP ${who}`,
        end: async () => {
          for (const id of ids) {
            cluster.resume(id);
            paused.delete(id);
          }
        },
      };
    }
    case 'restart': {
      // Clean restarts (SIGTERM: controlled shutdown), one node at a time, each back before the next.
      for (const id of ids) {
        await cluster.kill(id, 'SIGTERM');
        await cluster.restart(id);
        if (ids.length > 1) await within(IN_SYNC_BOUND_MS, async () => notInSync(cluster, await runningViews(cluster, TOPIC), context.partitions) === undefined, 250);
      }
      return { label: ids.length > 1 ? `rolling restart of ${who}` : `clean restart of ${who}`, end: async () => {} };
    }
    case 'partition': {
      const target = ids[0]!;
      const others = cluster.nodeIds.filter((id) => id !== target);
      switch (planned.shape) {
        case 'client':
          network.cut('client', name(target));
          return { label: `clients cut off from ${who}`, end: async () => network.heal() };
        case 'bridge': {
          const half = Math.ceil(others.length / 2);
          const [left, right] = [others.slice(0, half), others.slice(half)];
          for (const a of left) for (const b of right) network.cut(name(a), name(b));
          return { label: `bridge: ${left.join(',')} | ${right.join(',')}, both seen by ${who}`, end: async () => network.heal() };
        }
        case 'split': {
          const minority = [target, ...others.slice(0, Math.floor(cluster.nodeIds.length / 2) - 1)];
          const majority = cluster.nodeIds.filter((id) => !minority.includes(id));
          network.partition([minority.map(name), majority.map(name)]);
          return { label: `split around ${who}: minority ${minority.join(',')} | majority ${majority.join(',')}`, end: async () => network.heal() };
        }
        default:
          network.isolate(name(target), others.map(name));
          return { label: `isolate ${who} from the other nodes`, end: async () => network.heal() };
      }
    }
    case 'disk': {
      // The node's second log directory fails: its partitions go offline there and lead elsewhere.
      // A failed directory stays offline until the broker restarts (as in Kafka): the fault ends
      // with the disk repaired and a clean restart. A read-only file system is repaired with its
      // broker stopped (unmounted, checked, mounted again).
      const id = ids[0]!;
      const disk = context.disks.get(id)!;
      const fault = planned.disk === 'read-only' && disk.readOnlyUnavailable === undefined ? 'read-only' : 'full';
      disk.fail(fault);
      const label = fault === 'full' ? `full log directory on ${who}${planned.disk === 'read-only' ? ' (read-only is not available here)' : ''}` : `read-only log directory on ${who}`;
      return {
        label,
        end: async () => {
          // (Faults come one at a time, so the node is not paused; were it, SIGTERM would wait for SIGCONT.)
          if (paused.delete(id)) cluster.resume(id);
          if (cluster.isRunning(id)) await cluster.kill(id, 'SIGTERM');
          disk.repair(fault);
          await cluster.restart(id);
        },
      };
    }
    case 'slow': {
      const faults = { minDelayMs: planned.minDelayMs ?? 0, maxDelayMs: planned.maxDelayMs ?? 0, resetPerSecond: planned.resetPerSecond ?? 0 };
      network.setFaults(faults);
      return { label: `slow links: ${faults.minDelayMs}-${faults.maxDelayMs} ms${faults.resetPerSecond > 0 ? `, ${faults.resetPerSecond} resets/s per connection` : ''}`, end: async () => network.heal() };
    }
  }
}

async function resolveTarget(planned: PlannedFault, context: Context): Promise<{ ids: number[]; role?: string }> {
  const { cluster, random, paused } = context;
  const running = cluster.nodeIds.filter((id) => cluster.isRunning(id) && !paused.has(id));
  const anyNode = (): number => running[Math.floor(random() * running.length)] ?? cluster.nodeIds[0]!;
  switch (planned.target) {
    case 'all':
      return { ids: [...cluster.nodeIds] };
    case 'leader': {
      const partition = Math.floor(random() * context.partitions);
      const leader = newestPartition(await runningViews(cluster, TOPIC, paused), partition)?.leader ?? -1;
      return leader >= 0 ? { ids: [leader], role: `leader of ${TOPIC}-${partition}` } : { ids: [anyNode()], role: `random: ${TOPIC}-${partition} had no leader` };
    }
    case 'controller': {
      const controller = await cluster.findActiveController().catch(() => undefined);
      return controller ? { ids: [controller.nodeId], role: 'active controller' } : { ids: [anyNode()], role: 'random: no active controller found' };
    }
    case 'coordinator': {
      // The queue readers' group coordinator, or (with the transactional workload) the copier's transaction coordinator.
      const transaction = context.transactionalId !== undefined && random() < 0.5;
      const [key, keyType, role] = transaction ? [context.transactionalId!, 1, `transaction coordinator of ${context.transactionalId}`] : [GROUP, 0, `coordinator of group ${GROUP}`];
      const coordinator = await coordinatorOf(cluster, running, key, keyType).catch(() => -1);
      return coordinator >= 0 ? { ids: [coordinator], role } : { ids: [anyNode()], role: `random: no ${role} found` };
    }
    default:
      return { ids: [anyNode()], role: 'random' };
  }
}

async function coordinatorOf(cluster: ProcessCluster, running: readonly number[], key: string, keyType = 0): Promise<number> {
  for (const id of running) {
    const connection = await KafkaConnection.open(connectTcp, cluster.address(id), 'chaos-harness', { connectTimeoutMs: 1_000, requestTimeoutMs: 1_000 }).catch(() => undefined);
    if (connection === undefined) continue;
    try {
      const response = await connection.send(FindCoordinatorApi, 3, { key, keyType });
      if (response.errorCode === ErrorCode.NONE) return response.nodeId ?? -1;
    } catch {
      // Ask the next node.
    } finally {
      connection.close();
    }
  }
  return -1;
}

/**
 * Every second, every running node's Metadata for the topic: two nodes naming different leaders
 * for one partition in one leader epoch is split brain. (A node behind names an older epoch; that
 * is not a conflict.)
 */
async function watchLeaders(cluster: ProcessCluster, paused: ReadonlySet<number>, keepGoing: () => boolean, report: (line: string) => void): Promise<void> {
  const leaders = new Map<string, { leader: number; node: number }>();
  const reported = new Set<string>();
  while (keepGoing()) {
    const views = await runningViews(cluster, TOPIC, paused).catch(() => []);
    for (const view of views) {
      for (const partition of view.partitions) {
        if (partition.leader < 0) continue;
        const key = `${partition.partition}@${partition.leaderEpoch}`;
        const known = leaders.get(key);
        if (known === undefined) leaders.set(key, { leader: partition.leader, node: view.node });
        else if (known.leader !== partition.leader && !reported.has(key)) {
          reported.add(key);
          report(`two leaders of ${TOPIC}-${partition.partition} in leader epoch ${partition.leaderEpoch}: node ${known.node} names ${known.leader}, node ${view.node} names ${partition.leader}`);
        }
      }
    }
    await delay(1_000);
  }
}

/**
 * Every second, the group's committed offsets from its coordinator (OffsetFetch, requireStable),
 * recorded as committed reads: a partition's committed offset read lower than an earlier read is
 * a lost commit (the one consumer only moves forward; a coordinator failover must not lose what
 * it committed).
 */
async function watchCommittedOffsets(history: History, cluster: ProcessCluster, paused: ReadonlySet<number>, partitions: number, keepGoing: () => boolean, report: (line: string) => void): Promise<void> {
  const highest = new Map<number, number>();
  while (keepGoing()) {
    const running = cluster.nodeIds.filter((id) => cluster.isRunning(id) && !paused.has(id));
    const coordinator = await coordinatorOf(cluster, running, GROUP).catch(() => -1);
    if (coordinator >= 0 && running.includes(coordinator)) {
      const offsets = await withTimeout(readCommittedOffsets(history, cluster.address(coordinator), 'offsets-watch', GROUP, TOPIC, range(partitions)), 5_000, 'OffsetFetch').catch(() => undefined);
      for (const [partition, offset] of offsets ?? []) {
        const before = highest.get(partition) ?? -1;
        if (offset < before) report(`group ${GROUP} ${TOPIC}-${partition}: committed offset read as ${offset} from node ${coordinator} after ${before} was read`);
        else highest.set(partition, offset);
      }
    }
    await delay(1_000);
  }
}

/** A kafkajs error that kafkajs itself marks retriable (its name starts with KafkaJS and `retriable` is true). */
function isRetriableKafkajsError(error: unknown): boolean {
  return error instanceof Error && error.name.startsWith('KafkaJS') && (error as { retriable?: unknown }).retriable === true;
}

/** Polls `check` every `intervalMs` until it holds (true) or `timeoutMs` passes (false). */
async function within(timeoutMs: number, check: () => boolean | Promise<boolean>, intervalMs = 100): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > deadline) return false;
    await delay(intervalMs);
  }
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}

function latencySummary(values: number[]): string {
  if (values.length === 0) return 'no acknowledged sends';
  const sorted = [...values].sort((a, b) => a - b);
  const at = (fraction: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!);
  return `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms over ${values.length} acknowledged sends`;
}

function fmt(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

function fmtMs(ms: number | undefined): string {
  return ms === undefined ? 'never (within the bound)' : `${Math.round(ms)} ms`;
}

/** The entries whose value is set (for optional properties under exactOptionalPropertyTypes). */
function definedOnly(object: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as Record<string, number>;
}
