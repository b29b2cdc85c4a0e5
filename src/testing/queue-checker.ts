// Checks a queue history (history.ts) for Jepsen's queue anomalies and explains each one with the
// partitions, offsets and values involved. It relies on every sent value being unique, which the
// workload runner guarantees, so a value names one send. Each anomaly carries its facts as fields
// (kind, topic, partition, offset, value, ...) for tests to select on; its message is for people.
import type { CommitEvent, CommittedReadEvent, History, HistoryEvent, PollEvent, SendEvent } from './history.js';

/** Where a value sits: a partition of a topic and an offset in it. */
export interface Position {
  topic: string;
  partition: number;
  offset: number;
}

/** Fields every anomaly has: a sentence for people, and where in the history it showed. */
interface AnomalyBase {
  /** One readable sentence with the partition, offsets and values (for reports, never parsed). */
  message: string;
  /** Position in the history of the event that exposed it. */
  eventIndex: number;
}

/** Acknowledged at `offset`, never read although readers went past it (or read everything). */
export interface LostWrite extends AnomalyBase, Position {
  kind: 'lost-write';
  value: string;
  /** The producer the acknowledgement went to. */
  process: string;
  /** The highest offset readers polled in this partition (-1: none). */
  readersReachedOffset: number;
}

/** One value at more than one position. */
export interface Duplicate extends AnomalyBase {
  kind: 'duplicate';
  value: string;
  positions: (Position & { source: string })[];
}

/** One position holding more than one value. */
export interface InconsistentOffsets extends AnomalyBase, Position {
  kind: 'inconsistent-offsets';
  values: string[];
}

/** A process's later acknowledgement (or poll) at an offset not above its previous one. */
interface NonMonotonic extends AnomalyBase, Position {
  process: string;
  value: string;
  previousOffset: number;
  previousValue: string;
}

export interface NonMonotonicSend extends NonMonotonic {
  kind: 'non-monotonic-send';
}

export interface NonMonotonicPoll extends NonMonotonic {
  kind: 'non-monotonic-poll';
}

/** A poller jumped from `fromOffset` to `offset` over offsets known to hold values. */
export interface PollSkip extends AnomalyBase, Position {
  kind: 'poll-skip';
  process: string;
  fromOffset: number;
  /** Up to five skipped positions with the value each holds. */
  skipped: { offset: number; value: string }[];
}

/** A read_committed poll of a value whose transaction aborted. */
export interface AbortedRead extends AnomalyBase, Position {
  kind: 'aborted-read';
  process: string;
  value: string;
  transaction: string;
}

/**
 * A poll of a value whose send definitely failed (the broker refused it): what the producer was
 * told was not written is served anyway. Jepsen counts this as an aborted read too.
 */
export interface ReadOfFailedWrite extends AnomalyBase, Position {
  kind: 'read-of-failed-write';
  /** The reader. */
  process: string;
  value: string;
  /** The producer that was refused, and the error it got. */
  producer: string;
  error: string | undefined;
}

/** A group's committed position went back, by a commit or as OffsetFetch returned it. */
export interface CommittedOffsetBackwards extends AnomalyBase, Position {
  kind: 'committed-offset-backwards';
  group: string;
  process: string;
  /** The highest committed position acknowledged before. */
  previousOffset: number;
}

/** A polled value nobody sent. */
export interface UnexpectedValue extends AnomalyBase, Position {
  kind: 'unexpected-value';
  process: string;
  value: string;
}

export type Anomaly =
  | LostWrite
  | Duplicate
  | InconsistentOffsets
  | NonMonotonicSend
  | NonMonotonicPoll
  | PollSkip
  | AbortedRead
  | ReadOfFailedWrite
  | CommittedOffsetBackwards
  | UnexpectedValue;

export type AnomalyKind = Anomaly['kind'];

export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'lost-write',
  'duplicate',
  'inconsistent-offsets',
  'non-monotonic-send',
  'non-monotonic-poll',
  'poll-skip',
  'aborted-read',
  'read-of-failed-write',
  'committed-offset-backwards',
  'unexpected-value',
];

/** The anomalies of one kind, typed as that kind. */
export function anomaliesOf<K extends AnomalyKind>(result: CheckResult, kind: K): Extract<Anomaly, { kind: K }>[] {
  return result.anomalies.filter((anomaly): anomaly is Extract<Anomaly, { kind: K }> => anomaly.kind === kind);
}

export interface CheckOptions {
  /**
   * The workload read every partition to its end after the last send: an acknowledged value never
   * read is then lost, not merely unseen.
   */
  finalReadComplete?: boolean;
}

export interface CheckResult {
  valid: boolean;
  anomalies: Anomaly[];
  counts: Record<AnomalyKind, number>;
  stats: { sends: number; acknowledged: number; polls: number; distinctRead: number; commits: number; unseen: number };
}

