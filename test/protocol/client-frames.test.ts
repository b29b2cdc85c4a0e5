// Frames captured from real clients talking to Conveyor (test/protocol/capture/capture.ts, listed in
// golden/index.json) against expectations that do not come from the schema model the codecs were
// generated from: the values each client was asked to send (capture/scenario.ts: topic, partition
// count, group id, transactional id, records, acks, timeouts), a few documented client defaults,
// and agreement between frames of one session (the member id the broker gave is the one the client
// commits with). Records inside batches are decoded with the project's record decoder.
//
// Every frame, request or response, must also decode completely and re-encode at its version to
// the same bytes: a decoder and encoder that disagree (a field skipped, a tagged field lost, a
// nullable read as empty) show up here even when both were generated from one wrong model.
// Responses were written by Conveyor and accepted by the client: the capture saves frames only
// from a session in which the client reported success and read its records back.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  type RequestHeader,
  responseHeaderVersion,
} from '../../src/protocol/headers.js';
import { apiDescriptor } from '../../src/protocol/messages/index.js';
import { decodeConsumerProtocolAssignment } from '../../src/protocol/messages/records/consumer-protocol-assignment.js';
import { decodeConsumerProtocolSubscription } from '../../src/protocol/messages/records/consumer-protocol-subscription.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { Writer } from '../../src/protocol/primitives/writer.js';
import { type DecodedBatch, decodeRecordBatches } from '../../src/protocol/records/record-batch.js';
import type { GoldenEntry } from './capture/capture.js';
import { type ClientName, SCENARIOS, type Scenario } from './capture/scenario.js';

const goldenDir = new URL('golden/', import.meta.url);
const index = JSON.parse(readFileSync(new URL('index.json', goldenDir), 'utf8')) as GoldenEntry[];

function frameOf(file: string): Buffer {
  return Buffer.from(readFileSync(new URL(`${file}.hex`, goldenDir), 'utf8').trim(), 'hex');
}

// biome-ignore lint/suspicious/noExplicitAny: decoded messages of many shapes, checked field by field.
type Any = any;

interface DecodedFrame {
  entry: GoldenEntry;
  frame: Buffer;
  correlationId: number;
  header: RequestHeader | undefined;
  body: Any;
}

function decodeFrame(entry: GoldenEntry): DecodedFrame {
  const frame = frameOf(entry.file);
  const reader = new Reader(frame);
  assert.equal(reader.readInt32(), frame.length - 4, 'frame size prefix');
  const api = apiDescriptor(entry.apiKey)!;
  if (entry.direction === 'request') {
    const header = decodeRequestHeader(reader);
    assert.equal(header.apiKey, entry.apiKey, 'api key in the header');
    assert.equal(header.apiVersion, entry.version, 'api version in the header');
    const body = api.decodeRequest(reader, entry.version);
    assert.equal(reader.remaining, 0, 'the request decoder consumed every byte');
    return { entry, frame, correlationId: header.correlationId, header, body };
  }
  const header = decodeResponseHeader(reader, responseHeaderVersion(entry.apiKey, entry.version));
  const body = api.decodeResponse(reader, entry.version);
  assert.equal(reader.remaining, 0, 'the response decoder consumed every byte');
  return { entry, frame, correlationId: header.correlationId, header: undefined, body };
}

function reencode(decoded: DecodedFrame): Buffer {
  const { entry } = decoded;
  const api = apiDescriptor(entry.apiKey)!;
  const writer = new Writer();
  writer.writeInt32(0);
  if (entry.direction === 'request') {
    encodeRequestHeader(writer, decoded.header!);
    api.encodeRequest(writer, entry.version, decoded.body);
  } else {
    encodeResponseHeader(writer, responseHeaderVersion(entry.apiKey, entry.version), decoded.correlationId);
    api.encodeResponse(writer, entry.version, decoded.body);
  }
  writer.patchInt32(0, writer.length - 4);
  return writer.toBuffer();
}

async function batchesOf(records: Buffer | null): Promise<DecodedBatch[]> {
  assert.ok(records !== null && records.length > 0, 'records present');
  const batches: DecodedBatch[] = [];
  for await (const batch of decodeRecordBatches(records)) batches.push(batch);
  return batches;
}

/** The records as the client was asked to send them. */
function askedRecords(s: Scenario) {
  return s.records.map((record) => ({ key: record.key, value: record.value, headers: record.headers.map(([key, value]) => [key, value]) }));
}

function recordsSeen(batches: DecodedBatch[]) {
  return batches.flatMap((batch) =>
    batch.records.map((record) => ({
      key: record.key?.toString() ?? null,
      value: record.value?.toString() ?? null,
      headers: record.headers.map((header) => [header.key, header.value?.toString() ?? null]),
    })),
  );
}

