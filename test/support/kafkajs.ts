// kafkajs helpers: topic creation through its admin client (also used by suites whose client has no
// admin API, such as kcat), and a group-less consumer. kafkajs's Consumer always joins a group, which
// the broker does not serve yet, so reading goes through the Cluster and Broker objects its consumer
// uses internally: the Fetch requests and record decoding are kafkajs's own.
import { Kafka, logLevel } from 'kafkajs';
import type { ConsumedRecord } from './records.js';

export function kafkajsClient(bootstrapServers: string, clientId = 'conveyor-compat'): Kafka {
  return new Kafka({ clientId, brokers: [bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
}

/** Creates topics with kafkajs's admin client and fails unless each was created now. */
export async function createTopicsWithKafkajs(bootstrapServers: string, topics: string[], numPartitions: number): Promise<void> {
  const admin = kafkajsClient(bootstrapServers, 'conveyor-compat-admin').admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })), waitForLeaders: true });
    if (!created) throw new Error(`createTopics(${topics.join(', ')}) reported the topics already existed`);
  } finally {
    await admin.disconnect();
  }
}

interface KafkajsMessage {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | Buffer[] | undefined>;
  isControlRecord?: boolean;
}

interface KafkajsFetchPartition {
  partition: number;
  errorCode: number;
  highWatermark: string;
  messages: KafkajsMessage[];
}

interface KafkajsBroker {
  fetch(request: {
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    isolationLevel: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: KafkajsFetchPartition[] }> }>;
}

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<KafkajsBroker>;
}

function createCluster(kafka: Kafka): KafkajsCluster {
  // The Kafka object keeps its cluster factory under a module-private symbol.
  const holder = kafka as unknown as Record<symbol, unknown>;
  const symbol = Object.getOwnPropertySymbols(holder).find((s) => s.description === 'private:Kafka:createCluster');
  if (symbol === undefined) throw new Error('kafkajs internals changed: no createCluster symbol');
  const factory = holder[symbol] as (options: Record<string, unknown>) => KafkajsCluster;
  return factory({ metadataMaxAge: 300_000, allowAutoTopicCreation: false });
}

/**
 * Reads every partition of `topic` from offset 0 up to the high watermark the broker reports,
 * skipping records before the fetch offset as kafkajs's consumer does (fetches return whole batches).
 */
export async function consumeAllWithKafkajs(bootstrapServers: string, topic: string, partitions: number, timeoutMs = 60_000): Promise<ConsumedRecord[]> {
  const cluster = createCluster(kafkajsClient(bootstrapServers, 'conveyor-compat-consumer'));
  await cluster.connect();
  try {
    await cluster.addTargetTopic(topic);
    const ids = Array.from({ length: partitions }, (_, p) => p);
    const leaders = cluster.findLeaderForPartitions(topic, ids);
    const next = new Map<number, bigint>(ids.map((p) => [p, 0n]));
    const highWatermarks = new Map<number, bigint>();
    const out: ConsumedRecord[] = [];
    const deadline = Date.now() + timeoutMs;
    for (const [nodeId, owned] of Object.entries(leaders)) {
      const broker = await cluster.findBroker({ nodeId });
      for (;;) {
        const pending = owned.filter((p) => !highWatermarks.has(p) || next.get(p)! < highWatermarks.get(p)!);
        if (pending.length === 0) break;
        if (Date.now() > deadline) throw new Error(`kafkajs fetch of ${topic} timed out at ${JSON.stringify(Object.fromEntries(next))}, high watermarks ${JSON.stringify(Object.fromEntries(highWatermarks))}`.replace(/n"/g, '"'));
        const { responses } = await broker.fetch({
          // Short waits: a partition already at its end would otherwise hold the request for 5 s.
          maxWaitTime: 100,
          minBytes: 1,
          maxBytes: 10 * 1024 * 1024,
          isolationLevel: 0,
          topics: [{ topic, partitions: pending.map((partition) => ({ partition, fetchOffset: next.get(partition)!.toString(), maxBytes: 1024 * 1024 })) }],
        });
        for (const response of responses) {
          for (const data of response.partitions) {
            if (data.errorCode !== 0) throw new Error(`kafkajs fetch ${topic}/${data.partition}: error code ${data.errorCode}`);
            highWatermarks.set(data.partition, BigInt(data.highWatermark));
            let position = next.get(data.partition)!;
            for (const message of data.messages) {
              const offset = BigInt(message.offset);
              if (offset < position || message.isControlRecord) continue;
              position = offset + 1n;
              const headers: Array<[string, Buffer | null]> = [];
              for (const [name, value] of Object.entries(message.headers)) {
                for (const one of Array.isArray(value) ? value : [value]) headers.push([name, one ?? null]);
              }
              out.push({ partition: data.partition, offset: Number(offset), key: message.key, value: message.value, headers, timestamp: Number(message.timestamp) });
            }
            next.set(data.partition, position);
          }
        }
      }
    }
    return out;
  } finally {
    await cluster.disconnect();
  }
}
