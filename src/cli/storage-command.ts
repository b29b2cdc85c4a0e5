// `conveyor storage`: Kafka's kafka-storage.sh. `random-uuid` makes a cluster id; `format` gives a
// node's log directory its identity (meta.properties) before the node first starts, which every
// node of a multi-node quorum needs, each formatted with the same cluster id.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseProperties } from '../base/config-def.js';
import { randomUuid } from '../base/uuid.js';
import { resolveBrokerConfig } from '../broker/broker-config.js';
import { formatStorage } from '../broker/meta-properties.js';
import { NodeFileSystem } from '../node/node-file-system.js';
import { systemRandom } from '../node/system.js';

interface FormatOptions {
  clusterId: string;
  config: string;
  ignoreFormatted?: boolean;
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
    .description("write the log directory's meta.properties (node.id and log.dirs from the config) with a cluster id")
    .requiredOption('-t, --cluster-id <id>', 'the cluster id, the same on every node (make one with `conveyor storage random-uuid`)')
    .requiredOption('-c, --config <file>', "the node's server.properties file")
    .option('-g, --ignore-formatted', 'succeed when the directory is already formatted with this cluster id and node id')
    .action(async (options: FormatOptions) => {
      const config = resolveBrokerConfig(parseProperties(await readFile(options.config, 'utf8')));
      const outcome = await formatStorage(new NodeFileSystem(), config.logDir, config.nodeId, options.clusterId, {
        ignoreFormatted: options.ignoreFormatted === true,
      });
      process.stdout.write(
        outcome === 'formatted'
          ? `Formatting ${config.logDir} with cluster id ${options.clusterId} for node ${config.nodeId}\n`
          : `${config.logDir} is already formatted with cluster id ${options.clusterId} for node ${config.nodeId}\n`,
      );
    });
}
