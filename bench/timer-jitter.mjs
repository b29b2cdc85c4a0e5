// The machine's scheduling noise floor, measured in the same run as the end-to-end latency: how late
// a 1 ms timer fires in a plain node process, as percentiles. No broker can answer faster than the
// event loop of an idle process gets to run.
import { performance } from 'node:perf_hooks';

const durationMs = Number(process.argv[2] ?? 3000);
const lateness = [];
const end = performance.now() + durationMs;
let expected = performance.now() + 1;
function tick() {
  const now = performance.now();
  lateness.push(now - expected);
  if (now >= end) return report();
  expected = now + 1;
  setTimeout(tick, 1);
}
function report() {
  lateness.sort((a, b) => a - b);
  const at = (q) => lateness[Math.min(lateness.length - 1, Math.floor(q * lateness.length))];
  process.stdout.write(`${JSON.stringify({ samples: lateness.length, p50Ms: at(0.5), p95Ms: at(0.95), p99Ms: at(0.99), p999Ms: at(0.999), maxMs: lateness.at(-1) })}\n`);
}
setTimeout(tick, 1);
