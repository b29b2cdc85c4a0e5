// Deterministic test records for client compatibility suites, and the checks applied to what a client
// reads back: byte equality of key, value and headers, contiguous per-partition offsets, per-key order,
// and the expected answers for ListOffsets (earliest, latest, by timestamp).
import assert from 'node:assert/strict';

export interface TestRecord {
  /** Position in produce order across the whole data set; also encoded in the value. */
  seq: number;
  key: Buffer;
  value: Buffer;
  headers: Array<[string, Buffer]>;
  /** Explicit CreateTime in ms, for clients that can set it. */
  timestamp: number;
  /** Explicit partition, for clients that can set it (kcat leaves it to its partitioner). */
  partition: number;
}

export interface ConsumedRecord {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** A null header value is kept as null: producers here never send one, so it is a mismatch. */
  headers: Array<[string, Buffer | null]>;
  timestamp: number;
}

export const PARTITIONS = 3;

/** mulberry32: a tiny seeded PRNG so every run (and every client) gets the same bytes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(random: () => number, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

export interface GenerateOptions {
  count: number;
  /** First seq number, so several codecs can split one numbering. */
  firstSeq?: number;
  /** CreateTime of seq 0; timestamps step by 10 ms so lookups can fall between two records. */
  baseTimestamp: number;
  seed?: number;
  keyCount?: number;
}

/**
 * Binary records: keys mix text with 0x00/0xff/0x80 bytes, values start with the seq (so each is
 * unique) followed by random bytes of varied length (some empty tails, some 20 KiB values that force
 * batch splits), and every record has headers with binary values, one with an empty value and a
 * non-ASCII key.
 */
export function generateRecords(options: GenerateOptions): TestRecord[] {
  const first = options.firstSeq ?? 0;
  const random = seededRandom(options.seed ?? 0xc0ffee + first);
  const keyCount = options.keyCount ?? 37;
  const records: TestRecord[] = [];
  for (let seq = first; seq < first + options.count; seq++) {
    const keyIndex = seq % keyCount;
    const key = Buffer.concat([Buffer.from(`key-${keyIndex}-`), Buffer.from([0x00, 0xff, keyIndex & 0xff, 0x80])]);
    const tailLength = seq % 997 === 0 ? 20_000 : Math.floor(random() * 200);
    const seqBytes = Buffer.alloc(4);
    seqBytes.writeUInt32BE(seq);
    const value = Buffer.concat([seqBytes, randomBytes(random, tailLength)]);
    const headers: Array<[string, Buffer]> = [
      ['seq', Buffer.from(String(seq))],
      ['bin', randomBytes(random, Math.floor(random() * 16))],
      ['ключ', seq % 5 === 0 ? Buffer.alloc(0) : Buffer.from('значение ✓')],
    ];
    records.push({ seq, key, value, headers, timestamp: options.baseTimestamp + seq * 10, partition: keyIndex % PARTITIONS });
  }
  return records;
}

/**
 * Text records for line-oriented clients (kcat): no separator, tab or newline, but multi-byte UTF-8,
 * quotes and backslashes so a JSON or escaping mistake shows up as a byte mismatch.
 */
export function generateTextRecords(options: GenerateOptions): TestRecord[] {
  const first = options.firstSeq ?? 0;
  const random = seededRandom(options.seed ?? 0xbeef + first);
  const keyCount = options.keyCount ?? 37;
  const alphabet = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_.,;:!?"\\/{}[]()<>=+*&%$#@~^`\'', 'é', 'ß', 'ж', '中', '✓', '😀'];
  const records: TestRecord[] = [];
  for (let seq = first; seq < first + options.count; seq++) {
    const keyIndex = seq % keyCount;
    const key = Buffer.from(`key-${keyIndex}-é"\\`);
    const tailLength = seq % 997 === 0 ? 5_000 : Math.floor(random() * 120);
    let tail = '';
    for (let i = 0; i < tailLength; i++) tail += alphabet[Math.floor(random() * alphabet.length)];
    const value = Buffer.from(`v${seq}:${tail}`);
    records.push({ seq, key, value, headers: [], timestamp: options.baseTimestamp + seq * 10, partition: -1 });
  }
  return records;
}

