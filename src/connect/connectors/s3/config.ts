// The S3 sink's configuration, with the key names and defaults of Confluent's S3 sink connector
// (kafka-connect-s3) so that its configs move over: the bucket and store (s3.bucket.name,
// s3.region, store.url, aws.access.key.id), where objects go (topics.dir, directory.delim,
// file.delim, partitioner.class and its path.format, partition.duration.ms, locale, timezone,
// timestamp.extractor, partition.field.name), when they are written (flush.size,
// rotate.interval.ms, rotate.schedule.interval.ms), what they hold (format.class, parquet.codec,
// s3.compression.type, behavior.on.null.values) and how uploads are retried (s3.part.size,
// s3.part.retries, s3.retry.backoff.ms). `s3SinkSettings` cross-checks keys that depend on each
// other (a time-based partitioner needs path.format, a RecordField extractor timestamp.field).
import { ConnectConfigDef, ConnectConfigException, type ConnectValidator, Validators } from '../../api/config.js';

export const FORMATS = {
  json: ['json', 'io.confluent.connect.s3.format.json.JsonFormat'],
  parquet: ['parquet', 'io.confluent.connect.s3.format.parquet.ParquetFormat'],
} as const;
export type FormatName = keyof typeof FORMATS;

const STORAGE_PARTITIONER = 'io.confluent.connect.storage.partitioner.';
export const PARTITIONERS = {
  default: ['DefaultPartitioner', `${STORAGE_PARTITIONER}DefaultPartitioner`],
  field: ['FieldPartitioner', `${STORAGE_PARTITIONER}FieldPartitioner`],
  time: ['TimeBasedPartitioner', `${STORAGE_PARTITIONER}TimeBasedPartitioner`],
  daily: ['DailyPartitioner', `${STORAGE_PARTITIONER}DailyPartitioner`],
  hourly: ['HourlyPartitioner', `${STORAGE_PARTITIONER}HourlyPartitioner`],
} as const;
export type PartitionerName = keyof typeof PARTITIONERS;

export const TIMESTAMP_EXTRACTORS = ['Record', 'RecordField', 'Wallclock'] as const;
export type TimestampExtractorName = (typeof TIMESTAMP_EXTRACTORS)[number];

/** The codecs written here: hyparquet-writer's own snappy, node:zlib's gzip and brotli, zstd-napi's zstd. */
export const PARQUET_CODECS = ['none', 'snappy', 'gzip', 'zstd', 'brotli'] as const;
export type ParquetCodec = (typeof PARQUET_CODECS)[number];

/** The path.format of Confluent's DailyPartitioner and HourlyPartitioner. */
export const DAILY_PATH_FORMAT = "'year'=YYYY/'month'=MM/'day'=dd";
export const HOURLY_PATH_FORMAT = "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH";
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** S3's smallest part of a multipart upload (every part but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;

const S3 = 'S3';
const CONNECTOR = 'Connector';
const STORAGE = 'Storage';
const PARTITIONER = 'Partitioner';

/** Accepts any of the names in `names` (case-insensitive), with a message that lists them. */
const oneOfNames = (names: readonly string[]): ConnectValidator => (name, value) =>
  typeof value === 'string' && !names.some((option) => option.toLowerCase() === value.trim().toLowerCase())
    ? `Invalid value ${value} for configuration ${name}: must be one of ${names.join(', ')}` : undefined;

const validTimeZone: ConnectValidator = (name, value) => {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return undefined;
  } catch {
    return `Invalid value ${value} for configuration ${name}: not a time zone id (such as UTC or Europe/Berlin)`;
  }
};

const validUrl: ConnectValidator = (name, value) => {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : `Invalid value ${value} for configuration ${name}: the URL must be http:// or https://`;
  } catch {
    return `Invalid value ${value} for configuration ${name}: not a URL`;
  }
};

const minusOneOrPositive: ConnectValidator = (name, value) =>
  typeof value === 'number' && value !== -1 && value <= 0 ? `Invalid value ${value} for configuration ${name}: must be -1 (off) or a positive number of milliseconds` : undefined;

