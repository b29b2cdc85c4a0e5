// Checks the history of a share-group (KIP-932) workload: the sends, every record a share consumer
// was handed (with its delivery count) and every acknowledgement as the broker answered it. The
// rules are the queue's promises (docs/research/share-groups.md 3.2): a record is accepted at most
// once, is never handed out again once accepted, rejected or delivered `limit` times, each hand-out
// counts one more delivery, and at the end of a drained run every sent record was accepted or
// archived. Each anomaly carries its facts as fields (for tests) and a sentence (for people).
import type { SendEvent } from './history.js';

/** One record handed to a consumer: an acquisition, as the consumer saw it. */
export interface ShareDelivery {
  /** The consumer (process or member) the record was handed to. */
  consumer: string;
  topic: string;
  partition: number;
  offset: number;
  value: string | null;
  deliveryCount: number;
  /**
   * Logical time: what orders this event against the others (an index or a timestamp). Within one
   * consumer it must follow that consumer's own order; see CheckShareOptions.order for across.
   */
  seq: number;
}

export type ShareAckType = 'accept' | 'release' | 'reject' | 'gap';

/** One offset's acknowledgement, as the broker answered it. */
export interface ShareAck {
  consumer: string;
  topic: string;
  partition: number;
  offset: number;
  type: ShareAckType;
  /** 'ok': the broker applied it; 'fail': refused; 'unknown': no answer (it may have applied). */
  outcome: 'ok' | 'fail' | 'unknown';
  error?: string;
  seq: number;
}

export interface ShareHistoryInput {
  /** Sends as history.ts records them; values must be unique (a value names one send). */
  sends: readonly SendEvent[];
  deliveries: readonly ShareDelivery[];
  acks: readonly ShareAck[];
}

export interface CheckShareOptions {
  /** group.share.delivery.count.limit (Kafka's default: 5). */
  deliveryCountLimit?: number;
  /** Values the consumers never accept (they reject or release them): a successful accept of one is an anomaly. */
  poisoned?: (value: string) => boolean;
  /**
   * The consumers ran until nothing was left to deliver: a sent record neither accepted nor archived
   * is lost. Only sound when every send listed could be delivered: the group started before the
   * sends (or share.auto.offset.reset=earliest), no retention or offset reset passed them, and no
   * send belongs to an aborted transaction read with read_committed (leave those sends out).
   */
  drained?: boolean;
  /**
   * What `seq` means across consumers. 'global' (default): the order the broker served the events
   * (a simulation, or a harness that records each answer before sending the next request); an
   * ack's seq may be late (a callback), never early. 'per-consumer': only each consumer's own order
   * is real (outputs of several processes merged by arrival, which can print a delivery after
   * another consumer's later ack), so across consumers only delivery counts order acquisitions.
   */
  order?: 'global' | 'per-consumer';
}

interface Position {
  topic: string;
  partition: number;
  offset: number;
}

interface AnomalyBase extends Position {
  /** One readable sentence naming the partition and offset (for reports, never parsed). */
  message: string;
  /** The seq of the event that exposed it. */
  seq: number;
}

/** One offset accepted successfully more than once. */
export interface AcceptedTwice extends AnomalyBase {
  kind: 'accepted-twice';
  accepts: { consumer: string; seq: number }[];
}

/** A sent record that was never accepted and not archived legitimately, in a drained run. */
export interface Lost extends AnomalyBase {
  kind: 'lost';
  value: string;
  /** How many times it was delivered, and its highest delivery count (0: never delivered). */
  deliveries: number;
  maxDeliveryCount: number;
  /** Consumers that gap-acknowledged it successfully (a gap archives a record the client never saw). */
  gapAckedBy: string[];
}

/** A delivery past the limit, or after the offset was accepted, rejected or gap-acknowledged. */
export interface OverDelivered extends AnomalyBase {
  kind: 'over-delivered';
  consumer: string;
  deliveryCount: number;
  reason: 'over-limit' | 'after-settled';
  /** For 'after-settled': the acknowledgement that had settled the offset. */
  settledBy?: { consumer: string; type: ShareAckType; seq: number; deliveryCount: number | undefined };
}

/** A later delivery whose count is not above an earlier one (lower, or equal to the same consumer). */
export interface DeliveryCountNotIncreasing extends AnomalyBase {
  kind: 'delivery-count-not-increasing';
  consumer: string;
  deliveryCount: number;
  previous: { consumer: string; deliveryCount: number; seq: number };
}

