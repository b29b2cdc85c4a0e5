#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner through tsx.
// Node 20's --test takes no globs, so the files are listed here.
//
// Two guards keep a stuck test from stalling CI until its own time limit, with nothing said:
// --test-force-exit ends a file's process once its tests are done, even when a client it used left
// a timer or socket behind (a kafkajs consumer retrying against a stopped broker once kept a file
// alive for over an hour), and a deadline for the whole run (CONVEYOR_TEST_DEADLINE_MINUTES, 30 by
// default) stops the runner and every file process it started, and fails.
//
// The output passes through unchanged, and at its end the failed tests are listed again with their
// location and error: a CI log is often read from its tail, where a failure in the middle of an
// hour's output is otherwise out of sight.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

function findTests(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (entry.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

// Arguments select the files whose path contains one of them (all when none); `--exclude=TEXT`
// (repeatable) drops the files whose path contains TEXT; `--shard=TEXT:I/N` keeps, of the files
// whose path contains TEXT, only every N-th from the I-th (1-based, in sorted order), so N runs
// share those files between them.
const args = process.argv.slice(2);
const option = (name) => args.filter((arg) => arg.startsWith(`--${name}=`)).map((arg) => arg.slice(name.length + 3));
const excludes = option('exclude');
const shards = option('shard').map((text) => {
  const match = /^(.+):(\d+)\/(\d+)$/.exec(text);
  if (!match || Number(match[2]) < 1 || Number(match[2]) > Number(match[3])) {
    console.error(`--shard takes TEXT:I/N with 1 <= I <= N, not ${text}`);
    process.exit(1);
  }
  return { text: match[1], index: Number(match[2]) - 1, count: Number(match[3]) };
});
const filters = args.filter((arg) => !arg.startsWith('--'));
const selected = ['src', 'test']
  .flatMap((dir) => findTests(dir))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .filter((file) => !excludes.some((exclude) => file.includes(exclude)))
  .sort();
const files = selected.filter((file) =>
  shards.every(({ text, index, count }) => {
    if (!file.includes(text)) return true;
    const position = selected.filter((each) => each.includes(text)).indexOf(file);
    return position % count === index;
  }),
);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const deadlineMinutes = Number(process.env.CONVEYOR_TEST_DEADLINE_MINUTES ?? 30);
if (!(deadlineMinutes > 0)) {
  console.error(`CONVEYOR_TEST_DEADLINE_MINUTES must be a positive number of minutes, not ${process.env.CONVEYOR_TEST_DEADLINE_MINUTES}`);
  process.exit(1);
}
// Its own process group, so the deadline can stop the file processes the runner starts as well.
const runner = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-force-exit', '--test-concurrency=2', '--test-timeout=300000', ...files],
  { stdio: ['inherit', 'pipe', 'inherit'], detached: true },
);
runner.stdout.pipe(process.stdout);
// Each `not ok` line of the TAP output with the first lines of the YAML block under it; a suite
// failed only through its subtests (failureType 'subtestsFailed') is left out, its subtests say it.
const failures = [];
let open = null;
createInterface({ input: runner.stdout }).on('line', (line) => {
  if (open) {
    if (line.trimEnd() === `${open.indent}  ...`) {
      if (!open.lines.some((each) => each.includes("failureType: 'subtestsFailed'"))) failures.push(open);
      open = null;
    } else if (open.lines.length < 30) {
      open.lines.push(line);
    }
    return;
  }
  const match = /^(\s*)not ok \d+ - /.exec(line);
  if (match) open = { indent: match[1], lines: [line] };
});
const summarize = () => {
  if (failures.length === 0) return;
  const text = [`\n== ${failures.length} failed test${failures.length === 1 ? '' : 's'}, again:`];
  for (const { indent, lines } of failures) text.push(...lines.map((each) => each.slice(indent.length)), '');
  process.stdout.write(`${text.join('\n')}\n`);
};
const stopGroup = (signal) => {
  try {
    process.kill(-runner.pid, signal);
  } catch {
    // the group has already ended
  }
};
let overDeadline = false;
const deadline = setTimeout(() => {
  overDeadline = true;
  console.error(`\nthe test run passed its deadline of ${deadlineMinutes} minutes (CONVEYOR_TEST_DEADLINE_MINUTES); stopping it`);
  stopGroup('SIGTERM');
  setTimeout(() => stopGroup('SIGKILL'), 10_000).unref();
}, deadlineMinutes * 60_000);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopGroup(signal));
// 'close', not 'exit': the output has been read to its end by then.
runner.on('close', (code, signal) => {
  clearTimeout(deadline);
  stopGroup('SIGKILL');
  summarize();
  process.exit(overDeadline ? 1 : (code ?? (signal ? 1 : 0)));
});
