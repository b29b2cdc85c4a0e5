// The cluster scenario every client family runs against a 3-broker combined cluster (startCluster,
// one process, real TCP on loopback), given a small driver for its client:
//   1. Metadata asked of each broker lists the 3 brokers (ids, host:port), the cluster id and the
//      active controller; the client's DescribeCluster (or cluster description) shows the same.
//   2. A topic created through one broker is seen through the others, with one partition led by
//      each broker; a topic deleted through another broker is gone from every broker's Metadata.
//      Every partition takes records and gives them back.
//   3. A broker that is not the active controller stops cleanly: Metadata lists the 2 live brokers;
//      its partition has no leader (-1, LEADER_NOT_AVAILABLE) with it as offline replica, the other
//      partitions are unchanged, and the leader epochs are the image's; the live partitions still
//      take and give records (for clients that refuse a topic with a leaderless partition, its
//      refusal is checked instead), and a topic created meanwhile lands on the live brokers only.
//      It restarts, and the cluster is whole again, its partition led by it.
//   4. The same for the active controller: another takes over and Metadata names it.
// The clients are bootstrapped at one broker at a time. Before each check the test waits, on the
// nodes' own metadata images, for the change to reach every live node; what the client then
// reports is asserted at once, without retrying.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { ErrorCode } from '../../../src/base/error-codes.js';
import { AdminClient } from '../../../src/client/admin-client.js';
import { ClusterClient } from '../../../src/client/cluster-client.js';
import type { MetadataImage } from '../../../src/metadata/metadata-image.js';
import { type RunningCluster, startCluster } from '../../../src/node/start-cluster.js';
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { runPythonJson } from '../../support/process.js';
import { waitFor } from '../../support/wait.js';

export interface BrokerView {
  nodeId: number;
  host: string;
  port: number;
}

export interface ClusterView {
  brokers: BrokerView[];
  controllerId: number;
  /** When the client reports it. */
  clusterId?: string;
}

export interface PartitionView {
  partition: number;
  errorCode: number;
  leader: number;
  /** When the client's Metadata version carries it (v7+). */
  leaderEpoch?: number;
  replicas: number[];
  isr: number[];
  /** When the client reports it (Metadata v5+; librdkafka does not expose it). */
  offlineReplicas?: number[];
}

export interface Sent {
  partition: number;
  value: string;
}

/**
 * The driver of a Python client run through a script that answers the scenario's commands
 * (metadata, list_topics, partitions, create, delete, produce, consume) as JSON.
 */
export function pythonScriptDriver(client: string, script: string, describeCluster: ClusterDriver['describeCluster']): ClusterDriver {
  const call = <T>(command: string, payload: unknown) => runPythonJson<T>(script, command, payload, 60_000);
  return {
    client,
    metadata: (bootstraps) => call<ClusterView[]>('metadata', { bootstraps }),
    describeCluster,
    listTopics: (bootstrap) => call<string[]>('list_topics', { bootstrap }),
    partitions: (bootstrap, topic) => call<PartitionView[]>('partitions', { bootstrap, topic }),
    admin: 'client',
    createTopic: async (bootstrap, topic, partitions) => {
      await call('create', { bootstrap, topic, partitions });
    },
    deleteTopic: async (bootstrap, topic) => {
      await call('delete', { bootstrap, topic });
    },
    produce: async (bootstrap, topic, records) => {
      await call('produce', { bootstrap, topic, records });
    },
    consume: (bootstrap, topic, partitions) => call<Sent[]>('consume', { bootstrap, topic, partitions }),
  };
}

