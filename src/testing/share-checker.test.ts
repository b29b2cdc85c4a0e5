// The share-group checker against hand-made histories (a clean one has no anomaly; each one built
// around one anomaly yields exactly that kind, naming the offset), and against a seeded model of a
// share partition with several consumers, releases, rejects, lock expiries, unanswered acks and the
// delivery limit: its histories are clean, and one injected fault of each kind is caught.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CheckShareOptions,
  type ShareAck,
  type ShareAnomaly,
  type ShareAnomalyKind,
  type ShareDelivery,
  type ShareHistoryInput,
  SHARE_ANOMALY_KINDS,
  ShareHistory,
  checkShareHistory,
  formatShareReport,
  shareAnomaliesOf,
} from './share-checker.js';

const TOPIC = 't';
const poisoned = (value: string): boolean => value.startsWith('poison');

function kinds(input: ShareHistoryInput, options: CheckShareOptions): ShareAnomalyKind[] {
  return [...new Set(checkShareHistory(input, options).anomalies.map((anomaly) => anomaly.kind))];
}

/** The history has anomalies of `kind` only, exactly one, with the `expected` fields; its message names the offset. */
function only<K extends ShareAnomalyKind>(
  input: ShareHistoryInput,
  kind: K,
  expected: Partial<Extract<ShareAnomaly, { kind: K }>>,
  options: CheckShareOptions = { deliveryCountLimit: 3, poisoned, drained: true },
): Extract<ShareAnomaly, { kind: K }> {
  const result = checkShareHistory(input, options);
  assert.deepEqual(kinds(input, options), [kind], formatShareReport(result));
  const found = shareAnomaliesOf(result, kind);
  assert.equal(found.length, 1, formatShareReport(result));
  const anomaly = found[0]!;
  for (const [field, value] of Object.entries(expected)) assert.deepEqual(anomaly[field as keyof typeof anomaly], value, `${field} of ${anomaly.message}`);
  assert.ok(anomaly.message.includes(`${anomaly.topic}/${anomaly.partition}@${anomaly.offset}`), `the message names the offset: ${anomaly.message}`);
  assert.ok(formatShareReport(result).includes(anomaly.message), 'the report shows the message');
  return anomaly;
}

/** a, b, c, poison at 0..3. a accepted by c1; b released by c1, expires at c2, accepted by c1; c rejected; poison released to the limit (3). */
function cleanHistory(): ShareHistory {
  const history = new ShareHistory();
  ['a', 'b', 'c', 'poison'].forEach((value, offset) => history.send({ process: 'producer', topic: TOPIC, partition: 0, value, outcome: 'ok', offset }));
  history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'maybe', outcome: 'unknown' });
  history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'refused', outcome: 'fail', error: 'NOT_LEADER_OR_FOLLOWER' });
  const at = (offset: number, value: string) => ({ topic: TOPIC, partition: 0, offset, value });
  history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
  history.deliver({ consumer: 'c1', ...at(1, 'b'), deliveryCount: 1 });
  history.deliver({ consumer: 'c2', ...at(2, 'c'), deliveryCount: 1 });
  history.deliver({ consumer: 'c2', ...at(3, 'poison'), deliveryCount: 1 });
  history.deliver({ consumer: 'c2', ...at(4, 'maybe'), deliveryCount: 1 });
  history.ack({ consumer: 'c1', topic: TOPIC, partition: 0, offset: 0, type: 'accept' });
  history.ack({ consumer: 'c1', topic: TOPIC, partition: 0, offset: 1, type: 'release' });
  history.ack({ consumer: 'c2', topic: TOPIC, partition: 0, offset: 2, type: 'reject' });
  history.ack({ consumer: 'c2', topic: TOPIC, partition: 0, offset: 3, type: 'release' });
  history.ack({ consumer: 'c2', topic: TOPIC, partition: 0, offset: 4, type: 'accept' });
  history.deliver({ consumer: 'c2', ...at(1, 'b'), deliveryCount: 2 });
  // c2's lock on b expires; c1 gets it, and c2's late accept is refused.
  history.deliver({ consumer: 'c1', ...at(1, 'b'), deliveryCount: 3 });
  history.ack({ consumer: 'c2', topic: TOPIC, partition: 0, offset: 1, type: 'accept', outcome: 'fail', error: 'INVALID_RECORD_STATE' });
  history.ack({ consumer: 'c1', topic: TOPIC, partition: 0, offset: 1, type: 'accept' });
  history.deliver({ consumer: 'c1', ...at(3, 'poison'), deliveryCount: 2 });
  history.ack({ consumer: 'c1', topic: TOPIC, partition: 0, offset: 3, type: 'release' });
  history.deliver({ consumer: 'c2', ...at(3, 'poison'), deliveryCount: 3 });
  history.ack({ consumer: 'c2', topic: TOPIC, partition: 0, offset: 3, type: 'release' });
  return history;
}

