// The queue checker against synthetic histories: a clean one has no anomaly, and each history
// built around one anomaly yields exactly that kind, with the partition, offsets and values in its
// fields (tests select on fields; messages are for people and never parsed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { History } from './history.js';
import { type Anomaly, type AnomalyKind, anomaliesOf, checkQueueHistory, formatQueueReport } from './queue-checker.js';

const TOPIC = 't';

/** p0 gets a, b, c at 0..2 and p1 gets d at 0; one consumer reads everything in order. */
function cleanHistory(): History {
  const history = new History();
  ['a', 'b', 'c'].forEach((value, offset) => history.send({ process: 'producer', topic: TOPIC, partition: 0, value, outcome: 'ok', offset }));
  history.send({ process: 'producer', topic: TOPIC, partition: 1, value: 'd', outcome: 'ok', offset: 0 });
  history.send({ process: 'producer', topic: TOPIC, partition: 1, value: 'never-acked', outcome: 'unknown' });
  history.assign('consumer', TOPIC, [0, 1]);
  ['a', 'b', 'c'].forEach((value, offset) => history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset, value }));
  history.poll({ process: 'consumer', topic: TOPIC, partition: 1, offset: 0, value: 'd' });
  history.commit({ process: 'consumer', group: 'g', topic: TOPIC, partition: 0, offset: 2, outcome: 'ok' });
  history.commit({ process: 'consumer', group: 'g', topic: TOPIC, partition: 0, offset: 3, outcome: 'ok' });
  history.committedRead({ process: 'consumer', group: 'g', topic: TOPIC, partition: 0, offset: 3 });
  return history;
}

function kinds(history: History, finalReadComplete = true): AnomalyKind[] {
  return [...new Set(checkQueueHistory(history, { finalReadComplete }).anomalies.map((anomaly) => anomaly.kind))];
}

/** The history has anomalies of `kind` only, exactly one, and it has the `expected` fields. */
function only<K extends AnomalyKind>(history: History, kind: K, expected: Partial<Extract<Anomaly, { kind: K }>>, finalReadComplete = true): Extract<Anomaly, { kind: K }> {
  const result = checkQueueHistory(history, { finalReadComplete });
  assert.deepEqual(kinds(history, finalReadComplete), [kind], formatQueueReport(result));
  const found = anomaliesOf(result, kind);
  assert.equal(found.length, 1, formatQueueReport(result));
  const anomaly = found[0]!;
  for (const [field, value] of Object.entries(expected)) assert.deepEqual(anomaly[field as keyof typeof anomaly], value, `${field} of ${anomaly.message}`);
  assert.ok(formatQueueReport(result).includes(anomaly.message), 'the report shows the message');
  return anomaly;
}

