// A fixed-size log-linear latency histogram for load tools: constant memory whatever the record
// count, about 2% relative precision, exact count, mean and max.

/** Sub-buckets per power of two; 32 gives about 2.2% between neighbouring bucket bounds. */
const SUB_BUCKETS = 32;
/** Powers of two covered above one microsecond: up to about 12 days. */
const OCTAVES = 40;

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(SUB_BUCKETS * OCTAVES + 1);
  private total = 0;
  private sumMs = 0;
  private maxMs = 0;

  get count(): number {
    return this.total;
  }

  /** Records `count` observations of `latencyMs`. */
  record(latencyMs: number, count = 1): void {
    const value = latencyMs > 0 ? latencyMs : 0;
    this.counts[bucketOf(value)]! += count;
    this.total += count;
    this.sumMs += value * count;
    if (value > this.maxMs) this.maxMs = value;
  }

  merge(other: LatencyHistogram): void {
    for (let index = 0; index < this.counts.length; index++) this.counts[index]! += other.counts[index]!;
    this.total += other.total;
    this.sumMs += other.sumMs;
    this.maxMs = Math.max(this.maxMs, other.maxMs);
  }

  /** The latency at quantile `q` (0..1): the upper bound of its bucket, never above the max seen. */
  quantileMs(q: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.total));
    let seen = 0;
    for (let index = 0; index < this.counts.length; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) return Math.min(upperBoundOf(index), this.maxMs);
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      meanMs: this.total === 0 ? 0 : this.sumMs / this.total,
      p50Ms: this.quantileMs(0.5),
      p95Ms: this.quantileMs(0.95),
      p99Ms: this.quantileMs(0.99),
      p999Ms: this.quantileMs(0.999),
      maxMs: this.maxMs,
    };
  }
}

/** Bucket 0 holds everything under a microsecond; above, SUB_BUCKETS buckets per doubling. */
function bucketOf(latencyMs: number): number {
  const micros = latencyMs * 1000;
  if (micros < 1) return 0;
  const index = 1 + Math.floor(Math.log2(micros) * SUB_BUCKETS);
  return Math.min(index, SUB_BUCKETS * OCTAVES);
}

function upperBoundOf(index: number): number {
  if (index === 0) return 0.001;
  return 2 ** (index / SUB_BUCKETS) / 1000;
}
