// What a chaos run's node logs say about the brokers' health between the faults, beside the
// anomalies: how often each node's coordinators stood down (no heartbeat answered caught up within
// the session: ControllerChannel.mayBeStale), how many heartbeats got no answer in time, how many
// brokers the active controller fenced for an expired session, and the ISR changes the controller
// refused, by error code. A rise of these over an hour is a liveness problem before it is an anomaly.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface NodeLogSummary {
  readonly standDowns: number;
  readonly heartbeatsUnanswered: number;
  readonly sessionFencings: number;
  /** ISR changes refused, by Kafka error code. */
  readonly isrRefused: ReadonlyMap<number, number>;
}

/** Counts the lines of one node's log (every incarnation's). */
export function summarizeNodeLog(text: string): NodeLogSummary {
  let standDowns = 0;
  let heartbeatsUnanswered = 0;
  let sessionFencings = 0;
  const isrRefused = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (line.includes('its coordinators stand down')) standDowns += 1;
    else if (line.includes('broker heartbeat failed')) heartbeatsUnanswered += 1;
    else if (line.includes('fencing a broker whose session expired')) sessionFencings += 1;
    else if (line.includes('ISR change refused')) {
      const code = Number(/errorCode=(-?\d+)/.exec(line)?.[1] ?? -1);
      isrRefused.set(code, (isrRefused.get(code) ?? 0) + 1);
    }
  }
  return { standDowns, heartbeatsUnanswered, sessionFencings, isrRefused };
}

/** One report line per node whose log is in `logsDir` (node-<id>.log). */
export function nodeLogReport(logsDir: string, nodeIds: readonly number[]): string[] {
  const lines: string[] = [];
  for (const id of nodeIds) {
    const file = join(logsDir, `node-${id}.log`);
    if (!existsSync(file)) continue;
    const summary = summarizeNodeLog(readFileSync(file, 'utf8'));
    const refused = [...summary.isrRefused].sort(([a], [b]) => a - b).map(([code, count]) => `${count} (error ${code})`);
    lines.push(
      `  node ${id}: coordinators stood down ${summary.standDowns} times; ${summary.heartbeatsUnanswered} heartbeats unanswered in time; ` +
        `${summary.sessionFencings} brokers fenced for an expired session while it was the active controller; ISR changes refused: ${refused.join(', ') || 'none'}`,
    );
  }
  return lines;
}
