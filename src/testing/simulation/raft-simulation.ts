// One seeded run of the quorum under faults: 3 or 5 voters on the simulated network, a client
// appending records to whichever node leads, and a schedule of faults drawn from the seed (crashes
// that lose unsynced writes, clean stops, restarts, partitions of a minority or a majority,
// bridges, message loss, duplication and delay, wall-clock jumps). Most seeds also take snapshots
// every few batches (so logs are trimmed and lagging nodes fetch snapshots in small chunks). After the faults stop, the
// network heals and every node restarts; then a leader must be elected and a new entry committed
// on every node within a bounded simulated time. Safety is checked after every event
// (raft-invariants.ts). The same seed replays the same run exactly.
import { ErrorCode } from '../../base/error-codes.js';
import { KafkaError } from '../../base/kafka-error.js';
import type { RaftNode } from '../../quorum/raft-node.js';
import { staticVoter } from '../../quorum/voter-set.js';
import { RaftCluster, simDirectoryId } from './raft-cluster.js';
import { RaftInvariants } from './raft-invariants.js';
import type { Sabotage } from './sabotage.js';
import { SeededRandom } from './seeded-random.js';
import { SimScheduler } from './sim-scheduler.js';

export interface RaftSeedOptions {
  readonly seed: number;
  /** 3 or 5; by default the seed picks. */
  readonly voters?: number;
  /** 0 to 2 observers; by default the seed picks. */
  readonly observers?: number;
  /** Simulated time with faults; 20 s by default. */
  readonly chaosMs?: number;
  /** The bound on recovery after the faults stop; 30 s by default. */
  readonly livenessMs?: number;
  /** Deliberate defects (tests of the checker). */
  readonly sabotage?: Sabotage;
  /** Committed batches between snapshots (0: none); by default the seed picks. */
  readonly snapshotEvery?: number;
}

export interface RaftSeedResult {
  readonly seed: number;
  readonly voters: number;
  readonly observers: number;
  readonly snapshotEvery: number;
  /** Snapshots installed from a leader (a lagging node caught up through FetchSnapshot). */
  readonly snapshotsFetched: number;
  /** Voters added or removed (KIP-853) whose change committed. */
  readonly voterChanges: number;
  /** The voters at the end, as the leader saw them. */
  readonly finalVoters: readonly number[];
  readonly ok: boolean;
  readonly violations: readonly string[];
  /** The faults injected, in order, with their simulated times. */
  readonly faults: readonly string[];
  readonly acknowledgedAppends: number;
  readonly committedBatches: number;
  readonly highestEpoch: number;
  readonly events: number;
  readonly simulatedMs: number;
  /** Simulated ms from the end of the faults to a leader with a new entry committed everywhere. */
  readonly recoveryMs: number | undefined;
  /** A digest of every message delivery and role change: equal for equal seeds. */
  readonly traceDigest: string;
}

const DEFAULT_CHAOS_MS = 20_000;
const DEFAULT_LIVENESS_MS = 30_000;
/** Appends the client keeps waiting at most. */
const MAX_OUTSTANDING_APPENDS = 32;
const DURABILITY_CHECK_EVERY_EVENTS = 25;

