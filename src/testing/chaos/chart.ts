// The chaos report's picture: throughput and latency of the workload over the run, as two stacked
// panels of plain SVG (no dependency, readable in any browser or on GitHub), with every fault
// period drawn as a shaded band across both panels and labelled, and anomalies marked where they
// showed. A reader sees at a glance what each fault did to the clients and that they recovered.

export interface ChartPoint {
  /** Milliseconds since the run started. */
  readonly atMs: number;
  readonly value: number;
}

export interface ChartPeriod {
  readonly startMs: number;
  readonly endMs: number;
  readonly label: string;
}

export interface ChaosChartInput {
  readonly title: string;
  readonly durationMs: number;
  /** Acknowledged records per second, one point per time bucket. */
  readonly throughput: readonly ChartPoint[];
  /** Send latency percentiles in milliseconds, one point per bucket that had sends. */
  readonly latencyP50: readonly ChartPoint[];
  readonly latencyP99: readonly ChartPoint[];
  readonly faults: readonly ChartPeriod[];
  readonly anomalies?: readonly { readonly atMs: number; readonly label: string }[];
}

const WIDTH = 960;
const PANEL_HEIGHT = 200;
const LEFT = 70;
const RIGHT = 20;
const TOP = 58;
const GAP = 50;
const BOTTOM = 40;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;

