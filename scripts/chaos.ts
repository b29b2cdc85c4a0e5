// The chaos campaign on demand (test/chaos/chaos-run.ts): a cluster of real `conveyor start`
// processes behind fault-injecting proxies, a queue workload and a nemesis, then a report.
//   npm run chaos -- --time 10m --nemesis kill,pause,partition --seed 42
// Options: --time (s, m or h; default 5m), --nemesis (kill,pause,partition,restart,slow; default
// all), --seed (default: from the clock, printed), --nodes (default 3), --partitions (default 3),
// --out DIR (default chaos-results/seed-N: report.txt, chart.svg, logs/node-N.log, logs/copier.log).
// Exits 1 if any anomaly was found.
// First, before anything loads kafkajs: its consumer's worker queue, fixed (test/support/kafkajs-worker-queue.ts).
import '../test/support/kafkajs-worker-queue.js';
import { parseArgs } from 'node:util';
import { NEMESIS_KINDS, parseNemesis } from '../src/testing/chaos/nemesis.js';
import { runChaos } from '../test/chaos/chaos-run.js';

const { values } = parseArgs({
  options: {
    time: { type: 'string', default: '5m' },
    nemesis: { type: 'string', default: NEMESIS_KINDS.join(',') },
    seed: { type: 'string' },
    nodes: { type: 'string', default: '3' },
    partitions: { type: 'string', default: '3' },
    out: { type: 'string' },
  },
});

function duration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(text);
  if (match === null) throw new Error(`--time takes a number with s, m or h (10m, 1h); got '${text}'`);
  return Number(match[1]) * { s: 1_000, m: 60_000, h: 3_600_000 }[match[2] as 's' | 'm' | 'h'];
}

function count(name: string, text: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < minimum) throw new Error(`--${name} takes an integer of at least ${minimum}; got '${text}'`);
  return value;
}

const seed = values.seed === undefined ? Date.now() % 1_000_000 : count('seed', values.seed, 0);
const outputDir = values.out ?? `chaos-results/seed-${seed}`;
const result = await runChaos({
  seed,
  durationMs: duration(values.time),
  nemesis: parseNemesis(values.nemesis),
  nodes: count('nodes', values.nodes, 3),
  partitions: count('partitions', values.partitions, 1),
  outputDir,
  log: (line) => console.log(line),
});
console.log(`\n${result.report}\n\nreport: ${outputDir}/report.txt, chart: ${outputDir}/chart.svg, node and copier logs: ${outputDir}/logs/`);
process.exit(result.ok ? 0 : 1);