export const configDef = new ConnectConfigDef()
  .define({ name: 's3.bucket.name', type: 'string', importance: 'HIGH', group: S3, orderInGroup: 1, validator: Validators.nonEmptyString(), documentation: 'The S3 bucket the objects are written to.' })
  .define({ name: 's3.region', type: 'string', defaultValue: 'us-west-2', importance: 'MEDIUM', group: S3, orderInGroup: 2, validator: Validators.nonEmptyString(), documentation: 'The AWS region of the bucket.' })
  .define({ name: 'store.url', type: 'string', defaultValue: null, importance: 'HIGH', group: S3, orderInGroup: 3, validator: validUrl,
    documentation: 'The endpoint of an S3-compatible store (MinIO, Ceph, R2, a local test server), such as http://127.0.0.1:9000. Unset: AWS S3 for s3.region.' })
  .define({ name: 's3.path.style.access.enabled', type: 'boolean', defaultValue: true, importance: 'LOW', group: S3, orderInGroup: 4,
    documentation: 'With store.url: address the bucket in the path (http://host/bucket/key) rather than as a subdomain (http://bucket.host/key).' })
  .define({ name: 'aws.access.key.id', type: 'string', defaultValue: null, importance: 'MEDIUM', group: S3, orderInGroup: 5,
    documentation: 'The access key id. Unset: the AWS SDK\'s default credential chain (environment, shared config and credentials files, container and instance roles).' })
  .define({ name: 'aws.secret.access.key', type: 'password', defaultValue: null, importance: 'MEDIUM', group: S3, orderInGroup: 6, documentation: 'The secret access key that goes with aws.access.key.id.' })
  .define({ name: 's3.part.size', type: 'int', defaultValue: 26_214_400, importance: 'HIGH', group: S3, orderInGroup: 7, validator: Validators.between(MIN_PART_SIZE, 2_147_483_647),
    documentation: 'The part size of multipart uploads, in bytes. An object larger than one part is uploaded in parts of this size.' })
  .define({ name: 's3.part.retries', type: 'int', defaultValue: 3, importance: 'MEDIUM', group: S3, orderInGroup: 8, validator: Validators.atLeast(0),
    documentation: 'How many times a failed request to S3 (an upload, one part of a multipart upload) is retried before the put fails.' })
  .define({ name: 's3.retry.backoff.ms', type: 'long', defaultValue: 200, importance: 'LOW', group: S3, orderInGroup: 9, validator: Validators.atLeast(0),
    documentation: 'The wait before the first retry of a failed S3 request, in milliseconds; it doubles with each retry.' })
  .define({ name: 's3.compression.type', type: 'string', defaultValue: 'none', importance: 'LOW', group: S3, orderInGroup: 10, validator: Validators.oneOf('none', 'gzip'),
    documentation: 'Compression of JSON objects: none or gzip (the object name then ends in .json.gz).' })
  .define({ name: 'format.class', type: 'class', importance: 'HIGH', group: CONNECTOR, orderInGroup: 1, validator: oneOfNames([...FORMATS.json, ...FORMATS.parquet]),
    documentation: 'The object format: io.confluent.connect.s3.format.json.JsonFormat (or json): one JSON value per line; io.confluent.connect.s3.format.parquet.ParquetFormat (or parquet): Parquet with columns from the records\' struct schema.' })
  .define({ name: 'flush.size', type: 'int', importance: 'HIGH', group: CONNECTOR, orderInGroup: 2, validator: Validators.atLeast(1),
    documentation: 'How many records of a topic partition go into its objects before they are written to S3.' })
  .define({ name: 'rotate.interval.ms', type: 'long', defaultValue: -1, importance: 'HIGH', group: CONNECTOR, orderInGroup: 3, validator: minusOneOrPositive,
    documentation: 'Write a topic partition\'s objects when a record\'s timestamp (the time-based partitioner\'s timestamp.extractor, else the Kafka record timestamp) is this far past the first record\'s. -1: off. Deterministic, so replays produce the same objects.' })
  .define({ name: 'rotate.schedule.interval.ms', type: 'long', defaultValue: -1, importance: 'MEDIUM', group: CONNECTOR, orderInGroup: 4, validator: minusOneOrPositive,
    documentation: 'Write the objects open at each wall-clock boundary of this interval (in timezone, UTC by default), however few records they hold. -1: off. Depends on when records arrive, so a replay may cut objects elsewhere.' })
  .define({ name: 'behavior.on.null.values', type: 'string', defaultValue: 'fail', importance: 'LOW', group: CONNECTOR, orderInGroup: 5, validator: Validators.oneOf('fail', 'ignore'),
    documentation: 'A record with a null value (a tombstone): fail the task, or ignore (skip) the record.' })
  .define({ name: 'parquet.codec', type: 'string', defaultValue: 'snappy', importance: 'LOW', group: CONNECTOR, orderInGroup: 6, validator: Validators.oneOf(...PARQUET_CODECS),
    documentation: 'Compression of Parquet pages: none, snappy, gzip, zstd or brotli.' })
  .define({ name: 'json.decimal.format', type: 'string', defaultValue: 'BASE64', importance: 'LOW', group: CONNECTOR, orderInGroup: 7, validator: Validators.oneOf('BASE64', 'NUMERIC'),
    documentation: 'How the JSON format writes a Decimal: BASE64 (its unscaled bytes, as JsonConverter) or NUMERIC (a JSON number).' })
  .define({ name: 'retry.backoff.ms', type: 'long', defaultValue: 5000, importance: 'LOW', group: CONNECTOR, orderInGroup: 8, validator: Validators.atLeast(0),
    documentation: 'After a put failed with a transient S3 error, how long the worker waits before it hands the records over again.' })
  .define({ name: 'topics.dir', type: 'string', defaultValue: 'topics', importance: 'HIGH', group: STORAGE, orderInGroup: 1, documentation: 'The top-level directory (key prefix) of the objects.' })
  .define({ name: 'directory.delim', type: 'string', defaultValue: '/', importance: 'MEDIUM', group: STORAGE, orderInGroup: 2, validator: Validators.nonEmptyString(), documentation: 'The separator of directories in object names.' })
  .define({ name: 'file.delim', type: 'string', defaultValue: '+', importance: 'MEDIUM', group: STORAGE, orderInGroup: 3, validator: Validators.nonEmptyString(),
    documentation: 'The separator of topic, partition and start offset in a file name.' })
  .define({ name: 'filename.offset.zero.pad.width', type: 'int', defaultValue: 10, importance: 'LOW', group: STORAGE, orderInGroup: 4, validator: Validators.atLeast(0),
    documentation: 'The width the start offset in a file name is zero-padded to, so that names sort by offset.' })
  .define({ name: 'partitioner.class', type: 'class', defaultValue: PARTITIONERS.default[1], importance: 'HIGH', group: PARTITIONER, orderInGroup: 1,
    validator: oneOfNames(Object.values(PARTITIONERS).flat()),
    documentation: 'How records are split into directories: DefaultPartitioner (partition=<kafka partition>), FieldPartitioner (<field>=<value> of partition.field.name), TimeBasedPartitioner (path.format of the record time), DailyPartitioner, HourlyPartitioner (Confluent\'s class names or these short ones).' })
  .define({ name: 'partition.field.name', type: 'list', defaultValue: '', importance: 'MEDIUM', group: PARTITIONER, orderInGroup: 2,
    documentation: 'FieldPartitioner: the value fields (a.b for a nested one) whose values name the directories, in this order.' })
  .define({ name: 'path.format', type: 'string', defaultValue: '', importance: 'MEDIUM', group: PARTITIONER, orderInGroup: 3,
    documentation: 'TimeBasedPartitioner: the directories of a time as a Joda-Time pattern, such as \'year\'=YYYY/\'month\'=MM/\'day\'=dd/\'hour\'=HH (y/Y, M, MMM, MMMM, d, H, m, s, S, quoted text).' })
  .define({ name: 'partition.duration.ms', type: 'long', defaultValue: -1, importance: 'MEDIUM', group: PARTITIONER, orderInGroup: 4,
    documentation: 'TimeBasedPartitioner: the time a directory covers, in milliseconds; times are rounded down to a multiple of it (in timezone) before path.format applies.' })
  .define({ name: 'locale', type: 'string', defaultValue: '', importance: 'MEDIUM', group: PARTITIONER, orderInGroup: 5,
    documentation: 'TimeBasedPartitioner: the locale of month names in path.format (MMM, MMMM), such as en-US; empty: en-US.' })
  .define({ name: 'timezone', type: 'string', defaultValue: '', importance: 'MEDIUM', group: PARTITIONER, orderInGroup: 6, validator: validTimeZone,
    documentation: 'The time zone of path.format and of rotate.schedule.interval.ms boundaries, such as UTC or Europe/Berlin. Required by the time-based partitioners.' })
  .define({ name: 'timestamp.extractor', type: 'string', defaultValue: 'Wallclock', importance: 'MEDIUM', group: PARTITIONER, orderInGroup: 7, validator: oneOfNames(TIMESTAMP_EXTRACTORS),
    documentation: 'The time-based partitioners\' record time: Record (the Kafka record timestamp), RecordField (the value field timestamp.field) or Wallclock (the time the task writes the record).' })
  .define({ name: 'timestamp.field', type: 'string', defaultValue: 'timestamp', importance: 'MEDIUM', group: PARTITIONER, orderInGroup: 8,
    documentation: 'With timestamp.extractor=RecordField: the value field (a.b for a nested one) that holds the time: a Timestamp, epoch milliseconds, or an ISO-8601 string.' });