const at = (offset: number, value: string) => ({ topic: TOPIC, partition: 0, offset, value });
const ackOf = (consumer: string, offset: number, type: ShareAck['type']) => ({ consumer, topic: TOPIC, partition: 0, offset, type });

/** One ok send of `value` at offset 0 (and more with `values`). */
function sent(...values: string[]): ShareHistory {
  const history = new ShareHistory();
  values.forEach((value, offset) => history.send({ process: 'producer', topic: TOPIC, partition: 0, value, outcome: 'ok', offset }));
  return history;
}

describe('share checker: hand-made histories', () => {
  it('finds nothing in a clean history, and summarises it', () => {
    const result = checkShareHistory(cleanHistory(), { deliveryCountLimit: 3, poisoned, drained: true });
    assert.deepEqual(result.anomalies, [], formatShareReport(result));
    assert.ok(result.valid);
    assert.deepEqual(result.summary, { sent: 4, deliveries: 9, redelivered: 4, accepted: 3, rejected: 1, gapped: 0, archivedAtLimit: 1, unsettled: 0, failedAcks: 1, unknownAcks: 0 });
    assert.match(formatShareReport(result), /^4 sent, 9 deliveries \(4 redeliveries\), 3 accepted, 1 rejected.*1 archived at the limit.*\nno anomalies$/);
  });

  it('accepted-twice: one offset accepted successfully by two consumers', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'accept'));
    history.ack(ackOf('c2', 0, 'accept'));
    const anomaly = only(history, 'accepted-twice', { offset: 0 });
    assert.deepEqual(anomaly.accepts.map((accept) => accept.consumer), ['c1', 'c2']);
  });

  it('a refused or unanswered second accept is not accepted-twice', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'accept'));
    history.ack({ ...ackOf('c2', 0, 'accept'), outcome: 'fail', error: 'INVALID_RECORD_STATE' });
    history.ack({ ...ackOf('c2', 0, 'accept'), outcome: 'unknown' });
    assert.deepEqual(checkShareHistory(history, { drained: true }).anomalies, []);
  });

  it('lost: delivered, released, never settled, in a drained run; only unsettled when not drained', () => {
    const history = sent('a', 'b');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'accept'));
    history.deliver({ consumer: 'c1', ...at(1, 'b'), deliveryCount: 1 });
    history.ack(ackOf('c1', 1, 'release'));
    only(history, 'lost', { offset: 1, value: 'b', deliveries: 1, maxDeliveryCount: 1 });
    const running = checkShareHistory(history, { deliveryCountLimit: 3, drained: false });
    assert.deepEqual(running.anomalies, []);
    assert.equal(running.summary.unsettled, 1);
  });

  it('lost: gap-acknowledged although a record was sent there', () => {
    const history = sent('a');
    history.ack(ackOf('c1', 0, 'gap'));
    only(history, 'lost', { offset: 0, deliveries: 0, gapAckedBy: ['c1'] });
  });

  it('not lost: archived at the limit, rejected, or accepted without an answer', () => {
    const history = sent('a', 'b', 'c');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.deliver({ consumer: 'c2', ...at(0, 'a'), deliveryCount: 2 }); // c1's lock expired
    history.deliver({ consumer: 'c1', ...at(1, 'b'), deliveryCount: 1 });
    history.ack(ackOf('c1', 1, 'reject'));
    history.deliver({ consumer: 'c1', ...at(2, 'c'), deliveryCount: 1 });
    history.ack({ ...ackOf('c1', 2, 'accept'), outcome: 'unknown' });
    const result = checkShareHistory(history, { deliveryCountLimit: 2, drained: true });
    assert.deepEqual(result.anomalies, [], formatShareReport(result));
    assert.equal(result.summary.archivedAtLimit, 1);
  });

  it('over-delivered: a delivery count above the limit', () => {
    const history = sent('a');
    for (let count = 1; count <= 3; count++) {
      history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: count });
      history.ack(ackOf('c1', 0, 'release'));
    }
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 4 });
    only(history, 'over-delivered', { offset: 0, deliveryCount: 4, reason: 'over-limit' });
  });

  it('over-delivered: delivered again after a successful accept', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'accept'));
    history.deliver({ consumer: 'c2', ...at(0, 'a'), deliveryCount: 2 });
    const anomaly = only(history, 'over-delivered', { offset: 0, consumer: 'c2', reason: 'after-settled' });
    assert.deepEqual(anomaly.settledBy, { consumer: 'c1', type: 'accept', seq: 1, deliveryCount: 1 });
  });

  it('over-delivered: delivered again after a successful reject, even to the same consumer with a stale count', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'reject'));
    history.deliver({ consumer: 'c2', ...at(0, 'a'), deliveryCount: 2 });
    const anomaly = only(history, 'over-delivered', { offset: 0, consumer: 'c2', reason: 'after-settled' });
    assert.equal(anomaly.settledBy?.type, 'reject');
  });

  it('delivery-count-not-increasing: a later delivery with a lower count', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 2 });
    history.deliver({ consumer: 'c2', ...at(0, 'a'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'accept'));
    const anomaly = only(history, 'delivery-count-not-increasing', { offset: 0, consumer: 'c2', deliveryCount: 1 });
    assert.deepEqual(anomaly.previous, { consumer: 'c1', deliveryCount: 2, seq: 0 });
  });

  it('delivery-count-not-increasing: the same count handed twice to one consumer', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'accept'));
    only(history, 'delivery-count-not-increasing', { offset: 0, consumer: 'c1', deliveryCount: 1 });
  });

  it('per-consumer order: a lower count arriving later from another consumer is no anomaly, from the same one it is', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 2 });
    history.deliver({ consumer: 'c2', ...at(0, 'a'), deliveryCount: 1 }); // printed late by c2
    history.ack(ackOf('c1', 0, 'accept'));
    const perConsumer: CheckShareOptions = { drained: true, order: 'per-consumer' };
    assert.deepEqual(checkShareHistory(history, perConsumer).anomalies, []);
    assert.deepEqual(kinds(history, { drained: true }), ['delivery-count-not-increasing']);
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 2 });
    assert.deepEqual(kinds(history, perConsumer), ['over-delivered', 'delivery-count-not-increasing']);
  });

  it('per-consumer order: a delivery after another consumer accepted is caught by its higher count only', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 2 });
    history.ack(ackOf('c1', 0, 'accept'));
    history.deliver({ consumer: 'c2', ...at(0, 'a'), deliveryCount: 1 }); // acquired before c1's, printed late
    const perConsumer: CheckShareOptions = { drained: true, order: 'per-consumer' };
    assert.deepEqual(checkShareHistory(history, perConsumer).anomalies, []);
    history.deliver({ consumer: 'c2', ...at(0, 'a'), deliveryCount: 3 });
    only(history, 'over-delivered', { offset: 0, consumer: 'c2', deliveryCount: 3, reason: 'after-settled' }, perConsumer);
  });

  it('wrong-value: a delivered value differing from the one sent there', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'b'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'accept'));
    only(history, 'wrong-value', { offset: 0, value: 'b', expected: 'a' });
  });

  it('wrong-value: a delivery at an offset nothing was sent to, or of a refused send', () => {
    const history = sent('a');
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'refused', outcome: 'fail' });
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'accept'));
    history.deliver({ consumer: 'c1', ...at(1, 'refused'), deliveryCount: 1 });
    history.ack(ackOf('c1', 1, 'accept'));
    only(history, 'wrong-value', { offset: 1, value: 'refused', expected: undefined });
  });

  it('concurrent-holders: one delivery count handed to two consumers', () => {
    const history = sent('a');
    history.deliver({ consumer: 'c1', ...at(0, 'a'), deliveryCount: 1 });
    history.deliver({ consumer: 'c2', ...at(0, 'a'), deliveryCount: 1 });
    history.ack(ackOf('c2', 0, 'accept'));
    only(history, 'concurrent-holders', { offset: 0, deliveryCount: 1, consumers: ['c1', 'c2'] });
  });

  it('poison-accepted: a successful accept of a value no consumer accepts', () => {
    const history = sent('poison-1');
    history.deliver({ consumer: 'c1', ...at(0, 'poison-1'), deliveryCount: 1 });
    history.ack(ackOf('c1', 0, 'accept'));
    only(history, 'poison-accepted', { offset: 0, consumer: 'c1', value: 'poison-1' });
  });

  it('the report lists each kind with its anomalies', () => {
    const history = sent('a', 'b');
    history.deliver({ consumer: 'c1', ...at(0, 'x'), deliveryCount: 7 });
    const report = formatShareReport(checkShareHistory(history, { drained: true }));
    assert.match(report, /over-delivered: 1\n {2}\[seq 0\] t\/0@0: c1 got delivery 7, above the limit 5/);
    assert.match(report, /wrong-value: 1\n/);
    assert.match(report, /lost: 1\n/);
  });
});

