// Eligible leader replicas (KIP-966 part 1, on by default in new Kafka 4.1 clusters), as pure
// functions of a partition's image. With the "strict min ISR" rule, a leader does not move the
// high watermark while its ISR is smaller than the topic's effective min.insync.replicas (capped
// at the replica count), so a replica that left the ISR while it was that small still holds
// everything below the high watermark: it is an eligible leader replica (ELR). The controller
// keeps the ELR in the partition's records: replicas that leave an ISR below min ISR join it (the
// last in-sync replica too, when it is fenced: the ISR may now be empty); the ELR empties when the
// ISR is back at min ISR. A broker that restarts after an unclean shutdown (its unsynced writes
// may be gone) loses its place in the ELR. When the ISR empties, its last leader is kept as the
// last known ELR. Elections take an ISR member first, then an unfenced ELR member, then the last
// known leader if it is unfenced (as Kafka before 4.0 would have: it was the last in-sync
// replica), and only then, if enabled, any replica. So a replica back from an unclean shutdown
// leads only when no replica that stopped cleanly can.

import type { PartitionImage } from './metadata-image.js';

export interface EligibleLeaders {
  eligibleLeaderReplicas: number[];
  lastKnownElr: number[];
}

/** min.insync.replicas as the controller applies it: never more than the replicas there are. */
export function effectiveMinIsr(minInsyncReplicas: number, replicas: readonly number[]): number {
  return Math.max(1, Math.min(minInsyncReplicas, replicas.length));
}

/**
 * The ELR and last known ELR once the partition's ISR becomes `isr` (among `replicas`):
 * emptied when the ISR reaches `minIsr`; otherwise the current ISR and ELR members that are not
 * in the new ISR, less `uncleanShutdown`. The last known ELR is the leader of the moment the ISR
 * empties, kept while it stays empty.
 */
export function nextEligibleLeaders(partition: PartitionImage, isr: readonly number[], replicas: readonly number[], minIsr: number, uncleanShutdown = -1): EligibleLeaders {
  if (isr.length >= minIsr) return { eligibleLeaderReplicas: [], lastKnownElr: [] };
  const candidates = [...partition.eligibleLeaderReplicas, ...partition.isr.filter((id) => !partition.eligibleLeaderReplicas.includes(id))];
  const eligibleLeaderReplicas = candidates.filter((id) => replicas.includes(id) && !isr.includes(id) && id !== uncleanShutdown);
  let lastKnownElr: number[] = [];
  if (isr.length === 0) {
    const emptiedNow = partition.isr.length > 0 && partition.leader >= 0;
    lastKnownElr = (emptiedNow ? [partition.leader] : partition.lastKnownElr).filter((id) => replicas.includes(id));
  }
  return { eligibleLeaderReplicas, lastKnownElr };
}

/**
 * A leader for a partition whose ISR has no live member: an unfenced ELR member, else the last
 * known leader if unfenced; it becomes the ISR alone. Undefined when neither can lead.
 */
export function electFromEligible(partition: PartitionImage, live: (id: number) => boolean): { leader: number; isr: number[] } | undefined {
  const leader = partition.eligibleLeaderReplicas.find(live) ?? partition.lastKnownElr.find(live);
  return leader === undefined ? undefined : { leader, isr: [leader] };
}

/** The replicas an unclean election tries, in order: the last known ELR (in sync most recently), then the rest. */
export function uncleanCandidates(partition: PartitionImage): number[] {
  return [...partition.lastKnownElr.filter((id) => partition.replicas.includes(id)), ...partition.replicas.filter((id) => !partition.lastKnownElr.includes(id))];
}

export function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((id, index) => b[index] === id);
}
