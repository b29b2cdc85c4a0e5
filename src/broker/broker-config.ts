// The broker's configuration: Kafka's server.properties keys with Kafka's defaults (DESIGN.md
// decision 10), parsed from text and validated, every refusal naming the key.
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  type ConfigKey,
  type ConfigValidator,
  type ConfigValue,
  ConfigError,
  atLeast,
  between,
  checkedConfigValue,
  oneOf,
} from '../base/config-def.js';
import type { TlsStoreSettings } from '../base/tls-stores.js';
import { parseJaasConfig } from '../client/client-config.js';
import { canonicalIp } from '../metadata/client-quotas.js';
import { MIGRATION_POLICIES, type MigrationPolicy } from '../coordinator/group/group-migration.js';
import type { SaslCredentials } from '../client/sasl-client.js';
import { parseListeners } from './network/listeners.js';
import { serverAssignorNamed } from '../coordinator/group/assignors.js';
import { SslPrincipalMapper } from './network/ssl-principal.js';
import { resolveCipherSuites, type CipherSuites } from './network/cipher-suites.js';
import type { ListenerConnectionLimits } from './network/network-limits.js';
import {
  JWT_VALIDATOR_CLASSES,
  OAUTHBEARER,
  OAUTHBEARER_LOGIN_MODULE,
  type OAuthBearerSettings,
  UNSECURED_VALIDATOR_CLASS,
  parseScope,
} from './oauthbearer.js';

const LONG_MAX_AS_FOREVER = Number.POSITIVE_INFINITY;

function key(name: string, type: ConfigKey['type'], defaultValue: ConfigValue, documentation: string, validate?: ConfigValidator): ConfigKey {
  return validate ? { name, type, defaultValue, documentation, validate } : { name, type, defaultValue, documentation };
}

/**
 * group.coordinator.rebalance.protocols: classic (required, as in Kafka), consumer (KIP-848) and
 * share (KIP-932; Kafka 4.2 still accepts it, deprecated in favour of the share.version feature,
 * which Conveyor does not have, so here it is the switch). streams is refused: Conveyor serves no
 * streams groups, and a protocol it would not serve is better refused than silently ignored.
 */
const rebalanceProtocols: ConfigValidator = (value) => {
  if (!Array.isArray(value)) return `must be a list of classic, consumer and share, got '${String(value)}'`;
  const unknown = value.filter((protocol) => protocol !== 'classic' && protocol !== 'consumer' && protocol !== 'share');
  if (unknown.length > 0) return `must list only classic, consumer and share (streams groups are not served), got '${unknown.join(',')}'`;
  return value.includes('classic') ? undefined : 'must include classic';
};

/** group.share.assignors: Kafka's one built-in share assignor, by name or class name; exactly one, as Kafka requires. */
const SIMPLE_ASSIGNOR_CLASS = 'org.apache.kafka.coordinator.group.assignor.SimpleAssignor';
const shareAssignorList: ConfigValidator = (value) => {
  if (!Array.isArray(value) || value.length !== 1) return `must contain exactly one assignor, but found ${Array.isArray(value) ? value.length : 0}`;
  const [name] = value;
  return name === 'simple' || name === SIMPLE_ASSIGNOR_CLASS ? undefined : `must name simple (or Kafka's ${SIMPLE_ASSIGNOR_CLASS}), got '${String(name)}'`;
};

const serverAssignorList: ConfigValidator = (value) => {
  if (!Array.isArray(value) || value.length === 0) return 'must name at least one assignor: uniform or range';
  const unknown = value.filter((name) => serverAssignorNamed(String(name)) === undefined);
  return unknown.length === 0 ? undefined : `must name uniform or range (or Kafka's UniformAssignor or RangeAssignor class), got '${unknown.join(',')}'`;
};

/** replica.selector.class values: Kafka's two selectors, by their class names. */
const LEADER_SELECTOR = 'org.apache.kafka.common.replica.LeaderSelector';
const RACK_AWARE_SELECTOR = 'org.apache.kafka.common.replica.RackAwareReplicaSelector';
const codecs = oneOf('producer', 'uncompressed', 'gzip', 'snappy', 'lz4', 'zstd');
const policies: ConfigValidator = (value) =>
  Array.isArray(value) && value.every((policy) => policy === 'delete' || policy === 'compact') ? undefined : `must be a list of delete and compact (or empty), got '${String(value)}'`;
const levelIn = (min: number, max: number, orAlso?: number): ConfigValidator => (value) =>
  typeof value === 'number' && value !== orAlso && (value < min || value > max) ? `must be in [${min}, ${max}]${orAlso === undefined ? '' : ` or ${orAlso}`}, got ${value}` : undefined;
const DOUBLE_MAX = Number.MAX_VALUE;
const INT_MAX = 2147483647;
const MAX_PORT = 65_535;

/** A controller voter from controller.quorum.voters (`id@host:port`). */
export interface ControllerQuorumVoter {
  nodeId: number;
  host: string;
  port: number;
}

/** A `host:port` address, from controller.quorum.bootstrap.servers. */
export interface HostAndPort {
  host: string;
  port: number;
}

const hostAndPortPattern = /^(\[[0-9A-Za-z:.%]+\]|[^\s:@[\]/]+):(\d+)$/;
const listenerNamePattern = /^[A-Za-z0-9_]+$/;

/** `host:port` (IPv6 hosts in brackets), or why `text` is not one. */
function parseHostAndPort(text: string, form: string): HostAndPort | string {
  const match = hostAndPortPattern.exec(text);
  if (!match) return `'${text}' is not of the form ${form} (IPv6 hosts in brackets)`;
  const port = Number(match[2]);
  if (port > MAX_PORT) return `port ${match[2]} in '${text}' is not between 0 and ${MAX_PORT}`;
  const host = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!;
  return { host, port };
}

/** controller.quorum.voters entries (`1@host:9093,2@[::1]:9093`), or why they are not valid. */
function parseVoters(entries: readonly string[]): ControllerQuorumVoter[] | string {
  const voters: ControllerQuorumVoter[] = [];
  for (const entry of entries) {
    const at = entry.indexOf('@');
    const idText = at < 0 ? '' : entry.slice(0, at);
    if (!/^\d+$/.test(idText) || Number(idText) > INT_MAX) return `'${entry}' is not of the form {id}@{host}:{port} (IPv6 hosts in brackets)`;
    const address = parseHostAndPort(entry.slice(at + 1), '{id}@{host}:{port}');
    if (typeof address === 'string') return address;
    const nodeId = Number(idText);
    if (voters.some((voter) => voter.nodeId === nodeId)) return `node id ${nodeId} appears more than once`;
    voters.push({ nodeId, ...address });
  }
  return voters;
}

/** controller.quorum.bootstrap.servers entries (`host:port,...`), or why they are not valid. */
function parseBootstrapServers(entries: readonly string[]): HostAndPort[] | string {
  const servers: HostAndPort[] = [];
  for (const entry of entries) {
    const address = parseHostAndPort(entry, '{host}:{port}');
    if (typeof address === 'string') return address;
    servers.push(address);
  }
  return servers;
}

/** Entries of an HTTP listener key (`http://host:port,...`) serving `what`, or why they are not valid. */
function httpListenersParser(what: string): (entries: readonly string[]) => HostAndPort[] | string {
  return (entries) => {
    const listeners: HostAndPort[] = [];
    for (const entry of entries) {
      if (!entry.startsWith('http://')) return `'${entry}' is not of the form http://{host}:{port} (${what} serves plain HTTP)`;
      const address = parseHostAndPort(entry.slice('http://'.length).replace(/\/$/, ''), 'http://{host}:{port}');
      if (typeof address === 'string') return address;
      listeners.push(address);
    }
    return listeners;
  };
}

/** metrics.listeners and console.listeners entries. */
const parseMetricsListeners = httpListenersParser('the metrics endpoint');
const parseConsoleListeners = httpListenersParser('the web console');

/** console.connect.url: empty, or an http(s) URL of a Connect worker's REST API. */
const connectUrl: ConfigValidator = (value) => {
  if (typeof value !== 'string' || value === '') return undefined;
  return /^https?:\/\/[^/\s]+/.test(value) ? undefined : `'${value}' is not an http:// or https:// URL`;
};

/** A comma-separated list of listener names, upper-cased as Kafka normalises them. */
function listenerNames(value: string | null): string[] {
  return (value ?? '').split(',').map((name) => name.trim().toUpperCase()).filter((name) => name.length > 0);
}

const problemOf = (parse: (entries: string[]) => unknown[] | string): ConfigValidator => (value) => {
  const parsed = Array.isArray(value) ? parse(value) : undefined;
  return typeof parsed === 'string' ? parsed : undefined;
};
const listenerNameList: ConfigValidator = (value) => {
  const bad = typeof value === 'string' ? value.split(',').map((name) => name.trim()).find((name) => name !== '' && !listenerNamePattern.test(name)) : undefined;
  return bad === undefined ? undefined : `'${bad}' is not a listener name (letters, digits and _)`;
};
const listenerName: ConfigValidator = (value) =>
  typeof value === 'string' && value !== '' && !listenerNamePattern.test(value) ? `'${value}' is not a listener name (letters, digits and _)` : undefined;

const hostNamePattern = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

/**
 * max.connections.per.ip.overrides (`host:count,host:count`), as Kafka's parseCsvMap reads it: the
 * count after each entry's last colon (so `::1:5` is ::1), the host an IP literal or a host name;
 * or why the value is not valid.
 */
export function parseIpOverrides(text: string): Map<string, number> | string {
  const overrides = new Map<string, number>();
  const entries = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const invalid: string[] = [];
  for (const entry of entries) {
    const colon = entry.lastIndexOf(':');
    if (colon < 0) return `'${entry}' is not of the form host:count`;
    const host = entry.slice(0, colon).trim();
    const count = entry.slice(colon + 1).trim();
    if (!/^\d+$/.test(count) || Number(count) > INT_MAX) return `the count in '${entry}' is not a number of connections`;
    if (canonicalIp(host) === undefined && !hostNamePattern.test(host)) invalid.push(host);
    overrides.set(host, Number(count));
  }
  // Kafka's message for hosts that are neither addresses nor host names.
  if (invalid.length > 0) return `contains invalid addresses : ${invalid.join(',')}`;
  return overrides;
}
const ipOverrides: ConfigValidator = (value) => {
  const parsed = typeof value === 'string' ? parseIpOverrides(value) : undefined;
  return typeof parsed === 'string' ? parsed : undefined;
};

/** The broker keys a listener may have its own value of (listener.name.<listener>.<key>): Kafka's ListenerReconfigurableConfigs. */
export const listenerConnectionKeys: ReadonlySet<string> = new Set(['max.connections', 'max.connection.creation.rate']);

/**
 * Every broker key Conveyor reads or stores, with Kafka 4.x's type and default where Kafka has one
 * (deviations say why). The keys in `dynamicBrokerConfigs` below may also change at run time.
 */
