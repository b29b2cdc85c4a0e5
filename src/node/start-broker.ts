// Runs a broker in this process with the real clock, network and either the real file system or an
// in-memory one: the embedded broker for applications and tests, and what the CLI starts.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '../base/clock.js';
import type { LogLevelName } from '../base/logger.js';
import { silentLogger } from '../base/logger.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { Broker } from '../broker/broker.js';
import type { MetricsServer } from '../admin/metrics-server.js';
import type { ConsoleServer } from '../console/server.js';
import type { BrokerMetricsReading } from '../console/sampler.js';
import { ALL_TOPICS } from '../broker/metrics/broker-metrics.js';
import { type ConfigInput, type HostAndPort, resolveBrokerConfig } from '../broker/broker-config.js';
import { NodeFileSystem } from './node-file-system.js';
import { consoleLogger, keepingProcessAlive, systemClock, systemRandom } from './system.js';
import { connectTcp } from './tcp-byte-stream.js';

export interface StartBrokerOptions {
  /**
   * Port of the default PLAINTEXT listener; ignored if config sets `listeners`. A fixed port listens
   * on `localhost` (IPv4 and IPv6 loopback, for addresses typed by hand); 0 picks a free port on
   * 127.0.0.1, which `bootstrapServers` names (nobody can type an address not known in advance).
   */
  port?: number;
  /** Where the logs live (log.dirs). Defaults to a new temporary directory for disk storage. */
  dataDir?: string;
  /** Kafka server.properties keys, e.g. { 'num.partitions': 3 }. */
  config?: ConfigInput;
  /** 'memory' keeps everything in memory: starts in milliseconds, leaves nothing on disk. */
  storage?: 'disk' | 'memory';
  /** Log level on stderr; 'silent' (the default for embedded brokers) prints nothing. */
  logLevel?: LogLevelName;
  /** Tests only: the clock the broker runs on (a test that moves time forward); the system clock otherwise. */
  clock?: Clock;
  /** Told when the broker stopped itself (its metadata log's directory failed). */
  onHalted?: (reason: string) => void;
  /**
   * When given, a metrics endpoint (metrics.listeners) that cannot be bound is reported here and
   * the broker runs without it (`conveyor start`'s default endpoint); otherwise the start fails.
   */
  onMetricsUnavailable?: (error: Error) => void;
  /**
   * When given, a web console (console.listeners) that cannot be bound is reported here and the
   * broker runs without it (`conveyor start`'s default console); otherwise the start fails.
   */
  onConsoleUnavailable?: (error: Error) => void;
  /** Tests only: how often the console samples the cluster for its live charts (default 5 s). */
  consoleSampleIntervalMs?: number;
}

export interface RunningBroker {
  /** The advertised host clients connect to. */
  host: string;
  port: number;
  /** `host:port`, ready for a client's bootstrap servers. */
  bootstrapServers: string;
  dataDir: string;
  clusterId: string;
  nodeId: number;
  /** The Prometheus endpoint's URLs (metrics.listeners), empty without one. */
  metricsUrls: readonly string[];
  /** The web console's URLs (console.listeners), empty without one. */
  consoleUrls: readonly string[];
  /** Stops accepting, answers what is in flight, flushes and checkpoints the logs. */
  close(): Promise<void>;
  /** The broker itself, for tools and tests that look inside. */
  broker: Broker;
}

