// A quorum of Raft nodes in one process on the simulation kit: each node has its own memory file
// system (its disk, which a crash cuts power to: unsynced writes are lost under the strict model),
// its own clock view and transport on the simulated network, and the real metadata log (a
// partition log on that disk) behind the RaftLog port. Nodes crash, restart and stop cleanly.
import { createLogger, type Logger } from '../../base/logger.js';
import { MemoryFileSystem } from '../../base/memory-file-system.js';
import { defaultLogConfig } from '../../log/log-config.js';
import { LogManager } from '../../log/log-manager.js';
import { PartitionRaftLog } from '../../quorum/partition-raft-log.js';
import { QuorumStateFile } from '../../quorum/quorum-state-file.js';
import { raftConfig, type RaftConfig } from '../../quorum/raft-config.js';
import type { OffsetAndEpoch, RaftBatchInfo } from '../../quorum/raft-log.js';
import { METADATA_TOPIC, RaftNode } from '../../quorum/raft-node.js';
import { SnapshotStore } from '../../quorum/snapshot-store.js';
import type { InboundRequest } from '../../protocol/transport.js';
import { ForgetfulStateFile, LyingFlushLog, type Sabotage } from './sabotage.js';
import type { SeededRandom } from './seeded-random.js';
import { SimNetwork } from './sim-network.js';
import type { SimScheduler } from './sim-scheduler.js';
import { SimStateMachine } from './sim-state-machine.js';

const DATA_DIR = '/data';

export interface SimNode {
  readonly id: number;
  readonly fs: MemoryFileSystem;
  /** The running node, or undefined while it is down. */
  raft: RaftNode | undefined;
  logManager: LogManager | undefined;
  /** Starts at 0 and counts restarts. */
  incarnation: number;
  /** What the log held durably when the node last went down (checked on its next start). */
  durableAtCrash: readonly RaftBatchInfo[];
  /** The newest snapshot it held when it last went down (snapshots are durable once installed). */
  snapshotAtCrash: OffsetAndEpoch | undefined;
  /** The state machine over the running node. */
  stateMachine: SimStateMachine | undefined;
}

export interface RaftClusterOptions {
  readonly scheduler: SimScheduler;
  readonly random: SeededRandom;
  readonly voters: readonly number[];
  /** Nodes that fetch the log without voting (Kafka's observers: broker-only nodes). */
  readonly observers?: readonly number[];
  readonly config?: Partial<RaftConfig>;
  /** Reports a broken guarantee found while nodes start (e.g. a durable batch lost in a crash). */
  readonly onViolation: (message: string) => void;
  readonly logger?: Logger;
  /** Deliberate defects, to show that the invariants catch them (sabotage.ts). */
  readonly sabotage?: Sabotage;
  /** Each node's state machine snapshots every this many committed batches; 0 or absent: never. */
  readonly snapshotEveryBatches?: number;
}

export class RaftCluster {
  readonly network: SimNetwork;
  readonly nodes = new Map<number, SimNode>();
  readonly #options: RaftClusterOptions;
  readonly #logger: Logger;
  #stopping = 0;
  /** Snapshots nodes installed from a leader. */
  snapshotsFetched = 0;

  constructor(options: RaftClusterOptions) {
    this.#options = options;
    this.#logger = options.logger ?? createLogger(() => {}, 'silent');
    this.network = new SimNetwork({ scheduler: options.scheduler, random: options.random });
    for (const id of [...options.voters, ...(options.observers ?? [])]) {
      const seed = options.random.fork(`disk-${id}`).nextInt(2 ** 31);
      this.nodes.set(id, {
        id,
        fs: new MemoryFileSystem({ strictPowerLoss: { seed } }),
        raft: undefined,
        logManager: undefined,
        incarnation: -1,
        durableAtCrash: [],
        snapshotAtCrash: undefined,
        stateMachine: undefined,
      });
    }
  }

  get voters(): readonly number[] {
    return this.#options.voters;
  }

  /** Voters and observers. */
  get nodeIds(): number[] {
    return [...this.nodes.keys()];
  }

  async startAll(): Promise<void> {
    for (const id of this.nodes.keys()) await this.start(id);
  }

