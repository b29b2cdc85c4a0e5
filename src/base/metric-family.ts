// A Prometheus metric family computed when it is scraped: the broker's and Connect's metrics read
// their figures from live state at scrape time instead of keeping prom-client's labelled children,
// and are formatted here (prom-client serves only Node's own metrics beside them). Nothing here
// imports prom-client; the endpoints that serve these families do.

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

/**
 * The families in Prometheus's text format 0.0.4. Written here rather than through prom-client's
 * registry, whose generic label formatting cost tens of milliseconds per scrape for the broker's
 * few thousand samples (bench:metrics' profile); values need no escaping but labels do.
 */
export async function formatMetricFamilies(families: readonly MetricFamily[]): Promise<string> {
  const parts: string[] = [];
  for (const family of families) {
    const { values } = await family.get();
    parts.push(`# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`);
    for (const each of values) parts.push(`${each.metricName ?? family.name}${formatLabels(each.labels)} ${formatValue(each.value)}\n`);
  }
  return parts.join('');
}

function formatLabels(labels: MetricLabels): string {
  let text = '';
  for (const key in labels) {
    const raw = labels[key]!;
    const value = typeof raw === 'number' ? formatValue(raw) : NEEDS_ESCAPE.test(raw) ? raw.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : raw;
    text += text === '' ? `{${key}="${value}"` : `,${key}="${value}"`;
  }
  return text === '' ? '' : `${text}}`;
}

const NEEDS_ESCAPE = /[\\\n"]/;

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}
