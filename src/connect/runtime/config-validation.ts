// Validating a connector's configuration as Kafka Connect's AbstractHerder.validateConnectorConfig
// does: the common connector keys (source or sink), the connector's own ConfigDef, each
// transform's and predicate's keys under their `transforms.<alias>.` / `predicates.<alias>.`
// prefix, and the cross-key checks of sinks (topics vs topics.regex). The result is the body of
// PUT /connector-plugins/{type}/config/validate; its errors refuse a create or update.
import type { ConnectConfigDef, ConnectConfigKey, ConfigValueReport } from '../api/config.js';
import { sinkConnectorConfigDef, sinkTopicErrors, sourceConnectorConfigDef } from './connector-config.js';
import { type ConfigInfos, type ConfigKeyInfo, ConnectRestError } from './herder.js';
import type { ConnectorPlugin, PluginRegistry } from './plugins.js';
import type { SourceConnector } from '../api/connector.js';
import { predicateConfigDef, transformConfigDef } from './transforms/index.js';

export function validateConnectorConfig(plugins: PluginRegistry, config: Readonly<Record<string, string>>): ConfigInfos {
  const className = config['connector.class'];
  if (className === undefined || className.trim() === '') throw new ConnectRestError(400, 'Connector config {' + Object.entries(config).map(([key, value]) => `${key}=${value}`).join(', ') + '} contains no connector type');
  let plugin;
  try {
    plugin = plugins.resolve(className);
  } catch (error) {
    throw new ConnectRestError(400, (error as Error).message);
  }
  const common = plugin.kind === 'source' ? sourceConnectorConfigDef : sinkConnectorConfigDef;
  const entries: { definition: ConfigKeyInfo; value: ConfigValueReport }[] = [];
  const add = (definition: ConnectConfigDef, props: Readonly<Record<string, string>>, prefix = '') => {
    const reports = new Map(definition.validate(props).map((report) => [report.name, report]));
    for (const key of definition.keys()) entries.push({ definition: keyInfo(key, prefix), value: { ...reports.get(key.name)!, name: prefix + key.name } });
  };
  add(common, config);
  for (const [name, error] of sinkTopicErrors(config)) {
    if (plugin.kind === 'sink') entries.find((entry) => entry.definition.name === name)?.value.errors.push(error);
  }
  let connectorDef: ConnectConfigDef | undefined;
  try {
    connectorDef = new plugin.create().config();
  } catch (error) {
    entries.find((entry) => entry.definition.name === 'connector.class')!.value.errors.push(`the connector's config() failed: ${(error as Error).message}`);
  }
  if (connectorDef) add(connectorDef, config);
  if (plugin.kind === 'source') {
    checkExactlyOnce(plugin, config, entries);
    checkTransactionBoundary(plugin, config, entries);
  }
  for (const kind of ['transforms', 'predicates'] as const) {
    for (const alias of listOf(config[kind])) {
      const prefix = `${kind}.${alias}.`;
      const typeKey = `${prefix}type`;
      const type = config[typeKey];
      if (type === undefined) {
        entries.push(typeEntry(typeKey, null, [`Missing required configuration "${typeKey}" which has no default value.`]));
        continue;
      }
      const definition = kind === 'transforms' ? transformConfigDef(type) : predicateConfigDef(type);
      if (!definition) {
        entries.push(typeEntry(typeKey, type, [`Invalid value ${type} for configuration ${typeKey}: Class ${type} could not be found.`]));
        continue;
      }
      entries.push(typeEntry(typeKey, type, []));
      add(definition, withoutPrefix(config, prefix), prefix);
    }
  }
  const groups = [...new Set(entries.map((entry) => entry.definition.group).filter((group): group is string => group !== null))];
  const errorCount = entries.reduce((sum, entry) => sum + entry.value.errors.length, 0);
  return {
    name: plugin.className,
    error_count: errorCount,
    groups,
    configs: entries.map(({ definition, value }) => ({
      definition,
      value: { name: value.name, value: value.value, recommended_values: [...value.recommendedValues], errors: value.errors, visible: value.visible },
    })),
  };
}

