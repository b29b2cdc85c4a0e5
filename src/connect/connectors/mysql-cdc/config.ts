// The MySQL/MariaDB change data capture connector's configuration: Debezium's MySQL (and MariaDB)
// connector keys, meanings and defaults, for the subset this connector implements.
import { ConnectConfigDef, type ConnectValidator, type ParsedConfig, Validators } from '../../api/config.js';
import type { DecimalHandlingMode } from '../debezium/types.js';

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

const required = (more?: ConnectValidator): ConnectValidator => (name, value) =>
  value === null || (typeof value === 'string' && value.trim() === '') ? `Missing required configuration "${name}" which has no default value.` : more?.(name, value);

const topicPrefix = required((name, value) =>
  typeof value === 'string' && !/^[A-Za-z0-9._-]+$/.test(value) ? `Invalid value ${value} for configuration ${name}: a topic prefix may contain only letters, digits, '.', '_' and '-'` : undefined);

const serverId: ConnectValidator = (name, value) =>
  value === null ? `Missing required configuration "${name}" which has no default value: a numeric id, unique among the server's replicas, that the connector uses when it reads the binary log as a replica`
    : typeof value === 'number' && (value < 1 || value > 4294967295) ? `Invalid value ${value} for configuration ${name}: a replica server id must be between 1 and 4294967295` : undefined;

const CONNECTION = 'Connection';
const FILTERS = 'Filters';
const CONNECTOR = 'Connector';

export const configDef = new ConnectConfigDef()
  .define({ name: 'topic.prefix', type: 'string', defaultValue: null, importance: 'HIGH', validator: topicPrefix, group: CONNECTOR, documentation: 'The prefix of every topic name (<prefix>.<database>.<table>), the schema change topic, and the logical name of this server in the source block and offsets.' })
  .define({ name: 'database.hostname', type: 'string', importance: 'HIGH', validator: Validators.nonEmptyString(), group: CONNECTION, documentation: 'Resolvable hostname or IP address of the MySQL or MariaDB server.' })
  .define({ name: 'database.port', type: 'int', defaultValue: 3306, importance: 'HIGH', validator: Validators.between(1, 65535), group: CONNECTION, documentation: 'Port of the server.' })
  .define({ name: 'database.user', type: 'string', importance: 'HIGH', validator: Validators.nonEmptyString(), group: CONNECTION, documentation: 'The user (with REPLICATION SLAVE, REPLICATION CLIENT, SELECT and, for the snapshot lock, RELOAD).' })
  .define({ name: 'database.password', type: 'password', defaultValue: null, importance: 'HIGH', group: CONNECTION, documentation: 'Password of the user.' })
  .define({ name: 'database.server.id', type: 'long', defaultValue: null, importance: 'HIGH', validator: serverId, group: CONNECTION, documentation: 'The server id the connector reads the binary log with, as a replica: unique among the server\'s replicas and other connectors.' })
  .define({ name: 'database.connect.timeout.ms', type: 'int', defaultValue: 30_000, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTION, documentation: 'How long to wait for a connection to the server.' })
  .define({ name: 'database.include.list', type: 'list', defaultValue: null, importance: 'MEDIUM', validator: regexList, group: FILTERS, documentation: 'Regular expressions matching the names of the databases to capture (all but the system databases by default).' })
  .define({ name: 'database.exclude.list', type: 'list', defaultValue: null, importance: 'MEDIUM', validator: regexList, group: FILTERS, documentation: 'Regular expressions matching the names of databases not to capture.' })
  .define({ name: 'table.include.list', type: 'list', defaultValue: null, importance: 'MEDIUM', validator: regexList, group: FILTERS, documentation: 'Regular expressions matching the database.table names of the tables to capture.' })
  .define({ name: 'table.exclude.list', type: 'list', defaultValue: null, importance: 'MEDIUM', validator: regexList, group: FILTERS, documentation: 'Regular expressions matching the database.table names of tables not to capture.' })
  .define({ name: 'snapshot.mode', type: 'string', defaultValue: 'initial', importance: 'LOW', validator: Validators.oneOf('initial', 'never', 'initial_only', 'no_data', 'schema_only', 'when_needed'), recommendedValues: ['initial', 'never', 'initial_only', 'no_data', 'when_needed'], group: CONNECTOR, documentation: 'initial: snapshot the tables when there is no stored offset, then stream; initial_only: snapshot and stop; never, no_data (schema_only): stream from the current end of the binary log; when_needed: as initial, and snapshot again when the stored position is no longer in the binary log.' })
  .define({ name: 'snapshot.locking.mode', type: 'string', defaultValue: 'minimal', importance: 'LOW', validator: Validators.oneOf('minimal', 'none'), recommendedValues: ['minimal', 'none'], group: CONNECTOR, documentation: 'minimal: hold a global read lock (FLUSH TABLES WITH READ LOCK) only while the snapshot transaction starts and the binary log position is read; none: no lock (MariaDB reads the position of the consistent snapshot itself; on MySQL changes racing the snapshot start may be doubled).' })
  .define({ name: 'snapshot.fetch.size', type: 'int', defaultValue: 10_000, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'Rows read at a time while snapshotting a table.' })
  .define({ name: 'include.schema.changes', type: 'boolean', defaultValue: true, importance: 'LOW', group: CONNECTOR, documentation: 'Send the DDL statements that change captured databases to the topic named by topic.prefix.' })
  .define({ name: 'tombstones.on.delete', type: 'boolean', defaultValue: true, importance: 'LOW', group: CONNECTOR, documentation: 'Follow each delete event with a tombstone (same key, null value) for log compaction.' })
  .define({ name: 'decimal.handling.mode', type: 'string', defaultValue: 'precise', importance: 'MEDIUM', validator: Validators.oneOf('precise', 'double', 'string'), recommendedValues: ['precise', 'double', 'string'], group: CONNECTOR, documentation: 'How DECIMAL columns are represented: precise (Connect Decimal), double, or string.' })
  .define({ name: 'time.precision.mode', type: 'string', defaultValue: 'adaptive_time_microseconds', importance: 'MEDIUM', validator: Validators.oneOf('adaptive_time_microseconds', 'connect'), recommendedValues: ['adaptive_time_microseconds', 'connect'], group: CONNECTOR, documentation: 'adaptive_time_microseconds: Debezium\'s io.debezium.time types by column precision (TIME as microseconds); connect: Kafka Connect\'s Date, Time and Timestamp (milliseconds).' })
  .define({ name: 'bigint.unsigned.handling.mode', type: 'string', defaultValue: 'long', importance: 'LOW', validator: Validators.oneOf('long', 'precise'), recommendedValues: ['long', 'precise'], group: CONNECTOR, documentation: 'BIGINT UNSIGNED as int64 (long; values above 2^63-1 wrap) or as a Decimal of scale 0 (precise).' })
  .define({ name: 'max.batch.size', type: 'int', defaultValue: 2048, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'The most records one poll returns.' })
  .define({ name: 'max.queue.size', type: 'int', defaultValue: 8192, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'The most records held between the server and poll; reading the binary log pauses when it is full.' })
  .define({ name: 'poll.interval.ms', type: 'long', defaultValue: 500, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'How long poll waits for changes before returning none.' })
  .define({ name: 'connect.keep.alive.interval.ms', type: 'long', defaultValue: 60_000, importance: 'LOW', validator: Validators.atLeast(1), group: CONNECTOR, documentation: 'The longest wait between attempts to reconnect after the connection to the server was lost.' });

