// Produce (Confluent REST Proxy v3's POST .../topics/{topic}/records, streaming mode included) and
// Conveyor's two consume endpoints, which Confluent's v3 API does not have: a long poll of one
// partition from an offset or a time, and a server-sent event stream of a topic's new (or all)
// records. The stream has a Kafka client of its own, closed when the HTTP client goes away.
import type { FastifyInstance } from 'fastify';
import { setTimeout as delay } from 'node:timers/promises';
import { ErrorCode, retriableErrorCodes } from '../../base/error-codes.js';
import { OffsetSpec, type TopicInfo } from '../../client/admin-client.js';
import { KafkaResponseError } from '../../client/cluster-client.js';
import { type ConsumedRecord, Consumer } from '../../client/consumer.js';
import { Producer, type ProducerRecord, type RecordResult } from '../../client/producer.js';
import type { IdentityClient } from './clients.js';
import { basicCredentials } from './clients.js';
import { partitionOf, topicOf, topicUrl } from './cluster-routes.js';
import { type Query, type RouteContext, type Routes, integerParam } from './context.js';
import { RestError, badRequest, kafkaError, kafkaErrorText, toRestError } from './errors.js';
import { type ProduceRequest, parseJsonSequence, parseProduceRequest, recordJson } from './records.js';

const MAX_RECORDS_LIMIT = 10_000;
const DEFAULT_MAX_RECORDS = 100;
const DEFAULT_TIMEOUT_MS = 1_000;
const MAX_TIMEOUT_MS = 30_000;
/** How long each fetch of a record stream waits for data, so a gone client is noticed soon. */
const STREAM_POLL_MS = 500;
/** A comment line this often keeps proxies from closing an idle stream. */
const STREAM_KEEPALIVE_MS = 15_000;

/** The record streams open now, each with the function that ends it. */
export class OpenStreams {
  readonly stops = new Set<() => void>();
  /** The streams that have not yet closed their Kafka client. */
  active = 0;

  stopAll(): void {
    for (const stop of this.stops) stop();
  }
}

export function registerRecordRoutes(app: FastifyInstance, routes: Routes, streams: OpenStreams): void {
  app.post('/v3/clusters/:cluster_id/topics/:topic_name/records', routes.handler(produce));
  app.get('/v3/clusters/:cluster_id/topics/:topic_name/partitions/:partition_id/records', routes.handler((context) => consumePartition(context, routes)));
  app.get('/v3/clusters/:cluster_id/topics/:topic_name/records::stream', routes.handler((context) => streamRecords(context, routes, streams)));
}

/** Records of a streaming produce written with one Producer.send (each partition's records in one batch). */
const PRODUCE_CHUNK = 500;
/** How long a record that fails with a retriable error is sent again (Kafka's delivery.timeout.ms, shortened for an HTTP client), and the waits between (doubling up to the most). */
const PRODUCE_RETRY_MS = 10_000;
const RETRY_BACKOFF_MS = 100;
const RETRY_BACKOFF_MAX_MS = 1_000;

/**
 * Writes `requests` in order with one Producer.send and answers one object per request: a
 * ProduceResponse, or the RestError of a request that was refused before (a bad field, a
 * partition the topic does not have) or by the broker.
 */
async function produceChunk(context: RouteContext, producer: Producer, topic: TopicInfo, bodies: readonly unknown[]): Promise<(Record<string, unknown> | RestError)[]> {
  const answers: (Record<string, unknown> | RestError)[] = [];
  const toSend: { index: number; request: ProduceRequest; timestamp: number }[] = [];
  bodies.forEach((body, index) => {
    try {
      const request = parseProduceRequest(body);
      if (request.partition !== undefined && !topic.partitions.some((info) => info.partition === request.partition)) {
        throw new RestError(404, `Partition ${request.partition} of topic ${topic.name} cannot be found.`, 40403);
      }
      toSend.push({ index, request, timestamp: request.timestamp ?? Date.now() });
    } catch (error) {
      answers[index] = toRestError(error);
    }
  });
  const results = await sendWithRetries(context, producer, topic.name, toSend.map(({ request, timestamp }) => ({
    key: request.key?.bytes ?? null,
    value: request.value?.bytes ?? null,
    headers: request.headers,
    timestamp,
    ...(request.partition === undefined ? {} : { partition: request.partition }),
  })));
  toSend.forEach(({ index, request, timestamp }, position) => {
    const result = results[position];
    if (!result || result.errorCode !== ErrorCode.NONE) {
      const code = result?.errorCode ?? ErrorCode.UNKNOWN_SERVER_ERROR;
      answers[index] = code < 0 ? new RestError(500, result?.error ?? 'the record was not written', 50002) : kafkaError(code, result?.error ?? kafkaErrorText(code, null));
      return;
    }
    answers[index] = {
      error_code: 200,
      cluster_id: context.clusterId,
      topic_name: topic.name,
      partition_id: result.partition,
      offset: result.offset,
      timestamp: new Date(timestamp).toISOString(),
      key: request.key === null ? null : { type: request.key.type, size: request.key.bytes.length },
      value: request.value === null ? null : { type: request.value.type, size: request.value.bytes.length },
    };
  });
  return answers;
}

