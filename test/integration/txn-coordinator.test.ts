// The transaction coordinator's guarantees, over real TCP against in-process brokers on disk, with
// raw protocol requests (the cases need exact versions, epochs and timing that clients hide):
// - a broker stopped between PrepareCommit/PrepareAbort and the markers finishes the transaction
//   on restart, before it serves anyone: a marker on every partition (data and
//   `__consumer_offsets`), read_committed outcome, DescribeTransactions CompleteCommit/CompleteAbort;
// - EndTxn only ends an ongoing transaction of the current epoch: INVALID_TXN_STATE with nothing
//   open or for the other outcome, a retry of the same outcome succeeds without a second marker, a
//   delayed EndTxn of an older epoch never ends the newer transaction, and requests on one
//   transactional id apply in arrival order (docs/transactions.md, the delayed-EndTxn problem);
// - a transactional batch for a partition the transaction did not add is INVALID_TXN_STATE;
// - the sweep aborts a transaction open past its transaction.timeout.ms (under a bumped epoch) and
//   forgets transactional ids idle past transactional.id.expiration.ms, durably (a clock the test
//   moves forward decides what is "past");
// - a new instance fences the old one's Produce, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn,
//   with PRODUCER_FENCED or INVALID_PRODUCER_EPOCH as Kafka answers each version;
// - OffsetFetch with requireStable answers UNSTABLE_OFFSET_COMMIT for an offset an open
//   transaction holds, until the transaction commits or aborts (KIP-447).
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Clock } from '../../src/base/clock.js';
import { ErrorCode } from '../../src/base/error-codes.js';
import type { TransactionCoordinator } from '../../src/coordinator/transaction/transaction-coordinator.js';
import { type RunningBroker, startBroker } from '../../src/index.js';
import {
  AddOffsetsToTxnApi,
  AddPartitionsToTxnApi,
  DescribeTransactionsApi,
  EndTxnApi,
  InitProducerIdApi,
  OffsetCommitApi,
  OffsetFetchApi,
  ProduceApi,
  TxnOffsetCommitApi,
} from '../../src/protocol/messages/index.js';
import { ControlRecordType, decodeEndTransactionMarker } from '../../src/protocol/records/control-record.js';
import { RawClient } from '../support/raw-client.js';
import { readCommittedPartition } from '../support/read-committed.js';
import { batchOf, createTopic, readAll, temporaryDirectory, waitFor } from './helpers.js';

const BROKER_CONFIG = { 'transaction.state.log.num.partitions': 2, 'offsets.topic.num.partitions': 2 };

/** Wall-clock time that the test can move forward; timers run in real time (the sweep interval is small). */
class SkewedClock implements Clock {
  skewMs = 0;
  nowMs(): number {
    return Date.now() + this.skewMs;
  }
  monotonicMs(): number {
    return performance.now();
  }
  schedule(delayMs: number, callback: () => void): () => void {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  }
}

