// A Connect worker's configuration: Kafka Connect's worker keys, names and defaults
// (WorkerConfig, StandaloneConfig, DistributedConfig). A bad value is refused naming its key.
import type { TlsStoreSettings } from '../../base/tls-stores.js';
import { ConnectConfigDef, ConnectConfigException, type ParsedConfig, Validators } from '../api/config.js';

const common = new ConnectConfigDef()
  .define({ name: 'bootstrap.servers', type: 'list', defaultValue: ['localhost:9092'], importance: 'HIGH', documentation: 'Kafka brokers to connect to, host:port, comma-separated.' })
  .define({ name: 'key.converter', type: 'class', importance: 'HIGH', documentation: 'Converter class for record keys (between Connect data and Kafka bytes).' })
  .define({ name: 'value.converter', type: 'class', importance: 'HIGH', documentation: 'Converter class for record values.' })
  .define({ name: 'header.converter', type: 'class', defaultValue: 'org.apache.kafka.connect.storage.SimpleHeaderConverter', importance: 'LOW', documentation: 'Converter class for record header values.' })
  .define({ name: 'listeners', type: 'list', defaultValue: ['http://:8083'], importance: 'LOW', documentation: 'REST API listeners, http://host:port or https://host:port; an empty host binds every interface. https takes its key store from listeners.https.ssl.* (or ssl.*).' })
  .define({ name: 'rest.advertised.host.name', type: 'string', defaultValue: null, importance: 'LOW', documentation: 'The host name other workers and clients reach this worker at.' })
  .define({ name: 'rest.advertised.port', type: 'int', defaultValue: null, importance: 'LOW', documentation: 'The port other workers and clients reach this worker at.' })
  .define({ name: 'rest.advertised.listener', type: 'string', defaultValue: null, importance: 'LOW', validator: Validators.oneOf('http', 'https'), documentation: 'Which listener\'s protocol (http or https) other workers are told to use; the first listener\'s by default.' })
  .define({ name: 'plugin.path', type: 'list', defaultValue: [], importance: 'LOW', documentation: 'Directories holding connector, converter and transform plugins (npm packages).' })
  .define({ name: 'offset.flush.interval.ms', type: 'long', defaultValue: 60_000, importance: 'LOW', validator: Validators.atLeast(0), documentation: 'How often source offsets are stored and sink offsets committed.' })
  .define({ name: 'offset.flush.timeout.ms', type: 'long', defaultValue: 5_000, importance: 'LOW', validator: Validators.atLeast(0), documentation: 'How long an offset flush may wait for outstanding records.' })
  .define({ name: 'task.shutdown.graceful.timeout.ms', type: 'long', defaultValue: 5_000, importance: 'LOW', validator: Validators.atLeast(0), documentation: 'How long a task may take to stop before it is abandoned.' })
  .define({ name: 'client.id', type: 'string', defaultValue: '', importance: 'LOW', documentation: 'Prefix of the client ids of the worker\'s producers and consumers.' })
  .define({ name: 'connector.client.config.override.policy', type: 'string', defaultValue: 'All', importance: 'MEDIUM', validator: Validators.oneOf('All', 'None', 'Principal'), documentation: 'Which producer.override.* / consumer.override.* keys connectors may set.' })
  .define({ name: 'exactly.once.source.support', type: 'string', defaultValue: 'disabled', importance: 'HIGH', validator: Validators.oneOf('disabled', 'preparing', 'enabled'), documentation: 'Exactly-once delivery for source connectors (distributed mode, KIP-618).' });

export const standaloneWorkerConfigDef = common.merge(new ConnectConfigDef()
  .define({ name: 'offset.storage.file.filename', type: 'string', importance: 'HIGH', validator: Validators.nonEmptyString(), documentation: 'The file a standalone worker keeps source offsets in.' }));