/** Where a value was observed, and by whom. */
interface Sighting extends Position {
  source: string;
  eventIndex: number;
}

function partitionKey(event: { topic: string; partition: number }): string {
  return `${event.topic}/${event.partition}`;
}

function at(position: Position): string {
  return `${partitionKey(position)}@${position.offset}`;
}

function short(value: string): string {
  return value.length <= 40 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 37))}…`;
}

/** Indexes the history once; each check reads these maps. */
class HistoryIndex {
  readonly sendsByValue = new Map<string, SendEvent>();
  /** partition key -> offset -> value -> first sighting. */
  readonly valuesAt = new Map<string, Map<number, Map<string, Sighting>>>();
  /** value -> positions (`topic/partition@offset`) it was seen at (acknowledged or polled). */
  readonly positionsOf = new Map<string, Map<string, Sighting>>();
  readonly polledValues = new Set<string>();
  readonly maxPolledOffset = new Map<string, number>();
  readonly abortedTransactions = new Set<string>();

  constructor(readonly events: readonly HistoryEvent[]) {
    events.forEach((event, index) => this.add(event, index));
  }

  private add(event: HistoryEvent, index: number): void {
    if (event.type === 'send') {
      this.sendsByValue.set(event.value, event);
      if (event.outcome === 'ok' && event.offset !== undefined) this.sight(event, event.offset, `ack to ${event.process}`, index);
    } else if (event.type === 'poll') {
      this.polledValues.add(event.value);
      const key = partitionKey(event);
      this.maxPolledOffset.set(key, Math.max(this.maxPolledOffset.get(key) ?? -1, event.offset));
      this.sight(event, event.offset, `poll by ${event.process}`, index);
    } else if (event.type === 'transaction' && event.outcome === 'abort') {
      this.abortedTransactions.add(event.transaction);
    }
  }

  private sight(event: { topic: string; partition: number; value: string }, offset: number, source: string, eventIndex: number): void {
    const key = partitionKey(event);
    const sighting: Sighting = { topic: event.topic, partition: event.partition, offset, source, eventIndex };
    let offsets = this.valuesAt.get(key);
    if (!offsets) this.valuesAt.set(key, (offsets = new Map()));
    let values = offsets.get(offset);
    if (!values) offsets.set(offset, (values = new Map()));
    if (!values.has(event.value)) values.set(event.value, sighting);
    let positions = this.positionsOf.get(event.value);
    if (!positions) this.positionsOf.set(event.value, (positions = new Map()));
    if (!positions.has(at(sighting))) positions.set(at(sighting), sighting);
  }

  isAborted(value: string): boolean {
    const transaction = this.sendsByValue.get(value)?.transaction;
    return transaction !== undefined && this.abortedTransactions.has(transaction);
  }
}

function checkInconsistentOffsets(index: HistoryIndex, out: Anomaly[]): void {
  for (const offsets of index.valuesAt.values()) {
    for (const [offset, values] of offsets) {
      if (values.size < 2) continue;
      const sightings = [...values.values()];
      const { topic, partition } = sightings[0]!;
      const seen = [...values.entries()].map(([value, sighting]) => `${short(value)} (${sighting.source})`);
      const first = Math.min(...sightings.map((sighting) => sighting.eventIndex));
      out.push({
        kind: 'inconsistent-offsets',
        topic,
        partition,
        offset,
        values: [...values.keys()],
        message: `${partitionKey({ topic, partition })} offset ${offset} holds ${values.size} values: ${seen.join(', ')}`,
        eventIndex: first,
      });
    }
  }
}

function checkDuplicates(index: HistoryIndex, out: Anomaly[]): void {
  for (const [value, positions] of index.positionsOf) {
    if (positions.size < 2) continue;
    const sightings = [...positions.values()];
    const where = sightings.map((sighting) => `${at(sighting)} (${sighting.source})`);
    const last = Math.max(...sightings.map((sighting) => sighting.eventIndex));
    out.push({
      kind: 'duplicate',
      value,
      positions: sightings.map(({ topic, partition, offset, source }) => ({ topic, partition, offset, source })),
      message: `value ${short(value)} is at ${positions.size} offsets: ${where.join(', ')}`,
      eventIndex: last,
    });
  }
}

/** Acknowledged but never read although readers went past it (or read everything): lost. */
function checkLostWrites(index: HistoryIndex, options: CheckOptions, out: Anomaly[]): number {
  let unseen = 0;
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'send' || event.outcome !== 'ok' || event.offset === undefined) return;
    if (index.polledValues.has(event.value) || index.isAborted(event.value)) return;
    const readersReachedOffset = index.maxPolledOffset.get(partitionKey(event)) ?? -1;
    const reachedPast = readersReachedOffset > event.offset;
    if (!reachedPast && !options.finalReadComplete) {
      unseen += 1;
      return;
    }
    const why = reachedPast ? `readers reached offset ${readersReachedOffset}` : 'the final read finished';
    out.push({
      kind: 'lost-write',
      topic: event.topic,
      partition: event.partition,
      offset: event.offset,
      value: event.value,
      process: event.process,
      readersReachedOffset,
      message: `${partitionKey(event)} offset ${event.offset}: value ${short(event.value)} acknowledged to ${event.process} was never read (${why})`,
      eventIndex,
    });
  });
  return unseen;
}

function checkMonotonicSends(index: HistoryIndex, out: Anomaly[]): void {
  const last = new Map<string, SendEvent & { offset: number }>();
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'send' || event.outcome !== 'ok' || event.offset === undefined) return;
    const acknowledged = event as SendEvent & { offset: number };
    const key = `${event.process} ${partitionKey(event)}`;
    const previous = last.get(key);
    if (previous !== undefined && acknowledged.offset <= previous.offset) {
      out.push({
        kind: 'non-monotonic-send',
        topic: event.topic,
        partition: event.partition,
        offset: acknowledged.offset,
        process: event.process,
        value: event.value,
        previousOffset: previous.offset,
        previousValue: previous.value,
        message: `${event.process} on ${partitionKey(event)}: ${short(event.value)} acknowledged at offset ${acknowledged.offset} after ${short(previous.value)} at ${previous.offset}`,
        eventIndex,
      });
    }
    last.set(key, acknowledged);
  });
}

/** Offsets in (from, to) known to hold a value the poller should have seen. */
function skippedOffsets(index: HistoryIndex, poll: PollEvent, from: number, to: number): { offset: number; value: string }[] {
  const offsets = index.valuesAt.get(partitionKey(poll));
  const skipped: { offset: number; value: string }[] = [];
  if (!offsets) return skipped;
  for (let offset = from + 1; offset < to && skipped.length < 5; offset += 1) {
    const values = offsets.get(offset);
    if (!values) continue;
    const visible = [...values.keys()].filter((value) => poll.isolation === 'read_uncommitted' || !index.isAborted(value));
    if (visible.length > 0) skipped.push({ offset, value: visible[0]! });
  }
  return skipped;
}

/** Per consumer and partition, polls move strictly forward and skip nothing, until a reassignment. */
function checkPollOrder(index: HistoryIndex, out: Anomaly[]): void {
  const last = new Map<string, PollEvent>();
  index.events.forEach((event, eventIndex) => {
    if (event.type === 'assign') {
      for (const key of [...last.keys()]) if (key.startsWith(`${event.process} ${event.topic}/`)) last.delete(key);
      return;
    }
    if (event.type !== 'poll') return;
    const key = `${event.process} ${partitionKey(event)}`;
    const previous = last.get(key);
    last.set(key, event);
    if (!previous) return;
    const where = `${event.process} on ${partitionKey(event)}`;
    const position = { topic: event.topic, partition: event.partition, offset: event.offset };
    if (event.offset <= previous.offset) {
      out.push({
        kind: 'non-monotonic-poll',
        ...position,
        process: event.process,
        value: event.value,
        previousOffset: previous.offset,
        previousValue: previous.value,
        message: `${where}: polled offset ${event.offset} (${short(event.value)}) after offset ${previous.offset} (${short(previous.value)})`,
        eventIndex,
      });
      return;
    }
    const skipped = skippedOffsets(index, event, previous.offset, event.offset);
    if (skipped.length > 0) {
      const list = skipped.map((entry) => `${entry.offset}=${short(entry.value)}`).join(', ');
      out.push({
        kind: 'poll-skip',
        ...position,
        process: event.process,
        fromOffset: previous.offset,
        skipped,
        message: `${where}: jumped from offset ${previous.offset} to ${event.offset} without a reassignment, skipping ${list}`,
        eventIndex,
      });
    }
  });
}

function checkAbortedReads(index: HistoryIndex, out: Anomaly[]): void {
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'poll' || event.isolation !== 'read_committed' || !index.isAborted(event.value)) return;
    const transaction = index.sendsByValue.get(event.value)?.transaction ?? '';
    out.push({
      kind: 'aborted-read',
      topic: event.topic,
      partition: event.partition,
      offset: event.offset,
      process: event.process,
      value: event.value,
      transaction,
      message: `${event.process} read ${short(event.value)} at ${at(event)} with read_committed, but transaction ${transaction} aborted`,
      eventIndex,
    });
  });
}

/** A value whose send the broker refused must never be served: refused means not written. */
function checkReadsOfFailedWrites(index: HistoryIndex, out: Anomaly[]): void {
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'poll') return;
    const send = index.sendsByValue.get(event.value);
    if (send?.outcome !== 'fail') return;
    out.push({
      kind: 'read-of-failed-write',
      topic: event.topic,
      partition: event.partition,
      offset: event.offset,
      process: event.process,
      value: event.value,
      producer: send.process,
      error: send.error,
      message: `${event.process} read ${short(event.value)} at ${at(event)}, but its send to ${send.process} failed (${send.error ?? 'no error recorded'})`,
      eventIndex,
    });
  });
}

function checkUnexpectedValues(index: HistoryIndex, out: Anomaly[]): void {
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'poll' || index.sendsByValue.has(event.value)) return;
    out.push({
      kind: 'unexpected-value',
      topic: event.topic,
      partition: event.partition,
      offset: event.offset,
      process: event.process,
      value: event.value,
      message: `${event.process} read ${short(event.value)} at ${at(event)}, which nobody sent`,
      eventIndex,
    });
  });
}

/** Successful commits never move a group's position back, and OffsetFetch never returns less. */
function checkCommits(index: HistoryIndex, out: Anomaly[]): void {
  const highest = new Map<string, CommitEvent>();
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'commit' && event.type !== 'committed-read') return;
    const key = `${event.group} ${partitionKey(event)}`;
    const previous = highest.get(key);
    if (event.type === 'committed-read') {
      if (previous && event.offset < previous.offset) {
        const message = `group ${event.group} ${partitionKey(event)}: committed offset read as ${event.offset} after a commit of ${previous.offset} was acknowledged`;
        out.push(committedOffsetBackwards(event, previous, eventIndex, message));
      }
      return;
    }
    if (event.outcome !== 'ok') return;
    if (previous && event.offset < previous.offset) {
      const message = `group ${event.group} ${partitionKey(event)}: ${event.process} committed ${event.offset} after ${previous.process} had committed ${previous.offset}`;
      out.push(committedOffsetBackwards(event, previous, eventIndex, message));
    }
    if (!previous || event.offset > previous.offset) highest.set(key, event);
  });
}

function committedOffsetBackwards(event: CommittedReadEvent | CommitEvent, previous: CommitEvent, eventIndex: number, message: string): Anomaly {
  return {
    kind: 'committed-offset-backwards',
    topic: event.topic,
    partition: event.partition,
    offset: event.offset,
    group: event.group,
    process: event.process,
    previousOffset: previous.offset,
    message,
    eventIndex,
  };
}

export function checkQueueHistory(history: History | readonly HistoryEvent[], options: CheckOptions = {}): CheckResult {
  const events = Array.isArray(history) ? (history as readonly HistoryEvent[]) : (history as History).events;
  const index = new HistoryIndex(events);
  const anomalies: Anomaly[] = [];
  const unseen = checkLostWrites(index, options, anomalies);
  checkDuplicates(index, anomalies);
  checkInconsistentOffsets(index, anomalies);
  checkMonotonicSends(index, anomalies);
  checkPollOrder(index, anomalies);
  checkAbortedReads(index, anomalies);
  checkReadsOfFailedWrites(index, anomalies);
  checkCommits(index, anomalies);
  checkUnexpectedValues(index, anomalies);
  anomalies.sort((a, b) => a.eventIndex - b.eventIndex);
  const counts = Object.fromEntries(ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<AnomalyKind, number>;
  for (const anomaly of anomalies) counts[anomaly.kind] += 1;
  const sends = events.filter((event): event is SendEvent => event.type === 'send');
  return {
    valid: anomalies.length === 0,
    anomalies,
    counts,
    stats: {
      sends: sends.length,
      acknowledged: sends.filter((send) => send.outcome === 'ok').length,
      polls: events.filter((event) => event.type === 'poll').length,
      distinctRead: index.polledValues.size,
      commits: events.filter((event) => event.type === 'commit').length,
      unseen,
    },
  };
}

/** A report a person can read: totals, then up to `perKind` anomalies of each kind. */
export function formatQueueReport(result: CheckResult, perKind = 10): string {
  const { stats } = result;
  const lines = [
    `${stats.sends} sends (${stats.acknowledged} acknowledged), ${stats.polls} polls (${stats.distinctRead} distinct values), ${stats.commits} commits, ${stats.unseen} acknowledged values unseen`,
  ];
  if (result.valid) lines.push('no anomalies');
  for (const kind of ANOMALY_KINDS) {
    const found = result.anomalies.filter((anomaly) => anomaly.kind === kind);
    if (found.length === 0) continue;
    lines.push(`${kind}: ${found.length}`);
    for (const anomaly of found.slice(0, perKind)) lines.push(`  [event ${anomaly.eventIndex}] ${anomaly.message}`);
    if (found.length > perKind) lines.push(`  … ${found.length - perKind} more`);
  }
  return lines.join('\n');
}
