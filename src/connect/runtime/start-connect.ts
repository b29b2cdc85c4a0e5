// Starts a Connect worker in this process: `conveyor connect standalone|distributed` and tests
// call it. It reads Kafka Connect's worker keys, loads plugins, reaches the Kafka cluster and
// opens the REST API. Standalone: one worker, source offsets in `offset.storage.file.filename`,
// the connectors it was given created at start. Distributed: the worker joins `group.id` and
// shares connectors, statuses and offsets with the group through the three internal topics.
import { readFile } from 'node:fs/promises';
import type { ConnectionOptions, TlsOptions } from 'node:tls';
import type { LogLevelName, LogSink } from '../../base/logger.js';
import { tlsStoreOptions } from '../../base/tls-stores.js';
import type { Connector as TransportConnector } from '../../client/byte-stream.js';
import { clientSecurityFrom } from '../../node/client-security.js';
import { connectTcp } from '../../node/tcp-byte-stream.js';
import { converterPlugins } from './converters/index.js';
import { ConnectRestError, type Herder } from './herder.js';
import { LoggerLevels } from './logger-levels.js';
import { FileOffsetStore, type OffsetEntry } from './offset-store.js';
import { type ConnectorClass, PluginRegistry } from './plugins.js';
import { connectMetricsEndpoint } from './connect-metrics.js';
import { startRestServer } from './rest/rest-server.js';
import { DistributedHerder } from './distributed/distributed-herder.js';
import type { TopicSettings } from './distributed/kafka-based-log.js';
import { KafkaOffsetStore, StatusStore, offsetRecord } from './distributed/status-and-offset-stores.js';
import { StandaloneHerder } from './standalone-herder.js';
import { predicatePlugins, transformPlugins } from './transforms/index.js';
import { type TaskMetrics, Worker } from './worker.js';
import { type WorkerMode, advertisedRestListener, parseWorkerConfig, restListeners, restTlsSettings } from './worker-config.js';
import { WorkerKafka } from './worker-kafka.js';

export const CONNECT_VERSION = '0.1.0';

export interface StartConnectOptions {
  /** standalone (the default): one worker, offsets in a file; distributed: a group of workers sharing topics. */
  readonly mode?: WorkerMode;
  /** Worker properties, Kafka Connect's keys (bootstrap.servers, key.converter, listeners, ...). */
  readonly worker: Readonly<Record<string, string>>;
  /** Standalone only: connector configurations to create at start (each with its `name`). */
  readonly connectors?: readonly Readonly<Record<string, string>>[];
  /** Log level on stderr; 'silent' (the default, as for embedded brokers) prints nothing. */
  readonly logLevel?: LogLevelName;
  /** Where log lines go instead of stderr. */
  readonly logSink?: LogSink;
  /** How the worker reaches brokers (TCP by default). */
  readonly transport?: TransportConnector;
  /**
   * Connector classes to offer besides the built-in ones and plugin.path's, by class name (which
   * `connector.class` may also give as the simple name or without "Connector"), for tests and
   * programs that embed a worker.
   */
  readonly plugins?: Readonly<Record<string, ConnectorClass>>;
  /** Where project packages named by `connector.class` resolve from; the working directory by default. */
  readonly projectDirectory?: string;
}

export interface RunningConnect {
  /** The REST API's base URL, e.g. http://127.0.0.1:8083. */
  readonly url: string;
  readonly port: number;
  readonly workerId: string;
  readonly herder: Herder;
  /** The counters of every task running on this worker (Kafka Connect's metric names). */
  metrics(): TaskMetrics[];
  /** Stops every connector and task (committing their offsets), then the REST API. */
  close(): Promise<void>;
}