export const brokerConfigKeys: readonly ConfigKey[] = [
  key('node.id', 'int', 1, 'The id of this node in the cluster.', atLeast(0)),
  // Kafka requires process.roles; a Conveyor node is both broker and controller unless told.
  key('process.roles', 'list', ['broker', 'controller'], 'Whether this node acts as a broker, a controller, or both.', (roles) =>
    Array.isArray(roles) && roles.length > 0 && roles.every((role) => role === 'broker' || role === 'controller')
      ? undefined
      : `must be broker, controller or broker,controller, got '${String(roles)}'`,
  ),
  // Kafka's default is PLAINTEXT://:9092 (every interface); Conveyor listens on localhost unless told.
  key('listeners', 'string', 'PLAINTEXT://localhost:9092', 'The addresses the broker accepts connections on, as NAME://host:port entries.'),
  key('advertised.listeners', 'string', null, 'The addresses handed to clients in metadata, when they differ from the listeners.'),
  key('listener.security.protocol.map', 'string', 'SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT',
    'Which security protocol each listener name speaks.'),
  // KRaft: the metadata quorum. A node with neither voters nor bootstrap servers is a quorum of one.
  key('inter.broker.listener.name', 'string', null, 'The listener brokers reach each other on; unset means the first listener that is not a controller listener.', listenerName),
  key('controller.listener.names', 'string', null, 'The comma-separated names of the listeners the controller quorum speaks on; brokers reach the controllers through the first.', listenerNameList),
  key('controller.quorum.voters', 'list', [], 'The fixed set of controller voters as id@host:port entries, the same on every node of the cluster.', problemOf(parseVoters)),
  key('controller.quorum.bootstrap.servers', 'list', [], 'The host:port addresses a node first contacts to find the controller quorum, instead of a fixed voter set.', problemOf(parseBootstrapServers)),
  key('controller.quorum.election.timeout.ms', 'int', 1000, 'How long a voter waits without hearing from a leader before it starts an election.', atLeast(1)),
  key('controller.quorum.fetch.timeout.ms', 'int', 2000, 'How long a follower goes without a successful fetch before it campaigns, and a leader without fetches from a majority before it resigns.', atLeast(1)),
  key('controller.quorum.election.backoff.max.ms', 'int', 1000, 'The longest a voter backs off after a failed election before it tries again.', atLeast(1)),
  key('controller.quorum.request.timeout.ms', 'int', 2000, 'How long a quorum request to another node may take before it is retried.', atLeast(1)),
  key('controller.quorum.retry.backoff.ms', 'int', 20, 'How long a node waits before re-sending a failed quorum request.', atLeast(0)),
  key('broker.heartbeat.interval.ms', 'int', 2000, 'How often a broker sends a heartbeat to the active controller.', atLeast(1)),
  key('broker.session.timeout.ms', 'int', 9000, 'How long a broker stays registered as alive without a heartbeat.', atLeast(1)),
  key('metadata.log.max.record.bytes.between.snapshots', 'long', 20971520, 'How many bytes of committed metadata records accumulate after the last snapshot before a new one is taken.', atLeast(1)),
  key('metadata.max.idle.interval.ms', 'int', 500, 'How often the active controller appends a no-op record to the metadata log when idle; 0 never does.', atLeast(0)),
  key('auto.leader.rebalance.enable', 'boolean', true, 'Whether the active controller moves leadership back to each partition\'s preferred replica when it is an unfenced ISR member.'),
  key('leader.imbalance.check.interval.seconds', 'long', 300, 'How often the active controller looks for partitions not led by their preferred replica.', atLeast(1)),
  key('log.dirs', 'list', null, 'The directories partition data is kept in; overrides log.dir.'),
  key('log.dir', 'string', './data', 'The directory partition data is kept in when log.dirs is not set.'),
  key('num.partitions', 'int', 1, 'How many partitions an automatically or defaultly created topic gets.', atLeast(1)),
  key('default.replication.factor', 'int', 1, 'How many replicas a topic created without one gets.', atLeast(1)),
  key('auto.create.topics.enable', 'boolean', true, 'Whether producing to or fetching metadata for an unknown topic creates it.'),
  key('delete.topic.enable', 'boolean', true, 'Whether topics may be deleted through the admin API.'),
  key('message.max.bytes', 'int', 1048588, 'The largest record batch a topic accepts unless the topic says otherwise.', atLeast(0)),
  key('log.segment.bytes', 'int', 1073741824, 'The default size at which a segment is closed and a new one begun.', atLeast(14)),
  key('log.roll.ms', 'long', null, 'The default age at which the active segment is rolled, in ms; wins over log.roll.hours.', atLeast(1)),
  key('log.roll.hours', 'int', 168, 'The default age at which the active segment is rolled, in hours.', atLeast(1)),
  key('log.roll.jitter.ms', 'long', null, 'The default random amount taken off the roll time, in ms; wins over log.roll.jitter.hours.'),
  key('log.roll.jitter.hours', 'int', 0, 'The default random amount taken off the roll time, in hours.', atLeast(0)),
  key('log.index.size.max.bytes', 'int', 10485760, 'The default most bytes one segment\'s indexes may use.', atLeast(4)),
  key('log.index.interval.bytes', 'int', 4096, 'The default number of log bytes between two offset index entries.', atLeast(0)),
  key('log.flush.interval.messages', 'long', LONG_MAX_AS_FOREVER, 'The default number of messages after which a partition is fsynced.', atLeast(1)),
  key('log.flush.interval.ms', 'long', null, 'The default age of unflushed data at which a partition is fsynced.'),
  key('log.flush.scheduler.interval.ms', 'long', LONG_MAX_AS_FOREVER, 'How often the flusher looks for partitions due a time-based fsync.'),
  key('log.retention.ms', 'long', null, 'The default retention time in ms; wins over the minutes and hours keys; -1 keeps forever.', atLeast(-1)),
  key('log.retention.minutes', 'int', null, 'The default retention time in minutes; wins over log.retention.hours.', atLeast(-1)),
  key('log.retention.hours', 'int', 168, 'The default retention time in hours.', atLeast(-1)),
  key('log.retention.bytes', 'long', -1, 'The default size a partition may reach before old segments go; -1 means no limit.'),
  key('log.local.retention.ms', 'long', -2, 'With tiered storage, the default time segments stay on local disk; -2 follows log.retention.ms.', atLeast(-2)),
  key('log.local.retention.bytes', 'long', -2, 'With tiered storage, the default local size of a partition; -2 follows log.retention.bytes.', atLeast(-2)),
  key('log.message.timestamp.type', 'string', 'CreateTime', 'The default timestamp type: CreateTime or LogAppendTime.', oneOf('CreateTime', 'LogAppendTime')),
  key('log.message.timestamp.before.max.ms', 'long', LONG_MAX_AS_FOREVER, 'The default limit on how far in the past a CreateTime timestamp may be.', atLeast(0)),
  key('log.message.timestamp.after.max.ms', 'long', 3600000, 'The default limit on how far in the future a CreateTime timestamp may be.', atLeast(0)),
  key('log.preallocate', 'boolean', false, 'Whether new segment files are allocated at full size by default.'),
  key('socket.request.max.bytes', 'int', 104857600, 'The largest request the broker reads from a socket.', atLeast(1)),
  key('connections.max.idle.ms', 'long', 600000, 'How long an idle connection stays open before the broker closes it.', atLeast(1)),
  key('connections.max.reauth.ms', 'long', 0, 'How long a SASL session lasts before the client must authenticate again on the connection (KIP-368); 0: as long as the connection.', atLeast(0)),
  key('max.connections', 'int', INT_MAX, 'The most connections the broker holds at once: at the limit it stops accepting until one closes. A listener may have its own limit (listener.name.<listener>.max.connections); the inter-broker listener is not held back by the broker-wide one, and a connection it takes beyond it closes the least recently used connection of another listener.', atLeast(0)),
  key('max.connections.per.ip', 'int', INT_MAX, 'The most connections one client address may hold; a new connection beyond it is closed at once. 0 only with max.connections.per.ip.overrides set.', atLeast(0)),
  key('max.connections.per.ip.overrides', 'string', '', 'Per-address exceptions to max.connections.per.ip, as host:count pairs separated by commas (an IP address, or a host name standing for the addresses it resolves to).', ipOverrides),
  key('max.connection.creation.rate', 'int', INT_MAX, 'The most new connections per second the broker accepts (a listener may have its own rate, listener.name.<listener>.max.connection.creation.rate); beyond it accepting waits. The inter-broker listener is held back by its own rate only.', atLeast(0)),
  key('num.network.threads', 'int', 3, 'How many threads serve the network; Conveyor runs one event loop.', atLeast(1)),
  key('num.io.threads', 'int', 8, 'How many threads process requests; Conveyor runs one event loop.', atLeast(1)),
  key('background.threads', 'int', 10, 'How many threads run background tasks.', atLeast(1)),
  key('offsets.topic.replication.factor', 'short', 3, 'The replication factor of __consumer_offsets, capped at the brokers there are when it is created.', atLeast(1)),
  key('transaction.state.log.replication.factor', 'short', 3, 'The replication factor of __transaction_state, capped at the brokers there are when it is created.', atLeast(1)),
  key('transaction.state.log.min.isr', 'int', 2, 'min.insync.replicas of __transaction_state, capped at its replication factor.', atLeast(1)),
  key('broker.rack', 'string', null, 'The rack (or availability zone) of this broker: replicas of a partition are placed on different racks where possible.'),
  key('replica.selector.class', 'class', null, 'How a partition leader picks the replica a consumer should fetch from (KIP-392): RackAwareReplicaSelector sends consumers with client.rack to an in-sync replica on their rack; unset, the leader serves every consumer.', oneOf(LEADER_SELECTOR, RACK_AWARE_SELECTOR)),
  key('num.replica.fetchers', 'int', 1, 'How many fetchers replicate from each source broker.'),
  key('replica.fetch.wait.max.ms', 'int', 500, 'How long a follower fetch waits at the leader for data.', atLeast(0)),
  key('replica.fetch.min.bytes', 'int', 1, 'How many bytes a follower fetch waits for at the leader.', atLeast(1)),
  key('replica.fetch.max.bytes', 'int', 1048576, 'How many bytes a follower fetches from one partition at most (at least one batch).', atLeast(0)),
  key('replica.fetch.response.max.bytes', 'int', 10485760, 'How many bytes one follower fetch response holds at most (at least one batch).', atLeast(0)),
  key('replica.fetch.backoff.ms', 'int', 1000, 'How long a follower waits after a failed fetch before the next.', atLeast(0)),
  key('replica.socket.timeout.ms', 'int', 30000, 'How long a follower fetch may take beyond its wait before it fails.', atLeast(1)),
  key('replica.lag.time.max.ms', 'long', 30000, 'How long a follower may go without catching up with the leader before it leaves the ISR.', atLeast(1)),
  key('quota.window.num', 'int', 11, 'How many samples the client quotas (producer_byte_rate, consumer_byte_rate) keep in memory.', atLeast(1)),
  key('quota.window.size.seconds', 'int', 1, 'How long each sample of the client quotas covers, in seconds.', atLeast(1)),
  key('controller.quota.window.num', 'int', 11, 'How many samples the controller mutation quota (controller_mutation_rate) keeps in memory.', atLeast(1)),
  key('controller.quota.window.size.seconds', 'int', 1, 'How long each sample of the controller mutation quota covers, in seconds.', atLeast(1)),
  key('replication.quota.window.num', 'int', 11, 'How many samples the replication quotas (throttled.rate) keep in memory.', atLeast(1)),
  key('replication.quota.window.size.seconds', 'int', 1, 'How long each sample of the replication quotas covers, in seconds.', atLeast(1)),
  // Kafka 4.0 raised the default to 2 (KIP-1030).
  key('num.recovery.threads.per.data.dir', 'int', 2, 'How many threads per data directory recover logs at start-up.', atLeast(1)),
  // Conveyor's own: Kafka exposes JMX, which Prometheus reads through the JMX exporter; Conveyor serves the exporter's names itself.
  key('metrics.listeners', 'list', [], 'Where the Prometheus metrics endpoint (GET /metrics) listens, as http://host:port entries; empty: no endpoint, and no metrics are counted. `conveyor start` without a configuration file serves it on http://localhost:9404.', problemOf(parseMetricsListeners)),
  key('console.listeners', 'list', [], 'Where the web console (and the HTTP API it uses, Confluent REST Proxy v3) listens, as http://host:port entries; empty: no console. `conveyor start` without a configuration file serves it on http://localhost:8080.', problemOf(parseConsoleListeners)),
  key('console.connect.url', 'string', '', 'The REST URL of a Connect worker whose connectors the web console lists (e.g. http://localhost:8083); empty: no Connect page.', connectUrl),
  key('metric.reporters', 'list', ['org.apache.kafka.common.metrics.JmxReporter'], 'Classes that receive the broker\'s metrics.'),
  key('offsets.topic.num.partitions', 'int', 50, 'How many partitions __consumer_offsets is created with.', atLeast(1)),
  key('offsets.retention.minutes', 'int', 10080, 'How long committed offsets of an empty group are kept.', atLeast(1)),
  key('group.initial.rebalance.delay.ms', 'int', 3000, 'How long a new classic group waits for more members before its first rebalance.', atLeast(0)),
  key('group.min.session.timeout.ms', 'int', 6000, 'The shortest session timeout a classic group member may ask for.', atLeast(0)),
  key('group.max.session.timeout.ms', 'int', 1800000, 'The longest session timeout a classic group member may ask for.', atLeast(0)),
  key('group.max.size', 'int', INT_MAX, 'The most members one classic group may have.', atLeast(1)),
  // Kafka 4.2's default is classic,consumer,streams, with share groups on through share.version=1;
  // Conveyor serves no streams groups and has no share.version, so share takes streams' place.
  key('group.coordinator.rebalance.protocols', 'list', ['classic', 'consumer', 'share'], 'The group protocols the coordinator serves: classic (JoinGroup and SyncGroup), consumer (KIP-848 ConsumerGroupHeartbeat) and share (KIP-932 share groups: ShareGroupHeartbeat, ShareFetch, ShareAcknowledge); classic cannot be left out.', rebalanceProtocols),
  key('group.consumer.session.timeout.ms', 'int', 45000, 'How long a KIP-848 consumer group member may go without a heartbeat before it is removed.', atLeast(1)),
  key('group.consumer.min.session.timeout.ms', 'int', 45000, 'The lower bound of group.consumer.session.timeout.ms.', atLeast(1)),
  key('group.consumer.max.session.timeout.ms', 'int', 60000, 'The upper bound of group.consumer.session.timeout.ms.', atLeast(1)),
  key('group.consumer.heartbeat.interval.ms', 'int', 5000, 'How often KIP-848 consumer group members heartbeat (the coordinator tells them).', atLeast(1)),
  key('group.consumer.min.heartbeat.interval.ms', 'int', 5000, 'The lower bound of group.consumer.heartbeat.interval.ms.', atLeast(1)),
  key('group.consumer.max.heartbeat.interval.ms', 'int', 15000, 'The upper bound of group.consumer.heartbeat.interval.ms.', atLeast(1)),
  key('group.consumer.max.size', 'int', INT_MAX, 'The most members one KIP-848 consumer group may have.', atLeast(1)),
  key('group.consumer.migration.policy', 'string', 'bidirectional', 'Whether a group with members moves between the classic and the consumer protocols (Kafka 4.0\'s online migration): bidirectional, upgrade (classic to consumer only), downgrade (consumer to classic only) or disabled; case does not matter.', (value) => (typeof value === 'string' && !MIGRATION_POLICIES.includes(value.toLowerCase() as MigrationPolicy) ? `must be one of ${MIGRATION_POLICIES.join(', ')}, got '${value}'` : undefined)),
  key('group.consumer.assignors', 'list', ['uniform', 'range'], 'The server-side assignors KIP-848 consumer groups may use, the first being the default: uniform and range, by name or by Kafka\'s class name.', serverAssignorList),
  // KIP-932 share groups: Kafka 4.2's GroupCoordinatorConfig, ShareGroupConfig and ShareCoordinatorConfig keys.
  key('group.share.enable', 'boolean', false, 'Serves share groups even when group.coordinator.rebalance.protocols does not list share (Kafka\'s internal switch, for tests).'),
  key('group.share.session.timeout.ms', 'int', 45000, 'How long a share group member may go without a heartbeat before it is removed.', atLeast(1)),
  key('group.share.min.session.timeout.ms', 'int', 45000, 'The lower bound of group.share.session.timeout.ms and of a group\'s share.session.timeout.ms.', atLeast(1)),
  key('group.share.max.session.timeout.ms', 'int', 60000, 'The upper bound of group.share.session.timeout.ms and of a group\'s share.session.timeout.ms.', atLeast(1)),
  key('group.share.heartbeat.interval.ms', 'int', 5000, 'How often share group members heartbeat (the coordinator tells them).', atLeast(1)),
  key('group.share.min.heartbeat.interval.ms', 'int', 5000, 'The lower bound of group.share.heartbeat.interval.ms and of a group\'s share.heartbeat.interval.ms.', atLeast(1)),
  key('group.share.max.heartbeat.interval.ms', 'int', 15000, 'The upper bound of group.share.heartbeat.interval.ms and of a group\'s share.heartbeat.interval.ms.', atLeast(1)),
  key('group.share.max.size', 'int', 200, 'The most members one share group may have.', between(1, 1000)),
  key('group.share.assignors', 'list', ['simple'], 'The server-side assignor share groups use: simple (Kafka\'s SimpleAssignor), the only one.', shareAssignorList),
  key('group.share.initialize.retry.interval.ms', 'int', 30000, 'How long the group coordinator waits before it asks again to initialize share-partition state that did not initialize.', atLeast(1)),
  key('group.share.partition.max.record.locks', 'int', 2000, 'The most in-flight records (acquired or awaiting redelivery) one share-partition may have.', between(100, 10000)),
  key('group.share.delivery.count.limit', 'int', 5, 'How often a record is delivered to a share group before it is archived.', between(2, 10)),
  key('group.share.record.lock.duration.ms', 'int', 30000, 'How long a share consumer holds the records it was given before they become available again.', between(1000, 3600000)),
  key('group.share.min.record.lock.duration.ms', 'int', 15000, 'The lower bound of group.share.record.lock.duration.ms and of a group\'s share.record.lock.duration.ms.', between(1000, 30000)),
  key('group.share.max.record.lock.duration.ms', 'int', 60000, 'The upper bound of group.share.record.lock.duration.ms and of a group\'s share.record.lock.duration.ms.', between(30000, 3600000)),
  key('group.share.max.share.sessions', 'int', 2000, 'The most share sessions one broker keeps.', atLeast(1)),
  key('share.coordinator.state.topic.num.partitions', 'int', 50, 'How many partitions __share_group_state is created with.', atLeast(1)),
  key('share.coordinator.state.topic.replication.factor', 'short', 3, 'The replication factor of __share_group_state, capped at the brokers there are when it is created.', atLeast(1)),
  key('share.coordinator.state.topic.min.isr', 'short', 2, 'The min.insync.replicas of __share_group_state.', atLeast(1)),
  key('share.coordinator.state.topic.segment.bytes', 'int', 104857600, 'The segment size of __share_group_state.', atLeast(1)),
  key('share.coordinator.snapshot.update.records.per.snapshot', 'int', 500, 'How many share-state updates follow a snapshot before the share coordinator writes a new snapshot.', atLeast(0)),
  // Conveyor's own: broker transforms (`conveyor transforms`, src/broker/transforms/).
  key('transforms.enabled', 'boolean', true, 'Whether this broker runs the transforms deployed with `conveyor transforms deploy` on the input partitions it leads.'),
  key('transforms.max.memory.mb', 'int', 1024, 'The largest heap (MB) one transform\'s worker thread may ask for; a deployment asking for more is paused with an error.', between(16, 65536)),
  key('fetch.max.bytes', 'int', 57671680, 'The most bytes the broker returns for one fetch request.', atLeast(1024)),
  key('transaction.state.log.num.partitions', 'int', 50, 'How many partitions __transaction_state is created with.', atLeast(1)),
  key('transaction.max.timeout.ms', 'int', 900000, 'The longest transaction timeout a producer may ask for.', atLeast(1)),
  key('transactional.id.expiration.ms', 'int', 604800000, 'How long an idle transactional id is kept.', atLeast(1)),
  key('transaction.abort.timed.out.transaction.cleanup.interval.ms', 'int', 10000, 'How often timed-out transactions are looked for and aborted.', atLeast(1)),
  key('transaction.partition.verification.enable', 'boolean', true, 'Whether a transactional write is checked against the partitions its transaction added.'),
  key('producer.id.expiration.ms', 'int', 86400000, 'How long the state of an idle producer id is kept.', atLeast(1)),
  key('producer.id.expiration.check.interval.ms', 'int', 600000, 'How often idle producer ids are looked for.', atLeast(1)),
  key('compression.type', 'string', 'producer', 'The default codec batches are stored with; producer keeps the producer\'s codec.', codecs),
  key('compression.gzip.level', 'int', -1, 'The default gzip level for recompression; -1 picks the codec default.', levelIn(1, 9, -1)),
  key('compression.lz4.level', 'int', 9, 'The default lz4 level for recompression.', levelIn(1, 17)),
  key('compression.zstd.level', 'int', 3, 'The default zstd level for recompression.', levelIn(-131072, 22)),
  key('log.cleanup.policy', 'list', ['delete'], 'The default cleanup: delete, compact, both, or an empty list for neither.', policies),
  key('log.retention.check.interval.ms', 'long', 300000, 'How often retention looks for segments to delete.', atLeast(1)),
  key('log.segment.delete.delay.ms', 'long', 60000, 'The default time a removed segment file lingers before deletion.', atLeast(0)),
  key('log.cleaner.enable', 'boolean', true, 'Whether the log cleaner runs for compacted topics.'),
  key('log.cleaner.threads', 'int', 1, 'How many cleaner threads run; 0 turns compaction off.', atLeast(0)),
  key('log.cleaner.backoff.ms', 'long', 15000, 'How long the cleaner sleeps when no log needs cleaning.', atLeast(0)),
  // Kafka's default is 128 MiB; Conveyor is often embedded (tests, small services), so 32 MiB.
  key('log.cleaner.dedupe.buffer.size', 'long', 32 * 1024 * 1024, 'The memory all cleaner threads share for their key to offset maps.', atLeast(1024 * 1024)),
  key('log.cleaner.io.buffer.size', 'int', 524288, 'The memory all cleaner threads share for reading and writing segments.', atLeast(0)),
  key('log.cleaner.io.buffer.load.factor', 'double', 0.9, 'How full a cleaner key map may get before a pass stops.'),
  key('log.cleaner.io.max.bytes.per.second', 'double', DOUBLE_MAX, 'The read and write rate the cleaner throttles itself to.'),
  key('log.cleaner.delete.retention.ms', 'long', 86400000, 'The default time a tombstone is kept after its first cleaning.', atLeast(0)),
  key('log.cleaner.min.compaction.lag.ms', 'long', 0, 'The default youngest age at which a record may be compacted.', atLeast(0)),
  key('log.cleaner.max.compaction.lag.ms', 'long', LONG_MAX_AS_FOREVER, 'The default longest time a record waits before compaction is forced.', atLeast(1)),
  key('log.cleaner.min.cleanable.ratio', 'double', 0.5, 'The default share of dirty bytes that makes a log worth cleaning.', between(0, 1)),
  key('min.insync.replicas', 'int', 1, 'The default number of in-sync replicas an acks=all write needs.', atLeast(1)),
  key('unclean.leader.election.enable', 'boolean', false, 'Whether, by default, a replica outside the ISR may become leader as a last resort.'),
  key('remote.log.index.file.cache.total.size.bytes', 'long', 1073741824, 'The disk space for cached indexes of remote segments.', atLeast(1)),
  key('remote.fetch.max.wait.ms', 'int', 500, 'How long a fetch that reads remote data may wait.', atLeast(1)),
  key('remote.log.manager.copy.max.bytes.per.second', 'long', LONG_MAX_AS_FOREVER, 'The rate at which segments are copied to remote storage.', atLeast(1)),
  key('remote.log.manager.fetch.max.bytes.per.second', 'long', LONG_MAX_AS_FOREVER, 'The rate at which data is read back from remote storage.', atLeast(1)),
  key('remote.list.offsets.request.timeout.ms', 'long', 30000, 'How long a ListOffsets that needs remote storage may take.', atLeast(1)),
  // Security keys: PLAINTEXT and SSL listeners (TLS from the ssl.* keys below, which a listener may
  // override as listener.name.<listener>.ssl.*); SASL keys below.
  key('authorizer.class.name', 'string', '', `The authorizer that decides every request (Kafka's StandardAuthorizer, ${'org.apache.kafka.metadata.authorizer.StandardAuthorizer'}); empty: none, every request is allowed.`, oneOf('', 'org.apache.kafka.metadata.authorizer.StandardAuthorizer')),
  key('super.users', 'string', '', 'Principals the authorizer allows everything, separated by semicolons: User:admin;User:CN=broker.'),
  key('allow.everyone.if.no.acl.found', 'boolean', false, 'Whether the authorizer allows an operation on a resource that no ACL names.'),
  key('principal.builder.class', 'class', 'org.apache.kafka.common.security.authenticator.DefaultKafkaPrincipalBuilder', 'The class that turns an authenticated connection into a principal.'),
  key('ssl.protocol', 'string', 'TLSv1.3', 'The TLS protocol used to build the SSL context.'),
  key('ssl.provider', 'string', null, 'The security provider for TLS, when not the default one.'),
  key('ssl.cipher.suites', 'list', [], 'The TLS cipher suites allowed; empty allows all the runtime offers.'),
  key('ssl.enabled.protocols', 'list', ['TLSv1.2', 'TLSv1.3'], 'The TLS protocol versions allowed on connections.'),
  key('ssl.keystore.type', 'string', 'JKS', 'The format of the key store file.'),
  key('ssl.keystore.location', 'string', null, 'The path of the key store holding the broker\'s certificate and key.'),
  key('ssl.keystore.password', 'password', null, 'The password of the key store file.'),
  key('ssl.key.password', 'password', null, 'The password of the private key in the key store.'),
  key('ssl.keystore.certificate.chain', 'password', null, 'The broker\'s certificate chain in PEM, instead of a key store file.'),
  key('ssl.keystore.key', 'password', null, 'The broker\'s private key in PEM, instead of a key store file.'),
  key('ssl.truststore.type', 'string', 'JKS', 'The format of the trust store file.'),
  key('ssl.truststore.location', 'string', null, 'The path of the trust store of certificates the broker trusts.'),
  key('ssl.truststore.password', 'password', null, 'The password of the trust store file.'),
  key('ssl.truststore.certificates', 'password', null, 'Trusted certificates in PEM, instead of a trust store file.'),
  key('ssl.keymanager.algorithm', 'string', 'SunX509', 'The key manager algorithm for TLS.'),
  key('ssl.trustmanager.algorithm', 'string', 'PKIX', 'The trust manager algorithm for TLS.'),
  key('ssl.endpoint.identification.algorithm', 'string', 'https', 'How a peer\'s host name is checked against its certificate; empty skips the check.'),
  key('ssl.secure.random.implementation', 'string', null, 'The random number generator used for TLS.'),
  key('ssl.client.auth', 'string', 'none', 'Whether clients must (required), may (requested) or need not (none) present a certificate.',
    oneOf('required', 'requested', 'none')),
  key('ssl.principal.mapping.rules', 'string', 'DEFAULT', 'How a client certificate\'s distinguished name becomes its principal\'s name: RULE:pattern/replacement/[LU] entries and DEFAULT.'),
  key('ssl.engine.factory.class', 'class', null, 'A class that builds TLS engines instead of the built-in one.'),
  key('sasl.mechanism.inter.broker.protocol', 'string', 'GSSAPI', 'The SASL mechanism brokers use with each other.'),
  key('sasl.mechanism.controller.protocol', 'string', 'GSSAPI', 'The SASL mechanism nodes use on the controller listener.'),
  key('sasl.server.max.receive.size', 'int', 524288, 'The largest request a client may send before it has authenticated with SASL.', atLeast(1)),
  key('sasl.jaas.config', 'password', null, 'The JAAS login settings for SASL, inline.'),
  key('sasl.enabled.mechanisms', 'list', ['GSSAPI'], 'The SASL mechanisms the broker accepts.'),
  key('sasl.kerberos.service.name', 'string', null, 'The Kerberos principal name the broker runs as.'),
  key('sasl.kerberos.kinit.cmd', 'string', '/usr/bin/kinit', 'The path of the kinit command.'),
  key('sasl.kerberos.ticket.renew.window.factor', 'double', 0.8, 'The share of a ticket\'s lifetime after which it is renewed.'),
  key('sasl.kerberos.ticket.renew.jitter', 'double', 0.05, 'A random share added to the Kerberos renewal time.'),
  key('sasl.kerberos.min.time.before.relogin', 'long', 60000, 'The least time between two Kerberos logins.'),
  key('sasl.kerberos.principal.to.local.rules', 'list', ['DEFAULT'], 'Rules that map Kerberos principal names to short names.'),
  key('sasl.login.refresh.window.factor', 'double', 0.8, 'The share of a login credential\'s lifetime after which it is refreshed.'),
  key('sasl.login.refresh.window.jitter', 'double', 0.05, 'A random share added to the credential refresh time.'),
  key('sasl.login.refresh.min.period.seconds', 'short', 60, 'The least time between two credential refreshes.'),
  key('sasl.login.refresh.buffer.seconds', 'short', 300, 'How long before expiry a credential is refreshed.'),
  // SASL/OAUTHBEARER (KIP-768): read per listener, also as listener.name.<listener>.sasl.oauthbearer.*
  // and listener.name.<listener>.oauthbearer.sasl.oauthbearer.*; Kafka's types and defaults.
  key('sasl.server.callback.handler.class', 'class', null, 'The class that checks SASL credentials, set per listener and mechanism: listener.name.<listener>.oauthbearer.sasl.server.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler validates OAUTHBEARER tokens as signed JWTs; unset, OAUTHBEARER takes unsigned tokens (development only).'),
  key('sasl.oauthbearer.jwks.endpoint.url', 'string', null, 'Where the OAuth provider\'s JSON Web Key Set is: an http(s) URL, fetched at start and refreshed, or a file: URL, read at start. The keys that verify OAUTHBEARER token signatures.'),
  key('sasl.oauthbearer.jwks.endpoint.refresh.ms', 'long', 3600000, 'How often an http(s) JWKS is fetched again; a token naming a key the set lacks fetches it sooner.'),
  key('sasl.oauthbearer.jwks.endpoint.retry.backoff.ms', 'long', 100, 'The first wait between attempts to fetch the JWKS; it doubles after each failure.'),
  key('sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms', 'long', 10000, 'How long attempts to fetch the JWKS go on before the fetch fails.'),
  key('sasl.oauthbearer.clock.skew.seconds', 'int', 30, 'How far the clocks of the OAuth provider and the broker may differ when exp, nbf and iat are checked.'),
  key('sasl.oauthbearer.expected.audience', 'list', null, 'The audiences an OAUTHBEARER token\'s aud claim must name one of; unset, a token with an aud claim is refused.'),
  key('sasl.oauthbearer.expected.issuer', 'string', null, 'The issuer an OAUTHBEARER token\'s iss claim must be; unset, any.'),
  key('sasl.oauthbearer.scope.claim.name', 'string', 'scope', 'The claim that holds an OAUTHBEARER token\'s scope.'),
  key('sasl.oauthbearer.sub.claim.name', 'string', 'sub', 'The claim that holds an OAUTHBEARER token\'s subject, the principal\'s name.'),
  key('conveyor.sasl.plain.users', 'password', null, 'Conveyor only: PLAIN users as name:password pairs separated by commas, a simpler form of the JAAS entry\'s user_<name> options (either or both).'),
  key('conveyor.tail.cache.bytes', 'long', 64 * 1024 * 1024, 'Conveyor only: the memory that caches recently appended batches for fetches.', between(0, 1024 * 1024 * 1024)),
];

