// Partition replication on the simulation kit: brokers, each with its own memory disk, the real
// partition log, replica manager, follower fetchers
// and ISR manager, talking over the simulated network. The controller is a model here (the real one
// is proven with the metadata quorum): it keeps one partition's assignment and, as Kafka's does,
// elects a new leader from the ISR when the leader's broker is fenced, removes a fenced broker
// from the ISR unless it is the last member, treats a restarted broker as a new incarnation (out
// of the ISR until it catches up again), and applies a leader's AlterPartition when its leader and
// partition epochs are current and every new member is alive.
//
// A broker stops cleanly (`stop(id)`) as after a controlled shutdown: the controller moves its
// leadership and takes it out of the ISR at once, then the broker closes its logs the way a
// shutdown does (flushed, producer snapshots and the clean-shutdown marker written), so the next
// start loads them without recovery.
//
// A crash is a kill -9 (the page cache survives) or a power loss (`crash(id, true)`: the broker's
// memory disk drops every write it had not synced, under the strict model: unsynced pages kept,
// dropped or torn at random, unsynced directory entries undone). Either way the dead incarnation
// touches its disk no more: each incarnation reaches the disk through a gate that refuses every
// call, and every call on a handle it opened, once it died (a dead process writes nothing).
import { ErrorCode } from '../../base/error-codes.js';
import { KafkaError } from '../../base/kafka-error.js';
import { createLogger, type Logger } from '../../base/logger.js';
import { type DirectoryEntry, type FileHandle, type FileStat, type FileSystem, FileSystemError, type FileSystemSpace, type OpenMode } from '../../base/file-system.js';
import { MemoryFileSystem, type PowerLossReport } from '../../base/memory-file-system.js';
import { defaultLogConfig, type LogConfig } from '../../log/log-config.js';
import { LogManager } from '../../log/log-manager.js';
import { FetchApi, type FetchRequest, type FetchResponse } from '../../protocol/messages/index.js';
import type { InboundRequest } from '../../protocol/transport.js';
import { IsrManager, type IsrProposal } from '../../replication/isr-manager.js';
import type { Partition, ReplicaAssignment } from '../../replication/partition.js';
import { ReplicaFetcherManager } from '../../replication/replica-fetcher.js';
import { ReplicaManager } from '../../replication/replica-manager.js';
import type { SeededRandom } from './seeded-random.js';
import { SimNetwork } from './sim-network.js';
import type { SimScheduler } from './sim-scheduler.js';

export const SIM_TOPIC = 'replicated';
export const SIM_TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';
const DATA_DIR = '/data';

export interface ReplicationClusterOptions {
  readonly scheduler: SimScheduler;
  readonly random: SeededRandom;
  readonly brokers: readonly number[];
  /** How long a crashed broker stays in the assignment before the controller fences it. */
  readonly sessionTimeoutMs: number;
  readonly lagTimeMaxMs: number;
  readonly fetchWaitMaxMs: number;
  readonly fetchBackoffMs: number;
  readonly onViolation: (message: string) => void;
  readonly logger?: Logger;
  /** Sabotage, to show the checks catch lost writes: elections pick any live replica, in the ISR or not. */
  readonly electOutsideIsr?: boolean;
  /** Sabotage: an elected leader forgets each producer's last batch (its log keeps it). */
  readonly newLeaderForgetsLastBatch?: boolean;
  /** Topic and broker log settings (segment.bytes, flush.messages, ...) over Kafka's defaults. */
  readonly logConfig?: Partial<LogConfig>;
}

export interface SimBroker {
  readonly id: number;
  readonly fs: MemoryFileSystem;
  incarnation: number;
  replicas: ReplicaManager | undefined;
  logManager: LogManager | undefined;
  fetchers: ReplicaFetcherManager | undefined;
  isr: IsrManager | undefined;
  /** Fetches parked for data, woken by appends and high watermark moves. */
  waiters: Set<() => void>;
  /** The running incarnation's gate to `fs`, closed when it dies. */
  gate: IncarnationGate | undefined;
  /** Power losses this broker's disk has had. */
  powerLosses: number;
}

/** What a power loss did to a broker's disk: the memory disk's report, and the bytes its files lost. */
export interface SimPowerLossReport extends PowerLossReport {
  readonly bytesLost: number;
}

/** Bytes in every file of `fs`, as the page cache holds them. */
function diskBytes(fs: MemoryFileSystem): number {
  let total = 0;
  for (const content of fs.snapshotFiles().values()) total += content.length;
  return total;
}