/**
 * Producer.send, with the records that failed with a retriable error (a leader that moved, one
 * not yet elected, a leader's connection lost) sent again to the same partitions after the topic's metadata is read anew, as
 * Kafka's producer retries. A partition's failed records are the last of its records (the
 * Producer sends no batch after a failed one), so order within a partition holds.
 */
async function sendWithRetries(context: RouteContext, producer: Producer, topicName: string, records: ProducerRecord[]): Promise<RecordResult[]> {
  const results = await producer.send(records);
  const deadline = Date.now() + PRODUCE_RETRY_MS;
  for (let backoff = RETRY_BACKOFF_MS; Date.now() + backoff < deadline; backoff = Math.min(backoff * 2, RETRY_BACKOFF_MAX_MS)) {
    const failed = results.flatMap((result, index) => (retriable(result.errorCode) ? [index] : []));
    if (failed.length === 0) break;
    await delay(backoff);
    producer.setTopic(await context.client.admin.describeTopic(topicName));
    const again = await producer.send(failed.map((index) => ({ ...records[index]!, partition: results[index]!.partition })));
    failed.forEach((index, position) => {
      results[index] = again[position]!;
    });
  }
  return results;
}

/** Kafka's retriable errors, and a request that failed on its connection (-1: the leader went away). */
function retriable(errorCode: number): boolean {
  return errorCode === -1 || retriableErrorCodes.has(errorCode);
}

/**
 * Writes each record of the body in order and answers one object per record: a single record's
 * failure is the response's status; in a stream of several (Confluent's streaming mode) every
 * record gets its own object, an error one ({error_code, message}) for a failed record, and the
 * objects are sent as the records are written (PRODUCE_CHUNK at a time).
 */
async function produce(context: RouteContext): Promise<unknown> {
  const text = typeof context.request.body === 'string' ? context.request.body : '';
  const bodies = parseJsonSequence(text);
  if (bodies.length === 0) throw badRequest('the request needs a JSON body: a produce request, or several one after the other');
  const topic = await topicOf(context);
  const producer = new Producer(context.client.cluster, topic, { compression: 0, acks: -1 });
  if (bodies.length === 1) {
    const [answer] = await produceChunk(context, producer, topic, bodies);
    if (answer instanceof RestError) throw answer;
    return answer;
  }
  const raw = context.reply.hijack().raw;
  raw.writeHead(200, { 'content-type': 'application/json' });
  try {
    for (let start = 0; start < bodies.length; start += PRODUCE_CHUNK) {
      const answers = await produceChunk(context, producer, topic, bodies.slice(start, start + PRODUCE_CHUNK));
      raw.write(answers.map((answer) => `${JSON.stringify(answer instanceof RestError ? answer.body : answer)}\n`).join(''));
    }
  } catch (error) {
    raw.write(`${JSON.stringify(toRestError(context.client.explain(error)).body)}\n`);
  } finally {
    raw.end();
  }
  return undefined;
}

/** Where a read starts: the offset asked for, the first at or after a time (the end when none is), or the earliest. */
async function startOffset(context: RouteContext, topic: TopicInfo, partition: number, query: Query): Promise<number> {
  if (query.offset !== undefined && query.timestamp !== undefined) throw badRequest('give offset or timestamp, not both');
  const only = { ...topic, partitions: topic.partitions.filter((info) => info.partition === partition) };
  if (query.offset !== undefined) return integerParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  if (query.timestamp !== undefined) {
    const time = integerParam(query, 'timestamp', 0, 0, Number.MAX_SAFE_INTEGER);
    const found = (await context.client.admin.listOffsets(only, time)).get(partition) ?? -1;
    return found >= 0 ? found : ((await context.client.admin.listOffsets(only, OffsetSpec.latest)).get(partition) ?? 0);
  }
  return (await context.client.admin.listOffsets(only, OffsetSpec.earliest)).get(partition) ?? 0;
}

/**
 * The long poll: records of one partition from `offset` (or `timestamp`), at most max_records,
 * answered as soon as there is at least one or when timeout_ms has passed (with none). An offset
 * below the log start reads from the log start; one past the end is a 400 naming the range.
 */
