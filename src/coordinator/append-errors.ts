// What a coordinator answers when its write to its internal topic (`__consumer_offsets`,
// `__transaction_state`) fails, as Kafka's coordinators do: the partition's leadership gone, or
// its log offline on this broker (a failed log directory), mean this broker is no longer the
// coordinator (NOT_COORDINATOR: the client looks the coordinator up again); anything else is
// the coordinator not being available for the moment (the client retries the same one).
import { ErrorCode } from '../base/error-codes.js';

const NOT_HERE: ReadonlySet<number> = new Set([ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.KAFKA_STORAGE_ERROR]);

/** The coordinator error code for a failed append of its own records. */
export function coordinatorAppendError(error: unknown): number {
  const code = (error as { errorCode?: unknown } | null)?.errorCode;
  return typeof code === 'number' && NOT_HERE.has(code) ? ErrorCode.NOT_COORDINATOR : ErrorCode.COORDINATOR_NOT_AVAILABLE;
}