export class ReplicationCluster {
  readonly network: SimNetwork;
  readonly brokers = new Map<number, SimBroker>();
  #assignment: ReplicaAssignment;
  readonly #options: ReplicationClusterOptions;
  readonly #logger: Logger;
  readonly #fenceTimers = new Map<number, () => void>();
  /** Brokers the controller counts alive (registered and not fenced). */
  readonly #alive = new Set<number>();
  /** Leader epochs and who led them, as the controller handed them out. */
  readonly leadersByEpoch = new Map<number, number>();

  constructor(options: ReplicationClusterOptions) {
    this.#options = options;
    this.#logger = options.logger ?? createLogger(() => {}, 'silent');
    this.network = new SimNetwork({ scheduler: options.scheduler, random: options.random });
    const replicas = [...options.brokers];
    this.#assignment = { leaderId: replicas[0]!, leaderEpoch: 0, partitionEpoch: 0, replicas, isr: replicas };
    this.leadersByEpoch.set(0, replicas[0]!);
    for (const id of options.brokers) {
      const seed = options.random.fork(`disk-${id}`).nextInt(2 ** 31);
      this.brokers.set(id, { id, fs: new MemoryFileSystem({ strictPowerLoss: { seed } }), incarnation: -1, replicas: undefined, logManager: undefined, fetchers: undefined, isr: undefined, waiters: new Set(), gate: undefined, powerLosses: 0 });
    }
  }

  get assignment(): ReplicaAssignment {
    return this.#assignment;
  }

  /** The replica on broker `id`, if it is up. */
  replica(id: number): Partition | undefined {
    return this.brokers.get(id)?.replicas?.replica(SIM_TOPIC, 0);
  }

