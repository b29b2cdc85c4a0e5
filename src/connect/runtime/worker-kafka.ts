// The worker's way to Kafka, over the project's own client (src/client): a cluster client for
// metadata and admin requests, and fork() for each part that needs connections of its own. A
// broker answers a connection's requests in order, so a JoinGroup parked for a rebalance or a
// long-polling Fetch would hold up everything behind it: as in Kafka, where every task has its
// own producer or consumer and the group coordinator its own connection, each task, each
// internal-topic log and the worker's group membership get their own.
import { ErrorCode, retriableErrorCodes } from '../../base/error-codes.js';
import { AdminClient, type TopicInfo } from '../../client/admin-client.js';
import type { Connector } from '../../client/byte-stream.js';
import { ClusterClient, KafkaResponseError } from '../../client/cluster-client.js';

/** How long to wait for an auto-created topic's partitions to get leaders. */
const TOPIC_READY_TIMEOUT_MS = 30_000;
const TOPIC_READY_POLL_MS = 100;

export class WorkerKafka {
  readonly cluster: ClusterClient;
  readonly admin: AdminClient;
  private clusterId: string | null = null;

  constructor(
    private readonly connect: Connector,
    private readonly bootstrapServers: readonly string[],
    private readonly clientId: string,
  ) {
    if (bootstrapServers.length === 0) throw new Error('bootstrap.servers: no broker given');
    this.cluster = new ClusterClient(connect, bootstrapServers.join(','), clientId);
    this.admin = new AdminClient(this.cluster);
  }

  /** A client with connections of its own (client id `<worker's>-<suffix>`); close it when done. */
  fork(suffix: string): WorkerKafka {
    const forked = new WorkerKafka(this.connect, this.bootstrapServers, `${this.clientId}-${suffix}`);
    forked.clusterId = this.clusterId;
    return forked;
  }

  /** The Kafka cluster's id (read once; the worker refuses to start without a broker). */
  async kafkaClusterId(): Promise<string> {
    if (this.clusterId === null) this.clusterId = (await this.cluster.metadata([])).clusterId ?? '';
    return this.clusterId;
  }

  /** The topic's partitions with leaders; created by the broker when it auto-creates topics. */
  async topic(name: string, autoCreate: boolean): Promise<TopicInfo> {
    const deadline = Date.now() + TOPIC_READY_TIMEOUT_MS;
    for (;;) {
      const metadata = await this.cluster.metadata([name], autoCreate);
      const topic = metadata.topics[0];
      const code = topic?.errorCode ?? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      if (code === ErrorCode.NONE && topic!.partitions.length > 0 && topic!.partitions.every((partition) => partition.leaderId >= 0)) {
        return this.admin.describeTopic(name);
      }
      const waiting = code === ErrorCode.NONE || retriableErrorCodes.has(code) || (autoCreate && code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (!waiting || Date.now() > deadline) throw new KafkaResponseError(code === ErrorCode.NONE ? ErrorCode.LEADER_NOT_AVAILABLE : code, `topic '${name}'`);
      await sleep(TOPIC_READY_POLL_MS);
    }
  }

  close(): void {
    this.cluster.close();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}