function subscriptionTopics(metadata: Buffer): string[] {
  const reader = new Reader(metadata);
  const version = reader.readInt16();
  return decodeConsumerProtocolSubscription(reader, version).topics;
}

function assignedPartitions(assignment: Buffer): { topic: string; partitions: number[] }[] {
  const reader = new Reader(assignment);
  const version = reader.readInt16();
  return decodeConsumerProtocolAssignment(reader, version).assignedPartitions.map((entry) => ({ topic: entry.topic, partitions: [...entry.partitions].sort() }));
}

/**
 * Client defaults that show up in the frames, from each client's documentation or configuration
 * reference (not from the protocol schema): Fetch max wait (kafkajs `maxWaitTimeInMs` 5000;
 * librdkafka `fetch.wait.max.ms` 500; kafka-python `fetch_max_wait_ms` 500; platformatic: the
 * capture passes `maxWaitTime: 500`) and isolation level (kafkajs `readUncommitted: false`,
 * librdkafka `isolation.level=read_committed` and platformatic default to read committed (1);
 * kafka-python 2.0.2 reads uncommitted (0)). Assignor names: kafkajs `RoundRobinAssigner`,
 * librdkafka and kafka-python `range,roundrobin`, platformatic `roundrobin`.
 */
const CLIENT_DEFAULTS: Record<ClientName, { maxWaitMs: number; isolationLevel: number; assignors: string[] }> = {
  kafkajs: { maxWaitMs: 5000, isolationLevel: 1, assignors: ['RoundRobinAssigner'] },
  platformatic: { maxWaitMs: 500, isolationLevel: 1, assignors: ['roundrobin'] },
  confluent: { maxWaitMs: 500, isolationLevel: 1, assignors: ['range', 'roundrobin'] },
  kcat: { maxWaitMs: 500, isolationLevel: 1, assignors: ['range', 'roundrobin'] },
  'kafka-python': { maxWaitMs: 500, isolationLevel: 0, assignors: ['range', 'roundrobin'] },
};

type Frames = Map<string, { request: DecodedFrame; response: DecodedFrame }>;

