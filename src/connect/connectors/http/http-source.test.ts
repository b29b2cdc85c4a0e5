// The HTTP source task on its own, against a real node:http API, with the worker's offset reader
// stood in for: the offset rules the integration test does not reach.
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { SourceRecord } from '../../api/data.js';
import { HttpSourceConnector, HttpSourceTask } from './http-source.js';

const items = [1, 2, 3, 4, 5].map((id) => ({ id, name: `n${id}` }));
const pages: Record<string, { list: unknown[]; next?: string }> = {
  '': { list: ['a', 'b'], next: 'p2' },
  p2: { list: ['c', 'd', 'e'] },
};

describe('HTTP source task: offsets and cursors', () => {
  let server: Server;
  let base: string;
  const tasks: HttpSourceTask[] = [];
  before(async () => {
    server = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://api');
      response.setHeader('Content-Type', 'application/json');
      // Inclusive, as some APIs are: since=N answers N and after.
      if (url.pathname === '/inclusive') return void response.end(JSON.stringify(items.filter((item) => item.id >= Number(url.searchParams.get('since') ?? 0)).slice(0, 2)));
      if (url.pathname === '/cursor') return void response.end(JSON.stringify(pages[url.searchParams.get('c') ?? '']));
      if (url.pathname === '/no-id') return void response.end(JSON.stringify([{ name: 'anonymous' }]));
      response.end(JSON.stringify({ status: 'ok' }));
    });
    await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const task of tasks) await task.stop();
    server.closeAllConnections();
    await new Promise((resolveClose) => server.close(resolveClose));
  });

  async function started(props: Record<string, string>, stored: Record<string, unknown> | null = null): Promise<HttpSourceTask> {
    const task = new HttpSourceTask();
    tasks.push(task);
    task.initialize({
      configs: () => props,
      offsetStorageReader: { offset: async () => stored, offsets: async () => new Map() },
      transactionContext: null,
    });
    await task.start({ topic: 't', 'http.poll.interval.ms': '50', ...props });
    return task;
  }

  /** Polls until `count` records came, then a little longer to catch any extra. */
  async function pollRecords(task: HttpSourceTask, count: number): Promise<SourceRecord[]> {
    const records: SourceRecord[] = [];
    const deadline = Date.now() + 5000;
    while (records.length < count && Date.now() < deadline) records.push(...((await task.poll()) ?? []));
    for (let extra = 0; extra < 3; extra++) records.push(...((await task.poll()) ?? []));
    return records;
  }

  it('does not repeat the record an inclusive API answers again', async () => {
    const task = await started({ 'http.url': `${base}/inclusive`, 'http.offset.field': 'id', 'http.offset.param': 'since' });
    const records = await pollRecords(task, 5);
    assert.deepEqual(records.map((record) => JSON.parse(String(record.value)).id), [1, 2, 3, 4, 5]);
    assert.deepEqual(records.map((record) => record.sourceOffset), [1, 2, 3, 4, 5].map((offset) => ({ offset })));
    assert.deepEqual(records[0]!.sourcePartition, { url: `${base}/inclusive` });
  });

  it('starts from a stored cursor, skipping what of its page was sent', async () => {
    const task = await started({ 'http.url': `${base}/cursor?c=\${offset}`, 'http.next.cursor.path': 'next', 'http.response.records.path': '$.list', 'http.value.format': 'json' }, { cursor: 'p2', skip: 1 });
    const records = await pollRecords(task, 2);
    assert.deepEqual(records.map((record) => record.value), ['d', 'e']);
    assert.deepEqual(records.map((record) => record.sourceOffset), [{ cursor: 'p2', skip: 2 }, { cursor: 'p2', skip: 3 }]);
    assert.equal(records[0]!.valueSchema, null, 'json: schemaless');
  });

  it('gives a page\'s last record the next cursor', async () => {
    const task = await started({ 'http.url': `${base}/cursor`, 'http.offset.param': 'c', 'http.next.cursor.path': '$.next', 'http.response.records.path': '$.list' });
    const records = await pollRecords(task, 5);
    assert.deepEqual(records.map((record) => record.value), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(records.map((record) => record.sourceOffset), [{ cursor: '', skip: 1 }, { cursor: 'p2', skip: 0 }, { cursor: 'p2', skip: 1 }, { cursor: 'p2', skip: 2 }, { cursor: 'p2', skip: 3 }]);
  });

  it('without an offset or cursor sends the whole answer each poll, with no offset to store', async () => {
    const task = await started({ 'http.url': `${base}/status` });
    const records = await pollRecords(task, 2);
    assert.ok(records.length >= 2);
    for (const record of records) {
      assert.equal(record.value, '{"status":"ok"}');
      assert.equal(record.sourceOffset, null);
    }
  });

  it('fails naming http.offset.field when a record has none', async () => {
    const task = await started({ 'http.url': `${base}/no-id`, 'http.offset.field': 'id', 'http.offset.param': 'since' });
    await assert.rejects(pollRecords(task, 1), /no string or number at http\.offset\.field \$\.id/);
  });

  it('runs one task whatever tasks.max says', () => {
    const connector = new HttpSourceConnector();
    connector.start({ topic: 't', 'http.url': base });
    assert.equal(connector.taskConfigs(4).length, 1);
  });
});