  /** The replica that leads now, if its broker is up and knows it leads. */
  leader(): Partition | undefined {
    const partition = this.replica(this.#assignment.leaderId);
    return partition?.isLeader ? partition : undefined;
  }

  /** The log settings every broker and the topic use. */
  get logConfig(): LogConfig {
    return { ...defaultLogConfig, ...this.#options.logConfig };
  }

  running(): number[] {
    return [...this.brokers.values()].filter((broker) => broker.replicas).map((broker) => broker.id);
  }

  async startAll(): Promise<void> {
    for (const id of this.brokers.keys()) await this.start(id);
  }

  /** Starts a broker that is down: recovers its log from its disk and registers (a new incarnation). */
  async start(id: number): Promise<void> {
    const broker = this.#broker(id);
    if (broker.replicas) return;
    broker.incarnation++;
    const clock = this.network.clockFor(id);
    const logger = this.#logger.child(`broker-${id}`);
    const gate = new IncarnationGate(broker.fs, `broker ${id} incarnation ${broker.incarnation}`);
    broker.gate = gate;
    const logManager = await LogManager.open({ fs: gate, dataDir: DATA_DIR, clock, logger, defaults: this.logConfig, checkpointIntervalMs: Number.POSITIVE_INFINITY });
    const replicas = new ReplicaManager(logManager, logger, id);
    const fetchers = new ReplicaFetcherManager({
      localBrokerId: id,
      transport: this.network.transportFor(id),
      clock,
      logger,
      config: { waitMaxMs: this.#options.fetchWaitMaxMs, minBytes: 1, maxBytes: 4096, responseMaxBytes: 16_384, backoffMs: this.#options.fetchBackoffMs, requestTimeoutMs: 1000 },
      stillFollows: (partition) => !partition.isLeader && replicas.replica(partition.topic, partition.partitionIndex) === partition,
      onProgress: (partition) => replicas.notify(partition),
    });
    replicas.onFollowChange((partition) => fetchers.follow(partition));
    replicas.onHighWatermarkChange(() => {
      const waiting = [...broker.waiters];
      broker.waiters.clear();
      for (const wake of waiting) wake();
    });
    const incarnation = broker.incarnation;
    const isr = new IsrManager({
      clock,
      logger,
      lagTimeMaxMs: this.#options.lagTimeMaxMs,
      ledPartitions: () => [...replicas.all()].filter((partition) => partition.isLeader),
      alterPartition: async (proposals) => {
        const codes: number[] = [];
        for (const proposal of proposals) codes.push(await this.#alterPartition(id, incarnation, proposal).then(() => ErrorCode.NONE, (error: unknown) => (error instanceof KafkaError ? error.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR)));
        return codes;
      },
    });
    replicas.isrManager = isr;
    Object.assign(broker, { replicas, logManager, fetchers, isr });
    this.network.serve(id, (request: InboundRequest) => this.#serve(broker, replicas, request));
    isr.start();
    // Registration: a broker that comes back is a new incarnation. Whatever it held before may be
    // gone (its disk lost power), so it leaves the ISR and any leadership it had until it catches up.
    this.#cancelFence(id);
    if (broker.incarnation > 0) this.#fence(id);
    this.#alive.add(id);
    if (this.#assignment.leaderId < 0) this.#elect();
    await this.#publish();
  }

  /**
   * The broker's process dies (kill -9: what it wrote stays in the page cache, as on a real
   * machine; with `powerLoss` the disk also loses power and every unsynced write is gone). The
   * controller fences it after the session timeout. Returns what the power loss did to the disk.
   */
  crash(id: number, powerLoss = false): SimPowerLossReport | undefined {
    const broker = this.#broker(id);
    if (!broker.replicas) return undefined;
    broker.gate?.close();
    broker.gate = undefined;
    broker.fetchers?.close();
    broker.isr?.stop();
    for (const wake of broker.waiters) wake();
    broker.waiters.clear();
    Object.assign(broker, { replicas: undefined, logManager: undefined, fetchers: undefined, isr: undefined });
    this.network.crash(id);
    let report: SimPowerLossReport | undefined;
    if (powerLoss) {
      const before = diskBytes(broker.fs);
      report = { ...broker.fs.simulatePowerLoss(), bytesLost: before - diskBytes(broker.fs) };
      broker.powerLosses++;
    }
    this.#cancelFence(id);
    const clock = this.network.clockFor(this.#options.brokers.find((other) => other !== id) ?? id);
    this.#fenceTimers.set(id, clock.schedule(this.#options.sessionTimeoutMs, () => {
      this.#fenceTimers.delete(id);
      this.#fence(id);
      void this.#publish();
    }));
    return report;
  }

  /**
   * A clean shutdown (Kafka's controlled shutdown): the broker stops fetching, serving and leading,
   * the controller fences it at once (a new leader if it led, out of the ISR unless the last
   * member), then its logs close as a shutdown closes them (PartitionLog.close writes the producer
   * snapshot) and the clean-shutdown marker is written. Returns whether every log closed cleanly.
   */
  async stop(id: number): Promise<boolean> {
    const broker = this.#broker(id);
    const logManager = broker.logManager;
    if (!broker.replicas || !logManager) return true;
    const gate = broker.gate;
    broker.fetchers?.close();
    broker.isr?.stop();
    for (const wake of broker.waiters) wake();
    broker.waiters.clear();
    Object.assign(broker, { replicas: undefined, logManager: undefined, fetchers: undefined, isr: undefined, gate: undefined });
    this.network.crash(id);
    this.#cancelFence(id);
    this.#fence(id);
    await this.#publish();
    let clean = true;
    try {
      await logManager.close();
    } catch (error) {
      clean = false;
      this.#logger.error('the simulated shutdown could not close the logs', { broker: id, error });
    }
    // The process exits: nothing it still had under way reaches the disk afterwards.
    gate?.close();
    return clean;
  }

  /**
   * Whether some running broker other than `id` is in the ISR as the controller has it: then it
   * holds every record below the high watermark, and `id` may lose power without taking the last
   * copy of a committed record with it (Kafka's promise: no committed record is lost while at
   * least one in-sync replica stays alive).
   */
  anotherInSyncReplicaRuns(id: number): boolean {
    const running = this.running();
    return this.#assignment.isr.some((member) => member !== id && running.includes(member));
  }

  #cancelFence(id: number): void {
    this.#fenceTimers.get(id)?.();
    this.#fenceTimers.delete(id);
  }

  /** The controller fences `id`: it leaves the ISR unless it is the last member, and stops leading. */
  #fence(id: number): void {
    this.#alive.delete(id);
    const current = this.#assignment;
    const isr = current.isr.length > 1 ? current.isr.filter((member) => member !== id) : current.isr;
    const leaderLost = current.leaderId === id;
    if (!leaderLost && isr.length === current.isr.length) return;
    this.#assignment = { ...current, isr, leaderId: leaderLost ? -1 : current.leaderId, leaderEpoch: current.leaderEpoch, partitionEpoch: current.partitionEpoch + 1 };
    if (leaderLost) this.#elect();
  }

  /** A new leader from the live ISR members (clean election only), in a new leader epoch. */
  #elect(): void {
    const current = this.#assignment;
    const candidates = this.#options.electOutsideIsr ? [...current.replicas].reverse() : current.isr;
    const leaderId = candidates.find((member) => this.#alive.has(member)) ?? -1;
    const leaderEpoch = current.leaderEpoch + 1;
    this.#assignment = { ...current, leaderId, leaderEpoch, partitionEpoch: current.partitionEpoch + 1 };
    if (leaderId >= 0) this.leadersByEpoch.set(leaderEpoch, leaderId);
    const log = this.#options.newLeaderForgetsLastBatch && leaderId >= 0 ? this.#broker(leaderId).replicas?.replica(SIM_TOPIC, 0)?.log : undefined;
    if (log) for (const producer of log.producerState.producers()) producer.batches.pop();
  }

  async #alterPartition(brokerId: number, incarnation: number, proposal: IsrProposal): Promise<void> {
    const current = this.#assignment;
    const broker = this.#broker(brokerId);
    if (broker.incarnation !== incarnation || !this.#alive.has(brokerId)) throw new KafkaError(ErrorCode.STALE_BROKER_EPOCH, `broker ${brokerId} is not registered as that incarnation`);
    if (current.leaderId !== brokerId || proposal.leaderEpoch !== current.leaderEpoch) throw new KafkaError(ErrorCode.FENCED_LEADER_EPOCH, 'not the current leader');
    if (proposal.partitionEpoch !== current.partitionEpoch) throw new KafkaError(ErrorCode.INVALID_UPDATE_VERSION, 'stale partition epoch');
    if (proposal.isr.some((member) => !this.#alive.has(member) || !current.replicas.includes(member))) throw new KafkaError(ErrorCode.INELIGIBLE_REPLICA, 'a proposed member is not alive');
    this.#assignment = { ...current, isr: [...proposal.isr], partitionEpoch: current.partitionEpoch + 1 };
    await this.#publish();
  }

  async #publish(): Promise<void> {
    for (const broker of this.brokers.values()) await this.#publishTo(broker);
  }

  async #publishTo(broker: SimBroker): Promise<void> {
    const replicas = broker.replicas;
    if (!replicas) return;
    const clock = this.network.clockFor(broker.id);
    await replicas.host(SIM_TOPIC, 0, SIM_TOPIC_ID, this.#assignment, this.logConfig, clock.monotonicMs());
  }

  /** The leader's side of a follower's Fetch (the broker's Fetch handler does the same for real). */
  async #serve(broker: SimBroker, replicas: ReplicaManager, request: InboundRequest): Promise<unknown> {
    if (request.apiKey !== FetchApi.apiKey) throw new Error(`the simulated brokers serve Fetch only, not api ${request.apiKey}`);
    const fetch = request.body as FetchRequest;
    // The fetcher names the topic by id from v13 and itself in ReplicaState from v15, as Kafka's does.
    const replicaId = (request.apiVersion >= 15 ? fetch.replicaState?.replicaId : fetch.replicaId) ?? -1;
    const clock = this.network.clockFor(broker.id);
    const answer = async (): Promise<{ response: FetchResponse; bytes: number }> => {
      let bytes = 0;
      const responses: FetchResponse['responses'] = [];
      for (const topic of fetch.topics) {
        const partitions: FetchResponse['responses'][number]['partitions'] = [];
        for (const wanted of topic.partitions) {
          const name = request.apiVersion >= 13 ? (topic.topicId === SIM_TOPIC_ID ? SIM_TOPIC : '') : (topic.topic ?? '');
          const partition = replicas.get(name, wanted.partition);
          const empty = { partitionIndex: wanted.partition, highWatermark: -1n, logStartOffset: -1n, records: null };
          if (!partition) {
            partitions.push({ ...empty, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
            continue;
          }
          const epochError = partition.leaderEpochError(wanted.currentLeaderEpoch ?? -1);
          const base = { ...empty, highWatermark: BigInt(partition.highWatermark), logStartOffset: BigInt(partition.log.logStartOffset) };
          const fetchOffset = Number(wanted.fetchOffset);
          const diverging = epochError === ErrorCode.NONE ? partition.divergence(wanted.lastFetchedEpoch ?? -1, fetchOffset) : undefined;
          if (epochError !== ErrorCode.NONE || diverging) {
            partitions.push({ ...base, errorCode: epochError, ...(diverging ? { divergingEpoch: { epoch: diverging.epoch, endOffset: BigInt(diverging.endOffset) } } : {}) });
            continue;
          }
          replicas.followerFetched(partition, replicaId, fetchOffset, clock.monotonicMs());
          try {
            const read = await partition.log.read(fetchOffset, { maxBytes: wanted.partitionMaxBytes, maxOffset: partition.log.logEndOffset, minOneBatch: true });
            const records = read.chunks.length > 0 ? Buffer.concat(read.chunks) : null;
            bytes += records?.length ?? 0;
            partitions.push({ ...base, highWatermark: BigInt(partition.highWatermark), errorCode: ErrorCode.NONE, records });
          } catch (error) {
            if (!(error instanceof KafkaError)) throw error;
            partitions.push({ ...base, errorCode: error.errorCode });
          }
        }
        responses.push({ topic: topic.topic ?? '', topicId: topic.topicId ?? SIM_TOPIC_ID, partitions });
      }
      return { response: { throttleTimeMs: 0, errorCode: ErrorCode.NONE, sessionId: 0, responses }, bytes };
    };
    const first = await answer();
    if (first.bytes > 0 || fetch.maxWaitMs <= 0 || first.response.responses.some((topic) => topic.partitions.some((partition) => partition.errorCode !== ErrorCode.NONE || partition.divergingEpoch))) return first.response;
    // Nothing new: wait for an append or the fetch's MaxWaitMs, then answer again.
    await new Promise<void>((resolve) => {
      const cancel = clock.schedule(fetch.maxWaitMs, () => {
        broker.waiters.delete(wake);
        resolve();
      });
      const wake = () => {
        cancel();
        resolve();
      };
      broker.waiters.add(wake);
    });
    if (broker.replicas !== replicas) return new Promise<never>(() => {});
    return (await answer()).response;
  }

  #broker(id: number): SimBroker {
    const broker = this.brokers.get(id);
    if (!broker) throw new Error(`no broker ${id}`);
    return broker;
  }
}

/**
 * One incarnation's way to its broker's disk: every call, and every call on a handle opened
 * through it, fails with EIO once `close()` ran (the process died), so nothing the dead process
 * had under way (a queued write, a truncation, a checkpoint) reaches the disk afterwards.
 */
class IncarnationGate implements FileSystem {
  #open = true;

  constructor(
    private readonly fs: FileSystem,
    private readonly name: string,
  ) {}

  close(): void {
    this.#open = false;
  }

  check(operation: string, path: string): void {
    if (!this.#open) throw new FileSystemError('EIO', `${operation} '${path}': ${this.name} is dead`);
  }

  async open(path: string, mode: OpenMode): Promise<FileHandle> {
    this.check('open', path);
    const handle = await this.fs.open(path, mode);
    return new GatedHandle(handle, this);
  }

  async readFile(path: string): Promise<Buffer> {
    this.check('readFile', path);
    return this.fs.readFile(path);
  }

  async writeFile(path: string, data: Buffer): Promise<void> {
    this.check('writeFile', path);
    return this.fs.writeFile(path, data);
  }

  async rename(from: string, to: string): Promise<void> {
    this.check('rename', from);
    return this.fs.rename(from, to);
  }

  async unlink(path: string): Promise<void> {
    this.check('unlink', path);
    return this.fs.unlink(path);
  }

  async mkdir(path: string): Promise<boolean> {
    this.check('mkdir', path);
    return this.fs.mkdir(path);
  }

  async removeTree(path: string): Promise<void> {
    this.check('removeTree', path);
    return this.fs.removeTree(path);
  }

  async readdir(path: string): Promise<DirectoryEntry[]> {
    this.check('readdir', path);
    return this.fs.readdir(path);
  }

  async stat(path: string): Promise<FileStat> {
    this.check('stat', path);
    return this.fs.stat(path);
  }

  async syncDirectory(path: string): Promise<void> {
    this.check('syncDirectory', path);
    return this.fs.syncDirectory(path);
  }

  async space(path: string): Promise<FileSystemSpace> {
    this.check('space', path);
    return this.fs.space(path);
  }
}

class GatedHandle implements FileHandle {
  constructor(
    private readonly handle: FileHandle,
    private readonly gate: IncarnationGate,
  ) {}

  get path(): string {
    return this.handle.path;
  }

  async read(position: number, length: number, into?: Buffer): Promise<Buffer> {
    this.gate.check('read', this.path);
    return this.handle.read(position, length, into);
  }

  async write(buffers: readonly Buffer[], position: number): Promise<void> {
    this.gate.check('write', this.path);
    return this.handle.write(buffers, position);
  }

  async truncate(length: number): Promise<void> {
    this.gate.check('truncate', this.path);
    return this.handle.truncate(length);
  }

  async size(): Promise<number> {
    this.gate.check('size', this.path);
    return this.handle.size();
  }

  async sync(): Promise<void> {
    this.gate.check('sync', this.path);
    return this.handle.sync();
  }

  async close(): Promise<void> {
    return this.handle.close();
  }
}
