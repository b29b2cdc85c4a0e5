import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderChaosChart, sendSeries, type TimedSend } from './chart.js';

/** The numbers of an attribute on every element of a class, e.g. the x of each fault band. */
function attributeOf(svg: string, className: string, attribute: string): string[] {
  return [...svg.matchAll(new RegExp(`<[a-z]+ class="${className}"[^>]*? ${attribute}="([^"]*)"`, 'g'))].map((match) => match[1]!);
}

describe('chaos chart', () => {
  const sends: TimedSend[] = [
    { startMs: 100, endMs: 110, records: 5, acknowledged: true },
    { startMs: 200, endMs: 230, records: 3, acknowledged: true },
    { startMs: 900, endMs: 1900, records: 2, acknowledged: true },
    { startMs: 2100, endMs: 2900, records: 7, acknowledged: false },
  ];

  it('counts acknowledged records per second by when their send ended, with latency percentiles per bucket', () => {
    const series = sendSeries(sends, 3000);
    assert.deepEqual(series.throughput.map((point) => point.value), [8, 2, 0]);
    assert.deepEqual(series.latencyP50.map((point) => [point.atMs, point.value]), [[500, 10], [1500, 1000]]);
    assert.deepEqual(series.latencyP99.map((point) => point.value), [30, 1000]);
  });

  it('draws one band per fault period where it happened, one point per bucket, and anomalies', () => {
    const svg = renderChaosChart({
      title: 'seed 7 <kill>',
      durationMs: 3000,
      ...sendSeries(sends, 3000),
      faults: [{ startMs: 0, endMs: 1500, label: 'kill -9 leader of p0 (node 2)' }, { startMs: 1500, endMs: 3000, label: 'isolate node 1' }],
      anomalies: [{ atMs: 2000, label: 'lost write' }],
    });
    assert.ok(svg.startsWith('<svg') && svg.trimEnd().endsWith('</svg>'));
    assert.ok(svg.includes('seed 7 &lt;kill&gt;'), 'the title is escaped');
    const xs = attributeOf(svg, 'fault', 'x').map(Number);
    const widths = attributeOf(svg, 'fault', 'width').map(Number);
    assert.equal(xs.length, 2);
    assert.ok(Math.abs(widths[0]! - widths[1]!) < 1, 'two periods of equal length are equally wide');
    assert.ok(Math.abs(xs[0]! + widths[0]! - xs[1]!) < 1, 'the second period starts where the first ends');
    const throughputPoints = attributeOf(svg, 'throughput', 'points')[0]!.split(' ');
    assert.equal(throughputPoints.length, 3);
    const p50 = attributeOf(svg, 'latency-p50', 'points')[0]!.split(' ').map((point) => Number(point.split(',')[1]));
    assert.ok(p50[1]! < p50[0]!, 'a higher latency is drawn higher');
    assert.equal(attributeOf(svg, 'anomaly', 'x1').length, 1);
  });
});
