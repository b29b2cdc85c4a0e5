// The live progress line of a perf run: once a second on a terminal's stderr, nothing otherwise
// (so piped output stays clean for scripts).
import { progressLine } from './perf-report.js';

const TICK_MS = 1000;

export function startProgressTicker(read: () => { records: number; bytes: number; elapsedMs: number }): () => void {
  if (!process.stderr.isTTY) return () => {};
  let last = read();
  const timer = setInterval(() => {
    const now = read();
    process.stderr.write(progressLine(now.records, now.bytes, now.elapsedMs, now.records - last.records, now.bytes - last.bytes, now.elapsedMs - last.elapsedMs));
    last = now;
  }, TICK_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    process.stderr.write('\n');
  };
}