// ---------------------------------------------------------------- the model

/** A small deterministic generator (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ModelRun {
  history: ShareHistory;
  options: CheckShareOptions;
  consumers: string[];
}

type RecordState = { state: 'available' | 'acquired' | 'acknowledged' | 'archived'; count: number; owner: string | undefined; value: string };

/**
 * A share partition served correctly (3.2): acquisition counts one more delivery; an ack succeeds
 * only from the record's owner; release makes it available again unless at the limit; lock expiry
 * and a consumer's session ending do the same without an ack. Some acks go unanswered (applied or
 * not), some sends are refused or unanswered (written or not). Runs until every record is settled.
 */
function simulate(seed: number): ModelRun {
  const rand = random(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const limit = 2 + Math.floor(rand() * 4);
  const consumers = Array.from({ length: 2 + Math.floor(rand() * 3) }, (_, i) => `c${i}`);
  const history = new ShareHistory();
  const partitions: RecordState[][] = [[], []];
  partitions.forEach((log, partition) => {
    const records = 3 + Math.floor(rand() * 12);
    for (let i = 0; i < records; i++) {
      const value = `${i % 5 === 3 ? 'poison' : 'v'}-${seed}-${partition}-${i}`;
      const send = { process: 'producer', topic: TOPIC, partition, value };
      const roll = rand();
      if (roll < 0.03) history.send({ ...send, outcome: 'fail', error: 'NOT_ENOUGH_REPLICAS' });
      else if (roll < 0.06) history.send({ ...send, outcome: 'unknown' });
      else {
        if (roll < 0.09) history.send({ ...send, outcome: 'unknown' });
        else history.send({ ...send, outcome: 'ok', offset: log.length });
        log.push({ state: 'available', count: 0, owner: undefined, value });
      }
    }
  });
  /** consumer -> `partition/offset` -> the partition and offset it holds (its latest delivery). */
  const held = new Map(consumers.map((consumer) => [consumer, new Map<string, { partition: number; offset: number }>()]));
  const unsettled = () => partitions.some((log) => log.some((record) => record.state === 'available' || record.state === 'acquired'));
  const makeAvailable = (record: RecordState) => {
    record.state = record.count >= limit ? 'archived' : 'available';
    record.owner = undefined;
  };
  for (let step = 0; unsettled() && step < 20_000; step++) {
    const roll = rand();
    const consumer = pick(consumers);
    const holding = held.get(consumer)!;
    if (roll < 0.4) {
      const partition = Math.floor(rand() * partitions.length);
      let room = 1 + Math.floor(rand() * 3);
      partitions[partition]!.forEach((record, offset) => {
        if (room === 0 || record.state !== 'available') return;
        room -= 1;
        record.state = 'acquired';
        record.owner = consumer;
        record.count += 1;
        holding.set(`${partition}/${offset}`, { partition, offset });
        history.deliver({ consumer, topic: TOPIC, partition, offset, value: record.value, deliveryCount: record.count });
      });
    } else if (roll < 0.85 && holding.size > 0) {
      const [key, { partition, offset }] = pick([...holding.entries()]);
      holding.delete(key);
      const record = partitions[partition]![offset]!;
      const type = poisoned(record.value) ? (rand() < 0.5 ? 'reject' : 'release') : rand() < 0.7 ? 'accept' : 'release';
      const owned = record.state === 'acquired' && record.owner === consumer;
      const unanswered = rand() < 0.05;
      if (owned && (!unanswered || rand() < 0.5)) {
        if (type === 'accept') record.state = 'acknowledged';
        else if (type === 'reject') record.state = 'archived';
        else makeAvailable(record);
        record.owner = undefined;
      }
      const outcome = unanswered ? 'unknown' : owned ? 'ok' : 'fail';
      history.ack({ consumer, topic: TOPIC, partition, offset, type, outcome, ...(outcome === 'fail' ? { error: 'INVALID_RECORD_STATE' } : {}) });
    } else if (roll < 0.95) {
      const locked = partitions.flatMap((log) => log.filter((record) => record.state === 'acquired'));
      if (locked.length > 0) makeAvailable(pick(locked)); // its lock expired; the holder does not know
    } else if (roll < 0.97) {
      // The consumer's session ends: the broker releases everything it holds.
      for (const log of partitions) for (const record of log) if (record.state === 'acquired' && record.owner === consumer) makeAvailable(record);
      holding.clear();
    }
  }
  assert.ok(!unsettled(), `seed ${seed}: the model settles every record`);
  return { history, options: { deliveryCountLimit: limit, poisoned, drained: true }, consumers };
}

function copy(input: ShareHistoryInput): { sends: ShareHistoryInput['sends'][number][]; deliveries: ShareDelivery[]; acks: ShareAck[] } {
  return { sends: [...input.sends], deliveries: input.deliveries.map((d) => ({ ...d })), acks: input.acks.map((a) => ({ ...a })) };
}

function lastSeq(input: ShareHistoryInput): number {
  return Math.max(...input.deliveries.map((d) => d.seq), ...input.acks.map((a) => a.seq));
}

/** One fault per kind, written into a clean model history; undefined when the history lacks what it needs. */
const FAULTS: Record<ShareAnomalyKind, (run: ModelRun, rand: () => number) => ShareHistoryInput | undefined> = {
  'accepted-twice': ({ history }, rand) => {
    const accepts = history.acks.filter((ack) => ack.type === 'accept' && ack.outcome === 'ok');
    if (accepts.length === 0) return undefined;
    const faulty = copy(history);
    faulty.acks.push({ ...accepts[Math.floor(rand() * accepts.length)]!, seq: lastSeq(history) + 1 });
    return faulty;
  },
  lost: ({ history }) => {
    const faulty = copy(history);
    faulty.sends.push({ type: 'send', process: 'producer', topic: TOPIC, partition: 0, value: 'never-delivered', outcome: 'ok', offset: 1000 });
    return faulty;
  },
  'over-delivered': ({ history, consumers }, rand) => {
    const settles = history.acks.filter((ack) => ack.type !== 'release' && ack.outcome === 'ok');
    if (settles.length === 0) return undefined;
    const settle = settles[Math.floor(rand() * settles.length)]!;
    const last = history.deliveries.filter((d) => d.offset === settle.offset && d.partition === settle.partition).at(-1)!;
    const faulty = copy(history);
    // Any consumer: in per-consumer order another consumer's late delivery is caught by its count alone.
    const consumer = consumers[Math.floor(rand() * consumers.length)]!;
    faulty.deliveries.push({ ...last, consumer, deliveryCount: last.deliveryCount + 1, seq: lastSeq(history) + 1 });
    return faulty;
  },
  'delivery-count-not-increasing': ({ history }, rand) => {
    const original = history.deliveries[Math.floor(rand() * history.deliveries.length)]!;
    const faulty = copy(history);
    faulty.deliveries.push({ ...original, seq: original.seq + 0.5 });
    return faulty;
  },
  'wrong-value': ({ history }, rand) => {
    const faulty = copy(history);
    faulty.deliveries[Math.floor(rand() * faulty.deliveries.length)]!.value = 'bogus';
    return faulty;
  },
  'concurrent-holders': ({ history, consumers }, rand) => {
    const original = history.deliveries[Math.floor(rand() * history.deliveries.length)]!;
    const others = consumers.filter((consumer) => consumer !== original.consumer);
    const faulty = copy(history);
    faulty.deliveries.push({ ...original, consumer: others[Math.floor(rand() * others.length)]!, seq: original.seq + 0.5 });
    return faulty;
  },
  'poison-accepted': ({ history }, rand) => {
    const rejects = history.acks.filter((ack) => ack.type === 'reject' && ack.outcome === 'ok');
    if (rejects.length === 0) return undefined;
    const faulty = copy(history);
    const reject = rejects[Math.floor(rand() * rejects.length)]!;
    faulty.acks.find((ack) => ack.seq === reject.seq)!.type = 'accept';
    return faulty;
  },
};

/** The same run as several processes' merged output: each consumer's order kept, the interleaving random. */
function mergedByArrival(input: ShareHistoryInput, rand: () => number): ShareHistoryInput {
  type Item = { delivery: ShareDelivery } | { ack: ShareAck };
  const items: (Item & { seq: number; consumer: string })[] = [
    ...input.deliveries.map((delivery) => ({ delivery, seq: delivery.seq, consumer: delivery.consumer })),
    ...input.acks.map((ack) => ({ ack, seq: ack.seq, consumer: ack.consumer })),
  ].sort((a, b) => a.seq - b.seq);
  const queues = new Map<string, typeof items>();
  for (const item of items) queues.set(item.consumer, [...(queues.get(item.consumer) ?? []), item]);
  const merged: ShareHistoryInput = { sends: input.sends, deliveries: [], acks: [] };
  for (let seq = 0; queues.size > 0; seq++) {
    const consumer = [...queues.keys()][Math.floor(rand() * queues.size)]!;
    const queue = queues.get(consumer)!;
    const item = queue.shift()!;
    if (queue.length === 0) queues.delete(consumer);
    if ('delivery' in item) (merged.deliveries as ShareDelivery[]).push({ ...item.delivery, seq });
    else (merged.acks as ShareAck[]).push({ ...item.ack, seq });
  }
  return merged;
}

const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);

