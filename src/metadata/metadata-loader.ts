// The loader between the quorum and the image (DESIGN.md seam 3): it takes committed batches of
// __cluster_metadata in log order, decodes Kafka's metadata records (control batches, such as a
// new leader's LeaderChange, carry none), applies them to the image, and returns them so the
// publisher can hand each broker component its part of the change.
import { decodeRecordBatchesSync } from '../protocol/records/record-batch.js';
import type { MetadataImage } from './metadata-image.js';
import type { AppendedRecord, MetadataRecord } from './metadata-record.js';
import { deserializeMetadataRecord } from './metadata-record-serde.js';

export interface LoadedBatches {
  readonly records: MetadataRecord[];
  /** The offset after the last batch applied. */
  readonly nextOffset: number;
  /** The bytes of the batches applied (what counts toward the next snapshot). */
  readonly bytes: number;
}

export class MetadataLoader {
  #nextOffset = 0;
  #lastChangeOffset = -1;
  /** Each broker's last registration change (registered, fenced, unfenced, directories): its batch's last offset. */
  readonly #registrationChangeOffsets = new Map<number, number>();
  /** The last offset a snapshot covered: a registration change in it is somewhere at or below. */
  #snapshotOffset = -1;

  constructor(private readonly image: MetadataImage) {}

  /** The offset of the next record to apply (everything below it is in the image). */
  get nextOffset(): number {
    return this.#nextOffset;
  }

  /**
   * The offset of the last record applied that changed the image (-1: none): NoOpRecords and
   * control batches leave it; a snapshot counts as a change at its last offset.
   */
  get lastChangeOffset(): number {
    return this.#lastChangeOffset;
  }

  /**
   * The last offset of the last batch applied that changed `brokerId`'s registration
   * (RegisterBroker, FenceBroker, UnfenceBroker, BrokerRegistrationChange), or of the last snapshot
   * loaded if none came after it (-1: none). The leadership moves a fencing or an unfencing makes
   * are in its batch, so a broker whose metadata has reached this offset knows whether it was
   * fenced and what that moved.
   */
  registrationChangeOffset(brokerId: number): number {
    return this.#registrationChangeOffsets.get(brokerId) ?? this.#snapshotOffset;
  }

  /**
   * Applies the whole batches in `bytes` that end below `endOffset` (the high watermark), skipping
   * records below the next offset (already applied). Batches must follow on from what was applied.
   */
  apply(bytes: Buffer, endOffset: number): LoadedBatches {
    const records: MetadataRecord[] = [];
    let applied = 0;
    for (const batch of decodeRecordBatchesSync(bytes)) {
      const lastOffset = batch.baseOffset + batch.lastOffsetDelta;
      if (lastOffset >= endOffset) break;
      if (lastOffset < this.#nextOffset) continue;
      applied += batch.sizeInBytes;
      if (!batch.control) {
        for (const record of batch.records) {
          if (record.offset < this.#nextOffset || !record.value) continue;
          const decoded = deserializeMetadataRecord(record.value);
          if (decoded === null) continue;
          this.image.apply(decoded);
          this.#lastChangeOffset = record.offset;
          if (changesRegistration(decoded)) this.#registrationChangeOffsets.set(decoded.brokerId, lastOffset);
          records.push(decoded);
        }
      }
      this.#nextOffset = lastOffset + 1;
    }
    return { records, nextOffset: this.#nextOffset, bytes: applied };
  }

  /**
   * Replaces the image with a snapshot's records (everything below `endOffset`); returns the
   * records decoded.
   */
  loadSnapshot(values: readonly Buffer[], endOffset: number): MetadataRecord[] {
    const records = values.flatMap((value) => deserializeMetadataRecord(value) ?? []);
    this.image.reset();
    for (const record of records) this.image.apply(record);
    this.#nextOffset = endOffset;
    this.#lastChangeOffset = endOffset - 1;
    this.#snapshotOffset = endOffset - 1;
    this.#registrationChangeOffsets.clear();
    return records;
  }
}

/** Whether `record` changes its broker's registration (what registrationChangeOffset tracks). */
export function changesRegistration(record: AppendedRecord): record is MetadataRecord & { brokerId: number } {
  return record.type === 'RegisterBroker' || record.type === 'FenceBroker' || record.type === 'UnfenceBroker' || record.type === 'BrokerRegistrationChange';
}
