// The queue checker against synthetic histories: a clean one has no anomaly, and each history
// built around one anomaly yields exactly that kind, with the offsets and values in its message.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { History } from './history.js';
import { type AnomalyKind, checkQueueHistory, formatQueueReport } from './queue-checker.js';

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

function only(history: History, kind: AnomalyKind, expectedText: RegExp, finalReadComplete = true): void {
  const result = checkQueueHistory(history, { finalReadComplete });
  assert.deepEqual(kinds(history, finalReadComplete), [kind], formatQueueReport(result));
  const report = formatQueueReport(result);
  assert.match(report, expectedText);
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
    only(history, 'lost-write', /t\/0 offset 0: value "a" acknowledged to producer was never read \(readers reached offset 1\)/, false);
  });

  it('an unread acknowledged value at the end is unseen, and lost once the final read completed', () => {
    const history = new History();
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'a', outcome: 'ok', offset: 0 });
    const open = checkQueueHistory(history);
    assert.equal(open.stats.unseen, 1);
    assert.ok(open.valid);
    only(history, 'lost-write', /the final read finished/, true);
  });

  it('duplicate: one value at two offsets', () => {
    const history = cleanHistory();
    history.poll({ process: 'other', topic: TOPIC, partition: 0, offset: 3, value: 'b' });
    only(history, 'duplicate', /value "b" is at 2 offsets: t\/0@1 .*, t\/0@3 \(poll by other\)/);
  });

  it('inconsistent offsets: one offset, two values', () => {
    const history = cleanHistory();
    history.send({ process: 'producer', topic: TOPIC, partition: 1, value: 'e', outcome: 'ok', offset: 1 });
    history.poll({ process: 'other', topic: TOPIC, partition: 1, offset: 0, value: 'e' });
    const result = checkQueueHistory(history, { finalReadComplete: true });
    // 'e' at two offsets is also a duplicate; the inconsistency is at offset 0.
    assert.ok(result.anomalies.some((anomaly) => anomaly.kind === 'inconsistent-offsets' && /t\/1 offset 0 holds 2 values: "d" .*"e"/.test(anomaly.message)), formatQueueReport(result));
  });

  it('non-monotonic send: a later acknowledgement at a lower offset', () => {
    const history = new History();
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'a', outcome: 'ok', offset: 5 });
    history.send({ process: 'producer', topic: TOPIC, partition: 0, value: 'b', outcome: 'ok', offset: 4 });
    only(history, 'non-monotonic-send', /producer on t\/0: "b" acknowledged at offset 4 after "a" at 5/, false);
  });

  it('non-monotonic poll: offsets going back without a reassignment', () => {
    const history = cleanHistory();
    history.poll({ process: 'consumer', topic: TOPIC, partition: 0, offset: 1, value: 'b' });
    only(history, 'non-monotonic-poll', /consumer on t\/0: polled offset 1 \("b"\) after offset 2 \("c"\)/);
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
    only(history, 'poll-skip', /consumer on t\/0: jumped from offset 0 to 2 without a reassignment, skipping 1="b"/);
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
    only(history, 'aborted-read', /consumer read "x" at t\/0@0 with read_committed, but transaction tx-1 aborted/);
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

  it('committed offset going backwards: a lower commit, or OffsetFetch below an acknowledged commit', () => {
    const lower = cleanHistory();
    lower.commit({ process: 'consumer2', group: 'g', topic: TOPIC, partition: 0, offset: 1, outcome: 'ok' });
    only(lower, 'committed-offset-backwards', /group g t\/0: consumer2 committed 1 after consumer had committed 3/);
    const lostCommit = cleanHistory();
    lostCommit.fault('kill -9');
    lostCommit.committedRead({ process: 'consumer', group: 'g', topic: TOPIC, partition: 0, offset: 2 });
    only(lostCommit, 'committed-offset-backwards', /committed offset read as 2 after a commit of 3 was acknowledged/);
  });

  it('unexpected value: read but never sent', () => {
    const history = cleanHistory();
    history.poll({ process: 'consumer', topic: TOPIC, partition: 1, offset: 1, value: 'ghost' });
    only(history, 'unexpected-value', /consumer read "ghost" at t\/1@1, which nobody sent/);
  });

  it('round-trips a history through JSON lines', () => {
    const history = cleanHistory();
    const copy = History.fromJsonLines(history.toJsonLines());
    assert.deepEqual(copy.events, history.events);
    assert.deepEqual(copy.summary(), { send: 5, poll: 4, assign: 1, commit: 2, 'committed-read': 1, transaction: 0, fault: 0 });
  });
});