/** The chart as an SVG document. */
export function renderChaosChart(input: ChaosChartInput): string {
  const durationMs = Math.max(1, input.durationMs);
  const x = (atMs: number) => LEFT + (Math.min(Math.max(atMs, 0), durationMs) / durationMs) * PLOT_WIDTH;
  const throughputTop = TOP;
  const latencyTop = TOP + PANEL_HEIGHT + GAP;
  const height = latencyTop + PANEL_HEIGHT + BOTTOM;

  const maxThroughput = niceCeiling(Math.max(1, ...input.throughput.map((point) => point.value)));
  const yThroughput = (value: number) => throughputTop + PANEL_HEIGHT - (value / maxThroughput) * PANEL_HEIGHT;
  // Latency on a log scale: a stall of seconds and a steady millisecond fit one panel.
  const latencies = [...input.latencyP50, ...input.latencyP99].map((point) => point.value).filter((value) => value > 0);
  const minExponent = Math.floor(Math.log10(Math.max(0.1, Math.min(1, ...latencies))));
  const maxExponent = Math.max(minExponent + 1, Math.ceil(Math.log10(Math.max(10, ...latencies))));
  const yLatency = (value: number) => {
    const exponent = Math.log10(Math.max(value, 10 ** minExponent));
    return latencyTop + PANEL_HEIGHT - ((exponent - minExponent) / (maxExponent - minExponent)) * PANEL_HEIGHT;
  };

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="11">`);
  parts.push(`<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  parts.push(`<text x="${LEFT}" y="20" font-size="14" font-weight="bold">${escapeXml(input.title)}</text>`);

  // Fault periods behind everything, across both panels, labelled above the first.
  input.faults.forEach((fault, index) => {
    const left = x(fault.startMs);
    const width = Math.max(1, x(fault.endMs) - left);
    parts.push(`<rect class="fault" x="${fixed(left)}" y="${throughputTop}" width="${fixed(width)}" height="${latencyTop + PANEL_HEIGHT - throughputTop}" fill="#f4a259" fill-opacity="0.25"><title>${escapeXml(fault.label)}</title></rect>`);
    const labelY = throughputTop - 4 - (index % 2) * 11;
    parts.push(`<text x="${fixed(left + 2)}" y="${labelY}" font-size="9" fill="#9a4a00">${escapeXml(shorten(fault.label, Math.max(4, Math.floor(width / 5))))}</text>`);
  });

  // Throughput panel.
  parts.push(...axes(throughputTop, 'records/s acknowledged'));
  for (const value of [0, maxThroughput / 2, maxThroughput]) {
    parts.push(`<text x="${LEFT - 6}" y="${fixed(yThroughput(value) + 4)}" text-anchor="end">${formatNumber(value)}</text>`);
  }
  parts.push(polyline('throughput', input.throughput, x, yThroughput, '#2b6cb0'));

  // Latency panel.
  parts.push(...axes(latencyTop, 'send latency, ms (log scale)'));
  for (let exponent = minExponent; exponent <= maxExponent; exponent++) {
    const y = yLatency(10 ** exponent);
    parts.push(`<line x1="${LEFT}" y1="${fixed(y)}" x2="${LEFT + PLOT_WIDTH}" y2="${fixed(y)}" stroke="#e2e2e2"/>`);
    parts.push(`<text x="${LEFT - 6}" y="${fixed(y + 4)}" text-anchor="end">${formatNumber(10 ** exponent)}</text>`);
  }
  parts.push(polyline('latency-p50', input.latencyP50, x, yLatency, '#38a169'));
  parts.push(polyline('latency-p99', input.latencyP99, x, yLatency, '#c53030'));
  parts.push(`<text x="${LEFT + PLOT_WIDTH - 120}" y="${latencyTop + 14}" fill="#38a169">p50</text><text x="${LEFT + PLOT_WIDTH - 90}" y="${latencyTop + 14}" fill="#c53030">p99</text>`);

  // Time axis under the latency panel.
  const stepMs = timeStep(durationMs);
  for (let atMs = 0; atMs <= durationMs; atMs += stepMs) {
    parts.push(`<text x="${fixed(x(atMs))}" y="${latencyTop + PANEL_HEIGHT + 16}" text-anchor="middle">${formatSeconds(atMs)}</text>`);
  }

  for (const anomaly of input.anomalies ?? []) {
    const ax = x(anomaly.atMs);
    parts.push(`<line class="anomaly" x1="${fixed(ax)}" y1="${throughputTop}" x2="${fixed(ax)}" y2="${latencyTop + PANEL_HEIGHT}" stroke="#e53e3e" stroke-width="2" stroke-dasharray="4 3"><title>${escapeXml(anomaly.label)}</title></line>`);
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function axes(top: number, label: string): string[] {
  return [
    `<rect x="${LEFT}" y="${top}" width="${PLOT_WIDTH}" height="${PANEL_HEIGHT}" fill="none" stroke="#888888"/>`,
    `<text x="14" y="${top + PANEL_HEIGHT / 2}" transform="rotate(-90 14 ${top + PANEL_HEIGHT / 2})" text-anchor="middle">${escapeXml(label)}</text>`,
  ];
}

function polyline(name: string, points: readonly ChartPoint[], x: (atMs: number) => number, y: (value: number) => number, colour: string): string {
  const coordinates = [...points].sort((a, b) => a.atMs - b.atMs).map((point) => `${fixed(x(point.atMs))},${fixed(y(point.value))}`);
  return `<polyline class="${name}" fill="none" stroke="${colour}" stroke-width="1.5" points="${coordinates.join(' ')}"/>`;
}

/** 1, 2 or 5 times a power of ten, at least `value`. */
function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** A tick spacing giving 5 to 12 ticks over the run. */
function timeStep(durationMs: number): number {
  for (const step of [1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000]) if (durationMs / step <= 12) return step;
  return 3_600_000;
}

function formatSeconds(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return seconds >= 120 ? `${Math.floor(seconds / 60)}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}` : `${seconds}s`;
}

function formatNumber(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toPrecision(3))}k`;
  return `${Number(value.toPrecision(3))}`;
}

function fixed(value: number): string {
  return value.toFixed(1);
}

function shorten(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One send as the chart counts it: when it started and ended (ms since the run started), how many records, acknowledged or not. */
export interface TimedSend {
  readonly startMs: number;
  readonly endMs: number;
  readonly records: number;
  readonly acknowledged: boolean;
}

/**
 * Per `bucketMs` of the run: records acknowledged per second (by when their send ended), and the
 * p50 and p99 latency of the sends that ended in the bucket. Buckets with no send ending in them
 * have throughput 0 and no latency point (a stall shows as a gap in latency and a drop to zero).
 */
export function sendSeries(sends: readonly TimedSend[], durationMs: number, bucketMs = 1000): Pick<ChaosChartInput, 'throughput' | 'latencyP50' | 'latencyP99'> {
  const buckets = Math.max(1, Math.ceil(durationMs / bucketMs));
  const records = new Array<number>(buckets).fill(0);
  const latencies: number[][] = Array.from({ length: buckets }, () => []);
  for (const send of sends) {
    if (!send.acknowledged) continue;
    const bucket = Math.min(buckets - 1, Math.max(0, Math.floor(send.endMs / bucketMs)));
    records[bucket]! += send.records;
    latencies[bucket]!.push(send.endMs - send.startMs);
  }
  const middle = (index: number) => index * bucketMs + bucketMs / 2;
  const throughput = records.map((count, index) => ({ atMs: middle(index), value: (count * 1000) / bucketMs }));
  const latencyP50: ChartPoint[] = [];
  const latencyP99: ChartPoint[] = [];
  latencies.forEach((values, index) => {
    if (values.length === 0) return;
    values.sort((a, b) => a - b);
    latencyP50.push({ atMs: middle(index), value: percentile(values, 0.5) });
    latencyP99.push({ atMs: middle(index), value: percentile(values, 0.99) });
  });
  return { throughput, latencyP50, latencyP99 };
}

/** The nearest-rank percentile of sorted `values`. */
function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}