export interface VerifyOptions {
  /** Check each record landed in TestRecord.partition (false for clients that pick partitions). */
  checkPartition: boolean;
  /** Check each record kept TestRecord.timestamp (false when the client cannot set it). */
  checkTimestamp: boolean;
  /** Headers every record should carry instead of TestRecord.headers (kcat's -H applies to all). */
  headersOverride?: Array<[string, Buffer]>;
  /** Number of partitions the topic has. */
  partitions?: number;
}

export interface PartitionSummary {
  count: number;
  /** [offset, timestamp] in offset order. */
  entries: Array<[number, number]>;
}

function describe(buffer: Buffer | null): string {
  if (buffer === null) return 'null';
  const hex = buffer.subarray(0, 24).toString('hex');
  return `${buffer.length}B ${hex}${buffer.length > 24 ? '…' : ''}`;
}

function sameHeaders(actual: Array<[string, Buffer | null]>, expected: Array<[string, Buffer]>): boolean {
  if (actual.length !== expected.length) return false;
  return actual.every(([k, v], i) => k === expected[i]![0] && v !== null && v.equals(expected[i]![1]));
}

/**
 * Checks `consumed` holds exactly `expected` with equal bytes, each partition's offsets run 0..n-1
 * in consumed order, and each key's records appear in produce order. Returns per-partition
 * summaries for the ListOffsets checks. Reports at most a few mismatches, so a failure stays
 * readable instead of diffing 10,000 records.
 */
export function verifyConsumed(expected: TestRecord[], consumed: ConsumedRecord[], options: VerifyOptions): PartitionSummary[] {
  const partitions = options.partitions ?? PARTITIONS;
  const problems: string[] = [];
  const problem = (text: string) => {
    if (problems.length < 15) problems.push(text);
  };
  const byValue = new Map<string, TestRecord>();
  for (const record of expected) byValue.set(record.value.toString('latin1'), record);

  const summaries: PartitionSummary[] = Array.from({ length: partitions }, () => ({ count: 0, entries: [] }));
  const seen = new Set<number>();
  const lastSeqByKey = new Map<string, { seq: number; partition: number }>();
  for (const record of consumed) {
    const where = `partition ${record.partition} offset ${record.offset}`;
    const summary = summaries[record.partition];
    if (summary === undefined) {
      problem(`${where}: partition out of range`);
      continue;
    }
    // Offsets must be contiguous from 0 in consumed order: no gaps, duplicates or reordering.
    if (record.offset !== summary.count) problem(`${where}: expected offset ${summary.count} next in this partition`);
    summary.count++;
    summary.entries.push([record.offset, record.timestamp]);

    const match = record.value === null ? undefined : byValue.get(record.value.toString('latin1'));
    if (match === undefined) {
      problem(`${where}: value ${describe(record.value)} matches no produced record`);
      continue;
    }
    if (seen.has(match.seq)) problem(`${where}: seq ${match.seq} consumed twice`);
    seen.add(match.seq);
    if (record.key === null || !record.key.equals(match.key)) problem(`${where} seq ${match.seq}: key ${describe(record.key)}, expected ${describe(match.key)}`);
    const headers = options.headersOverride ?? match.headers;
    if (!sameHeaders(record.headers, headers)) {
      const show = (h: Array<[string, Buffer | null]>) => JSON.stringify(h.map(([k, v]) => [k, v === null ? null : v.toString('hex')]));
      problem(`${where} seq ${match.seq}: headers ${show(record.headers)}, expected ${show(headers)}`);
    }
    if (options.checkPartition && record.partition !== match.partition) problem(`${where} seq ${match.seq}: expected partition ${match.partition}`);
    if (options.checkTimestamp && record.timestamp !== match.timestamp) problem(`${where} seq ${match.seq}: timestamp ${record.timestamp}, expected ${match.timestamp}`);
    // Records of one key must come back in produce order, and from a single partition.
    const keyId = match.key.toString('latin1');
    const last = lastSeqByKey.get(keyId);
    if (last !== undefined && last.partition !== record.partition) problem(`${where} seq ${match.seq}: key also seen in partition ${last.partition}`);
    if (last !== undefined && last.partition === record.partition && last.seq > match.seq) problem(`${where}: seq ${match.seq} of its key after seq ${last.seq}`);
    lastSeqByKey.set(keyId, { seq: match.seq, partition: record.partition });
  }
  if (seen.size !== expected.length) {
    const missing = expected.filter((r) => !seen.has(r.seq)).slice(0, 5).map((r) => r.seq);
    problem(`consumed ${seen.size} distinct of ${expected.length} produced records (${consumed.length} in total); missing seq e.g. ${missing.join(', ')}`);
  }
  if (problems.length > 0) assert.fail(`consumed records differ from produced:\n  ${problems.join('\n  ')}`);
  return summaries;
}

