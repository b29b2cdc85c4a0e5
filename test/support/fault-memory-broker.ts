// An in-process broker for disk-fault tests, on a MemoryFileSystem (or any file-system port): real
// TCP on port 0, real clock, log lines captured for assertions, and a power cut that stops the
// "process" from touching the disk, drops every unsynced write and shuts the broker down, ready to
// start again on what is left. Also the prefix check of what survives a fault: the records a
// partition serves afterwards, compared byte for byte with what was written before it.
import { crc32c } from '../../src/base/crc32c.js';
import type { FileSystem } from '../../src/base/file-system.js';
import type { LogLevelName } from '../../src/base/logger.js';
import { createLogger } from '../../src/base/logger.js';
import { MemoryFileSystem, type PowerLossReport } from '../../src/base/memory-file-system.js';
import { Broker } from '../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../src/broker/broker-config.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { systemClock, systemRandom } from '../../src/node/system.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { FetchApi } from '../../src/protocol/messages/index.js';
import { BatchField, CRC_START, isControlBatch } from '../../src/protocol/records/batch-header.js';
import type { RecordHeader } from '../../src/protocol/records/record.js';
import { decodeRecordBatchSync, recordBatchSpans } from '../../src/protocol/records/record-batch.js';
import { withTimeout } from '../../src/testing/workload.js';

export const MEMORY_DATA_DIR = '/data';

export interface CapturedLine {
  level: Exclude<LogLevelName, 'silent'>;
  line: string;
}

export class FaultBroker<Fs extends FileSystem = FileSystem> {
  readonly lines: CapturedLine[] = [];
  private current: Broker | undefined;

  constructor(
    readonly fs: Fs,
    private readonly config: Record<string, string>,
    readonly dataDir = MEMORY_DATA_DIR,
    private readonly level: LogLevelName = 'info',
  ) {}

  get broker(): Broker {
    if (!this.current) throw new Error('the broker is not running');
    return this.current;
  }

  get address(): string {
    const endpoint = this.broker.endpoints[0]!;
    return `${endpoint.host}:${endpoint.port}`;
  }

  async start(): Promise<void> {
    const input = new Map<string, string>([
      ['listeners', 'PLAINTEXT://localhost:0'],
      ['log.dirs', this.dataDir],
      ...Object.entries(this.config),
    ]);
    const logger = createLogger((level, line) => this.lines.push({ level, line }), this.level);
    this.current = await Broker.start({ config: resolveBrokerConfig(input), fs: this.fs, clock: systemClock, random: systemRandom, logger });
  }

  async stop(): Promise<void> {
    const broker = this.current;
    this.current = undefined;
    await broker?.close();
  }

  /**
   * A power cut: from this instant the broker can read or write nothing (every file operation
   * fails with EIO), writes not yet fsynced are gone, and the broker is shut down, failing as it
   * may; then the disk comes back for the next start. The cut happens synchronously, in the call
   * (before its first await), so state read just before the call is state at the cut.
   * `tamper` damages what survived on purpose, to show that the checks of a test catch it.
   */
  async powerLoss(this: FaultBroker<MemoryFileSystem>, options: { tamper?: PowerLossTamper } = {}): Promise<PowerCut> {
    const written = this.fs.snapshotFiles(this.dataDir);
    this.fs.setFaultInjector(() => 'EIO');
    const report = this.fs.simulatePowerLoss();
    const tampered = options.tamper === undefined ? undefined : tamperWithSegments(this.fs, this.dataDir, options.tamper);
    const broker = this.current;
    this.current = undefined;
    await withTimeout(broker?.close() ?? Promise.resolve(), 15_000, 'closing the broker after a power loss').catch(() => {});
    this.fs.setFaultInjector(undefined);
    return { written, report, ...(tampered !== undefined ? { tampered } : {}) };
  }

  logged(pattern: RegExp): CapturedLine[] {
    return this.lines.filter((entry) => pattern.test(entry.line));
  }

  /** Every captured line, for failure messages. */
  get logText(): string {
    return this.lines.map((entry) => `${entry.level} ${entry.line}`).join('\n');
  }
}