/** A delivered value that is not the value sent to that offset, or an offset nothing was sent to. */
export interface WrongValue extends AnomalyBase {
  kind: 'wrong-value';
  consumer: string;
  value: string | null;
  /** The value acknowledged at that offset; undefined when no send was acknowledged there. */
  expected: string | undefined;
}

/** Two consumers handed the same offset with the same delivery count: one acquisition, two holders. */
export interface ConcurrentHolders extends AnomalyBase {
  kind: 'concurrent-holders';
  deliveryCount: number;
  consumers: string[];
}

/** A successful accept of a value the consumers never accept: an acknowledgement landed on the wrong record. */
export interface PoisonAccepted extends AnomalyBase {
  kind: 'poison-accepted';
  consumer: string;
  value: string;
}

export type ShareAnomaly = AcceptedTwice | Lost | OverDelivered | DeliveryCountNotIncreasing | WrongValue | ConcurrentHolders | PoisonAccepted;
export type ShareAnomalyKind = ShareAnomaly['kind'];

export const SHARE_ANOMALY_KINDS: readonly ShareAnomalyKind[] = [
  'accepted-twice',
  'lost',
  'over-delivered',
  'delivery-count-not-increasing',
  'wrong-value',
  'concurrent-holders',
  'poison-accepted',
];

export interface ShareSummary {
  /** Sends acknowledged with an offset. */
  sent: number;
  deliveries: number;
  /** Deliveries with a count above 1. */
  redelivered: number;
  /** Distinct offsets accepted, rejected, gap-acknowledged successfully. */
  accepted: number;
  rejected: number;
  gapped: number;
  /** Offsets never accepted or rejected that were delivered `limit` times (the broker archived them). */
  archivedAtLimit: number;
  /** Sent offsets with none of the above (lost when drained; otherwise still in flight). */
  unsettled: number;
  /** Acknowledgements the broker refused, or did not answer. */
  failedAcks: number;
  unknownAcks: number;
}

export interface ShareCheckResult {
  valid: boolean;
  anomalies: ShareAnomaly[];
  counts: Record<ShareAnomalyKind, number>;
  summary: ShareSummary;
}

/** The anomalies of one kind, typed as that kind. */
export function shareAnomaliesOf<K extends ShareAnomalyKind>(result: ShareCheckResult, kind: K): Extract<ShareAnomaly, { kind: K }>[] {
  return result.anomalies.filter((anomaly): anomaly is Extract<ShareAnomaly, { kind: K }> => anomaly.kind === kind);
}

/**
 * Builds a ShareHistoryInput in the order things happened, numbering `seq` itself: for simulations
 * and hand-made test histories.
 */
export class ShareHistory implements ShareHistoryInput {
  readonly sends: SendEvent[] = [];
  readonly deliveries: ShareDelivery[] = [];
  readonly acks: ShareAck[] = [];
  private next = 0;

  send(event: Omit<SendEvent, 'type'>): void {
    this.sends.push({ type: 'send', ...event });
  }

  deliver(event: Omit<ShareDelivery, 'seq'>): void {
    this.deliveries.push({ ...event, seq: this.next++ });
  }

  ack(event: Omit<ShareAck, 'seq' | 'outcome'> & { outcome?: ShareAck['outcome'] }): void {
    this.acks.push({ outcome: 'ok', ...event, seq: this.next++ });
  }
}

type Event = ({ event: 'delivery' } & ShareDelivery) | ({ event: 'ack' } & ShareAck);

function key(position: { topic: string; partition: number; offset: number }): string {
  return `${position.topic}/${position.partition}@${position.offset}`;
}

function position(event: Position): Position {
  return { topic: event.topic, partition: event.partition, offset: event.offset };
}

function short(value: string | null | undefined): string {
  if (value === null || value === undefined) return String(value);
  return value.length <= 40 ? JSON.stringify(value) : `${JSON.stringify(value.slice(0, 37))}…`;
}

/** Everything known about one offset, in seq order. */
interface OffsetRecord extends Position {
  deliveries: ShareDelivery[];
  acks: (ShareAck & { deliveryCount: number | undefined })[];
}

/** Indexes the history once, in seq order (deliveries before acks at equal seq); the rules read it. */
class ShareIndex {
  readonly sentAt = new Map<string, SendEvent & { offset: number }>();
  /** Values of sends whose outcome is unknown, per partition: they may sit at any offset. */
  readonly unknownValues = new Map<string, Set<string>>();
  readonly offsets = new Map<string, OffsetRecord>();
  readonly events: Event[];