export interface ClusterDriver {
  /** Topic name prefix and report name, e.g. 'kafkajs'. */
  client: string;
  /** For each bootstrap server, what a client bootstrapped at that broker alone reports from Metadata. */
  metadata(bootstraps: string[]): Promise<ClusterView[]>;
  /** The client's DescribeCluster (or cluster description) per bootstrap, `api` naming what is called; or why it has none. */
  describeCluster: { api: string; run(bootstraps: string[]): Promise<ClusterView[]> } | { missing: string };
  /** Every topic name the client's Metadata lists. */
  listTopics(bootstrap: string): Promise<string[]>;
  /** The topic's partitions as the client decodes them, sorted by partition. */
  partitions(bootstrap: string, topic: string): Promise<PartitionView[]>;
  /** How topics are created and deleted: 'client' (its own admin API) or another client's (kcat has none). */
  admin: 'client' | { via: string };
  createTopic(bootstrap: string, topic: string, partitions: number): Promise<void>;
  deleteTopic(bootstrap: string, topic: string): Promise<void>;
  produce(bootstrap: string, topic: string, records: Sent[]): Promise<void>;
  /** Every record of the given partitions, from offset 0 to their end, in offset order per partition. */
  consume(bootstrap: string, topic: string, partitions: number[]): Promise<Sent[]>;
  /**
   * Set for kafkajs, whose admin client asks for every topic's metadata before each operation and
   * whose parser throws for any partition error: while any partition has no leader its admin calls
   * are refused, as against Kafka. The scenario then checks that describeCluster and createTopic
   * are refused with LEADER_NOT_AVAILABLE, and creates its topic with Conveyor's admin client.
   */
  adminRefusedWhileLeaderless?: boolean;
  /**
   * Set for clients whose Metadata parser refuses a topic with any partition in error (kafkajs,
   * platformatic: against Kafka too): what it reports for such a topic, which must name
   * LEADER_NOT_AVAILABLE. They then produce only to topics whose partitions all have leaders.
   */
  leaderlessTopicRefusal?(bootstrap: string, topic: string): Promise<string>;
}

const SPREAD = 'spread';
const WAIT_MS = 15_000;

