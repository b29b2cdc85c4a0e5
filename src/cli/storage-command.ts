// `conveyor storage`: Kafka's kafka-storage.sh. `random-uuid` makes a cluster id; `format` gives a
// node's log directory its identity (meta.properties) before the node first starts, which every
// node of a multi-node quorum needs, each formatted with the same cluster id.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseProperties } from '../base/config-def.js';
import { randomUuid, uuidToBytes } from '../base/uuid.js';
import { type BrokerConfig, resolveBrokerConfig } from '../broker/broker-config.js';
import { parseListeners } from '../broker/network/listeners.js';
import { ToolError } from '../client/cluster-client.js';
import { parseInitialControllers, writeBootstrapCheckpoint } from '../quorum/bootstrap-checkpoint.js';
import { type Voter, ZERO_UUID } from '../quorum/voter-set.js';
import { formatStorage, newDirectoryId } from '../broker/meta-properties.js';
import { isReservedDirectoryId } from '../metadata/directory-id.js';
import { NodeFileSystem } from '../node/node-file-system.js';
import { systemRandom } from '../node/system.js';

interface FormatOptions {
  clusterId: string;
  config: string;
  ignoreFormatted?: boolean;
  standalone?: boolean;
  /** The list, or false for --no-initial-controllers, or undefined. */
  initialControllers?: string | false;
}

export function registerStorageCommand(program: Command): void {
  const storage = program.command('storage').description("prepare a node's log directory (Kafka's kafka-storage.sh)");
  storage
    .command('random-uuid')
    .description('print a new cluster id for `storage format`')
    .action(() => {
      process.stdout.write(`${randomUuid(systemRandom)}\n`);
    });
  storage
    .command('format')
    .description("write each log directory's meta.properties (node.id and log.dirs from the config) with a cluster id and its own directory id")
    .requiredOption('-t, --cluster-id <id>', 'the cluster id, the same on every node (make one with `conveyor storage random-uuid`)')
    .requiredOption('-c, --config <file>', "the node's server.properties file")
    .option('-g, --ignore-formatted', 'succeed when the directory is already formatted with this cluster id and node id')
    .option('-s, --standalone', 'a controller with controller.quorum.bootstrap.servers: start as the only voter of a new dynamic quorum (KIP-853)')
    .option('-I, --initial-controllers <id@host:port,...>', 'a controller with controller.quorum.bootstrap.servers: the first voters of a new dynamic quorum')
    .option('-N, --no-initial-controllers', 'a controller with controller.quorum.bootstrap.servers: join an existing quorum as an observer, to be added with `conveyor cluster add-controller`')
    .action(async (options: FormatOptions) => {
      const config = resolveBrokerConfig(parseProperties(await readFile(options.config, 'utf8')));
      const initialControllers = initialVoters(config, options);
      // Every log directory, each with its own directory id; the bootstrap voters go with the metadata log, in the first.
      for (const logDir of config.logDirs) {
        const metadataDir = logDir === config.logDir;
        // As Kafka's Formatter: the metadata log directory of an initial voter gets the directory id
        // its voter entry names (--initial-controllers with one), else a new one that its entry then names.
        const ownId = metadataDir ? initialControllers?.find((voter) => voter.id === config.nodeId)?.directoryId : undefined;
        const directoryId = ownId !== undefined && ownId !== ZERO_UUID ? checkedOwnDirectoryId(ownId) : newDirectoryId(systemRandom);
        const outcome = await formatStorage(new NodeFileSystem(), logDir, config.nodeId, options.clusterId, { ignoreFormatted: options.ignoreFormatted === true, directoryId });
        if (outcome === 'formatted' && initialControllers && metadataDir) {
          const voters = initialControllers.map((voter) => (voter.id === config.nodeId ? { ...voter, directoryId } : voter));
          await writeBootstrapCheckpoint(new NodeFileSystem(), logDir, voters, Date.now());
        }
        process.stdout.write(
          outcome === 'formatted'
            ? `Formatting ${logDir} with cluster id ${options.clusterId} for node ${config.nodeId}\n`
            : `${logDir} is already formatted with cluster id ${options.clusterId} for node ${config.nodeId}\n`,
        );
      }
    });
}

/**
 * This node's directory id from --initial-controllers, which its metadata log directory is given:
 * a reserved id, or one that is not a random (version 4) uuid (what `storage random-uuid` and
 * Kafka's tools make), is refused here, before a directory is written.
 */
function checkedOwnDirectoryId(uuid: string): string {
  const bytes = uuidToBytes(uuid);
  if (isReservedDirectoryId(uuid) || (bytes[6]! & 0xf0) !== 0x40 || (bytes[8]! & 0xc0) !== 0x80 || uuid.startsWith('-')) {
    throw new ToolError(`--initial-controllers: this node's directory id ${uuid} is reserved or not a random (version 4) uuid; make one with \`conveyor storage random-uuid\``);
  }
  return uuid;
}

/**
 * The first voter set a format writes (KIP-853), as Kafka's kafka-storage.sh decides it: only for a
 * controller of a dynamic quorum (controller.quorum.bootstrap.servers, no voters), which must say
 * which of --standalone, --initial-controllers or --no-initial-controllers it is.
 */
function initialVoters(config: BrokerConfig, options: FormatOptions): Voter[] | undefined {
  const chosen = [options.standalone === true, typeof options.initialControllers === 'string', options.initialControllers === false].filter(Boolean).length;
  const dynamicController = config.processRoles.includes('controller') && config.controllerQuorumVoters.length === 0 && config.controllerQuorumBootstrapServers.length > 0;
  if (!dynamicController) {
    if (chosen > 0) throw new ToolError('--standalone, --initial-controllers and --no-initial-controllers are for a controller with controller.quorum.bootstrap.servers and no controller.quorum.voters');
    return undefined;
  }
  if (chosen !== 1) throw new ToolError('a controller of a dynamic quorum (controller.quorum.bootstrap.servers) is formatted with exactly one of --standalone, --initial-controllers or --no-initial-controllers');
  const listenerName = config.controllerListenerNames[0]!;
  if (typeof options.initialControllers === 'string') {
    const voters = parseInitialControllers(options.initialControllers, listenerName);
    if (!voters.some((voter) => voter.id === config.nodeId)) throw new ToolError(`--initial-controllers does not name this node (${config.nodeId})`);
    return voters;
  }
  if (options.standalone !== true) return undefined;
  const listener = parseListeners(config.listeners).find((candidate) => candidate.name === listenerName);
  if (!listener || listener.port === 0) throw new ToolError(`--standalone needs a fixed port on the ${listenerName} listener`);
  // Kafka's --standalone: this node with its metadata log directory's new directory id (filled in once formatted).
  return [{ id: config.nodeId, directoryId: ZERO_UUID, endpoints: [{ name: listenerName, host: listener.host || 'localhost', port: listener.port }] }];
}
