// The quorum's deterministic simulation, on demand: `npm run simulate -- --seed 42` replays one seed
// and prints its faults and result; `npm run simulate -- --seeds 100000 [--from 1]` runs a campaign
// and prints every failing seed (each replays exactly with --seed). Exits 1 if any seed failed.
import { parseArgs } from 'node:util';
import { type RaftSeedResult, runRaftSeed } from '../src/testing/simulation/raft-simulation.js';

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    seeds: { type: 'string', default: '200' },
    from: { type: 'string', default: '1' },
    voters: { type: 'string' },
    'chaos-ms': { type: 'string' },
  },
});

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`--${name} must be an integer, got '${text}'`);
  return value;
}

const voters = integer('voters', values.voters);
if (voters !== undefined && voters !== 3 && voters !== 5) throw new Error('--voters must be 3 or 5');
const chaosMs = integer('chaos-ms', values['chaos-ms']);
const shape = { ...(voters !== undefined ? { voters } : {}), ...(chaosMs !== undefined ? { chaosMs } : {}) };

function summary(result: RaftSeedResult): string {
  const recovery = result.recoveryMs === undefined ? 'none' : `${result.recoveryMs} ms`;
  return `seed ${result.seed}: ${result.ok ? 'ok' : 'FAILED'}, ${result.voters} voters, ${result.observers} observers, snapshots ${result.snapshotEvery > 0 ? `every ${result.snapshotEvery} batches (${result.snapshotsFetched} fetched)` : 'off'}, ${result.voterChanges} voter changes (voters ${result.finalVoters.join(',')}), ${result.faults.length} faults, ${result.acknowledgedAppends} appends acknowledged, highest epoch ${result.highestEpoch}, recovery ${recovery}, ${result.events} events, trace ${result.traceDigest}`;
}

const single = integer('seed', values.seed);
if (single !== undefined) {
  const result = await runRaftSeed({ seed: single, ...shape });
  for (const fault of result.faults) console.log(`  ${fault}`);
  console.log(summary(result));
  for (const violation of result.violations) console.log(`  violation: ${violation}`);
  process.exit(result.ok ? 0 : 1);
}

const from = integer('from', values.from) ?? 1;
const count = integer('seeds', values.seeds) ?? 200;
const started = Date.now();
const recoveries: number[] = [];
const failed: number[] = [];
for (let seed = from; seed < from + count; seed++) {
  const result = await runRaftSeed({ seed, ...shape });
  if (result.recoveryMs !== undefined) recoveries.push(result.recoveryMs);
  if (!result.ok) {
    failed.push(seed);
    console.log(summary(result));
    for (const violation of result.violations.slice(0, 3)) console.log(`  violation: ${violation}`);
  }
  if ((seed - from + 1) % 1000 === 0) console.log(`${seed - from + 1} seeds, ${failed.length} failed, ${Math.round((Date.now() - started) / 1000)} s`);
}
recoveries.sort((a, b) => a - b);
const percentile = (p: number) => recoveries[Math.min(recoveries.length - 1, Math.floor(recoveries.length * p))];
console.log(
  `seeds ${from}..${from + count - 1}: ${count - failed.length} passed, ${failed.length} failed in ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
    `recovery after healing: median ${percentile(0.5)} ms, p99 ${percentile(0.99)} ms, max ${recoveries.at(-1)} ms (simulated)`,
);
if (failed.length > 0) console.log(`failing seeds: ${failed.join(' ')}`);
process.exit(failed.length === 0 ? 0 : 1);