describe('share checker: the model', () => {
  it('finds no anomaly in 200 seeded runs of a correct share partition, in either order mode', () => {
    const totals = { redelivered: 0, rejected: 0, archivedAtLimit: 0, failedAcks: 0, unknownAcks: 0 };
    for (const seed of SEEDS) {
      const run = simulate(seed);
      for (const order of ['global', 'per-consumer'] as const) {
        const result = checkShareHistory(run.history, { ...run.options, order });
        assert.ok(result.valid, `seed ${seed} (${order}):\n${formatShareReport(result)}`);
        if (order === 'global') for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += result.summary[key];
      }
      const merged = checkShareHistory(mergedByArrival(run.history, random(seed * 7)), { ...run.options, order: 'per-consumer' });
      assert.ok(merged.valid, `seed ${seed} merged by arrival:\n${formatShareReport(merged)}`);
    }
    // The model exercises what the rules are about.
    for (const [key, total] of Object.entries(totals)) assert.ok(total > 50, `${key}: ${total}`);
  });

  for (const kind of SHARE_ANOMALY_KINDS) {
    it(`catches one injected ${kind} in each run, in either order mode`, () => {
      let injected = 0;
      for (const seed of SEEDS) {
        const run = simulate(seed);
        const faulty = FAULTS[kind](run, random(seed * 13 + 1));
        if (!faulty) continue;
        injected += 1;
        const result = checkShareHistory(faulty, run.options);
        assert.deepEqual(kinds(faulty, run.options), [kind], `seed ${seed}:\n${formatShareReport(result)}`);
        // Every fault is one the per-consumer mode sees too, in any merge of the consumers' outputs.
        const merged = mergedByArrival(faulty, random(seed * 17));
        const perConsumer: CheckShareOptions = { ...run.options, order: 'per-consumer' };
        assert.deepEqual(kinds(merged, perConsumer), [kind], `seed ${seed} merged:\n${formatShareReport(checkShareHistory(merged, perConsumer))}`);
      }
      assert.ok(injected >= 100, `injected into ${injected} runs`);
    });
  }
});
