// A metadata quorum for controller unit tests that behaves as the Raft one does for heartbeats:
// one record per offset, appended records applied to `image` once `beforeCommit` resolves (a
// gate that never resolves: a deposed controller, or commits held back), the last change and each
// broker's last registration change (its batch's end) reported as the loader reports them, and
// the term confirmed, so heartbeats that change nothing are answered at once.
import type { MetadataImage } from '../metadata/metadata-image.js';
import { changesRegistration } from '../metadata/metadata-loader.js';
import type { AppendedRecord } from '../metadata/metadata-record.js';

export function committingQuorum(image: MetadataImage, committed: AppendedRecord[], beforeCommit: () => Promise<void>) {
  const registrationChanges = new Map<number, number>();
  return {
    confirmedActive: true,
    async ensureActive() {},
    async append(records: AppendedRecord[]) {
      await beforeCommit();
      for (const record of records) {
        committed.push(record);
        if (record.type !== 'NoOp') image.apply(record);
      }
      for (const record of records) if (changesRegistration(record)) registrationChanges.set(record.brokerId, committed.length - 1);
    },
    get appliedOffset() {
      return committed.length;
    },
    get lastChangeOffset() {
      return committed.findLastIndex((record) => record.type !== 'NoOp');
    },
    registrationChangeOffset: (brokerId: number) => registrationChanges.get(brokerId) ?? -1,
  };
}
