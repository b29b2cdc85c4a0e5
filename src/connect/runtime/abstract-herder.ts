// What the standalone and distributed herders share (Kafka Connect's AbstractHerder): plugin
// listings and config validation, reading and changing a connector's offsets (source offsets in
// the worker's offset store, sink offsets in the connector's consumer group, KIP-875), and the
// plan a restart request makes of a connector's status.
import type { Logger } from '../../base/logger.js';
import { commitGroupOffsets, deleteGroupOffsets, fetchGroupOffsets } from '../../client/group-offsets.js';
import { keyInfo, validateConnectorConfig } from './config-validation.js';
import { sinkConnectorConfigDef, sourceConnectorConfigDef } from './connector-config.js';
import {
  type ConfigInfos,
  type ConfigKeyInfo,
  type ConnectorOffset,
  type ConnectorStateInfo,
  type PluginInfo,
  type RestartRequest,
  ConnectRestError,
} from './herder.js';
import type { OffsetStore } from './offset-store.js';
import type { PluginRegistry } from './plugins.js';
import type { Worker } from './worker.js';
import type { WorkerKafka } from './worker-kafka.js';

export interface HerderDeps {
  readonly worker: Worker;
  readonly plugins: PluginRegistry;
  readonly kafka: WorkerKafka;
  readonly offsets: OffsetStore;
  readonly kafkaClusterId: string;
  readonly logger: Logger;
  /** Plugins besides connectors (converters, transforms, predicates), for GET /connector-plugins. */
  readonly otherPlugins: readonly PluginInfo[];
}

const ALTERED = 'The offsets for this connector have been altered successfully';
const RESET = 'The offsets for this connector have been reset successfully';
const EXTERNAL_NOTE = 'However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses.';

export abstract class AbstractHerder {
  constructor(protected readonly deps: HerderDeps) {}

  get workerId(): string {
    return this.deps.worker.workerId;
  }

  kafkaClusterId(): string {
    return this.deps.kafkaClusterId;
  }

  plugins(connectorsOnly: boolean): PluginInfo[] {
    const connectors = this.deps.plugins.infos();
    return connectorsOnly ? connectors : [...connectors, ...this.deps.otherPlugins];
  }

  async validateConnectorConfig(pluginType: string, config: Record<string, string>): Promise<ConfigInfos> {
    const included = config['connector.class'];
    if (included !== undefined && !sameConnectorType(included, pluginType)) {
      throw new ConnectRestError(400, `Included connector type ${included} does not match request type ${pluginType}`);
    }
    return validateConnectorConfig(this.deps.plugins, config);
  }

  pluginConfig(pluginName: string): ConfigKeyInfo[] {
    const plugin = this.deps.plugins.find(pluginName);
    if (!plugin) throw new ConnectRestError(404, `Unknown plugin ${pluginName}.`);
    const common = plugin.kind === 'source' ? sourceConnectorConfigDef : sinkConnectorConfigDef;
    return common.merge(new plugin.create().config()).keys().map((key) => keyInfo(key));
  }

  /** The consumer group of a sink connector's tasks. */
  protected sinkGroup(name: string, config: Readonly<Record<string, string>>): string {
    return config['consumer.override.group.id'] ?? `connect-${name}`;
  }

  protected async readOffsets(name: string, config: Readonly<Record<string, string>>): Promise<ConnectorOffset[]> {
    if (this.deps.worker.kindOf(config) === 'sink') {
      const offsets = await fetchGroupOffsets(this.deps.kafka.cluster, this.sinkGroup(name, config));
      return offsets.map(({ topic, partition, offset }) => ({ partition: { kafka_topic: topic, kafka_partition: partition }, offset: { kafka_offset: offset } }));
    }
    return this.deps.offsets.connectorOffsets(name).map(({ partition, offset }) => ({ partition: { ...partition }, offset: { ...offset } }));
  }