/** exactly.once.support=required: the connector must say it supports exactly once with this config (KIP-618's preflight check). */
function checkExactlyOnce(plugin: ConnectorPlugin, config: Readonly<Record<string, string>>, entries: readonly { definition: ConfigKeyInfo; value: ConfigValueReport }[]): void {
  const entry = entries.find((candidate) => candidate.definition.name === 'exactly.once.support');
  if (!entry || (config['exactly.once.support'] ?? 'requested').trim().toLowerCase() !== 'required') return;
  let support: string | null;
  try {
    support = (new plugin.create() as SourceConnector).exactlyOnceSupport(config);
  } catch (error) {
    entry.value.errors.push(`An unexpected error occurred during validation: ${(error as Error).message}`);
    return;
  }
  if (support === null) {
    entry.value.errors.push('The connector does not implement the API required for preflight validation of exactly-once source support. Please consult the documentation for the connector to determine whether it supports exactly-once semantics, and then consider reconfiguring the connector to use the value "requested" for this property (which will disable this preflight check and allow the connector to be created).');
  } else if (support !== 'SUPPORTED') {
    entry.value.errors.push('The connector does not support exactly-once semantics with the provided configuration.');
  }
}

/** transaction.boundary=connector: the connector must say it can define them with this config, as Kafka checks. */
function checkTransactionBoundary(plugin: ConnectorPlugin, config: Readonly<Record<string, string>>, entries: readonly { definition: ConfigKeyInfo; value: ConfigValueReport }[]): void {
  const entry = entries.find((candidate) => candidate.definition.name === 'transaction.boundary');
  if (!entry || entry.value.errors.length > 0 || (config['transaction.boundary'] ?? 'poll').trim().toLowerCase() !== 'connector') return;
  let support: string;
  try {
    support = (new plugin.create() as SourceConnector).canDefineTransactionBoundaries(config);
  } catch (error) {
    entry.value.errors.push(`An unexpected error occurred during validation: ${(error as Error).message}`);
    return;
  }
  if (support !== 'SUPPORTED') entry.value.errors.push('The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition.');
}

/** The 400 a create or update answers when `infos` has errors, in Kafka's words. */
export function invalidConfigError(infos: ConfigInfos): ConnectRestError {
  const messages = infos.configs.flatMap((entry) => entry.value.errors);
  return new ConnectRestError(400, `Connector configuration is invalid and contains the following ${infos.error_count} error(s):\n${messages.join('\n')}\nYou can also find the above list of errors at the endpoint \`/connector-plugins/{connectorType}/config/validate\``);
}

export function keyInfo(key: ConnectConfigKey, prefix = ''): ConfigKeyInfo {
  const defaultValue = key.defaultValue === undefined || key.defaultValue === null ? null : Array.isArray(key.defaultValue) ? key.defaultValue.join(',') : String(key.defaultValue);
  return {
    name: prefix + key.name,
    type: key.type.toUpperCase(),
    required: key.defaultValue === undefined,
    default_value: defaultValue,
    importance: key.importance,
    documentation: key.documentation,
    group: key.group ?? null,
    order_in_group: key.orderInGroup ?? -1,
    width: key.width ?? 'NONE',
    display_name: key.displayName ?? prefix + key.name,
    dependents: [...(key.dependents ?? [])],
  };
}

function typeEntry(name: string, value: string | null, errors: string[]): { definition: ConfigKeyInfo; value: ConfigValueReport } {
  const group = name.startsWith('transforms.') ? 'Transforms' : 'Predicates';
  return {
    definition: { name, type: 'CLASS', required: true, default_value: null, importance: 'HIGH', documentation: 'Class for the transformation or predicate.', group, order_in_group: 0, width: 'LONG', display_name: 'Type', dependents: [] },
    value: { name, value, recommendedValues: [], errors, visible: true },
  };
}

function listOf(text: string | undefined): string[] {
  return (text ?? '').split(',').map((item) => item.trim()).filter(Boolean);
}

function withoutPrefix(config: Readonly<Record<string, string>>, prefix: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) if (key.startsWith(prefix)) result[key.slice(prefix.length)] = value;
  return result;
}
