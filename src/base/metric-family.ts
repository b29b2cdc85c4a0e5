// A Prometheus metric family computed when it is scraped, in the shape prom-client's Registry
// formats (`registry.registerMetric(family)`): the broker's and Connect's metrics read their
// figures from live state at scrape time instead of keeping prom-client's labelled children.
// Nothing here imports prom-client; the endpoints that serve these families do.

export type MetricLabels = Record<string, string | number>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** One sample: `metricName` for a histogram's _bucket, _sum and _count lines. */
export interface MetricSampleValue {
  labels: MetricLabels;
  value: number;
  metricName?: string;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  get(): Promise<{ name: string; help: string; type: MetricType; aggregator: 'sum'; values: MetricSampleValue[] }>;
}

export function metricFamily(name: string, help: string, type: MetricType, values: () => Promise<MetricSampleValue[]> | MetricSampleValue[]): MetricFamily {
  return {
    name,
    help,
    type,
    async get() {
      return { name, help, type, aggregator: 'sum', values: await values() };
    },
  };
}

export function sample(labels: MetricLabels, value: number, metricName?: string): MetricSampleValue {
  return metricName === undefined ? { labels, value } : { labels, value, metricName };
}
