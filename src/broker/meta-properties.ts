// The log directory's identity file, as Kafka keeps it: meta.properties with the cluster id and
// node id. Written when a directory is first used; a later start with another node id is refused
// so two brokers never share a directory by mistake.
import type { RandomSource } from '../base/clock.js';
import { parseProperties } from '../base/config-def.js';
import { type FileSystem, isNotFoundError, joinPath, writeFileAtomically } from '../base/file-system.js';
import { randomUuid } from '../base/uuid.js';

export interface MetaProperties {
  clusterId: string;
  nodeId: number;
}

const FILE_NAME = 'meta.properties';

/** The directory's identity, checked against this broker's node id; undefined for a new directory. */
export async function readMetaProperties(fs: FileSystem, logDir: string, nodeId: number): Promise<MetaProperties | undefined> {
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
  const storedNodeId = Number(properties.get('node.id'));
  if (!clusterId || !Number.isInteger(storedNodeId)) throw new Error(`${path} is missing cluster.id or node.id`);
  if (storedNodeId !== nodeId) {
    throw new Error(`node.id: ${path} belongs to node ${storedNodeId}, but this broker is node ${nodeId}`);
  }
  return { clusterId, nodeId };
}

/** Gives a new directory its identity: a new cluster id and this node id, written atomically. */
export async function createMetaProperties(fs: FileSystem, logDir: string, nodeId: number, random: RandomSource): Promise<MetaProperties> {
  const created = { clusterId: randomUuid(random), nodeId };
  await writeFileAtomically(fs, joinPath(logDir, FILE_NAME), Buffer.from(`version=1\ncluster.id=${created.clusterId}\nnode.id=${nodeId}\n`));
  return created;
}
