// The PostgreSQL sink's configuration, with the Confluent JDBC sink connector's key names and
// defaults so that a JDBC sink config moves over unchanged: connection.url (a jdbc:postgresql://
// URL as JDBC users write it, or a postgres:// URL), insert.mode, pk.mode, pk.fields,
// fields.whitelist, auto.create, auto.evolve, delete.enabled, batch.size, max.retries,
// retry.backoff.ms, db.timezone. Rules that involve two keys (delete.enabled needs
// pk.mode=record_key, upsert needs a key) are checked by `sinkSettings`, which the connector
// calls in start, so a bad combination fails the connector with a message naming the keys.
import { ConnectConfigDef, type ConnectValidator, ConnectConfigException, Validators } from '../../api/config.js';

export const INSERT_MODES = ['insert', 'upsert', 'update'] as const;
export const PK_MODES = ['none', 'kafka', 'record_key', 'record_value'] as const;
export type InsertMode = (typeof INSERT_MODES)[number];
export type PkMode = (typeof PK_MODES)[number];

export const DEFAULT_KAFKA_PK_FIELDS = ['__connect_topic', '__connect_partition', '__connect_offset'] as const;

const CONNECTION = 'Connection';
const WRITES = 'Writes';
const DATA_MAPPING = 'Data Mapping';
const DDL = 'DDL Support';
const RETRIES = 'Retries';

const validUrl: ConnectValidator = (name, value) => {
  if (typeof value !== 'string') return undefined;
  try {
    parseConnectionUrl(value);
    return undefined;
  } catch (error) {
    return `Invalid value ${value} for configuration ${name}: ${(error as Error).message}`;
  }
};

const validTimeZone: ConnectValidator = (name, value) => {
  if (typeof value !== 'string') return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return undefined;
  } catch {
    return `Invalid value ${value} for configuration ${name}: not a time zone id (such as UTC or Europe/Berlin)`;
  }
};

export const configDef = new ConnectConfigDef()
  .define({ name: 'connection.url', type: 'string', importance: 'HIGH', group: CONNECTION, orderInGroup: 1, validator: validUrl,
    documentation: 'The PostgreSQL database to write to: jdbc:postgresql://host:port/database?user=...&password=...&sslmode=... (as for the JDBC sink), or postgres://user:password@host:port/database.' })
  .define({ name: 'connection.user', type: 'string', defaultValue: null, importance: 'HIGH', group: CONNECTION, orderInGroup: 2, documentation: 'The database user (overrides a user in the URL).' })
  .define({ name: 'connection.password', type: 'password', defaultValue: null, importance: 'HIGH', group: CONNECTION, orderInGroup: 3, documentation: 'The database password (overrides a password in the URL).' })
  .define({ name: 'connection.attempts', type: 'int', defaultValue: 3, importance: 'LOW', group: CONNECTION, orderInGroup: 4, validator: Validators.atLeast(1), documentation: 'How many times a task tries to connect when it starts before it fails.' })
  .define({ name: 'connection.backoff.ms', type: 'long', defaultValue: 10_000, importance: 'LOW', group: CONNECTION, orderInGroup: 5, validator: Validators.atLeast(0), documentation: 'The wait between connection attempts, in milliseconds.' })
  .define({ name: 'insert.mode', type: 'string', defaultValue: 'insert', importance: 'HIGH', group: WRITES, orderInGroup: 1, validator: Validators.oneOf(...INSERT_MODES), recommendedValues: INSERT_MODES,
    documentation: 'insert: plain INSERT. upsert: INSERT ... ON CONFLICT (primary key) DO UPDATE, so a replayed record leaves the row as it was (needs pk.mode other than none). update: UPDATE by primary key.' })
  .define({ name: 'batch.size', type: 'int', defaultValue: 3000, importance: 'MEDIUM', group: WRITES, orderInGroup: 2, validator: Validators.atLeast(1), documentation: 'The most rows one statement writes.' })
  .define({ name: 'delete.enabled', type: 'boolean', defaultValue: false, importance: 'MEDIUM', group: WRITES, orderInGroup: 3,
    documentation: 'Whether a tombstone (null value) deletes the row with its key; needs pk.mode=record_key. When false, tombstones are skipped.' })
  .define({ name: 'table.name.format', type: 'string', defaultValue: '${topic}', importance: 'MEDIUM', group: DATA_MAPPING, orderInGroup: 1, validator: Validators.nonEmptyString(),
    documentation: 'The table for a record; ${topic} is replaced by its topic. A dot in the format itself separates a schema from the table (analytics.${topic}); a dot in the topic stays part of the table name.' })
  .define({ name: 'pk.mode', type: 'string', defaultValue: 'none', importance: 'HIGH', group: DATA_MAPPING, orderInGroup: 2, validator: Validators.oneOf(...PK_MODES), recommendedValues: PK_MODES,
    documentation: 'Where the primary key comes from: none, kafka (topic, partition, offset), record_key (the key\'s fields, or the key itself when it is a primitive), record_value (fields of the value).' })
  .define({ name: 'pk.fields', type: 'list', defaultValue: '', importance: 'MEDIUM', group: DATA_MAPPING, orderInGroup: 3,
    documentation: 'The primary key\'s columns. kafka: three names (default __connect_topic,__connect_partition,__connect_offset); record_key: fields of a struct key (default all) or one name for a primitive key; record_value: fields of the value (default all).' })
  .define({ name: 'fields.whitelist', type: 'list', defaultValue: '', importance: 'MEDIUM', group: DATA_MAPPING, orderInGroup: 4, documentation: 'The value fields to write (empty: all). Primary key fields are written in any case.' })
  .define({ name: 'fields.include', type: 'list', defaultValue: '', importance: 'LOW', group: DATA_MAPPING, orderInGroup: 5, documentation: 'Another name for fields.whitelist.' })
  .define({ name: 'db.timezone', type: 'string', defaultValue: 'UTC', importance: 'MEDIUM', group: DATA_MAPPING, orderInGroup: 6, validator: validTimeZone,
    documentation: 'The time zone whose wall-clock time a Timestamp is written as into a timestamp without time zone column (a timestamptz column gets the instant itself).' })
  .define({ name: 'auto.create', type: 'boolean', defaultValue: false, importance: 'MEDIUM', group: DDL, orderInGroup: 1, documentation: 'Create a missing table (CREATE TABLE) from the record\'s schema, with the primary key of pk.mode.' })
  .define({ name: 'auto.evolve', type: 'boolean', defaultValue: false, importance: 'MEDIUM', group: DDL, orderInGroup: 2,
    documentation: 'Add a column (ALTER TABLE ... ADD COLUMN) for a field the table lacks. A required field without a default cannot be added to a table with rows and is refused.' })
  .define({ name: 'max.retries', type: 'int', defaultValue: 10, importance: 'MEDIUM', group: RETRIES, orderInGroup: 1, validator: Validators.atLeast(0),
    documentation: 'How many times put retries a write that failed with a transient error (connection lost, serialization failure, deadlock) before it hands the records back to the worker for redelivery.' })
  .define({ name: 'retry.backoff.ms', type: 'int', defaultValue: 3000, importance: 'MEDIUM', group: RETRIES, orderInGroup: 2, validator: Validators.atLeast(0), documentation: 'The wait before a retry, in milliseconds.' });

