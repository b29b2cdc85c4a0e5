// The PostgreSQL change data capture connector's configuration: Debezium's PostgreSQL connector
// keys, meanings and defaults, for the subset this connector implements.
import { ConnectConfigDef, type ConnectValidator, type ParsedConfig, Validators } from '../../api/config.js';
import type { DecimalHandlingMode } from '../debezium/types.js';

const pluginName: ConnectValidator = (name, value) =>
  typeof value === 'string' && value.toLowerCase() !== 'pgoutput'
    ? `Invalid value ${value} for configuration ${name}: only the pgoutput logical decoding plugin is supported (decoderbufs and wal2json are not)` : undefined;

const regexList: ConnectValidator = (name, value) => {
  for (const pattern of Array.isArray(value) ? value : []) {
    try {
      new RegExp(pattern);
    } catch (error) {
      return `Invalid value ${pattern} for configuration ${name}: not a valid regular expression (${error instanceof Error ? error.message : error})`;
    }
  }
  return undefined;
};

const identifier: ConnectValidator = (name, value) =>
  typeof value === 'string' && !/^[a-z0-9_]+$/.test(value)
    ? `Invalid value ${value} for configuration ${name}: must contain only lower-case letters, digits and underscores (PostgreSQL's rule for slot names)` : undefined;

const topicPrefix: ConnectValidator = (name, value) =>
  value === null || (typeof value === 'string' && value.trim() === '') ? `Missing required configuration "${name}" which has no default value.`
    : typeof value === 'string' && !/^[A-Za-z0-9._-]+$/.test(value) ? `Invalid value ${value} for configuration ${name}: a topic prefix may contain only letters, digits, '.', '_' and '-'` : undefined;

const CONNECTION = 'Connection';
const FILTERS = 'Filters';
const CONNECTOR = 'Connector';

export const configDef = new ConnectConfigDef()
  .define({ name: 'topic.prefix', type: 'string', importance: 'HIGH', validator: topicPrefix, group: CONNECTOR, documentation: 'The prefix of every topic name (<prefix>.<schema>.<table>) and the logical name of this server in the source block and offsets.' })
  .define({ name: 'database.hostname', type: 'string', importance: 'HIGH', validator: Validators.nonEmptyString(), group: CONNECTION, documentation: 'Resolvable hostname or IP address of the PostgreSQL server.' })
  .define({ name: 'database.port', type: 'int', defaultValue: 5432, importance: 'HIGH', validator: Validators.between(1, 65535), group: CONNECTION, documentation: 'Port of the PostgreSQL server.' })
  .define({ name: 'database.user', type: 'string', importance: 'HIGH', validator: Validators.nonEmptyString(), group: CONNECTION, documentation: 'Name of the PostgreSQL user (with the REPLICATION attribute).' })
  .define({ name: 'database.password', type: 'password', defaultValue: null, importance: 'HIGH', group: CONNECTION, documentation: 'Password of the PostgreSQL user.' })
  .define({ name: 'database.dbname', type: 'string', importance: 'HIGH', validator: Validators.nonEmptyString(), group: CONNECTION, documentation: 'The database to capture changes from.' })
  .define({ name: 'database.connect.timeout.ms', type: 'int', defaultValue: 30_000, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTION, documentation: 'How long to wait for a connection to the server.' })
  .define({ name: 'plugin.name', type: 'string', defaultValue: 'pgoutput', importance: 'MEDIUM', validator: pluginName, group: CONNECTOR, documentation: 'The logical decoding plugin: pgoutput (built into PostgreSQL 10 and later) is the only one supported.' })
  .define({ name: 'slot.name', type: 'string', defaultValue: 'debezium', importance: 'MEDIUM', validator: identifier, group: CONNECTOR, documentation: 'The logical replication slot the connector streams from (created when missing).' })
  .define({ name: 'slot.drop.on.stop', type: 'boolean', defaultValue: false, importance: 'LOW', group: CONNECTOR, documentation: 'Drop the replication slot when the task stops (for tests; changes made while stopped are then lost).' })
  .define({ name: 'publication.name', type: 'string', defaultValue: 'dbz_publication', importance: 'LOW', validator: Validators.nonEmptyString(), group: CONNECTOR, documentation: 'The publication pgoutput streams.' })
  .define({ name: 'publication.autocreate.mode', type: 'string', defaultValue: 'all_tables', importance: 'LOW', validator: Validators.oneOf('all_tables', 'disabled', 'filtered'), recommendedValues: ['all_tables', 'disabled', 'filtered'], group: CONNECTOR, documentation: 'all_tables: create the publication FOR ALL TABLES when missing; filtered: create or alter it for the included tables; disabled: it must exist.' })
  .define({ name: 'schema.include.list', type: 'list', defaultValue: null, importance: 'MEDIUM', validator: regexList, group: FILTERS, documentation: 'Regular expressions matching the names of the schemas to capture (all but the system schemas by default).' })
  .define({ name: 'schema.exclude.list', type: 'list', defaultValue: null, importance: 'MEDIUM', validator: regexList, group: FILTERS, documentation: 'Regular expressions matching the names of schemas not to capture.' })
  .define({ name: 'table.include.list', type: 'list', defaultValue: null, importance: 'MEDIUM', validator: regexList, group: FILTERS, documentation: 'Regular expressions matching the schema.table names of the tables to capture.' })
  .define({ name: 'table.exclude.list', type: 'list', defaultValue: null, importance: 'MEDIUM', validator: regexList, group: FILTERS, documentation: 'Regular expressions matching the schema.table names of tables not to capture.' })
  .define({ name: 'snapshot.mode', type: 'string', defaultValue: 'initial', importance: 'LOW', validator: Validators.oneOf('initial', 'never', 'no_data', 'initial_only', 'always'), recommendedValues: ['initial', 'never', 'no_data', 'initial_only', 'always'], group: CONNECTOR, documentation: 'initial: snapshot the tables when there is no stored offset, then stream; always: snapshot at every start; initial_only: snapshot and stop; never/no_data: stream only.' })
  .define({ name: 'decimal.handling.mode', type: 'string', defaultValue: 'precise', importance: 'MEDIUM', validator: Validators.oneOf('precise', 'double', 'string'), recommendedValues: ['precise', 'double', 'string'], group: CONNECTOR, documentation: 'How NUMERIC columns are represented: precise (Connect Decimal), double, or string.' })
  .define({ name: 'tombstones.on.delete', type: 'boolean', defaultValue: true, importance: 'LOW', group: CONNECTOR, documentation: 'Follow each delete event with a tombstone (same key, null value) for log compaction.' })
  .define({ name: 'heartbeat.interval.ms', type: 'int', defaultValue: 0, importance: 'LOW', validator: Validators.atLeast(0), group: CONNECTOR, documentation: 'How often to send a heartbeat record to the heartbeat topic (0: never).' })
  .define({ name: 'topic.heartbeat.prefix', type: 'string', defaultValue: '__debezium-heartbeat', importance: 'LOW', group: CONNECTOR, documentation: 'Heartbeat records go to <topic.heartbeat.prefix>.<topic.prefix>.' })
  .define({ name: 'poll.interval.ms', type: 'long', defaultValue: 500, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'How long poll waits for changes before returning none.' })
  .define({ name: 'max.batch.size', type: 'int', defaultValue: 2048, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'The most records one poll returns.' })
  .define({ name: 'max.queue.size', type: 'int', defaultValue: 8192, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'The most records held between the database and poll; reading pauses when it is full.' })
  .define({ name: 'snapshot.fetch.size', type: 'int', defaultValue: 10_240, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'Rows fetched at a time while snapshotting a table.' })
  .define({ name: 'status.update.interval.ms', type: 'int', defaultValue: 10_000, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'How often the connector reports its position to the server (the keep-alive of the replication connection).' })
  .define({ name: 'retriable.restart.connector.wait.ms', type: 'long', defaultValue: 10_000, importance: 'LOW', validator: Validators.atLeast(0), group: CONNECTOR, documentation: 'The longest wait between attempts to reconnect after the connection to the server was lost.' });