  constructor(input: ShareHistoryInput) {
    for (const send of input.sends) {
      if (send.outcome === 'ok' && send.offset !== undefined) this.sentAt.set(key({ ...send, offset: send.offset }), send as SendEvent & { offset: number });
      if (send.outcome === 'unknown') {
        const partition = `${send.topic}/${send.partition}`;
        let values = this.unknownValues.get(partition);
        if (!values) this.unknownValues.set(partition, (values = new Set()));
        values.add(send.value);
      }
    }
    const events: Event[] = [...input.deliveries.map((d) => ({ event: 'delivery' as const, ...d })), ...input.acks.map((a) => ({ event: 'ack' as const, ...a }))];
    // A stable sort keeps the input order among equal seqs; a delivery goes before an ack at the same seq.
    this.events = events.sort((a, b) => a.seq - b.seq || (a.event === b.event ? 0 : a.event === 'delivery' ? -1 : 1));
    const latestOf = new Map<string, ShareDelivery>();
    for (const event of this.events) {
      const record = this.record(event);
      if (event.event === 'delivery') {
        record.deliveries.push(event);
        latestOf.set(`${event.consumer}\0${key(event)}`, event);
      } else {
        // An ack settles the acknowledging consumer's latest delivery of the offset (none for a gap it never saw).
        const delivered = latestOf.get(`${event.consumer}\0${key(event)}`);
        record.acks.push({ ...event, deliveryCount: event.type === 'gap' ? undefined : delivered?.deliveryCount });
      }
    }
  }

  private record(event: Position): OffsetRecord {
    let record = this.offsets.get(key(event));
    if (!record) this.offsets.set(key(event), (record = { ...position(event), deliveries: [], acks: [] }));
    return record;
  }

  sentValue(event: Position): string | undefined {
    return this.sentAt.get(key(event))?.value;
  }
}

function successful(record: OffsetRecord, type: ShareAckType): OffsetRecord['acks'] {
  return record.acks.filter((ack) => ack.outcome === 'ok' && ack.type === type);
}

function checkAcceptedTwice(index: ShareIndex, out: ShareAnomaly[]): void {
  for (const record of index.offsets.values()) {
    const accepts = successful(record, 'accept');
    if (accepts.length < 2) continue;
    const list = accepts.map((ack) => `${ack.consumer} (seq ${ack.seq})`).join(', ');
    out.push({
      kind: 'accepted-twice',
      ...position(record),
      accepts: accepts.map(({ consumer, seq }) => ({ consumer, seq })),
      message: `${key(record)} was accepted successfully ${accepts.length} times: ${list}`,
      seq: accepts[1]!.seq,
    });
  }
}

/** Drained runs only: every sent record ends accepted, rejected, or archived at the limit. */
function checkLost(index: ShareIndex, limit: number, drained: boolean, out: ShareAnomaly[]): number {
  let unsettled = 0;
  for (const [at, send] of index.sentAt) {
    const record = index.offsets.get(at);
    const acks = record?.acks ?? [];
    // An unanswered accept or reject may have been applied: give it the benefit of the doubt.
    const settled = acks.some((ack) => (ack.type === 'accept' || ack.type === 'reject') && ack.outcome !== 'fail');
    const counts = (record?.deliveries ?? []).map((delivery) => delivery.deliveryCount);
    const maxDeliveryCount = counts.length === 0 ? 0 : Math.max(...counts);
    if (settled || maxDeliveryCount >= limit) continue;
    unsettled += 1;
    if (!drained) continue;
    const gapAckedBy = acks.filter((ack) => ack.type === 'gap' && ack.outcome === 'ok').map((ack) => ack.consumer);
    const how = counts.length === 0 ? 'never delivered' : `delivered ${counts.length} times (highest count ${maxDeliveryCount} of ${limit}), never accepted or rejected`;
    const gap = gapAckedBy.length > 0 ? `; gap-acknowledged by ${gapAckedBy.join(', ')}` : '';
    out.push({
      kind: 'lost',
      ...position(send),
      value: send.value,
      deliveries: counts.length,
      maxDeliveryCount,
      gapAckedBy,
      message: `${key(send)}: value ${short(send.value)} sent by ${send.process} is lost: ${how}${gap}`,
      seq: Math.max(-1, ...acks.map((ack) => ack.seq), ...(record?.deliveries ?? []).map((delivery) => delivery.seq)),
    });
  }
  return unsettled;
}

/**
 * No delivery past the limit, and none after a successful accept, reject or gap: not later in seq
 * (by anyone in global order, by the settling consumer itself in per-consumer order), and never with
 * a count above the settled delivery's, since counts order acquisitions whatever the clocks say.
 */
