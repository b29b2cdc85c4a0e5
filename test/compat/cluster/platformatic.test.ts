// @platformatic/kafka 2.x against a 3-broker cluster: the shared cluster scenario. Admin.metadata
// (Metadata v12: brokers, controller, cluster id; partitions with leader epochs and offline
// replicas), DescribeCluster v1 through platformatic's own codec (its Admin has no describeCluster
// method), listTopics, createTopics and deleteTopics, a Producer to chosen partitions and group-less
// reads through Consumer.fetch. platformatic refuses a topic with a leaderless partition (its
// Metadata parser throws a ResponseError for any partition error, as it does against Kafka): the
// partitions of such a topic are then what its Metadata v12 decoder read, and its refusal is
// checked. On Node 20 it runs with the Promise.withResolvers polyfill, as the other platformatic suites.
import { test } from 'node:test';
import { requireClient } from '../../support/clients.js';
import { type ClusterDriver, type ClusterView, type PartitionView, type Sent, runClusterScenario } from './cluster-scenario.js';

const NODE_MAJOR = Number(process.versions.node.split('.')[0]);
if (NODE_MAJOR < 22) await import('../../support/polyfills.js');

// Imported after the polyfill: platformatic reads Promise.withResolvers when its calls run.
const kafka = await import('@platformatic/kafka').catch(() => undefined);

const clientOptions = (bootstrap: string, retries = 2) => ({ clientId: 'conveyor-cluster', bootstrapBrokers: [bootstrap], retries, retryDelay: 100 });

async function withAdmin<T>(bootstrap: string, run: (admin: InstanceType<NonNullable<typeof kafka>['Admin']>) => Promise<T>, retries?: number): Promise<T> {
  const admin = new kafka!.Admin(clientOptions(bootstrap, retries));
  try {
    return await run(admin);
  } finally {
    await admin.close();
  }
}

async function withConnection<T>(bootstrap: string, run: (connection: InstanceType<NonNullable<typeof kafka>['Connection']>) => Promise<T>): Promise<T> {
  const [host, port] = bootstrap.split(':');
  const connection = new kafka!.Connection('conveyor-cluster');
  await connection.connect(host!, Number(port));
  try {
    return await run(connection);
  } finally {
    await connection.close();
  }
}

interface RawPartition {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
}

/** Every message of an error and of the errors it aggregates, with platformatic's protocol error ids. */
function describeError(error: unknown, depth = 0): string {
  const current = error as { apiId?: string; message?: string; errors?: unknown[] };
  const own = `${current.apiId ?? ''}${current.apiId ? ': ' : ''}${current.message}`;
  const inner = depth < 4 && Array.isArray(current.errors) ? current.errors.map((entry) => describeError(entry, depth + 1)) : [];
  return [own, ...inner].join(' | ');
}