  /** Alters (or, with 'reset', removes) a stopped connector's offsets; resolves with the REST message. */
  protected async changeOffsets(name: string, config: Readonly<Record<string, string>>, offsets: readonly ConnectorOffset[] | 'reset'): Promise<string> {
    const reset = offsets === 'reset';
    const changes = reset ? (await this.readOffsets(name, config)).map(({ partition }) => ({ partition, offset: null })) : offsets;
    if (!reset && changes.length === 0) throw new ConnectRestError(400, 'The offsets to be altered may not be null or empty');
    const confirmed = this.deps.worker.kindOf(config) === 'sink'
      ? await this.alterSinkOffsets(name, config, changes)
      : await this.alterSourceOffsets(name, config, changes);
    const verb = reset ? 'reset' : 'altered';
    if (confirmed) return reset ? RESET : ALTERED;
    return `The Connect framework-managed offsets for this connector have been ${verb} successfully. ${EXTERNAL_NOTE.replace('altered', verb)}`;
  }

  protected stoppedError(name: string): ConnectRestError {
    return new ConnectRestError(400, `Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/${name}/stop' endpoint`);
  }

  /** What a restart request restarts, given the connector's status: Kafka's RestartPlan. */
  protected restartPlan(status: ConnectorStateInfo, request: RestartRequest): { connector: boolean; tasks: number[]; response: ConnectorStateInfo | null } {
    const connector = !request.onlyFailed || status.connector.state === 'FAILED';
    const tasks = request.includeTasks ? status.tasks.filter((task) => !request.onlyFailed || task.state === 'FAILED').map((task) => task.id) : [];
    const plain = !request.includeTasks && !request.onlyFailed;
    const response = plain ? null : {
      ...status,
      connector: { ...status.connector, state: connector ? 'RESTARTING' as const : status.connector.state },
      tasks: status.tasks.map((task) => (tasks.includes(task.id) ? { id: task.id, state: 'RESTARTING' as const, worker_id: task.worker_id } : task)),
    };
    return { connector, tasks, response };
  }

  private async alterSinkOffsets(name: string, config: Readonly<Record<string, string>>, offsets: readonly ConnectorOffset[]): Promise<boolean> {
    const parsed = offsets.map(({ partition, offset }) => {
      const topic = partition.kafka_topic;
      const index = partition.kafka_partition;
      if (typeof topic !== 'string' || typeof index !== 'number' || !Number.isInteger(index)) {
        throw new ConnectRestError(400, 'Sink connector offsets must have a "kafka_topic" string and a "kafka_partition" integer in each partition');
      }
      const value = offset === null ? null : offset.kafka_offset;
      if (value !== null && (typeof value !== 'number' || !Number.isInteger(value) || value < 0)) {
        throw new ConnectRestError(400, 'Sink connector offsets must have a non-negative "kafka_offset" integer (or a null offset)');
      }
      return { topic, partition: index, offset: value as number | null };
    });
    const plugin = this.deps.plugins.resolve(config['connector.class']!);
    const confirmed = await (new plugin.create() as import('../api/connector.js').SinkConnector).alterOffsets(config, parsed);
    const group = this.sinkGroup(name, config);
    await commitGroupOffsets(this.deps.kafka.cluster, group, parsed.filter((item): item is { topic: string; partition: number; offset: number } => item.offset !== null));
    await deleteGroupOffsets(this.deps.kafka.cluster, group, parsed.filter((item) => item.offset === null));
    return confirmed === true;
  }

  private async alterSourceOffsets(name: string, config: Readonly<Record<string, string>>, offsets: readonly ConnectorOffset[]): Promise<boolean> {
    for (const { partition } of offsets) {
      if (partition === null || typeof partition !== 'object' || Array.isArray(partition)) throw new ConnectRestError(400, 'Source connector offsets must have an object as each partition');
    }
    const plugin = this.deps.plugins.resolve(config['connector.class']!);
    const confirmed = await (new plugin.create() as import('../api/connector.js').SourceConnector).alterOffsets(config, new Map(offsets.map(({ partition, offset }) => [partition, offset])));
    await this.deps.offsets.set(offsets.map(({ partition, offset }) => ({ connector: name, partition, offset })));
    return confirmed === true;
  }
}

/** Whether a config's connector.class and a path's plugin name name the same type (Kafka compares their simple names, "Connector" suffix optional). */
function sameConnectorType(included: string, requested: string): boolean {
  const normalized = (name: string) => {
    const simple = name.slice(name.lastIndexOf('.') + 1);
    return simple.endsWith('Connector') ? simple.slice(0, -'Connector'.length) : simple;
  };
  return normalized(included) === normalized(requested);
}