export type MemoryBroker = FaultBroker<MemoryFileSystem>;

export async function startMemoryBroker(config: Record<string, string> = {}, fs = new MemoryFileSystem()): Promise<MemoryBroker> {
  const broker = new FaultBroker(fs, config);
  await broker.start();
  return broker;
}

/** What a power cut saw and did. */
export interface PowerCut {
  /** Every file under the data dir as written (the page cache) at the instant of the cut. */
  written: Map<string, Buffer>;
  report: PowerLossReport;
  /** What a `tamper` option damaged, if it found something to damage. */
  tampered?: string;
}

/**
 * Test-only damage after a power loss, in the first partition segment (not the metadata log) that
 * allows it: remove the second of three or more batches (a hole), or change one byte of the last
 * record's value in the first batch and fix the CRC (a record that survives but differs).
 */
export type PowerLossTamper = 'drop-middle-batch' | 'flip-surviving-record';

function tamperWithSegments(fs: MemoryFileSystem, dataDir: string, tamper: PowerLossTamper): string | undefined {
  const segments = [...fs.snapshotFiles(dataDir)].filter(([path]) => path.endsWith('.log') && !path.includes('__')).sort(([a], [b]) => a.localeCompare(b));
  for (const [path, bytes] of segments) {
    const spans = [...recordBatchSpans(bytes)];
    if (tamper === 'drop-middle-batch' && spans.length >= 3) {
      const middle = spans[1]!;
      fs.tamperFile(path, Buffer.concat([bytes.subarray(0, middle.position), bytes.subarray(middle.position + middle.sizeInBytes)]));
      return `${path}: removed the batch at byte ${middle.position}`;
    }
    if (tamper === 'flip-surviving-record' && spans.length >= 1) {
      const first = spans[0]!;
      const end = first.position + first.sizeInBytes;
      const copy = Buffer.from(bytes);
      // The last record ends with its value and a one-byte header count (0): end - 2 is a value byte.
      copy[end - 2] = copy[end - 2]! ^ 0x01;
      copy.writeUInt32BE(crc32c(copy, first.position + CRC_START, end), first.position + BatchField.crc);
      fs.tamperFile(path, copy);
      return `${path}: changed byte ${end - 2} and fixed the CRC`;
    }
  }
  return undefined;
}

// ---- What survives: records as written and as served, and the prefix check -------------------

/** One record as stored: its offset and every byte a consumer gets. */
export interface StoredRecord {
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

/** The records of the batches in `bytes` (control batches skipped), from offset `from` on. */
export function recordsOfBatches(bytes: Buffer, from = 0): StoredRecord[] {
  const records: StoredRecord[] = [];
  for (const span of recordBatchSpans(bytes)) {
    if (isControlBatch(bytes, span.position)) continue;
    for (const record of decodeRecordBatchSync(bytes, span.position).records) {
      if (record.offset >= from) records.push({ offset: record.offset, timestamp: record.timestamp, key: record.key, value: record.value, headers: record.headers });
    }
  }
  return records;
}

/** The records in a partition directory's segment files (`files`: path to content), in offset order. */
export function recordsInSegments(files: ReadonlyMap<string, Buffer>, partitionDir: string): StoredRecord[] {
  const segments = [...files]
    .filter(([path]) => path.startsWith(`${partitionDir}/`) && /\/\d{20}\.log$/.test(path))
    .sort(([a], [b]) => a.localeCompare(b));
  return segments.flatMap(([, bytes]) => recordsOfBatches(bytes));
}

/** Fetches a partition from `from` to its high watermark; a fetch error ends the read and is returned. */
export async function fetchAllRecords(address: string, topic: string, partition: number, from = 0): Promise<{ records: StoredRecord[]; errorCode: number; highWatermark: number }> {
  const connection = await KafkaConnection.open(connectTcp, address, 'prefix-reader');
  const records: StoredRecord[] = [];
  let offset = from;
  try {
    for (;;) {
      const response = await withTimeout(
        connection.send(FetchApi, 12, {
          replicaId: -1,
          maxWaitMs: 0,
          minBytes: 0,
          maxBytes: 8 * 1024 * 1024,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(offset), lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1024 * 1024 }] }],
          forgottenTopicsData: [],
          rackId: '',
        }),
        15_000,
        `fetch ${topic}-${partition}@${offset}`,
      );
      const data = response.responses[0]?.partitions[0];
      if (!data) throw new Error(`fetch ${topic}-${partition}: empty response`);
      const highWatermark = Number(data.highWatermark);
      if (data.errorCode !== 0) return { records, errorCode: data.errorCode, highWatermark };
      const bytes = (data.records as Buffer | null) ?? Buffer.alloc(0);
      let next = offset;
      for (const span of recordBatchSpans(bytes)) {
        const batch = decodeRecordBatchSync(bytes, span.position);
        next = Math.max(next, batch.baseOffset + batch.lastOffsetDelta + 1);
      }
      records.push(...recordsOfBatches(bytes, offset));
      if (next === offset || next >= highWatermark) return { records, errorCode: 0, highWatermark };
      offset = next;
    }
  } finally {
    connection.close();
  }
}

