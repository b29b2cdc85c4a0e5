// One seed of the replication simulation: three brokers replicate one partition (RF=3,
// min.insync.replicas=2) while a client appends with acks=all semantics through whoever leads,
// and the seed's faults crash brokers (at most one down at a time, except below), restart them,
// isolate one from the others, and vary message delays and loss.
//
// A crash is a kill -9 (the page cache survives) or a power loss (every write the broker's disk
// had not synced is gone, under the memory disk's strict model; the restart recovers the log
// from what survived). Without a flush policy (Kafka's default, and four seeds in five here) a
// broker may lose power only while another running broker is in the ISR: Kafka promises no
// committed record is lost while one in-sync replica stays alive, and promises nothing when the
// last one loses its page cache (KIP-966's "last replica standing"). One seed in five runs with
// flush.messages=1 (every append fsynced before it counts as written), where any broker may lose
// power at any time, and sometimes all three at once. Half the seeds use small segments, so
// segments roll and are flushed in the background.
//
// Transactions (on unless `transactions: false`; transaction-workload.ts): one or two
// transactional producers write beside the plain client, and a modelled coordinator ends each
// transaction with a commit or an abort marker (chosen at random, remembered), retried on the next
// leader until committed. Then the crashes include clean shutdowns and clean restarts (the logs
// closed, the producer snapshots written), which a restart loads instead of rebuilding from the
// log. At every fault, on every running replica, and after healing and again after a final clean
// restart of every broker: the read_committed view (the records below the last stable offset,
// filtered by the aborted transactions the producer state lists and by the markers, as a
// consumer filters them) shows every committed transaction's and every plain record and hides
// every aborted transaction's; after healing no transaction is open anywhere and the last stable
// offset is the high watermark. No leader refuses a producer's batch for its sequence: each
// follows that producer's acknowledged batches, so a refusal means the leader's producer state
// lost a batch its log holds (the suspect of an OUT_OF_ORDER_SEQUENCE_NUMBER seen once under
// faults, docs/reliability.md).
//
// After every event: at most one broker leads each leader epoch; no running replica's high
// watermark moves back; the committed records (below the highest high watermark any leader
// reported) never change: each offset keeps the record (its leader epoch) it had when first
// committed, on every replica below that replica's high watermark, and every leader holds them
// all. After healing: a leader whose ISR holds every broker, all replicas byte-identical to it,
// every committed and every acknowledged record in place.
import type { Logger } from '../../base/logger.js';
import type { LogConfig } from '../../log/log-config.js';
import type { PartitionLog } from '../../log/partition-log.js';
import type { Partition } from '../../replication/partition.js';
import { readLastOffset } from '../../protocol/records/batch-header.js';
import { buildRecordBatchSync, decodeRecordBatchSync } from '../../protocol/records/record-batch.js';
import { ReplicationCluster } from './replication-cluster.js';
import { SeededRandom } from './seeded-random.js';
import { SimScheduler } from './sim-scheduler.js';
import { openTransactions, readCommitted, type ReadCommittedView, type TransactionStats, TransactionWorkload } from './transaction-workload.js';

const BROKERS = [1, 2, 3];
const MIN_INSYNC_REPLICAS = 2;
const DEFAULT_CHAOS_MS = 15_000;
const DEFAULT_SETTLE_MS = 20_000;
const ACK_TIMEOUT_MS = 3000;
/** Of the crashes in a seed with transactions, the share that are clean shutdowns (half of them restarting at once). */
const CLEAN_SHUTDOWN_SHARE = 0.4;

export interface ReplicationSeedOptions {
  readonly seed: number;
  readonly chaosMs?: number;
  readonly settleMs?: number;
  readonly logger?: Logger;
  /** Sabotage (replication-cluster.ts): elections ignore the ISR. */
  readonly electOutsideIsr?: boolean;
  /**
   * Outside what Kafka promises, to show the checks see lost records: no flush policy, and a
   * crash that loses power may hit any broker, the last running in-sync replica included.
   */
  readonly powerLossAnyReplica?: boolean;
  /**
   * Transactional producers and a coordinator beside the plain client, clean shutdowns among the
   * crashes, and the read_committed checks (default on). Off, a seed runs as it did before
   * transactions were modelled (the seeds that found bugs then replay so).
   */
  readonly transactions?: boolean;
  /** Sabotage (transaction-workload.ts): the coordinator commits the transactions it decided to abort. */
  readonly commitAbortedTransactions?: boolean;
  /** Sabotage (replication-cluster.ts): an elected leader forgets each producer's last batch. */
  readonly newLeaderForgetsLastBatch?: boolean;
}

