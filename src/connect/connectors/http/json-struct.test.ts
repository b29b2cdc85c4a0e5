// Schema inference for http.value.format=struct: the types, nesting, arrays, nulls and field order
// of json-struct.ts, then the HTTP source task giving such records (and keys) from a real API.
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type Schema, Schemas, Struct } from '../../api/data.js';
import { HttpSourceTask } from './http-source.js';
import { JsonStructs } from './json-struct.js';

/** A schema as plain data, for deepEqual: type, then fields or the element's, all optional. */
function describeSchema(schema: Schema): unknown {
  assert.equal(schema.optional, true, `every inferred schema is optional (${schema.type})`);
  assert.equal(schema.name, undefined, 'inferred schemas have no name');
  if (schema.type === 'struct') return Object.fromEntries(schema.fields!.map((field) => [field.name, describeSchema(field.schema)]));
  if (schema.type === 'array') return [describeSchema(schema.valueSchema!)];
  return schema.type;
}

/** A Connect value as plain data (Structs as objects in field order). */
function plain(value: unknown): unknown {
  if (value instanceof Struct) return Object.fromEntries(value.schema.fields!.map((field) => [field.name, plain(value.getWithoutDefault(field.name))]));
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

describe('JSON records as Structs with inferred schemas', () => {
  it('maps strings, integers, other numbers and booleans to optional primitives', () => {
    const { schema, value } = new JsonStructs().of({ name: 'Ada', id: 42, balance: 12.5, whole: 3.0, negative: -7, big: 2 ** 60, huge: 1e300, active: true });
    assert.deepEqual(describeSchema(schema), { name: 'string', id: 'int64', balance: 'float64', whole: 'int64', negative: 'int64', big: 'int64', huge: 'float64', active: 'boolean' });
    assert.ok(value instanceof Struct);
    assert.deepEqual(plain(value), { name: 'Ada', id: 42n, balance: 12.5, whole: 3n, negative: -7n, big: 2n ** 60n, huge: 1e300, active: true });
    assert.equal(typeof value.get('id'), 'bigint', 'int64 values are bigints, as JsonConverter writes them exactly');
    value.validate();
  });

  it('keeps the record\'s field order, not an alphabetical one', () => {
    const { schema } = new JsonStructs().of({ zeta: 1, alpha: 'a', mid: false });
    assert.deepEqual(schema.fields!.map((field) => field.name), ['zeta', 'alpha', 'mid']);
    assert.deepEqual(schema.fields!.map((field) => field.index), [0, 1, 2]);
  });

  it('makes nested objects optional structs, recursively', () => {
    const { schema, value } = new JsonStructs().of({ id: 1, owner: { name: 'x', address: { city: 'Oslo', zip: 150 } }, empty: {} });
    assert.deepEqual(describeSchema(schema), { id: 'int64', owner: { name: 'string', address: { city: 'string', zip: 'int64' } }, empty: {} });
    const owner = (value as Struct).get('owner');
    assert.ok(owner instanceof Struct);
    assert.ok(owner.get('address') instanceof Struct);
    assert.equal(owner.schema, schema.fields![1]!.schema, 'a nested Struct carries its field\'s schema');
    assert.deepEqual(plain(value), { id: 1n, owner: { name: 'x', address: { city: 'Oslo', zip: 150n } }, empty: {} });
  });

  it('makes arrays whose elements agree arrays of their schema', () => {
    const { schema, value } = new JsonStructs().of({
      tags: ['a', 'b'],
      counts: [1, 2, 3],
      mixed: [1, 2.5, 3],
      flags: [true, null, false],
      nested: [[1], [2, 3], []],
      points: [{ x: 1, y: null }, { x: 2.5, y: 'up' }, null],
      none: [],
      nulls: [null, null],
    });
    assert.deepEqual(describeSchema(schema), {
      tags: ['string'],
      counts: ['int64'],
      mixed: ['float64'],
      flags: ['boolean'],
      nested: [['int64']],
      points: [{ x: 'float64', y: 'string' }],
      none: ['string'],
      nulls: ['string'],
    });
    assert.deepEqual(plain(value), {
      tags: ['a', 'b'],
      counts: [1n, 2n, 3n],
      mixed: [1, 2.5, 3],
      flags: [true, null, false],
      nested: [[1n], [2n, 3n], []],
      points: [{ x: 1, y: null }, { x: 2.5, y: 'up' }, null],
      none: [],
      nulls: [null, null],
    });
  });

  it('gives arrays whose elements disagree as their JSON text', () => {
    const { schema, value } = new JsonStructs().of({
      kinds: [1, 'one', true],
      shapes: [{ a: 1 }, { b: 1 }],
      order: [{ a: 1, b: 2 }, { b: 2, a: 1 }],
      depth: [[1], ['x']],
      objectOrNumber: [{ a: 1 }, 2],
      ok: [1],
    });
    assert.deepEqual(describeSchema(schema), { kinds: 'string', shapes: 'string', order: 'string', depth: 'string', objectOrNumber: 'string', ok: ['int64'] });
    assert.deepEqual(plain(value), {
      kinds: '[1,"one",true]',
      shapes: '[{"a":1},{"b":1}]',
      order: '[{"a":1,"b":2},{"b":2,"a":1}]',
      depth: '[[1],["x"]]',
      objectOrNumber: '[{"a":1},2]',
      ok: [1n],
    });
  });

  it('keeps a null field as an optional string with a null value (so an upsert clears the column)', () => {
    const { schema, value } = new JsonStructs().of({ id: 7, closed_at: null, note: 'n' });
    assert.deepEqual(describeSchema(schema), { id: 'int64', closed_at: 'string', note: 'string' });
    assert.equal((value as Struct).getWithoutDefault('closed_at'), null);
    assert.deepEqual(schema.fields!.map((field) => field.name), ['id', 'closed_at', 'note']);
  });

  it('gives records of equal shape the same schema object, and different shapes different ones', () => {
    const structs = new JsonStructs();
    const first = structs.of({ id: 1, name: 'a', tags: ['x'], at: { t: 1 } });
    const second = structs.of({ id: 99, name: 'b', tags: [], at: { t: 2 } });
    assert.equal(first.schema, second.schema);
    // A fresh inference gives an equal schema (nothing depends on what came before).
    assert.deepEqual(new JsonStructs().of({ id: 5, name: 'c', tags: ['y'], at: { t: 3 } }).schema, first.schema);
    assert.notEqual(structs.of({ id: 1.5, name: 'a', tags: ['x'], at: { t: 1 } }).schema, first.schema);
    assert.notEqual(structs.of({ name: 'a', id: 1, tags: ['x'], at: { t: 1 } }).schema, first.schema, 'field order is part of the shape');
  });

  it('gives records that are not objects their own kind', () => {
    const structs = new JsonStructs();
    assert.deepEqual(structs.of('text'), { schema: Schemas.OPTIONAL_STRING, value: 'text' });
    assert.deepEqual(structs.of(12), { schema: Schemas.OPTIONAL_INT64, value: 12n });
    assert.deepEqual(structs.of(null), { schema: Schemas.OPTIONAL_STRING, value: null });
    assert.deepEqual(structs.of(undefined), { schema: Schemas.OPTIONAL_STRING, value: null });
    assert.deepEqual(describeSchema(structs.of([1, 2]).schema), ['int64']);
  });
});

describe('HTTP source task with http.value.format=struct', () => {
  let server: Server;
  let base: string;
  const tasks: HttpSourceTask[] = [];
  const events = [
    { id: 1, account: 'acc-1', balance: 10.5, active: true, profile: { name: 'Ada' } },
    { id: 2, account: 'acc-2', balance: 3, active: false, profile: { name: null } },
    { id: 3, account: 7, balance: 1.25, active: true, profile: { name: 'Bo' } },
  ];
  before(async () => {
    server = createServer((request, response) => {
      const since = Number(new URL(request.url ?? '/', 'http://api').searchParams.get('since') ?? 0);
      response.setHeader('Content-Type', 'application/json');
      response.end(JSON.stringify({ items: events.filter((event) => event.id > since) }));
    });
    await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const task of tasks) await task.stop();
    server.closeAllConnections();
    await new Promise((resolveClose) => server.close(resolveClose));
  });

  it('gives Struct values with inferred schemas and keys with the key field\'s own schema', async () => {
    const task = new HttpSourceTask();
    tasks.push(task);
    const props = {
      topic: 't', 'http.url': `${base}/events`, 'http.offset.field': 'id', 'http.offset.param': 'since',
      'http.response.records.path': '$.items', 'http.record.key.field': 'account', 'http.value.format': 'struct', 'http.poll.interval.ms': '50',
    };
    task.initialize({ configs: () => props, offsetStorageReader: { offset: async () => null, offsets: async () => new Map() }, transactionContext: null });
    await task.start(props);
    const records = [];
    const deadline = Date.now() + 5000;
    while (records.length < 3 && Date.now() < deadline) records.push(...((await task.poll()) ?? []));
    assert.equal(records.length, 3);
    assert.deepEqual(records.map((record) => [record.keySchema, record.key]), [[Schemas.OPTIONAL_STRING, 'acc-1'], [Schemas.OPTIONAL_STRING, 'acc-2'], [Schemas.OPTIONAL_INT64, 7n]]);
    assert.deepEqual(records.map((record) => describeSchema(record.valueSchema!)), [
      { id: 'int64', account: 'string', balance: 'float64', active: 'boolean', profile: { name: 'string' } },
      { id: 'int64', account: 'string', balance: 'int64', active: 'boolean', profile: { name: 'string' } },
      { id: 'int64', account: 'int64', balance: 'float64', active: 'boolean', profile: { name: 'string' } },
    ]);
    assert.deepEqual(plain(records[1]!.value), { id: 2n, account: 'acc-2', balance: 3n, active: false, profile: { name: null } });
    assert.deepEqual(records.map((record) => record.sourceOffset), [{ offset: 1 }, { offset: 2 }, { offset: 3 }], 'offsets are the API\'s own values, whatever the format');
  });

  it('refuses an unknown format naming the key', async () => {
    const task = new HttpSourceTask();
    await assert.rejects(task.start({ topic: 't', 'http.url': `${base}/events`, 'http.value.format': 'avro' }), /http\.value\.format.*string, json, struct/);
  });
});
