// The chaos campaign's metadata workload: a kafkajs admin client (through the fault proxies, like
// any client) that, every `paceMs`, either creates a topic or sets `retention.ms` of a config topic
// to the next value of an increasing sequence. At the end every node must list every topic whose
// creation was acknowledged, and must describe the config topic with a retention.ms that was asked
// for and is no older than the last acknowledged change: an acknowledged metadata change is never
// lost, whatever the faults did to the controller quorum.
import { setTimeout as delay } from 'node:timers/promises';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { DescribeConfigsApi, MetadataApi } from '../../src/protocol/messages/index.js';
import type { ProcessCluster } from '../support/cluster-processes.js';

export const CONFIG_TOPIC = 'chaos-config';
const TOPIC_PREFIX = 'chaos-meta-';
const FIRST_RETENTION_MS = 86_400_000;
/** Kafka's resource type of a topic (kafkajs's ConfigResourceTypes.TOPIC, which ESM cannot import by name). */
const RESOURCE_TOPIC = 2;

export interface MetadataWorkloadOptions {
  readonly bootstrapServers: string;
  readonly paceMs: number;
  readonly replicationFactor: number;
}

export class MetadataWorkload {
  /** Topics whose creation was acknowledged (or answered TOPIC_ALREADY_EXISTS after a retry). */
  readonly created: string[] = [];
  /** Every retention.ms asked for, acknowledged or not (increasing). */
  readonly askedRetention = new Set<number>();
  /** The last retention.ms whose change was acknowledged. */
  acknowledgedRetention = -1;
  /**
   * Changes whose outcome is unknown (the call failed): each may have taken effect at any time
   * after it was asked, even after a later acknowledged change (a request held by a partition is
   * delivered when it heals), so the final value may be one of these.
   */
  readonly unknownRetention = new Set<number>();
  /** Operations that ended in an error (their outcome is unknown). */
  readonly failures: string[] = [];
  #running = true;
  #loop: Promise<void> = Promise.resolve();

  private constructor(private readonly admin: Admin, private readonly options: MetadataWorkloadOptions) {}

  static async start(options: MetadataWorkloadOptions): Promise<MetadataWorkload> {
    const kafka = new Kafka({ clientId: 'chaos-admin', brokers: options.bootstrapServers.split(','), logLevel: logLevel.NOTHING, connectionTimeout: 1_000, requestTimeout: 10_000, retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: CONFIG_TOPIC, numPartitions: 1, replicationFactor: options.replicationFactor }] });
    const workload = new MetadataWorkload(admin, options);
    workload.#loop = workload.#run();
    return workload;
  }

  get operations(): number {
    return this.created.length + this.askedRetention.size + this.failures.length;
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await this.admin.disconnect().catch(() => {});
  }

  async #run(): Promise<void> {
    for (let step = 0; this.#running; step++) {
      try {
        if (step % 2 === 0) {
          const topic = `${TOPIC_PREFIX}${step / 2}`;
          // false: it exists already, which after a retry means the first attempt took effect.
          await this.admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: this.options.replicationFactor }], waitForLeaders: false, timeout: 10_000 });
          this.created.push(topic);
        } else {
          const value = FIRST_RETENTION_MS + step;
          this.askedRetention.add(value);
          this.unknownRetention.add(value);
          await this.admin.alterConfigs({ validateOnly: false, resources: [{ type: RESOURCE_TOPIC, name: CONFIG_TOPIC, configEntries: [{ name: 'retention.ms', value: String(value) }] }] });
          this.unknownRetention.delete(value);
          this.acknowledgedRetention = value;
        }
      } catch (error) {
        this.failures.push(error instanceof Error ? error.message : String(error));
      }
      await delay(this.options.paceMs);
    }
  }

  /**
   * Why `node`'s metadata lacks an acknowledged change right now, or undefined when it has all of
   * them. The caller polls it within a bound (a node may apply the controller's records a moment late).
   */
  async missingOn(cluster: ProcessCluster, node: number): Promise<string | undefined> {
    const connection = await KafkaConnection.open(connectTcp, cluster.address(node), 'chaos-metadata-check', { connectTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
    try {
      const metadata = await connection.send(MetadataApi, 12, { topics: this.created.map((name) => ({ name })), allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      const missing = metadata.topics.filter((topic) => topic.errorCode !== ErrorCode.NONE).map((topic) => topic.name);
      if (missing.length > 0) return `node ${node} does not know ${missing.length} acknowledged topics (${missing.slice(0, 5).join(', ')})`;
      const described = await connection.send(DescribeConfigsApi, 4, { resources: [{ resourceType: RESOURCE_TOPIC, resourceName: CONFIG_TOPIC, configurationKeys: ['retention.ms'] }], includeSynonyms: false });
      const result = described.results[0];
      if (result?.errorCode !== ErrorCode.NONE) return `node ${node}: DescribeConfigs ${CONFIG_TOPIC}: error ${result?.errorCode}`;
      const value = Number(result.configs.find((config) => config.name === 'retention.ms')?.value ?? -1);
      if (this.acknowledgedRetention >= 0 && value !== this.acknowledgedRetention && !this.unknownRetention.has(value)) {
        return `node ${node}: ${CONFIG_TOPIC} retention.ms is ${value}, but the last acknowledged change set ${this.acknowledgedRetention}${this.askedRetention.has(value) ? ' (an older acknowledged value)' : ' (a value never asked for)'}`;
      }
      return undefined;
    } finally {
      connection.close();
    }
  }
}
