// kafkajs 2.x against a 3-broker cluster: the shared cluster scenario. Metadata is asked of the
// bootstrap broker through kafkajs's own Broker object (Metadata v6), admin.describeCluster is its
// cluster description (also Metadata), admin.listTopics, createTopics (waiting for leaders) and
// deleteTopics, a producer to chosen partitions, and group-less reads through the Fetch requests of
// kafkajs's Broker objects (its Consumer always joins a group, whose coordinator may be on the
// stopped broker).
// kafkajs's Metadata parser throws LEADER_NOT_AVAILABLE for any partition error, as it does against
// Kafka, and its admin client asks for every topic before each call: while a broker is stopped and
// its partition has no leader, describeCluster, createTopics and fetchTopicMetadata of that topic are
// refused (the scenario checks those refusals), Metadata and partitions are read with kafkajs's
// decoder alone, and the topic on the live brokers is created with Conveyor's admin client; kafkajs's
// producer and fetches, which ask only for their own topic, keep working.
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { requireClient } from '../../support/clients.js';
import { type ClusterDriver, type ClusterView, type PartitionView, type Sent, runClusterScenario } from './cluster-scenario.js';

const require = createRequire(import.meta.url);

function kafka(bootstrap: string, retries = 3): Kafka {
  return new Kafka({ clientId: 'conveyor-cluster', brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries, initialRetryTime: 100 } });
}

interface KafkajsPartitionMetadata {
  partitionErrorCode: number;
  partitionId: number;
  leader: number;
  replicas: number[];
  isr: number[];
  offlineReplicas?: number[];
}

interface KafkajsMetadata {
  brokers: Array<{ nodeId: number; host: string; port: number }>;
  clusterId?: string;
  controllerId: number;
  topicMetadata: Array<{ topicErrorCode: number; topic: string; partitionMetadata: KafkajsPartitionMetadata[] }>;
}

interface KafkajsBroker {
  metadata(topics: string[]): Promise<KafkajsMetadata>;
  lookupRequest(apiKey: number, definitions: unknown): (options: Record<string, unknown>) => { request: unknown; response: { decode(payload: Buffer): Promise<unknown> } };
  connectionPool: { send(protocolRequest: unknown): Promise<unknown> };
  fetch(request: {
    maxWaitTime: number;
    minBytes: number;
    maxBytes: number;
    isolationLevel: number;
    topics: Array<{ topic: string; partitions: Array<{ partition: number; fetchOffset: string; maxBytes: number }> }>;
  }): Promise<{ responses: Array<{ topicName: string; partitions: Array<{ partition: number; errorCode: number; highWatermark: string; messages: Array<{ offset: string; value: Buffer | null }> }> }> }>;
}

interface KafkajsCluster {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  brokerPool: { seedBroker: KafkajsBroker };
  addTargetTopic(topic: string): Promise<void>;
  findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
  findBroker(options: { nodeId: string }): Promise<KafkajsBroker>;
}

/** kafkajs's Cluster, which its clients build under a module-private symbol, bootstrapped at one broker. */
async function withCluster<T>(bootstrap: string, run: (cluster: KafkajsCluster) => Promise<T>): Promise<T> {
  const holder = kafka(bootstrap) as unknown as Record<symbol, unknown>;
  const symbol = Object.getOwnPropertySymbols(holder).find((s) => s.description === 'private:Kafka:createCluster');
  if (symbol === undefined) throw new Error('kafkajs internals changed: no createCluster symbol');
  const cluster = (holder[symbol] as (options: Record<string, unknown>) => KafkajsCluster)({ metadataMaxAge: 300_000, allowAutoTopicCreation: false });
  await cluster.connect();
  try {
    return await run(cluster);
  } finally {
    await cluster.disconnect();
  }
}

async function withAdmin<T>(bootstrap: string, run: (admin: ReturnType<Kafka['admin']>) => Promise<T>, retries?: number): Promise<T> {
  const admin = kafka(bootstrap, retries).admin();
  await admin.connect();
  try {
    return await run(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Every message of an error and of its causes, with kafkajs's error types. */
function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error as { type?: string; name?: string; message?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; current && depth < 5; depth++) {
    parts.push(`${current.type ?? current.name}: ${current.message}`);
    current = (current.cause ?? current.originalError) as typeof current;
  }
  return parts.join(' <- ');
}

const toPartitionView = (partition: KafkajsPartitionMetadata): PartitionView => ({
  partition: partition.partitionId,
  errorCode: partition.partitionErrorCode,
  leader: partition.leader,
  replicas: partition.replicas,
  isr: partition.isr,
  offlineReplicas: partition.offlineReplicas,
});

/**
 * kafkajs's Metadata request and decoder on the bootstrap broker (its seed broker), without its
 * parse step, which throws on any partition error (so a leaderless partition would hide the rest).
 * An empty topic list asks for every topic, as kafkajs always does.
 */
function rawMetadata(bootstrap: string, topics: string[]): Promise<KafkajsMetadata> {
  return withCluster(bootstrap, async (cluster) => {
    const broker = cluster.brokerPool.seedBroker;
    const build = broker.lookupRequest(3, require('kafkajs/src/protocol/requests/metadata'));
    const { request, response } = build({ topics, allowAutoTopicCreation: false });
    return (await broker.connectionPool.send({ request, response: { decode: response.decode, parse: async (data: unknown) => data } })) as KafkajsMetadata;
  });
}

/** Runs a kafkajs call, rejecting with its errors' types and messages (the causes included). */
async function explained<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new Error(describeError(error));
  }
}

