// Checks a queue history (history.ts) for Jepsen's queue anomalies and explains each one with the
// partitions, offsets and values involved. It relies on every sent value being unique, which the
// workload runner guarantees, so a value names one send.
import type { CommitEvent, CommittedReadEvent, History, HistoryEvent, PollEvent, SendEvent } from './history.js';

export type AnomalyKind =
  | 'lost-write'
  | 'duplicate'
  | 'inconsistent-offsets'
  | 'non-monotonic-send'
  | 'non-monotonic-poll'
  | 'poll-skip'
  | 'aborted-read'
  | 'committed-offset-backwards'
  | 'unexpected-value';

export const ANOMALY_KINDS: readonly AnomalyKind[] = [
  'lost-write',
  'duplicate',
  'inconsistent-offsets',
  'non-monotonic-send',
  'non-monotonic-poll',
  'poll-skip',
  'aborted-read',
  'committed-offset-backwards',
  'unexpected-value',
];

export interface Anomaly {
  kind: AnomalyKind;
  /** One readable sentence with the partition, offsets and values. */
  message: string;
  /** Position in the history of the event that exposed it. */
  eventIndex: number;
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

/** Where a value was observed: `topic/partition@offset`, and by whom. */
interface Sighting {
  position: string;
  source: string;
  eventIndex: number;
}

function partitionKey(event: { topic: string; partition: number }): string {
  return `${event.topic}/${event.partition}`;
}

function short(value: string): string {
  return value.length <= 40 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 37))}…`;
}

/** Indexes the history once; each check reads these maps. */
class HistoryIndex {
  readonly sendsByValue = new Map<string, SendEvent>();
  /** partition key -> offset -> value -> first sighting. */
  readonly valuesAt = new Map<string, Map<number, Map<string, Sighting>>>();
  /** value -> positions it was seen at (acknowledged or polled). */
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
    const position = `${key}@${offset}`;
    let offsets = this.valuesAt.get(key);
    if (!offsets) this.valuesAt.set(key, (offsets = new Map()));
    let values = offsets.get(offset);
    if (!values) offsets.set(offset, (values = new Map()));
    if (!values.has(event.value)) values.set(event.value, { position, source, eventIndex });
    let positions = this.positionsOf.get(event.value);
    if (!positions) this.positionsOf.set(event.value, (positions = new Map()));
    if (!positions.has(position)) positions.set(position, { position, source, eventIndex });
  }

  isAborted(value: string): boolean {
    const transaction = this.sendsByValue.get(value)?.transaction;
    return transaction !== undefined && this.abortedTransactions.has(transaction);
  }
}

function checkInconsistentOffsets(index: HistoryIndex, out: Anomaly[]): void {
  for (const [key, offsets] of index.valuesAt) {
    for (const [offset, values] of offsets) {
      if (values.size < 2) continue;
      const seen = [...values.entries()].map(([value, sighting]) => `${short(value)} (${sighting.source})`);
      const first = Math.min(...[...values.values()].map((sighting) => sighting.eventIndex));
      out.push({ kind: 'inconsistent-offsets', message: `${key} offset ${offset} holds ${values.size} values: ${seen.join(', ')}`, eventIndex: first });
    }
  }
}

function checkDuplicates(index: HistoryIndex, out: Anomaly[]): void {
  for (const [value, positions] of index.positionsOf) {
    if (positions.size < 2) continue;
    const where = [...positions.values()].map((sighting) => `${sighting.position} (${sighting.source})`);
    const last = Math.max(...[...positions.values()].map((sighting) => sighting.eventIndex));
    out.push({ kind: 'duplicate', message: `value ${short(value)} is at ${positions.size} offsets: ${where.join(', ')}`, eventIndex: last });
  }
}

/** Acknowledged but never read although readers went past it (or read everything): lost. */
function checkLostWrites(index: HistoryIndex, options: CheckOptions, out: Anomaly[]): number {
  let unseen = 0;
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'send' || event.outcome !== 'ok' || event.offset === undefined) return;
    if (index.polledValues.has(event.value) || index.isAborted(event.value)) return;
    const reachedPast = (index.maxPolledOffset.get(partitionKey(event)) ?? -1) > event.offset;
    if (!reachedPast && !options.finalReadComplete) {
      unseen += 1;
      return;
    }
    const why = reachedPast ? `readers reached offset ${index.maxPolledOffset.get(partitionKey(event))}` : 'the final read finished';
    out.push({ kind: 'lost-write', message: `${partitionKey(event)} offset ${event.offset}: value ${short(event.value)} acknowledged to ${event.process} was never read (${why})`, eventIndex });
  });
  return unseen;
}

function checkMonotonicSends(index: HistoryIndex, out: Anomaly[]): void {
  const last = new Map<string, SendEvent>();
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'send' || event.outcome !== 'ok' || event.offset === undefined) return;
    const key = `${event.process} ${partitionKey(event)}`;
    const previous = last.get(key);
    if (previous?.offset !== undefined && event.offset <= previous.offset) {
      out.push({
        kind: 'non-monotonic-send',
        message: `${event.process} on ${partitionKey(event)}: ${short(event.value)} acknowledged at offset ${event.offset} after ${short(previous.value)} at ${previous.offset}`,
        eventIndex,
      });
    }
    last.set(key, event);
  });
}

/** Offsets in (from, to) known to hold a value the poller should have seen. */
function skippedOffsets(index: HistoryIndex, poll: PollEvent, from: number, to: number): string[] {
  const offsets = index.valuesAt.get(partitionKey(poll));
  const skipped: string[] = [];
  if (!offsets) return skipped;
  for (let offset = from + 1; offset < to && skipped.length < 5; offset += 1) {
    const values = offsets.get(offset);
    if (!values) continue;
    const visible = [...values.keys()].filter((value) => poll.isolation === 'read_uncommitted' || !index.isAborted(value));
    if (visible.length > 0) skipped.push(`${offset}=${short(visible[0]!)}`);
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
    if (event.offset <= previous.offset) {
      out.push({ kind: 'non-monotonic-poll', message: `${where}: polled offset ${event.offset} (${short(event.value)}) after offset ${previous.offset} (${short(previous.value)})`, eventIndex });
      return;
    }
    const skipped = skippedOffsets(index, event, previous.offset, event.offset);
    if (skipped.length > 0) {
      out.push({ kind: 'poll-skip', message: `${where}: jumped from offset ${previous.offset} to ${event.offset} without a reassignment, skipping ${skipped.join(', ')}`, eventIndex });
    }
  });
}

function checkAbortedReads(index: HistoryIndex, out: Anomaly[]): void {
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'poll' || event.isolation !== 'read_committed' || !index.isAborted(event.value)) return;
    const transaction = index.sendsByValue.get(event.value)?.transaction;
    out.push({ kind: 'aborted-read', message: `${event.process} read ${short(event.value)} at ${partitionKey(event)}@${event.offset} with read_committed, but transaction ${transaction} aborted`, eventIndex });
  });
}

function checkUnexpectedValues(index: HistoryIndex, out: Anomaly[]): void {
  index.events.forEach((event, eventIndex) => {
    if (event.type !== 'poll' || index.sendsByValue.has(event.value)) return;
    out.push({ kind: 'unexpected-value', message: `${event.process} read ${short(event.value)} at ${partitionKey(event)}@${event.offset}, which nobody sent`, eventIndex });
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
      if (previous && event.offset < previous.offset) out.push(committedReadBackwards(event, previous, eventIndex));
      return;
    }
    if (event.outcome !== 'ok') return;
    if (previous && event.offset < previous.offset) {
      out.push({
        kind: 'committed-offset-backwards',
        message: `group ${event.group} ${partitionKey(event)}: ${event.process} committed ${event.offset} after ${previous.process} had committed ${previous.offset}`,
        eventIndex,
      });
    }
    if (!previous || event.offset > previous.offset) highest.set(key, event);
  });
}

function committedReadBackwards(event: CommittedReadEvent, previous: CommitEvent, eventIndex: number): Anomaly {
  return {
    kind: 'committed-offset-backwards',
    message: `group ${event.group} ${partitionKey(event)}: committed offset read as ${event.offset} after a commit of ${previous.offset} was acknowledged`,
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
