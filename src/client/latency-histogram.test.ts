import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram } from './latency-histogram.js';

test('quantiles land within the bucket precision of the exact values', () => {
  const histogram = new LatencyHistogram();
  for (let value = 1; value <= 10_000; value++) histogram.record(value / 100);
  const summary = histogram.summary();
  assert.equal(summary.count, 10_000);
  assert.ok(Math.abs(summary.p50Ms - 50) / 50 < 0.03, `p50 ${summary.p50Ms}`);
  assert.ok(Math.abs(summary.p99Ms - 99) / 99 < 0.03, `p99 ${summary.p99Ms}`);
  assert.ok(Math.abs(summary.p999Ms - 99.9) / 99.9 < 0.03, `p99.9 ${summary.p999Ms}`);
  assert.equal(summary.maxMs, 100);
  assert.ok(Math.abs(summary.meanMs - 50.005) < 1e-6);
});

test('weighted records, merging, and an empty histogram', () => {
  const empty = new LatencyHistogram();
  assert.equal(empty.summary().p99Ms, 0);
  const first = new LatencyHistogram();
  first.record(1, 99);
  const second = new LatencyHistogram();
  second.record(500, 1);
  first.merge(second);
  assert.equal(first.count, 100);
  assert.ok(first.quantileMs(0.5) <= 1.03);
  assert.equal(first.quantileMs(1), 500);
  assert.equal(first.summary().maxMs, 500);
});
