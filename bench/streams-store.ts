// On-demand micro benchmark of Conveyor Streams' byte stores (issue 23; not part of `npm run bench`):
// `npx tsx bench/streams-store.ts [N] [ROUNDS]` (N entries, 200,000 by default; 3 rounds, each
// measuring all three in turn, and the best of the rounds is kept for each phase, as the machine's
// other work only ever slows a round down).
//
// Each store, through its async KeyValueBytesStore API, and a plain JavaScript Map<string, value>
// (the key made a string as the in-memory store makes it, synchronous calls) as the baseline,
// measured in the same run on the same keys: put of N new keys in a scattered order, get of every
// key, put over every key again (an aggregation's get-then-put path writes existing keys), a scan
// of all entries in order (the Map: its insertion order, unsorted), and N/100 short scans of 100
// entries each (a window fetch). The LevelDB store flushes its write buffer every 10,000 entries
// as it goes, and once more at the end of each put phase, inside the timing; its gets then read
// LevelDB (getSync), its buffer being empty. Prints ops/s and the ratio to the Map baseline
// (higher is better; the baseline is the ceiling, no store reaches it).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { KeyValueBytesStore } from '../src/streams/state/bytes-store.js';
import { inMemoryBytesStoreSupplier } from '../src/streams/state/in-memory-bytes-store.js';
import { keyString } from '../src/streams/state/key-order.js';
import { levelBytesStoreSupplier } from '../src/streams/state/level-bytes-store.js';

const N = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const SHORT_SCAN = 100;

/** 12-byte keys: a 4-byte record key of 1,000 distinct values, then an 8-byte index, as a window store's key + time. */
function makeKey(i: number): Uint8Array {
  const key = new Uint8Array(12);
  const view = new DataView(key.buffer);
  view.setUint32(0, i % 1000);
  view.setBigUint64(4, BigInt(i));
  return key;
}

const order = Array.from({ length: N }, (_, i) => (i * 7919) % N);
const keys = order.map(makeKey);
const value = new Uint8Array(16).fill(7);

type Phase = 'put new' | 'get' | 'put existing' | 'full scan' | 'short scans';
const PHASES: Phase[] = ['put new', 'get', 'put existing', 'full scan', 'short scans'];

async function time(operations: number, run: () => Promise<void> | void): Promise<number> {
  const start = performance.now();
  await run();
  return operations / ((performance.now() - start) / 1000);
}

async function measureMap(): Promise<Record<Phase, number>> {
  const map = new Map<string, Uint8Array>();
  let sink = 0;
  const result = {} as Record<Phase, number>;
  result['put new'] = await time(N, () => {
    for (const key of keys) map.set(keyString(key), value.slice());
  });
  result.get = await time(N, () => {
    for (const key of keys) sink += map.get(keyString(key))!.length;
  });
  result['put existing'] = await time(N, () => {
    for (const key of keys) map.set(keyString(key), value.slice());
  });
  result['full scan'] = await time(N, () => {
    for (const [, stored] of map) sink += stored.length;
  });
  result['short scans'] = await time(N, () => {
    const iterator = map.values();
    for (let scan = 0; scan < N / SHORT_SCAN; scan++) {
      for (let i = 0; i < SHORT_SCAN; i++) sink += iterator.next().value!.length;
    }
  });
  if (sink === 0) throw new Error('nothing read');
  return result;
}

async function measureStore(store: KeyValueBytesStore): Promise<Record<Phase, number>> {
  await store.open();
  let sink = 0;
  const result = {} as Record<Phase, number>;
  result['put new'] = await time(N, async () => {
    for (const key of keys) await store.put(key, value);
    await store.flush();
  });
  result.get = await time(N, async () => {
    for (const key of keys) sink += (await store.get(key))!.length;
  });
  result['put existing'] = await time(N, async () => {
    for (const key of keys) await store.put(key, value);
    await store.flush();
  });
  result['full scan'] = await time(N, async () => {
    for await (const entry of store.range()) sink += entry.value.length;
  });
  result['short scans'] = await time(N, async () => {
    for (let scan = 0; scan < N / SHORT_SCAN; scan++) {
      const from = keys[(scan * 7) % N]!;
      let seen = 0;
      for await (const entry of store.range({ from })) {
        sink += entry.value.length;
        if (++seen === SHORT_SCAN) break;
      }
    }
  });
  if ((await store.approximateNumEntries()) !== N) throw new Error('wrong entry count');
  await store.destroy();
  if (sink === 0) throw new Error('nothing read');
  return result;
}

function best(a: Record<Phase, number>, b: Record<Phase, number>): Record<Phase, number> {
  return Object.fromEntries(PHASES.map((phase) => [phase, Math.max(a[phase], b[phase])])) as Record<Phase, number>;
}

const format = (opsPerSecond: number) => `${Math.round(opsPerSecond).toLocaleString('en-US')}/s`;

const directory = mkdtempSync(join(tmpdir(), 'conveyor-bench-store-'));
try {
  await measureMap(); // warm-up of the key conversion and the Map
  let baseline = await measureMap();
  let memory = await measureStore(inMemoryBytesStoreSupplier('bench').get(undefined));
  let level = await measureStore(levelBytesStoreSupplier('bench').get(directory));
  for (let round = 1; round < ROUNDS; round++) {
    baseline = best(baseline, await measureMap());
    memory = best(memory, await measureStore(inMemoryBytesStoreSupplier('bench').get(undefined)));
    level = best(level, await measureStore(levelBytesStoreSupplier('bench').get(directory)));
  }
  console.log(`${N.toLocaleString('en-US')} entries, 12-byte keys, 16-byte values, best of ${ROUNDS} rounds; ratio = store / Map`);
  console.log(['phase'.padEnd(14), 'Map'.padStart(14), 'in-memory'.padStart(14), 'ratio'.padStart(7), 'LevelDB'.padStart(14), 'ratio'.padStart(7)].join(' '));
  for (const phase of PHASES) {
    console.log([
      phase.padEnd(14),
      format(baseline[phase]).padStart(14),
      format(memory[phase]).padStart(14),
      (memory[phase] / baseline[phase]).toFixed(2).padStart(7),
      format(level[phase]).padStart(14),
      (level[phase] / baseline[phase]).toFixed(2).padStart(7),
    ].join(' '));
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