export interface PostgresSinkSettings {
  readonly connection: ConnectionSettings;
  readonly connectionAttempts: number;
  readonly connectionBackoffMs: number;
  readonly insertMode: InsertMode;
  readonly pkMode: PkMode;
  readonly pkFields: readonly string[];
  readonly fieldsWhitelist: ReadonlySet<string> | null;
  readonly tableNameFormat: string;
  readonly autoCreate: boolean;
  readonly autoEvolve: boolean;
  readonly deleteEnabled: boolean;
  readonly batchSize: number;
  readonly maxRetries: number;
  readonly retryBackoffMs: number;
  readonly timeZone: string;
}

/** Parses and cross-checks the properties; a ConnectConfigException names the key at fault. */
export function sinkSettings(props: Readonly<Record<string, string>>): PostgresSinkSettings {
  const config = configDef.parse(props);
  const insertMode = config.string('insert.mode').toLowerCase() as InsertMode;
  const pkMode = config.string('pk.mode').toLowerCase() as PkMode;
  const pkFields = config.list('pk.fields');
  const deleteEnabled = config.boolean('delete.enabled');
  if (deleteEnabled && pkMode !== 'record_key') {
    throw new ConnectConfigException('delete.enabled', `delete.enabled=true needs pk.mode=record_key (the tombstone's key says which row to delete), but pk.mode is ${pkMode}`);
  }
  if (insertMode !== 'insert' && pkMode === 'none') {
    throw new ConnectConfigException('insert.mode', `insert.mode=${insertMode} needs a primary key to match rows by: set pk.mode to kafka, record_key or record_value (it is none)`);
  }
  if (pkMode === 'kafka' && pkFields.length !== 0 && pkFields.length !== 3) {
    throw new ConnectConfigException('pk.fields', `with pk.mode=kafka, pk.fields names the three columns for topic, partition and offset (or is empty for ${DEFAULT_KAFKA_PK_FIELDS.join(',')}); it has ${pkFields.length}`);
  }
  const whitelist = config.list('fields.whitelist');
  const include = config.list('fields.include');
  if (whitelist.length > 0 && include.length > 0 && whitelist.join(',') !== include.join(',')) {
    throw new ConnectConfigException('fields.include', 'fields.include and fields.whitelist are two names for one setting; set only one');
  }
  const fields = whitelist.length > 0 ? whitelist : include;
  const username = config.optionalString('connection.user');
  const password = config.optionalString('connection.password');
  let connection = parseConnectionUrl(config.string('connection.url'));
  if (username !== null) connection = { ...connection, user: username };
  if (password !== null) connection = { ...connection, password };
  return {
    connection,
    connectionAttempts: config.number('connection.attempts'),
    connectionBackoffMs: config.number('connection.backoff.ms'),
    insertMode,
    pkMode,
    pkFields: pkMode === 'kafka' && pkFields.length === 0 ? [...DEFAULT_KAFKA_PK_FIELDS] : pkFields,
    fieldsWhitelist: fields.length > 0 ? new Set(fields) : null,
    tableNameFormat: config.string('table.name.format'),
    autoCreate: config.boolean('auto.create'),
    autoEvolve: config.boolean('auto.evolve'),
    deleteEnabled,
    batchSize: config.number('batch.size'),
    maxRetries: config.number('max.retries'),
    retryBackoffMs: config.number('retry.backoff.ms'),
    timeZone: config.string('db.timezone'),
  };
}

