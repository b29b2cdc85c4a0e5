// Loads the test-only librdkafka client, @confluentinc/kafka-javascript, from its own package
// directory (test/clients/librdkafka, installed by scripts/install-librdkafka-client.sh because its
// build takes minutes). Its addon is compiled for one Node ABI, so on another Node version it is
// reported unavailable with the loader's reason, never thrown. Only the node-rdkafka style API the
// tests use is typed here: the package's own types are not installed when the main project type-checks.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LIBRDKAFKA_CLIENT_DIR = fileURLToPath(new URL('../clients/librdkafka/', import.meta.url));
export const LIBRDKAFKA_PACKAGE = '@confluentinc/kafka-javascript';
export const LIBRDKAFKA_INSTALL = 'scripts/install-librdkafka-client.sh';

export type RdkafkaConfig = Record<string, string | number | boolean | ((...args: never[]) => void)>;
/** A header as the client passes it: one key per object, in record order. */
export type RdkafkaHeader = Record<string, Buffer | string>;

export interface RdkafkaError extends Error {
  code: number;
  isFatal?: boolean;
}

export interface RdkafkaTopicPartition {
  topic: string;
  partition: number;
  offset?: number;
  error?: RdkafkaError;
}

export interface RdkafkaMessage {
  topic: string;
  partition: number;
  offset: number;
  value: Buffer | null;
  key?: Buffer | string | null;
  timestamp?: number;
  headers?: RdkafkaHeader[];
}

export interface RdkafkaDeliveryReport {
  topic: string;
  partition: number;
  offset: number;
  opaque?: unknown;
}

interface RdkafkaClient {
  connect(options: Record<string, unknown>, cb: (err: RdkafkaError | null) => void): unknown;
  disconnect(cb: (err: RdkafkaError | null) => void): unknown;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

export interface RdkafkaProducer extends RdkafkaClient {
  produce(topic: string, partition: number | null, value: Buffer | null, key?: Buffer | string | null, timestamp?: number | null, opaque?: unknown, headers?: RdkafkaHeader[]): unknown;
  setPollInterval(intervalMs: number): unknown;
  flush(timeoutMs: number, cb: (err: RdkafkaError | null) => void): unknown;
}

export interface RdkafkaConsumer extends RdkafkaClient {
  subscribe(topics: string[]): unknown;
  consume(count: number, cb: (err: RdkafkaError | null, messages: RdkafkaMessage[]) => void): void;
  /**
   * Commits and waits for the coordinator's answer, blocking this thread (throws on error): not
   * usable when the broker runs in the same process.
   */
  commitSync(offsets: RdkafkaTopicPartition[]): unknown;
  /** Calls back once the commit is queued (commitAsync underneath), not when the coordinator answered. */
  commitCb(offsets: RdkafkaTopicPartition[] | null, cb: (err: RdkafkaError | null) => void): unknown;
  committed(toppars: RdkafkaTopicPartition[], timeoutMs: number, cb: (err: RdkafkaError | null, offsets: RdkafkaTopicPartition[]) => void): unknown;
  assign(assignments: RdkafkaTopicPartition[]): unknown;
  unassign(): unknown;
  incrementalAssign(assignments: RdkafkaTopicPartition[]): unknown;
  incrementalUnassign(assignments: RdkafkaTopicPartition[]): unknown;
  assignments(): RdkafkaTopicPartition[];
  /** 'NONE', 'EAGER' or 'COOPERATIVE' (which the consumer group protocol, KIP-848, also reports). */
  rebalanceProtocol(): string;
}

export interface LibrdkafkaModule {
  librdkafkaVersion: string;
  /** librdkafka's builtin.features, e.g. gzip, snappy, ssl, sasl_scram, lz4, zstd. */
  features: string[];
  Producer: new (config: RdkafkaConfig, topicConfig?: RdkafkaConfig) => RdkafkaProducer;
  KafkaConsumer: new (config: RdkafkaConfig, topicConfig?: RdkafkaConfig) => RdkafkaConsumer;
  CODES: { ERRORS: Record<string, number> };
}

export interface LibrdkafkaInfo {
  available: boolean;
  /** librdkafka's version, e.g. 2.15.1, when available. */
  version?: string;
  /** @confluentinc/kafka-javascript's version, when available. */
  packageVersion?: string;
  /** Why it is unavailable, with how to install it. */
  reason?: string;
  module?: LibrdkafkaModule;
}

let loaded: LibrdkafkaInfo | undefined;

/** Loads the client once per process; never throws. */
export function loadLibrdkafka(): LibrdkafkaInfo {
  loaded ??= load();
  return loaded;
}

function load(): LibrdkafkaInfo {
  const manifest = join(LIBRDKAFKA_CLIENT_DIR, 'package.json');
  const require = createRequire(manifest);
  let packageVersion: string;
  try {
    packageVersion = (require(`${LIBRDKAFKA_PACKAGE}/package.json`) as { version: string }).version;
  } catch {
    const where = existsSync(manifest) ? 'test/clients/librdkafka' : `${LIBRDKAFKA_CLIENT_DIR} (missing)`;
    return { available: false, reason: `${LIBRDKAFKA_PACKAGE} not installed in ${where}: ${LIBRDKAFKA_INSTALL}` };
  }
  try {
    const module = require(LIBRDKAFKA_PACKAGE) as LibrdkafkaModule;
    return { available: true, version: module.librdkafkaVersion, packageVersion, module };
  } catch (error) {
    return {
      available: false,
      reason: `${LIBRDKAFKA_PACKAGE} ${packageVersion} does not load on node ${process.version} (${loadFailure(error)}): run ${LIBRDKAFKA_INSTALL} with this node (it builds for one Node version at a time)`,
    };
  }
}

/** Why the addon did not load, in one line: typically built for another Node ABI, or never built. */
function loadFailure(error: unknown): string {
  const message = String(error instanceof Error ? error.message : error).replace(/\s+/g, ' ');
  const abi = /NODE_MODULE_VERSION (\d+)\. This version of Node\.js requires NODE_MODULE_VERSION (\d+)/.exec(message);
  if (abi !== null) return `its addon was built for NODE_MODULE_VERSION ${abi[1]}, this node needs ${abi[2]}`;
  return message.length > 300 ? `${message.slice(0, 300)}…` : message;
}
