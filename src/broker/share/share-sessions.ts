// Share sessions (KIP-932): a share consumer's ShareFetch/ShareAcknowledge conversation with one
// partition leader, keyed by group and member. Epoch 0 opens one (replacing any earlier session of
// that member), each later request carries the epoch the previous one left (N, then N + 1, wrapping
// from INT32_MAX to 1), and -1 closes it. The partitions a session fetches are kept here, so later
// requests name only what changed. Closing a session, or losing its connection, releases the
// records its member holds (the caller does that with what `remove` returns). Kafka 4.2's
// ShareSessionCache and ShareRequestMetadata; docs/research/share-groups.md section 3.1.
import { ErrorCode } from '../../base/error-codes.js';

export const SHARE_SESSION_OPEN = 0;
export const SHARE_SESSION_CLOSE = -1;
const MAX_EPOCH = 0x7fffffff;

/** A topic-partition of a share session, by topic id as the share RPCs name it. */
export interface ShareSessionPartition {
  readonly topicId: string;
  readonly partition: number;
}

export class ShareSession {
  /** The epoch the next request must carry. */
  nextEpoch = 1;
  /** In the order they were added (responses at epoch 0 list them so). */
  readonly partitions = new Map<string, ShareSessionPartition>();

  constructor(
    readonly groupId: string,
    readonly memberId: string,
    /** The connection of the latest request: when it closes, the session goes. */
    public connectionId: number,
  ) {}

  add(topicId: string, partition: number): void {
    const key = sessionPartitionKey(topicId, partition);
    if (!this.partitions.has(key)) this.partitions.set(key, { topicId, partition });
  }

  forget(topicId: string, partition: number): void {
    this.partitions.delete(sessionPartitionKey(topicId, partition));
  }
}

export function sessionPartitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

export class ShareSessionCache {
  readonly #sessions = new Map<string, ShareSession>();

  /** `maxSessions`: group.share.max.share.sessions. */
  constructor(private readonly maxSessions: number) {}

  get size(): number {
    return this.#sessions.size;
  }

  find(groupId: string, memberId: string): ShareSession | undefined {
    return this.#sessions.get(sessionKey(groupId, memberId));
  }

  /**
   * Opens a session (epoch 0), replacing the member's earlier one, which is returned so its
   * records can be released. SHARE_SESSION_LIMIT_REACHED when the broker holds its maximum.
   */
  open(groupId: string, memberId: string, connectionId: number): { session: ShareSession; replaced: ShareSession | undefined } | { errorCode: number } {
    const key = sessionKey(groupId, memberId);
    const replaced = this.#sessions.get(key);
    if (replaced === undefined && this.#sessions.size >= this.maxSessions) return { errorCode: ErrorCode.SHARE_SESSION_LIMIT_REACHED };
    const session = new ShareSession(groupId, memberId, connectionId);
    this.#sessions.set(key, session);
    return { session, replaced };
  }

  /**
   * The session a request at `epoch` (> 0, or -1 to close) continues: SHARE_SESSION_NOT_FOUND
   * without one, INVALID_SHARE_SESSION_EPOCH when the epoch is not the expected one. A continued
   * session's epoch moves on; a closing one is removed (its records are the caller's to release).
   */
  continue(groupId: string, memberId: string, epoch: number, connectionId: number): { session: ShareSession } | { errorCode: number } {
    const session = this.find(groupId, memberId);
    if (session === undefined) return { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND };
    session.connectionId = connectionId;
    if (epoch === SHARE_SESSION_CLOSE) {
      this.#sessions.delete(sessionKey(groupId, memberId));
      return { session };
    }
    if (epoch !== session.nextEpoch) return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH };
    session.nextEpoch = epoch === MAX_EPOCH ? 1 : epoch + 1;
    return { session };
  }

  /** Removes the sessions of a closed connection and returns them. */
  removeConnection(connectionId: number): ShareSession[] {
    const removed: ShareSession[] = [];
    for (const [key, session] of this.#sessions) {
      if (session.connectionId !== connectionId) continue;
      this.#sessions.delete(key);
      removed.push(session);
    }
    return removed;
  }

  /** Whether any member of `groupId` has a session here. */
  hasGroup(groupId: string): boolean {
    for (const session of this.#sessions.values()) if (session.groupId === groupId) return true;
    return false;
  }

  /** Every session, for diagnostics. */
  all(): IterableIterator<ShareSession> {
    return this.#sessions.values();
  }
}

function sessionKey(groupId: string, memberId: string): string {
  return `${groupId}\u0000${memberId}`;
}