function checkOverDelivered(index: ShareIndex, limit: number, globalOrder: boolean, out: ShareAnomaly[]): void {
  for (const record of index.offsets.values()) {
    const settles = record.acks.filter((ack) => ack.outcome === 'ok' && ack.type !== 'release');
    for (const delivery of record.deliveries) {
      const where = `${key(delivery)}: ${delivery.consumer} got delivery ${delivery.deliveryCount}`;
      if (delivery.deliveryCount > limit) {
        out.push({ kind: 'over-delivered', ...position(delivery), consumer: delivery.consumer, deliveryCount: delivery.deliveryCount, reason: 'over-limit', message: `${where}, above the limit ${limit}`, seq: delivery.seq });
        continue;
      }
      const settle = settles.find(
        (ack) =>
          (ack.seq < delivery.seq && (globalOrder || ack.consumer === delivery.consumer)) ||
          (ack.deliveryCount !== undefined && delivery.deliveryCount > ack.deliveryCount),
      );
      if (!settle) continue;
      const settled = settle.deliveryCount === undefined ? '' : ` of delivery ${settle.deliveryCount}`;
      out.push({
        kind: 'over-delivered',
        ...position(delivery),
        consumer: delivery.consumer,
        deliveryCount: delivery.deliveryCount,
        reason: 'after-settled',
        settledBy: { consumer: settle.consumer, type: settle.type, seq: settle.seq, deliveryCount: settle.deliveryCount },
        message: `${where} (seq ${delivery.seq}) after ${settle.consumer}'s ${settle.type}${settled} succeeded (seq ${settle.seq})`,
        seq: delivery.seq,
      });
    }
  }
}

/**
 * Each acquisition counts one more delivery. A later delivery with a lower count than an earlier one
 * (any consumer in global order; the same consumer in per-consumer order), or the same count to the
 * same consumer, did not; the same count to another consumer is concurrent-holders. Assumes no
 * share-partition leader change: acquisitions are not persisted, so a new leader may repeat a count.
 */
function checkDeliveryCounts(index: ShareIndex, globalOrder: boolean, out: ShareAnomaly[]): void {
  for (const record of index.offsets.values()) {
    const seen: ShareDelivery[] = [];
    const reportedHolders = new Set<number>();
    for (const delivery of record.deliveries) {
      const previous = seen.find(
        (earlier) =>
          (globalOrder || earlier.consumer === delivery.consumer) &&
          (earlier.deliveryCount > delivery.deliveryCount || (earlier.deliveryCount === delivery.deliveryCount && earlier.consumer === delivery.consumer)),
      );
      if (previous) {
        out.push({
          kind: 'delivery-count-not-increasing',
          ...position(delivery),
          consumer: delivery.consumer,
          deliveryCount: delivery.deliveryCount,
          previous: { consumer: previous.consumer, deliveryCount: previous.deliveryCount, seq: previous.seq },
          message: `${key(delivery)}: ${delivery.consumer} got delivery ${delivery.deliveryCount} (seq ${delivery.seq}) after ${previous.consumer} got delivery ${previous.deliveryCount} (seq ${previous.seq})`,
          seq: delivery.seq,
        });
      }
      const twin = seen.find((earlier) => earlier.deliveryCount === delivery.deliveryCount && earlier.consumer !== delivery.consumer);
      if (twin && !reportedHolders.has(delivery.deliveryCount)) {
        reportedHolders.add(delivery.deliveryCount);
        const consumers = [...new Set(record.deliveries.filter((d) => d.deliveryCount === delivery.deliveryCount).map((d) => d.consumer))];
        out.push({
          kind: 'concurrent-holders',
          ...position(delivery),
          deliveryCount: delivery.deliveryCount,
          consumers,
          message: `${key(delivery)}: delivery ${delivery.deliveryCount} was handed to ${consumers.length} consumers: ${consumers.join(', ')}`,
          seq: delivery.seq,
        });
      }
      seen.push(delivery);
    }
  }
}

/** A delivery shows the value sent to its offset, or a value whose send went unanswered. */
function checkValues(index: ShareIndex, out: ShareAnomaly[]): void {
  for (const record of index.offsets.values()) {
    const expected = index.sentValue(record);
    for (const delivery of record.deliveries) {
      if (expected !== undefined ? delivery.value === expected : delivery.value !== null && (index.unknownValues.get(`${delivery.topic}/${delivery.partition}`)?.has(delivery.value) ?? false)) continue;
      const why = expected !== undefined ? `but ${short(expected)} was sent there` : 'but no send was acknowledged at that offset';
      out.push({
        kind: 'wrong-value',
        ...position(delivery),
        consumer: delivery.consumer,
        value: delivery.value,
        expected,
        message: `${key(delivery)}: ${delivery.consumer} got ${short(delivery.value)} (delivery ${delivery.deliveryCount}), ${why}`,
        seq: delivery.seq,
      });
    }
  }
}

