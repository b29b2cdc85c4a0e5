#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with node's test runner through tsx.
// Node 20's --test takes no globs, so the files are listed here.
//
// Two guards keep a stuck test from stalling CI until its own time limit, with nothing said:
// --test-force-exit ends a file's process once its tests are done, even when a client it used left
// a timer or socket behind (a kafkajs consumer retrying against a stopped broker once kept a file
// alive for over an hour), and a deadline for the whole run (CONVEYOR_TEST_DEADLINE_MINUTES, 30 by
// default) stops the runner and every file process it started, and fails.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
  { stdio: 'inherit', detached: true },
);
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
runner.on('exit', (code, signal) => {
  clearTimeout(deadline);
  stopGroup('SIGKILL');
  process.exit(overDeadline ? 1 : (code ?? (signal ? 1 : 0)));
});