export async function startConnect(options: StartConnectOptions): Promise<RunningConnect> {
  const mode = options.mode ?? 'standalone';
  if (mode === 'distributed' && (options.connectors?.length ?? 0) > 0) throw new Error('a distributed worker takes connectors over its REST API, not at start');
  const config = parseWorkerConfig(mode, options.worker);
  const sink: LogSink = options.logSink ?? ((_level, line) => process.stderr.write(`${line}\n`));
  const loggerLevels = new LoggerLevels(sink, options.logLevel ?? 'silent');
  const logger = loggerLevels.logger('connect');
  const plugins = new PluginRegistry(logger.child('plugins'), options.projectDirectory);
  plugins.register(options.plugins ?? {});
  await plugins.loadPluginPath(config.list('plugin.path'));
  // Kafka's client security keys among the worker's (security.protocol, sasl.*, ssl.*) secure every
  // connection the worker makes to the cluster: its internal topics, its group, its tasks' clients.
  // ssl.client.auth is the https REST listener's (a server's key), not the Kafka clients'.
  const clientKeys = new Map(Object.entries(options.worker).filter(([key]) => key !== 'ssl.client.auth'));
  const security = await clientSecurityFrom(clientKeys, 'the worker config', options.transport ?? connectTcp);
  const kafka = new WorkerKafka(security.connect, config.list('bootstrap.servers'), config.string('client.id') || 'connect');
  const closers: (() => Promise<void> | void)[] = [() => kafka.close()];
  const closeAll = async () => {
    for (const close of closers.splice(0).reverse()) await close();
  };
  try {
    const kafkaClusterId = await kafka.kafkaClusterId();
    const listeners = restListeners(config);
    const advertised = advertisedRestListener(config, listeners);
    const tls = listeners.some((each) => each.protocol === 'https') ? await restTls(options.worker) : undefined;
    let herder: StandaloneHerder | DistributedHerder | undefined;
    let metrics: () => TaskMetrics[] = () => [];
    let counts = () => ({ connectors: 0, tasks: 0 });
    const metricsEndpoint = connectMetricsEndpoint({ tasks: () => metrics(), counts: () => counts() });
    // The REST API opens first: the worker id is the address it serves on.
    const rest = await startRestServer(lazyHerder(() => herder), {
      listeners: listeners.map((each) => ({ host: each.host, port: each.port, ...(each.protocol === 'https' ? { tls: tls!.server } : {}) })),
      advertised: listeners.indexOf(advertised),
      logger: logger.child('rest'), loggerLevels, version: CONNECT_VERSION, commit: 'conveyor', metrics: metricsEndpoint,
    });
    closers.push(() => rest.close());
    const advertisedHost = config.optionalString('rest.advertised.host.name') ?? (advertised.host === '0.0.0.0' ? 'localhost' : advertised.host);
    const advertisedPort = config.optionalString('rest.advertised.port') === null ? rest.port : config.number('rest.advertised.port');
    const workerId = `${advertisedHost}:${advertisedPort}`;
    const otherPlugins = [...converterPlugins, ...transformPlugins, ...predicatePlugins];
    const onTaskReconfiguration = (name: string) => herder?.requestTaskReconfiguration(name);
    if (mode === 'standalone') {
      const offsets = await FileOffsetStore.open(config.string('offset.storage.file.filename'));
      const worker: Worker = new Worker({ workerId, config, plugins, kafka, offsets, logger: logger.child('worker'), onTaskReconfiguration });
      metrics = () => worker.metrics();
      counts = () => worker.counts();
      const standalone = new StandaloneHerder({ worker, plugins, kafka, offsets, kafkaClusterId, logger: logger.child('herder'), otherPlugins });
      herder = standalone;
      closers.push(() => standalone.stop());
      for (const connector of options.connectors ?? []) {
        const name = connector.name;
        if (!name) throw new Error('a connector configuration has no name');
        await standalone.putConnectorConfig(name, { ...connector }, false);
      }
    } else {
      const topic = (prefix: 'config' | 'offset' | 'status', partitions: number): TopicSettings => ({
        name: config.string(`${prefix}.storage.topic`),
        partitions,
        replicationFactor: config.number(`${prefix}.storage.replication.factor`),
      });
      const statuses = new StatusStore(kafka, topic('status', config.number('status.storage.partitions')), logger.child('status'));
      // Under exactly-once sources (and while preparing for them) offsets are read read_committed (KIP-618).
      const exactlyOnce = config.string('exactly.once.source.support');
      const offsets = new KafkaOffsetStore(kafka, { ...topic('offset', config.number('offset.storage.partitions')), readCommitted: exactlyOnce !== 'disabled' }, logger.child('offsets'));
      await statuses.start();
      closers.push(() => statuses.stop());
      await offsets.start();
      closers.push(() => offsets.stop());
      const worker: Worker = new Worker({
        workerId, config, plugins, kafka, offsets, logger: logger.child('worker'), onTaskReconfiguration,
        ...(exactlyOnce === 'enabled' ? {
          exactlyOnce: {
            groupId: config.string('group.id'),
            offsetsTopic: () => offsets.topic,
            offsetRecord,
            committed: (entries: readonly OffsetEntry[]) => offsets.applyCommitted(entries),
            fenceZombies: (connector: string): Promise<void> => distributed.fenceZombiesForTask(connector),
            taskGeneration: (connector: string): number => distributed.configs.taskGeneration(connector),
          },
        } : {}),
      });
      metrics = () => worker.metrics();
      counts = () => worker.counts();
      const distributed: DistributedHerder = new DistributedHerder({
        worker, plugins, kafka, offsets, statuses, kafkaClusterId, logger: logger.child('herder'), otherPlugins,
        configTopic: topic('config', 1),
        groupId: config.string('group.id'),
        timeouts: { sessionTimeoutMs: config.number('session.timeout.ms'), rebalanceTimeoutMs: config.number('rebalance.timeout.ms'), heartbeatIntervalMs: config.number('heartbeat.interval.ms') },
        maxDelayMs: config.number('scheduled.rebalance.max.delay.ms'),
        workerUrl: `${advertised.protocol}://${advertisedHost.includes(':') ? `[${advertisedHost}]` : advertisedHost}:${advertisedPort}`,
        ...(tls ? { forwardTls: tls.client } : {}),
        applyLoggerLevel: (namespace: string, level: string) => void loggerLevels.setLevel(namespace, level),
        exactlyOnceSource: exactlyOnce === 'enabled',
      });
      await distributed.start();
      herder = distributed;
      closers.push(() => distributed.stop());
    }
    logger.info(`Connect worker ${workerId} started (${mode}), REST API at ${rest.url}`);
    const running = herder;
    return { url: rest.url, port: rest.port, workerId, herder: running, metrics: () => metrics(), close: closeAll };
  } catch (error) {
    await closeAll().catch(() => undefined);
    throw error;
  }
}