export async function startBroker(options: StartBrokerOptions = {}): Promise<RunningBroker> {
  const storage = options.storage ?? 'disk';
  const input = new Map<string, string>();
  if (options.config) {
    const entries = options.config instanceof Map ? [...options.config.entries()] : Object.entries(options.config);
    for (const [key, value] of entries) input.set(key, String(value));
  }
  if (!input.has('listeners')) input.set('listeners', defaultListener(options.port ?? 9092));
  const dataDir = options.dataDir ?? (input.get('log.dirs') || input.get('log.dir')) ?? (storage === 'memory' ? '/conveyor' : await mkdtemp(join(tmpdir(), 'conveyor-')));
  if (!input.has('log.dirs')) input.set('log.dirs', dataDir);
  const config = resolveBrokerConfig(input);
  const level = options.logLevel ?? 'silent';
  const broker = await Broker.start({
    config,
    fs: storage === 'memory' ? new MemoryFileSystem() : new NodeFileSystem(),
    clock: options.clock ?? systemClock,
    random: systemRandom,
    logger: level === 'silent' ? silentLogger : consoleLogger(level),
    connect: connectTcp,
    ...(options.onHalted ? { onHalted: options.onHalted } : {}),
  });
  const metricsServer = await startMetrics(broker, config.metricsListeners, options.onMetricsUnavailable);
  const endpoint = broker.endpoints[0]!;
  const consoleServer = await startConsole(broker, config, `${endpoint.host}:${endpoint.port}`, options).catch(async (error: unknown) => {
    await metricsServer?.close();
    throw error;
  });
  return {
    host: endpoint.host,
    port: endpoint.port,
    bootstrapServers: `${endpoint.host}:${endpoint.port}`,
    dataDir: config.logDir,
    clusterId: broker.services.clusterId,
    nodeId: config.nodeId,
    metricsUrls: metricsServer?.urls ?? [],
    consoleUrls: consoleServer?.urls ?? [],
    close: () => keepingProcessAlive((async () => {
      await consoleServer?.close();
      await metricsServer?.close();
      await broker.close();
    })()),
    broker,
  };
}

/** The metrics endpoint, loaded only when configured; a failure to bind closes the broker (or is reported, when optional). */
async function startMetrics(broker: Broker, listeners: readonly HostAndPort[], onUnavailable: ((error: Error) => void) | undefined): Promise<MetricsServer | undefined> {
  const source = broker.metricsSource();
  if (source === undefined || listeners.length === 0) return undefined;
  try {
    const { startMetricsServer } = await import('../admin/metrics-server.js');
    return await startMetricsServer(source, listeners);
  } catch (error) {
    if (onUnavailable !== undefined && error instanceof Error) {
      onUnavailable(error);
      return undefined;
    }
    await broker.close().catch(() => undefined);
    throw error;
  }
}

/**
 * The web console, loaded only when configured. It talks to this broker over the Kafka protocol
 * (its first listener), as it would to any cluster; a failure to bind closes the broker (or is
 * reported, when optional).
 */
async function startConsole(broker: Broker, config: ReturnType<typeof resolveBrokerConfig>, bootstrapServer: string, options: StartBrokerOptions): Promise<ConsoleServer | undefined> {
  if (config.consoleListeners.length === 0) return undefined;
  try {
    const { startConsoleServer } = await import('../console/server.js');
    return await startConsoleServer({
      bootstrapServer,
      connect: connectTcp,
      clientConfig: new Map([['bootstrap.servers', bootstrapServer]]),
      listeners: config.consoleListeners,
      listenerKey: 'console.listeners',
      ...(config.consoleConnectUrl === '' ? {} : { connectUrl: config.consoleConnectUrl }),
      ...(options.consoleSampleIntervalMs === undefined ? {} : { sampleIntervalMs: options.consoleSampleIntervalMs }),
      ...brokerMetricsFor(broker),
    });
  } catch (error) {
    if (options.onConsoleUnavailable !== undefined && error instanceof Error) {
      options.onConsoleUnavailable(error);
      return undefined;
    }
    await broker.close().catch(() => undefined);
    throw error;
  }
}

/** The console's reading of this broker's metrics, when it counts them (metrics.listeners is set). */
function brokerMetricsFor(broker: Broker): { brokerMetrics?: () => BrokerMetricsReading } {
  const metrics = broker.metricsSource()?.metrics;
  if (metrics === undefined) return {};
  const total = (name: string) => {
    const histogram = metrics.requests.get(name)?.phases.TotalTimeMs;
    return { sumMs: histogram?.sum ?? 0, count: histogram?.count ?? 0 };
  };
  return {
    brokerMetrics: () => {
      const all = metrics.topics.get(ALL_TOPICS);
      return { produce: total('Produce'), fetch: total('FetchConsumer'), bytesIn: all?.bytesIn ?? 0, bytesOut: all?.bytesOut ?? 0 };
    },
  };
}

/**
 * A free port is only ever reached through the address startBroker returns, so it is bound on IPv4
 * loopback alone: binding `::1` as well costs Node a few milliseconds on its first IPv6 address
 * (the validation regex is compiled), a fifth of an embedded broker's start.
 */
function defaultListener(port: number): string {
  return port === 0 ? 'PLAINTEXT://127.0.0.1:0' : `PLAINTEXT://localhost:${port}`;
}
