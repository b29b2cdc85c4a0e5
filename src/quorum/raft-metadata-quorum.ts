// The metadata quorum a broker runs (DESIGN.md decision 5 and seam 3): a Raft node on
// __cluster_metadata-0, and the loop that feeds what it commits through the loader into the image
// and on to the publisher. A single node is a quorum of one on this same path: it elects itself at
// start and commits what it has flushed. The controller appends through it; an append resolves
// once its records are committed, applied to the image and published, so the controller always
// decides from the committed image (records, then replay).
import type { Clock, RandomSource } from '../base/clock.js';
import type { FileSystem } from '../base/file-system.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import type { Logger } from '../base/logger.js';
import { SerialQueue } from '../log/serial-queue.js';
import type { PartitionLog } from '../log/partition-log.js';
import type { MetadataQuorum } from '../metadata/controller.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import { MetadataLoader } from '../metadata/metadata-loader.js';
import type { MetadataRecord } from '../metadata/metadata-record.js';
import { serializeMetadataRecord } from '../metadata/metadata-record-serde.js';
import type { InboundRequest, Transport } from '../protocol/transport.js';
import { imageRecords } from '../metadata/image-records.js';
import { PartitionRaftLog } from './partition-raft-log.js';
import type { OffsetAndEpoch } from './raft-log.js';
import { decodeSnapshot } from './snapshot-file.js';
import { SnapshotStore } from './snapshot-store.js';
import type { Voter, VoterEndpoint } from './voter-set.js';
import { QuorumStateFile } from './quorum-state-file.js';
import type { RaftConfig } from './raft-config.js';
import { RaftNode } from './raft-node.js';

/**
 * Called with the records of each committed batch range, after they are applied to the image; with
 * `snapshot` true, the records are a whole snapshot that replaced the image (anything not in them
 * is gone).
 */
export type CommitListener = (records: readonly MetadataRecord[], snapshot: boolean) => Promise<void> | void;

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
  /** metadata.log.max.record.bytes.between.snapshots (Kafka's default: 20 MiB). */
  readonly maxBytesBetweenSnapshots?: number;
  /** The voter set changed (KIP-853), with the voters' endpoints; also called once at start. */
  readonly onVotersChange?: (voters: readonly Voter[]) => void;
  /** A leader named where it listens (a node finding the quorum through bootstrap servers). */
  readonly onEndpoint?: (nodeId: number, endpoint: VoterEndpoint) => void;
}

