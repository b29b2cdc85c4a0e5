/**
 * A task's `.checkpoint` file: for each changelog partition of its persistent stores, the offset
 * after the last changelog record the stores on disk hold, so a restart restores only the tail.
 * Kafka Streams' text layout: a version line (0), a count line, then `topic partition offset` per
 * line. Written to a temporary file and renamed, so a crash leaves the old file or the new one.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CHECKPOINT_FILE = '.checkpoint';

/** Offsets by `topic partition`. */
export type Checkpoint = Map<string, number>;

export const checkpointKey = (topic: string, partition: number): string => `${topic} ${partition}`;

export async function readCheckpoint(directory: string): Promise<Checkpoint> {
  let text: string;
  try {
    text = await readFile(join(directory, CHECKPOINT_FILE), 'utf8');
  } catch {
    return new Map();
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines[0] !== '0') return new Map();
  const offsets: Checkpoint = new Map();
  for (const line of lines.slice(2)) {
    const [topic, partition, offset] = line.trim().split(/\s+/);
    if (topic !== undefined && /^\d+$/.test(partition ?? '') && /^\d+$/.test(offset ?? '')) offsets.set(checkpointKey(topic, Number(partition)), Number(offset));
  }
  return offsets;
}

export async function writeCheckpoint(directory: string, offsets: Checkpoint): Promise<void> {
  await mkdir(directory, { recursive: true });
  const lines = ['0', String(offsets.size), ...[...offsets].map(([key, offset]) => `${key} ${offset}`)];
  const temporary = join(directory, `${CHECKPOINT_FILE}.tmp`);
  await writeFile(temporary, `${lines.join('\n')}\n`);
  await rename(temporary, join(directory, CHECKPOINT_FILE));
}

export async function deleteCheckpoint(directory: string): Promise<void> {
  await rm(join(directory, CHECKPOINT_FILE), { force: true });
}