export async function runRaftSeed(options: RaftSeedOptions): Promise<RaftSeedResult> {
  const random = new SeededRandom(options.seed);
  const voterCount = options.voters ?? (random.fork('shape').chance(0.5) ? 3 : 5);
  const voters = Array.from({ length: voterCount }, (_, index) => index + 1);
  // Up to two observers (broker-only nodes), ids from 101.
  const observerCount = options.observers ?? random.fork('observers').nextInt(3);
  const observers = Array.from({ length: observerCount }, (_, index) => 101 + index);
  const snapshotShape = random.fork('snapshots');
  const snapshotEvery = options.snapshotEvery ?? (snapshotShape.chance(0.75) ? snapshotShape.between(2, 25) : 0);
  const fetchSnapshotMaxBytes = snapshotShape.between(64, 4096);
  const scheduler = new SimScheduler();
  const trace = new TraceDigest();
  let invariants: RaftInvariants | undefined;
  const cluster = new RaftCluster({
    scheduler,
    random,
    voters,
    observers,
    onViolation: (message) => invariants?.violation(message),
    sabotage: options.sabotage,
    snapshotEveryBatches: snapshotEvery,
    config: { fetchSnapshotMaxBytes },
  });
  invariants = new RaftInvariants(cluster);
  const checks = invariants;
  cluster.network.onEvent((event) => trace.add(`${event.kind} ${event.atMs} ${event.from}>${event.to} ${event.apiKey}`));
  let events = 0;
  scheduler.afterEachEvent(() => {
    checks.checkStep();
    if (++events % DURABILITY_CHECK_EVERY_EVENTS === 0) checks.checkDurability();
    for (const raft of cluster.running()) trace.add(`${raft.nodeId}:${raft.role.kind}:${raft.epoch}:${raft.highWatermark}`);
  });

  const faults: string[] = [];
  const chaosMs = options.chaosMs ?? DEFAULT_CHAOS_MS;
  const livenessMs = options.livenessMs ?? DEFAULT_LIVENESS_MS;
  let acknowledged = 0;
  let recoveryMs: number | undefined;
  let failure: string | undefined;
  let chaos: Chaos | undefined;
  try {
    await cluster.startAll();
    const client = new Client(cluster, random.fork('client'), scheduler, (offset) => {
      acknowledged++;
      checks.acknowledged(offset);
    });
    client.start();
    chaos = new Chaos(cluster, random.fork('chaos'), scheduler, faults);
    chaos.start(chaosMs);
    await scheduler.runFor(chaosMs);
    chaos.stop();
    await chaos.heal();
    const healedAt = scheduler.monotonicMs();
    const probe = new Probe(cluster, scheduler);
    probe.start();
    const recovered = await scheduler.runUntil(() => probe.done(), livenessMs);
    client.stop();
    probe.stop();
    if (recovered) recoveryMs = scheduler.monotonicMs() - healedAt;
    else checks.violation(`no leader committed a new entry on every node within ${livenessMs} ms after the faults healed (${probe.describe()})`);
    checks.checkStep();
    checks.checkDurability();
  } catch (error) {
    failure = error instanceof Error ? (error.stack ?? error.message) : String(error);
  }
  const violations = failure ? [...checks.violations, `the run failed: ${failure}`] : checks.violations;
  return {
    seed: options.seed,
    voters: voterCount,
    observers: observerCount,
    snapshotEvery,
    snapshotsFetched: cluster.snapshotsFetched,
    voterChanges: chaos?.voterChanges ?? 0,
    finalVoters: currentLeader(cluster)?.voters ?? [],
    ok: violations.length === 0,
    violations,
    faults,
    acknowledgedAppends: acknowledged,
    committedBatches: checks.committedBatches,
    highestEpoch: Math.max(0, ...cluster.running().map((raft) => raft.epoch)),
    events: scheduler.eventsRun,
    simulatedMs: scheduler.monotonicMs(),
    recoveryMs,
    traceDigest: trace.digest(),
  };
}

/** The leader a client would find: the running leader of the highest epoch. */
function currentLeader(cluster: RaftCluster): RaftNode | undefined {
  let best: RaftNode | undefined;
  for (const raft of cluster.running()) {
    if (raft.role.kind === 'leader' && (!best || raft.epoch > best.epoch)) best = raft;
  }
  return best;
}

/** Appends small records to the leader at random intervals, as a controller would. */
class Client {
  #outstanding = 0;
  #stopped = false;
  #cancel: (() => void) | undefined;
  #sequence = 0;

  constructor(
    private readonly cluster: RaftCluster,
    private readonly random: SeededRandom,
    private readonly scheduler: SimScheduler,
    private readonly onAcknowledged: (lastOffset: number) => void,
  ) {}

