// The history of a queue workload, as Jepsen records one: every send with its outcome, every
// polled record, every commit and committed-offset read, every (re)assignment and transaction
// outcome, in the order they happened. Workload runners append to it; the queue checker reads it.

/** How a send ended: acknowledged, refused, or unknown (the broker died before answering). */
export type SendOutcome = 'ok' | 'fail' | 'unknown';

export interface SendEvent {
  type: 'send';
  /** Which client process sent it (one producer connection or client). */
  process: string;
  topic: string;
  partition: number;
  value: string;
  outcome: SendOutcome;
  /** The acknowledged offset; only for outcome 'ok' with acks != 0. */
  offset?: number;
  error?: string;
  /** The transaction this send belongs to, if any (see TransactionEvent). */
  transaction?: string;
}

export interface PollEvent {
  type: 'poll';
  process: string;
  topic: string;
  partition: number;
  offset: number;
  value: string;
  isolation: 'read_uncommitted' | 'read_committed';
}

/** The process's position was set from outside its own polls: assignment, seek, restart. */
export interface AssignEvent {
  type: 'assign';
  process: string;
  topic: string;
  partitions: number[];
}

export interface CommitEvent {
  type: 'commit';
  process: string;
  group: string;
  topic: string;
  partition: number;
  /** The committed position: the next offset the group will read. */
  offset: number;
  outcome: 'ok' | 'fail' | 'unknown';
}

/** What OffsetFetch returned for a group's partition (-1: nothing committed). */
export interface CommittedReadEvent {
  type: 'committed-read';
  process: string;
  group: string;
  topic: string;
  partition: number;
  offset: number;
}

export interface TransactionEvent {
  type: 'transaction';
  process: string;
  transaction: string;
  outcome: 'commit' | 'abort';
}

/** A fault the workload injected (broker kill, power loss): context for the report. */
export interface FaultEvent {
  type: 'fault';
  description: string;
}

export type HistoryEvent = SendEvent | PollEvent | AssignEvent | CommitEvent | CommittedReadEvent | TransactionEvent | FaultEvent;

/** An append-only history; `index` of each event is its position, its logical time. */
export class History {
  readonly events: HistoryEvent[] = [];

  add(event: HistoryEvent): void {
    this.events.push(event);
  }

  send(event: Omit<SendEvent, 'type'>): void {
    this.add({ type: 'send', ...event });
  }

  poll(event: Omit<PollEvent, 'type' | 'isolation'> & { isolation?: PollEvent['isolation'] }): void {
    this.add({ type: 'poll', isolation: 'read_uncommitted', ...event });
  }

  assign(process: string, topic: string, partitions: number[]): void {
    this.add({ type: 'assign', process, topic, partitions: [...partitions] });
  }

  commit(event: Omit<CommitEvent, 'type'>): void {
    this.add({ type: 'commit', ...event });
  }

  committedRead(event: Omit<CommittedReadEvent, 'type'>): void {
    this.add({ type: 'committed-read', ...event });
  }

  transaction(process: string, transaction: string, outcome: TransactionEvent['outcome']): void {
    this.add({ type: 'transaction', process, transaction, outcome });
  }

  fault(description: string): void {
    this.add({ type: 'fault', description });
  }

  /** Counts per event type, for test diagnostics. */
  summary(): Record<HistoryEvent['type'], number> {
    const counts: Record<HistoryEvent['type'], number> = { send: 0, poll: 0, assign: 0, commit: 0, 'committed-read': 0, transaction: 0, fault: 0 };
    for (const event of this.events) counts[event.type] += 1;
    return counts;
  }

  /** One JSON document per line, to save a failing history next to the test output. */
  toJsonLines(): string {
    return this.events.map((event) => JSON.stringify(event)).join('\n');
  }

  static fromJsonLines(text: string): History {
    const history = new History();
    for (const line of text.split('\n')) if (line.trim().length > 0) history.add(JSON.parse(line) as HistoryEvent);
    return history;
  }
}