/** The settings, parsed and checked. */
export interface CdcSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | null;
  readonly database: string;
  readonly connectTimeoutMs: number;
  readonly topicPrefix: string;
  readonly slotName: string;
  readonly dropSlotOnStop: boolean;
  readonly publicationName: string;
  readonly publicationMode: 'all_tables' | 'disabled' | 'filtered';
  readonly snapshotMode: 'initial' | 'never' | 'no_data' | 'initial_only' | 'always';
  readonly decimalMode: DecimalHandlingMode;
  readonly tombstonesOnDelete: boolean;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTopic: string;
  readonly pollIntervalMs: number;
  readonly maxBatchSize: number;
  readonly maxQueueSize: number;
  readonly snapshotFetchSize: number;
  readonly statusIntervalMs: number;
  readonly retryMaxWaitMs: number;
  /** Whether `schema.table` is captured. */
  readonly includes: (schema: string, table: string) => boolean;
}

export function parseSettings(props: Readonly<Record<string, string>>): CdcSettings {
  const config: ParsedConfig = configDef.parse(props);
  const patterns = (name: string) => config.list(name).map((pattern) => new RegExp(`^(?:${pattern})$`, 'i'));
  const schemaInclude = patterns('schema.include.list');
  const schemaExclude = patterns('schema.exclude.list');
  const tableInclude = patterns('table.include.list');
  const tableExclude = patterns('table.exclude.list');
  const topicPrefix = config.string('topic.prefix');
  return {
    host: config.string('database.hostname'),
    port: config.number('database.port'),
    user: config.string('database.user'),
    password: config.optionalString('database.password'),
    database: config.string('database.dbname'),
    connectTimeoutMs: config.number('database.connect.timeout.ms'),
    topicPrefix,
    slotName: config.string('slot.name'),
    dropSlotOnStop: config.boolean('slot.drop.on.stop'),
    publicationName: config.string('publication.name'),
    publicationMode: config.string('publication.autocreate.mode').toLowerCase() as CdcSettings['publicationMode'],
    snapshotMode: config.string('snapshot.mode').toLowerCase() as CdcSettings['snapshotMode'],
    decimalMode: config.string('decimal.handling.mode').toLowerCase() as DecimalHandlingMode,
    tombstonesOnDelete: config.boolean('tombstones.on.delete'),
    heartbeatIntervalMs: config.number('heartbeat.interval.ms'),
    heartbeatTopic: `${config.string('topic.heartbeat.prefix')}.${topicPrefix}`,
    pollIntervalMs: config.number('poll.interval.ms'),
    maxBatchSize: config.number('max.batch.size'),
    maxQueueSize: config.number('max.queue.size'),
    snapshotFetchSize: config.number('snapshot.fetch.size'),
    statusIntervalMs: config.number('status.update.interval.ms'),
    retryMaxWaitMs: config.number('retriable.restart.connector.wait.ms'),
    includes: (schema, table) => {
      if (schemaInclude.length > 0 ? !schemaInclude.some((re) => re.test(schema)) : SYSTEM_SCHEMAS.has(schema)) return false;
      if (schemaExclude.some((re) => re.test(schema))) return false;
      const name = `${schema}.${table}`;
      if (tableInclude.length > 0 && !tableInclude.some((re) => re.test(name))) return false;
      return !tableExclude.some((re) => re.test(name));
    },
  };
}

const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast']);