/** Sorts records by partition then offset (clients interleave partitions arbitrarily). */
export function sortByPartitionOffset(records: ConsumedRecord[]): ConsumedRecord[] {
  // A stable sort keeps the consumed order within a partition, so verifyConsumed still sees a
  // client that returned a partition's records out of order.
  return [...records].sort((a, b) => a.partition - b.partition);
}

export interface TimestampQuery {
  partition: number;
  timestamp: number;
  /** First offset whose timestamp is >= `timestamp`. */
  expectedOffset: number;
}

/**
 * Lookups for ListOffsets by timestamp, six per non-empty partition: at a quarter, half and three
 * quarters of the partition, a timestamp equal to that record's and one just below it (between two
 * records when timestamps are spaced). Each must return the first offset with timestamp >= the
 * query. Several points make it unlikely that every one falls on a batch boundary, where a broker
 * answering with batch base offsets would pass by luck.
 */
export function timestampQueries(summaries: PartitionSummary[]): TimestampQuery[] {
  const queries: TimestampQuery[] = [];
  summaries.forEach((summary, partition) => {
    if (summary.entries.length === 0) return;
    for (const fraction of [0.25, 0.5, 0.75]) {
      const target = summary.entries[Math.floor(summary.entries.length * fraction)]!;
      for (const timestamp of [target[1], target[1] - 5]) {
        const first = summary.entries.find(([, ts]) => ts >= timestamp);
        queries.push({ partition, timestamp, expectedOffset: first![0] });
      }
    }
  });
  return queries;
}

/** Serialises records for the Python drivers (bytes as base64). */
export function recordsToJson(records: TestRecord[]): unknown[] {
  return records.map((r) => ({
    key: r.key.toString('base64'),
    value: r.value.toString('base64'),
    headers: r.headers.map(([k, v]) => [k, v.toString('base64')]),
    timestamp: r.timestamp,
    partition: r.partition,
  }));
}

export interface JsonConsumedRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string | null]> | null;
  timestamp: number;
}

/** Parses records printed by the Python drivers (bytes as base64). */
export function recordsFromJson(records: JsonConsumedRecord[]): ConsumedRecord[] {
  return records.map((r) => ({
    partition: r.partition,
    offset: r.offset,
    key: r.key === null ? null : Buffer.from(r.key, 'base64'),
    value: r.value === null ? null : Buffer.from(r.value, 'base64'),
    headers: (r.headers ?? []).map(([k, v]) => [k, v === null ? null : Buffer.from(v, 'base64')] as [string, Buffer | null]),
    timestamp: r.timestamp,
  }));
}
