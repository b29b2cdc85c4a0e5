// Runs the conveyor command line from source, for tests that start the broker as a child process
// through `node --import tsx`: the same `run(process.argv)` that bin/conveyor.js calls on dist/,
// without depending on a build that may be stale or rebuilt while tests run.
//
// CONVEYOR_TEST_CLEANER_PAUSE=<point>[:<skip>] holds the log cleaner for good at a named pause
// point (src/log/cleaner/log-cleaner.ts: `before-swap`, `swap-committed`), after letting `skip`
// earlier arrivals there go on. On arrival it prints a line (CLEANER_PAUSED_LINE) to stderr, so a
// crash test kills the broker exactly there rather than polling the directory for a moment mid-clean.
import { run } from '../../src/cli/main.js';
import { type CleanerPausePoint, setCleanerPauseHookForTests } from '../../src/log/cleaner/log-cleaner.js';
import { CLEANER_PAUSE_ENV } from './crash-broker-process.js';

const pauseSetting = process.env[CLEANER_PAUSE_ENV];
if (pauseSetting !== undefined && pauseSetting !== '') {
  const [point, skipText = '0'] = pauseSetting.split(':');
  if ((point !== 'before-swap' && point !== 'swap-committed') || !/^\d+$/.test(skipText)) throw new Error(`${CLEANER_PAUSE_ENV}=${pauseSetting}: expected before-swap or swap-committed, then optionally :<skip>`);
  let toSkip = Number(skipText);
  setCleanerPauseHookForTests(async (pause) => {
    if (pause.point !== (point as CleanerPausePoint)) return;
    if (toSkip > 0) {
      toSkip -= 1;
      return;
    }
    process.stderr.write(`conveyor-test: cleaner paused at ${pause.point} topic=${pause.topic} partition=${pause.partition} baseOffset=${pause.baseOffset}\n`);
    await new Promise<never>(() => {}); // held until the process is killed
  });
}

await run(process.argv);
