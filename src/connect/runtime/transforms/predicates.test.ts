import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectRecord } from '../../api/data.js';
import { HasHeaderKey, RecordIsTombstone, TopicNameMatches } from './predicates.js';

const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 'orders-eu', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: 'v', timestamp: null, headers: [], ...over,
});

describe('predicates', () => {
  it('TopicNameMatches matches the whole topic name', () => {
    const predicate = new TopicNameMatches();
    predicate.configure({ pattern: 'orders-.*' });
    assert.equal(predicate.test(record()), true);
    assert.equal(predicate.test(record({ topic: 'x-orders-eu' })), false);
    predicate.configure({ pattern: 'orders' });
    assert.equal(predicate.test(record()), false, 'a partial match is no match');
    assert.throws(() => predicate.configure({ pattern: '' }), /pattern: String must be non-empty/);
    assert.throws(() => predicate.configure({ pattern: '[' }), /Invalid value \[ for configuration pattern: Invalid regex/);
  });

  it('HasHeaderKey looks for a header name', () => {
    const predicate = new HasHeaderKey();
    predicate.configure({ name: 'trace' });
    assert.equal(predicate.test(record({ headers: [{ key: 'trace', schema: null, value: null }] })), true);
    assert.equal(predicate.test(record()), false);
    assert.throws(() => new HasHeaderKey().configure({}), /Missing required configuration "name"/);
  });

  it('RecordIsTombstone holds for a null value', () => {
    const predicate = new RecordIsTombstone();
    predicate.configure({});
    assert.equal(predicate.test(record({ value: null })), true);
    assert.equal(predicate.test(record()), false);
  });
});