/**
 * Kafka's broker quota keys (DynamicConfig.Broker, KIP-73): dynamic only, per broker or as the
 * cluster default, never in server.properties, and described only where set. Conveyor applies the
 * two replication throttle rates (src/replication/replication-quota.ts).
 */
export const brokerQuotaConfigKeys: readonly ConfigKey[] = [
  key('leader.replication.throttled.rate', 'long', LONG_MAX_AS_FOREVER,
    'The most bytes per second this broker sends to followers outside the ISR of the partitions its topics list in leader.replication.throttled.replicas (replication of every throttled partition counts).', atLeast(0)),
  key('follower.replication.throttled.rate', 'long', LONG_MAX_AS_FOREVER,
    'The most bytes per second this broker fetches as a follower outside the ISR of the partitions its topics list in follower.replication.throttled.replicas (replication of every throttled partition counts).', atLeast(0)),
];

/** How Kafka lets a broker key change at run time. */
export type DynamicMode = 'cluster-wide' | 'per-broker';

/**
 * Kafka 4.x's dynamically updatable broker keys (DynamicBrokerConfig.AllDynamicConfigs) and their
 * update mode. Conveyor applies the log defaults (the broker synonyms of topic configs) and
 * message.max.bytes at once; the others are stored as ConfigRecords and described, taking effect
 * at the next start where Conveyor reads them at all (thread counts and security keys: not yet).
 */