export interface ReplicationSeedResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly violations: readonly string[];
  readonly acknowledged: number;
  readonly faults: readonly string[];
  readonly leaderEpochs: number;
  /** Simulated ms from healing to a full ISR with identical replicas, if reached. */
  readonly recoveryMs: number | undefined;
  /** Offsets below the highest high watermark a leader reported. */
  readonly committed: number;
  readonly powerLosses: number;
  /** The seed's log settings: `flush.messages=1` or not, and segment.bytes. */
  readonly disk: string;
  /** Transactions ended (committed, aborted), when modelled. */
  readonly transactions: TransactionStats | undefined;
  readonly cleanShutdowns: number;
}

interface Acknowledged {
  readonly offset: number;
  readonly value: string;
}

export async function runReplicationSeed(options: ReplicationSeedOptions): Promise<ReplicationSeedResult> {
  const random = new SeededRandom(options.seed);
  const scheduler = new SimScheduler();
  const violations: string[] = [];
  const violation = (message: string) => {
    if (violations.length < 20) violations.push(`${scheduler.monotonicMs()} ms: ${message}`);
  };
  const shape = random.fork('shape');
  const diskShape = random.fork('disk-profile');
  const synced = diskShape.chance(0.2) && !options.powerLossAnyReplica;
  const logConfig: Partial<LogConfig> = {
    ...(diskShape.chance(0.5) ? { segmentBytes: diskShape.between(1024, 16_384) } : {}),
    ...(synced ? { flushMessages: 1 } : {}),
  };
  const disk = `${synced ? 'flush.messages=1' : 'no flush policy'}, segment.bytes=${logConfig.segmentBytes ?? 'default'}`;
  const cluster = new ReplicationCluster({
    scheduler,
    random,
    brokers: BROKERS,
    sessionTimeoutMs: shape.between(300, 1500),
    lagTimeMaxMs: shape.between(500, 3000),
    fetchWaitMaxMs: shape.between(20, 200),
    fetchBackoffMs: shape.between(20, 200),
    onViolation: violation,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.electOutsideIsr ? { electOutsideIsr: true } : {}),
    ...(options.newLeaderForgetsLastBatch ? { newLeaderForgetsLastBatch: true } : {}),
    logConfig,
  });
  const withTransactions = options.transactions ?? true;
  const workload = withTransactions
    ? new TransactionWorkload({ scheduler, random: random.fork('transactions'), cluster, producers: random.fork('transaction-producers').between(1, 2), minInsyncReplicas: MIN_INSYNC_REPLICAS, ackTimeoutMs: ACK_TIMEOUT_MS, onViolation: violation, ...(options.commitAbortedTransactions ? { commitEverything: true } : {}) })
    : undefined;
  /** Checks every running replica's read_committed view against the transactions' outcomes. */
  const checkReadCommitted = async (when: string, listVisible = false): Promise<Map<number, ReadCommittedView>> => {
    const views = new Map<number, ReadCommittedView>();
    if (!workload) return views;
    for (const id of cluster.running()) {
      const replica = cluster.replica(id);
      if (!replica) continue;
      const view = await readCommitted(replica.log, workload.outcomes, { listVisible });
      if (!view) continue;
      views.set(id, view);
      for (const message of view.violations) violation(`${when}: broker ${id}${replica.isLeader ? ' (leader)' : ''}: ${message}`);
    }
    return views;
  };
  let cleanShutdowns = 0;
  // The leader epoch of the record at each committed offset, as the first leader to commit it had it.
  const committed: number[] = [];
  // Per replica incarnation: the highest high watermark seen, and how far its log was checked
  // against the committed records.
  const highWatermarks = new WeakMap<Partition, number>();
  const checkedUpTo = new WeakMap<Partition, number>();
  const leadersShort = new WeakSet<Partition>();
  scheduler.afterEachEvent(() => {
    const leaders = new Map<number, number>();
    const replicas: [number, Partition][] = [];
    for (const id of cluster.running()) {
      const replica = cluster.replica(id);
      if (replica) replicas.push([id, replica]);
    }
    for (const [id, replica] of replicas) {
      const highWatermark = replica.highWatermark;
      const before = highWatermarks.get(replica) ?? 0;
      if (highWatermark < before) violation(`broker ${id}'s high watermark went back from ${before} to ${highWatermark}`);
      highWatermarks.set(replica, highWatermark);
      if (!replica.isLeader) continue;
      const other = leaders.get(replica.leaderEpoch);
      if (other !== undefined && other !== id) violation(`brokers ${other} and ${id} both lead epoch ${replica.leaderEpoch}`);
      leaders.set(replica.leaderEpoch, id);
      // A leader holds every committed record (checked below), and commits what its ISR has.
      if (replica.log.logEndOffset < committed.length && !leadersShort.has(replica)) {
        leadersShort.add(replica);
        violation(`broker ${id} leads epoch ${replica.leaderEpoch} with log end ${replica.log.logEndOffset}, below committed offset ${committed.length - 1}`);
      }
      while (committed.length < highWatermark) committed.push(replica.log.leaderEpochCache.epochForOffset(committed.length));
    }
    for (const [id, replica] of replicas) {
      const end = Math.min(replica.highWatermark, committed.length);
      for (let offset = checkedUpTo.get(replica) ?? replica.log.logStartOffset; offset < end; offset++) {
        const epoch = replica.log.leaderEpochCache.epochForOffset(offset);
        if (epoch !== committed[offset]) {
          const entries = replica.log.leaderEpochCache.entries.map((entry) => `${entry.epoch}@${entry.startOffset}`).join(' ');
          violation(`broker ${id} holds offset ${offset} from leader epoch ${epoch} below its high watermark ${replica.highWatermark} (log ${replica.log.logStartOffset}..${replica.log.logEndOffset}, epochs ${entries}); it was committed from epoch ${committed[offset]}`);
          break;
        }
      }
      checkedUpTo.set(replica, Math.max(end, checkedUpTo.get(replica) ?? 0));
    }
  });

  const faults: string[] = [];
  const acknowledged: Acknowledged[] = [];
  const chaosMs = options.chaosMs ?? DEFAULT_CHAOS_MS;
  const settleMs = options.settleMs ?? DEFAULT_SETTLE_MS;
  let recoveryMs: number | undefined;
  let stopped = false;
  try {
    await cluster.startAll();
    // The client: one append at a time through the current leader, acknowledged once the high
    // watermark passes it with at least min.insync.replicas in the ISR (the broker's acks=all).
    const clientRandom = random.fork('client');
    let sequence = 0;
    const appendOne = async (): Promise<void> => {
      const leader = cluster.leader();
      if (!leader || leader.isr.length < MIN_INSYNC_REPLICAS) return;
      const value = `record-${sequence++}`;
      const batch = buildRecordBatchSync([{ value: Buffer.from(value), timestamp: scheduler.nowMs() }], { baseTimestamp: scheduler.nowMs() });
      const replicas = cluster.brokers.get(leader.assignment.leaderId)!.replicas!;
      let offset: number;
      try {
        offset = (await replicas.append(leader, batch, scheduler.nowMs())).baseOffset;
      } catch {
        return;
      }
      const epoch = leader.leaderEpoch;
      const deadline = scheduler.monotonicMs() + ACK_TIMEOUT_MS;
      while (leader.highWatermark <= offset && leader.isLeader && leader.leaderEpoch === epoch && scheduler.monotonicMs() < deadline) await sleep(scheduler, 5);
      if (leader.isLeader && leader.leaderEpoch === epoch && leader.highWatermark > offset && leader.isr.length >= MIN_INSYNC_REPLICAS) acknowledged.push({ offset, value });
    };
    let clientDone = false;
    const clientLoop = async () => {
      while (!stopped) {
        await appendOne();
        await sleep(scheduler, clientRandom.between(5, 60));
      }
      clientDone = true;
    };
    const client = clientLoop();
    workload?.start();

    // The faults.
    const chaos = random.fork('chaos');
    const shutdowns = random.fork('shutdowns');
    const chaosEnd = scheduler.monotonicMs() + chaosMs;
    let chaosDone = false;
    const chaosLoop = async () => {
      while (scheduler.monotonicMs() < chaosEnd) {
        await sleep(scheduler, chaos.between(200, 1500));
        if (workload) await checkReadCommitted('during the faults');
        const down = BROKERS.filter((id) => !cluster.running().includes(id));
        const roll = chaos.nextInt(100);
        if (down.length > 0 && roll < 40) {
          const id = down[0]!;
          faults.push(`${scheduler.monotonicMs()} restart ${id}`);
          await cluster.start(id);
        } else if (down.length === 0 && roll < 45) {
          const leaderFirst = chaos.chance(0.5) ? cluster.assignment.leaderId : BROKERS[chaos.nextInt(BROKERS.length)]!;
          const id = leaderFirst >= 0 ? leaderFirst : BROKERS[0]!;
          const wantsPowerLoss = chaos.chance(0.5);
          const wholeCluster = chaos.chance(0.2);
          const clean = withTransactions && !(synced && wantsPowerLoss && wholeCluster) && shutdowns.chance(CLEAN_SHUTDOWN_SHARE);
          if (clean) {
            // A controlled shutdown: the logs close and write their producer snapshots. Half the
            // time the broker starts again at once (a rolling restart), else at a later restart.
            const restartAfterMs = shutdowns.chance(0.5) ? shutdowns.between(0, 300) : undefined;
            faults.push(`${scheduler.monotonicMs()} clean shutdown ${id}${restartAfterMs === undefined ? '' : `, restart after ${restartAfterMs} ms`}`);
            cleanShutdowns++;
            if (!(await cluster.stop(id))) violation(`broker ${id}'s logs did not close cleanly`);
            if (restartAfterMs !== undefined) {
              await sleep(scheduler, restartAfterMs);
              await cluster.start(id);
            }
          } else if (synced && wantsPowerLoss && wholeCluster) {
            // Every broker at once (a rack or site outage): only a flush policy makes this survivable.
            faults.push(`${scheduler.monotonicMs()} power loss of every broker`);
            for (const broker of BROKERS) cluster.crash(broker, true);
          } else if (wantsPowerLoss && (synced || options.powerLossAnyReplica || cluster.anotherInSyncReplicaRuns(id))) {
            const report = cluster.crash(id, true)!;
            faults.push(`${scheduler.monotonicMs()} power loss ${id} (ISR [${cluster.assignment.isr.join(',')}]; ${report.bytesLost} bytes lost, unsynced pages kept ${report.pagesKept}, dropped ${report.pagesDropped}, torn ${report.pagesTorn}, directory entries undone ${report.entriesUndone})`);
          } else {
            faults.push(`${scheduler.monotonicMs()} crash ${id}`);
            cluster.crash(id);
          }
        } else if (roll < 60) {
          const id = BROKERS[chaos.nextInt(BROKERS.length)]!;
          faults.push(`${scheduler.monotonicMs()} isolate ${id}`);
          cluster.network.isolate(id);
        } else if (roll < 75) {
          faults.push(`${scheduler.monotonicMs()} heal`);
          cluster.network.heal();
        } else {
          const maxDelayMs = chaos.between(1, 80);
          const dropProbability = chaos.chance(0.3) ? chaos.between(1, 10) / 100 : 0;
          faults.push(`${scheduler.monotonicMs()} network delay<=${maxDelayMs} drop=${dropProbability}`);
          cluster.network.setFaults({ minDelayMs: 1, maxDelayMs, dropProbability });
        }
      }
      chaosDone = true;
    };
    const chaosRun = chaosLoop();
    if (!(await scheduler.runUntil(() => chaosDone, chaosMs + 5000))) throw new Error('the fault schedule did not end');
    await chaosRun;

    // Heal: the network whole, every broker up; then a full ISR, identical replicas.
    cluster.network.heal();
    cluster.network.setFaults({ minDelayMs: 1, maxDelayMs: 10, dropProbability: 0 });
    for (const id of BROKERS) if (!cluster.running().includes(id)) await cluster.start(id);
    faults.push(`${scheduler.monotonicMs()} heal: network whole, every broker started`);
    const healedAt = scheduler.monotonicMs();
    const settled = () => {
      const leader = cluster.leader();
      if (!leader || leader.isr.length !== BROKERS.length || leader.highWatermark !== leader.log.logEndOffset) return false;
      return BROKERS.every((id) => cluster.replica(id)?.log.logEndOffset === leader.log.logEndOffset);
    };
    if (await scheduler.runUntil(settled, settleMs)) recoveryMs = scheduler.monotonicMs() - healedAt;
    else violation(`no full ISR with identical log ends within ${settleMs} ms of healing (leader ${cluster.assignment.leaderId}, ISR [${cluster.assignment.isr.join(',')}], log ends ${BROKERS.map((id) => cluster.replica(id)?.log.logEndOffset ?? 'down').join('/')})`);
    stopped = true;
    workload?.stop();
    if (!(await scheduler.runUntil(() => clientDone, ACK_TIMEOUT_MS + 1000))) violation('the client did not stop');
    else await client;
    if (workload) {
      // The open transactions end: their markers are written until committed, then replicated everywhere.
      if (!(await scheduler.runUntil(() => workload.done, settleMs))) violation(`the transactional producers did not end their transactions within ${settleMs} ms`);
      else await workload.finished();
      // Every replica's high watermark at its log end too (a follower learns it at its next fetch).
      const quiet = () => settled() && BROKERS.every((id) => cluster.replica(id)?.highWatermark === cluster.replica(id)?.log.logEndOffset);
      if (!(await scheduler.runUntil(quiet, settleMs))) violation('no full ISR with identical log ends and high watermarks after the last transaction markers');
    }

    // Every committed and every acknowledged record in the leader's log, and every replica identical to it.
    const leader = cluster.leader();
    if (leader) {
      const records = await recordsByOffset(leader.log);
      for (const ack of acknowledged) {
        if (records.get(ack.offset)?.value !== ack.value) violation(`acknowledged ${ack.value} at ${ack.offset} is ${records.get(ack.offset)?.value ?? 'missing'} in the leader's log`);
      }
      const changed = committed.findIndex((epoch, offset) => records.get(offset)?.epoch !== epoch);
      if (changed >= 0) violation(`committed offset ${changed} (leader epoch ${committed[changed]}) is ${records.has(changed) ? `from epoch ${records.get(changed)!.epoch}` : 'missing'} in the leader's log at the end`);
      const reference = await allBytes(leader.log);
      for (const id of BROKERS) {
        const replica = cluster.replica(id);
        if (!replica || replica === leader) continue;
        const bytes = await allBytes(replica.log);
        if (!bytes.equals(reference)) violation(`broker ${id}'s replica differs from the leader's (${bytes.length} and ${reference.length} bytes)`);
      }
    }
    if (workload) await checkTransactionsSettled('after healing');
  } catch (error) {
    violation(`the run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  stopped = true;
  workload?.abandon();
  const powerLosses = [...cluster.brokers.values()].reduce((sum, broker) => sum + broker.powerLosses, 0);
  return { seed: options.seed, ok: violations.length === 0, violations, acknowledged: acknowledged.length, faults, leaderEpochs: cluster.assignment.leaderEpoch, recoveryMs, committed: committed.length, powerLosses, disk, transactions: workload ? { ...workload.stats } : undefined, cleanShutdowns };

  /**
   * Once every marker is written and replicated: every replica's read_committed view is right, no
   * transaction is open, the last stable offset is the high watermark. Then every broker shuts
   * down cleanly and starts again (producer state loaded from the snapshots): the same must hold,
   * with the same records shown.
   */
  async function checkTransactionsSettled(when: string): Promise<void> {
    const before = await checkSettledViews(when);
    for (const id of BROKERS) {
      let clean = false;
      if (!(await runTask(scheduler, async () => (clean = await cluster.stop(id)), settleMs))) violation(`broker ${id} did not shut down within ${settleMs} ms`);
      else if (!clean) violation(`broker ${id}'s logs did not close cleanly at the final shutdown`);
    }
    for (const id of BROKERS) await cluster.start(id);
    faults.push(`${scheduler.monotonicMs()} clean shutdown and restart of every broker`);
    const quiet = () => {
      const leader = cluster.leader();
      return leader !== undefined && leader.isr.length === BROKERS.length && BROKERS.every((id) => cluster.replica(id)?.highWatermark === leader.log.logEndOffset && cluster.replica(id)?.log.logEndOffset === leader.log.logEndOffset);
    };
    if (!(await scheduler.runUntil(quiet, settleMs))) {
      violation(`no full ISR with identical log ends and high watermarks within ${settleMs} ms of the final clean restart`);
      return;
    }
    const after = await checkSettledViews('after a clean restart of every broker');
    for (const [id, view] of after) {
      const earlier = before.get(id);
      if (earlier && earlier.visible.join(',') !== view.visible.join(',')) violation(`broker ${id} shows ${view.visible.length} records to read_committed after the clean restart, ${earlier.visible.length} before`);
    }
  }

  async function checkSettledViews(when: string): Promise<Map<number, ReadCommittedView>> {
    const views = await checkReadCommitted(when, true);
    for (const id of BROKERS) {
      const replica = cluster.replica(id);
      if (!replica) continue;
      const open = openTransactions(replica.log);
      if (open.length > 0) violation(`${when}: broker ${id} has transactions open (${open.join(' ')}) after every marker was written`);
      const view = views.get(id);
      if (view && view.lastStableOffset !== replica.log.logEndOffset) violation(`${when}: broker ${id}'s last stable offset ${view.lastStableOffset} is not its high watermark ${view.highWatermark} and log end ${replica.log.logEndOffset}`);
    }
    return views;
  }
}

