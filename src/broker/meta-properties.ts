// The log directory's identity file, as Kafka keeps it: meta.properties with the cluster id, the
// node id and the directory's own id (directory.id, Kafka 3.7+: the controller tracks which
// directory each replica lives in by it). A single node writes it when a directory is first used;
// every node of a multi-node quorum needs it written beforehand with one cluster id for all
// (`conveyor storage format`, as Kafka's kafka-storage.sh format). A later start with another node
// id is refused so two brokers never share a directory by mistake.
import type { RandomSource } from '../base/clock.js';
import { parseProperties } from '../base/config-def.js';
import { type FileSystem, isNotFoundError, joinPath, makeDirectoryDurably, writeFileAtomically } from '../base/file-system.js';
import { randomUuid } from '../base/uuid.js';
import { isReservedDirectoryId } from '../metadata/directory-id.js';

export interface MetaProperties {
  clusterId: string;
  nodeId: number;
}

const FILE_NAME = 'meta.properties';

/** What meta.properties in `logDir` says, without checking it against this node; undefined when absent. */
async function readIdentity(fs: FileSystem, logDir: string): Promise<MetaProperties | undefined> {
  const read = await readIdentityAndDirectory(fs, logDir);
  return read && { clusterId: read.clusterId, nodeId: read.nodeId };
}

async function readIdentityAndDirectory(fs: FileSystem, logDir: string): Promise<(MetaProperties & { directoryId: string | undefined }) | undefined> {
  const path = joinPath(logDir, FILE_NAME);
  let text: string;
  try {
    text = (await fs.readFile(path)).toString('utf8');
  } catch (error) {
    if (isNotFoundError(error)) return undefined;
    throw error;
  }
  const properties = parseProperties(text);
  const clusterId = properties.get('cluster.id');
  const nodeId = Number(properties.get('node.id'));
  if (!clusterId || !Number.isInteger(nodeId)) throw new Error(`${path} is missing cluster.id or node.id`);
  return { clusterId, nodeId, directoryId: properties.get('directory.id') || undefined };
}

/** The directory's identity, checked against this broker's node id; undefined for a new directory. */
export async function readMetaProperties(fs: FileSystem, logDir: string, nodeId: number): Promise<MetaProperties | undefined> {
  const identity = await readIdentity(fs, logDir);
  if (identity !== undefined) checkNodeId(identity, logDir, nodeId);
  return identity;
}

function checkNodeId(identity: MetaProperties, logDir: string, nodeId: number): void {
  if (identity.nodeId !== nodeId) throw new Error(`node.id: ${joinPath(logDir, FILE_NAME)} belongs to node ${identity.nodeId}, but this broker is node ${nodeId}`);
}

function writeIdentity(fs: FileSystem, logDir: string, identity: MetaProperties, directoryId?: string): Promise<void> {
  const directory = directoryId === undefined ? '' : `directory.id=${directoryId}\n`;
  return writeFileAtomically(fs, joinPath(logDir, FILE_NAME), Buffer.from(`version=1\ncluster.id=${identity.clusterId}\nnode.id=${identity.nodeId}\n${directory}`));
}

/**
 * The directory ids of a broker's log directories (log.dirs), the first one's identity already
 * ensured (ensureMetaProperties). Every directory must belong to the same cluster and node; an
 * empty directory (one added to log.dirs) is given that identity, as Kafka 3.7+ formats a new
 * directory at start; a directory without a directory.id (formatted before ids existed) gets a new
 * one. Two directories with one id (a copied directory) refuse the start. A directory whose
 * meta.properties cannot be read or written because of an I/O error is left out: the log manager
 * finds it unusable too and the broker reports it offline.
 */
export async function ensureDirectoryIds(
  fs: FileSystem,
  logDirs: readonly string[],
  identity: MetaProperties,
  random: RandomSource,
  /** Directories whose meta.properties was just read or written with `identity`: their ids, not read again. */
  known: ReadonlyMap<string, string> = new Map(),
): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  const owners = new Map<string, string>();
  for (const logDir of logDirs) {
    let read;
    try {
      const knownId = known.get(logDir);
      read = knownId === undefined ? await readIdentityAndDirectory(fs, logDir) : { ...identity, directoryId: knownId };
      if (read !== undefined && read.clusterId !== identity.clusterId) {
        throw new Error(`${joinPath(logDir, FILE_NAME)} belongs to cluster ${read.clusterId}, but ${logDirs[0]} to ${identity.clusterId}: every log directory of a broker belongs to one cluster`);
      }
      if (read !== undefined && read.nodeId !== identity.nodeId) {
        throw new Error(`node.id: ${joinPath(logDir, FILE_NAME)} belongs to node ${read.nodeId}, but this broker is node ${identity.nodeId}`);
      }
      let directoryId = read?.directoryId;
      if (directoryId === undefined) {
        directoryId = newDirectoryId(random);
        await makeDirectoryDurably(fs, logDir);
        await writeIdentity(fs, logDir, identity, directoryId);
      }
      const other = owners.get(directoryId);
      if (other !== undefined) throw new Error(`log directories ${other} and ${logDir} have the same directory.id ${directoryId}: a log directory must not be a copy of another`);
      owners.set(directoryId, logDir);
      ids.set(logDir, directoryId);
    } catch (error) {
      if (!isIoError(error)) throw error;
    }
  }
  return ids;
}

