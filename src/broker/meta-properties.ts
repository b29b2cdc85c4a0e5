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

export async function loadOrCreateMetaProperties(fs: FileSystem, logDir: string, nodeId: number, random: RandomSource): Promise<MetaProperties> {
  const path = joinPath(logDir, FILE_NAME);
  let text: string | undefined;
  try {
    text = (await fs.readFile(path)).toString('utf8');
  } catch (error) {
    if (!isNotFoundError(error)) throw error;
  }
  if (text !== undefined) {
    const properties = parseProperties(text);
    const clusterId = properties.get('cluster.id');
    const storedNodeId = Number(properties.get('node.id'));
    if (!clusterId || !Number.isInteger(storedNodeId)) throw new Error(`${path} is missing cluster.id or node.id`);
    if (storedNodeId !== nodeId) {
      throw new Error(`node.id: ${path} belongs to node ${storedNodeId}, but this broker is node ${nodeId}`);
    }
    return { clusterId, nodeId };
  }
  const created = { clusterId: randomUuid(random), nodeId };
  await writeFileAtomically(fs, path, Buffer.from(`version=1\ncluster.id=${created.clusterId}\nnode.id=${nodeId}\n`));
  return created;
}