const driver: ClusterDriver = {
  client: 'platformatic',
  async metadata(bootstraps) {
    const views: ClusterView[] = [];
    for (const bootstrap of bootstraps) {
      const metadata = await withAdmin(bootstrap, (admin) => admin.metadata({ topics: [], forceUpdate: true }));
      views.push({ brokers: [...metadata.brokers].map(([nodeId, { host, port }]) => ({ nodeId, host, port })), controllerId: metadata.controllerId, clusterId: metadata.id });
    }
    return views;
  },
  describeCluster: {
    api: 'DescribeCluster v1 (platformatic describeClusterV1)',
    async run(bootstraps) {
      const views: ClusterView[] = [];
      for (const bootstrap of bootstraps) {
        const described = await withConnection(bootstrap, (connection) => kafka!.describeClusterV1.api.async(connection, false, 1));
        views.push({ brokers: described.brokers.map(({ brokerId, host, port }) => ({ nodeId: brokerId, host, port })), controllerId: described.controllerId, clusterId: described.clusterId });
      }
      return views;
    },
  },
  listTopics: (bootstrap) => withAdmin(bootstrap, (admin) => admin.listTopics({ includeInternals: true })),
  async partitions(bootstrap, topic) {
    try {
      const metadata = await withAdmin(bootstrap, (admin) => admin.metadata({ topics: [topic], forceUpdate: true }), 0);
      const partitions = metadata.topics.get(topic)!.partitions;
      return partitions.map((partition, index): PartitionView => ({
        partition: index,
        errorCode: 0,
        leader: partition.leader,
        leaderEpoch: partition.leaderEpoch,
        replicas: partition.replicas,
        isr: partition.isr,
        offlineReplicas: partition.offlineReplicas,
      }));
    } catch {
      // Refused: the Metadata v12 answer as platformatic's decoder read it, kept on its ResponseError.
      const raw = await withConnection(bootstrap, (connection) => kafka!.metadataV12.api.async(connection, [topic], false, false)).then(
        (response) => response,
        (error: { response?: Awaited<ReturnType<NonNullable<typeof kafka>['metadataV12']['api']['async']>> }) => {
          if (!error.response) throw error;
          return error.response;
        },
      );
      const [entry] = raw.topics;
      if (!entry || entry.errorCode !== 0) throw new Error(`platformatic Metadata for ${topic}: ${JSON.stringify(entry)}`);
      return (entry.partitions as RawPartition[])
        .map((partition): PartitionView => ({
          partition: partition.partitionIndex,
          errorCode: partition.errorCode,
          leader: partition.leaderId,
          leaderEpoch: partition.leaderEpoch,
          replicas: partition.replicaNodes,
          isr: partition.isrNodes,
          offlineReplicas: partition.offlineReplicas,
        }))
        .sort((a, b) => a.partition - b.partition);
    }
  },
  admin: 'client',
  async createTopic(bootstrap, topic, partitions) {
    await withAdmin(bootstrap, (admin) => admin.createTopics({ topics: [topic], partitions, replicas: 1 }));
  },
  deleteTopic: (bootstrap, topic) => withAdmin(bootstrap, (admin) => admin.deleteTopics({ topics: [topic] })),
  async produce(bootstrap, topic, records) {
    const producer = new kafka!.Producer({ ...clientOptions(bootstrap), acks: -1, idempotent: false, autocreateTopics: false });
    try {
      await producer.send({ messages: records.map(({ partition, value }) => ({ topic, partition, value: Buffer.from(value) })) });
    } finally {
      await producer.close();
    }
  },
  async consume(bootstrap, topic, partitions) {
    // groupId is required by the constructor; fetch never contacts a group coordinator.
    const client = new kafka!.Consumer({ ...clientOptions(bootstrap), groupId: 'conveyor-cluster-unused', maxWaitTime: 100 });
    try {
      // Tracking the topic makes the consumer's metadata include it, which maps topic ids to names.
      client.topics.track(topic);
      const info = (await client.metadata({ topics: [topic], forceUpdate: true })).topics.get(topic)!;
      const next = new Map(partitions.map((partition) => [partition, 0n]));
      const ends = new Map<number, bigint>();
      const out: Array<Sent & { offset: bigint }> = [];
      const deadline = Date.now() + 30_000;
      for (;;) {
        const pending = partitions.filter((partition) => !ends.has(partition) || next.get(partition)! < ends.get(partition)!);
        if (pending.length === 0) break;
        if (Date.now() > deadline) throw new Error(`platformatic fetch of ${topic} timed out`);
        // One fetch per leader: the pending partitions led by the first pending partition's leader.
        const leader = info.partitions[pending[0]!]!.leader;
        const led = pending.filter((partition) => info.partitions[partition]!.leader === leader);
        const response = await client.fetch({
          node: leader,
          maxWaitTime: 100,
          topics: [
            {
              topicId: info.id,
              partitions: led.map((partition) => ({
                partition,
                currentLeaderEpoch: info.partitions[partition]!.leaderEpoch,
                fetchOffset: next.get(partition)!,
                lastFetchedEpoch: -1,
                partitionMaxBytes: 1024 * 1024,
              })),
            },
          ],
        });
        for (const data of response.responses.flatMap((entry) => entry.partitions)) {
          if (data.errorCode !== 0) throw new Error(`platformatic fetch ${topic}/${data.partitionIndex}: error code ${data.errorCode}`);
          ends.set(data.partitionIndex, data.highWatermark);
          for (const batch of data.records ?? []) {
            for (const record of batch.records) {
              const offset = batch.firstOffset + BigInt(record.offsetDelta);
              // Whole batches come back; records before the fetch offset were read already.
              if (offset < next.get(data.partitionIndex)!) continue;
              next.set(data.partitionIndex, offset + 1n);
              out.push({ partition: data.partitionIndex, offset, value: record.value?.toString('utf8') ?? '' });
            }
          }
        }
      }
      return out.sort((a, b) => a.partition - b.partition || Number(a.offset - b.offset)).map(({ partition, value }) => ({ partition, value }));
    } finally {
      await client.close();
    }
  },
  async leaderlessTopicRefusal(bootstrap, topic) {
    try {
      const metadata = await withAdmin(bootstrap, (admin) => admin.metadata({ topics: [topic], forceUpdate: true }), 0);
      return `no refusal: ${JSON.stringify(metadata.topics.get(topic), (_key, value) => (typeof value === 'bigint' ? String(value) : value))}`;
    } catch (error) {
      return describeError(error);
    }
  },
};

test('@platformatic/kafka against a 3-broker cluster', { timeout: 120_000 }, async (t) => {
  const client = await requireClient(t, 'platformatic');
  if (client === undefined || kafka === undefined) return;
  t.diagnostic(`@platformatic/kafka ${client.version}`);
  await runClusterScenario(t, driver);
});