/** Field-by-field expectations per API; `frames` has the other APIs of the same session. */
const CHECKS: Record<string, (s: Scenario, request: Any, response: Any, frames: Frames) => Promise<void> | void> = {
  CreateTopics(s, request, response) {
    assert.equal(request.topics.length, 1);
    const topic = request.topics[0];
    assert.equal(topic.name, s.topic);
    assert.equal(topic.numPartitions, s.partitions);
    assert.equal(topic.replicationFactor, s.replicationFactor);
    assert.deepEqual(topic.assignments, []);
    assert.deepEqual(topic.configs, []);
    if (s.createTimeoutMs !== undefined) assert.equal(request.timeoutMs, s.createTimeoutMs);
    assert.equal(request.validateOnly, false);

    assert.equal(response.topics.length, 1);
    assert.equal(response.topics[0].name, s.topic);
    assert.equal(response.topics[0].errorCode, 0);
  },

  async Produce(s, request, response, frames) {
    assert.equal(request.acks, s.acks);
    assert.equal(request.timeoutMs, s.produceTimeoutMs);
    assert.equal(request.transactionalId, null);
    assert.equal(request.topicData.length, 1);
    assert.equal(request.topicData[0].name, s.topic);
    assert.deepEqual(request.topicData[0].partitionData.map((partition: Any) => partition.index), [0]);
    const batches = await batchesOf(request.topicData[0].partitionData[0].records);
    assert.equal(batches.length, 1, 'the three records travel in one batch');
    const [batch] = batches as [DecodedBatch];
    assert.equal(batch.magic, 2);
    assert.equal(batch.compression, 0, 'no compression was asked for');
    assert.equal(batch.transactional, false);
    assert.equal(batch.control, false);
    assert.equal(batch.recordsCount, s.records.length);
    assert.deepEqual(
      batch.records.map((record) => record.offset - batch.baseOffset),
      s.records.map((_, offset) => offset),
    );
    assert.deepEqual(recordsSeen(batches), askedRecords(s));
    const initProducerId = frames.get('InitProducerId');
    if (s.idempotent) {
      // The idempotent producer stamps the id and epoch the broker gave it, sequence from 0.
      assert.equal(BigInt(batch.producerId), initProducerId!.response.body.producerId);
      assert.equal(batch.producerEpoch, initProducerId!.response.body.producerEpoch);
      assert.equal(batch.baseSequence, 0);
    } else {
      assert.equal(batch.producerId, -1, 'no producer id without idempotence');
      // Without a producer id, kafkajs and platformatic still write epoch 0 and sequence 0 (the
      // broker ignores both); librdkafka and kafka-python write -1 for both.
      const unset = s.client === 'kafkajs' || s.client === 'platformatic' ? 0 : -1;
      assert.equal(batch.producerEpoch, unset);
      assert.equal(batch.baseSequence, unset);
    }

    assert.equal(response.responses.length, 1);
    assert.equal(response.responses[0].name, s.topic);
    const partition = response.responses[0].partitionResponses[0];
    assert.equal(partition.index, 0);
    assert.equal(partition.errorCode, 0);
    assert.equal(partition.baseOffset, 0n, 'the first records of a new partition');
  },

  async Fetch(s, request, response, frames) {
    const defaults = CLIENT_DEFAULTS[s.client];
    assert.equal(request.replicaId, -1, 'a consumer, not a follower');
    assert.equal(request.maxWaitMs, defaults.maxWaitMs);
    assert.equal(request.isolationLevel, defaults.isolationLevel);
    // Fetch v13+ names topics by id: the id CreateTopics answered (platformatic) identifies the topic.
    const topicId = frames.get('CreateTopics')?.response.body.topics[0].topicId;
    const ours = (topic: Any) => (request.header.apiVersion >= 13 ? topic.topicId === topicId : topic.topic === s.topic);
    const requested = request.topics.filter(ours).flatMap((topic: Any) => topic.partitions);
    assert.deepEqual(requested.map((partition: Any) => partition.partition).sort(), Array.from({ length: s.partitions }, (_, index) => index));
    const zero = requested.find((partition: Any) => partition.partition === 0);
    assert.equal(zero.fetchOffset, 0n, 'a new group reads partition 0 from its beginning');

    const answered = response.responses.filter(ours).flatMap((topic: Any) => topic.partitions);
    const answer = answered.find((partition: Any) => partition.partitionIndex === 0);
    assert.equal(answer.errorCode, 0);
    assert.equal(answer.highWatermark, BigInt(s.records.length));
    const batches = await batchesOf(answer.records);
    assert.deepEqual(recordsSeen(batches), askedRecords(s));
    assert.deepEqual(
      batches.flatMap((batch) => batch.records.map((record) => record.offset)),
      s.records.map((_, offset) => offset),
      'offsets assigned by the broker',
    );
    // The batch as produced, but for the base offset and leader epoch the broker stamps.
    const produced = (await batchesOf(frames.get('Produce')!.request.body.topicData[0].partitionData[0].records))[0]!;
    assert.equal(batches[0]!.crc, produced.crc, 'the stored batch kept the producer CRC');
  },

  JoinGroup(s, request, response) {
    assert.equal(request.groupId, s.groupId);
    assert.equal(request.sessionTimeoutMs, s.sessionTimeoutMs);
    assert.equal(request.rebalanceTimeoutMs, s.rebalanceTimeoutMs);
    assert.equal(request.protocolType, 'consumer');
    assert.deepEqual(
      request.protocols.map((protocol: Any) => protocol.name),
      CLIENT_DEFAULTS[s.client].assignors,
    );
    for (const protocol of request.protocols) assert.deepEqual(subscriptionTopics(protocol.metadata), [s.topic]);

    assert.equal(response.errorCode, 0);
    assert.ok(response.generationId >= 1);
    assert.ok(response.memberId.length > 0);
    assert.equal(response.leader, response.memberId, 'the only member leads');
    assert.ok(CLIENT_DEFAULTS[s.client].assignors.includes(response.protocolName));
    assert.deepEqual(
      response.members.map((member: Any) => [member.memberId, member.metadata]),
      [[response.memberId, request.protocols.find((protocol: Any) => protocol.name === response.protocolName).metadata]],
      'the leader gets its own subscription back',
    );
  },

  SyncGroup(s, request, response, frames) {
    const joined = frames.get('JoinGroup')!.response.body;
    assert.equal(request.groupId, s.groupId);
    assert.equal(request.generationId, joined.generationId);
    assert.equal(request.memberId, joined.memberId);
    assert.equal(request.assignments.length, 1);
    assert.equal(request.assignments[0].memberId, joined.memberId);
    const everyPartition = Array.from({ length: s.partitions }, (_, index) => index);
    assert.deepEqual(assignedPartitions(request.assignments[0].assignment), [{ topic: s.topic, partitions: everyPartition }]);

    assert.equal(response.errorCode, 0);
    assert.deepEqual(response.assignment, request.assignments[0].assignment, 'the member gets the leader’s assignment');
  },

  OffsetCommit(s, request, response, frames) {
    const joined = frames.get('JoinGroup')!.response.body;
    assert.equal(request.groupId, s.groupId);
    assert.equal(request.generationIdOrMemberEpoch, joined.generationId);
    assert.equal(request.memberId, joined.memberId);
    const topic = request.topics.find((candidate: Any) => candidate.name === s.topic);
    const partition = topic.partitions.find((candidate: Any) => candidate.partitionIndex === 0);
    assert.equal(partition.committedOffset, BigInt(s.records.length), 'the next offset to read');

    const answered = response.topics.find((candidate: Any) => candidate.name === s.topic);
    assert.deepEqual(
      answered.partitions.map((entry: Any) => [entry.partitionIndex, entry.errorCode]),
      topic.partitions.map((entry: Any) => [entry.partitionIndex, 0]),
    );
  },

  InitProducerId(s, request, response) {
    assert.equal(request.transactionalId, s.transactionalId ?? null);
    // An idempotent producer without transactions has no transaction timeout (librdkafka sends -1).
    assert.equal(request.transactionTimeoutMs, s.transactionalId === undefined ? -1 : s.transactionTimeoutMs);
    if (request.header.apiVersion >= 3) {
      // KIP-360 fields: "no producer yet" is -1/-1; platformatic sends 0/0 (test/compat/transactions).
      const none = s.client === 'platformatic' ? [0n, 0] : [-1n, -1];
      assert.deepEqual([request.producerId, request.producerEpoch], none);
    }
    assert.equal(response.errorCode, 0);
    assert.ok(response.producerId >= 0n);
    assert.ok(response.producerEpoch >= 0);
  },

  EndTxn(s, request, response, frames) {
    const initialized = frames.get('InitProducerId')!.response.body;
    assert.equal(request.transactionalId, s.transactionalId);
    assert.equal(request.producerId, initialized.producerId);
    assert.equal(request.producerEpoch, initialized.producerEpoch);
    assert.equal(request.committed, true);
    assert.equal(response.errorCode, 0);
  },
};