function sameBytes(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

function sameRecord(a: StoredRecord, b: StoredRecord): boolean {
  return (
    a.offset === b.offset &&
    a.timestamp === b.timestamp &&
    sameBytes(a.key, b.key) &&
    sameBytes(a.value, b.value) &&
    a.headers.length === b.headers.length &&
    a.headers.every((header, index) => header.key === b.headers[index]!.key && sameBytes(header.value, b.headers[index]!.value))
  );
}

function describeRecord(record: StoredRecord | undefined): string {
  if (record === undefined) return 'nothing';
  const value = record.value === null ? 'null' : JSON.stringify(record.value.toString('latin1').slice(0, 40));
  return `offset ${record.offset} value ${value}`;
}

/** Where two records at the same offset differ, for a failure message. */
function firstDifference(expected: StoredRecord, actual: StoredRecord): string {
  if (expected.offset !== actual.offset) return '';
  for (const field of ['key', 'value'] as const) {
    const a = expected[field] ?? Buffer.alloc(0);
    const b = actual[field] ?? Buffer.alloc(0);
    if (a.equals(b)) continue;
    let at = 0;
    while (at < a.length && at < b.length && a[at] === b[at]) at += 1;
    return ` (${field} differs at byte ${at} of ${a.length}: ${a[at]} written, ${b[at]} survived)`;
  }
  return expected.timestamp !== actual.timestamp ? ` (timestamp ${expected.timestamp} written, ${actual.timestamp} survived)` : ' (headers differ)';
}

/**
 * Why `survived` is not exactly a prefix of `written` (both in offset order), or [] if it is:
 * the i-th surviving record must be the i-th written one (same offset, same bytes), so nothing
 * survives that was never written, nothing is reordered or duplicated, and there is no hole (if
 * offset n survives, every offset below it that was written survives). Every written record
 * below `mustSurviveBelow` (acknowledged and flushed) must survive.
 */
export function prefixViolations(written: readonly StoredRecord[], survived: readonly StoredRecord[], mustSurviveBelow = 0): string[] {
  const problems: string[] = [];
  for (let index = 0; index < survived.length && problems.length < 5; index += 1) {
    const expected = written[index];
    const actual = survived[index]!;
    if (expected === undefined) problems.push(`survived ${describeRecord(actual)}, beyond the ${written.length} records written`);
    else if (!sameRecord(expected, actual)) problems.push(`record ${index}: survived ${describeRecord(actual)} where ${describeRecord(expected)} was written${firstDifference(expected, actual)}`);
  }
  const required = written.filter((record) => record.offset < mustSurviveBelow).length;
  if (survived.length < required) {
    problems.push(`${required - survived.length} records below offset ${mustSurviveBelow} (acknowledged and flushed) are gone: the survivors end after ${describeRecord(survived.at(-1))}`);
  }
  return problems;
}
