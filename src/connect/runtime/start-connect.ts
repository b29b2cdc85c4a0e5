// Starts a Connect worker in this process: `conveyor connect standalone` and tests call it.
// It reads Kafka Connect's worker keys, loads plugins, reaches the Kafka cluster, opens the
// REST API, and creates the connectors it was given. Standalone mode: one worker, source
// offsets in `offset.storage.file.filename`.
import type { LogLevelName, LogSink } from '../../base/logger.js';
import type { Connector as TransportConnector } from '../../client/byte-stream.js';
import { connectTcp } from '../../node/tcp-byte-stream.js';
import { converterPlugins } from './converters/index.js';
import type { Herder } from './herder.js';
import { LoggerLevels } from './logger-levels.js';
import { FileOffsetStore } from './offset-store.js';
import { PluginRegistry } from './plugins.js';
import { startRestServer } from './rest/rest-server.js';
import { StandaloneHerder } from './standalone-herder.js';
import { predicatePlugins, transformPlugins } from './transforms/index.js';
import { Worker } from './worker.js';
import { parseWorkerConfig, restListener } from './worker-config.js';
import { WorkerKafka } from './worker-kafka.js';

export const CONNECT_VERSION = '0.1.0';

export interface StartConnectOptions {
  /** Worker properties, Kafka Connect's keys (bootstrap.servers, key.converter, listeners, ...). */
  readonly worker: Readonly<Record<string, string>>;
  /** Connector configurations to create at start (each with its `name`). */
  readonly connectors?: readonly Readonly<Record<string, string>>[];
  /** Log level on stderr; 'silent' (the default, as for embedded brokers) prints nothing. */
  readonly logLevel?: LogLevelName;
  /** Where log lines go instead of stderr. */
  readonly logSink?: LogSink;
  /** How the worker reaches brokers (TCP by default). */
  readonly transport?: TransportConnector;
}

export interface RunningConnect {
  /** The REST API's base URL, e.g. http://127.0.0.1:8083. */
  readonly url: string;
  readonly port: number;
  readonly workerId: string;
  readonly herder: Herder;
  /** Stops every connector and task (committing their offsets), then the REST API. */
  close(): Promise<void>;
}

export async function startConnect(options: StartConnectOptions): Promise<RunningConnect> {
  const config = parseWorkerConfig('standalone', options.worker);
  const sink: LogSink = options.logSink ?? ((_level, line) => process.stderr.write(`${line}\n`));
  const loggerLevels = new LoggerLevels(sink, options.logLevel ?? 'silent');
  const logger = loggerLevels.logger('connect');
  const plugins = new PluginRegistry(logger.child('plugins'));
  await plugins.loadPluginPath(config.list('plugin.path'));
  const kafka = new WorkerKafka(options.transport ?? connectTcp, config.list('bootstrap.servers'), config.string('client.id') || 'connect');
  try {
    const kafkaClusterId = await kafka.kafkaClusterId();
    const offsets = await FileOffsetStore.open(config.string('offset.storage.file.filename'));
    const listener = restListener(config);
    let herder: StandaloneHerder | undefined;
    // The REST API opens first: the worker id is the address it serves on.
    const rest = await startRestServer(lazyHerder(() => herder), { host: listener.host, port: listener.port, logger: logger.child('rest'), loggerLevels, version: CONNECT_VERSION, commit: 'conveyor' });
    const advertisedHost = config.optionalString('rest.advertised.host.name') ?? (listener.host === '0.0.0.0' ? 'localhost' : listener.host);
    const advertisedPort = config.optionalString('rest.advertised.port') === null ? rest.port : config.number('rest.advertised.port');
    const workerId = `${advertisedHost}:${advertisedPort}`;
    const worker = new Worker({ workerId, config, plugins, kafka, offsets, logger: logger.child('worker'), onTaskReconfiguration: (name) => herder?.requestTaskReconfiguration(name) });
    herder = new StandaloneHerder({
      worker, plugins, kafka, offsets, kafkaClusterId, logger: logger.child('herder'),
      otherPlugins: [...converterPlugins, ...transformPlugins, ...predicatePlugins],
    });
    const running = herder;
    try {
      for (const connector of options.connectors ?? []) {
        const name = connector.name;
        if (!name) throw new Error('a connector configuration has no name');
        await running.putConnectorConfig(name, { ...connector }, false);
      }
    } catch (error) {
      await running.stop();
      await rest.close();
      throw error;
    }
    logger.info(`Connect worker ${workerId} started (standalone), REST API at ${rest.url}`);
    return {
      url: rest.url,
      port: rest.port,
      workerId,
      herder: running,
      close: async () => {
        await running.stop();
        await rest.close();
        kafka.close();
      },
    };
  } catch (error) {
    kafka.close();
    throw error;
  }
}

/**
 * A Herder whose every method forwards to the herder once it exists: the REST server starts
 * before the herder (whose worker id is the REST address) and answers 503-like errors until then.
 */
function lazyHerder(get: () => Herder | undefined): Herder {
  return new Proxy({} as Herder, {
    get(_target, property) {
      const herder = get();
      if (!herder) {
        if (property === 'workerId') return '';
        return () => {
          throw new Error('the worker is still starting');
        };
      }
      const value = (herder as unknown as Record<PropertyKey, unknown>)[property];
      return typeof value === 'function' ? value.bind(herder) : value;
    },
  });
}