/** Runs the scenario as subtests of `t`, with its own cluster. */
export async function runClusterScenario(t: TestContext, driver: ClusterDriver): Promise<void> {
  const started = Date.now();
  const cluster = await startCluster({ brokers: 3, config: { 'auto.create.topics.enable': false, 'offsets.topic.num.partitions': 3 } });
  t.after(() => cluster.close());
  const state = new ScenarioState(cluster, driver);
  await state.waitForImages('three registered, unfenced brokers on every node', (image) => [1, 2, 3].every((id) => image.brokers.get(id)?.fenced === false));
  t.diagnostic(`${driver.client}: cluster ${cluster.bootstrapServers} up in ${Date.now() - started} ms, active controller ${cluster.activeController()}`);

  await t.test('Metadata asked of each broker lists the 3 brokers and the active controller', async () => {
    await state.checkClusterViews('Metadata', (bootstraps) => driver.metadata(bootstraps));
  });

  const describe = 'api' in driver.describeCluster ? driver.describeCluster : undefined;
  await t.test('DescribeCluster asked of each broker shows the 3 brokers', async (sub) => {
    if (!describe) return sub.skip('missing' in driver.describeCluster ? driver.describeCluster.missing : '');
    sub.diagnostic(`through ${describe.api}`);
    await state.checkClusterViews(describe.api, (bootstraps) => describe.run(bootstraps));
  });

  await t.test('creates a topic through one broker and deletes one through another', async (sub) => {
    const controller = cluster.activeController();
    // Created through one broker that is not the active controller, deleted through the other.
    const [creator, deleter] = cluster.nodeIds.filter((id) => id !== controller);
    if (driver.admin !== 'client') sub.diagnostic(`topics created and deleted with ${driver.admin.via} (${driver.client} has no admin API); ${driver.client} checks them`);
    const doomed = `${driver.client}-doomed`;
    await driver.createTopic(state.bootstrap(creator!), SPREAD, 3);
    await driver.createTopic(state.bootstrap(creator!), doomed, 2);
    await state.waitForImages('both topics on every node', (image) => image.topic(SPREAD)?.partitions.size === 3 && image.topic(doomed)?.partitions.size === 2);
    const partitions = await driver.partitions(state.bootstrap(deleter!), SPREAD);
    state.checkPartitions(partitions, SPREAD);
    assert.deepEqual(partitions.map((p) => p.leader).sort(), [1, 2, 3], 'one partition led by each broker');
    const before = await driver.listTopics(state.bootstrap(deleter!));
    assert.ok(before.includes(SPREAD) && before.includes(doomed), `broker ${deleter} lists ${JSON.stringify(before)}`);
    await driver.deleteTopic(state.bootstrap(deleter!), doomed);
    await state.waitForImages(`${doomed} deleted on every node`, (image) => image.topic(doomed) === undefined);
    for (const id of cluster.nodeIds) {
      const topics = await driver.listTopics(state.bootstrap(id));
      assert.ok(!topics.includes(doomed), `broker ${id} still lists ${doomed}: ${JSON.stringify(topics)}`);
      assert.ok(topics.includes(SPREAD), `broker ${id} lost ${SPREAD}: ${JSON.stringify(topics)}`);
    }
  });

  await t.test('produces to every partition of the topic and consumes them back', async () => {
    await state.produceAndCheck(SPREAD, [0, 1, 2], state.bootstrap(cluster.nodeIds[0]!));
  });

  const stopAndRestart = async (which: 'a broker that is not the active controller' | 'the active controller') => {
    const controller = cluster.activeController();
    const stopped = which === 'the active controller' ? controller : cluster.nodeIds.find((id) => id !== controller)!;
    const live = cluster.nodeIds.filter((id) => id !== stopped);
    const ledByStopped = state.ledBy(SPREAD, stopped);
    await t.test(`stops ${which} cleanly: Metadata lists the 2 live brokers and its partition has no leader`, async (sub) => {
      const stoppedAt = Date.now();
      await cluster.stop(stopped);
      sub.diagnostic(`stopped broker ${stopped} in ${Date.now() - stoppedAt} ms (the active controller was ${controller})`);
      // A new active controller, known to every live node, and the stopped broker fenced with its
      // partition leaderless in every live node's image.
      await waitFor('an active controller every live node agrees on', () => {
        const active = cluster.activeController();
        return active !== -1 && live.includes(active) && live.every((id) => cluster.node(id).broker?.services.quorum.activeControllerId === active) ? true : undefined;
      }, WAIT_MS);
      await state.waitForImages(`broker ${stopped} fenced and its partition ${ledByStopped} leaderless`, (image) =>
        image.brokers.get(stopped)?.fenced === true && image.partition(SPREAD, ledByStopped)?.leader === -1, live);
      await state.checkClusterViews('Metadata', (bootstraps) => driver.metadata(bootstraps), live);
      if (describe && driver.adminRefusedWhileLeaderless) {
        for (const id of live) await assert.rejects(describe.run([state.bootstrap(id)]), /LEADER_NOT_AVAILABLE/, `${describe.api} asked of ${id} while partition ${ledByStopped} has no leader`);
        sub.diagnostic(`${driver.client}'s ${describe.api} is refused (LEADER_NOT_AVAILABLE) while partition ${ledByStopped} has no leader`);
      } else if (describe) {
        await state.checkClusterViews(describe.api, (bootstraps) => describe.run(bootstraps), live);
      }
      for (const id of live) {
        const partitions = await driver.partitions(state.bootstrap(id), SPREAD);
        state.checkPartitions(partitions, SPREAD);
        const offline = partitions.find((p) => p.partition === ledByStopped)!;
        assert.equal(offline.leader, -1, `partition ${ledByStopped} of the stopped broker, asked of ${id}`);
        assert.equal(offline.errorCode, ErrorCode.LEADER_NOT_AVAILABLE, `partition ${ledByStopped} error, asked of ${id}`);
        if (offline.offlineReplicas) assert.deepEqual(offline.offlineReplicas, [stopped]);
        for (const other of partitions.filter((p) => p.partition !== ledByStopped)) assert.ok(live.includes(other.leader), `partition ${other.partition} led by ${other.leader}`);
      }
    });

    await t.test(`while ${which} is stopped, partitions led by live brokers take and give records, and topics are created on the live brokers`, async (sub) => {
      const bootstrap = state.bootstrap(live[0]!);
      if (driver.leaderlessTopicRefusal) {
        const refusal = await driver.leaderlessTopicRefusal(bootstrap, SPREAD);
        assert.match(refusal, /LEADER_NOT_AVAILABLE/, `${driver.client} on a topic with a leaderless partition`);
        sub.diagnostic(`${driver.client} refuses ${SPREAD} while partition ${ledByStopped} has no leader (${refusal.slice(0, 120)}); its records go to a topic on the live brokers`);
      } else {
        await state.produceAndCheck(SPREAD, [0, 1, 2].filter((p) => p !== ledByStopped), bootstrap);
      }
      const topic = `${driver.client}-without-${stopped}`;
      if (driver.adminRefusedWhileLeaderless) {
        await assert.rejects(driver.createTopic(state.bootstrap(live[1]!), topic, 2), /LEADER_NOT_AVAILABLE/, `${driver.client} createTopics while partition ${ledByStopped} has no leader`);
        sub.diagnostic(`${driver.client}'s createTopics is refused (LEADER_NOT_AVAILABLE) while partition ${ledByStopped} has no leader; ${topic} is created with Conveyor's admin client`);
        await createTopicWithConveyor(state.bootstrap(live[1]!), topic, 2);
      } else {
        await driver.createTopic(state.bootstrap(live[1]!), topic, 2);
      }
      await state.waitForImages(`${topic} on every live node`, (image) => image.topic(topic)?.partitions.size === 2, live);
      const partitions = await driver.partitions(bootstrap, topic);
      state.checkPartitions(partitions, topic);
      assert.deepEqual(partitions.map((p) => p.leader).sort(), live, `${topic} placed on the live brokers`);
      await state.produceAndCheck(topic, [0, 1], bootstrap);
    });

    await t.test(`restarts the stopped broker (${which}): the cluster is whole again`, async () => {
      await cluster.restart(stopped);
      await state.waitForImages(`broker ${stopped} unfenced and leading partition ${ledByStopped} again on every node`, (image) =>
        image.brokers.get(stopped)?.fenced === false && image.partition(SPREAD, ledByStopped)?.leader === stopped);
      await state.checkClusterViews('Metadata', (bootstraps) => driver.metadata(bootstraps));
      const partitions = await driver.partitions(state.bootstrap(stopped), SPREAD);
      state.checkPartitions(partitions, SPREAD);
      assert.deepEqual(partitions.map((p) => p.leader).sort(), [1, 2, 3], `leaders asked of ${stopped}`);
      await state.produceAndCheck(SPREAD, [0, 1, 2], state.bootstrap(stopped));
    });
  };

  await stopAndRestart('a broker that is not the active controller');
  await stopAndRestart('the active controller');
}