export interface S3SinkSettings {
  readonly bucket: string;
  readonly region: string;
  readonly storeUrl: string | null;
  readonly pathStyle: boolean;
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string } | null;
  readonly partSize: number;
  readonly partRetries: number;
  readonly retryBackoffMs: number;
  readonly putRetryBackoffMs: number;
  readonly format: FormatName;
  readonly jsonCompression: 'none' | 'gzip';
  readonly jsonDecimalNumeric: boolean;
  readonly parquetCodec: ParquetCodec;
  readonly flushSize: number;
  /** null: off. */
  readonly rotateIntervalMs: number | null;
  readonly rotateScheduleIntervalMs: number | null;
  readonly ignoreNullValues: boolean;
  readonly topicsDir: string;
  readonly directoryDelim: string;
  readonly fileDelim: string;
  readonly offsetPadWidth: number;
  readonly partitioner: PartitionerSettings;
  /** The zone of rotate.schedule.interval.ms boundaries. */
  readonly timeZone: string;
}

export type PartitionerSettings =
  | { readonly kind: 'default' }
  | { readonly kind: 'field'; readonly fields: readonly string[] }
  | {
    readonly kind: 'time';
    readonly pathFormat: string;
    readonly durationMs: number;
    readonly locale: string;
    readonly timeZone: string;
    readonly extractor: TimestampExtractorName;
    readonly timestampField: string;
  };