interface Node {
  running: RunningBroker;
  client: RawClient;
  coordinator: TransactionCoordinator;
  /** Closes the broker (the coordinator stops at once, synchronously), then the client. Idempotent. */
  stop(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startNode(dataDir: string, config: Record<string, number> = {}, clock?: Clock): Promise<Node> {
  const running = await startBroker({ port: 0, dataDir, storage: 'disk', config: { ...BROKER_CONFIG, ...config }, ...(clock ? { clock } : {}) });
  const client = await RawClient.connect(running.host, running.port);
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= running.close().then(() => client.close());
    return stopping;
  };
  cleanups.push(stop);
  return { running, client, coordinator: running.broker.services.transactionCoordinator, stop };
}

async function freshDataDir(): Promise<string> {
  const directory = await temporaryDirectory();
  cleanups.unshift(directory.remove);
  return directory.path;
}

interface Producer {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  /** Next sequence per partition. */
  sequences: Map<string, number>;
}

async function initProducer(client: RawClient, transactionalId: string, transactionTimeoutMs = 60_000): Promise<Producer> {
  const response = await client.request(InitProducerIdApi, 4, { transactionalId, transactionTimeoutMs, producerId: -1n, producerEpoch: -1 });
  assert.equal(response.errorCode, ErrorCode.NONE, `InitProducerId ${transactionalId}`);
  return { transactionalId, producerId: Number(response.producerId), producerEpoch: response.producerEpoch, sequences: new Map() };
}

async function addPartitions(client: RawClient, producer: Producer, partitions: [string, number][], version = 3): Promise<number[]> {
  const topics = new Map<string, number[]>();
  for (const [topic, partition] of partitions) topics.set(topic, [...(topics.get(topic) ?? []), partition]);
  const response = await client.request(AddPartitionsToTxnApi, version, {
    v3AndBelowTransactionalId: producer.transactionalId,
    v3AndBelowProducerId: BigInt(producer.producerId),
    v3AndBelowProducerEpoch: producer.producerEpoch,
    v3AndBelowTopics: [...topics].map(([name, list]) => ({ name, partitions: list })),
  });
  return (response.resultsByTopicV3AndBelow ?? []).flatMap((topic) => topic.resultsByPartition.map((result) => result.partitionErrorCode));
}

async function addPartitionsOk(client: RawClient, producer: Producer, partitions: [string, number][]): Promise<void> {
  assert.deepEqual(await addPartitions(client, producer, partitions), partitions.map(() => ErrorCode.NONE), 'AddPartitionsToTxn');
}

/** Produces one transactional batch; returns the partition's error code. */
async function produceTxn(client: RawClient, producer: Producer, topic: string, partition: number, values: string[], version = 9): Promise<number> {
  const key = `${topic}-${partition}`;
  const baseSequence = producer.sequences.get(key) ?? 0;
  const records = batchOf(values, { producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence, transactional: true });
  const response = await client.request(ProduceApi, version, {
    transactionalId: producer.transactionalId,
    acks: -1,
    timeoutMs: 10_000,
    topicData: [{ name: topic, partitionData: [{ index: partition, records }] }],
  });
  const errorCode = response.responses[0]!.partitionResponses[0]!.errorCode;
  if (errorCode === ErrorCode.NONE) producer.sequences.set(key, baseSequence + values.length);
  return errorCode;
}

function endTxn(client: RawClient, producer: Producer, committed: boolean, version = 3): Promise<number> {
  return client
    .request(EndTxnApi, version, { transactionalId: producer.transactionalId, producerId: BigInt(producer.producerId), producerEpoch: producer.producerEpoch, committed })
    .then((response) => response.errorCode);
}

async function describeTxn(client: RawClient, transactionalId: string) {
  const response = await client.request(DescribeTransactionsApi, 0, { transactionalIds: [transactionalId] });
  const state = response.transactionStates[0]!;
  return {
    errorCode: state.errorCode,
    state: state.transactionState,
    producerId: Number(state.producerId),
    producerEpoch: state.producerEpoch,
    partitions: state.topics.flatMap((topic) => topic.partitions.map((partition) => `${topic.topic}-${partition}`)).sort(),
  };
}

/** The end-transaction markers of one partition, in log order, as 'COMMIT'/'ABORT' with their producer. */
async function markers(client: RawClient, topic: string, partition: number): Promise<string[]> {
  const found: string[] = [];
  for (const batch of await readAll(client, topic, partition)) {
    if (!batch.control) continue;
    const marker = decodeEndTransactionMarker(batch.records[0]!);
    if (marker !== null) found.push(`${marker.type === ControlRecordType.commit ? 'COMMIT' : 'ABORT'}:${batch.producerId}/${batch.producerEpoch}`);
  }
  return found;
}

async function committedValues(client: RawClient, topic: string, partition: number): Promise<string[]> {
  const result = await readCommittedPartition(client, topic, partition);
  assert.equal(result.lastStableOffset, result.highWatermark, `${topic}-${partition}: no transaction is left open`);
  return result.records.map((record) => record.value);
}

async function committedGroupOffset(client: RawClient, groupId: string, topic: string, partition: number): Promise<number> {
  const response = await client.request(OffsetFetchApi, 5, { groupId, topics: [{ name: topic, partitionIndexes: [partition] }] });
  return Number(response.topics![0]!.partitions[0]!.committedOffset);
}

/** A promise the test resolves by hand. */
function gate(): { promise: Promise<void>; open(): void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** Holds the coordinator's next EndTxn right after its Prepare record is durable, before any marker. */
function holdAfterPrepare(coordinator: TransactionCoordinator): { reached: ReturnType<typeof gate>; release: ReturnType<typeof gate> } {
  const reached = gate();
  const release = gate();
  coordinator.setTestHooks({
    afterPrepare: async () => {
      reached.open();
      await release.promise;
    },
  });
  return { reached, release };
}

describe('transaction coordinator: a stop between prepare and complete', () => {
  for (const ending of ['commit', 'abort', 'fencing abort'] as const) {
    test(`the restarted coordinator finishes the ${ending} on every partition before serving`, async () => {
      const dataDir = await freshDataDir();
      let node = await startNode(dataDir);
      await createTopic(node.client, 'tc-a', 2);
      await createTopic(node.client, 'tc-b', 1);
      const producer = await initProducer(node.client, `tc-restart-${ending}`);
      const partitions: [string, number][] = [
        ['tc-a', 0],
        ['tc-a', 1],
        ['tc-b', 0],
      ];
      await addPartitionsOk(node.client, producer, partitions);
      for (const [topic, partition] of partitions) assert.equal(await produceTxn(node.client, producer, topic, partition, [`${ending}-${topic}-${partition}`]), ErrorCode.NONE);
      // The group's offsets go with the transaction: the `__consumer_offsets` partition needs its marker too.
      const added = await node.client.request(AddOffsetsToTxnApi, 3, { transactionalId: producer.transactionalId, producerId: BigInt(producer.producerId), producerEpoch: producer.producerEpoch, groupId: 'tc-group' });
      assert.equal(added.errorCode, ErrorCode.NONE);
      const offsets = await node.client.request(TxnOffsetCommitApi, 3, {
        transactionalId: producer.transactionalId,
        groupId: 'tc-group',
        producerId: BigInt(producer.producerId),
        producerEpoch: producer.producerEpoch,
        generationId: -1,
        memberId: '',
        groupInstanceId: null,
        topics: [{ name: 'tc-a', partitions: [{ partitionIndex: 0, committedOffset: 17n, committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      assert.equal(offsets.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);

      // Stop the coordinator right after the Prepare record is durable, before any marker.
      const { reached, release } = holdAfterPrepare(node.coordinator);
      const ended =
        ending === 'fencing abort'
          ? node.client.request(InitProducerIdApi, 4, { transactionalId: producer.transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 }).then((response) => response.errorCode)
          : endTxn(node.client, producer, ending === 'commit');
      await reached.promise;
      const observer = await RawClient.connect(node.running.host, node.running.port);
      assert.equal((await describeTxn(observer, producer.transactionalId)).state, ending === 'commit' ? 'PrepareCommit' : 'PrepareAbort');
      for (const [topic, partition] of partitions) assert.deepEqual(await markers(observer, topic, partition), [], `${topic}-${partition} has no marker yet`);
      await observer.close();
      const closing = node.stop();
      release.open();
      assert.equal(await ended, ErrorCode.NOT_COORDINATOR, 'the stopped coordinator answers the end it did not finish');
      await closing;

      node = await startNode(dataDir);
      const committed = ending === 'commit';
      const epoch = ending === 'fencing abort' ? producer.producerEpoch + 1 : producer.producerEpoch;
      const described = await describeTxn(node.client, producer.transactionalId);
      assert.deepEqual(described, {
        errorCode: ErrorCode.NONE,
        state: committed ? 'CompleteCommit' : 'CompleteAbort',
        producerId: producer.producerId,
        producerEpoch: epoch,
        partitions: [],
      });
      for (const [topic, partition] of partitions) {
        assert.deepEqual(await markers(node.client, topic, partition), [`${committed ? 'COMMIT' : 'ABORT'}:${producer.producerId}/${epoch}`], `${topic}-${partition}`);
        assert.deepEqual(await committedValues(node.client, topic, partition), committed ? [`${ending}-${topic}-${partition}`] : [], `${topic}-${partition} read_committed`);
      }
      assert.equal(await committedGroupOffset(node.client, 'tc-group', 'tc-a', 0), committed ? 17 : -1, 'the group offset follows the outcome');
      if (ending !== 'fencing abort') {
        // The client retrying the EndTxn that was answered NOT_COORDINATOR learns it took effect.
        assert.equal(await endTxn(node.client, producer, committed), ErrorCode.NONE);
        assert.equal((await markers(node.client, 'tc-a', 0)).length, 1, 'the retry wrote no second marker');
      }
    });
  }
});

describe('transaction coordinator: INVALID_TXN_STATE and the delayed-EndTxn guard', () => {
  test('EndTxn ends only an ongoing transaction of the current epoch; retries of the same outcome are no-ops', async () => {
    const node = await startNode(await freshDataDir());
    await createTopic(node.client, 'tc-guard', 1);
    const first = await initProducer(node.client, 'tc-guard');
    assert.equal(await endTxn(node.client, first, true), ErrorCode.INVALID_TXN_STATE, 'commit with nothing open');
    assert.equal(await endTxn(node.client, first, false), ErrorCode.INVALID_TXN_STATE, 'abort with nothing open');

    await addPartitionsOk(node.client, first, [['tc-guard', 0]]);
    assert.equal(await produceTxn(node.client, first, 'tc-guard', 0, ['one']), ErrorCode.NONE);
    assert.equal(await endTxn(node.client, first, true), ErrorCode.NONE);
    assert.equal(await endTxn(node.client, first, true), ErrorCode.NONE, 'a retried commit succeeds');
    assert.equal(await endTxn(node.client, first, false), ErrorCode.INVALID_TXN_STATE, 'an abort after the commit cannot flip it');
    assert.deepEqual(await markers(node.client, 'tc-guard', 0), [`COMMIT:${first.producerId}/${first.producerEpoch}`], 'one marker, from the first commit');
    assert.equal((await describeTxn(node.client, 'tc-guard')).state, 'CompleteCommit');
    assert.deepEqual(await committedValues(node.client, 'tc-guard', 0), ['one']);

    // A new instance opens the next transaction; EndTxns of the old epoch arrive late.
    const second = await initProducer(node.client, 'tc-guard');
    assert.equal(second.producerEpoch, first.producerEpoch + 1);
    await addPartitionsOk(node.client, second, [['tc-guard', 0]]);
    assert.equal(await produceTxn(node.client, second, 'tc-guard', 0, ['two']), ErrorCode.NONE);
    assert.equal(await endTxn(node.client, first, false), ErrorCode.PRODUCER_FENCED, 'a delayed abort of the older epoch');
    assert.equal(await endTxn(node.client, first, true), ErrorCode.PRODUCER_FENCED, 'a delayed commit of the older epoch');
    assert.deepEqual(await describeTxn(node.client, 'tc-guard'), {
      errorCode: ErrorCode.NONE,
      state: 'Ongoing',
      producerId: second.producerId,
      producerEpoch: second.producerEpoch,
      partitions: ['tc-guard-0'],
    });
    assert.equal(await endTxn(node.client, { ...second, producerId: second.producerId + 1 }, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING, 'another producer id');
    assert.equal(await endTxn(node.client, second, true), ErrorCode.NONE);
    assert.deepEqual(await committedValues(node.client, 'tc-guard', 0), ['one', 'two']);
  });

  test('requests on one transactional id apply in arrival order: the next AddPartitionsToTxn waits for the EndTxn before it', async () => {
    const node = await startNode(await freshDataDir());
    await createTopic(node.client, 'tc-order', 2);
    const producer = await initProducer(node.client, 'tc-order');
    await addPartitionsOk(node.client, producer, [['tc-order', 0]]);
    assert.equal(await produceTxn(node.client, producer, 'tc-order', 0, ['first']), ErrorCode.NONE);

    const { reached, release } = holdAfterPrepare(node.coordinator);
    const ended = endTxn(node.client, producer, true);
    await reached.promise;
    node.coordinator.setTestHooks(undefined);
    // The next transaction's AddPartitionsToTxn arrives (on another connection) while the commit is
    // between prepare and markers.
    const arrived = gate();
    const coordinator = node.coordinator as TransactionCoordinator & { addPartitions: TransactionCoordinator['addPartitions'] };
    const original = coordinator.addPartitions.bind(coordinator);
    coordinator.addPartitions = (...args) => {
      const result = original(...args);
      arrived.open();
      return result;
    };
    const other = await RawClient.connect(node.running.host, node.running.port);
    const next = addPartitions(other, producer, [['tc-order', 1]]);
    await arrived.promise;
    await nextTurn(); // the coordinator's own promise steps after arrival run before the release
    release.open();
    assert.equal(await ended, ErrorCode.NONE);
    assert.deepEqual(await next, [ErrorCode.NONE], 'the AddPartitionsToTxn after the EndTxn starts the next transaction');
    await other.close();
    assert.deepEqual(await describeTxn(node.client, 'tc-order'), {
      errorCode: ErrorCode.NONE,
      state: 'Ongoing',
      producerId: producer.producerId,
      producerEpoch: producer.producerEpoch,
      partitions: ['tc-order-1'],
    });
    assert.deepEqual(await markers(node.client, 'tc-order', 0), [`COMMIT:${producer.producerId}/${producer.producerEpoch}`]);
    assert.deepEqual(await markers(node.client, 'tc-order', 1), [], 'the new transaction was not ended by the earlier EndTxn');
  });
});

describe('transaction coordinator: produce verification', () => {
  test('a transactional batch for a partition the transaction did not add is INVALID_TXN_STATE and not written', async () => {
    const node = await startNode(await freshDataDir());
    await createTopic(node.client, 'tc-verify', 2);
    const producer = await initProducer(node.client, 'tc-verify');
    assert.equal(await produceTxn(node.client, producer, 'tc-verify', 0, ['before-any-add']), ErrorCode.INVALID_TXN_STATE, 'no transaction open');
    await addPartitionsOk(node.client, producer, [['tc-verify', 0]]);
    assert.equal(await produceTxn(node.client, producer, 'tc-verify', 1, ['not-added']), ErrorCode.INVALID_TXN_STATE, 'partition 1 was not added');
    assert.equal(await produceTxn(node.client, producer, 'tc-verify', 1, ['not-added'], 3), ErrorCode.INVALID_TXN_STATE, 'the same at Produce v3');
    assert.equal(await produceTxn(node.client, producer, 'tc-verify', 0, ['added']), ErrorCode.NONE);
    assert.equal(await endTxn(node.client, producer, true), ErrorCode.NONE);
    assert.equal(await produceTxn(node.client, producer, 'tc-verify', 0, ['after-commit']), ErrorCode.INVALID_TXN_STATE, 'the partition left with the committed transaction');
    assert.equal((await readAll(node.client, 'tc-verify', 1)).length, 0, 'nothing reached partition 1');
    assert.deepEqual(
      (await readAll(node.client, 'tc-verify', 0)).filter((batch) => !batch.control).flatMap((batch) => batch.records.map((record) => record.value!.toString())),
      ['added'],
    );
  });
});

describe('transaction coordinator: OffsetFetch requireStable (KIP-447)', () => {
  test('an offset an open transaction holds is UNSTABLE_OFFSET_COMMIT for requireStable fetches until the transaction ends', async () => {
    const node = await startNode(await freshDataDir());
    await createTopic(node.client, 'tc-stable', 2);
    const groupId = 'tc-stable-group';
    const committed = await node.client.request(OffsetCommitApi, 8, {
      groupId,
      generationIdOrMemberEpoch: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'tc-stable', partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, committedOffset: BigInt(3 + partitionIndex), committedLeaderEpoch: -1, committedMetadata: null })) }],
    });
    assert.deepEqual(committed.topics[0]!.partitions.map((partition) => partition.errorCode), [ErrorCode.NONE, ErrorCode.NONE]);

    const producer = await initProducer(node.client, 'tc-stable');
    const added = await node.client.request(AddOffsetsToTxnApi, 3, { transactionalId: producer.transactionalId, producerId: BigInt(producer.producerId), producerEpoch: producer.producerEpoch, groupId });
    assert.equal(added.errorCode, ErrorCode.NONE);
    const txnCommitted = await node.client.request(TxnOffsetCommitApi, 3, {
      transactionalId: producer.transactionalId,
      groupId,
      producerId: BigInt(producer.producerId),
      producerEpoch: producer.producerEpoch,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'tc-stable', partitions: [{ partitionIndex: 0, committedOffset: 17n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    assert.equal(txnCommitted.topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);

    /** [partition, offset, error] per partition, from OffsetFetch v7 (one group) or v8 (batched), for the named partitions or all (null). */
    const fetchOffsets = async (version: 7 | 8, requireStable: boolean, partitions: number[] | null) => {
      const topics = partitions === null ? null : [{ name: 'tc-stable', partitionIndexes: partitions }];
      const response = await node.client.request(OffsetFetchApi, version, version === 7 ? { groupId, topics, requireStable } : { groups: [{ groupId, topics }], requireStable });
      const listed = version === 7 ? response.topics! : response.groups![0]!.topics;
      return listed.flatMap((topic) => topic.partitions.map((partition) => [partition.partitionIndex, Number(partition.committedOffset), partition.errorCode]));
    };
    const unstable = [0, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT];
    for (const version of [7, 8] as const) {
      assert.deepEqual(await fetchOffsets(version, true, [0, 1]), [unstable, [1, 4, ErrorCode.NONE]], `v${version} requireStable: partition 0 waits for the transaction`);
      assert.deepEqual(await fetchOffsets(version, true, null), [unstable, [1, 4, ErrorCode.NONE]], `v${version} requireStable, all partitions`);
      assert.deepEqual(await fetchOffsets(version, false, [0, 1]), [[0, 3, ErrorCode.NONE], [1, 4, ErrorCode.NONE]], `v${version} without requireStable: the last committed offsets`);
    }

    assert.equal(await endTxn(node.client, producer, true), ErrorCode.NONE);
    for (const version of [7, 8] as const) {
      assert.deepEqual(await fetchOffsets(version, true, [0, 1]), [[0, 17, ErrorCode.NONE], [1, 4, ErrorCode.NONE]], `v${version}: the committed transaction's offset, stable`);
    }

    // An aborted transaction leaves the offset it held where it was, and stable again.
    const again = await initProducer(node.client, 'tc-stable');
    await node.client.request(AddOffsetsToTxnApi, 3, { transactionalId: again.transactionalId, producerId: BigInt(again.producerId), producerEpoch: again.producerEpoch, groupId });
    await node.client.request(TxnOffsetCommitApi, 3, {
      transactionalId: again.transactionalId,
      groupId,
      producerId: BigInt(again.producerId),
      producerEpoch: again.producerEpoch,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: [{ name: 'tc-stable', partitions: [{ partitionIndex: 1, committedOffset: 40n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    assert.deepEqual(await fetchOffsets(8, true, [1]), [[1, -1, ErrorCode.UNSTABLE_OFFSET_COMMIT]]);
    assert.equal(await endTxn(node.client, again, false), ErrorCode.NONE);
    assert.deepEqual(await fetchOffsets(8, true, [1]), [[1, 4, ErrorCode.NONE]]);
  });
});

describe('transaction coordinator: timeouts and expiry', () => {
  test('the sweep aborts a transaction past transaction.timeout.ms under a bumped epoch; the old epoch is fenced', async () => {
    const clock = new SkewedClock();
    const node = await startNode(await freshDataDir(), { 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 20 }, clock);
    await createTopic(node.client, 'tc-timeout', 1);
    // Initialised first, so every sweep looks at it before the short one.
    const long = await initProducer(node.client, 'tc-timeout-long', 600_000);
    const short = await initProducer(node.client, 'tc-timeout-short', 60_000);
    for (const producer of [long, short]) {
      await addPartitionsOk(node.client, producer, [['tc-timeout', 0]]);
      assert.equal(await produceTxn(node.client, producer, 'tc-timeout', 0, [producer.transactionalId]), ErrorCode.NONE);
    }
    assert.equal((await describeTxn(node.client, 'tc-timeout-short')).state, 'Ongoing');

    clock.skewMs += 120_000;
    const aborted = await waitFor(async () => {
      const state = await describeTxn(node.client, 'tc-timeout-short');
      return state.state === 'CompleteAbort' ? state : undefined;
    }, 'the sweep to abort the timed-out transaction', 5_000);
    assert.equal(aborted.producerEpoch, short.producerEpoch + 1, 'aborted under a bumped epoch');
    assert.equal((await describeTxn(node.client, 'tc-timeout-long')).state, 'Ongoing', 'within its timeout: left open by the same sweep');
    assert.deepEqual(await markers(node.client, 'tc-timeout', 0), [`ABORT:${short.producerId}/${short.producerEpoch + 1}`]);
    // The producer that timed out learns it was fenced: its late commit does not commit anything.
    assert.equal(await produceTxn(node.client, short, 'tc-timeout', 0, ['late']), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(await endTxn(node.client, short, true), ErrorCode.PRODUCER_FENCED);
    assert.equal(await endTxn(node.client, short, true, 1), ErrorCode.INVALID_PRODUCER_EPOCH);
    assert.equal(await endTxn(node.client, long, true), ErrorCode.NONE);
    assert.deepEqual(await committedValues(node.client, 'tc-timeout', 0), ['tc-timeout-long']);
  });

  test('transactional ids idle past transactional.id.expiration.ms are forgotten, durably; busier ones stay', async () => {
    const clock = new SkewedClock();
    const dataDir = await freshDataDir();
    const config = { 'transaction.abort.timed.out.transaction.cleanup.interval.ms': 20, 'transactional.id.expiration.ms': 3_600_000 };
    let node = await startNode(dataDir, config, clock);
    await createTopic(node.client, 'tc-expire', 1);
    const busy = await initProducer(node.client, 'tc-expire-busy');
    const idle = await initProducer(node.client, 'tc-expire-idle');
    await addPartitionsOk(node.client, idle, [['tc-expire', 0]]);
    assert.equal(await produceTxn(node.client, idle, 'tc-expire', 0, ['idle']), ErrorCode.NONE);
    assert.equal(await endTxn(node.client, idle, true), ErrorCode.NONE);

    clock.skewMs += 40 * 60_000;
    const again = await initProducer(node.client, 'tc-expire-busy');
    assert.equal(again.producerEpoch, busy.producerEpoch + 1, 'forty minutes idle: still known');
    clock.skewMs += 40 * 60_000;
    // The busy id is swept before the idle one (it was created first), with the same clock reading.
    await waitFor(async () => (await describeTxn(node.client, 'tc-expire-idle')).errorCode === ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, 'the idle transactional id to expire', 5_000);
    assert.equal((await describeTxn(node.client, 'tc-expire-busy')).producerEpoch, again.producerEpoch, 'forty minutes idle: kept');

    await node.stop();
    node = await startNode(dataDir, config, clock);
    assert.equal((await describeTxn(node.client, 'tc-expire-idle')).errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, 'the expiry survives a restart');
    assert.equal((await describeTxn(node.client, 'tc-expire-busy')).producerEpoch, again.producerEpoch);
    const reborn = await initProducer(node.client, 'tc-expire-idle');
    assert.notEqual(reborn.producerId, idle.producerId, 'a forgotten id starts over with a new producer id');
    assert.equal(reborn.producerEpoch, 0);
    assert.deepEqual(await committedValues(node.client, 'tc-expire', 0), ['idle'], 'expiry does not touch committed data');
  });
});

describe('transaction coordinator: fencing', () => {
  test("after a new instance initialises, the old one's Produce, AddPartitionsToTxn, AddOffsetsToTxn and EndTxn are refused at every version", async () => {
    const node = await startNode(await freshDataDir());
    await createTopic(node.client, 'tc-fence', 2);
    const old = await initProducer(node.client, 'tc-fence');
    await addPartitionsOk(node.client, old, [['tc-fence', 0]]);
    assert.equal(await produceTxn(node.client, old, 'tc-fence', 0, ['old-before']), ErrorCode.NONE);

    const current = await initProducer(node.client, 'tc-fence');
    assert.ok(current.producerEpoch > old.producerEpoch);
    assert.deepEqual(await markers(node.client, 'tc-fence', 0), [`ABORT:${old.producerId}/${old.producerEpoch + 1}`], "the old instance's transaction was aborted");

    const refusals: Record<string, number> = {};
    for (const version of [3, 9, 11]) refusals[`Produce v${version} to its partition`] = await produceTxn(node.client, old, 'tc-fence', 0, ['old-after'], version);
    refusals['Produce v9 to another partition'] = await produceTxn(node.client, old, 'tc-fence', 1, ['old-after'], 9);
    for (const version of [0, 1, 2, 3]) refusals[`AddPartitionsToTxn v${version}`] = (await addPartitions(node.client, old, [['tc-fence', 1]], version))[0]!;
    for (const version of [0, 1, 2, 3]) {
      const response = await node.client.request(AddOffsetsToTxnApi, version, { transactionalId: old.transactionalId, producerId: BigInt(old.producerId), producerEpoch: old.producerEpoch, groupId: 'tc-fence-group' });
      refusals[`AddOffsetsToTxn v${version}`] = response.errorCode;
    }
    for (const version of [0, 1, 2, 3, 4]) refusals[`EndTxn v${version} commit`] = await endTxn(node.client, old, true, version);
    refusals['EndTxn v3 abort'] = await endTxn(node.client, old, false, 3);
    const { INVALID_PRODUCER_EPOCH, PRODUCER_FENCED } = ErrorCode;
    assert.deepEqual(refusals, {
      // Produce never had PRODUCER_FENCED: Kafka answers a stale epoch INVALID_PRODUCER_EPOCH.
      'Produce v3 to its partition': INVALID_PRODUCER_EPOCH,
      'Produce v9 to its partition': INVALID_PRODUCER_EPOCH,
      'Produce v11 to its partition': INVALID_PRODUCER_EPOCH,
      'Produce v9 to another partition': INVALID_PRODUCER_EPOCH,
      'AddPartitionsToTxn v0': INVALID_PRODUCER_EPOCH,
      'AddPartitionsToTxn v1': INVALID_PRODUCER_EPOCH,
      'AddPartitionsToTxn v2': PRODUCER_FENCED,
      'AddPartitionsToTxn v3': PRODUCER_FENCED,
      'AddOffsetsToTxn v0': INVALID_PRODUCER_EPOCH,
      'AddOffsetsToTxn v1': INVALID_PRODUCER_EPOCH,
      'AddOffsetsToTxn v2': PRODUCER_FENCED,
      'AddOffsetsToTxn v3': PRODUCER_FENCED,
      'EndTxn v0 commit': INVALID_PRODUCER_EPOCH,
      'EndTxn v1 commit': INVALID_PRODUCER_EPOCH,
      'EndTxn v2 commit': PRODUCER_FENCED,
      'EndTxn v3 commit': PRODUCER_FENCED,
      'EndTxn v4 commit': PRODUCER_FENCED,
      'EndTxn v3 abort': PRODUCER_FENCED,
    });
    const state = await describeTxn(node.client, 'tc-fence');
    assert.deepEqual({ state: state.state, producerEpoch: state.producerEpoch, partitions: state.partitions }, { state: 'Empty', producerEpoch: current.producerEpoch, partitions: [] }, 'nothing the old instance sent changed the state');

    await addPartitionsOk(node.client, current, [['tc-fence', 0], ['tc-fence', 1]]);
    // The old instance cannot write into the new instance's transaction either.
    assert.equal(await produceTxn(node.client, old, 'tc-fence', 1, ['old-into-new'], 9), INVALID_PRODUCER_EPOCH);
    assert.equal(await produceTxn(node.client, current, 'tc-fence', 0, ['new-0']), ErrorCode.NONE);
    assert.equal(await produceTxn(node.client, current, 'tc-fence', 1, ['new-1']), ErrorCode.NONE);
    assert.equal(await endTxn(node.client, old, true), PRODUCER_FENCED);
    assert.equal((await describeTxn(node.client, 'tc-fence')).state, 'Ongoing', 'the old EndTxn did not end the new transaction');
    assert.equal(await endTxn(node.client, current, true), ErrorCode.NONE);
    assert.deepEqual(await committedValues(node.client, 'tc-fence', 0), ['new-0']);
    assert.deepEqual(await committedValues(node.client, 'tc-fence', 1), ['new-1']);
  });
});
