// The client's TransactionalProducer (src/client/transactional-producer.ts) against an in-process
// broker, read back by kafkajs's read_committed consumer and by the raw log (batch headers: producer
// id, epoch, base sequence, the transactional flag): commit and abort, transactions in a row with
// sequences continuing (the broker refuses a sequence out of order), several topics and partitions
// in one transaction with each partition added once, fencing by a second instance at each of
// Produce, AddPartitionsToTxn and EndTxn, an abortable error followed by abort (epoch bumped,
// sequences from 0) and a new transaction, a lost Produce answer and NOT_LEADER_OR_FOLLOWER retried
// with the same sequence, and a transaction left open aborted by the coordinator's timeout.
import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { AdminClient, type TopicInfo } from '../../src/client/admin-client.js';
import { ClusterClient } from '../../src/client/cluster-client.js';
import { fetchGroupOffsets, findGroupCoordinator } from '../../src/client/group-offsets.js';
import { murmur2 } from '../../src/client/producer.js';
import { ProducerFencedError, TransactionAbortableError, TransactionalProducer, type TransactionalRecord } from '../../src/client/transactional-producer.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { type ApiDescriptor, ListOffsetsApi, ProduceApi, type ProduceRequest } from '../../src/protocol/messages/index.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { createTopic, readAll, startTestBroker, type TestBroker, uniqueTopic, waitFor } from './helpers.js';

/** A cluster client that counts requests by API name and can spoil the next Produce answers. */
class FaultyCluster extends ClusterClient {
  readonly counts = new Map<string, number>();
  /** 'lose-answer': the broker appends, the client sees a failure; 'not-leader': the broker never sees it. */
  readonly produceFaults: ('lose-answer' | 'not-leader')[] = [];

  override async request<Request, Response>(
    // biome-ignore lint/suspicious/noExplicitAny: the same signature as ClusterClient.request.
    api: ApiDescriptor<any, Response, Request, any>,
    request: Request | ((version: number) => Request),
    options: Parameters<ClusterClient['request']>[2] = {},
  ): Promise<Response> {
    this.counts.set(api.name, (this.counts.get(api.name) ?? 0) + 1);
    const fault = api.apiKey === ProduceApi.apiKey ? this.produceFaults.shift() : undefined;
    if (fault === 'not-leader') return notLeader(request as unknown as ProduceRequest<Buffer>) as Response;
    const response = await super.request(api, request, options);
    if (fault === 'lose-answer') throw new Error('connection lost before the answer (injected)');
    return response;
  }
}

function notLeader(request: ProduceRequest<Buffer>) {
  return {
    responses: request.topicData.map((topic) => ({
      name: topic.name,
      partitionResponses: topic.partitionData.map((partition) => ({ index: partition.index, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, baseOffset: -1n })),
    })),
  };
}