/** What pg's Client needs to connect (a subset of its ClientConfig). */
export interface ConnectionSettings {
  readonly host: string;
  readonly port: number;
  readonly database: string | undefined;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  /** false, or the TLS options: sslmode=require/prefer do not verify the certificate (as libpq), verify-* do. */
  readonly ssl: false | { rejectUnauthorized: boolean };
  readonly applicationName?: string | undefined;
  /** Startup options, such as -c search_path=... from JDBC's currentSchema. */
  readonly options?: string | undefined;
  readonly connectTimeoutMs?: number | undefined;
}

/**
 * A connection URL in either spelling: jdbc:postgresql://host[:port]/database?key=value&... (the
 * PostgreSQL JDBC driver's form: user, password, ssl, sslmode, currentSchema, ApplicationName,
 * connectTimeout in seconds) or postgres[ql]://user:password@host:port/database?sslmode=...
 */
export function parseConnectionUrl(text: string): ConnectionSettings {
  const trimmed = text.trim();
  let rest: string;
  if (/^jdbc:postgresql:/i.test(trimmed)) {
    rest = trimmed.slice('jdbc:postgresql:'.length);
    // jdbc:postgresql:database is the driver's short form for localhost:5432.
    if (!rest.startsWith('//')) rest = `//localhost/${rest}`;
  } else if (/^postgres(ql)?:\/\//i.test(trimmed)) {
    rest = trimmed.slice(trimmed.indexOf(':') + 1);
  } else {
    throw new Error('the URL must start with jdbc:postgresql:// or postgres:// (or postgresql://)');
  }
  const hostList = /^\/\/(?:[^@/?]*@)?([^/?]*)/.exec(rest)?.[1] ?? '';
  if (hostList.includes(',')) throw new Error('several hosts in one URL (failover) are not supported; name one host');
  let url: URL;
  try {
    url = new URL(`postgres:${rest}`);
  } catch {
    throw new Error('not a valid URL');
  }
  if (url.hostname === '') throw new Error('the URL names no host');
  const params = new Map<string, string>();
  for (const [key, value] of url.searchParams) params.set(key.toLowerCase(), value);
  const port = url.port === '' ? 5432 : Number(url.port);
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || undefined;
  const user = url.username !== '' ? decodeURIComponent(url.username) : params.get('user');
  const password = url.password !== '' ? decodeURIComponent(url.password) : params.get('password');
  const sslmode = (params.get('sslmode') ?? (params.get('ssl') === 'true' ? 'require' : 'disable')).toLowerCase();
  if (!['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'].includes(sslmode)) throw new Error(`unknown sslmode ${sslmode}`);
  const schema = params.get('currentschema') ?? params.get('search_path');
  const connectTimeout = params.get('connecttimeout') ?? params.get('connect_timeout');
  // JDBC's connectTimeout and libpq's connect_timeout are both in seconds.
  const connectTimeoutMs = connectTimeout !== undefined && Number(connectTimeout) > 0 ? Number(connectTimeout) * 1000 : undefined;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    database,
    user,
    password,
    // allow/prefer would fall back to plain text in libpq; pg cannot, so they connect without TLS.
    ssl: sslmode === 'disable' || sslmode === 'allow' || sslmode === 'prefer' ? false : { rejectUnauthorized: sslmode.startsWith('verify') },
    applicationName: params.get('applicationname') ?? params.get('application_name'),
    options: schema !== undefined ? `-c search_path=${schema.replace(/[\\ ]/g, '\\$&')}` : undefined,
    connectTimeoutMs,
  };
}

/** host:port/database, for messages (never the password). */
export function describeConnection(connection: ConnectionSettings): string {
  return `${connection.host}:${connection.port}/${connection.database ?? ''}`;
}
