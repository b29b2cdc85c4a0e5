// Partition reassignment as Kafka's controller runs it (KIP-455), as pure functions of a
// partition's image: what a reassignment, its cancel and its completion change. A reassignment
// toward `target` first widens the replica list to the target followed by the replicas that leave
// (`addingReplicas` = target minus the original replicas, `removingReplicas` = the original
// replicas not in the target). The new replicas then fetch from the leader like any follower and
// join the ISR when caught up; once every target replica is in the ISR the controller completes
// it: the replica list becomes the target, the ISR keeps only target replicas, and a leader that
// is leaving hands over to the first in-sync target replica. A cancel returns to the original
// replicas. A target whose replicas are already in sync (a reorder, a shrink) completes at once.
import type { PartitionImage } from './metadata-image.js';

/** The partition's new state: what a PartitionChange record carries (leader -2: unchanged). */
export interface ReplicaSetChange {
  leader: number;
  isr: number[];
  replicas: number[];
  addingReplicas: number[];
  removingReplicas: number[];
}

export function isReassigning(partition: PartitionImage): boolean {
  return partition.addingReplicas.length > 0 || partition.removingReplicas.length > 0;
}

/** The replicas the partition had before the reassignment in progress (its replicas when none is). */
export function originalReplicas(partition: PartitionImage): number[] {
  return partition.replicas.filter((id) => !partition.addingReplicas.includes(id));
}

/** The replicas the partition is being moved to (its replicas when no reassignment is in progress). */
export function targetReplicas(partition: PartitionImage): number[] {
  return partition.replicas.filter((id) => !partition.removingReplicas.includes(id));
}

/**
 * Starts a reassignment toward `target` (replacing one in progress, whose added replicas that are
 * not in the new target leave at once), completing it at once when the target is already in sync.
 * Undefined when nothing changes; an error message when the change would leave no in-sync replica.
 */
export function startReassignment(partition: PartitionImage, target: readonly number[], unfenced: (id: number) => boolean): ReplicaSetChange | string | undefined {
  const original = originalReplicas(partition);
  const sameAsOriginal = target.length === original.length && target.every((id, index) => original[index] === id);
  if (sameAsOriginal) return isReassigning(partition) ? cancelReassignment(partition, unfenced) : undefined;
  const replicas = [...target, ...original.filter((id) => !target.includes(id))];
  const widened = withReplicas(partition, replicas, unfenced, {
    addingReplicas: target.filter((id) => !original.includes(id)),
    removingReplicas: original.filter((id) => !target.includes(id)),
  });
  if (typeof widened === 'string') return widened;
  return completion(target, widened, unfenced) ?? widened;
}

/** Cancels the reassignment in progress: back to the original replicas. */
export function cancelReassignment(partition: PartitionImage, unfenced: (id: number) => boolean): ReplicaSetChange | string {
  return withReplicas(partition, originalReplicas(partition), unfenced, { addingReplicas: [], removingReplicas: [] });
}

/**
 * The completion of the partition's reassignment if, with `isr` as its ISR, every target replica
 * is in sync; undefined otherwise (or when no reassignment is in progress).
 */
export function completedReassignment(partition: PartitionImage, isr: readonly number[], unfenced: (id: number) => boolean): ReplicaSetChange | undefined {
  if (!isReassigning(partition)) return undefined;
  return completion(targetReplicas(partition), { leader: partition.leader, isr: [...isr], replicas: partition.replicas, addingReplicas: partition.addingReplicas, removingReplicas: partition.removingReplicas }, unfenced);
}

function completion(target: readonly number[], state: ReplicaSetChange, unfenced: (id: number) => boolean): ReplicaSetChange | undefined {
  if (!target.every((id) => state.isr.includes(id))) return undefined;
  const isr = state.isr.filter((id) => target.includes(id));
  const current = state.leader;
  return { leader: chooseLeader(current, target, isr, unfenced), isr, replicas: [...target], addingReplicas: [], removingReplicas: [] };
}

function withReplicas(
  partition: PartitionImage,
  replicas: number[],
  unfenced: (id: number) => boolean,
  lists: { addingReplicas: number[]; removingReplicas: number[] },
): ReplicaSetChange | string {
  const isr = partition.isr.filter((id) => replicas.includes(id));
  if (isr.length === 0) return `no in-sync replica of ${partition.partitionId} ([${partition.isr.join(',')}]) would remain among [${replicas.join(',')}]`;
  return { leader: chooseLeader(partition.leader, replicas, isr, unfenced), isr, replicas, ...lists };
}

/** The current leader while it stays an in-sync replica, else the first in-sync unfenced replica (-1: none). */
function chooseLeader(current: number, replicas: readonly number[], isr: readonly number[], unfenced: (id: number) => boolean): number {
  if (current >= 0 && replicas.includes(current) && isr.includes(current)) return current;
  return replicas.find((id) => isr.includes(id) && unfenced(id)) ?? -1;
}