/** Creates a topic with Conveyor's own admin client, whose CreateTopics goes to `bootstrap` itself (forwarded to the active controller unless it is that). */
export async function createTopicWithConveyor(bootstrap: string, topic: string, partitions: number): Promise<void> {
  const cluster = new ClusterClient(connectTcp, bootstrap, 'conveyor-cluster-test');
  try {
    await new AdminClient(cluster).createTopic(topic, { partitions, replicationFactor: 1 });
  } finally {
    cluster.close();
  }
}

/** Deletes a topic with Conveyor's own admin client, through `bootstrap` itself. */
export async function deleteTopicWithConveyor(bootstrap: string, topic: string): Promise<void> {
  const cluster = new ClusterClient(connectTcp, bootstrap, 'conveyor-cluster-test');
  try {
    await new AdminClient(cluster).deleteTopic(topic);
  } finally {
    cluster.close();
  }
}

class ScenarioState {
  /** Every record produced so far, per topic and partition, in order. */
  private readonly produced = new Map<string, Map<number, string[]>>();
  private round = 0;

  constructor(
    readonly cluster: RunningCluster,
    readonly driver: ClusterDriver,
  ) {}

  bootstrap(nodeId: number): string {
    return this.cluster.node(nodeId).bootstrapServer;
  }

  private image(): MetadataImage {
    const controller = this.cluster.activeController();
    const broker = this.cluster.node(controller).broker;
    assert.ok(broker, `no running active controller (${controller})`);
    return broker.services.image;
  }

  ledBy(topic: string, nodeId: number): number {
    const partition = [...this.image().topic(topic)!.partitions.values()].find((p) => p.leader === nodeId);
    assert.ok(partition, `no partition of ${topic} led by ${nodeId}`);
    return partition.partitionId;
  }

  async waitForImages(what: string, check: (image: MetadataImage) => boolean, nodeIds: readonly number[] = this.cluster.nodeIds): Promise<void> {
    await waitFor(what, () => (nodeIds.every((id) => {
      const broker = this.cluster.node(id).broker;
      return broker !== undefined && check(broker.services.image);
    }) ? true : undefined), WAIT_MS);
  }

