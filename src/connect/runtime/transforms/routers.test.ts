import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectConfigException } from '../../api/config.js';
import type { SinkRecord } from '../../api/data.js';
import { RegexRouter, TimestampRouter } from './routers.js';

const sink = (over: Partial<SinkRecord> = {}): SinkRecord => ({
  topic: 'orders-eu', kafkaPartition: 1, keySchema: null, key: null, valueSchema: null, value: null, timestamp: Date.UTC(2024, 1, 29, 13, 5, 9, 7), headers: [],
  kafkaOffset: 5, timestampType: 'CreateTime', originalTopic: 'orders-eu', originalKafkaPartition: 1, originalKafkaOffset: 5, ...over,
});

function regexRouter(regex: string, replacement: string): RegexRouter {
  const router = new RegexRouter();
  router.configure({ regex, replacement });
  return router;
}

function timestampRouter(props: Record<string, string> = {}): TimestampRouter {
  const router = new TimestampRouter();
  router.configure(props);
  return router;
}

describe('RegexRouter', () => {
  it('renames a topic the whole regex matches, with Java group references', () => {
    const out = regexRouter('(\\w+)-(eu|us)', '$2.$1');
    const routed = out.apply(sink());
    assert.equal(routed.topic, 'eu.orders');
    assert.equal(routed.kafkaOffset, 5, 'the rest of the record is kept');
    assert.equal(regexRouter('(?<name>\\w+)-eu', 'x-${name}-\\$').apply(sink()).topic, 'x-orders-$');
    assert.equal(regexRouter('orders', 'x').apply(sink()).topic, 'orders-eu', 'a partial match does not route');
    assert.equal(regexRouter('(?i)ORDERS-.*', 'all').apply(sink()).topic, 'all');
  });

  it('refuses a regex that does not compile; a bad replacement fails the record as in Java', () => {
    assert.throws(() => regexRouter('(', 'x'), (error: Error) => error instanceof ConnectConfigException && error.key === 'regex' && /Invalid regex/.test(error.message));
    assert.throws(() => regexRouter('.*', '$2').apply(sink()), /No group 2/);
    assert.throws(() => new RegexRouter().configure({ regex: 'a' }), /Missing required configuration "replacement"/);
  });
});

describe('TimestampRouter', () => {
  it('formats topic and timestamp into the topic, UTC', () => {
    assert.equal(timestampRouter().apply(sink()).topic, 'orders-eu-20240229');
    const custom = timestampRouter({ 'topic.format': '${timestamp}/${topic}/${topic}', 'timestamp.format': "yyyy-MM-dd'T'HH:mm:ss.SSS" });
    assert.equal(custom.apply(sink()).topic, '2024-02-29T13:05:09.007/orders-eu/orders-eu');
  });

  it('fails a record without a timestamp, and refuses a bad pattern', () => {
    assert.throws(() => timestampRouter().apply(sink({ timestamp: null })), /Timestamp missing on record/);
    assert.throws(() => timestampRouter({ 'timestamp.format': 'yyyyqq' }), /Illegal pattern character 'q'/);
  });
});
