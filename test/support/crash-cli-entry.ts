// Runs the conveyor command line from source, for tests that start the broker as a child process
// through `node --import tsx`: the same `run(process.argv)` that bin/conveyor.js calls on dist/,
// without depending on a build that may be stale or rebuilt while tests run.
import { run } from '../../src/cli/main.js';

await run(process.argv);