/** Runs the scheduler until `task` settles (it may wait on simulated timers); whether it did within `limitMs`. */
async function runTask(scheduler: SimScheduler, task: () => Promise<unknown>, limitMs: number): Promise<boolean> {
  let settled = false;
  const running = task().finally(() => {
    settled = true;
  });
  if (!(await scheduler.runUntil(() => settled, limitMs))) return false;
  await running;
  return true;
}

function sleep(scheduler: SimScheduler, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.schedule(ms, resolve));
}

/** The whole log's batches, read segment after segment (one read stops at a segment's end). */
async function allBytes(log: PartitionLog): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
    const read = await log.read(offset, { maxBytes: 64 * 1024 * 1024, maxOffset: log.logEndOffset, minOneBatch: true });
    const bytes = Buffer.concat(read.chunks);
    if (bytes.length === 0) throw new Error(`reading ${log.dir} at ${offset} (log end ${log.logEndOffset}) returned nothing`);
    chunks.push(bytes);
    offset = lastOffsetIn(bytes) + 1;
  }
  return Buffer.concat(chunks);
}

/** The last offset of the last batch in `bytes` (whole batches). */
function lastOffsetIn(bytes: Buffer): number {
  let last = -1;
  for (let position = 0; position < bytes.length; position += 12 + bytes.readInt32BE(position + 8)) {
    last = readLastOffset(bytes, position);
  }
  return last;
}

/** The value and leader epoch of every record in the log, by offset. */
async function recordsByOffset(log: PartitionLog): Promise<Map<number, { value: string; epoch: number }>> {
  const bytes = await allBytes(log);
  const records = new Map<number, { value: string; epoch: number }>();
  for (let position = 0; position < bytes.length; ) {
    const size = 12 + bytes.readInt32BE(position + 8);
    const batch = decodeRecordBatchSync(bytes, position);
    for (const record of batch.records) records.set(record.offset, { value: record.value?.toString() ?? '', epoch: batch.partitionLeaderEpoch });
    position += size;
  }
  return records;
}