const driver: ClusterDriver = {
  client: 'kafkajs',
  async metadata(bootstraps) {
    const views: ClusterView[] = [];
    for (const bootstrap of bootstraps) {
      const metadata = await rawMetadata(bootstrap, []);
      views.push({ brokers: metadata.brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port })), controllerId: metadata.controllerId, clusterId: metadata.clusterId });
    }
    return views;
  },
  describeCluster: {
    api: 'admin.describeCluster (Metadata)',
    async run(bootstraps) {
      const views: ClusterView[] = [];
      for (const bootstrap of bootstraps) {
        const described = await explained(() => withAdmin(bootstrap, (admin) => admin.describeCluster(), 0));
        views.push({ brokers: described.brokers.map(({ nodeId, host, port }) => ({ nodeId, host, port })), controllerId: described.controller!, clusterId: described.clusterId });
      }
      return views;
    },
  },
  listTopics: (bootstrap) => withAdmin(bootstrap, (admin) => admin.listTopics()),
  async partitions(bootstrap, topic) {
    const [entry] = (await rawMetadata(bootstrap, [topic])).topicMetadata;
    if (!entry || entry.topicErrorCode !== 0) throw new Error(`kafkajs Metadata for ${topic}: ${JSON.stringify(entry)}`);
    return entry.partitionMetadata.map(toPartitionView).sort((a, b) => a.partition - b.partition);
  },
  adminRefusedWhileLeaderless: true,
  admin: 'client',
  async createTopic(bootstrap, topic, partitions) {
    const created = await explained(() => withAdmin(bootstrap, (admin) => admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true }), 0));
    if (!created) throw new Error(`kafkajs createTopics(${topic}) reported that it existed`);
  },
  deleteTopic: (bootstrap, topic) => withAdmin(bootstrap, (admin) => admin.deleteTopics({ topics: [topic], timeout: 10_000 })),
  async produce(bootstrap, topic, records) {
    const producer = kafka(bootstrap).producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      const results = await producer.send({ topic, acks: -1, messages: records.map(({ partition, value }) => ({ partition, value })) });
      const failed = results.filter((result) => result.errorCode !== 0);
      if (failed.length > 0) throw new Error(`kafkajs send: ${JSON.stringify(failed)}`);
    } finally {
      await producer.disconnect();
    }
  },
  consume: (bootstrap, topic, partitions) =>
    withCluster(bootstrap, async (cluster) => {
      await cluster.addTargetTopic(topic);
      const out: Array<Sent & { offset: bigint }> = [];
      for (const [nodeId, owned] of Object.entries(cluster.findLeaderForPartitions(topic, partitions))) {
        const broker = await cluster.findBroker({ nodeId });
        const next = new Map(owned.map((partition) => [partition, 0n]));
        const ends = new Map<number, bigint>();
        const deadline = Date.now() + 30_000;
        for (;;) {
          const pending = owned.filter((partition) => !ends.has(partition) || next.get(partition)! < ends.get(partition)!);
          if (pending.length === 0) break;
          if (Date.now() > deadline) throw new Error(`kafkajs fetch of ${topic} from ${nodeId} timed out`);
          const { responses } = await broker.fetch({
            maxWaitTime: 100,
            minBytes: 1,
            maxBytes: 1024 * 1024,
            isolationLevel: 0,
            topics: [{ topic, partitions: pending.map((partition) => ({ partition, fetchOffset: next.get(partition)!.toString(), maxBytes: 1024 * 1024 })) }],
          });
          for (const data of responses.flatMap((response) => response.partitions)) {
            if (data.errorCode !== 0) throw new Error(`kafkajs fetch ${topic}/${data.partition}: error code ${data.errorCode}`);
            ends.set(data.partition, BigInt(data.highWatermark));
            for (const message of data.messages) {
              const offset = BigInt(message.offset);
              // Whole batches come back; records before the fetch offset were read already.
              if (offset < next.get(data.partition)!) continue;
              next.set(data.partition, offset + 1n);
              out.push({ partition: data.partition, offset, value: message.value?.toString('utf8') ?? '' });
            }
          }
        }
      }
      return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset)).map(({ partition, value }) => ({ partition, value }));
    }),
  async leaderlessTopicRefusal(bootstrap, topic) {
    try {
      const metadata = await withAdmin(bootstrap, (admin) => admin.fetchTopicMetadata({ topics: [topic] }), 0);
      return `no refusal: ${JSON.stringify(metadata)}`;
    } catch (error) {
      return describeError(error);
    }
  },
};

test('kafkajs against a 3-broker cluster', { timeout: 120_000 }, async (t) => {
  const client = await requireClient(t, 'kafkajs');
  if (client === undefined) return;
  t.diagnostic(`kafkajs ${client.version}`);
  await runClusterScenario(t, driver);
});
