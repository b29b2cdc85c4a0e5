#!/usr/bin/env node
// The conveyor command. It runs the bundled CLI (dist/cli/conveyor.js, built by `npm run build`)
// through V8's code cache: the first run of each command saves the bytecode of every function it
// ran next to the bundle (dist/cli/.code-cache/), and later runs of that command start from it
// instead of parsing and compiling about a megabyte of JavaScript again, which is most of what
// `conveyor start` spends before it can answer. V8 checks that a cache fits its version and flags
// and ignores one that does not; the file name carries the bundle's CRC-32C, so a rebuilt bundle
// never meets an old cache. CONVEYOR_CODE_CACHE=off turns the cache off; any other value names
// the directory to keep it in. Falls back to the plain compiled modules when the bundle is missing.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

// A broker moves hundreds of MB/s through Buffers while its own JavaScript heap stays near 8 MB.
// With V8's default limits for so small a heap, the scavenges those Buffers cause each start a
// full mark-compact under load (tens per second, about half the broker's CPU per MiB in a
// large-batch produce); an old generation allowed 64 MB before its first full collection takes
// them away (docs/benchmarks.md, "The broker's heap"). V8 reads the flag only as the process
// starts, so `conveyor start` and `conveyor dev` (whose nodes inherit the parent's flags) replace
// themselves with a process that has it: same pid, same arguments and environment; on Node
// without process.execve (before 22.15) they run as started, and `npm start` passes the flag.
// A flag of the user's own for the old space is kept as given. (This file runs before any of
// dist/ loads, so it names the flag itself: BROKER_HEAP_FLAG in src/cli/start-command.ts.)
const BROKER_HEAP_FLAG = '--initial-old-space-size=64';
if (['start', 'dev'].includes(process.argv[2]) && typeof process.execve === 'function' && !process.execArgv.some((flag) => flag.startsWith('--initial-old-space-size'))) {
  process.execve(process.execPath, [process.execPath, ...process.execArgv, BROKER_HEAP_FLAG, ...process.argv.slice(1)], process.env);
}

const bundle = fileURLToPath(new URL('../dist/cli/conveyor.js', import.meta.url));
const modules = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

if (existsSync(bundle)) {
  await runBundle(bundle);
} else if (existsSync(modules)) {
  const { run } = await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
  await run(process.argv);
} else {
  process.stderr.write('conveyor is not built yet: run `npm install` (or `npm run build`) in the project folder first.\n');
  process.exit(1);
}

async function runBundle(file) {
  // Compiled in a function of its own, so the file's bytes and the cache are garbage once it returns.
  const cli = loadBundle(file);
  await cli.run(process.argv);
}

function loadBundle(file) {
  const bytes = readFileSync(file);
  const source = bytes.toString('latin1'); // the build keeps the bundle ASCII
  const require = createRequire(file);
  const cacheFor = codeCacheFiles(file, bytes, require);
  const cacheFile = cacheFor?.(process.argv[2]);
  const cachedData = cacheFile === undefined ? undefined : readIfPresent(cacheFile);
  const script = new Script(source, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, require, module, file, dirname(file));
  if (cacheFor !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    // Anything but a command (a typo, --help) shares one cache, so mistakes cannot pile up files.
    const saveAs = cacheFor(module.exports.commandNames.includes(process.argv[2]) ? process.argv[2] : 'other');
    // At exit, so the cache holds what this command compiled on its way, not just the top level.
    process.once('exit', () => saveCodeCache(script, saveAs));
  }
  return module.exports;
}

/** The path of a command's code cache for this bundle, or undefined when caching is off. */
function codeCacheFiles(file, bytes, require) {
  const setting = process.env.CONVEYOR_CODE_CACHE;
  if (setting === 'off') return undefined;
  const directory = setting || join(dirname(file), '.code-cache');
  const { crc32c } = require('@node-rs/crc32');
  const checksum = crc32c(bytes).toString(16);
  // V8 refuses a cache made under other flags (the broker's heap flag among them): each set of flags keeps its own.
  const flags = process.execArgv.length === 0 ? '' : `-flags-${crc32c(process.execArgv.join(' ')).toString(16)}`;
  return (command) => {
    const name = /^[a-z][a-z-]*$/.test(command ?? '') ? command : 'other';
    return join(directory, `${name}-${checksum}${flags}-v8-${process.versions.v8}-${process.arch}.bin`);
  };
}

function readIfPresent(path) {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/** Written whole under a temporary name, then renamed: concurrent first runs never see half a file. */
function saveCodeCache(script, path) {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, script.createCachedData());
    renameSync(temporary, path);
  } catch {
    // A read-only installation runs without the cache.
  }
}
