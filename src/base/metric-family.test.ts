import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMetricFamilies, metricFamily, sample } from './metric-family.js';

test("families are formatted in Prometheus's text format, label values escaped", async () => {
  const text = await formatMetricFamilies([
    metricFamily('requests_total', 'Requests.\nPer API.', 'counter', () => [sample({}, 3), sample({ request: 'Produce', version: 9 }, 2)]),
    metricFamily('latency', 'Latency.', 'histogram', () => [sample({ le: '+Inf', topic: 'a"b\\c\nd' }, 1, 'latency_bucket'), sample({}, Number.POSITIVE_INFINITY, 'latency_sum')]),
    metricFamily('empty', 'Nothing yet.', 'gauge', () => []),
  ]);
  assert.equal(
    text,
    [
      '# HELP requests_total Requests.\\nPer API.',
      '# TYPE requests_total counter',
      'requests_total 3',
      'requests_total{request="Produce",version="9"} 2',
      '# HELP latency Latency.',
      '# TYPE latency histogram',
      'latency_bucket{le="+Inf",topic="a\\"b\\\\c\\nd"} 1',
      'latency_sum +Inf',
      '# HELP empty Nothing yet.',
      '# TYPE empty gauge',
      '',
    ].join('\n'),
  );
});