async function consumePartition(context: RouteContext, routes: Routes): Promise<Record<string, unknown>> {
  const query = context.request.query as Query;
  const maxRecords = integerParam(query, 'max_records', DEFAULT_MAX_RECORDS, 1, MAX_RECORDS_LIMIT);
  const timeoutMs = integerParam(query, 'timeout_ms', DEFAULT_TIMEOUT_MS, 0, MAX_TIMEOUT_MS);
  const { topic, partition } = await partitionOf(context);
  const only = { ...topic, partitions: [partition] };
  let offset = await startOffset(context, topic, partition.partition, query);
  // A broker answers a connection's requests one at a time (as Kafka's does), so a waiting fetch
  // on the identity's shared connection would hold up its other requests: it gets its own.
  const fetcher = timeoutMs > 0 ? routes.pool.dedicatedFor(basicCredentials(context.request.headers.authorization)) : context.client;
  try {
    const deadline = Date.now() + timeoutMs;
    let consumer = new Consumer(fetcher.cluster, only, new Map([[partition.partition, offset]]));
    let records: ConsumedRecord[] = [];
    while (true) {
      try {
        records = await consumer.poll(Math.max(0, deadline - Date.now()));
      } catch (error) {
        if (!(error instanceof KafkaResponseError) || error.errorCode !== ErrorCode.OFFSET_OUT_OF_RANGE) throw error;
        const earliest = (await context.client.admin.listOffsets(only, OffsetSpec.earliest)).get(partition.partition) ?? 0;
        if (offset >= earliest) throw badRequest(error.message);
        offset = earliest;
        consumer = new Consumer(fetcher.cluster, only, new Map([[partition.partition, offset]]));
        continue;
      }
      if (records.length > 0 || Date.now() >= deadline) break;
    }
    const returned = records.slice(0, maxRecords);
    const nextOffset = returned.length < records.length ? returned.at(-1)!.offset + 1 : consumer.positions.get(partition.partition)!;
    return {
      kind: 'ConveyorRecordList',
      metadata: { self: `${topicUrl(context, topic.name)}/partitions/${partition.partition}/records?offset=${offset}` },
      cluster_id: context.clusterId,
      topic_name: topic.name,
      partition_id: partition.partition,
      data: returned.map((record) => recordJson(topic.name, partition.partition, record)),
      next_offset: nextOffset,
      log_end_offset: consumer.ends.get(partition.partition) ?? null,
    };
  } catch (error) {
    throw fetcher.explain(error);
  } finally {
    if (fetcher !== context.client) fetcher.close();
  }
}

/**
 * Server-sent events: `event: record` per record of every partition, from the end (the default)
 * or the beginning, until the HTTP client disconnects. The stream's Kafka client is its own, and
 * is closed when the client goes away or the API closes.
 */
async function streamRecords(context: RouteContext, routes: Routes, streams: OpenStreams): Promise<undefined> {
  const query = context.request.query as Query;
  const from = query.from ?? 'end';
  if (from !== 'beginning' && from !== 'end') throw badRequest(`from must be beginning or end, got '${from}'`);
  const topic = await topicOf(context);
  const starts = await context.client.admin.listOffsets(topic, from === 'beginning' ? OffsetSpec.earliest : OffsetSpec.latest);
  const own: IdentityClient = routes.pool.dedicatedFor(basicCredentials(context.request.headers.authorization));
  const consumer = new Consumer(own.cluster, topic, starts);
  const raw = context.reply.hijack().raw;
  raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  raw.write(': conveyor record stream\n\n');
  let open = true;
  const stop = () => {
    open = false;
  };
  streams.stops.add(stop);
  streams.active++;
  context.request.raw.on('close', stop);
  raw.on('close', stop);
  let lastWrite = Date.now();
  try {
    while (open) {
      const records = await consumer.poll(STREAM_POLL_MS);
      if (!open) break;
      for (const record of records) raw.write(`event: record\ndata: ${JSON.stringify(recordJson(topic.name, record.partition, record))}\n\n`);
      if (records.length > 0) lastWrite = Date.now();
      else if (Date.now() - lastWrite >= STREAM_KEEPALIVE_MS) {
        raw.write(': keepalive\n\n');
        lastWrite = Date.now();
      }
    }
  } catch (error) {
    if (open) raw.write(`event: error\ndata: ${JSON.stringify(toRestError(own.explain(error)).body)}\n\n`);
  } finally {
    streams.stops.delete(stop);
    own.close();
    streams.active--;
    raw.end();
  }
  return undefined;
}