export const dynamicBrokerConfigs: ReadonlyMap<string, DynamicMode> = new Map<string, DynamicMode>([
  // Log defaults: the first broker synonym of every topic config (log.retention.hours, log.roll.hours
  // and the other unit variants stay read-only, as in Kafka).
  ...[
    'log.segment.bytes', 'log.roll.ms', 'log.roll.jitter.ms', 'log.index.size.max.bytes',
    'log.flush.interval.messages', 'log.flush.interval.ms', 'log.retention.bytes', 'log.retention.ms', 'message.max.bytes',
    'log.index.interval.bytes', 'log.cleaner.delete.retention.ms', 'log.cleaner.min.compaction.lag.ms', 'log.cleaner.max.compaction.lag.ms',
    'log.segment.delete.delay.ms', 'log.cleaner.min.cleanable.ratio', 'log.cleanup.policy', 'unclean.leader.election.enable',
    'min.insync.replicas', 'compression.type', 'compression.gzip.level', 'compression.lz4.level', 'compression.zstd.level',
    'log.preallocate', 'log.message.timestamp.type', 'log.message.timestamp.before.max.ms', 'log.message.timestamp.after.max.ms',
    'log.local.retention.ms', 'log.local.retention.bytes',
  ].map((name) => [name, 'cluster-wide'] as const),
  // The log cleaner.
  ...['log.cleaner.threads', 'log.cleaner.dedupe.buffer.size', 'log.cleaner.io.buffer.load.factor', 'log.cleaner.io.buffer.size',
    'log.cleaner.io.max.bytes.per.second', 'log.cleaner.backoff.ms'].map((name) => [name, 'cluster-wide'] as const),
  // Thread pools, metrics, connection limits, producer state, remote storage.
  ...['num.io.threads', 'num.replica.fetchers', 'num.recovery.threads.per.data.dir', 'background.threads', 'metric.reporters',
    'max.connections', 'max.connection.creation.rate', 'num.network.threads', 'max.connections.per.ip', 'max.connections.per.ip.overrides',
    'producer.id.expiration.ms', 'transaction.partition.verification.enable', 'remote.log.index.file.cache.total.size.bytes',
    'remote.fetch.max.wait.ms', 'remote.log.manager.copy.max.bytes.per.second', 'remote.log.manager.fetch.max.bytes.per.second',
    'remote.list.offsets.request.timeout.ms'].map((name) => [name, 'cluster-wide'] as const),
  // Listeners and security: per broker only.
  ...['advertised.listeners', 'listeners', 'listener.security.protocol.map', 'principal.builder.class', 'ssl.protocol', 'ssl.provider',
    'ssl.cipher.suites', 'ssl.enabled.protocols', 'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password',
    'ssl.truststore.type', 'ssl.truststore.location', 'ssl.truststore.password', 'ssl.keymanager.algorithm', 'ssl.trustmanager.algorithm',
    'ssl.endpoint.identification.algorithm', 'ssl.secure.random.implementation', 'ssl.client.auth', 'ssl.engine.factory.class',
    'ssl.keystore.certificate.chain', 'ssl.keystore.key', 'ssl.truststore.certificates',
    'sasl.mechanism.inter.broker.protocol', 'sasl.jaas.config', 'sasl.enabled.mechanisms', 'sasl.kerberos.service.name',
    'sasl.kerberos.kinit.cmd', 'sasl.kerberos.ticket.renew.window.factor', 'sasl.kerberos.ticket.renew.jitter',
    'sasl.kerberos.min.time.before.relogin', 'sasl.kerberos.principal.to.local.rules', 'sasl.login.refresh.window.factor',
    'sasl.login.refresh.window.jitter', 'sasl.login.refresh.min.period.seconds', 'sasl.login.refresh.buffer.seconds',
  ].map((name) => [name, 'per-broker'] as const),
  // Replication throttles (per broker or as the cluster default).
  ...brokerQuotaConfigKeys.map((configKey) => [configKey.name, 'cluster-wide'] as const),
]);

/** Kafka's key-store and trust-store keys: dynamic only with a listener prefix (listener.name.NAME.ssl...). */
export const listenerOnlySecurityKeys: ReadonlySet<string> = new Set([
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password', 'ssl.truststore.type',
  'ssl.truststore.location', 'ssl.truststore.password', 'ssl.keystore.certificate.chain', 'ssl.keystore.key', 'ssl.truststore.certificates',
]);

/** A listener-prefixed key (`listener.name.<listener>.<key>`) split into listener and base key. */
export function listenerPrefixed(name: string): { listener: string; baseName: string } | undefined {
  const match = /^listener\.name\.([^.]+)\.(.+)$/.exec(name);
  return match ? { listener: match[1]!, baseName: match[2]! } : undefined;
}

/**
 * Keys from Kafka's sample server.properties that Conveyor accepts without effect, so an existing
 * Kafka configuration starts unchanged. Each is a setting whose job Conveyor does differently
 * (socket buffers). The share coordinator's topic keys, once here, are read (shareGroups).
 */
export const acceptedWithoutEffect: ReadonlySet<string> = new Set([
  'socket.send.buffer.bytes',
  'socket.receive.buffer.bytes',
]);

const keysByName = new Map(brokerConfigKeys.map((configKey) => [configKey.name, configKey]));

/** Kafka's security protocols; Conveyor serves PLAINTEXT and SSL (SASL is not served yet). */
export type SecurityProtocol = 'PLAINTEXT' | 'SSL' | 'SASL_PLAINTEXT' | 'SASL_SSL';
const SECURITY_PROTOCOLS: readonly SecurityProtocol[] = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

/** One SASL listener's settings: its mechanisms and, for PLAIN, its users and their passwords. */
export interface SaslSettings {
  readonly mechanisms: readonly string[];
  /** PLAIN's users (user_<name>="<password>" in the listener's plain.sasl.jaas.config). */
  readonly plainUsers: ReadonlyMap<string, string>;
  /** How OAUTHBEARER tokens are validated, when the listener enables OAUTHBEARER. */
  readonly oauthBearer?: OAuthBearerSettings;
}

/** One TLS listener's settings: the broker's ssl.* keys under the listener's own (listener.name.<listener>.ssl.*). */
/** A listener's key and trust stores, versions and suites (src/base/tls-stores.ts), and what only a broker listener has. */
export interface SslSettings extends TlsStoreSettings {
  readonly clientAuth: 'none' | 'requested' | 'required';
  /** ssl.cipher.suites, resolved to OpenSSL names; null when empty (every suite the runtime offers). */
  readonly cipherSuites: CipherSuites | null;
  /** ssl.principal.mapping.rules: how a client certificate's distinguished name becomes a principal name. */
  readonly principalMapper: SslPrincipalMapper;
  /** ssl.endpoint.identification.algorithm: `https` checks a peer's host name against its certificate, empty does not. */
  readonly endpointIdentification: string;
}

/** The authorizer's settings (authorizer.class.name set to Kafka's StandardAuthorizer). */
export interface AuthorizerSettings {
  readonly superUsers: readonly string[];
  readonly allowEveryoneIfNoAclFound: boolean;
}

export interface BrokerConfig {
  /** The ACL authorizer, or null when authorizer.class.name is empty (every request is allowed). */
  authorizer: AuthorizerSettings | null;
  /** sasl.server.max.receive.size: the largest request before SASL authentication. */
  saslServerMaxReceiveSize: number;
  /** connections.max.reauth.ms: a SASL session's lifetime (KIP-368); 0 for the connection's life. */
  connectionsMaxReauthMs: number;
  /** Each listener's security protocol (listener.security.protocol.map), by upper-case name. */
  listenerSecurityProtocols: ReadonlyMap<string, SecurityProtocol>;
  /** The TLS settings of each SSL and SASL_SSL listener, by name. */
  listenerSsl: ReadonlyMap<string, SslSettings>;
  /** The SASL settings of each SASL_PLAINTEXT and SASL_SSL listener, by name. */
  listenerSasl: ReadonlyMap<string, SaslSettings>;
  /**
   * How this node logs in to other nodes' SASL listeners (the inter-broker and controller
   * listeners): sasl.mechanism.inter.broker.protocol / sasl.mechanism.controller.protocol, with the
   * username and password of that mechanism's JAAS entry for the listener.
   */
  nodeSasl: ReadonlyMap<string, SaslCredentials>;
  nodeId: number;
  processRoles: ('broker' | 'controller')[];
  /** The fixed voter set (controller.quorum.voters); empty when not set. */
  controllerQuorumVoters: ControllerQuorumVoter[];
  /** Where to find the quorum instead of a fixed voter set (controller.quorum.bootstrap.servers). */
  controllerQuorumBootstrapServers: HostAndPort[];
  /** controller.listener.names, upper-cased; brokers reach the controllers through the first. */
  controllerListenerNames: string[];
  /** inter.broker.listener.name, upper-cased; null means the first listener that is not a controller listener. */
  interBrokerListenerName: string | null;
  controllerQuorumElectionTimeoutMs: number;
  controllerQuorumFetchTimeoutMs: number;
  controllerQuorumElectionBackoffMaxMs: number;
  controllerQuorumRequestTimeoutMs: number;
  controllerQuorumRetryBackoffMs: number;
  brokerHeartbeatIntervalMs: number;
  brokerSessionTimeoutMs: number;
  metadataLogMaxRecordBytesBetweenSnapshots: number;
  metadataMaxIdleIntervalMs: number;
  autoLeaderRebalanceEnable: boolean;
  leaderImbalanceCheckIntervalSeconds: number;
  uncleanLeaderElectionEnable: boolean;
  listeners: string;
  advertisedListeners: string | null;
  /** metrics.listeners: the Prometheus endpoint's addresses (empty: none, and nothing counted). */
  metricsListeners: readonly HostAndPort[];
  /** console.listeners: the web console's addresses (empty: none). */
  consoleListeners: readonly HostAndPort[];
  /** console.connect.url: a Connect REST URL for the console's Connect page, or '' for none. */
  consoleConnectUrl: string;
  /** The first log directory (the metadata log's, as Kafka's metadata.log.dir defaults to it). */
  logDir: string;
  /** Every log directory (log.dirs, else log.dir), logDir first. */
  logDirs: string[];
  numPartitions: number;
  defaultReplicationFactor: number;
  offsetsTopicReplicationFactor: number;
  transactionStateLogReplicationFactor: number;
  transactionStateLogMinIsr: number;
  /** broker.rack, or null. */
  brokerRack: string | null;
  /** replica.selector.class: true for Kafka's RackAwareReplicaSelector. */
  rackAwareReplicaSelector: boolean;
  replicaFetchWaitMaxMs: number;
  replicaFetchMinBytes: number;
  replicaFetchMaxBytes: number;
  replicaFetchResponseMaxBytes: number;
  replicaFetchBackoffMs: number;
  replicaSocketTimeoutMs: number;
  replicaLagTimeMaxMs: number;
  /** quota.window.num and quota.window.size.seconds: the client quotas' samples. */
  quotaWindowNum: number;
  quotaWindowSizeSeconds: number;
  /** controller.quota.window.num and .size.seconds: controller_mutation_rate's token bucket holds quota x samples x size. */
  controllerQuotaWindowNum: number;
  controllerQuotaWindowSizeSeconds: number;
  /** replication.quota.window.num and .size.seconds: the replication quotas' samples (KIP-73). */
  replicationQuotaWindowNum: number;
  replicationQuotaWindowSizeSeconds: number;
  autoCreateTopicsEnable: boolean;
  deleteTopicEnable: boolean;
  messageMaxBytes: number;
  logSegmentBytes: number;
  logRollMs: number;
  logIndexSizeMaxBytes: number;
  logIndexIntervalBytes: number;
  logFlushIntervalMessages: number;
  logFlushIntervalMs: number;
  logRetentionMs: number;
  logRetentionBytes: number;
  logMessageTimestampType: 'CreateTime' | 'LogAppendTime';
  logCleanupPolicy: ('delete' | 'compact')[];
  logRetentionCheckIntervalMs: number;
  logSegmentDeleteDelayMs: number;
  logCleanerEnable: boolean;
  logCleanerBackoffMs: number;
  logCleanerDedupeBufferSize: number;
  logCleanerDeleteRetentionMs: number;
  logCleanerMinCompactionLagMs: number;
  logCleanerMaxCompactionLagMs: number;
  logCleanerMinCleanableRatio: number;
  socketRequestMaxBytes: number;
  connectionsMaxIdleMs: number;
  /** max.connections: at the limit, accepting waits (src/broker/network/connection-quotas.ts). */
  maxConnections: number;
  /** max.connection.creation.rate, new connections per second. */
  maxConnectionCreationRate: number;
  maxConnectionsPerIp: number;
  /** max.connections.per.ip.overrides, by host as written (IP literal or host name). */
  maxConnectionsPerIpOverrides: ReadonlyMap<string, number>;
  /** Each listener's own max.connections and max.connection.creation.rate (listener.name.<listener>.*), by upper-case name. */
  listenerConnectionLimits: ReadonlyMap<string, ListenerConnectionLimits>;
  offsetsTopicNumPartitions: number;
  offsetsRetentionMinutes: number;
  groupInitialRebalanceDelayMs: number;
  groupMinSessionTimeoutMs: number;
  groupMaxSessionTimeoutMs: number;
  groupMaxSize: number;
  /** KIP-848 consumer groups (group.consumer.*); served when group.coordinator.rebalance.protocols lists consumer. */
  consumerGroups: {
    enabled: boolean;
    sessionTimeoutMs: number;
    /** group.consumer.min/max.session.timeout.ms: also the bounds of a group's consumer.session.timeout.ms. */
    minSessionTimeoutMs: number;
    maxSessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    minHeartbeatIntervalMs: number;
    maxHeartbeatIntervalMs: number;
    maxSize: number;
    assignors: string[];
    migrationPolicy: MigrationPolicy;
  };
  /**
   * KIP-932 share groups (group.share.*, share.coordinator.*); served when
   * group.coordinator.rebalance.protocols lists share or group.share.enable is set. The min/max
   * keys also bound a group's own share.* configs (src/metadata/group-configs.ts).
   */
  shareGroups: {
    enabled: boolean;
    sessionTimeoutMs: number;
    minSessionTimeoutMs: number;
    maxSessionTimeoutMs: number;
    heartbeatIntervalMs: number;
    minHeartbeatIntervalMs: number;
    maxHeartbeatIntervalMs: number;
    maxSize: number;
    assignors: string[];
    initializeRetryIntervalMs: number;
    partitionMaxRecordLocks: number;
    deliveryCountLimit: number;
    recordLockDurationMs: number;
    minRecordLockDurationMs: number;
    maxRecordLockDurationMs: number;
    maxShareSessions: number;
    stateTopicNumPartitions: number;
    stateTopicReplicationFactor: number;
    stateTopicMinIsr: number;
    stateTopicSegmentBytes: number;
    snapshotUpdateRecordsPerSnapshot: number;
  };
  /** transforms.enabled and transforms.max.memory.mb: the broker transforms this broker runs. */
  transforms: { enabled: boolean; maxMemoryMb: number };
  fetchMaxBytes: number;
  compressionType: string;
  minInsyncReplicas: number;
  tailCacheBytes: number;
  transactionStateLogNumPartitions: number;
  transactionMaxTimeoutMs: number;
  transactionalIdExpirationMs: number;
  transactionAbortTimedOutTransactionCleanupIntervalMs: number;
  producerIdExpirationMs: number;
  producerIdExpirationCheckIntervalMs: number;
  /** The raw values by Kafka key, after defaults, for DescribeConfigs. */
  values: ReadonlyMap<string, ConfigValue>;
  /** Keys the operator set explicitly. */
  explicitKeys: ReadonlySet<string>;
}

