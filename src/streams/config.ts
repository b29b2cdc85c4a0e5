/**
 * StreamsConfig: Kafka Streams' config names, parsed and checked once, each refusal naming its key.
 * Values may come as text (a properties file) or typed (an object literal in code).
 */
import { ConfigError } from '../base/config-def.js';
import { serdeByName, type Serde } from './serdes.js';
import type { TimestampExtractor } from './topology/topology.js';

export { ConfigError };

export type ProcessingGuarantee = 'at_least_once' | 'exactly_once_v2';

export interface StreamsConfigValues {
  readonly applicationId: string;
  readonly bootstrapServers: string[];
  readonly processingGuarantee: ProcessingGuarantee;
  /** Kafka's default: 30000 at_least_once, 100 exactly_once_v2. */
  readonly commitIntervalMs: number;
  /** How long a task may fail to make progress (a broker down, a leader moving) before the instance gives up: Kafka's 300000. */
  readonly taskTimeoutMs: number;
  readonly numStreamThreads: number;
  readonly numStandbyReplicas: number;
  readonly stateDir: string;
  readonly replicationFactor: number;
  readonly defaultKeySerde: Serde<unknown> | undefined;
  readonly defaultValueSerde: Serde<unknown> | undefined;
  readonly applicationServer: string | undefined;
  readonly statestoreCacheMaxBytes: number;
  /** The event time of records whose source names no extractor; absent: the record's own timestamp. */
  readonly defaultTimestampExtractor: TimestampExtractor | undefined;
}

export type StreamsProperties = Record<string, string | number | boolean | Serde<any> | string[] | TimestampExtractor | undefined>;

function text(props: StreamsProperties, key: string): string | undefined {
  const value = props[key];
  if (value === undefined) return undefined;
  if (typeof value === 'function') throw new ConfigError(key, 'expected a string, not a function');
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.join(',');
  throw new ConfigError(key, 'expected a string');
}

function integer(props: StreamsProperties, key: string, fallback: number, min: number): number {
  const raw = text(props, key);
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(key, `expected an integer, got '${raw}'`);
  const value = Number(raw);
  if (value < min) throw new ConfigError(key, `${value} is below the minimum ${min}`);
  return value;
}

function serde(props: StreamsProperties, key: string): Serde<unknown> | undefined {
  const value = props[key];
  if (value === undefined) return undefined;
  if (typeof value === 'object' && !Array.isArray(value) && typeof (value as Serde<unknown>).serialize === 'function') {
    return value as Serde<unknown>;
  }
  const found = serdeByName(String(value));
  if (!found) throw new ConfigError(key, `unknown serde '${String(value)}'`);
  return found;
}

function timestampExtractor(props: StreamsProperties): TimestampExtractor | undefined {
  const value = props['default.timestamp.extractor'];
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new ConfigError('default.timestamp.extractor', 'expected a function (record, partitionTime) => timestamp');
  return value as TimestampExtractor;
}

function guarantee(props: StreamsProperties): ProcessingGuarantee {
  const raw = text(props, 'processing.guarantee') ?? 'at_least_once';
  if (raw === 'at_least_once' || raw === 'exactly_once_v2') return raw;
  // Kafka removed exactly_once and exactly_once_beta in 4.0; name the one that replaces them.
  throw new ConfigError('processing.guarantee', `must be at_least_once or exactly_once_v2, not '${raw}'`);
}

const KNOWN_KEYS = new Set([
  'application.id',
  'bootstrap.servers',
  'processing.guarantee',
  'commit.interval.ms',
  'task.timeout.ms',
  'num.stream.threads',
  'num.standby.replicas',
  'state.dir',
  'replication.factor',
  'default.key.serde',
  'default.value.serde',
  'application.server',
  'statestore.cache.max.bytes',
  'cache.max.bytes.buffering',
  'default.timestamp.extractor',
  'topology.optimization',
  'client.id',
]);

/** Parses Kafka Streams properties; `requireBootstrap` is false for the test driver, which has no cluster. */
export function parseStreamsConfig(props: StreamsProperties, options: { requireBootstrap?: boolean } = {}): StreamsConfigValues {
  const applicationId = text(props, 'application.id');
  if (!applicationId) throw new ConfigError('application.id', 'is required');
  // The id prefixes topic names and is the consumer group id: Kafka allows what a topic name allows.
  if (!/^[a-zA-Z0-9._-]+$/.test(applicationId)) {
    throw new ConfigError('application.id', `'${applicationId}' may contain only letters, digits, '.', '_' and '-'`);
  }
  const servers = (text(props, 'bootstrap.servers') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (options.requireBootstrap !== false && servers.length === 0) throw new ConfigError('bootstrap.servers', 'is required');
  for (const server of servers) {
    if (!/^[^\s:]+:\d+$/.test(server) && !/^\[[^\]]+\]:\d+$/.test(server)) {
      throw new ConfigError('bootstrap.servers', `'${server}' is not host:port`);
    }
  }
  const processingGuarantee = guarantee(props);
  return {
    applicationId,
    bootstrapServers: servers,
    processingGuarantee,
    commitIntervalMs: integer(props, 'commit.interval.ms', processingGuarantee === 'exactly_once_v2' ? 100 : 30000, 0),
    taskTimeoutMs: integer(props, 'task.timeout.ms', 300_000, 0),
    numStreamThreads: integer(props, 'num.stream.threads', 1, 1),
    numStandbyReplicas: integer(props, 'num.standby.replicas', 0, 0),
    stateDir: text(props, 'state.dir') || '/tmp/kafka-streams',
    replicationFactor: integer(props, 'replication.factor', -1, -1),
    defaultKeySerde: serde(props, 'default.key.serde'),
    defaultValueSerde: serde(props, 'default.value.serde'),
    applicationServer: text(props, 'application.server') || undefined,
    statestoreCacheMaxBytes: integer(props, 'statestore.cache.max.bytes', 10 * 1024 * 1024, 0),
    defaultTimestampExtractor: timestampExtractor(props),
  };
}

/** Keys this library does not read (a misspelt key is the usual cause); the caller may log them. */
export function unknownStreamsKeys(props: StreamsProperties): string[] {
  return Object.keys(props).filter(
    (key) => !KNOWN_KEYS.has(key) && !key.startsWith('consumer.') && !key.startsWith('producer.') && !key.startsWith('admin.'),
  );
}