function checkPoisonAccepted(index: ShareIndex, poisoned: ((value: string) => boolean) | undefined, out: ShareAnomaly[]): void {
  if (!poisoned) return;
  for (const record of index.offsets.values()) {
    // An unanswered send has no acknowledged offset: its value is what was delivered there.
    const value = index.sentValue(record) ?? record.deliveries.find((delivery) => delivery.value !== null)?.value ?? undefined;
    if (value === undefined || value === null || !poisoned(value)) continue;
    for (const ack of successful(record, 'accept')) {
      out.push({ kind: 'poison-accepted', ...position(record), consumer: ack.consumer, value, message: `${key(record)}: ${ack.consumer}'s accept succeeded, but it holds the poisoned value ${short(value)}, which no consumer accepts`, seq: ack.seq });
    }
  }
}

function summarize(index: ShareIndex, limit: number, unsettled: number): ShareSummary {
  let accepted = 0;
  let rejected = 0;
  let gapped = 0;
  let archivedAtLimit = 0;
  for (const record of index.offsets.values()) {
    const isAccepted = successful(record, 'accept').length > 0;
    const isRejected = successful(record, 'reject').length > 0;
    if (isAccepted) accepted += 1;
    if (isRejected) rejected += 1;
    if (successful(record, 'gap').length > 0) gapped += 1;
    if (!isAccepted && !isRejected && record.deliveries.some((delivery) => delivery.deliveryCount >= limit)) archivedAtLimit += 1;
  }
  const deliveries = index.events.filter((event): event is Event & { event: 'delivery' } => event.event === 'delivery');
  const acks = index.events.filter((event): event is Event & { event: 'ack' } => event.event === 'ack');
  return {
    sent: index.sentAt.size,
    deliveries: deliveries.length,
    redelivered: deliveries.filter((delivery) => delivery.deliveryCount > 1).length,
    accepted,
    rejected,
    gapped,
    archivedAtLimit,
    unsettled,
    failedAcks: acks.filter((ack) => ack.outcome === 'fail').length,
    unknownAcks: acks.filter((ack) => ack.outcome === 'unknown').length,
  };
}

export function checkShareHistory(input: ShareHistoryInput, options: CheckShareOptions = {}): ShareCheckResult {
  const limit = options.deliveryCountLimit ?? 5;
  const globalOrder = (options.order ?? 'global') === 'global';
  const index = new ShareIndex(input);
  const anomalies: ShareAnomaly[] = [];
  checkAcceptedTwice(index, anomalies);
  const unsettled = checkLost(index, limit, options.drained ?? false, anomalies);
  checkOverDelivered(index, limit, globalOrder, anomalies);
  checkDeliveryCounts(index, globalOrder, anomalies);
  checkValues(index, anomalies);
  checkPoisonAccepted(index, options.poisoned, anomalies);
  anomalies.sort((a, b) => a.seq - b.seq);
  const counts = Object.fromEntries(SHARE_ANOMALY_KINDS.map((kind) => [kind, 0])) as Record<ShareAnomalyKind, number>;
  for (const anomaly of anomalies) counts[anomaly.kind] += 1;
  return { valid: anomalies.length === 0, anomalies, counts, summary: summarize(index, limit, unsettled) };
}

/** A report a person can read: the summary, then up to `perKind` anomalies of each kind. */
export function formatShareReport(result: ShareCheckResult, perKind = 10): string {
  const s = result.summary;
  const lines = [
    `${s.sent} sent, ${s.deliveries} deliveries (${s.redelivered} redeliveries), ${s.accepted} accepted, ${s.rejected} rejected, ${s.gapped} gap-acknowledged, ${s.archivedAtLimit} archived at the limit, ${s.unsettled} unsettled; ${s.failedAcks} acks refused, ${s.unknownAcks} unanswered`,
  ];
  if (result.valid) lines.push('no anomalies');
  for (const kind of SHARE_ANOMALY_KINDS) {
    const found = result.anomalies.filter((anomaly) => anomaly.kind === kind);
    if (found.length === 0) continue;
    lines.push(`${kind}: ${found.length}`);
    for (const anomaly of found.slice(0, perKind)) lines.push(`  [seq ${anomaly.seq}] ${anomaly.message}`);
    if (found.length > perKind) lines.push(`  … ${found.length - perKind} more`);
  }
  return lines.join('\n');
}