export type ConfigInput = Record<string, string | number | boolean> | ReadonlyMap<string, string>;

function entriesOf(input: ConfigInput): [string, string][] {
  const entries = input instanceof Map ? [...input.entries()] : Object.entries(input);
  return entries.map(([name, value]) => [name, String(value)]);
}

/** Validates `input` (Kafka keys to textual values) and returns the typed config with defaults. */
export function resolveBrokerConfig(input: ConfigInput = {}): BrokerConfig {
  const values = new Map<string, ConfigValue>();
  const explicitKeys = new Set<string>();
  const listenerValues = new Map<string, Map<string, ConfigValue>>();
  for (const [name, text] of entriesOf(input)) {
    if (acceptedWithoutEffect.has(name)) continue;
    // A listener's own TLS settings (Kafka's listener.name.<listener>.ssl.*), over the broker's.
    // And its SASL settings: listener.name.<listener>.sasl.enabled.mechanisms, and each mechanism's
    // users as listener.name.<listener>.<mechanism>.sasl.jaas.config; each mechanism's
    // sasl.server.callback.handler.class; the sasl.oauthbearer.* keys, with or without the
    // oauthbearer. mechanism prefix.
    const prefixed = listenerPrefixed(name);
    const mechanismKey = prefixed && /^[a-z0-9-]+\.(sasl\.jaas\.config|sasl\.server\.callback\.handler\.class)$/.exec(prefixed.baseName);
    const oauthBearerKey = prefixed && /^(?:oauthbearer\.)?(sasl\.oauthbearer\..+)$/.exec(prefixed.baseName);
    const baseKey = mechanismKey
      ? keysByName.get(mechanismKey[1]!)
      : oauthBearerKey
        ? keysByName.get(oauthBearerKey[1]!)
        : prefixed && (prefixed.baseName.startsWith('ssl.') || prefixed.baseName === 'sasl.enabled.mechanisms' || listenerConnectionKeys.has(prefixed.baseName)) ? keysByName.get(prefixed.baseName) : undefined;
    if (prefixed && baseKey) {
      const listener = prefixed.listener.toUpperCase();
      const own = listenerValues.get(listener) ?? new Map<string, ConfigValue>();
      const value = checkedConfigValue({ ...baseKey, name }, text);
      own.set(prefixed.baseName, value);
      listenerValues.set(listener, own);
      // Under its own name too, as every explicit key: DescribeConfigs' static value of it, and the
      // text the effective broker config (dynamic configs applied) is resolved from again.
      values.set(name, value);
      explicitKeys.add(name);
      continue;
    }
    const configKey = keysByName.get(name);
    if (!configKey) throw new ConfigError(name, 'unknown configuration key');
    values.set(name, checkedConfigValue(configKey, text));
    explicitKeys.add(name);
  }
  for (const configKey of brokerConfigKeys) {
    if (!values.has(configKey.name)) values.set(configKey.name, configKey.defaultValue);
  }
  return buildBrokerConfig(values, explicitKeys, listenerValues);
}

function firstDefined(...candidates: (number | null | undefined)[]): number {
  for (const candidate of candidates) if (candidate !== null && candidate !== undefined) return candidate;
  return Number.POSITIVE_INFINITY;
}