  start(): void {
    this.#next();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }

  #next(): void {
    if (this.#stopped) return;
    this.#cancel = this.scheduler.schedule(this.random.between(10, 200), () => {
      this.#appendOnce();
      this.#next();
    });
  }

  #appendOnce(): void {
    const leader = currentLeader(this.cluster);
    if (!leader || this.#outstanding >= MAX_OUTSTANDING_APPENDS) return;
    const count = this.random.between(1, 3);
    const records = Array.from({ length: count }, () => ({
      value: Buffer.from(`record-${this.#sequence++}`),
      timestamp: this.scheduler.nowMs(),
    }));
    this.#outstanding++;
    leader.append(records).then(
      (lastOffset) => {
        this.#outstanding--;
        this.onAcknowledged(lastOffset);
      },
      (error: unknown) => {
        this.#outstanding--;
        if (!(error instanceof KafkaError) || (error.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER && error.errorCode !== ErrorCode.REQUEST_TIMED_OUT)) {
          this.scheduler.fail(error);
        }
      },
    );
  }
}

/** Draws and applies faults until stopped; `heal` undoes them all. */
class Chaos {
  /** Voter changes (KIP-853) that committed. */
  voterChanges = 0;
  #stopped = false;
  #cancel: (() => void) | undefined;

  constructor(
    private readonly cluster: RaftCluster,
    private readonly random: SeededRandom,
    private readonly scheduler: SimScheduler,
    private readonly log: string[],
  ) {}

  start(durationMs: number): void {
    const endAt = this.scheduler.monotonicMs() + durationMs;
    const next = () => {
      if (this.#stopped) return;
      const delay = this.random.between(50, 2000);
      if (this.scheduler.monotonicMs() + delay >= endAt) return;
      this.#cancel = this.scheduler.schedule(delay, () => {
        this.#inject().catch((error: unknown) => this.scheduler.fail(error));
        next();
      });
    };
    next();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }

  async heal(): Promise<void> {
    const network = this.cluster.network;
    network.heal();
    network.setFaults({ dropProbability: 0, duplicateProbability: 0, minDelayMs: 1, maxDelayMs: 5 });
    // A clean stop still waiting for its resignation to be acknowledged finishes first.
    await this.scheduler.runUntil(() => this.cluster.stopping === 0, 10_000);
    for (const id of this.cluster.down()) await this.cluster.start(id);
    this.#note('heal: network whole, every node started');
  }

  #note(what: string): void {
    this.log.push(`${this.scheduler.monotonicMs()}ms ${what}`);
  }

  async #inject(): Promise<void> {
    const cluster = this.cluster;
    const network = cluster.network;
    const running = cluster.running().map((raft) => raft.nodeId);
    const down = cluster.down();
    const voters = cluster.nodeIds;
    const kind = this.random.pick(['crash', 'crash-leader', 'stop', 'restart', 'restart', 'partition', 'isolate', 'bridge', 'heal', 'lossy', 'clock', 'add-voter', 'remove-voter'] as const);
    switch (kind) {
      case 'crash':
      case 'crash-leader': {
        const leader = currentLeader(cluster);
        const id = kind === 'crash-leader' && leader ? leader.nodeId : running.length > 0 ? this.random.pick(running) : undefined;
        if (id === undefined) return;
        this.#note(`crash node ${id}`);
        cluster.crash(id);
        return;
      }
      case 'stop': {
        if (running.length === 0) return;
        const id = this.random.pick(running);
        this.#note(`stop node ${id}`);
        await cluster.stop(id);
        return;
      }
      case 'restart': {
        if (down.length === 0) return;
        const id = this.random.pick(down);
        this.#note(`restart node ${id}`);
        await cluster.start(id);
        return;
      }
      case 'partition': {
        const shuffled = this.random.shuffle([...voters]);
        const cut = this.random.between(1, voters.length - 1);
        const groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
        this.#note(`partition ${JSON.stringify(groups)}`);
        network.partition(groups);
        return;
      }
      case 'isolate': {
        const id = this.random.pick(voters);
        this.#note(`isolate node ${id}`);
        network.isolate(id);
        return;
      }
      case 'bridge': {
        const shuffled = this.random.shuffle([...voters]);
        const bridgeNode = shuffled.pop()!;
        const half = Math.floor(shuffled.length / 2);
        const sideA = shuffled.slice(0, half);
        const sideB = shuffled.slice(half);
        this.#note(`bridge ${JSON.stringify(sideA)} | ${bridgeNode} | ${JSON.stringify(sideB)}`);
        network.bridge(sideA, sideB, bridgeNode);
        return;
      }
      case 'heal': {
        this.#note('heal network');
        network.heal();
        return;
      }
      case 'lossy': {
        const faults = {
          dropProbability: this.random.chance(0.5) ? 0 : this.random.float() * 0.3,
          duplicateProbability: this.random.chance(0.5) ? 0 : this.random.float() * 0.2,
          minDelayMs: 1,
          maxDelayMs: this.random.between(1, 200),
        };
        this.#note(`network ${JSON.stringify(faults)}`);
        network.setFaults(faults);
        return;
      }
      case 'add-voter':
      case 'remove-voter': {
        // KIP-853 through the leader; refusals (not caught up, a change pending, leadership lost)
        // are normal, anything else fails the run.
        const leader = currentLeader(cluster);
        if (!leader) return;
        const current = leader.voters;
        const spare = cluster.nodeIds.filter((id) => !current.includes(id));
        let change: Promise<void>;
        if (kind === 'add-voter') {
          if (spare.length === 0) return;
          const id = this.random.pick(spare);
          this.#note(`add voter ${id} (voters ${current.join(',')})`);
          change = leader.addVoter({ ...staticVoter(id), directoryId: simDirectoryId(id) });
        } else {
          if (current.length <= 2) return;
          const id = this.random.pick([...current]);
          this.#note(`remove voter ${id} (voters ${current.join(',')})`);
          change = leader.removeVoter(id, simDirectoryId(id));
        }
        change.then(
          () => {
            this.voterChanges++;
          },
          (error: unknown) => {
            if (!(error instanceof KafkaError)) this.scheduler.fail(error);
          },
        );
        return;
      }
      case 'clock': {
        const jump = this.random.between(-60_000, 60_000);
        this.#note(`wall clock jumps ${jump} ms`);
        this.scheduler.jumpWallClock(jump);
        return;
      }
    }
  }
}