  /** Starts a node that is down: recovers its log from its disk and joins the quorum. */
  async start(id: number): Promise<void> {
    const node = this.#node(id);
    if (node.raft) return;
    node.incarnation++;
    const clock = this.network.clockFor(id);
    const logger = this.#logger.child(`node-${id}`);
    const logManager = await LogManager.open({
      fs: node.fs,
      dataDir: DATA_DIR,
      clock,
      logger,
      defaults: { ...defaultLogConfig },
      checkpointIntervalMs: Number.POSITIVE_INFINITY,
    });
    const log = logManager.get(METADATA_TOPIC, 0) ?? (await logManager.createLog(METADATA_TOPIC, 0));
    const snapshots = await SnapshotStore.open(node.fs, log.dir, logger);
    const openedLog = await PartitionRaftLog.open(log, snapshots.latest);
    this.#checkSurvived(node, openedLog, snapshots.latest);
    const sabotage = this.#options.sabotage;
    const raftLog = sabotage?.flushLies ? new LyingFlushLog(openedLog) : openedLog;
    const stateFile = new (sabotage?.forgetsVotes ? ForgetfulStateFile : QuorumStateFile)(node.fs, log.dir);
    const stateMachine = new SimStateMachine(this.#options.snapshotEveryBatches ?? 0, (error) => {
      // A node that crashed or stopped may fail mid-pass; only a live node's failure is a defect.
      if (node.stateMachine === stateMachine && node.raft) this.#options.onViolation(`node ${id}'s state machine failed: ${String(error)}`);
    }, sabotage?.snapshotDropsLast);
    const raft = await RaftNode.start({
      config: raftConfig({ nodeId: id, directoryId: simDirectoryId(id), voters: this.#options.voters, clusterId: 'simulated-cluster', ...this.#options.config }),
      log: raftLog,
      snapshots,
      listener: {
        onHighWatermark: () => stateMachine.poke(),
        onSnapshotInstalled: () => {
          this.snapshotsFetched++;
          stateMachine.poke();
        },
      },
      stateFile,
      transport: this.network.transportFor(id),
      clock,
      random: this.#options.random.fork(`raft-${id}-${node.incarnation}`),
      logger,
    });
    node.logManager = logManager;
    node.raft = raft;
    node.stateMachine = stateMachine;
    stateMachine.attach(raft);
    this.network.serve(id, (request: InboundRequest) =>
      raft.handle(request).catch((error: unknown) => {
        // A request caught mid-step by this node's crash gets no answer, as from a dead process.
        if (node.raft !== raft) return new Promise<never>(() => {});
        throw error;
      }),
    );
  }

  /** The node's process dies and its disk loses power: unsynced writes are gone. */
  crash(id: number): void {
    const node = this.#node(id);
    const raft = node.raft;
    if (!raft) return;
    node.durableAtCrash = durablePrefix(raft);
    node.snapshotAtCrash = raft.latestSnapshot;
    raft.kill();
    node.raft = undefined;
    node.stateMachine = undefined;
    node.logManager = undefined;
    this.network.crash(id);
    node.fs.simulatePowerLoss();
  }

  /** Clean shutdowns under way (a leader waits for its resignation to be heard). */
  get stopping(): number {
    return this.#stopping;
  }

  /** A clean shutdown: a leader resigns and tells the others, the log is flushed and closed. */
  async stop(id: number): Promise<void> {
    const node = this.#node(id);
    const raft = node.raft;
    if (!raft) return;
    this.#stopping++;
    try {
      await this.#stop(node, raft);
    } finally {
      this.#stopping--;
    }
  }

  async #stop(node: SimNode, raft: RaftNode): Promise<void> {
    const id = node.id;
    await raft.close();
    // A crash (and maybe a restart) while the leader waited for its resignation to be heard wins.
    if (node.raft !== raft) return;
    node.durableAtCrash = durablePrefix(raft);
    node.snapshotAtCrash = raft.latestSnapshot;
    node.raft = undefined;
    node.stateMachine = undefined;
    const logManager = node.logManager;
    node.logManager = undefined;
    this.network.crash(id);
    await logManager?.close();
  }

  running(): RaftNode[] {
    return [...this.nodes.values()].flatMap((node) => (node.raft ? [node.raft] : []));
  }

  down(): number[] {
    return [...this.nodes.values()].filter((node) => !node.raft).map((node) => node.id);
  }

  #node(id: number): SimNode {
    const node = this.nodes.get(id);
    if (!node) throw new Error(`no node ${id}`);
    return node;
  }

  /**
   * Every batch that was durable when the node went down must be there after recovery, or lie
   * below the snapshot the recovered log starts from; and no durable snapshot may be lost.
   */
  #checkSurvived(node: SimNode, recovered: PartitionRaftLog, snapshot: OffsetAndEpoch | undefined): void {
    const before = node.snapshotAtCrash;
    if (before && (!snapshot || snapshot.offset < before.offset)) {
      this.#options.onViolation(`node ${node.id} lost its snapshot at ${before.offset} (epoch ${before.epoch}) in a crash`);
    }
    const byOffset = new Map(recovered.batches().map((batch) => [batch.baseOffset, batch]));
    // A log found off its snapshot (one fetched from the leader just before the crash) is emptied:
    // what it held past the snapshot was an uncommitted tail.
    for (const batch of recovered.resetAtOpen ? [] : node.durableAtCrash) {
      if (batch.baseOffset < recovered.startOffset) continue;
      const found = byOffset.get(batch.baseOffset);
      if (!found || !sameBatch(found, batch)) {
        this.#options.onViolation(`node ${node.id} lost durable batch ${describeBatch(batch)} in a crash (recovered ${found ? describeBatch(found) : 'nothing'})`);
      }
    }
  }
}

/** The batches a node holds durably (below its flushed log end). */
export function durablePrefix(raft: RaftNode): RaftBatchInfo[] {
  const flushed = raft.log.flushedEndOffset;
  return raft.log.batches().filter((batch) => batch.lastOffset < flushed);
}

export function sameBatch(a: RaftBatchInfo, b: RaftBatchInfo): boolean {
  return a.baseOffset === b.baseOffset && a.lastOffset === b.lastOffset && a.epoch === b.epoch && a.crc === b.crc;
}

export function describeBatch(batch: RaftBatchInfo): string {
  return `[${batch.baseOffset}..${batch.lastOffset}] epoch ${batch.epoch} crc ${batch.crc.toString(16)}`;
}

/**
 * Node `id`'s metadata log directory id (KIP-853): fixed per node, never the zero uuid, so votes
 * and the voter keys of voters added during a run name real directories.
 */
export function simDirectoryId(id: number): string {
  return Buffer.alloc(16, id + 1).toString('base64url');
}