function buildBrokerConfig(values: Map<string, ConfigValue>, explicitKeys: Set<string>, listenerValues: ReadonlyMap<string, ReadonlyMap<string, ConfigValue>> = new Map()): BrokerConfig {
  const get = <T extends ConfigValue>(name: string) => values.get(name) as T;
  const logDirs = get<string[] | null>('log.dirs');
  if (logDirs && logDirs.length === 0) throw new ConfigError('log.dirs', 'names no directory');
  if (logDirs && new Set(logDirs).size !== logDirs.length) throw new ConfigError('log.dirs', `names a directory twice: ${logDirs.join(',')}`);
  const retentionMinutes = get<number | null>('log.retention.minutes');
  const retentionMs = firstDefined(
    get<number | null>('log.retention.ms'),
    retentionMinutes === null ? null : retentionMinutes * 60_000,
    get<number>('log.retention.hours') * 3_600_000,
  );
  const flushMs = get<number | null>('log.flush.interval.ms');
  const quorum = quorumSettings(get);
  const securityProtocols = listenerSecurityProtocols(get('listener.security.protocol.map'), get('listeners'), quorum.controllerListenerNames, explicitKeys.has('listener.security.protocol.map'));
  checkControllerLinks(quorum, securityProtocols, get('listeners'));
  const listenerSasl = new Map([...securityProtocols].filter(([, protocol]) => protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL').map(([listener]) => [listener, saslSettings(listener, get, listenerValues.get(listener))]));
  return {
    nodeId: get('node.id'),
    authorizer: authorizerSettings(get),
    listenerSecurityProtocols: securityProtocols,
    saslServerMaxReceiveSize: get('sasl.server.max.receive.size'),
    listenerSsl: new Map([...securityProtocols].filter(([, protocol]) => protocol === 'SSL' || protocol === 'SASL_SSL').map(([listener]) => [listener, sslSettings(listener, get, listenerValues.get(listener))])),
    listenerSasl,
    nodeSasl: nodeSaslLogins(quorum, securityProtocols, listenerSasl, get, listenerValues, get('listeners')),
    ...quorum,
    controllerQuorumElectionTimeoutMs: get('controller.quorum.election.timeout.ms'),
    controllerQuorumFetchTimeoutMs: get('controller.quorum.fetch.timeout.ms'),
    controllerQuorumElectionBackoffMaxMs: get('controller.quorum.election.backoff.max.ms'),
    controllerQuorumRequestTimeoutMs: get('controller.quorum.request.timeout.ms'),
    controllerQuorumRetryBackoffMs: get('controller.quorum.retry.backoff.ms'),
    brokerHeartbeatIntervalMs: get('broker.heartbeat.interval.ms'),
    brokerSessionTimeoutMs: get('broker.session.timeout.ms'),
    metadataLogMaxRecordBytesBetweenSnapshots: get('metadata.log.max.record.bytes.between.snapshots'),
    metadataMaxIdleIntervalMs: get('metadata.max.idle.interval.ms'),
    autoLeaderRebalanceEnable: get('auto.leader.rebalance.enable'),
    leaderImbalanceCheckIntervalSeconds: get('leader.imbalance.check.interval.seconds'),
    uncleanLeaderElectionEnable: get('unclean.leader.election.enable'),
    listeners: get('listeners'),
    advertisedListeners: get('advertised.listeners'),
    metricsListeners: parsed('metrics.listeners', parseMetricsListeners(get<string[]>('metrics.listeners'))),
    consoleListeners: parsed('console.listeners', parseConsoleListeners(get<string[]>('console.listeners'))),
    consoleConnectUrl: get('console.connect.url'),
    logDir: logDirs?.[0] ?? get('log.dir'),
    logDirs: logDirs ?? [get('log.dir')],
    numPartitions: get('num.partitions'),
    defaultReplicationFactor: get('default.replication.factor'),
    offsetsTopicReplicationFactor: get('offsets.topic.replication.factor'),
    transactionStateLogReplicationFactor: get('transaction.state.log.replication.factor'),
    transactionStateLogMinIsr: get('transaction.state.log.min.isr'),
    brokerRack: get<string | null>('broker.rack') || null,
    rackAwareReplicaSelector: get<string | null>('replica.selector.class') === RACK_AWARE_SELECTOR,
    replicaFetchWaitMaxMs: get('replica.fetch.wait.max.ms'),
    replicaFetchMinBytes: get('replica.fetch.min.bytes'),
    replicaFetchMaxBytes: get('replica.fetch.max.bytes'),
    replicaFetchResponseMaxBytes: get('replica.fetch.response.max.bytes'),
    replicaFetchBackoffMs: get('replica.fetch.backoff.ms'),
    replicaSocketTimeoutMs: get('replica.socket.timeout.ms'),
    replicaLagTimeMaxMs: get('replica.lag.time.max.ms'),
    quotaWindowNum: get('quota.window.num'),
    quotaWindowSizeSeconds: get('quota.window.size.seconds'),
    controllerQuotaWindowNum: get('controller.quota.window.num'),
    controllerQuotaWindowSizeSeconds: get('controller.quota.window.size.seconds'),
    replicationQuotaWindowNum: get('replication.quota.window.num'),
    replicationQuotaWindowSizeSeconds: get('replication.quota.window.size.seconds'),
    autoCreateTopicsEnable: get('auto.create.topics.enable'),
    deleteTopicEnable: get('delete.topic.enable'),
    messageMaxBytes: get('message.max.bytes'),
    logSegmentBytes: get('log.segment.bytes'),
    logRollMs: get<number | null>('log.roll.ms') ?? get<number>('log.roll.hours') * 3_600_000,
    logIndexSizeMaxBytes: get('log.index.size.max.bytes'),
    logIndexIntervalBytes: get('log.index.interval.bytes'),
    logFlushIntervalMessages: get('log.flush.interval.messages'),
    logFlushIntervalMs: flushMs ?? Number.POSITIVE_INFINITY,
    logRetentionMs: retentionMs < 0 ? Number.POSITIVE_INFINITY : retentionMs,
    logRetentionBytes: get('log.retention.bytes'),
    logMessageTimestampType: get('log.message.timestamp.type'),
    logCleanupPolicy: get('log.cleanup.policy'),
    logRetentionCheckIntervalMs: get('log.retention.check.interval.ms'),
    logSegmentDeleteDelayMs: get('log.segment.delete.delay.ms'),
    logCleanerEnable: get('log.cleaner.enable'),
    logCleanerBackoffMs: get('log.cleaner.backoff.ms'),
    logCleanerDedupeBufferSize: get('log.cleaner.dedupe.buffer.size'),
    logCleanerDeleteRetentionMs: get('log.cleaner.delete.retention.ms'),
    logCleanerMinCompactionLagMs: get('log.cleaner.min.compaction.lag.ms'),
    logCleanerMaxCompactionLagMs: get('log.cleaner.max.compaction.lag.ms'),
    logCleanerMinCleanableRatio: get('log.cleaner.min.cleanable.ratio'),
    socketRequestMaxBytes: get('socket.request.max.bytes'),
    connectionsMaxIdleMs: get('connections.max.idle.ms'),
    connectionsMaxReauthMs: get('connections.max.reauth.ms'),
    ...connectionLimitSettings(get, listenerValues),
    offsetsTopicNumPartitions: get('offsets.topic.num.partitions'),
    offsetsRetentionMinutes: get('offsets.retention.minutes'),
    groupInitialRebalanceDelayMs: get('group.initial.rebalance.delay.ms'),
    groupMinSessionTimeoutMs: get('group.min.session.timeout.ms'),
    groupMaxSessionTimeoutMs: get('group.max.session.timeout.ms'),
    groupMaxSize: get('group.max.size'),
    consumerGroups: consumerGroupSettings(get),
    shareGroups: shareGroupSettings(get),
    transforms: { enabled: get('transforms.enabled'), maxMemoryMb: get('transforms.max.memory.mb') },
    fetchMaxBytes: get('fetch.max.bytes'),
    compressionType: get('compression.type'),
    minInsyncReplicas: get('min.insync.replicas'),
    tailCacheBytes: get('conveyor.tail.cache.bytes'),
    transactionStateLogNumPartitions: get('transaction.state.log.num.partitions'),
    transactionMaxTimeoutMs: get('transaction.max.timeout.ms'),
    transactionalIdExpirationMs: get('transactional.id.expiration.ms'),
    transactionAbortTimedOutTransactionCleanupIntervalMs: get('transaction.abort.timed.out.transaction.cleanup.interval.ms'),
    producerIdExpirationMs: get('producer.id.expiration.ms'),
    producerIdExpirationCheckIntervalMs: get('producer.id.expiration.check.interval.ms'),
    values,
    explicitKeys,
  };
}

/**
 * A cross-key rule Kafka's KafkaConfig states with `require` (validateValues), broken: at start the
 * key is named as in every ConfigError; a dynamic broker config that breaks it is refused with
 * Kafka's words, "requirement failed: " and `requirement` (config-resources.ts).
 */
export class ConfigRequirementError extends ConfigError {
  override name = 'ConfigRequirementError';
  /** The rule as Kafka's `require` words it. */
  readonly requirement: string;

  constructor(key: string, message: string, requirement: string) {
    super(key, message);
    this.requirement = requirement;
  }
}

type Getter = <T extends ConfigValue>(name: string) => T;

/**
 * Kafka's `require` that `name` lies within its min and max keys (GroupCoordinatorConfig,
 * ShareGroupConfig), in Kafka's words, naming the key.
 */
function within(get: Getter, name: string, min: string, max: string): number {
  const value = get<number>(name);
  if (get<number>(max) < get<number>(min)) {
    throw new ConfigRequirementError(max, `must be at least ${min} (${get<number>(min)}), got ${get<number>(max)}`, `${max} must be greater than or equal to ${min}`);
  }
  if (value < get<number>(min)) throw new ConfigRequirementError(name, `must be at least ${min} (${get<number>(min)}), got ${value}`, `${name} must be greater than or equal to ${min}`);
  if (value > get<number>(max)) throw new ConfigRequirementError(name, `must be at most ${max} (${get<number>(max)}), got ${value}`, `${name} must be less than or equal to ${max}`);
  return value;
}

/** Kafka's rule that a group's heartbeat interval is shorter than its session timeout. */
function heartbeatBelowSession(heartbeatKey: string, heartbeatIntervalMs: number, sessionKey: string, sessionTimeoutMs: number): void {
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new ConfigRequirementError(heartbeatKey, `must be less than ${sessionKey} (${sessionTimeoutMs}), got ${heartbeatIntervalMs}`, `${heartbeatKey} must be less than ${sessionKey}`);
  }
}

/** group.consumer.*, with Kafka's rules that the session timeout and heartbeat interval stay within their bounds. */
function consumerGroupSettings(get: Getter): BrokerConfig['consumerGroups'] {
  const sessionTimeoutMs = within(get, 'group.consumer.session.timeout.ms', 'group.consumer.min.session.timeout.ms', 'group.consumer.max.session.timeout.ms');
  const heartbeatIntervalMs = within(get, 'group.consumer.heartbeat.interval.ms', 'group.consumer.min.heartbeat.interval.ms', 'group.consumer.max.heartbeat.interval.ms');
  heartbeatBelowSession('group.consumer.heartbeat.interval.ms', heartbeatIntervalMs, 'group.consumer.session.timeout.ms', sessionTimeoutMs);
  return {
    enabled: get<string[]>('group.coordinator.rebalance.protocols').includes('consumer'),
    sessionTimeoutMs,
    minSessionTimeoutMs: get('group.consumer.min.session.timeout.ms'),
    maxSessionTimeoutMs: get('group.consumer.max.session.timeout.ms'),
    heartbeatIntervalMs,
    minHeartbeatIntervalMs: get('group.consumer.min.heartbeat.interval.ms'),
    maxHeartbeatIntervalMs: get('group.consumer.max.heartbeat.interval.ms'),
    maxSize: get('group.consumer.max.size'),
    assignors: get<string[]>('group.consumer.assignors'),
    migrationPolicy: get<string>('group.consumer.migration.policy').toLowerCase() as MigrationPolicy,
  };
}

/**
 * group.share.* and share.coordinator.*, with Kafka 4.2's rules across keys
 * (GroupCoordinatorConfig and ShareGroupConfig): session timeout, heartbeat interval and record
 * lock duration within their min and max, the heartbeat shorter than the session, and at least as
 * many share sessions per broker as members one group may have.
 */
function shareGroupSettings(get: Getter): BrokerConfig['shareGroups'] {
  const sessionTimeoutMs = within(get, 'group.share.session.timeout.ms', 'group.share.min.session.timeout.ms', 'group.share.max.session.timeout.ms');
  const heartbeatIntervalMs = within(get, 'group.share.heartbeat.interval.ms', 'group.share.min.heartbeat.interval.ms', 'group.share.max.heartbeat.interval.ms');
  heartbeatBelowSession('group.share.heartbeat.interval.ms', heartbeatIntervalMs, 'group.share.session.timeout.ms', sessionTimeoutMs);
  const recordLockDurationMs = within(get, 'group.share.record.lock.duration.ms', 'group.share.min.record.lock.duration.ms', 'group.share.max.record.lock.duration.ms');
  const maxSize = get<number>('group.share.max.size');
  const maxShareSessions = get<number>('group.share.max.share.sessions');
  if (maxShareSessions < maxSize) {
    throw new ConfigRequirementError('group.share.max.share.sessions', `must be at least group.share.max.size (${maxSize}), got ${maxShareSessions}`, 'group.share.max.share.sessions must be greater than or equal to group.share.max.size');
  }
  return {
    enabled: get<string[]>('group.coordinator.rebalance.protocols').includes('share') || get<boolean>('group.share.enable'),
    sessionTimeoutMs,
    minSessionTimeoutMs: get('group.share.min.session.timeout.ms'),
    maxSessionTimeoutMs: get('group.share.max.session.timeout.ms'),
    heartbeatIntervalMs,
    minHeartbeatIntervalMs: get('group.share.min.heartbeat.interval.ms'),
    maxHeartbeatIntervalMs: get('group.share.max.heartbeat.interval.ms'),
    maxSize,
    assignors: get<string[]>('group.share.assignors'),
    initializeRetryIntervalMs: get('group.share.initialize.retry.interval.ms'),
    partitionMaxRecordLocks: get('group.share.partition.max.record.locks'),
    deliveryCountLimit: get('group.share.delivery.count.limit'),
    recordLockDurationMs,
    minRecordLockDurationMs: get('group.share.min.record.lock.duration.ms'),
    maxRecordLockDurationMs: get('group.share.max.record.lock.duration.ms'),
    maxShareSessions,
    stateTopicNumPartitions: get('share.coordinator.state.topic.num.partitions'),
    stateTopicReplicationFactor: get('share.coordinator.state.topic.replication.factor'),
    stateTopicMinIsr: get('share.coordinator.state.topic.min.isr'),
    stateTopicSegmentBytes: get('share.coordinator.state.topic.segment.bytes'),
    snapshotUpdateRecordsPerSnapshot: get('share.coordinator.snapshot.update.records.per.snapshot'),
  };
}

/** Kafka's connection limits, with its rule that max.connections.per.ip=0 needs overrides. */
function connectionLimitSettings(
  get: <T extends ConfigValue>(name: string) => T,
  listenerValues: ReadonlyMap<string, ReadonlyMap<string, ConfigValue>>,
): Pick<BrokerConfig, 'maxConnections' | 'maxConnectionCreationRate' | 'maxConnectionsPerIp' | 'maxConnectionsPerIpOverrides' | 'listenerConnectionLimits'> {
  const overrides = parseIpOverrides(get<string>('max.connections.per.ip.overrides'));
  if (typeof overrides === 'string') throw new ConfigError('max.connections.per.ip.overrides', overrides);
  const perIp = get<number>('max.connections.per.ip');
  if (perIp === 0 && overrides.size === 0) {
    throw new ConfigRequirementError(
      'max.connections.per.ip',
      'can be set to zero only if max.connections.per.ip.overrides property is set',
      'max.connections.per.ip can be set to zero only if max.connections.per.ip.overrides property is set.',
    );
  }
  const listenerConnectionLimits = new Map<string, ListenerConnectionLimits>();
  for (const [listener, values] of listenerValues) {
    const maxConnections = values.get('max.connections');
    const maxConnectionCreationRate = values.get('max.connection.creation.rate');
    if (typeof maxConnections !== 'number' && typeof maxConnectionCreationRate !== 'number') continue;
    listenerConnectionLimits.set(listener, {
      ...(typeof maxConnections === 'number' ? { maxConnections } : {}),
      ...(typeof maxConnectionCreationRate === 'number' ? { maxConnectionCreationRate } : {}),
    });
  }
  return {
    maxConnections: get('max.connections'),
    maxConnectionCreationRate: get('max.connection.creation.rate'),
    maxConnectionsPerIp: perIp,
    maxConnectionsPerIpOverrides: overrides,
    listenerConnectionLimits,
  };
}

type QuorumSettings = Pick<BrokerConfig, 'processRoles' | 'controllerQuorumVoters' | 'controllerQuorumBootstrapServers' | 'controllerListenerNames' | 'interBrokerListenerName'>;

function parsed<T>(name: string, result: T[] | string): T[] {
  if (typeof result === 'string') throw new ConfigError(name, result);
  return result;
}

/**
 * The KRaft keys, checked against each other as Kafka does once a quorum is configured (voters or
 * bootstrap servers): a node with neither is a quorum of one and needs no controller listener.
 */
function quorumSettings(get: <T extends ConfigValue>(name: string) => T): QuorumSettings {
  const settings: QuorumSettings = {
    processRoles: [...new Set(get<string[]>('process.roles'))] as ('broker' | 'controller')[],
    controllerQuorumVoters: parsed('controller.quorum.voters', parseVoters(get<string[]>('controller.quorum.voters'))),
    controllerQuorumBootstrapServers: parsed('controller.quorum.bootstrap.servers', parseBootstrapServers(get<string[]>('controller.quorum.bootstrap.servers'))),
    controllerListenerNames: listenerNames(get<string | null>('controller.listener.names')),
    interBrokerListenerName: get<string | null>('inter.broker.listener.name')?.toUpperCase() || null,
  };
  if (settings.controllerQuorumVoters.length > 0 || settings.controllerQuorumBootstrapServers.length > 0) {
    checkQuorumSettings(settings, get<number>('node.id'), get<string>('listeners'));
  }
  return settings;
}

function checkQuorumSettings(settings: QuorumSettings, nodeId: number, listenersValue: string): void {
  const { processRoles, controllerQuorumVoters: voters, controllerListenerNames: controllerNames, interBrokerListenerName: interBroker } = settings;
  let names: string[];
  try {
    names = parseListeners(listenersValue).map((listener) => listener.name);
  } catch (error) {
    throw new ConfigError('listeners', (error as Error).message.replace(/^listeners: /, ''));
  }
  const isController = processRoles.includes('controller');
  const voterIds = voters.map((voter) => voter.nodeId).join(', ');
  if (controllerNames.length === 0) {
    throw new ConfigError('controller.listener.names', isController
      ? 'must name the listener the controller quorum speaks on (for example CONTROLLER, with CONTROLLER://host:port in listeners) when controller.quorum.voters or controller.quorum.bootstrap.servers is set'
      : 'must name the controllers\' listener (for example CONTROLLER) so this broker knows how to reach the controller quorum');
  }
  if (isController) {
    const missing = controllerNames.find((name) => !names.includes(name));
    if (missing !== undefined) {
      throw new ConfigError('controller.listener.names', `${missing} is not one of the listeners (${names.join(', ')}): add ${missing}://host:port to listeners`);
    }
    if (voters.length > 0 && !voters.some((voter) => voter.nodeId === nodeId)) {
      throw new ConfigError('node.id', `node ${nodeId} has the controller role but is not one of controller.quorum.voters (${voterIds}): add it to the voters, or make it a broker only (process.roles=broker)`);
    }
  } else {
    if (voters.some((voter) => voter.nodeId === nodeId)) {
      throw new ConfigError('node.id', `node ${nodeId} is one of controller.quorum.voters but process.roles is broker only: add controller to process.roles, or give this broker a node.id that is not a voter`);
    }
    const served = controllerNames.find((name) => names.includes(name));
    if (served !== undefined) {
      throw new ConfigError('listeners', `${served} is a controller listener (controller.listener.names), which a broker-only node does not serve: remove it from listeners`);
    }
  }
  if (processRoles.includes('broker') && names.every((name) => controllerNames.includes(name))) {
    throw new ConfigError('listeners', 'a node with the broker role needs a listener besides the controller listeners (controller.listener.names) for clients and other brokers');
  }
  if (interBroker !== null && controllerNames.includes(interBroker)) {
    throw new ConfigError('inter.broker.listener.name', `${interBroker} is a controller listener (controller.listener.names): brokers must reach each other on another listener`);
  }
  if (interBroker !== null && processRoles.includes('broker') && !names.includes(interBroker)) {
    throw new ConfigError('inter.broker.listener.name', `${interBroker} is not one of the listeners (${names.join(', ')})`);
  }
}

/**
 * listener.security.protocol.map read against the listeners. With the map set, every listener
 * needs a protocol in it (Kafka refuses to start otherwise); left at its default, a listener it
 * does not name (CONTROLLER, INTERNAL, ...) is PLAINTEXT, as Kafka takes a KRaft controller
 * listener. SASL listeners are refused until SASL is served.
 */
function listenerSecurityProtocols(mapValue: string, listenersValue: string, controllerListenerNames: readonly string[], explicit: boolean): Map<string, SecurityProtocol> {
  const key = 'listener.security.protocol.map';
  const map = new Map<string, SecurityProtocol>();
  for (const entry of mapValue.split(',').map((text) => text.trim()).filter((text) => text.length > 0)) {
    const [name, protocol, ...rest] = entry.split(':').map((text) => text.trim());
    const upper = protocol?.toUpperCase() as SecurityProtocol | undefined;
    if (!name || upper === undefined || rest.length > 0 || !SECURITY_PROTOCOLS.includes(upper)) {
      throw new ConfigError(key, `'${entry}' is not NAME:PROTOCOL with PROTOCOL one of ${SECURITY_PROTOCOLS.join(', ')}`);
    }
    map.set(name.toUpperCase(), upper);
  }
  let names: string[];
  try {
    names = parseListeners(listenersValue).map((listener) => listener.name);
  } catch (error) {
    throw new ConfigError('listeners', (error as Error).message.replace(/^listeners: /, ''));
  }
  const used = new Map<string, SecurityProtocol>();
  // A broker-only node does not serve the controller listener but connects to it: its protocol too.
  for (const name of new Set([...names, ...controllerListenerNames])) {
    const protocol = map.get(name) ?? (explicit ? undefined : 'PLAINTEXT');
    if (protocol === undefined) throw new ConfigError(key, `no security protocol for listener ${name}: add ${name}:PLAINTEXT (or SSL)`);
    used.set(name, protocol);
  }
  return used;
}

/**
 * A node connects to the controllers with its own settings for the controller listener; a
 * broker-only node does not serve that listener, and reading ssl.* for a listener it does not
 * serve is not done yet: its controller listener must be PLAINTEXT.
 */
function checkControllerLinks(quorum: QuorumSettings, protocols: ReadonlyMap<string, SecurityProtocol>, listenersValue: string): void {
  if (quorum.controllerQuorumVoters.length === 0 && quorum.controllerQuorumBootstrapServers.length === 0) return;
  const served = new Set(parseListeners(listenersValue).map((listener) => listener.name));
  const interBroker = interBrokerListenerOf({ ...quorum, listeners: listenersValue });
  for (const [name, key] of [...quorum.controllerListenerNames.map((controller) => [controller, 'controller.listener.names'] as const), [interBroker, 'inter.broker.listener.name'] as const]) {
    const protocol = protocols.get(name);
    if (key === 'controller.listener.names' && !quorum.processRoles.includes('controller') && !served.has(name) && protocol !== undefined && protocol !== 'PLAINTEXT') {
      throw new ConfigError(key, `listener ${name} is ${protocol}: a broker-only node reaches an SSL controller listener in a later version; make ${name} PLAINTEXT, or run this node in combined mode`);
    }
  }
}

/** The listener other brokers reach this one on: inter.broker.listener.name, else the first that is not a controller listener. */
export function interBrokerListenerOf(config: Pick<BrokerConfig, 'interBrokerListenerName' | 'listeners' | 'controllerListenerNames'>): string {
  return config.interBrokerListenerName ?? parseListeners(config.listeners).find((listener) => !config.controllerListenerNames.includes(listener.name))?.name ?? 'PLAINTEXT';
}

/** authorizer.class.name, super.users (each `Type:name`) and allow.everyone.if.no.acl.found, checked. */
function authorizerSettings(get: <T extends ConfigValue>(name: string) => T): AuthorizerSettings | null {
  if (get<string>('authorizer.class.name') === '') return null;
  const superUsers = get<string>('super.users').split(';').map((user) => user.trim()).filter((user) => user !== '');
  for (const user of superUsers) {
    if (!/^[^:]+:.+$/.test(user)) throw new ConfigError('super.users', `'${user}' is not a principal: write Type:name, such as User:admin, and separate principals with semicolons`);
  }
  return { superUsers, allowEveryoneIfNoAclFound: get('allow.everyone.if.no.acl.found') };
}

const LOGIN_MODULES: Readonly<Record<string, string>> = {
  PLAIN: 'org.apache.kafka.common.security.plain.PlainLoginModule',
  'SCRAM-SHA-256': 'org.apache.kafka.common.security.scram.ScramLoginModule',
  'SCRAM-SHA-512': 'org.apache.kafka.common.security.scram.ScramLoginModule',
};

/**
 * This node's own SASL logins to the inter-broker and controller listeners that are SASL: the
 * mechanism (sasl.mechanism.inter.broker.protocol, sasl.mechanism.controller.protocol), which the
 * listener must enable where this node serves it, and the `username` and `password` of that
 * mechanism's JAAS entry (listener.name.<listener>.<mechanism>.sasl.jaas.config, else
 * sasl.jaas.config). SCRAM cannot log in to a controller listener: the credentials are in the
 * metadata log the controllers serve (Kafka refuses it too).
 */
function nodeSaslLogins(
  quorum: QuorumSettings,
  protocols: ReadonlyMap<string, SecurityProtocol>,
  listenerSasl: ReadonlyMap<string, SaslSettings>,
  get: <T extends ConfigValue>(name: string) => T,
  listenerValues: ReadonlyMap<string, ReadonlyMap<string, ConfigValue>>,
  listenersValue: string,
): Map<string, SaslCredentials> {
  const logins = new Map<string, SaslCredentials>();
  if (quorum.controllerQuorumVoters.length === 0 && quorum.controllerQuorumBootstrapServers.length === 0) return logins;
  const interBroker = interBrokerListenerOf({ ...quorum, listeners: listenersValue });
  const links = [...quorum.controllerListenerNames.map((name) => [name, 'sasl.mechanism.controller.protocol'] as const), [interBroker, 'sasl.mechanism.inter.broker.protocol'] as const];
  for (const [listener, mechanismKey] of links) {
    const protocol = protocols.get(listener);
    if ((protocol !== 'SASL_PLAINTEXT' && protocol !== 'SASL_SSL') || logins.has(listener)) continue;
    const mechanism = get<string>(mechanismKey).toUpperCase();
    if (LOGIN_MODULES[mechanism] === undefined) throw new ConfigError(mechanismKey, `listener ${listener} is ${protocol}: nodes log in with PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, not ${mechanism}`);
    if (mechanismKey === 'sasl.mechanism.controller.protocol' && mechanism !== 'PLAIN') {
      throw new ConfigError(mechanismKey, `${mechanism} cannot log in to the controller listener ${listener}: SCRAM credentials live in the metadata log the controllers serve; use PLAIN`);
    }
    const enabled = listenerSasl.get(listener)?.mechanisms;
    if (enabled !== undefined && !enabled.includes(mechanism)) throw new ConfigError(mechanismKey, `${mechanism} is not among listener ${listener}'s SASL mechanisms (${enabled.join(', ')})`);
    const lower = mechanism.toLowerCase();
    const own = listenerValues.get(listener);
    const jaasKey = own?.has(`${lower}.sasl.jaas.config`) ? `listener.name.${listener.toLowerCase()}.${lower}.sasl.jaas.config` : 'sasl.jaas.config';
    const jaas = (own?.get(`${lower}.sasl.jaas.config`) ?? get('sasl.jaas.config')) as string | null;
    if (jaas === null) throw new ConfigError(`listener.name.${listener.toLowerCase()}.${lower}.sasl.jaas.config`, `this node logs in to listener ${listener} with ${mechanism} and needs its own username and password: ${LOGIN_MODULES[mechanism]} required username="..." password="...";`);
    const module = parseJaasConfig(jaas, jaasKey)[0]!;
    const username = module.options.get('username');
    const password = module.options.get('password');
    if (module.loginModule !== LOGIN_MODULES[mechanism] || username === undefined || password === undefined) {
      throw new ConfigError(jaasKey, `this node logs in to listener ${listener} with ${mechanism}: the entry must be ${LOGIN_MODULES[mechanism]} with username="..." and password="..."`);
    }
    logins.set(listener, { mechanism: mechanism as SaslCredentials['mechanism'], username, password });
  }
  return logins;
}

/** The SASL mechanisms served so far. */
const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', OAUTHBEARER];

/** A SASL listener's mechanisms and PLAIN users, each from listener.name.<listener>.* when set there; checked. */
function saslSettings(listener: string, get: <T extends ConfigValue>(name: string) => T, own: ReadonlyMap<string, ConfigValue> | undefined): SaslSettings {
  const lower = listener.toLowerCase();
  const mechanismsKey = own?.has('sasl.enabled.mechanisms') ? `listener.name.${lower}.sasl.enabled.mechanisms` : 'sasl.enabled.mechanisms';
  const mechanisms = ((own?.get('sasl.enabled.mechanisms') ?? get('sasl.enabled.mechanisms')) as string[]).map((mechanism) => mechanism.toUpperCase());
  const unsupported = mechanisms.filter((mechanism) => !SASL_MECHANISMS.includes(mechanism));
  if (unsupported.length > 0 || mechanisms.length === 0) {
    throw new ConfigError(mechanismsKey, `listener ${listener}: ${unsupported.length > 0 ? `${unsupported.join(', ')} not served` : 'no mechanism enabled'}; the SASL mechanisms served so far: ${SASL_MECHANISMS.join(', ')}`);
  }
  let plainUsers = new Map<string, string>();
  if (mechanisms.includes('PLAIN')) {
    const ownKey = `listener.name.${lower}.plain.sasl.jaas.config`;
    const jaas = (own?.get('plain.sasl.jaas.config') ?? get('sasl.jaas.config')) as string | null;
    const jaasKey = own?.has('plain.sasl.jaas.config') ? ownKey : 'sasl.jaas.config';
    const simple = get<string | null>('conveyor.sasl.plain.users');
    if (jaas === null && simple === null) throw new ConfigError(ownKey, `listener ${listener} accepts PLAIN and needs its users: org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret"; (or conveyor.sasl.plain.users=alice:alice-secret)`);
    try {
      // The JAAS entry may name no user when conveyor.sasl.plain.users does (it then holds only this node's own login).
      if (jaas !== null) plainUsers = plainUsersOf(jaas, simple !== null);
    } catch (error) {
      throw new ConfigError(jaasKey, `listener ${listener}: ${(error as Error).message}`);
    }
    if (simple !== null) for (const [user, password] of simplePlainUsers(simple)) plainUsers.set(user, password);
  }
  if (get<string | null>('sasl.server.callback.handler.class') !== null) {
    throw new ConfigError('sasl.server.callback.handler.class', `set it per listener and mechanism, as Kafka reads it only so: listener.name.${lower}.oauthbearer.sasl.server.callback.handler.class`);
  }
  for (const [name] of own ?? []) {
    const mechanism = /^(.+)\.sasl\.server\.callback\.handler\.class$/.exec(name)?.[1];
    if (mechanism !== undefined && mechanism !== 'oauthbearer') {
      throw new ConfigError(`listener.name.${lower}.${name}`, `Conveyor runs no Java callback handler; ${mechanism.toUpperCase()} checks credentials itself (only OAUTHBEARER takes a handler class, to choose its token validator)`);
    }
  }
  const oauthBearer = mechanisms.includes(OAUTHBEARER) ? oauthBearerSettings(listener, get, own) : undefined;
  return oauthBearer === undefined ? { mechanisms, plainUsers } : { mechanisms, plainUsers, oauthBearer };
}

/**
 * An OAUTHBEARER listener's settings (KIP-255, KIP-768): its JAAS entry
 * (listener.name.<listener>.oauthbearer.sasl.jaas.config, else sasl.jaas.config) must be
 * OAuthBearerLoginModule's; the validator is Kafka's unsecured one (its options from that entry)
 * unless listener.name.<listener>.oauthbearer.sasl.server.callback.handler.class names
 * OAuthBearerValidatorCallbackHandler, which needs sasl.oauthbearer.jwks.endpoint.url. The
 * sasl.oauthbearer.* keys are read as Kafka reads them: listener.name.<listener>.oauthbearer.<key>,
 * else listener.name.<listener>.<key>, else <key>. Refusals name the key.
 */
function oauthBearerSettings(listener: string, get: <T extends ConfigValue>(name: string) => T, own: ReadonlyMap<string, ConfigValue> | undefined): OAuthBearerSettings {
  const lower = listener.toLowerCase();
  const read = <T extends ConfigValue>(name: string): { value: T; key: string } => {
    if (own?.has(`oauthbearer.${name}`)) return { value: own.get(`oauthbearer.${name}`) as T, key: `listener.name.${lower}.oauthbearer.${name}` };
    if (own?.has(name)) return { value: own.get(name) as T, key: `listener.name.${lower}.${name}` };
    return { value: get<T>(name), key: name };
  };
  const ownJaasKey = `listener.name.${lower}.oauthbearer.sasl.jaas.config`;
  const jaasKey = own?.has('oauthbearer.sasl.jaas.config') ? ownJaasKey : 'sasl.jaas.config';
  const jaas = (own?.get('oauthbearer.sasl.jaas.config') ?? get('sasl.jaas.config')) as string | null;
  if (jaas === null) throw new ConfigError(ownJaasKey, `listener ${listener} accepts OAUTHBEARER and needs its JAAS entry: ${OAUTHBEARER_LOGIN_MODULE} required;`);
  const modules = parseJaasConfig(jaas, jaasKey);
  // The text is not quoted back: it may hold a client secret.
  if (modules.length !== 1 || modules[0]!.loginModule !== OAUTHBEARER_LOGIN_MODULE) {
    throw new ConfigError(jaasKey, `listener ${listener} accepts OAUTHBEARER: the entry must be one ${OAUTHBEARER_LOGIN_MODULE} login module (${modules.length === 1 ? `not ${modules[0]!.loginModule}` : `not ${modules.length}`})`);
  }
  const options = modules[0]!.options;
  const maxInitialResponseBytes = get<number>('sasl.server.max.receive.size');
  const handlerKey = `listener.name.${lower}.oauthbearer.sasl.server.callback.handler.class`;
  const handler = (own?.get('oauthbearer.sasl.server.callback.handler.class') as string | null | undefined) ?? null;
  if (handler === null || handler === UNSECURED_VALIDATOR_CLASS) {
    const option = (name: string) => {
      const value = options.get(name);
      return value === undefined || value.trim() === '' ? undefined : value.trim();
    };
    const skewText = option('unsecuredValidatorAllowableClockSkewMs') ?? '0';
    const allowableClockSkewMs = Number(skewText);
    if (!/^[+-]?\d+$/.test(skewText) || !Number.isSafeInteger(allowableClockSkewMs) || allowableClockSkewMs < 0 || allowableClockSkewMs > INT_MAX) {
      throw new ConfigError(jaasKey, `listener ${listener}: unsecuredValidatorAllowableClockSkewMs must be a whole number of milliseconds, 0 or more, not '${skewText}'`);
    }
    const requiredScope = parseScope(option('unsecuredValidatorRequiredScope') ?? '');
    if (!Array.isArray(requiredScope)) throw new ConfigError(jaasKey, `listener ${listener}: unsecuredValidatorRequiredScope: ${requiredScope.problem}`);
    return {
      maxInitialResponseBytes,
      validator: {
        kind: 'unsecured',
        principalClaimName: option('unsecuredValidatorPrincipalClaimName') ?? 'sub',
        scopeClaimName: option('unsecuredValidatorScopeClaimName') ?? 'scope',
        requiredScope,
        allowableClockSkewMs,
      },
    };
  }
  if (!JWT_VALIDATOR_CLASSES.includes(handler)) {
    throw new ConfigError(handlerKey, `listener ${listener}: '${handler}' is not a callback handler Conveyor has; OAUTHBEARER tokens are checked by ${JWT_VALIDATOR_CLASSES[0]} (signed JWTs) or, left unset, ${UNSECURED_VALIDATOR_CLASS} (unsigned, development only)`);
  }
  const url = read<string | null>('sasl.oauthbearer.jwks.endpoint.url');
  const urlText = url.value?.trim() ?? '';
  if (urlText === '') {
    throw new ConfigError(`listener.name.${lower}.oauthbearer.sasl.oauthbearer.jwks.endpoint.url`, `listener ${listener} validates OAUTHBEARER tokens with ${handler.slice(handler.lastIndexOf('.') + 1)} and needs the keys that sign them: set sasl.oauthbearer.jwks.endpoint.url to the provider's JWKS (an https: or file: URL)`);
  }
  checkJwksUrl(urlText, url.key, listener);
  const whole = (name: string, min: number) => {
    const { value, key } = read<number>(name);
    if (value < min) throw new ConfigError(key, `listener ${listener}: must be at least ${min}, got ${value}`);
    return value;
  };
  const remote = !urlText.toLowerCase().startsWith('file:');
  const jwksEndpointRetryBackoffMs = whole('sasl.oauthbearer.jwks.endpoint.retry.backoff.ms', 0);
  const backoffMax = read<number>('sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms');
  if (backoffMax.value < jwksEndpointRetryBackoffMs) {
    throw new ConfigError(backoffMax.key, `listener ${listener}: ${backoffMax.value} is less than sasl.oauthbearer.jwks.endpoint.retry.backoff.ms (${jwksEndpointRetryBackoffMs})`);
  }
  const claimName = (name: string) => {
    const { value, key } = read<string | null>(name);
    if (value === null || value.trim() === '') throw new ConfigError(key, `listener ${listener}: must name a claim`);
    return value.trim();
  };
  const audience = read<string[] | null>('sasl.oauthbearer.expected.audience').value?.filter((item) => item !== '') ?? [];
  const issuer = read<string | null>('sasl.oauthbearer.expected.issuer').value?.trim() ?? '';
  return {
    maxInitialResponseBytes,
    validator: {
      kind: 'jwt',
      jwksEndpointUrl: urlText,
      jwksEndpointUrlKey: url.key,
      // Kafka's refreshing JWKS refuses an interval of 0; a file is read once, whatever it says.
      jwksEndpointRefreshMs: whole('sasl.oauthbearer.jwks.endpoint.refresh.ms', remote ? 1 : 0),
      jwksEndpointRetryBackoffMs,
      jwksEndpointRetryBackoffMaxMs: backoffMax.value,
      clockSkewSeconds: whole('sasl.oauthbearer.clock.skew.seconds', 0),
      expectedAudience: audience.length > 0 ? audience : null,
      expectedIssuer: issuer === '' ? null : issuer,
      scopeClaimName: claimName('sasl.oauthbearer.scope.claim.name'),
      subClaimName: claimName('sasl.oauthbearer.sub.claim.name'),
    },
  };
}

/** sasl.oauthbearer.jwks.endpoint.url: an http(s) URL, or a file: URL of a readable file (checked now, as Kafka does). */
function checkJwksUrl(text: string, key: string, listener: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(key, `listener ${listener}: '${text}' is not a URL`);
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return;
  if (url.protocol !== 'file:') throw new ConfigError(key, `listener ${listener}: '${text}' has the protocol ${url.protocol.slice(0, -1)}; only http, https and file are supported`);
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    throw new ConfigError(key, `listener ${listener}: '${text}' is not a file URL this system can open: ${(error as Error).message}`);
  }
  if (!existsSync(path)) throw new ConfigError(key, `listener ${listener}: the file ${path} does not exist`);
  if (statSync(path).isDirectory()) throw new ConfigError(key, `listener ${listener}: ${path} is a directory, not a JWKS file`);
  try {
    accessSync(path, fsConstants.R_OK);
  } catch {
    throw new ConfigError(key, `listener ${listener}: the file ${path} cannot be read`);
  }
}

