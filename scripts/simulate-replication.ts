// The replication simulation on demand: `npm run simulate:replication -- --seed 42` replays one seed
// and prints its faults and result; `--seeds 10000 [--from 1]` runs a campaign and prints every
// failing seed. Exits 1 if any seed failed.
import { parseArgs } from 'node:util';
import { type ReplicationSeedResult, runReplicationSeed } from '../src/testing/simulation/replication-simulation.js';

const { values } = parseArgs({ options: { seed: { type: 'string' }, seeds: { type: 'string', default: '1000' }, from: { type: 'string', default: '1' } } });
const integer = (name: string, text: string | undefined): number | undefined => {
  if (text === undefined) return undefined;
  if (!Number.isSafeInteger(Number(text))) throw new Error(`--${name} must be an integer, got '${text}'`);
  return Number(text);
};
const summary = (result: ReplicationSeedResult) =>
  `seed ${result.seed}: ${result.ok ? 'ok' : 'FAILED'} (${result.disk}), ${result.faults.length} faults (${result.powerLosses} power losses), ${result.acknowledged} records acknowledged, ${result.committed} committed, ${result.leaderEpochs} leader elections, recovery ${result.recoveryMs === undefined ? 'none' : `${result.recoveryMs} ms`}`;

const single = integer('seed', values.seed);
if (single !== undefined) {
  const result = await runReplicationSeed({ seed: single });
  for (const fault of result.faults) console.log(`  ${fault}`);
  console.log(summary(result));
  for (const violation of result.violations) console.log(`  violation: ${violation}`);
  process.exit(result.ok ? 0 : 1);
}
const from = integer('from', values.from) ?? 1;
const count = integer('seeds', values.seeds) ?? 1000;
const started = Date.now();
const failed: number[] = [];
let acknowledged = 0;
let powerLosses = 0;
/** Violations by kind (numbers blanked), with the seeds that had each. */
const kinds = new Map<string, number[]>();
for (let seed = from; seed < from + count; seed++) {
  const result = await runReplicationSeed({ seed });
  acknowledged += result.acknowledged;
  powerLosses += result.powerLosses;
  if (!result.ok) {
    failed.push(seed);
    for (const kind of new Set(result.violations.map((violation) => violation.replace(/-?\d+/g, 'N')))) kinds.set(kind, [...(kinds.get(kind) ?? []), seed]);
    console.log(summary(result));
    for (const violation of result.violations.slice(0, 3)) console.log(`  violation: ${violation}`);
  }
  if ((seed - from + 1) % 1000 === 0) console.log(`${seed - from + 1} seeds, ${failed.length} failed, ${Math.round((Date.now() - started) / 1000)} s`);
}
console.log(`seeds ${from}..${from + count - 1}: ${count - failed.length} passed, ${failed.length} failed in ${((Date.now() - started) / 1000).toFixed(1)} s; ${acknowledged} records acknowledged, ${powerLosses} power losses`);
if (failed.length > 0) console.log(`failing seeds: ${failed.join(' ')}`);
for (const [kind, seeds] of kinds) console.log(`  ${seeds.length} seeds: ${kind} (${seeds.slice(0, 10).join(' ')}${seeds.length > 10 ? ' ...' : ''})`);
process.exit(failed.length === 0 ? 0 : 1);
