// One seed of the replication simulation: three brokers replicate one partition (RF=3,
// min.insync.replicas=2) while a client appends with acks=all semantics through whoever leads,
// and the seed's faults crash brokers (power lost: unsynced writes gone, at most one down at a
// time), restart them, isolate one from the others, and vary message delays and loss. After
// every event: at most one broker leads each leader epoch. Throughout: an acknowledged record is
// never lost or changed (checked against every later leader's log), and the high watermark a
// leader reports never drops below an acknowledged offset. After healing: a leader whose ISR holds
// every broker, all replicas identical to it, every acknowledged record in place.
import type { Logger } from '../../base/logger.js';
import type { PartitionLog } from '../../log/partition-log.js';
import { buildRecordBatchSync, decodeRecordBatchSync } from '../../protocol/records/record-batch.js';
import { ReplicationCluster } from './replication-cluster.js';
import { SeededRandom } from './seeded-random.js';
import { SimScheduler } from './sim-scheduler.js';

const BROKERS = [1, 2, 3];
const MIN_INSYNC_REPLICAS = 2;
const DEFAULT_CHAOS_MS = 15_000;
const DEFAULT_SETTLE_MS = 20_000;
const ACK_TIMEOUT_MS = 3000;

export interface ReplicationSeedOptions {
  readonly seed: number;
  readonly chaosMs?: number;
  readonly settleMs?: number;
  readonly logger?: Logger;
  /** Sabotage (replication-cluster.ts): elections ignore the ISR. */
  readonly electOutsideIsr?: boolean;
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
  });
  scheduler.afterEachEvent(() => {
    const leaders = new Map<number, number>();
    for (const id of cluster.running()) {
      const replica = cluster.replica(id);
      if (!replica?.isLeader) continue;
      const other = leaders.get(replica.leaderEpoch);
      if (other !== undefined && other !== id) violation(`brokers ${other} and ${id} both lead epoch ${replica.leaderEpoch}`);
      leaders.set(replica.leaderEpoch, id);
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

    // The faults.
    const chaos = random.fork('chaos');
    const chaosEnd = scheduler.monotonicMs() + chaosMs;
    let chaosDone = false;
    const chaosLoop = async () => {
      while (scheduler.monotonicMs() < chaosEnd) {
        await sleep(scheduler, chaos.between(200, 1500));
        const down = BROKERS.filter((id) => !cluster.running().includes(id));
        const roll = chaos.nextInt(100);
        if (down.length > 0 && roll < 40) {
          const id = down[0]!;
          faults.push(`${scheduler.monotonicMs()} restart ${id}`);
          await cluster.start(id);
        } else if (down.length === 0 && roll < 45) {
          const leaderFirst = chaos.chance(0.5) ? cluster.assignment.leaderId : BROKERS[chaos.nextInt(BROKERS.length)]!;
          const id = leaderFirst >= 0 ? leaderFirst : BROKERS[0]!;
          faults.push(`${scheduler.monotonicMs()} crash ${id}`);
          cluster.crash(id);
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
    if (!(await scheduler.runUntil(() => clientDone, ACK_TIMEOUT_MS + 1000))) violation('the client did not stop');
    else await client;

    // Every acknowledged record in the leader's log, and every replica identical to it.
    const leader = cluster.leader();
    if (leader) {
      const values = await recordValues(leader.log);
      for (const ack of acknowledged) {
        if (values.get(ack.offset) !== ack.value) violation(`acknowledged ${ack.value} at ${ack.offset} is ${values.get(ack.offset) ?? 'missing'} in the leader's log`);
      }
      const reference = await allBytes(leader.log);
      for (const id of BROKERS) {
        const replica = cluster.replica(id);
        if (!replica || replica === leader) continue;
        const bytes = await allBytes(replica.log);
        if (!bytes.equals(reference)) violation(`broker ${id}'s replica differs from the leader's (${bytes.length} and ${reference.length} bytes)`);
      }
    }
  } catch (error) {
    violation(`the run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  stopped = true;
  return { seed: options.seed, ok: violations.length === 0, violations, acknowledged: acknowledged.length, faults, leaderEpochs: cluster.assignment.leaderEpoch, recoveryMs };
}

function sleep(scheduler: SimScheduler, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.schedule(ms, resolve));
}

async function allBytes(log: PartitionLog): Promise<Buffer> {
  const read = await log.read(log.logStartOffset, { maxBytes: 64 * 1024 * 1024, maxOffset: log.logEndOffset, minOneBatch: true });
  return Buffer.concat(read.chunks);
}

/** The value of every record in the log, by offset. */
async function recordValues(log: PartitionLog): Promise<Map<number, string>> {
  const bytes = await allBytes(log);
  const values = new Map<number, string>();
  for (let position = 0; position < bytes.length; ) {
    const size = 12 + bytes.readInt32BE(position + 8);
    for (const record of decodeRecordBatchSync(bytes, position).records) values.set(record.offset, record.value?.toString() ?? '');
    position += size;
  }
  return values;
}
