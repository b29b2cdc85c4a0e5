// A Connect worker's configuration: Kafka Connect's worker keys, names and defaults
// (WorkerConfig, StandaloneConfig, DistributedConfig). A bad value is refused naming its key.
import { ConnectConfigDef, type ParsedConfig, Validators } from '../api/config.js';

const common = new ConnectConfigDef()
  .define({ name: 'bootstrap.servers', type: 'list', defaultValue: ['localhost:9092'], importance: 'HIGH', documentation: 'Kafka brokers to connect to, host:port, comma-separated.' })
  .define({ name: 'key.converter', type: 'class', importance: 'HIGH', documentation: 'Converter class for record keys (between Connect data and Kafka bytes).' })
  .define({ name: 'value.converter', type: 'class', importance: 'HIGH', documentation: 'Converter class for record values.' })
  .define({ name: 'header.converter', type: 'class', defaultValue: 'org.apache.kafka.connect.storage.SimpleHeaderConverter', importance: 'LOW', documentation: 'Converter class for record header values.' })
  .define({ name: 'listeners', type: 'list', defaultValue: ['http://:8083'], importance: 'LOW', documentation: 'REST API listeners, protocol://host:port; an empty host binds every interface.' })
  .define({ name: 'rest.advertised.host.name', type: 'string', defaultValue: null, importance: 'LOW', documentation: 'The host name other workers and clients reach this worker at.' })
  .define({ name: 'rest.advertised.port', type: 'int', defaultValue: null, importance: 'LOW', documentation: 'The port other workers and clients reach this worker at.' })
  .define({ name: 'plugin.path', type: 'list', defaultValue: [], importance: 'LOW', documentation: 'Directories holding connector, converter and transform plugins (npm packages).' })
  .define({ name: 'offset.flush.interval.ms', type: 'long', defaultValue: 60_000, importance: 'LOW', validator: Validators.atLeast(0), documentation: 'How often source offsets are stored and sink offsets committed.' })
  .define({ name: 'offset.flush.timeout.ms', type: 'long', defaultValue: 5_000, importance: 'LOW', validator: Validators.atLeast(0), documentation: 'How long an offset flush may wait for outstanding records.' })
  .define({ name: 'task.shutdown.graceful.timeout.ms', type: 'long', defaultValue: 5_000, importance: 'LOW', validator: Validators.atLeast(0), documentation: 'How long a task may take to stop before it is abandoned.' })
  .define({ name: 'client.id', type: 'string', defaultValue: '', importance: 'LOW', documentation: 'Prefix of the client ids of the worker\'s producers and consumers.' })
  .define({ name: 'connector.client.config.override.policy', type: 'string', defaultValue: 'All', importance: 'MEDIUM', validator: Validators.oneOf('All', 'None', 'Principal'), documentation: 'Which producer.override.* / consumer.override.* keys connectors may set.' })
  .define({ name: 'exactly.once.source.support', type: 'string', defaultValue: 'disabled', importance: 'HIGH', validator: Validators.oneOf('disabled', 'preparing', 'enabled'), documentation: 'Exactly-once delivery for source connectors (distributed mode, KIP-618).' });

export const standaloneWorkerConfigDef = common.merge(new ConnectConfigDef()
  .define({ name: 'offset.storage.file.filename', type: 'string', importance: 'HIGH', validator: Validators.nonEmptyString(), documentation: 'The file a standalone worker keeps source offsets in.' }));

export const distributedWorkerConfigDef = common.merge(new ConnectConfigDef()
  .define({ name: 'group.id', type: 'string', importance: 'HIGH', validator: Validators.nonEmptyString(), documentation: 'The Connect cluster\'s group: workers with the same group.id share connectors.' })
  .define({ name: 'config.storage.topic', type: 'string', importance: 'HIGH', documentation: 'The compacted topic holding connector configurations.' })
  .define({ name: 'offset.storage.topic', type: 'string', importance: 'HIGH', documentation: 'The compacted topic holding source offsets.' })
  .define({ name: 'status.storage.topic', type: 'string', importance: 'HIGH', documentation: 'The compacted topic holding connector and task statuses.' })
  .define({ name: 'config.storage.replication.factor', type: 'short', defaultValue: 3, importance: 'LOW', documentation: 'Replication factor of the config topic (-1: the broker default).' })
  .define({ name: 'offset.storage.replication.factor', type: 'short', defaultValue: 3, importance: 'LOW', documentation: 'Replication factor of the offset topic (-1: the broker default).' })
  .define({ name: 'status.storage.replication.factor', type: 'short', defaultValue: 3, importance: 'LOW', documentation: 'Replication factor of the status topic (-1: the broker default).' })
  .define({ name: 'offset.storage.partitions', type: 'int', defaultValue: 25, importance: 'LOW', documentation: 'Partitions of the offset topic.' })
  .define({ name: 'status.storage.partitions', type: 'int', defaultValue: 5, importance: 'LOW', documentation: 'Partitions of the status topic.' })
  .define({ name: 'session.timeout.ms', type: 'int', defaultValue: 10_000, importance: 'HIGH', documentation: 'How long a worker may be silent before the group drops it.' })
  .define({ name: 'heartbeat.interval.ms', type: 'int', defaultValue: 3_000, importance: 'HIGH', documentation: 'How often a worker heartbeats to the group coordinator.' })
  .define({ name: 'rebalance.timeout.ms', type: 'int', defaultValue: 60_000, importance: 'HIGH', documentation: 'How long the group waits for members to rejoin.' })
  .define({ name: 'scheduled.rebalance.max.delay.ms', type: 'int', defaultValue: 300_000, importance: 'LOW', documentation: 'How long a departed worker\'s tasks wait for it before moving (KIP-415).' }));

export type WorkerMode = 'standalone' | 'distributed';

/** Parses worker properties for `mode`; throws a ConnectConfigException naming the bad key. */
export function parseWorkerConfig(mode: WorkerMode, props: Readonly<Record<string, string>>): ParsedConfig {
  return (mode === 'standalone' ? standaloneWorkerConfigDef : distributedWorkerConfigDef).parse(props);
}

/** The REST listener's host and port from `listeners` (the first http one). */
export function restListener(config: ParsedConfig): { host: string; port: number } {
  const listener = config.list('listeners')[0] ?? 'http://:8083';
  const match = /^(https?):\/\/(\[[^\]]*\]|[^:/]*)(?::(\d+))?\/?$/.exec(listener);
  if (!match) throw new Error(`listeners: cannot read '${listener}' (expected http://host:port)`);
  if (match[1] === 'https') throw new Error(`listeners: https listeners are not supported yet ('${listener}')`);
  const host = match[2]!.replace(/^\[|\]$/g, '');
  return { host: host === '' ? '0.0.0.0' : host, port: match[3] === undefined ? 80 : Number(match[3]) };
}