export const distributedWorkerConfigDef = common.merge(new ConnectConfigDef()
  .define({ name: 'group.id', type: 'string', importance: 'HIGH', validator: Validators.nonEmptyString(), documentation: 'The Connect cluster\'s group: workers with the same group.id share connectors.' })
  .define({ name: 'config.storage.topic', type: 'string', importance: 'HIGH', documentation: 'The compacted topic holding connector configurations.' })
  .define({ name: 'offset.storage.topic', type: 'string', importance: 'HIGH', documentation: 'The compacted topic holding source offsets.' })
  .define({ name: 'status.storage.topic', type: 'string', importance: 'HIGH', documentation: 'The compacted topic holding connector and task statuses.' })
  .define({ name: 'config.storage.replication.factor', type: 'short', defaultValue: 3, importance: 'LOW', documentation: 'Replication factor of the config topic (-1: the broker default).' })
  .define({ name: 'offset.storage.replication.factor', type: 'short', defaultValue: 3, importance: 'LOW', documentation: 'Replication factor of the offset topic (-1: the broker default).' })
  .define({ name: 'status.storage.replication.factor', type: 'short', defaultValue: 3, importance: 'LOW', documentation: 'Replication factor of the status topic (-1: the broker default).' })
  .define({ name: 'offset.storage.partitions', type: 'int', defaultValue: 25, importance: 'LOW', documentation: 'Partitions of the offset topic.' })
  .define({ name: 'status.storage.partitions', type: 'int', defaultValue: 5, importance: 'LOW', documentation: 'Partitions of the status topic.' })
  .define({ name: 'session.timeout.ms', type: 'int', defaultValue: 10_000, importance: 'HIGH', documentation: 'How long a worker may be silent before the group drops it.' })
  .define({ name: 'heartbeat.interval.ms', type: 'int', defaultValue: 3_000, importance: 'HIGH', documentation: 'How often a worker heartbeats to the group coordinator.' })
  .define({ name: 'rebalance.timeout.ms', type: 'int', defaultValue: 60_000, importance: 'HIGH', documentation: 'How long the group waits for members to rejoin.' })
  .define({ name: 'scheduled.rebalance.max.delay.ms', type: 'int', defaultValue: 300_000, importance: 'LOW', documentation: 'How long a departed worker\'s tasks wait for it before moving (KIP-415).' }));

export type WorkerMode = 'standalone' | 'distributed';

/** Parses worker properties for `mode`; throws a ConnectConfigException naming the bad key. */
export function parseWorkerConfig(mode: WorkerMode, props: Readonly<Record<string, string>>): ParsedConfig {
  return (mode === 'standalone' ? standaloneWorkerConfigDef : distributedWorkerConfigDef).parse(props);
}

/** One REST listener from `listeners`: http or https, the host to bind (0.0.0.0 for an empty one) and the port. */
export interface RestListener {
  readonly protocol: 'http' | 'https';
  readonly host: string;
  readonly port: number;
}

/** The REST listeners from `listeners` (protocol://host:port, http or https), each read or refused naming the key. */
export function restListeners(config: ParsedConfig): RestListener[] {
  const entries = config.list('listeners').filter((entry) => entry.trim() !== '');
  return (entries.length === 0 ? ['http://:8083'] : entries).map((entry) => {
    const match = /^(https?):\/\/(\[[^\]]*\]|[^:/]*)(?::(\d+))?\/?$/i.exec(entry.trim());
    if (!match) throw invalid('listeners', entry, 'expected protocol://host:port with protocol http or https');
    const protocol = match[1]!.toLowerCase() as 'http' | 'https';
    const host = match[2]!.replace(/^\[|\]$/g, '');
    return { protocol, host: host === '' ? '0.0.0.0' : host, port: match[3] === undefined ? (protocol === 'https' ? 443 : 80) : Number(match[3]) };
  });
}

/** The listener other workers and clients are told of: rest.advertised.listener's protocol, else the first listener's. */
export function advertisedRestListener(config: ParsedConfig, listeners: readonly RestListener[]): RestListener {
  const wanted = config.optionalString('rest.advertised.listener');
  if (wanted === null) return listeners[0]!;
  const listener = listeners.find((each) => each.protocol === wanted.toLowerCase());
  if (listener === undefined) throw invalid('rest.advertised.listener', wanted, `no ${wanted} listener in listeners`);
  return listener;
}

/** The keys an https REST listener reads, under listeners.https. or, when none is set there, as ssl.* (Kafka's RestServerConfig). */
const REST_SSL_KEYS = [
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password', 'ssl.keystore.certificate.chain', 'ssl.keystore.key',
  'ssl.truststore.type', 'ssl.truststore.location', 'ssl.truststore.password', 'ssl.truststore.certificates', 'ssl.client.auth', 'ssl.enabled.protocols',
  'ssl.cipher.suites', 'ssl.protocol', 'ssl.provider', 'ssl.keymanager.algorithm', 'ssl.trustmanager.algorithm', 'ssl.secure.random.implementation', 'ssl.endpoint.identification.algorithm',
] as const;

