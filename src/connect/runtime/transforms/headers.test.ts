import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConnectHeader, ConnectRecord } from '../../api/data.js';
import { Schemas } from '../../api/data.js';
import { DropHeaders, InsertHeader } from './headers.js';

const headers: ConnectHeader[] = [
  { key: 'a', schema: Schemas.STRING, value: '1' },
  { key: 'b', schema: null, value: null },
  { key: 'a', schema: Schemas.STRING, value: '2' },
];
const record = (over: Partial<ConnectRecord> = {}): ConnectRecord => ({
  topic: 't', kafkaPartition: 0, keySchema: null, key: null, valueSchema: null, value: 'v', timestamp: null, headers, ...over,
});

function insertHeader(literal: string): InsertHeader {
  const transform = new InsertHeader();
  transform.configure({ header: 'h', 'value.literal': literal });
  return transform;
}

describe('InsertHeader', () => {
  it('appends a header whose literal is typed as Values.parseString types it', () => {
    const out = insertHeader('hello world').apply(record());
    assert.deepEqual(out.headers.at(-1), { key: 'h', schema: Schemas.STRING, value: 'hello world' });
    assert.equal(out.headers.length, 4);
    assert.equal(headers.length, 3, 'the input headers are not changed');
    assert.deepEqual(insertHeader('42').apply(record()).headers.at(-1), { key: 'h', schema: Schemas.INT8, value: 42 });
    assert.deepEqual(insertHeader('true').apply(record()).headers.at(-1), { key: 'h', schema: Schemas.BOOLEAN, value: true });
  });

  it('needs both keys', () => {
    assert.throws(() => new InsertHeader().configure({ header: 'h' }), /Missing required configuration "value.literal"/);
  });
});

describe('DropHeaders', () => {
  it('removes every header with a listed name', () => {
    const transform = new DropHeaders();
    transform.configure({ headers: 'a,zzz' });
    assert.deepEqual(transform.apply(record()).headers, [{ key: 'b', schema: null, value: null }]);
    assert.throws(() => new DropHeaders().configure({ headers: '' }), /headers: Empty list/);
  });
});