export type SnapshotMode = 'initial' | 'never' | 'initial_only' | 'no_data' | 'when_needed';
export type TimePrecisionMode = 'adaptive_time_microseconds' | 'connect';

/** The settings, parsed and checked. */
export interface MySqlCdcSettings {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string | null;
  readonly serverId: number;
  readonly connectTimeoutMs: number;
  readonly topicPrefix: string;
  readonly snapshotMode: SnapshotMode;
  readonly snapshotLocking: 'minimal' | 'none';
  readonly snapshotFetchSize: number;
  readonly includeSchemaChanges: boolean;
  readonly tombstonesOnDelete: boolean;
  readonly decimalMode: DecimalHandlingMode;
  readonly timePrecisionMode: TimePrecisionMode;
  readonly bigintUnsignedPrecise: boolean;
  readonly maxBatchSize: number;
  readonly maxQueueSize: number;
  readonly pollIntervalMs: number;
  readonly retryMaxWaitMs: number;
  /** Whether the database is captured at all (by the database lists). */
  readonly includesDatabase: (database: string) => boolean;
  /** Whether `database.table` is captured. */
  readonly includes: (database: string, table: string) => boolean;
}

const SYSTEM_DATABASES = new Set(['mysql', 'information_schema', 'performance_schema', 'sys']);

export function parseSettings(props: Readonly<Record<string, string>>): MySqlCdcSettings {
  const config: ParsedConfig = configDef.parse(props);
  const patterns = (name: string) => config.list(name).map((pattern) => new RegExp(`^(?:${pattern})$`, 'i'));
  const databaseInclude = patterns('database.include.list');
  const databaseExclude = patterns('database.exclude.list');
  const tableInclude = patterns('table.include.list');
  const tableExclude = patterns('table.exclude.list');
  const includesDatabase = (database: string) => {
    if (databaseInclude.length > 0 ? !databaseInclude.some((re) => re.test(database)) : SYSTEM_DATABASES.has(database.toLowerCase())) return false;
    return !databaseExclude.some((re) => re.test(database));
  };
  const mode = config.string('snapshot.mode').toLowerCase();
  return {
    host: config.string('database.hostname'),
    port: config.number('database.port'),
    user: config.string('database.user'),
    password: config.optionalString('database.password'),
    serverId: config.number('database.server.id'),
    connectTimeoutMs: config.number('database.connect.timeout.ms'),
    topicPrefix: config.string('topic.prefix'),
    snapshotMode: (mode === 'schema_only' ? 'no_data' : mode) as SnapshotMode,
    snapshotLocking: config.string('snapshot.locking.mode').toLowerCase() as 'minimal' | 'none',
    snapshotFetchSize: config.number('snapshot.fetch.size'),
    includeSchemaChanges: config.boolean('include.schema.changes'),
    tombstonesOnDelete: config.boolean('tombstones.on.delete'),
    decimalMode: config.string('decimal.handling.mode').toLowerCase() as DecimalHandlingMode,
    timePrecisionMode: config.string('time.precision.mode').toLowerCase() as TimePrecisionMode,
    bigintUnsignedPrecise: config.string('bigint.unsigned.handling.mode').toLowerCase() === 'precise',
    maxBatchSize: config.number('max.batch.size'),
    maxQueueSize: config.number('max.queue.size'),
    pollIntervalMs: config.number('poll.interval.ms'),
    retryMaxWaitMs: config.number('connect.keep.alive.interval.ms'),
    includesDatabase,
    includes: (database, table) => {
      if (!includesDatabase(database)) return false;
      const name = `${database}.${table}`;
      if (tableInclude.length > 0 && !tableInclude.some((re) => re.test(name))) return false;
      return !tableExclude.some((re) => re.test(name));
    },
  };
}