  /** Asks each live broker (`nodeIds`) and checks every answer lists exactly those brokers and the active controller. */
  async checkClusterViews(api: string, ask: (bootstraps: string[]) => Promise<ClusterView[]>, nodeIds: readonly number[] = this.cluster.nodeIds): Promise<void> {
    const expected = nodeIds.map((id) => {
      const [host, port] = this.bootstrap(id).split(':');
      return { nodeId: id, host: host!, port: Number(port) };
    });
    const controller = this.cluster.activeController();
    assert.ok(nodeIds.includes(controller), `active controller ${controller} among ${JSON.stringify(nodeIds)}`);
    const views = await ask(nodeIds.map((id) => this.bootstrap(id)));
    assert.equal(views.length, nodeIds.length);
    views.forEach((view, index) => {
      const askedOf = `${api} asked of broker ${nodeIds[index]}`;
      assert.deepEqual([...view.brokers].sort((a, b) => a.nodeId - b.nodeId), expected, `${askedOf}: brokers`);
      assert.equal(view.controllerId, controller, `${askedOf}: controller id`);
      if (view.clusterId !== undefined) assert.equal(view.clusterId, this.cluster.clusterId, `${askedOf}: cluster id`);
    });
  }

  /**
   * The client's view of a topic's partitions against the active controller's image: leader (or
   * -1 with LEADER_NOT_AVAILABLE when there is none), leader epoch, replicas, ISR, and the replicas
   * on fenced brokers as offline replicas.
   */
  checkPartitions(partitions: PartitionView[], topic: string): void {
    const image = this.image();
    const expected = [...image.topic(topic)!.partitions.values()].sort((a, b) => a.partitionId - b.partitionId);
    assert.deepEqual(partitions.map((p) => p.partition), expected.map((p) => p.partitionId), `${topic} partitions`);
    partitions.forEach((partition, index) => {
      const want = expected[index]!;
      const fenced = (id: number) => image.brokers.get(id)?.fenced !== false;
      // Kafka's rule: -1 when the leader is not a registered broker (the controller moves
      // leadership off a broker in the batch that fences it).
      const leaderless = !image.brokers.has(want.leader);
      const actual: Partial<PartitionView> = { partition: partition.partition, errorCode: partition.errorCode, leader: partition.leader, replicas: partition.replicas, isr: partition.isr };
      const wanted: Partial<PartitionView> = {
        partition: want.partitionId,
        errorCode: leaderless ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
        leader: leaderless ? -1 : want.leader,
        replicas: want.replicas,
        isr: want.isr,
      };
      if (partition.leaderEpoch !== undefined) {
        actual.leaderEpoch = partition.leaderEpoch;
        wanted.leaderEpoch = want.leaderEpoch;
      }
      if (partition.offlineReplicas !== undefined) {
        actual.offlineReplicas = partition.offlineReplicas;
        wanted.offlineReplicas = want.replicas.filter(fenced);
      }
      assert.deepEqual(actual, wanted, `${this.driver.client}'s view of ${topic}/${want.partitionId}`);
    });
  }

  /** Produces 3 new records to each partition, then reads the partitions back and expects every record produced to them so far, in order. */
  async produceAndCheck(topic: string, partitions: number[], bootstrap: string): Promise<void> {
    const round = ++this.round;
    const records = partitions.flatMap((partition) => [0, 1, 2].map((index) => ({ partition, value: `${this.driver.client}-r${round}-p${partition}-${index}` })));
    await this.driver.produce(bootstrap, topic, records);
    let perPartition = this.produced.get(topic);
    if (!perPartition) this.produced.set(topic, (perPartition = new Map()));
    for (const record of records) perPartition.set(record.partition, [...(perPartition.get(record.partition) ?? []), record.value]);
    const consumed = await this.driver.consume(bootstrap, topic, partitions);
    for (const partition of partitions) {
      assert.deepEqual(
        consumed.filter((record) => record.partition === partition).map((record) => record.value),
        perPartition.get(partition),
        `${topic}/${partition} read back through ${bootstrap}`,
      );
    }
    assert.equal(consumed.filter((record) => !partitions.includes(record.partition)).length, 0, 'records of partitions not asked for');
  }
}
