// `conveyor configs describe|alter`: Kafka's kafka-configs tool for topics, brokers and groups
// (--entity-type groups, KIP-848/KIP-932 group configs such as share.record.lock.duration.ms). Describe
// lists the overrides (or, with --all, every config with its source and synonyms); alter adds and
// deletes overrides with IncrementalAlterConfigs (`--add-config k=v,k2=v2`, `--delete-config k`).
import type { Command } from 'commander';
import { AlterOperation, ConfigResource, type AdminClient, type ConfigEntry } from '../client/admin-client.js';
import { ToolError } from '../client/cluster-client.js';
import { type ToolOptions, collect, parseConfigList, print, table, toolOptions, withAdmin } from './output.js';

interface ConfigsOptions extends ToolOptions {
  entityType?: string;
  entityName?: string;
  entityDefault?: boolean;
  topic?: string;
  broker?: string;
  brokerDefaults?: boolean;
  all?: boolean;
  addConfig: string[];
  deleteConfig: string[];
  validateOnly?: boolean;
}

interface Resource {
  type: number;
  name: string;
  label: string;
}

/** The resource named by Kafka's --entity-type/--entity-name/--entity-default or --topic/--broker/--broker-defaults. */
function resourceOf(options: ConfigsOptions): Resource {
  if (options.topic !== undefined) return { type: ConfigResource.topic, name: options.topic, label: `topic ${options.topic}` };
  if (options.broker !== undefined) return { type: ConfigResource.broker, name: options.broker, label: `broker ${options.broker}` };
  if (options.brokerDefaults) return { type: ConfigResource.broker, name: '', label: 'the default broker' };
  const type = options.entityType;
  if (type === 'topics' || type === 'topic') {
    if (!options.entityName) throw new ToolError('--entity-type topics needs --entity-name TOPIC');
    return { type: ConfigResource.topic, name: options.entityName, label: `topic ${options.entityName}` };
  }
  if (type === 'brokers' || type === 'broker') {
    if (options.entityDefault) return { type: ConfigResource.broker, name: '', label: 'the default broker' };
    if (options.entityName === undefined) throw new ToolError('--entity-type brokers needs --entity-name NODE_ID or --entity-default');
    return { type: ConfigResource.broker, name: options.entityName, label: `broker ${options.entityName}` };
  }
  if (type === 'groups' || type === 'group') {
    if (!options.entityName) throw new ToolError('--entity-type groups needs --entity-name GROUP');
    return { type: ConfigResource.group, name: options.entityName, label: `group ${options.entityName}` };
  }
  throw new ToolError('name what to configure: --topic NAME, --broker ID, --broker-defaults, or --entity-type topics|brokers|groups with --entity-name');
}

function resourceOptions(command: Command): Command {
  return toolOptions(command)
    .option('--entity-type <type>', "'topics', 'brokers' or 'groups'")
    .option('--entity-name <name>', 'the topic name, broker node id or group id')
    .option('--entity-default', "with --entity-type brokers: the cluster-wide default ('')")
    .option('--topic <name>', 'shorthand for --entity-type topics --entity-name NAME')
    .option('--broker <id>', 'shorthand for --entity-type brokers --entity-name ID')
    .option('--broker-defaults', 'shorthand for --entity-type brokers --entity-default');
}

export function registerConfigsCommand(program: Command): void {
  const configs = program.command('configs').description('describe and alter topic, broker and group configs');
  resourceOptions(configs.command('describe').description('show the config overrides (--all: every config with its source)'))
    .option('--all', 'every config, with its source and synonyms')
    .action((options: ConfigsOptions) => withAdmin(options, (admin) => describeConfigs(admin, options)));
  resourceOptions(configs.command('alter').description('add or delete config overrides'))
    .option('--add-config <k=v,...>', 'configs to set (repeatable; key=[a,b] for list values)', collect, [])
    .option('--delete-config <k,...>', 'configs to remove, back to their defaults (repeatable)', collect, [])
    .option('--validate-only', 'check the change without applying it')
    .action((options: ConfigsOptions) => withAdmin(options, (admin) => alterConfigs(admin, options)));
}

async function describeConfigs(admin: AdminClient, options: ConfigsOptions): Promise<void> {
  const resource = resourceOf(options);
  const entries = await admin.describeConfigs(resource.type, resource.name);
  const dynamicSources = new Set(['DYNAMIC_TOPIC_CONFIG', 'DYNAMIC_BROKER_CONFIG', 'DYNAMIC_DEFAULT_BROKER_CONFIG', 'DYNAMIC_GROUP_CONFIG']);
  const shown = options.all ? entries : entries.filter((entry) => overrideOf(entry, resource) !== undefined && dynamicSources.has(overrideOf(entry, resource)!.source));
  print(options, shown, () => describedText(resource, shown, options.all ?? false));
}

/** The entry's value set on this very resource (a topic or group override, or this broker's dynamic config). */
function overrideOf(entry: ConfigEntry, resource: Resource): { source: string } | undefined {
  if (resource.type === ConfigResource.topic) return entry.source === 'DYNAMIC_TOPIC_CONFIG' ? entry : undefined;
  if (resource.type === ConfigResource.group) return entry.source === 'DYNAMIC_GROUP_CONFIG' ? entry : undefined;
  if (resource.name === '') return entry.source === 'DYNAMIC_DEFAULT_BROKER_CONFIG' ? entry : undefined;
  return entry.synonyms.find((synonym) => synonym.name === entry.name && synonym.source === 'DYNAMIC_BROKER_CONFIG') ? { source: 'DYNAMIC_BROKER_CONFIG' } : undefined;
}

function describedText(resource: Resource, entries: ConfigEntry[], all: boolean): string {
  if (!all) {
    if (entries.length === 0) return `No dynamic configs for ${resource.label} (all defaults; --all shows every config)`;
    return `Dynamic configs for ${resource.label}:\n${table([['NAME', 'VALUE'], ...entries.map((entry) => [entry.name, valueText(entry)])])}`;
  }
  const rows = entries.map((entry) => [entry.name, valueText(entry), entry.source, entry.readOnly ? 'yes' : '', entry.synonyms.map((synonym) => `${synonym.source}:${synonym.name}=${synonym.value ?? ''}`).join(' ')]);
  return `All configs for ${resource.label}:\n${table([['NAME', 'VALUE', 'SOURCE', 'READ-ONLY', 'SYNONYMS'], ...rows])}`;
}

function valueText(entry: ConfigEntry): string {
  if (entry.sensitive) return '(sensitive)';
  return entry.value ?? '(null)';
}

async function alterConfigs(admin: AdminClient, options: ConfigsOptions): Promise<void> {
  const resource = resourceOf(options);
  const added = Object.assign({}, ...options.addConfig.map(parseConfigList)) as Record<string, string>;
  const deleted = options.deleteConfig.flatMap((list) => list.split(',')).map((name) => name.trim()).filter((name) => name !== '');
  const changes = [
    ...Object.entries(added).map(([name, value]) => ({ name, operation: AlterOperation.set, value })),
    ...deleted.map((name) => ({ name, operation: AlterOperation.delete, value: null })),
  ];
  if (changes.length === 0) throw new ToolError('nothing to change: give --add-config key=value and/or --delete-config key');
  await admin.alterConfigs(resource.type, resource.name, changes, options.validateOnly ?? false);
  const verb = options.validateOnly ? 'Validated' : 'Completed';
  print(options, { resource: resource.label, set: added, deleted, validateOnly: options.validateOnly ?? false }, () => `${verb} updating config for ${resource.label}.`);
}
