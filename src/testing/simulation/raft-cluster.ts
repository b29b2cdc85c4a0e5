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
import type { RaftBatchInfo } from '../../quorum/raft-log.js';
import { METADATA_TOPIC, RaftNode } from '../../quorum/raft-node.js';
import type { InboundRequest } from '../../protocol/transport.js';
import { ForgetfulStateFile, LyingFlushLog, type Sabotage } from './sabotage.js';
import type { SeededRandom } from './seeded-random.js';
import { SimNetwork } from './sim-network.js';
import type { SimScheduler } from './sim-scheduler.js';

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
}

export class RaftCluster {
  readonly network: SimNetwork;
  readonly nodes = new Map<number, SimNode>();
  readonly #options: RaftClusterOptions;
  readonly #logger: Logger;
  #stopping = 0;

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
    const openedLog = await PartitionRaftLog.open(log);
    this.#checkSurvived(node, openedLog.batches());
    const sabotage = this.#options.sabotage;
    const raftLog = sabotage?.flushLies ? new LyingFlushLog(openedLog) : openedLog;
    const stateFile = new (sabotage?.forgetsVotes ? ForgetfulStateFile : QuorumStateFile)(node.fs, log.dir, this.#options.voters);
    const raft = await RaftNode.start({
      config: raftConfig({ nodeId: id, voters: this.#options.voters, clusterId: 'simulated-cluster', ...this.#options.config }),
      log: raftLog,
      stateFile,
      transport: this.network.transportFor(id),
      clock,
      random: this.#options.random.fork(`raft-${id}-${node.incarnation}`),
      logger,
    });
    node.logManager = logManager;
    node.raft = raft;
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
    raft.kill();
    node.raft = undefined;
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
    node.raft = undefined;
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

  /** Every batch that was durable when the node went down must be there after recovery. */
  #checkSurvived(node: SimNode, recovered: readonly RaftBatchInfo[]): void {
    node.durableAtCrash.forEach((batch, index) => {
      const found = recovered[index];
      if (!found || !sameBatch(found, batch)) {
        this.#options.onViolation(`node ${node.id} lost durable batch ${describeBatch(batch)} in a crash (recovered ${found ? describeBatch(found) : 'nothing'})`);
      }
    });
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