/**
 * A Herder whose every method forwards to the herder once it exists: the REST server starts
 * before the herder (whose worker id is the REST address) and answers 503 until then.
 */
function lazyHerder(get: () => Herder | undefined): Herder {
  return new Proxy({} as Herder, {
    get(_target, property) {
      const herder = get();
      if (!herder) {
        if (property === 'workerId') return '';
        return () => {
          throw new ConnectRestError(503, 'Worker is still starting up.');
        };
      }
      const value = (herder as unknown as Record<PropertyKey, unknown>)[property];
      return typeof value === 'function' ? value.bind(herder) : value;
    },
  });
}

/**
 * The https listeners' TLS options (listeners.https.ssl.*, else ssl.*), read and tried at start so
 * a bad key store or password fails naming its key: the server's, and the client's this worker
 * forwards requests to other workers' https listeners with (their certificates checked against the
 * same trust store, this worker's certificate presented when they ask for one).
 */
async function restTls(props: Readonly<Record<string, string>>): Promise<{ server: TlsOptions; client: ConnectionOptions }> {
  const settings = restTlsSettings(props);
  const stores = await tlsStoreOptions('the https REST listener', settings, (path) => readFile(path));
  const identification = props[settings.keyNames['ssl.endpoint.identification.algorithm']!] ?? 'https';
  return {
    server: { ...stores, requestCert: settings.clientAuth !== 'none', rejectUnauthorized: settings.clientAuth === 'required' },
    client: { ...stores, rejectUnauthorized: true, ...(identification.trim() === '' ? { checkServerIdentity: () => undefined } : {}) },
  };
}
