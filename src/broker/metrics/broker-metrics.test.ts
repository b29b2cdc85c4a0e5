import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALL_TOPICS, BrokerMetrics, countErrorCodes, LATENCY_BUCKETS_MS, LatencyHistogram, RequestTimer } from './broker-metrics.js';

test('a latency histogram puts each value in the first bucket whose bound is not below it', () => {
  const histogram = new LatencyHistogram();
  for (const value of [0, 0.1, 0.11, 7, 30000, 30001]) histogram.observe(value);
  assert.equal(histogram.buckets[0], 2, '0 and 0.1 ms (bounds are inclusive)');
  assert.equal(histogram.buckets[1], 1, '0.11 ms');
  assert.equal(histogram.buckets[LATENCY_BUCKETS_MS.indexOf(10)], 1, '7 ms');
  assert.equal(histogram.buckets[LATENCY_BUCKETS_MS.length - 1], 1, '30 s');
  assert.equal(histogram.buckets[LATENCY_BUCKETS_MS.length], 1, 'above every bound');
  assert.equal(histogram.count, 6);
  assert.equal(histogram.sum, 0 + 0.1 + 0.11 + 7 + 30000 + 30001);
});

test('a request timer records each phase once the answer is sent; overlapping remote waits count once', () => {
  const metrics = new BrokerMetrics();
  const counters = metrics.countersFor('Produce');
  let now = 100;
  const timer = new RequestTimer(counters, 9, 90, 100, () => now);
  assert.equal(timer.remoteMs, 0, 'no wait yet');
  timer.remoteStarted(); // partition 0 waits from 100
  now = 120;
  timer.remoteStarted(); // partition 1 from 120
  now = 150;
  timer.remoteEnded();
  now = 190;
  timer.remoteEnded();
  assert.equal(timer.remoteMs, 90);
  now = 195;
  timer.answered(3);
  now = 197;
  timer.sent();
  assert.equal(counters.byVersion[9], 1);
  const sums = Object.fromEntries(Object.entries(counters.phases).map(([phase, histogram]) => [phase, histogram.sum]));
  assert.deepEqual(sums, { TotalTimeMs: 107, RequestQueueTimeMs: 10, LocalTimeMs: 5, RemoteTimeMs: 90, ResponseSendTimeMs: 2, ThrottleTimeMs: 3 });
  assert.equal(metrics.countersFor('Produce'), counters, 'one set of counters per request name');
});

test('topic counters go to the topic and to the all-topics series; failures count as requests too', () => {
  const metrics = new BrokerMetrics();
  metrics.recordProduced('a', 100, 3);
  metrics.recordProduceFailed('a');
  metrics.recordFetched('a', 40, false, false);
  metrics.recordFetched('a', 60, true, false);
  metrics.recordFetched('b', 0, false, true);
  const a = metrics.topics.get('a')!;
  assert.deepEqual({ ...a }, { messagesIn: 3, bytesIn: 100, bytesOut: 40, replicationBytesOut: 60, totalProduceRequests: 2, failedProduceRequests: 1, totalFetchRequests: 2, failedFetchRequests: 0 });
  const all = metrics.topics.get(ALL_TOPICS)!;
  assert.equal(all.totalFetchRequests, 3);
  assert.equal(all.failedFetchRequests, 1);
  metrics.retainTopics((topic) => topic !== 'a');
  assert.equal(metrics.topics.has('a'), false);
  assert.equal(metrics.topics.get(ALL_TOPICS)!.bytesIn, 100, 'the all-topics series keeps what was counted');
});

test("error codes are counted at every depth of an answer, and record bytes are not looked into", () => {
  const counts = new Map<number, number>();
  const fetchAnswer = {
    throttleTimeMs: 0,
    errorCode: 0,
    responses: [
      { topic: 'a', partitions: [{ partitionIndex: 0, errorCode: 0, records: Buffer.from('errorCode') }, { partitionIndex: 1, errorCode: 6, records: null }] },
      { topic: 'b', partitions: [{ partitionIndex: 0, errorCode: 6, abortedTransactions: [{ producerId: 1n }] }] },
    ],
  };
  countErrorCodes(fetchAnswer, counts);
  assert.deepEqual([...counts].sort(), [[0, 2], [6, 2]]);
  countErrorCodes({ throttleTimeMs: 0 }, counts);
  countErrorCodes(undefined, counts);
  assert.deepEqual([...counts].sort(), [[0, 2], [6, 2]], 'an answer without error codes adds nothing');
});