/** An https REST listener's key and trust stores (and client certificates required or requested). */
export interface RestTlsSettings extends TlsStoreSettings {
  readonly clientAuth: 'none' | 'requested' | 'required';
}

/**
 * The TLS settings of https REST listeners: the listeners.https.ssl.* keys when any is set (then
 * only those, as Kafka does), else the worker's ssl.* keys. Key stores are PEM or PKCS12.
 */
export function restTlsSettings(props: Readonly<Record<string, string>>): RestTlsSettings {
  const prefixed = Object.keys(props).some((key) => key.startsWith('listeners.https.ssl.'));
  const keyNames: Record<string, string> = {};
  for (const key of REST_SSL_KEYS) keyNames[key] = prefixed ? `listeners.https.${key}` : key;
  const read = (key: (typeof REST_SSL_KEYS)[number]): string | null => {
    const value = props[keyNames[key]!];
    return value === undefined || value.trim() === '' ? null : value.trim();
  };
  const refuse = (key: (typeof REST_SSL_KEYS)[number], message: string): never => {
    throw invalid(keyNames[key]!, read(key) ?? '', message);
  };
  const storeType = (key: 'ssl.keystore.type' | 'ssl.truststore.type') => {
    const type = (read(key) ?? 'JKS').toUpperCase();
    if (type !== 'PEM' && type !== 'PKCS12') refuse(key, `${type} stores cannot be read; use PKCS12 (keytool -importkeystore -deststoretype PKCS12 converts a JKS store) or PEM`);
    return type;
  };
  const settings: RestTlsSettings = {
    keystoreType: read('ssl.keystore.certificate.chain') !== null ? 'PEM' : storeType('ssl.keystore.type'),
    keystoreLocation: read('ssl.keystore.location'),
    keystorePassword: read('ssl.keystore.password'),
    keyPassword: read('ssl.key.password'),
    keystoreCertificateChain: read('ssl.keystore.certificate.chain'),
    keystoreKey: read('ssl.keystore.key'),
    truststoreType: read('ssl.truststore.location') === null ? 'PEM' : storeType('ssl.truststore.type'),
    truststoreLocation: read('ssl.truststore.location'),
    truststorePassword: read('ssl.truststore.password'),
    truststoreCertificates: read('ssl.truststore.certificates'),
    clientAuth: (read('ssl.client.auth') ?? 'none').toLowerCase() as RestTlsSettings['clientAuth'],
    enabledProtocols: (read('ssl.enabled.protocols') ?? 'TLSv1.2,TLSv1.3').split(',').map((version) => version.trim()),
    cipherSuites: null,
    keyNames,
  };
  if (!['none', 'requested', 'required'].includes(settings.clientAuth)) refuse('ssl.client.auth', 'must be none, requested or required');
  if (read('ssl.cipher.suites') !== null) refuse('ssl.cipher.suites', 'is not supported on REST listeners: leave it empty for the runtime\'s suites');
  if ((settings.keystoreCertificateChain === null) !== (settings.keystoreKey === null)) refuse(settings.keystoreKey === null ? 'ssl.keystore.key' : 'ssl.keystore.certificate.chain', 'a PEM key store in the configuration needs both ssl.keystore.certificate.chain and ssl.keystore.key');
  if (settings.keystoreCertificateChain === null && settings.keystoreLocation === null) refuse('ssl.keystore.location', 'an https listener needs the worker\'s certificate and key: a key store file (ssl.keystore.location), or PEM in ssl.keystore.certificate.chain and ssl.keystore.key');
  if (settings.clientAuth !== 'none' && settings.truststoreCertificates === null && settings.truststoreLocation === null) refuse('ssl.client.auth', `checking client certificates (${settings.clientAuth}) needs the certificates they are signed by (ssl.truststore.location or ssl.truststore.certificates)`);
  const unknown = settings.enabledProtocols.filter((version) => version !== 'TLSv1.2' && version !== 'TLSv1.3');
  if (unknown.length > 0 || settings.enabledProtocols.length === 0) refuse('ssl.enabled.protocols', 'TLS versions served are TLSv1.2 and TLSv1.3');
  return settings;
}

/** Kafka's ConfigException wording: the value, the key, why. */
function invalid(key: string, value: string, message: string): ConnectConfigException {
  return new ConnectConfigException(key, `Invalid value ${value} for configuration ${key}: ${message}`);
}
