// The log directory's identity file, as Kafka keeps it: meta.properties with the cluster id and
// node id. A single node writes it when a directory is first used; every node of a multi-node
// quorum needs it written beforehand with one cluster id for all (`conveyor storage format`, as
// Kafka's kafka-storage.sh format). A later start with another node id is refused so two brokers
// never share a directory by mistake.
import type { RandomSource } from '../base/clock.js';
import { parseProperties } from '../base/config-def.js';
import { type FileSystem, isNotFoundError, joinPath, makeDirectoryDurably, writeFileAtomically } from '../base/file-system.js';
import { randomUuid } from '../base/uuid.js';

export interface MetaProperties {
  clusterId: string;
  nodeId: number;
}

const FILE_NAME = 'meta.properties';

/** What meta.properties in `logDir` says, without checking it against this node; undefined when absent. */
async function readIdentity(fs: FileSystem, logDir: string): Promise<MetaProperties | undefined> {
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
  return { clusterId, nodeId };
}

/** The directory's identity, checked against this broker's node id; undefined for a new directory. */
export async function readMetaProperties(fs: FileSystem, logDir: string, nodeId: number): Promise<MetaProperties | undefined> {
  const identity = await readIdentity(fs, logDir);
  if (identity !== undefined && identity.nodeId !== nodeId) {
    throw new Error(`node.id: ${joinPath(logDir, FILE_NAME)} belongs to node ${identity.nodeId}, but this broker is node ${nodeId}`);
  }
  return identity;
}

function writeIdentity(fs: FileSystem, logDir: string, identity: MetaProperties): Promise<void> {
  return writeFileAtomically(fs, joinPath(logDir, FILE_NAME), Buffer.from(`version=1\ncluster.id=${identity.clusterId}\nnode.id=${identity.nodeId}\n`));
}

/** Gives a new directory its identity: a new cluster id and this node id, written atomically. */
export async function createMetaProperties(fs: FileSystem, logDir: string, nodeId: number, random: RandomSource): Promise<MetaProperties> {
  const created = { clusterId: randomUuid(random), nodeId };
  await writeIdentity(fs, logDir, created);
  return created;
}

/**
 * The directory's identity at start-up. A single node gives a new directory one itself; a node of
 * a multi-node quorum must not make up a cluster id of its own, so its directory must have been
 * formatted with the cluster's id first.
 */
export async function ensureMetaProperties(fs: FileSystem, logDir: string, nodeId: number, random: RandomSource, multiNode: boolean): Promise<MetaProperties> {
  const existing = await readMetaProperties(fs, logDir, nodeId);
  if (existing !== undefined) return existing;
  if (!multiNode) return createMetaProperties(fs, logDir, nodeId, random);
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
  options: { ignoreFormatted?: boolean },
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
  await writeIdentity(fs, logDir, { clusterId, nodeId });
  return 'formatted';
}
