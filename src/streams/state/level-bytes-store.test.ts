import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bytesStoreContract } from './bytes-store.contract.js';
import { LevelBytesStore, levelBytesStoreSupplier } from './level-bytes-store.js';

const exists = (path: string) => stat(path).then(() => true, () => false);

async function fixtureFor(options: { maxBufferEntries?: number }) {
  const directory = await mkdtemp(join(tmpdir(), 'conveyor-level-store-'));
  const supplier = levelBytesStoreSupplier('counts', options);
  return {
    store: () => supplier.get(directory),
    dataExists: () => exists(join(directory, 'rocksdb', 'counts')),
    exactCount: true,
    cleanup: () => rm(directory, { recursive: true, force: true }),
  };
}

bytesStoreContract('LevelDB', () => fixtureFor({}));
// A buffer of 7 entries flushes on most writes: the merge of buffer and disk at every state.
bytesStoreContract('LevelDB, tiny write buffer', () => fixtureFor({ maxBufferEntries: 7 }));

const bytes = (...values: number[]) => new Uint8Array(values);
const hex = (key: Uint8Array) => Buffer.from(key).toString('hex');

async function contents(store: LevelBytesStore): Promise<string[]> {
  const entries: string[] = [];
  for await (const entry of store.range()) entries.push(`${hex(entry.key)}=${hex(entry.value)}`);
  return entries;
}

/** Runs `script` (ESM TypeScript) in a child node process with tsx, and resolves with its exit signal or code. */
function runChild(script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(signal ?? String(code)));
  });
}

describe('LevelBytesStore', () => {
  it('lives in <task directory>/rocksdb/<name>, Kafka Streams\' layout', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'conveyor-level-store-'));
    try {
      const store = levelBytesStoreSupplier('word-counts').get(join(directory, '0_1'));
      assert.ok(store instanceof LevelBytesStore);
      assert.equal(store.location, join(directory, '0_1', 'rocksdb', 'word-counts'));
      await store.open();
      await store.put(bytes(1), bytes(2));
      await store.close();
      assert.ok(await exists(join(directory, '0_1', 'rocksdb', 'word-counts', 'CURRENT')));
      assert.throws(() => levelBytesStoreSupplier('word-counts').get(undefined), /state directory/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  /** Runs `body` (statements using `store`, a LevelBytesStore at `location`) in a child process that then kills itself. */
  async function crashAfter(location: string, options: string, body: string): Promise<void> {
    const module = new URL('./level-bytes-store.ts', import.meta.url).href;
    const signal = await runChild(`
      const { LevelBytesStore } = await import(${JSON.stringify(module)});
      const store = new LevelBytesStore('counts', ${JSON.stringify(location)}, ${options});
      await store.open();
      ${body}
      process.kill(process.pid, 'SIGKILL');
    `);
    assert.equal(signal, 'SIGKILL');
  }

  async function reopened(location: string, check: (store: LevelBytesStore) => Promise<void>): Promise<void> {
    const store = new LevelBytesStore('counts', location);
    await store.open();
    try {
      await check(store);
    } finally {
      await store.close();
    }
  }

  it('after a crash (SIGKILL), a reopened store holds exactly what was flushed', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'conveyor-level-store-'));
    try {
      const location = join(directory, 'rocksdb', 'counts');
      await crashAfter(location, '{}', `
        for (let i = 0; i < 100; i++) await store.put(new Uint8Array([i]), new Uint8Array([1]));
        await store.flush();
        await store.put(new Uint8Array([1]), new Uint8Array([2]));
        await store.delete(new Uint8Array([2]));
        await store.put(new Uint8Array([200]), new Uint8Array([2]));
        await store.flush();
        for (let i = 0; i < 100; i++) await store.put(new Uint8Array([i]), new Uint8Array([3]));
        await store.delete(new Uint8Array([200]));
      `);
      await reopened(location, async (store) => {
        const expected = [...Array.from({ length: 100 }, (_, i) => i).filter((i) => i !== 2).map((i) => `${hex(bytes(i))}=${i === 1 ? '02' : '01'}`), 'c8=02'];
        assert.deepEqual(await contents(store), expected);
        assert.equal(await store.approximateNumEntries(), 100);
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('flushes by itself when the buffer reaches its entry limit', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'conveyor-level-store-'));
    try {
      const location = join(directory, 'rocksdb', 'counts');
      await crashAfter(location, '{ maxBufferEntries: 10 }', `
        for (let i = 0; i < 25; i++) await store.put(new Uint8Array([i]), new Uint8Array([i]));
      `);
      await reopened(location, async (store) => {
        assert.deepEqual(await contents(store), Array.from({ length: 20 }, (_, i) => `${hex(bytes(i))}=${hex(bytes(i))}`));
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('a scan honours writes made ahead of it to keys only on disk', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'conveyor-level-store-'));
    try {
      const store = new LevelBytesStore('counts', join(directory, 'rocksdb', 'counts'));
      await store.open();
      for (const i of [1, 2, 3, 4]) await store.put(bytes(i), bytes(i));
      await store.flush();
      await store.put(bytes(0), bytes(0));
      const seen: string[] = [];
      for await (const entry of store.range()) {
        seen.push(`${hex(entry.key)}=${hex(entry.value)}`);
        if (entry.key[0] === 0) {
          await store.delete(bytes(2));
          await store.put(bytes(3), bytes(33));
        }
      }
      assert.deepEqual(seen, ['00=00', '01=01', '03=21', '04=04']);
      await store.close();
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('a failed flush keeps the buffer, and the next flush writes it', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'conveyor-level-store-'));
    try {
      const location = join(directory, 'rocksdb', 'counts');
      const store = new LevelBytesStore('counts', location);
      await store.open();
      await store.put(bytes(1), bytes(1));
      const db = (store as unknown as { db: { batch: () => unknown } }).db;
      const batch = db.batch.bind(db);
      db.batch = () => {
        db.batch = batch;
        throw new Error('disk full');
      };
      await assert.rejects(store.flush(), /disk full/);
      assert.deepEqual(await store.get(bytes(1)), bytes(1));
      await store.put(bytes(2), bytes(2));
      await store.flush(); // rejects if the failure had jammed the chain of flushes
      await store.close();
      await reopened(location, async (again) => {
        assert.deepEqual(await contents(again), ['01=01', '02=02']);
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });
});