const DEFAULT_MAX_BYTES_BETWEEN_SNAPSHOTS = 20 * 1024 * 1024;

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
  /** The raft node's snapshots (read here too: the loader may run before the node has started). */
  #snapshots!: SnapshotStore;
  #listener: CommitListener = () => {};
  #waiters: AppliedWaiter[] = [];
  #loading = false;
  /** The epoch in which ensureActive last confirmed this node as the active controller. */
  #activeTerm = -1;
  #caughtUpChecks: (() => void)[] = [];
  /** The Raft node's high watermark, as last reported (also while it starts). */
  #highWatermark = 0;
  #failed: Error | undefined;
  readonly #image: MetadataImage;
  readonly #maxBytesBetweenSnapshots: number;
  /** Bytes of committed records applied since the last snapshot (taken or loaded). */
  #bytesSinceSnapshot = 0;

  private constructor(options: RaftMetadataQuorumOptions) {
    this.#loader = new MetadataLoader(options.image);
    this.#image = options.image;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#maxBytesBetweenSnapshots = options.maxBytesBetweenSnapshots ?? DEFAULT_MAX_BYTES_BETWEEN_SNAPSHOTS;
  }

  /**
   * Opens the metadata log and starts the Raft node. It serves the other voters at once; wait for
   * `caughtUp()` before serving clients.
   */
  static async start(options: RaftMetadataQuorumOptions): Promise<RaftMetadataQuorum> {
    const quorum = new RaftMetadataQuorum(options);
    const snapshots = await SnapshotStore.open(options.fs, options.log.dir, options.logger);
    quorum.#snapshots = snapshots;
    quorum.#raftLog = await PartitionRaftLog.open(options.log, snapshots.latest);
    quorum.#raft = await RaftNode.start({
      config: options.config,
      log: quorum.#raftLog,
      snapshots,
      stateFile: new QuorumStateFile(options.fs, options.log.dir),
      transport: options.transport,
      clock: options.clock,
      random: options.random,
      logger: options.logger,
      listener: {
        onHighWatermark: (highWatermark) => {
          quorum.#highWatermark = highWatermark;
          quorum.#load();
        },
        onSnapshotInstalled: () => quorum.#load(),
        onVotersChange: (voters) => options.onVotersChange?.(voters),
        onEndpoint: (nodeId, endpoint) => options.onEndpoint?.(nodeId, endpoint),
      },
    });
    options.onVotersChange?.(quorum.#raft.voterSet);
    // The newest snapshot goes into the image at once (it is committed), so a restart replays only
    // the log after it.
    quorum.#load();
    return quorum;
  }

  get raft(): RaftNode {
    return this.#raft;
  }

  /** The offset below which every committed record is in the image. */
  get appliedOffset(): number {
    return this.#loader.nextOffset;
  }

  get lastChangeOffset(): number {
    return this.#loader.lastChangeOffset;
  }

  registrationChangeOffset(brokerId: number): number {
    return this.#loader.registrationChangeOffset(brokerId);
  }

  /** Whether this node leads the term that ensureActive last confirmed (its image holds everything before that term). */
  get confirmedActive(): boolean {
    const role = this.#raft.role;
    return role.kind === 'leader' && role.epoch === this.#activeTerm;
  }

  onCommit(listener: CommitListener): void {
    this.#listener = listener;
  }

  /** Whether this node is the active controller (the quorum leader). */
  get isActive(): boolean {
    return this.#raft.role.kind === 'leader';
  }

  /** The active controller's node id, or -1 while none is known. */
  get activeControllerId(): number {
    return this.#raft.leaderId;
  }

  async ensureActive(): Promise<void> {
    const role = this.#raft.role;
    if (role.kind !== 'leader') throw this.#notController();
    // The term's first batch (its LeaderChange) loaded means everything before it is in the image.
    await this.#appliedUpTo(role.epochStartOffset + 1);
    if (this.#raft.role !== role) throw this.#notController();
    this.#activeTerm = role.epoch;
  }

  async append(records: MetadataRecord[]): Promise<void> {
    if (records.length === 0) return;
    const role = this.#raft.role;
    if (role.kind !== 'leader' || role.epoch !== this.#activeTerm) throw this.#notController();
    const now = this.#clock.nowMs();
    let lastOffset: number;
    try {
      lastOffset = await this.#raft.append(records.map((record) => ({ value: serializeMetadataRecord(record), timestamp: now })));
    } catch (error) {
      if (error instanceof KafkaError && error.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) throw this.#notController();
      throw error;
    }
    await this.#appliedUpTo(lastOffset + 1);
  }

  /**
   * Appends a NoOpRecord straight to the Raft log and resolves once it is committed, which needs a
   * majority of the voters to follow this node in its active term; rejects with NOT_CONTROLLER
   * when this node is not (or no longer) the active controller. Unlike the controller's appends it
   * neither queues behind the controller's operations nor waits for the image: it decides nothing,
   * it only asks whether this node still leads (ControllerChannel's read-index check).
   */
  async confirmLeadership(): Promise<void> {
    const role = this.#raft.role;
    if (role.kind !== 'leader' || role.epoch !== this.#activeTerm) throw this.#notController();
    try {
      await this.#raft.append([{ value: serializeMetadataRecord({ type: 'NoOp' }), timestamp: this.#clock.nowMs() }]);
    } catch (error) {
      if (error instanceof KafkaError && error.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) throw this.#notController();
      throw error;
    }
  }

  /**
   * Resolves once this node has loaded everything committed up to the high watermark it learned
   * from a leader (a quorum of one: at once). A broker serves clients only after this.
   */
  caughtUp(): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.#failed) return reject(this.#failed);
        if (this.#raft.leaderId !== -1 && this.#highWatermark > 0 && this.#loader.nextOffset >= this.#highWatermark) return resolve();
        this.#caughtUpChecks.push(check);
      };
      check();
    });
  }

  #notController(): KafkaError {
    return new KafkaError(ErrorCode.NOT_CONTROLLER, `node ${this.#raft.nodeId} is not the active controller (the quorum leader is ${this.#raft.leaderId})`);
  }

  /**
   * Hands the whole image to the commit listener again, as after a snapshot, in turn with the loads
   * (so the image does not change under it); resolves false, doing nothing, once the quorum is closed.
   */
  republish(): Promise<boolean> {
    if (this.#failed || this.#raft.isClosed) return Promise.resolve(false);
    return this.#loads.run(async () => {
      await this.#listener([], true);
      return true;
    });
  }

  /** Serves Vote, BeginQuorumEpoch, EndQuorumEpoch and Fetch of the metadata log from other nodes. */
  handle(request: InboundRequest): Promise<unknown> {
    return this.#raft.handle(request);
  }

  async close(): Promise<void> {
    await this.#raft.close();
    // A load in progress finishes (or fails) on its own; nothing waits for it after shutdown.
    this.#failed ??= new Error('the metadata quorum is closed');
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
        for (;;) {
          const snapshot = this.#snapshots.latest;
          if (snapshot && snapshot.offset > this.#loader.nextOffset) {
            await this.#loadSnapshot(snapshot);
            continue;
          }
          if (this.#loader.nextOffset >= this.#highWatermark) break;
          const bytes = await this.#raftLog.read(this.#loader.nextOffset, LOAD_READ_BYTES);
          if (bytes.length === 0) break;
          const before = this.#loader.nextOffset;
          const applied = this.#loader.apply(bytes, this.#highWatermark);
          if (applied.records.length > 0) await this.#listener(applied.records, false);
          this.#bytesSinceSnapshot += applied.bytes;
          this.#release();
          if (this.#loader.nextOffset === before) break;
          // (Not while the Raft node is still starting: the next load takes it.)
          if (this.#bytesSinceSnapshot >= this.#maxBytesBetweenSnapshots && this.#raft) await this.#takeSnapshot();
        }
      })
      .catch((error: unknown) => {
        this.#failed = error instanceof Error ? error : new Error(String(error));
        this.#logger.error('loading committed metadata failed', { error: String(error) });
        for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#failed);
      });
  }

  /** Replaces the image with `snapshot` (at start-up, or when the leader sent this node one). */
  async #loadSnapshot(snapshot: OffsetAndEpoch): Promise<void> {
    const records = this.#loader.loadSnapshot(decodeSnapshot(await this.#snapshots.readAll(snapshot)), snapshot.offset);
    this.#bytesSinceSnapshot = 0;
    this.#logger.info('loaded a metadata snapshot', { endOffset: snapshot.offset, epoch: snapshot.epoch, records: records.length });
    await this.#listener(records, true);
    this.#release();
  }

  /** Writes the image as a snapshot at the loader's position; the log before it is then dropped. */
  async #takeSnapshot(): Promise<void> {
    const endOffset = this.#loader.nextOffset;
    const values = imageRecords(this.#image).map(serializeMetadataRecord);
    this.#bytesSinceSnapshot = 0;
    try {
      await this.#raft.createSnapshot(endOffset, values);
    } catch (error) {
      // The log keeps everything; the next threshold tries again.
      this.#logger.warn('could not write a metadata snapshot', { endOffset, error: String(error) });
    }
  }

  #release(): void {
    for (const check of this.#caughtUpChecks.splice(0)) check();
    const applied = this.#loader.nextOffset;
    const ready = this.#waiters.filter((waiter) => waiter.offset <= applied);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((waiter) => waiter.offset > applied);
    for (const waiter of ready) waiter.resolve();
  }
}
