// Kafka's text checkpoint files: a version line `0`, a count line, then one entry per line.
// Log-dir checkpoints hold `topic partition offset`; the leader epoch checkpoint holds
// `epoch startOffset`. Writes are atomic (temporary file, fsync, rename); a corrupt file is
// reported with a warning and treated as absent, never as a crash.
import { type FileSystem, isNotFoundError, writeFileAtomically } from '../base/file-system.js';
import type { Logger } from '../base/logger.js';

const CHECKPOINT_VERSION = 0;

export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

function formatLines(lines: readonly string[]): Buffer {
  return Buffer.from(`${CHECKPOINT_VERSION}\n${lines.length}\n${lines.map((line) => `${line}\n`).join('')}`);
}

/** The entry lines of a checkpoint, or an error message saying why the file is not one. */
function parseLines(text: string): string[] | string {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length < 2) return 'missing version or count line';
  if (lines[0]!.trim() !== String(CHECKPOINT_VERSION)) return `unsupported version '${lines[0]}'`;
  const count = parseNonNegativeInteger(lines[1]!);
  if (count === undefined) return `bad count line '${lines[1]}'`;
  if (lines.length - 2 !== count) return `count ${count} but ${lines.length - 2} entries`;
  return lines.slice(2);
}

function parseNonNegativeInteger(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : undefined;
}

function parseInteger(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^-?\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isSafeInteger(value) ? value : undefined;
}

async function readCheckpointLines(fs: FileSystem, path: string, logger: Logger): Promise<string[] | undefined> {
  let text: string;
  try {
    text = (await fs.readFile(path)).toString('utf8');
  } catch (error) {
    if (isNotFoundError(error)) return undefined;
    logger.warn('unreadable checkpoint file, treating it as absent', { file: path, error });
    return undefined;
  }
  const lines = parseLines(text);
  if (typeof lines === 'string') {
    logger.warn('corrupt checkpoint file, treating it as absent', { file: path, reason: lines });
    return undefined;
  }
  return lines;
}

function parseEntries<T>(lines: string[], parse: (fields: string[]) => T | undefined): T[] | string {
  const entries: T[] = [];
  for (const line of lines) {
    const entry = parse(line.trim().split(/\s+/));
    if (entry === undefined) return `bad entry '${line}'`;
    entries.push(entry);
  }
  return entries;
}

async function readEntries<T>(
  fs: FileSystem,
  path: string,
  logger: Logger,
  parse: (fields: string[]) => T | undefined,
): Promise<T[] | undefined> {
  const lines = await readCheckpointLines(fs, path, logger);
  if (lines === undefined) return undefined;
  const entries = parseEntries(lines, parse);
  if (typeof entries === 'string') {
    logger.warn('corrupt checkpoint file, treating it as absent', { file: path, reason: entries });
    return undefined;
  }
  return entries;
}

function parsePartitionOffset(fields: string[]): PartitionOffset | undefined {
  if (fields.length !== 3) return undefined;
  const partition = parseNonNegativeInteger(fields[1]!);
  const offset = parseInteger(fields[2]!);
  if (partition === undefined || offset === undefined || fields[0]!.length === 0) return undefined;
  return { topic: fields[0]!, partition, offset };
}

function parseEpochEntry(fields: string[]): EpochEntry | undefined {
  if (fields.length !== 2) return undefined;
  const epoch = parseNonNegativeInteger(fields[0]!);
  const startOffset = parseNonNegativeInteger(fields[1]!);
  if (epoch === undefined || startOffset === undefined) return undefined;
  return { epoch, startOffset };
}

/** Entries of a `topic partition offset` checkpoint; undefined when missing or corrupt (warned). */
export function readOffsetCheckpoint(fs: FileSystem, path: string, logger: Logger): Promise<PartitionOffset[] | undefined> {
  return readEntries(fs, path, logger, parsePartitionOffset);
}

export function writeOffsetCheckpoint(fs: FileSystem, path: string, entries: Iterable<PartitionOffset>): Promise<void> {
  const lines = [...entries].map((entry) => `${entry.topic} ${entry.partition} ${entry.offset}`);
  return writeFileAtomically(fs, path, formatLines(lines));
}

/** Entries of a leader-epoch-checkpoint; undefined when missing or corrupt (warned). */
export function readLeaderEpochCheckpoint(fs: FileSystem, path: string, logger: Logger): Promise<EpochEntry[] | undefined> {
  return readEntries(fs, path, logger, parseEpochEntry);
}

export function writeLeaderEpochCheckpoint(fs: FileSystem, path: string, entries: Iterable<EpochEntry>): Promise<void> {
  const lines = [...entries].map((entry) => `${entry.epoch} ${entry.startOffset}`);
  return writeFileAtomically(fs, path, formatLines(lines));
}
