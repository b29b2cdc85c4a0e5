// The chaos campaign's fault schedule, drawn from a seed before the run: periods of one fault each,
// every one followed by a fault-free period in which the workload must recover (so recovery is
// checked, not only survival). Each fault names its kind and the kind of node it hits (the
// partition leader, the active controller, the group coordinator, a random node or all nodes, as
// Jepsen and Redpanda's chaos suite choose them) and, for a disk fault, a full log directory;
// which node that is gets resolved when the period starts, from what the cluster says
// then. The same seed gives the same schedule; the timing of a run of real processes is not
// replayed.
import { seededRandom } from '../workload.js';

export const NEMESIS_KINDS = ['kill', 'pause', 'partition', 'restart', 'slow', 'disk'] as const;
export type NemesisKind = (typeof NEMESIS_KINDS)[number];

export type FaultTarget = 'leader' | 'controller' | 'coordinator' | 'random' | 'all';

/**
 * How a partition divides the nodes: `isolate` cuts the target off from every other node;
 * `split` puts the target with a minority (the target alone on three nodes) against the majority;
 * `bridge` splits the other nodes in two halves that only the target sees both of; `client` cuts
 * the clients off from the target only (the nodes still see each other).
 */
/** A log directory's fault: full (ENOSPC) or read-only (EROFS, as ext4 after an I/O error). */
export type DiskFault = 'full' | 'read-only';

export type PartitionShape = 'isolate' | 'split' | 'bridge' | 'client';

export interface PlannedFault {
  readonly kind: NemesisKind;
  readonly target: FaultTarget;
  /** For `partition` only. */
  readonly shape?: PartitionShape;
  /** For `disk` only: the node's second log directory fills up, or turns read-only. */
  readonly disk?: DiskFault;
  /** For `slow` only: every link's delay range, and how often each connection is reset. */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly resetPerSecond?: number;
  /** How long the fault lasts. */
  readonly durationMs: number;
  /** The fault-free period after it. */
  readonly quietMs: number;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly kinds: readonly NemesisKind[];
  /** The schedule's total length (faults and quiet periods); the last period may end a little after. */
  readonly totalMs: number;
  /** A pause must outlast the broker session timeout to get the node fenced; durations start here. */
  readonly minFaultMs?: number;
  readonly maxFaultMs?: number;
  readonly minQuietMs?: number;
  readonly maxQuietMs?: number;
}

const TARGETS: Record<NemesisKind, readonly FaultTarget[]> = {
  // kill -9 of every node at once: acknowledged writes are in the page caches, which survive.
  kill: ['leader', 'leader', 'controller', 'coordinator', 'random', 'all'],
  pause: ['leader', 'leader', 'controller', 'coordinator', 'random'],
  partition: ['leader', 'leader', 'controller', 'coordinator', 'random'],
  // A clean restart of one node, or of all of them in turn (a rolling restart).
  restart: ['leader', 'controller', 'random', 'all'],
  slow: ['all'],
  disk: ['leader', 'random'],
};

const DISK_FAULTS: readonly DiskFault[] = ['full', 'read-only'];

const SHAPES: readonly PartitionShape[] = ['isolate', 'isolate', 'split', 'bridge', 'client'];

/** The faults of a run, in order. */
export function planFaults(options: ScheduleOptions): PlannedFault[] {
  if (options.kinds.length === 0) throw new Error('at least one nemesis kind is needed');
  for (const kind of options.kinds) if (!NEMESIS_KINDS.includes(kind)) throw new Error(`unknown nemesis '${kind}' (known: ${NEMESIS_KINDS.join(', ')})`);
  const random = seededRandom(options.seed);
  const between = (low: number, high: number) => Math.round(low + random() * (high - low));
  const pick = <T>(choices: readonly T[]): T => choices[Math.floor(random() * choices.length)]!;
  const minFaultMs = options.minFaultMs ?? 5_000;
  const maxFaultMs = Math.max(minFaultMs, options.maxFaultMs ?? 15_000);
  const minQuietMs = options.minQuietMs ?? 5_000;
  const maxQuietMs = Math.max(minQuietMs, options.maxQuietMs ?? 10_000);
  const faults: PlannedFault[] = [];
  for (let elapsed = 0; elapsed < options.totalMs; ) {
    const kind = pick(options.kinds);
    const durationMs = between(minFaultMs, maxFaultMs);
    const quietMs = between(minQuietMs, maxQuietMs);
    const common = { kind, target: pick(TARGETS[kind]), durationMs, quietMs };
    if (kind === 'partition') faults.push({ ...common, shape: pick(SHAPES) });
    else if (kind === 'disk') faults.push({ ...common, disk: pick(DISK_FAULTS) });
    else if (kind === 'slow') {
      const maxDelayMs = between(5, 200);
      faults.push({ ...common, minDelayMs: Math.floor(maxDelayMs / 4), maxDelayMs, resetPerSecond: random() < 0.5 ? 0 : Math.round(random() * 20) / 100 });
    } else faults.push(common);
    elapsed += durationMs + quietMs;
  }
  return faults;
}

/** The nemesis kinds of a comma-separated list, checked. */
export function parseNemesis(text: string): NemesisKind[] {
  const kinds = text.split(',').map((kind) => kind.trim()).filter((kind) => kind.length > 0);
  const unknown = kinds.filter((kind) => !(NEMESIS_KINDS as readonly string[]).includes(kind));
  if (unknown.length > 0 || kinds.length === 0) throw new Error(`--nemesis takes a list of ${NEMESIS_KINDS.join(', ')}; got '${text}'`);
  return kinds as NemesisKind[];
}
