// The shape of one benchmark run's results, shared by the runner and the report writer.

export interface LatencyPercentiles {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** One throughput measurement: payload MB/s is records/s times the record size, for every system. */
export interface Throughput {
  id: string;
  system: 'raw' | 'conveyor' | 'redis' | 'nats';
  client: string;
  op: 'produce' | 'consume';
  recordSizeBytes: number;
  partitions: number;
  acks: string;
  records: number;
  elapsedMs: number;
  recordsPerSec: number;
  mbPerSec: number;
  latency?: LatencyPercentiles | undefined;
  note?: string | undefined;
}

export interface EndToEnd {
  targetMbPerSec: number;
  recordSizeBytes: number;
  achievedMbPerSec: number;
  latency: LatencyPercentiles;
  /** Records due in this first part of the run were not timed (absent in older runs: all were). */
  warmupMs?: number | undefined;
  timedMs?: number | undefined;
  /** The p99 of every run at this load; the entry's other figures are from the median one. */
  runsP99Ms?: number[] | undefined;
}

export interface Startup {
  cliMedianMs: number;
  cliRunsMs: number[];
  inProcessMedianMs: number;
  inProcessRunsMs: number[];
  /** The same with storage: 'memory': the start without its disk work (absent in older runs). */
  inProcessMemoryMedianMs?: number;
  /** A plain `net` server's first listen and first connection in a fresh process: Node's floor (absent in older runs). */
  bareListenConnectMedianMs?: number;
  idleRssMiB: number;
  loadRssMiB: number;
}

export interface ManyPartitions {
  partitions: number;
  createMs: number;
  /** Spawn to the first answered ApiVersions request (to the first accepted connection before the 09:36 run). */
  restartToConnectionMs: number;
  produce: Throughput;
  idleRssMiB: number;
}

/**
 * Consume measured in rounds, each right after the raw stream read of the same bytes, so that every
 * ratio compares numbers from the same moment of a noisy machine.
 */
export interface PairedConsume {
  recordSizeBytes: number;
  partitions: number;
  rounds: { rawReadMbPerSec: number; kcatMbPerSec: number; perfMbPerSec: number }[];
}

/** The produce target's case in rounds, each right after a raw write of the same batches (from the 10:2x run on). */
export interface PairedProduce {
  recordSizeBytes: number;
  partitions: number;
  acks: string;
  rounds: { rawWriteMbPerSec: number; kcatMbPerSec: number; perfMbPerSec: number }[];
}

export interface BenchRun {
  date: string;
  machine: Record<string, string>;
  throughput: Throughput[];
  endToEnd: EndToEnd[];
  startup: Startup | undefined;
  manyPartitions: ManyPartitions | undefined;
  /** How late a 1 ms timer fires in an idle node process during the run: the machine's noise floor. */
  timerLateness?: LatencyPercentiles | undefined;
  /** Consume rounds paired with raw reads (absent in older runs). */
  pairedConsume?: PairedConsume[] | undefined;
  pairedProduce?: PairedProduce[] | undefined;
  problems: string[];
}

/** One round of an A/B bench (bench/security.ts, bench/metrics.ts): each side's figures, keyed by its name. */
export interface PairedRound {
  round: number;
  order: string[];
  mbPerSec: Record<string, number>;
  recordsPerSec: Record<string, number>;
  elapsedMs: Record<string, number>;
  /** CPU time of the broker process (all its threads) per MiB of payload during the load: less at the mercy of the machine's other work than throughput. */
  brokerCpuMsPerMiB: Record<string, number>;
}

export const MIB = 1024 * 1024;

export function throughputOf(base: Omit<Throughput, 'recordsPerSec' | 'mbPerSec'>): Throughput {
  const seconds = Math.max(base.elapsedMs, 1) / 1000;
  const recordsPerSec = base.records / seconds;
  return { ...base, recordsPerSec, mbPerSec: (recordsPerSec * base.recordSizeBytes) / MIB };
}

/** The median of the values (the upper middle one for an even count; NaN for none), as the Streams benches report it. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
