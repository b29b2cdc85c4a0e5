// A read_committed reader on the raw protocol, independent of any client library: it fetches with
// isolation level 1 and drops aborted records the way Kafka clients do (the aborted-transaction
// list plus control markers), and checks the broker never hands out data at or above the LSO.
import assert from 'node:assert/strict';
import { FetchApi } from '../../src/protocol/messages/index.js';
import { ControlRecordType, decodeEndTransactionMarker } from '../../src/protocol/records/control-record.js';
import { decodeRecordBatchesSync } from '../../src/protocol/records/record-batch.js';
import type { RawClient } from './raw-client.js';

export interface CommittedRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: string;
}

export interface ReadCommittedResult {
  records: CommittedRecord[];
  lastStableOffset: number;
  highWatermark: number;
}

/** One Fetch (v11) of one partition from `fetchOffset`: 1 read_committed, 0 read_uncommitted. */
async function fetchPartition(client: RawClient, topic: string, partition: number, fetchOffset: number, isolationLevel: 0 | 1) {
  const response = await client.request(FetchApi, 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 8 * 1024 * 1024,
    isolationLevel,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{ topic, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: BigInt(fetchOffset), logStartOffset: -1n, partitionMaxBytes: 4 * 1024 * 1024 }] }],
    forgottenTopicsData: [],
    rackId: '',
  });
  const data = response.responses[0]!.partitions[0]!;
  assert.equal(data.errorCode, 0, `fetch ${topic}-${partition} at ${fetchOffset}`);
  return data;
}

/**
 * The batches of one partition from `fromOffset` to `toOffset`, read_uncommitted, one line each for
 * an anomaly report: offsets, producer id and epoch, transactional or not, a marker's type and
 * coordinator epoch, else the first and last record values.
 */
export async function describeBatches(client: RawClient, topic: string, partition: number, fromOffset: number, toOffset: number): Promise<string[]> {
  const lines: string[] = [];
  let fetchOffset = fromOffset;
  while (fetchOffset <= toOffset) {
    const bytes = (await fetchPartition(client, topic, partition, fetchOffset, 0)).records as Buffer | null;
    if (!bytes || bytes.length === 0) break;
    for (const batch of decodeRecordBatchesSync(bytes)) {
      const lastOffset = batch.baseOffset + batch.lastOffsetDelta;
      fetchOffset = lastOffset + 1;
      if (lastOffset < fromOffset) continue;
      if (batch.baseOffset > toOffset) break;
      const marker = batch.control ? decodeEndTransactionMarker(batch.records[0]!) : null;
      const what = batch.control
        ? `${marker === null ? 'control' : marker.type === ControlRecordType.abort ? 'ABORT' : 'COMMIT'} marker, coordinator epoch ${marker?.coordinatorEpoch ?? '?'}`
        : `${batch.records.length} records ${batch.records[0]?.value?.toString() ?? 'null'}..${batch.records.at(-1)?.value?.toString() ?? 'null'}`;
      lines.push(`${batch.baseOffset}-${lastOffset} producer ${batch.producerId} epoch ${batch.producerEpoch}${batch.transactional ? ' transactional' : ''} leader epoch ${batch.partitionLeaderEpoch}: ${what}`);
    }
  }
  return lines;
}

/** Every committed record of one partition up to its last stable offset. */
export async function readCommittedPartition(client: RawClient, topic: string, partition: number): Promise<ReadCommittedResult> {
  const records: CommittedRecord[] = [];
  const aborting = new Set<number>();
  let fetchOffset = 0;
  for (;;) {
    const data = await fetchPartition(client, topic, partition, fetchOffset, 1);
    const lastStableOffset = Number(data.lastStableOffset);
    // As Java's consumer: each aborted transaction is taken once, when the fetch passes its first offset.
    const aborted = (data.abortedTransactions ?? []).map((entry) => ({ producerId: Number(entry.producerId), firstOffset: Number(entry.firstOffset) })).sort((a, b) => a.firstOffset - b.firstOffset);
    const bytes = data.records as Buffer | null;
    if (!bytes || bytes.length === 0) return { records, lastStableOffset, highWatermark: Number(data.highWatermark) };
    for (const batch of decodeRecordBatchesSync(bytes)) {
      assert.ok(batch.baseOffset < lastStableOffset, `read_committed returned a batch at ${batch.baseOffset}, at or above the LSO ${lastStableOffset}`);
      while (aborted.length > 0 && aborted[0]!.firstOffset <= batch.baseOffset + batch.lastOffsetDelta) aborting.add(aborted.shift()!.producerId);
      if (batch.control) {
        const marker = decodeEndTransactionMarker(batch.records[0]!);
        if (marker !== null) aborting.delete(batch.producerId);
      } else if (!(batch.transactional && aborting.has(batch.producerId))) {
        for (const record of batch.records) {
          if (record.offset < fetchOffset) continue;
          records.push({ partition, offset: record.offset, key: record.key?.toString() ?? null, value: record.value?.toString() ?? '' });
        }
      }
      fetchOffset = batch.baseOffset + batch.lastOffsetDelta + 1;
    }
  }
}

/** Committed records of every partition, partition by partition. */
export async function readCommitted(client: RawClient, topic: string, partitions: number): Promise<CommittedRecord[]> {
  const all: CommittedRecord[] = [];
  for (let partition = 0; partition < partitions; partition += 1) all.push(...(await readCommittedPartition(client, topic, partition)).records);
  return all;
}
