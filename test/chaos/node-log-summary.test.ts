import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeNodeLog } from './node-log-summary.js';

test('a node log summary counts stand-downs, unanswered heartbeats, session fencings and refused ISR changes by code', () => {
  const log = [
    "2026-12-07T12:03:54.607Z WARN  [controller-channel] broker heartbeat failed error=KafkaError: no active controller answered in time",
    "2026-12-07T12:04:05.810Z WARN  [isr] ISR change refused topic=__consumer_offsets partition=0 errorCode=107",
    "2026-12-07T12:04:05.816Z WARN  [isr] ISR change refused topic=chaos-config partition=0 errorCode=107",
    "2026-12-07T12:04:06.000Z WARN  [isr] ISR change refused topic=chaos-config partition=1 errorCode=95",
    "2026-12-07T13:21:35.054Z WARN  [controller-channel] no heartbeat answered caught up within the session: this node's metadata may be stale, its coordinators stand down sinceLastCaughtUpMs=3212",
    "2026-12-07T13:21:36.000Z INFO  [controller-channel] a heartbeat was answered caught up: this node's coordinators serve",
    "2026-12-07T13:22:00.000Z WARN  [controller-channel] fencing a broker whose session expired brokerId=2 silentMs=3100",
  ].join('\n');
  const summary = summarizeNodeLog(log);
  assert.equal(summary.standDowns, 1);
  assert.equal(summary.heartbeatsUnanswered, 1);
  assert.equal(summary.sessionFencings, 1);
  assert.deepEqual([...summary.isrRefused], [[107, 2], [95, 1]]);
  assert.deepEqual(summarizeNodeLog(''), { standDowns: 0, heartbeatsUnanswered: 0, sessionFencings: 0, isrRefused: new Map() });
});