/**
 * PLAIN's users from a JAAS entry: `org.apache.kafka.common.security.plain.PlainLoginModule
 * required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="...";`
 * (username and password are what this broker would log in with; user_<name> are the accounts).
 */
function plainUsersOf(jaas: string, mayNameNone = false): Map<string, string> {
  const match = /^\s*(\S+)\s+(required|requisite|sufficient|optional)\b([\s\S]*);\s*$/.exec(jaas);
  if (!match || match[1] !== 'org.apache.kafka.common.security.plain.PlainLoginModule') {
    throw new Error('is not `org.apache.kafka.common.security.plain.PlainLoginModule required user_<name>="<password>" ...;`');
  }
  const users = new Map<string, string>();
  const options = match[3]!;
  const option = /\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s";]+))/gy;
  let at = 0;
  for (let found = option.exec(options); found !== null; found = option.exec(options)) {
    at = option.lastIndex;
    const value = found[2] !== undefined ? found[2].replace(/\\(.)/g, '$1') : found[3]!;
    if (found[1]!.startsWith('user_')) users.set(found[1]!.slice('user_'.length), value);
  }
  // The text is not quoted back: it may hold a password.
  if (options.slice(at).trim() !== '') throw new Error(`cannot read the options after character ${at} of the module's options (name="value" pairs, values in double quotes)`);
  if (users.size === 0 && !mayNameNone) throw new Error('names no user: add user_<name>="<password>" for each');
  return users;
}