/** After healing: appends one probe entry through the leader until it is committed everywhere. */
class Probe {
  #target: number | undefined;
  #waiting = false;
  #stopped = false;
  #cancel: (() => void) | undefined;

  constructor(
    private readonly cluster: RaftCluster,
    private readonly scheduler: SimScheduler,
  ) {}

  start(): void {
    const tick = () => {
      if (this.#stopped) return;
      this.#tryAppend();
      this.#cancel = this.scheduler.schedule(100, tick);
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    this.#cancel?.();
  }

  done(): boolean {
    const target = this.#target;
    if (target === undefined) return false;
    const running = this.cluster.running();
    if (running.length !== this.cluster.nodes.size) return false;
    const leader = currentLeader(this.cluster);
    return leader !== undefined && running.every((raft) => raft.epoch === leader.epoch && raft.leaderId === leader.nodeId && raft.highWatermark > target);
  }

  describe(): string {
    return this.cluster
      .running()
      .map((raft) => `node ${raft.nodeId} ${raft.role.kind} epoch ${raft.epoch} leader ${raft.leaderId} hw ${raft.highWatermark} end ${raft.log.endOffset}`)
      .join('; ');
  }

  #tryAppend(): void {
    if (this.#target !== undefined || this.#waiting) return;
    const leader = currentLeader(this.cluster);
    if (!leader) return;
    this.#waiting = true;
    leader.append([{ value: Buffer.from('probe'), timestamp: this.scheduler.nowMs() }]).then(
      (lastOffset) => {
        this.#target = lastOffset;
      },
      () => {
        this.#waiting = false;
      },
    );
  }
}

/** A running FNV-1a digest of trace lines. */
class TraceDigest {
  #hash = 0x811c9dc5;
  #lines = 0;

  add(line: string): void {
    let hash = this.#hash;
    for (let index = 0; index < line.length; index++) {
      hash ^= line.charCodeAt(index);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    this.#hash = Math.imul(hash ^ 0x0a, 0x01000193) >>> 0;
    this.#lines++;
  }

  digest(): string {
    return `${this.#lines}:${this.#hash.toString(16)}`;
  }
}