describe('TransactionalProducer', () => {
  let broker: TestBroker;
  let cluster: FaultyCluster;
  let kafka: Kafka;

  before(async () => {
    broker = await startTestBroker({
      config: {
        'group.initial.rebalance.delay.ms': 0,
        'offsets.topic.num.partitions': 2,
        'transaction.state.log.num.partitions': 2,
        // Looks for timed-out transactions often, for the timeout test.
        'transaction.abort.timed.out.transaction.cleanup.interval.ms': 100,
      },
    });
    cluster = new FaultyCluster(connectTcp, broker.running.bootstrapServers);
    kafka = new Kafka({ clientId: 'txn-producer-reader', brokers: [broker.running.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 2, initialRetryTime: 50 } });
  });
  after(async () => {
    cluster.close();
    await broker.close();
  });

  const producer = async (transactionalId: string, options: { transactionTimeoutMs?: number } = {}) => {
    const instance = new TransactionalProducer(cluster, { transactionalId, ...options });
    await instance.init();
    return instance;
  };

  /** Topics created with `partitions` each, and the producer's view of them. */
  const topicsOf = async (names: string[], partitions = 1, configs: Record<string, string> = {}): Promise<Map<string, TopicInfo>> => {
    const admin = new AdminClient(cluster);
    for (const name of names) await createTopic(broker.client, name, partitions, configs);
    return new Map(await Promise.all(names.map(async (name) => [name, await admin.describeTopic(name)] as const)));
  };

  /** What kafkajs's read_committed consumer reads from `topics`, once `count` records came (and a moment for any more). */
  const readCommitted = async (topics: string[], count: number): Promise<string[]> => {
    const consumer = kafka.consumer({ groupId: uniqueTopic('reader'), readUncommitted: false, sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    const values: string[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
      await waitFor(() => values.length >= count, `${count} committed records from ${topics.join(', ')}`, 15_000);
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      await consumer.disconnect();
    }
    return values;
  };

  /** The data batches of a partition as the log holds them. */
  const batchesOf = async (topic: string, partition = 0) =>
    (await readAll(broker.client, topic, partition))
      .filter((batch) => !batch.control)
      .map((batch) => ({ producerId: batch.producerId, producerEpoch: batch.producerEpoch, baseSequence: batch.baseSequence, transactional: batch.transactional, count: batch.records.length }));

  test('commit makes records visible to read_committed, abort hides them', async () => {
    const topic = uniqueTopic('txn-commit-abort');
    const topics = await topicsOf([topic]);
    const txn = await producer(uniqueTopic('commit-abort'));
    txn.beginTransaction();
    const aborted = await txn.send(values(topic, 'aborted-1', 'aborted-2'), topics);
    assert.deepEqual(aborted.map((result) => [result.offset, result.errorCode]), [[0, 0], [1, 0]]);
    await txn.abortTransaction();
    txn.beginTransaction();
    const committed = await txn.send(values(topic, 'committed-1', 'committed-2'), topics);
    assert.deepEqual(committed.map((result) => result.offset), [3, 4], 'after the abort marker at offset 2');
    await txn.commitTransaction();
    txn.close();

    assert.deepEqual(await readCommitted([topic], 2), ['committed-1', 'committed-2']);
    const [first, second] = await batchesOf(topic);
    assert.ok(first && second);
    assert.equal(first.transactional && second.transactional, true);
    assert.deepEqual([first.baseSequence, second.baseSequence], [0, 2], 'an abort without an error keeps the sequences');
    assert.equal(second.producerEpoch, first.producerEpoch);
  });

  test('offsets sent to a transaction commit with it and vanish with its abort, also in a transaction of offsets alone', async () => {
    const topic = uniqueTopic('txn-offsets');
    await topicsOf([topic], 2);
    const groupId = uniqueTopic('txn-offsets-group');
    const group = { groupId, generationId: -1, memberId: '', coordinator: await findGroupCoordinator(cluster, groupId) };
    const committedOffsets = async () => new Map((await fetchGroupOffsets(cluster, groupId)).map(({ partition, offset }) => [partition, offset]));
    const txn = await producer(uniqueTopic('offsets'));
    txn.beginTransaction();
    await txn.sendOffsetsToTransaction(new Map([[topic, new Map([[0, 7], [1, 3]])]]), group);
    await txn.abortTransaction();
    assert.deepEqual(await committedOffsets(), new Map(), 'aborted with its transaction');
    txn.beginTransaction();
    await txn.sendOffsetsToTransaction(new Map([[topic, new Map([[0, 9]])]]), group);
    await txn.commitTransaction();
    await waitFor(async () => (await committedOffsets()).get(0) === 9, 'the offset committed with its transaction', 10_000);
    assert.equal((await committedOffsets()).get(1), undefined);
    txn.close();
  });

  test('a group coordinator that moved is found again: offsets sent to a stale address commit with the transaction', async () => {
    const topic = uniqueTopic('txn-offsets-moved');
    await topicsOf([topic], 1);
    const groupId = uniqueTopic('txn-offsets-moved-group');
    // An address where no broker listens any more, as after the coordinator's broker died.
    const gone = createServer();
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    const stale = `127.0.0.1:${(gone.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => gone.close(() => resolve()));
    const txn = await producer(uniqueTopic('offsets-moved'));
    txn.beginTransaction();
    await txn.sendOffsetsToTransaction(new Map([[topic, new Map([[0, 5]])]]), { groupId, generationId: -1, memberId: '', coordinator: stale });
    await txn.commitTransaction();
    await waitFor(async () => (await fetchGroupOffsets(cluster, groupId)).some(({ partition, offset }) => partition === 0 && offset === 5), 'the offset committed with its transaction', 10_000);
    txn.close();
  });

  test('transactions in a row continue the sequences of the epoch; the broker refuses a sequence out of order', async () => {
    const topic = uniqueTopic('txn-sequences');
    const topics = await topicsOf([topic]);
    const id = uniqueTopic('sequences');
    const txn = await producer(id);
    txn.beginTransaction();
    await txn.send(values(topic, 'a', 'b', 'c'), topics);
    await txn.send(values(topic, 'd', 'e'), topics);
    await txn.commitTransaction();
    txn.beginTransaction();
    await txn.send(values(topic, 'f', 'g', 'h', 'i'), topics);
    await txn.commitTransaction();

    const batches = await batchesOf(topic);
    assert.deepEqual(batches.map((batch) => [batch.baseSequence, batch.count]), [[0, 3], [3, 2], [5, 4]]);
    assert.equal(new Set(batches.map((batch) => `${batch.producerId}/${batch.producerEpoch}`)).size, 1, 'one producer id and epoch');

    // Inside a transaction a batch that skips a sequence is refused: the producer's next one (9) is accepted.
    txn.beginTransaction();
    await txn.send(values(topic, 'j'), topics);
    const { producerId, producerEpoch } = batches[0]!;
    const skipping = buildRecordBatchSync([{ value: Buffer.from('x'), timestamp: Date.now() }], { producerId, producerEpoch, baseSequence: 50, transactional: true });
    const refused = await broker.client.request(ProduceApi, 9, { transactionalId: id, acks: -1, timeoutMs: 10_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: skipping }] }] });
    assert.equal(refused.responses[0]?.partitionResponses[0]?.errorCode, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
    await txn.send(values(topic, 'k'), topics);
    await txn.commitTransaction();
    txn.close();
    assert.deepEqual(await readCommitted([topic], 11), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k']);
  });

  test('records to several topics and partitions in one transaction, each partition added once', async () => {
    const [left, right] = [uniqueTopic('txn-left'), uniqueTopic('txn-right')];
    const topics = await topicsOf([left, right], 3);
    const txn = await producer(uniqueTopic('several'));
    const keyed = (topic: string, key: string): TransactionalRecord => ({ topic, key: Buffer.from(key), value: Buffer.from(`${topic}:${key}`), headers: [] });
    const added = () => cluster.counts.get('AddPartitionsToTxn') ?? 0;
    txn.beginTransaction();
    const before = added();
    const first = await txn.send([keyed(left, 'k1'), keyed(left, 'k2'), keyed(right, 'k3'), { ...keyed(right, 'k4'), partition: 2 }], topics);
    const second = await txn.send([keyed(left, 'k1'), { ...keyed(right, 'k5'), partition: 2 }], topics);
    assert.equal(added() - before, 1, 'the second send goes to partitions already in the transaction');
    await txn.commitTransaction();
    txn.close();

    const expected = (key: string) => (murmur2(Buffer.from(key)) & 0x7fffffff) % 3;
    assert.deepEqual(first.map((result) => [result.topic, result.partition]), [[left, expected('k1')], [left, expected('k2')], [right, expected('k3')], [right, 2]]);
    assert.deepEqual(second.map((result) => result.partition), [expected('k1'), 2]);
    assert.ok([...first, ...second].every((result) => result.errorCode === ErrorCode.NONE && result.offset >= 0));
    const read = await readCommitted([left, right], 6);
    assert.deepEqual(read.sort(), [`${left}:k1`, `${left}:k1`, `${left}:k2`, `${right}:k3`, `${right}:k4`, `${right}:k5`].sort());
    const rightBatches = await batchesOf(right, 2);
    assert.deepEqual(rightBatches.map((batch) => batch.baseSequence), [0, 1], 'each partition has its own sequence');
  });

  test('a second instance with the same transactional id fences the first at Produce, AddPartitionsToTxn and EndTxn', async () => {
    const topic = uniqueTopic('txn-fencing');
    const topics = await topicsOf([topic], 2);
    const id = uniqueTopic('fenced');
    const to = (partition: number, value: string): TransactionalRecord[] => [{ topic, partition, key: null, value: Buffer.from(value), headers: [] }];

    const first = await producer(id);
    first.beginTransaction();
    await first.send(to(0, 'first-open'), topics);
    const second = await producer(id); // aborts the first's transaction under a bumped epoch
    second.beginTransaction();
    await second.send(to(0, 'second-open'), topics);
    await assert.rejects(first.send(to(0, 'first-again'), topics), ProducerFencedError, 'a Produce with the old epoch');
    assert.equal(first.fenced, true);
    await assert.rejects(first.commitTransaction(), ProducerFencedError);
    await assert.rejects(first.abortTransaction(), ProducerFencedError);
    assert.throws(() => first.beginTransaction(), ProducerFencedError);

    const third = await producer(id);
    third.beginTransaction();
    await third.send(to(0, 'third-open'), topics);
    await assert.rejects(second.send(to(1, 'second-new-partition'), topics), ProducerFencedError, 'AddPartitionsToTxn with the old epoch');
    assert.equal(second.fenced, true);

    const fourth = await producer(id);
    await assert.rejects(third.commitTransaction(), ProducerFencedError, 'EndTxn with the old epoch');
    assert.equal(third.fenced, true);
    fourth.beginTransaction();
    await fourth.send([...to(0, 'fourth-committed'), ...to(1, 'fourth-committed')], topics);
    await fourth.commitTransaction();
    assert.equal(fourth.fenced, false);
    for (const instance of [first, second, third, fourth]) instance.close();

    assert.deepEqual(await readCommitted([topic], 2), ['fourth-committed', 'fourth-committed'], 'the fenced instances\' records were aborted');
  });

  test('an abortable error: commit refuses, the abort bumps the epoch, sequences start again at 0', async () => {
    const topic = uniqueTopic('txn-abortable');
    const topics = await topicsOf([topic], 1, { 'max.message.bytes': '2000' });
    const txn = await producer(uniqueTopic('abortable'));
    txn.beginTransaction();
    await txn.send(values(topic, 'before'), topics);
    const tooLarge = txn.send(values(topic, 'x'.repeat(5_000)), topics);
    const error = await tooLarge.then(() => assert.fail('a batch over max.message.bytes was accepted'), (failure: unknown) => failure);
    assert.ok(error instanceof TransactionAbortableError);
    assert.equal(error.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    assert.equal(error.results?.[0]?.errorCode, ErrorCode.MESSAGE_TOO_LARGE);
    await assert.rejects(txn.commitTransaction(), TransactionAbortableError);
    await assert.rejects(txn.send(values(topic, 'more'), topics), TransactionAbortableError);
    await txn.abortTransaction();
    assert.equal(txn.fenced, false);
    txn.beginTransaction();
    await txn.send(values(topic, 'after'), topics);
    await txn.commitTransaction();
    txn.close();

    assert.deepEqual(await readCommitted([topic], 1), ['after']);
    const [before, after] = await batchesOf(topic);
    assert.ok(before && after);
    assert.equal(after.producerId, before.producerId);
    assert.equal(after.producerEpoch, before.producerEpoch + 1, 'the abort bumped the epoch');
    assert.equal(after.baseSequence, 0);
  });

  test('a lost Produce answer and NOT_LEADER_OR_FOLLOWER are retried with the same sequence, written once', async () => {
    const topic = uniqueTopic('txn-retries');
    const topics = await topicsOf([topic]);
    const txn = await producer(uniqueTopic('retries'));
    txn.beginTransaction();
    await txn.send(values(topic, 'one'), topics);
    cluster.produceFaults.push('lose-answer');
    const retried = await txn.send(values(topic, 'two', 'three'), topics);
    assert.deepEqual(retried.map((result) => result.offset), [1, 2], 'the retry is answered with the first write\'s offsets');
    cluster.produceFaults.push('not-leader', 'not-leader');
    await txn.send(values(topic, 'four'), topics);
    await txn.commitTransaction();
    txn.close();

    assert.deepEqual(await readCommitted([topic], 4), ['one', 'two', 'three', 'four']);
    assert.deepEqual((await batchesOf(topic)).map((batch) => batch.baseSequence), [0, 1, 3]);
  });

  test('a transaction left open past its timeout is aborted by the coordinator; the producer is then fenced', async () => {
    const topic = uniqueTopic('txn-timeout');
    const topics = await topicsOf([topic]);
    const id = uniqueTopic('timeout');
    const txn = await producer(id, { transactionTimeoutMs: 300 });
    txn.beginTransaction();
    await txn.send(values(topic, 'timed-out'), topics);
    assert.equal(await lastStableOffset(broker, topic), 0, 'the open transaction holds the LSO back');
    await waitFor(async () => (await lastStableOffset(broker, topic)) === 2, 'the coordinator to abort the transaction (record and marker)', 5_000);
    await assert.rejects(txn.commitTransaction(), ProducerFencedError);
    assert.equal(txn.fenced, true);
    txn.close();

    const next = await producer(id);
    next.beginTransaction();
    await next.send(values(topic, 'next'), topics);
    await next.commitTransaction();
    next.close();
    assert.deepEqual(await readCommitted([topic], 1), ['next']);
  });
});

function values(topic: string, ...texts: string[]): TransactionalRecord[] {
  return texts.map((text) => ({ topic, partition: 0, key: null, value: Buffer.from(text), headers: [] }));
}

/** ListOffsets latest under read_committed: the last stable offset of partition 0. */
async function lastStableOffset(broker: TestBroker, topic: string): Promise<number> {
  const response = await broker.client.request(ListOffsetsApi, 5, {
    replicaId: -1,
    isolationLevel: 1,
    topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1n }] }],
  });
  return Number(response.topics[0]!.partitions[0]!.offset);
}