const sessions = index.filter((entry) => entry.source === 'session');
const clients = [...new Set(sessions.map((entry) => entry.client))] as ClientName[];

describe('golden index', () => {
  it('lists every golden file, and every file it lists exists', () => {
    const files = readdirSync(goldenDir)
      .filter((name) => name.endsWith('.hex'))
      .map((name) => name.slice(0, -4))
      .sort();
    assert.deepEqual(index.map((entry) => entry.file).sort(), files);
  });

  it('covers the APIs each client family can send', () => {
    const covered = (client: string) =>
      sessions
        .filter((entry) => entry.client === client && entry.direction === 'request')
        .map((entry) => entry.api)
        .sort();
    const all = ['CreateTopics', 'EndTxn', 'Fetch', 'InitProducerId', 'JoinGroup', 'OffsetCommit', 'Produce', 'SyncGroup'];
    assert.deepEqual(covered('kafkajs'), all);
    assert.deepEqual(covered('platformatic'), all);
    assert.deepEqual(covered('confluent'), all);
    // kcat: no admin API and no transactions in the capture; its idempotent producer asks for an id.
    assert.deepEqual(covered('kcat'), all.filter((api) => api !== 'CreateTopics' && api !== 'EndTxn'));
    // kafka-python 2.0.2 has neither idempotence nor transactions.
    assert.deepEqual(covered('kafka-python'), all.filter((api) => api !== 'InitProducerId' && api !== 'EndTxn'));
  });
});

for (const client of clients) {
  describe(`${client} session frames`, () => {
    const scenario = SCENARIOS[client];
    const entries = sessions.filter((entry) => entry.client === client);
    const frames: Frames = new Map();
    for (const request of entries.filter((entry) => entry.direction === 'request')) {
      const response = entries.find((entry) => entry.direction === 'response' && entry.api === request.api);
      assert.ok(response, `${request.file} has a response`);
      frames.set(request.api, { request: decodeFrame(request), response: decodeFrame(response) });
    }

    for (const [api, pair] of frames) {
      const label = `${api} v${pair.request.entry.version}`;
      it(`${label}: request and response decode and re-encode byte for byte`, () => {
        assert.equal(pair.response.correlationId, pair.request.correlationId, 'the response answers the request');
        assert.deepEqual(reencode(pair.request), pair.request.frame, 'request re-encodes to the captured bytes');
        assert.deepEqual(reencode(pair.response), pair.response.frame, 'response re-encodes to the captured bytes');
      });

      it(`${label}: fields are the values the client was asked to send`, async () => {
        const check = CHECKS[api];
        assert.ok(check, `no expectations for ${api}`);
        await check(scenario, { ...pair.request.body, header: pair.request.header }, pair.response.body, frames);
      });
    }
  });
}