/**
 * conveyor.sasl.plain.users: `alice:alice-secret,bob:bob-secret`, each user's name up to the first
 * colon and the password after it (so a password may hold colons, not commas: such a password
 * goes in the JAAS form). A malformed entry is refused by its position, never quoted back.
 */
function simplePlainUsers(text: string): Map<string, string> {
  const users = new Map<string, string>();
  const entries = text.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1) throw new ConfigError('conveyor.sasl.plain.users', `entry ${index + 1} of ${entries.length} is not name:password (a name, a colon, a password; entries separated by commas)`);
    const name = entry.slice(0, colon);
    if (users.has(name)) throw new ConfigError('conveyor.sasl.plain.users', `names user ${name} twice`);
    users.set(name, entry.slice(colon + 1));
  });
  return users;
}

const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'];

/** An SSL listener's settings, each from listener.name.<listener>.ssl.* when set there, else ssl.*; checked. */
function sslSettings(listener: string, get: <T extends ConfigValue>(name: string) => T, own: ReadonlyMap<string, ConfigValue> | undefined): SslSettings {
  const keyNames: Record<string, string> = {};
  const read = <T extends ConfigValue>(name: string): T => {
    if (own?.has(name)) {
      keyNames[name] = `listener.name.${listener.toLowerCase()}.${name}`;
      return own.get(name) as T;
    }
    keyNames[name] = name;
    return get<T>(name);
  };
  const principalMapper = () => {
    try {
      return SslPrincipalMapper.parse(read<string>('ssl.principal.mapping.rules'));
    } catch (error) {
      throw new ConfigError(keyNames['ssl.principal.mapping.rules']!, `listener ${listener}: ${(error as Error).message}`);
    }
  };
  // ssl.cipher.suites, and whether each enabled TLS version still has a suite (Java's TLS then
  // refuses that version; node:tls would fall back to its default TLS 1.3 suites).
  const cipherSuitesOf = (): CipherSuites | null => {
    const names = read<string[]>('ssl.cipher.suites').filter((name) => name.trim() !== '');
    if (names.length === 0) return null;
    let suites: CipherSuites;
    try {
      suites = resolveCipherSuites(names);
    } catch (error) {
      throw new ConfigError(keyNames['ssl.cipher.suites']!, `listener ${listener}: ${(error as Error).message}`);
    }
    const protocols = read<string[]>('ssl.enabled.protocols');
    if (!protocols.some((protocol) => (protocol === 'TLSv1.3' ? suites.tls13 : protocol === 'TLSv1.2' && suites.tls12))) {
      throw new ConfigError(keyNames['ssl.cipher.suites']!, `listener ${listener}: no listed suite serves ${protocols.join(' or ')} (ssl.enabled.protocols); TLS 1.3 suites are TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384 and TLS_CHACHA20_POLY1305_SHA256`);
    }
    return suites;
  };
  const settings: SslSettings = {
    keystoreType: read<string>('ssl.keystore.type').toUpperCase(),
    keystoreLocation: read('ssl.keystore.location'),
    keystorePassword: read('ssl.keystore.password'),
    keyPassword: read('ssl.key.password'),
    keystoreCertificateChain: read('ssl.keystore.certificate.chain'),
    keystoreKey: read('ssl.keystore.key'),
    truststoreType: read<string>('ssl.truststore.type').toUpperCase(),
    truststoreLocation: read('ssl.truststore.location'),
    truststorePassword: read('ssl.truststore.password'),
    truststoreCertificates: read('ssl.truststore.certificates'),
    clientAuth: read('ssl.client.auth'),
    enabledProtocols: read<string[]>('ssl.enabled.protocols'),
    cipherSuites: cipherSuitesOf(),
    endpointIdentification: read<string | null>('ssl.endpoint.identification.algorithm') ?? '',
    principalMapper: principalMapper(),
    keyNames,
  };
  const inline = settings.keystoreCertificateChain !== null || settings.keystoreKey !== null;
  if (inline && (settings.keystoreCertificateChain === null || settings.keystoreKey === null)) {
    throw new ConfigError(keyNames[settings.keystoreKey === null ? 'ssl.keystore.key' : 'ssl.keystore.certificate.chain']!, `listener ${listener}: a PEM key store in the configuration needs both ssl.keystore.certificate.chain and ssl.keystore.key`);
  }
  if (!inline && settings.keystoreLocation === null) {
    throw new ConfigError(keyNames['ssl.keystore.location']!, `listener ${listener} is SSL and needs the broker's certificate and key: a key store file (ssl.keystore.location), or PEM in ssl.keystore.certificate.chain and ssl.keystore.key`);
  }
  if (!inline && settings.keystoreType !== 'PEM' && settings.keystoreType !== 'PKCS12') {
    throw new ConfigError(keyNames['ssl.keystore.type']!, `listener ${listener}: key store type ${settings.keystoreType} cannot be read; use PKCS12 (keytool -importkeystore -deststoretype PKCS12 converts a JKS store) or PEM`);
  }
  if (settings.truststoreCertificates === null && settings.truststoreLocation !== null && settings.truststoreType !== 'PEM' && settings.truststoreType !== 'PKCS12') {
    throw new ConfigError(keyNames['ssl.truststore.type']!, `listener ${listener}: trust store type ${settings.truststoreType} cannot be read; use PKCS12 (keytool -importkeystore -deststoretype PKCS12 converts a JKS store) or PEM (a file of certificates, or ssl.truststore.certificates)`);
  }
  if (settings.clientAuth !== 'none' && settings.truststoreCertificates === null && settings.truststoreLocation === null) {
    throw new ConfigError(keyNames['ssl.client.auth']!, `listener ${listener}: checking client certificates (${settings.clientAuth}) needs the certificates they are signed by (ssl.truststore.location or ssl.truststore.certificates)`);
  }
  const unknown = settings.enabledProtocols.filter((version) => !TLS_VERSIONS.includes(version));
  if (unknown.length > 0 || settings.enabledProtocols.length === 0) {
    throw new ConfigError(keyNames['ssl.enabled.protocols']!, `listener ${listener}: ${unknown.length > 0 ? `${unknown.join(', ')} not offered` : 'no version enabled'}; TLS versions served are ${TLS_VERSIONS.join(' and ')}`);
  }
  return settings;
}

/**
 * Whether this node belongs to a quorum of more than itself: several voters, a voter set this node
 * is not the only member of, or bootstrap servers naming another node. Such a node's directory must
 * be formatted (`conveyor storage format`) before it starts.
 */
export function isMultiNodeQuorum(config: BrokerConfig): boolean {
  const voters = config.controllerQuorumVoters;
  if (voters.length === 0) return config.controllerQuorumBootstrapServers.length > 0 && !bootstrapsOnlyItself(config);
  return voters.length > 1 || voters[0]!.nodeId !== config.nodeId;
}

/**
 * Whether controller.quorum.bootstrap.servers names only this node's own controller listener (Kafka's
 * sample standalone server.properties): such a node is a quorum of itself until voters are added
 * (KIP-853), and formats itself as a single node does. A host that is empty, a loopback name or the
 * listener's own counts as this node.
 */
export function bootstrapsOnlyItself(config: BrokerConfig): boolean {
  const own = parseListeners(config.listeners).filter((listener) => config.controllerListenerNames.includes(listener.name));
  const local = new Set(['', 'localhost', '127.0.0.1', '::1', '0.0.0.0', '::']);
  const servers = config.controllerQuorumBootstrapServers;
  const same = (host: string, listenerHost: string) => host === listenerHost || (local.has(host) && local.has(listenerHost));
  return servers.length > 0 && servers.every((server) => own.some((listener) => listener.port === server.port && same(server.host, listener.host)));
}
