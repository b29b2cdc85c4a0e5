// The metadata quorum a broker runs (DESIGN.md decision 5 and seam 3): a Raft node on
// __cluster_metadata-0, and the loop that feeds what it commits through the loader into the image
// and on to the publisher. A single node is a quorum of one on this same path: it elects itself at
// start and commits what it has flushed. The controller appends through it; an append resolves
// once its records are committed, applied to the image and published, so the controller always
// decides from the committed image (records, then replay).
import type { Clock, RandomSource } from '../base/clock.js';
import type { FileSystem } from '../base/file-system.js';
import type { Logger } from '../base/logger.js';
import { SerialQueue } from '../log/serial-queue.js';
import type { PartitionLog } from '../log/partition-log.js';
import type { MetadataQuorum } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { MetadataLoader } from '../metadata/metadata-loader.js';
import type { MetadataRecord } from '../metadata/metadata-record.js';
import { serializeMetadataRecord } from '../metadata/metadata-record-serde.js';
import type { InboundRequest, Transport } from '../protocol/transport.js';
import { PartitionRaftLog } from './partition-raft-log.js';
import { QuorumStateFile } from './quorum-state-file.js';
import type { RaftConfig } from './raft-config.js';
import { RaftNode } from './raft-node.js';

/** Called with the records of each committed batch range, after they are applied to the image. */
export type CommitListener = (records: readonly MetadataRecord[]) => Promise<void> | void;

/** Bytes read per step while the loader catches up with the high watermark. */
const LOAD_READ_BYTES = 4 * 1024 * 1024;

export interface RaftMetadataQuorumOptions {
  readonly config: RaftConfig;
  readonly log: PartitionLog;
  readonly fs: FileSystem;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly image: MetadataImage;
}

interface AppliedWaiter {
  readonly offset: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class RaftMetadataQuorum implements MetadataQuorum {
  readonly #loader: MetadataLoader;
  readonly #loads = new SerialQueue();
  readonly #logger: Logger;
  readonly #clock: Clock;
  #raft!: RaftNode;
  #raftLog!: PartitionRaftLog;
  #listener: CommitListener = () => {};
  #waiters: AppliedWaiter[] = [];
  #loading = false;
  /** The Raft node's high watermark, as last reported (also while it starts). */
  #highWatermark = 0;
  #failed: Error | undefined;

  private constructor(options: RaftMetadataQuorumOptions) {
    this.#loader = new MetadataLoader(options.image);
    this.#logger = options.logger;
    this.#clock = options.clock;
  }

  /**
   * Opens the quorum and waits until this node has loaded every record committed so far (a quorum
   * of one: the whole log, once it has elected itself).
   */
  static async start(options: RaftMetadataQuorumOptions): Promise<RaftMetadataQuorum> {
    const quorum = new RaftMetadataQuorum(options);
    quorum.#raftLog = await PartitionRaftLog.open(options.log);
    quorum.#raft = await RaftNode.start({
      config: options.config,
      log: quorum.#raftLog,
      stateFile: new QuorumStateFile(options.fs, options.log.dir, options.config.voters),
      transport: options.transport,
      clock: options.clock,
      random: options.random,
      logger: options.logger,
      listener: {
        onHighWatermark: (highWatermark) => {
          quorum.#highWatermark = highWatermark;
          quorum.#load();
        },
      },
    });
    await quorum.#appliedUpTo(1);
    await quorum.#loads.idle();
    options.logger.info('metadata loaded', { offset: quorum.#loader.nextOffset, epoch: quorum.#raft.epoch });
    return quorum;
  }

  get raft(): RaftNode {
    return this.#raft;
  }

  /** The offset below which every committed record is in the image. */
  get appliedOffset(): number {
    return this.#loader.nextOffset;
  }

  onCommit(listener: CommitListener): void {
    this.#listener = listener;
  }

  async append(records: MetadataRecord[]): Promise<void> {
    if (records.length === 0) return;
    const now = this.#clock.nowMs();
    const lastOffset = await this.#raft.append(records.map((record) => ({ value: serializeMetadataRecord(record), timestamp: now })));
    await this.#appliedUpTo(lastOffset + 1);
  }

  /** Serves Vote, BeginQuorumEpoch, EndQuorumEpoch and Fetch of the metadata log from other nodes. */
  handle(request: InboundRequest): Promise<unknown> {
    return this.#raft.handle(request);
  }

  async close(): Promise<void> {
    await this.#raft.close();
    await this.#loads.idle();
  }

  /** Resolves once the loader has applied everything below `offset`. */
  #appliedUpTo(offset: number): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#loader.nextOffset >= offset) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ offset, resolve, reject }));
  }

  /** Brings the image up to the high watermark, one read at a time, on its own serial queue. */
  #load(): void {
    if (this.#loading) return;
    this.#loading = true;
    this.#loads
      .run(async () => {
        this.#loading = false;
        while (this.#loader.nextOffset < this.#highWatermark) {
          const bytes = await this.#raftLog.read(this.#loader.nextOffset, LOAD_READ_BYTES);
          if (bytes.length === 0) break;
          const before = this.#loader.nextOffset;
          const { records } = this.#loader.apply(bytes, this.#highWatermark);
          if (records.length > 0) await this.#listener(records);
          this.#release();
          if (this.#loader.nextOffset === before) break;
        }
      })
      .catch((error: unknown) => {
        this.#failed = error instanceof Error ? error : new Error(String(error));
        this.#logger.error('loading committed metadata failed', { error: String(error) });
        for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#failed);
      });
  }

  #release(): void {
    const applied = this.#loader.nextOffset;
    const ready = this.#waiters.filter((waiter) => waiter.offset <= applied);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => waiter.offset > applied);
    for (const waiter of ready) waiter.resolve();
  }
}