/** Which of `choices` the configured name is (full or short, any case). */
function pick<K extends string>(choices: Record<K, readonly string[]>, value: string): K {
  const wanted = value.trim().toLowerCase();
  return (Object.keys(choices) as K[]).find((key) => choices[key].some((name) => name.toLowerCase() === wanted))!;
}

/** Parses and cross-checks the properties; a ConnectConfigException names the key at fault. */
export function s3SinkSettings(props: Readonly<Record<string, string>>): S3SinkSettings {
  const config = configDef.parse(props);
  const accessKeyId = config.optionalString('aws.access.key.id');
  const secretAccessKey = config.optionalString('aws.secret.access.key');
  if ((accessKeyId === null) !== (secretAccessKey === null)) {
    const missing = accessKeyId === null ? 'aws.access.key.id' : 'aws.secret.access.key';
    throw new ConnectConfigException(missing, `${missing} must be set together with ${missing === 'aws.access.key.id' ? 'aws.secret.access.key' : 'aws.access.key.id'}`);
  }
  const timeZone = config.string('timezone');
  const partitionerKind = pick(PARTITIONERS, config.string('partitioner.class'));
  let partitioner: PartitionerSettings;
  if (partitionerKind === 'default') {
    partitioner = { kind: 'default' };
  } else if (partitionerKind === 'field') {
    const fields = config.list('partition.field.name');
    if (fields.length === 0) throw new ConnectConfigException('partition.field.name', 'FieldPartitioner needs partition.field.name: the value fields that name the directories');
    partitioner = { kind: 'field', fields };
  } else {
    const preset = partitionerKind === 'daily' ? { pathFormat: DAILY_PATH_FORMAT, durationMs: DAY_MS } : partitionerKind === 'hourly' ? { pathFormat: HOURLY_PATH_FORMAT, durationMs: HOUR_MS } : null;
    const pathFormat = preset?.pathFormat ?? config.string('path.format');
    const durationMs = preset?.durationMs ?? config.number('partition.duration.ms');
    const name = config.string('partitioner.class');
    if (pathFormat.trim() === '') throw new ConnectConfigException('path.format', `${name} needs path.format, such as 'year'=YYYY/'month'=MM/'day'=dd`);
    if (durationMs <= 0) throw new ConnectConfigException('partition.duration.ms', `${name} needs partition.duration.ms: the positive number of milliseconds one directory covers`);
    if (timeZone === '') throw new ConnectConfigException('timezone', `${name} needs timezone, such as UTC`);
    const extractor = TIMESTAMP_EXTRACTORS.find((option) => option.toLowerCase() === config.string('timestamp.extractor').trim().toLowerCase())!;
    const timestampField = config.string('timestamp.field');
    if (extractor === 'RecordField' && timestampField.trim() === '') throw new ConnectConfigException('timestamp.field', 'timestamp.extractor=RecordField needs timestamp.field');
    const locale = config.string('locale');
    if (locale !== '') {
      try {
        new Intl.DateTimeFormat(locale);
      } catch {
        throw new ConnectConfigException('locale', `Invalid value ${locale} for configuration locale: not a locale (such as en-US)`);
      }
    }
    partitioner = { kind: 'time', pathFormat, durationMs, locale: locale || 'en-US', timeZone, extractor, timestampField };
  }
  const rotate = (name: string) => (config.number(name) > 0 ? config.number(name) : null);
  return {
    bucket: config.string('s3.bucket.name'),
    region: config.string('s3.region'),
    storeUrl: config.optionalString('store.url'),
    pathStyle: config.boolean('s3.path.style.access.enabled'),
    credentials: accessKeyId !== null && secretAccessKey !== null ? { accessKeyId, secretAccessKey } : null,
    partSize: config.number('s3.part.size'),
    partRetries: config.number('s3.part.retries'),
    retryBackoffMs: config.number('s3.retry.backoff.ms'),
    putRetryBackoffMs: config.number('retry.backoff.ms'),
    format: pick(FORMATS, config.string('format.class')),
    jsonCompression: config.string('s3.compression.type').toLowerCase() as 'none' | 'gzip',
    jsonDecimalNumeric: config.string('json.decimal.format').toUpperCase() === 'NUMERIC',
    parquetCodec: config.string('parquet.codec').toLowerCase() as ParquetCodec,
    flushSize: config.number('flush.size'),
    rotateIntervalMs: rotate('rotate.interval.ms'),
    rotateScheduleIntervalMs: rotate('rotate.schedule.interval.ms'),
    ignoreNullValues: config.string('behavior.on.null.values').toLowerCase() === 'ignore',
    topicsDir: config.string('topics.dir'),
    directoryDelim: config.string('directory.delim'),
    fileDelim: config.string('file.delim'),
    offsetPadWidth: config.number('filename.offset.zero.pad.width'),
    partitioner,
    timeZone: timeZone || 'UTC',
  };
}
