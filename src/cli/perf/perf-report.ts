// Results of a perf run as Kafka's perf tools print them, as JSON for scripts, and the live
// progress line a terminal shows while the run goes on.
import type { LatencySummary } from '../../client/latency-histogram.js';

const MIB = 1024 * 1024;

export interface PerfReport {
  kind: 'produce' | 'consume' | 'e2e';
  records: number;
  /** Record payload bytes (produce, e2e) or record batch bytes received (consume). */
  bytes: number;
  elapsedMs: number;
  recordsPerSec: number;
  mbPerSec: number;
  errors: number;
  latency: LatencySummary | undefined;
}

export function makeReport(kind: PerfReport['kind'], records: number, bytes: number, elapsedMs: number, errors: number, latency: LatencySummary | undefined): PerfReport {
  const seconds = Math.max(elapsedMs, 1) / 1000;
  return { kind, records, bytes, elapsedMs, recordsPerSec: records / seconds, mbPerSec: bytes / MIB / seconds, errors, latency };
}

export function formatReport(report: PerfReport): string {
  const head = `${report.records} records ${report.kind === 'consume' ? 'received' : 'sent'} in ${(report.elapsedMs / 1000).toFixed(2)} s, ` +
    `${report.recordsPerSec.toFixed(1)} records/sec (${report.mbPerSec.toFixed(2)} MB/sec)`;
  const errors = report.errors > 0 ? `, ${report.errors} records failed` : '';
  if (!report.latency || report.latency.count === 0) return `${head}${errors}\n`;
  const l = report.latency;
  return `${head}, ${l.meanMs.toFixed(2)} ms avg latency, ${l.maxMs.toFixed(2)} ms max latency, ` +
    `${ms(l.p50Ms)} ms 50th, ${ms(l.p95Ms)} ms 95th, ${ms(l.p99Ms)} ms 99th, ${ms(l.p999Ms)} ms 99.9th${errors}\n`;
}

/** One progress line, rewritten in place on a terminal. */
export function progressLine(records: number, bytes: number, elapsedMs: number, windowRecords: number, windowBytes: number, windowMs: number): string {
  const seconds = Math.max(windowMs, 1) / 1000;
  return `\r${(elapsedMs / 1000).toFixed(0)}s: ${records} records, ${(windowRecords / seconds).toFixed(0)} records/sec (${(windowBytes / MIB / seconds).toFixed(1)} MB/sec)   `;
}

function ms(value: number): string {
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}