/** A new directory id: a random Kafka UUID that is none of the ids Kafka reserves (the first 100 of the UUID space). */
export function newDirectoryId(random: RandomSource): string {
  for (;;) {
    const id = randomUuid(random);
    if (!isReservedDirectoryId(id)) return id;
  }
}

function isIoError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code !== 'ENOENT' && /^E[A-Z]+$/.test(code);
}

/** Gives a new directory its identity: a new cluster id and this node id, written atomically. */
export async function createMetaProperties(fs: FileSystem, logDir: string, nodeId: number, random: RandomSource): Promise<MetaProperties> {
  const { clusterId } = await createIdentity(fs, logDir, nodeId, random);
  return { clusterId, nodeId };
}

async function createIdentity(fs: FileSystem, logDir: string, nodeId: number, random: RandomSource): Promise<MetaProperties & { directoryId: string }> {
  const created = { clusterId: randomUuid(random), nodeId, directoryId: newDirectoryId(random) };
  await writeIdentity(fs, logDir, created, created.directoryId);
  return created;
}

/**
 * The directory's identity at start-up. A single node gives a new directory one itself; a node of
 * a multi-node quorum must not make up a cluster id of its own, so its directory must have been
 * formatted with the cluster's id first.
 */
export async function ensureMetaProperties(fs: FileSystem, logDir: string, nodeId: number, random: RandomSource, multiNode: boolean): Promise<MetaProperties> {
  const { clusterId } = await ensureIdentity(fs, logDir, nodeId, random, multiNode);
  return { clusterId, nodeId };
}

/**
 * A broker's identity at start-up: ensureMetaProperties for the first of its log directories, then
 * ensureDirectoryIds for all of them. The first directory's meta.properties is read once: its
 * directory id comes with the identity read, or was just written with a new one.
 */
export async function ensureBrokerIdentity(
  fs: FileSystem,
  logDirs: readonly string[],
  nodeId: number,
  random: RandomSource,
  multiNode: boolean,
): Promise<{ clusterId: string; directoryIds: Map<string, string> }> {
  const first = logDirs[0]!;
  const identity = await ensureIdentity(fs, first, nodeId, random, multiNode);
  const known = new Map(identity.directoryId === undefined ? [] : [[first, identity.directoryId]]);
  return { clusterId: identity.clusterId, directoryIds: await ensureDirectoryIds(fs, logDirs, { clusterId: identity.clusterId, nodeId }, random, known) };
}

async function ensureIdentity(fs: FileSystem, logDir: string, nodeId: number, random: RandomSource, multiNode: boolean): Promise<MetaProperties & { directoryId: string | undefined }> {
  const existing = await readIdentityAndDirectory(fs, logDir);
  if (existing !== undefined) {
    checkNodeId(existing, logDir, nodeId);
    return existing;
  }
  if (!multiNode) return createIdentity(fs, logDir, nodeId, random);
  throw new Error(
    `${logDir} is not formatted (no ${FILE_NAME}), and a node of a multi-node quorum does not format itself: ` +
      'make a cluster id once with `conveyor storage random-uuid`, then format every node of the cluster with that same id: ' +
      '`conveyor storage format --cluster-id <id> --config <server.properties>`',
  );
}

/** Whether `clusterId` is a Kafka cluster id: a 16-byte UUID in base64url, 22 characters. */
export function isValidClusterId(clusterId: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(clusterId) && Buffer.from(clusterId, 'base64url').toString('base64url') === clusterId;
}

/**
 * Formats `logDir` for node `nodeId` of cluster `clusterId` (Kafka's kafka-storage.sh format):
 * creates the directory durably and writes meta.properties. A directory already formatted is
 * refused, unless `ignoreFormatted` and it already has this very identity; one of another cluster
 * is always refused.
 */
export async function formatStorage(
  fs: FileSystem,
  logDir: string,
  nodeId: number,
  clusterId: string,
  /** directoryId: the directory's `directory.id` (none written without it: the broker gives one at start). */
  options: { ignoreFormatted?: boolean; directoryId?: string },
): Promise<'formatted' | 'already-formatted'> {
  if (!isValidClusterId(clusterId)) {
    throw new Error(`cluster id '${clusterId}' is not a Kafka cluster id (22 characters of base64url, a 16-byte UUID): make one with \`conveyor storage random-uuid\``);
  }
  const existing = await readIdentity(fs, logDir);
  if (existing !== undefined) {
    const path = joinPath(logDir, FILE_NAME);
    if (existing.clusterId !== clusterId) {
      throw new Error(`${path} belongs to cluster ${existing.clusterId}, not ${clusterId}: a formatted directory is never given to another cluster`);
    }
    if (existing.nodeId !== nodeId) {
      throw new Error(`node.id: ${path} belongs to node ${existing.nodeId}, but this configuration is node ${nodeId}`);
    }
    if (!options.ignoreFormatted) {
      throw new Error(`${logDir} is already formatted (${FILE_NAME} exists); use --ignore-formatted to accept a directory already formatted with this cluster id and node id`);
    }
    return 'already-formatted';
  }
  await makeDirectoryDurably(fs, logDir);
  await writeIdentity(fs, logDir, { clusterId, nodeId }, options.directoryId);
  return 'formatted';
}