describe('queue checker', () => {
  it('finds nothing in a clean history, and says so', () => {
    const result = checkQueueHistory(cleanHistory(), { finalReadComplete: true });
    assert.deepEqual(result.anomalies, []);
    assert.ok(result.valid);
    assert.match(formatQueueReport(result), /4 acknowledged.*no anomalies/s);
  });

  it('lost write: acknowledged, never read, readers went past it', () => {
    const history = new History();
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'a', outcome: 'ok', offset: 0 });
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'b', outcome: 'ok', offset: 1 });
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 1, value: 'b' });
    only(history, 'lost-write', { topic: TOPIC, partition: 0, offset: 0, value: 'a', process: 'producer', readersReachedOffset: 1 }, false);
  });

  it('an unread acknowledged value at the end is unseen, and lost once the final read completed', () => {
    const history = new History();
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'a', outcome: 'ok', offset: 0 });
    const open = checkQueueHistory(history);
    assert.equal(open.stats.unseen, 1);
    assert.ok(open.valid);
    only(history, 'lost-write', { partition: 0, offset: 0, value: 'a', readersReachedOffset: -1 }, true);
  });

  it('duplicate: one value at two offsets', () => {
    const history = cleanHistory();
    history.poll({ process: 'other', topic: TOPIC, partition: 0, offset: 3, value: 'b' });
    only(history, 'duplicate', {
      value: 'b',
      positions: [
        { topic: TOPIC, partition: 0, offset: 1, source: 'ack to producer' },
        { topic: TOPIC, partition: 0, offset: 3, source: 'poll by other' },
      ],
    });
  });

  it('inconsistent offsets: one offset, two values', () => {
    const history = cleanHistory();
    history.send({ process: 'producer', topic: TOPIC, partition: 1, value: 'e', outcome: 'ok', offset: 1 });
    history.poll({ process: 'other', topic: TOPIC, partition: 1, offset: 0, value: 'e' });
    const result = checkQueueHistory(history, { finalReadComplete: true });
    // 'e' at two offsets is also a duplicate; the inconsistency is at offset 0.
    const inconsistent = anomaliesOf(result, 'inconsistent-offsets');
    assert.deepEqual(
      inconsistent.map(({ topic, partition, offset, values }) => ({ topic, partition, offset, values })),
      [{ topic: TOPIC, partition: 1, offset: 0, values: ['d', 'e'] }],
      formatQueueReport(result),
    );
  });

  it('non-monotonic send: a later acknowledgement at a lower offset', () => {
    const history = new History();
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'a', outcome: 'ok', offset: 5 });
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'b', outcome: 'ok', offset: 4 });
    only(history, 'non-monotonic-send', { process: 'producer', partition: 0, offset: 4, value: 'b', previousOffset: 5, previousValue: 'a' }, false);
  });

  it('non-monotonic poll: offsets going back without a reassignment', () => {
    const history = cleanHistory();
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 1, value: 'b' });
    only(history, 'non-monotonic-poll', { process: 'consumer', partition: 0, offset: 1, value: 'b', previousOffset: 2, previousValue: 'c' });
  });

  it('a re-read after a reassignment is no anomaly', () => {
    const history = cleanHistory();
    history.assign('consumer', TOPIC, [0]);
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 0, value: 'a' });
    assert.deepEqual(kinds(history), []);
  });

  it('poll skip: jumping over a known value without a reassignment', () => {
    const history = new History();
    ['a', 'b', 'c'].forEach((value, offset) => history.send({ process: 'producer', topic: TOPIC, partition: 0, value, outcome: 'ok', offset }));
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 0, value: 'a' });
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 2, value: 'c' });
    history.poll({ process: 'reader2', topic: TOPIC, partition: 0, offset: 1, value: 'b' });
    only(history, 'poll-skip', { process: 'consumer', partition: 0, fromOffset: 0, offset: 2, skipped: [{ offset: 1, value: 'b' }] });
  });

  it('a gap with nothing known in it (a control record) is no skip', () => {
    const history = new History();
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'a', outcome: 'ok', offset: 0 });
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'c', outcome: 'ok', offset: 2 });
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 0, value: 'a' });
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 2, value: 'c' });
    assert.deepEqual(kinds(history), []);
  });

  it('aborted read: read_committed sees a value of an aborted transaction', () => {
    const history = new History();
    history.send({ process: 'tx-producer', topic: TOPIC, partition: 0, value: 'x', outcome: 'ok', offset: 0, transaction: 'tx-1' });
    history.transaction('tx-producer', 'tx-1', 'abort');
    history.send({ process: 'tx-producer', topic: TOPIC, partition: 0, value: 'y', outcome: 'ok', offset: 2, transaction: 'tx-2' });
    history.transaction('tx-producer', 'tx-2', 'commit');
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 0, value: 'x', isolation: 'read_committed' });
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 2, value: 'y', isolation: 'read_committed' });
    only(history, 'aborted-read', { process: 'consumer', partition: 0, offset: 0, value: 'x', transaction: 'tx-1' });
  });

  it('aborted values are neither lost nor skipped for read_committed readers', () => {
    const history = new History();
    history.send({ process: 'tx-producer', topic: TOPIC, partition: 0, value: 'a', outcome: 'ok', offset: 0, transaction: 'tx-0' });
    history.send({ process: 'tx-producer', topic: TOPIC, partition: 0, value: 'x', outcome: 'ok', offset: 1, transaction: 'tx-1' });
    history.transaction('tx-producer', 'tx-1', 'abort');
    history.send({ process: 'tx-producer', topic: TOPIC, partition: 0, value: 'y', outcome: 'ok', offset: 3 });
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 0, value: 'a', isolation: 'read_committed' });
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 3, value: 'y', isolation: 'read_committed' });
    assert.deepEqual(kinds(history), []);
  });

  it('read of a failed write: a value the broker refused is served to a reader', () => {
    const history = cleanHistory();
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'refused', outcome: 'fail', error: 'error 56' });
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 3, value: 'refused' });
    only(history, 'read-of-failed-write', { process: 'consumer', topic: TOPIC, partition: 0, offset: 3, value: 'refused', producer: 'producer', error: 'error 56' });
  });

  it('a refused value nobody reads, and a read of an unknown-outcome value, are no anomaly', () => {
    const history = cleanHistory();
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'refused', outcome: 'fail', error: 'error 56' });
    // 'never-acked' (outcome unknown in the clean history) may or may not have been written.
    history.poll({ process: 'consumer', topic: TOPIC, partition: 1, offset: 1, value: 'never-acked' });
    assert.deepEqual(kinds(history), []);
  });

  it('committed offset going backwards: a lower commit, or OffsetFetch below an acknowledged commit', () => {
    const lower = cleanHistory();
    lower.commit({ process: 'consumer2', group: 'g', topic: TOPIC, partition: 0, offset: 1, outcome: 'ok' });
    only(lower, 'committed-offset-backwards', { group: 'g', partition: 0, process: 'consumer2', offset: 1, previousOffset: 3 });
    const lostCommit = cleanHistory();
    lostCommit.fault('kill -9');
    lostCommit.committedRead({ process: 'consumer', group: 'g', topic: TOPIC, partition: 0, offset: 2 });
    only(lostCommit, 'committed-offset-backwards', { group: 'g', partition: 0, offset: 2, previousOffset: 3 });
  });

  it('unexpected value: read but never sent', () => {
    const history = cleanHistory();
    history.poll({ process: 'consumer', topic: TOPIC, partition: 1, offset: 1, value: 'ghost' });
    only(history, 'unexpected-value', { process: 'consumer', partition: 1, offset: 1, value: 'ghost' });
  });

  it('round-trips a history through JSON lines', () => {
    const history = cleanHistory();
    const copy = History.fromJsonLines(history.toJsonLines());
    assert.deepEqual(copy.events, history.events);
    assert.deepEqual(copy.summary(), { send: 5, poll: 4, assign: 1, commit: 2, 'committed-read': 1, transaction: 0, fault: 0 });
  });
});
