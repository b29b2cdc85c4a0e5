// `conveyor start`: runs a broker in the foreground with Kafka's configuration vocabulary, until
// Ctrl-C or SIGTERM shuts it down cleanly.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConfigError, parseProperties } from '../base/config-def.js';
import type { LogLevelName } from '../base/logger.js';
import { startBroker } from '../node/start-broker.js';

interface StartOptions {
  config?: string;
  set: string[];
  port?: string;
  dataDir?: string;
  nodeId?: string;
  logLevel: LogLevelName;
  storage: 'disk' | 'memory';
}

/**
 * The node flag a broker process runs with: V8's old generation allowed 64 MB before its first
 * full collection (bin/conveyor.js, which adds it to `conveyor start`, says why). `npm start`,
 * `conveyor dev`'s nodes and the benchmarks pass it too.
 */
export const BROKER_HEAP_FLAG = '--initial-old-space-size=64';

/** The longest a clean shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run a broker on localhost:9092 (Kafka server.properties keys apply)')
    .option('-c, --config <file>', 'a server.properties file')
    .option('-s, --set <key=value>', 'set a server.properties key (repeatable)', collect, [])
    .option('-p, --port <port>', 'port of the PLAINTEXT listener on localhost (default 9092)')
    .option('-d, --data-dir <dir>', 'log directory (log.dirs, default ./data)')
    .option('--node-id <id>', 'node.id of this broker (default 1)')
    .option('--storage <kind>', "'disk' or 'memory' (nothing kept after exit)", 'disk')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (options: StartOptions) => {
      await runBroker(options);
    });
}

async function configFrom(options: StartOptions): Promise<Map<string, string>> {
  const config = options.config ? parseProperties(await readFile(options.config, 'utf8')) : new Map<string, string>();
  for (const assignment of options.set) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new ConfigError(assignment, 'expected --set key=value');
    config.set(assignment.slice(0, equals).trim(), assignment.slice(equals + 1));
  }
  if (options.port !== undefined) config.set('listeners', `PLAINTEXT://localhost:${options.port}`);
  if (options.dataDir !== undefined) config.set('log.dirs', options.dataDir);
  if (options.nodeId !== undefined) config.set('node.id', options.nodeId);
  if (!config.has('log.dirs') && !config.has('log.dir')) config.set('log.dirs', './data');
  return config;
}

/** `npm start`'s Prometheus endpoint: served when the broker runs on its defaults (no configuration file, port or listeners given). */
const DEV_METRICS_LISTENER = 'http://localhost:9404';
/** `npm start`'s web console, on the same terms. */
const DEV_CONSOLE_LISTENER = 'http://localhost:8080';

function usesDevDefaults(options: StartOptions, config: Map<string, string>): boolean {
  return options.config === undefined && options.port === undefined && !config.has('listeners');
}

async function runBroker(options: StartOptions): Promise<void> {
  const startedAt = performance.now();
  const config = await configFrom(options);
  // Signals are handled from the start: one that arrives while the logs load stops the broker as
  // soon as it is up, cleanly, instead of killing the process mid-start.
  let running: Awaited<ReturnType<typeof startBroker>> | undefined;
  let pendingSignal: string | undefined;
  const onSignal = (signal: string) => {
    if (running) return stop(signal);
    if (pendingSignal !== undefined) {
      process.stderr.write(`${signal} again: exiting before the broker is up\n`);
      process.exit(130);
    }
    pendingSignal = signal;
    process.stderr.write(`${signal}: stopping once the broker is up\n`);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const devDefaults = usesDevDefaults(options, config);
  // Each default applies only where its key was not set (--set metrics.listeners= turns it off).
  const devMetrics = devDefaults && !config.has('metrics.listeners');
  const devConsole = devDefaults && !config.has('console.listeners');
  if (devMetrics) config.set('metrics.listeners', DEV_METRICS_LISTENER);
  if (devConsole) config.set('console.listeners', DEV_CONSOLE_LISTENER);
  running = await startBroker({
    config,
    storage: options.storage,
    logLevel: options.logLevel,
    // The default endpoint is a convenience: a second broker started the same way runs without it.
    ...(devMetrics ? { onMetricsUnavailable: (error: Error) => process.stderr.write(`metrics endpoint not started: ${error.message}\n`) } : {}),
    ...(devConsole ? { onConsoleUnavailable: (error: Error) => process.stderr.write(`web console not started: ${error.message}\n`) } : {}),
    // The broker stopped itself (its metadata log's directory failed): exit non-zero, as Kafka halts.
    onHalted: (reason) => {
      process.stderr.write(`broker stopped: ${reason}\n`);
      process.exit(1);
    },
  });
  process.stderr.write(
    `Conveyor broker ${running.nodeId} ready on ${running.bootstrapServers} in ${Math.round(performance.now() - startedAt)} ms ` +
      `(data: ${options.storage === 'memory' ? 'in memory' : running.dataDir}${running.metricsUrls.length > 0 ? `; metrics: ${running.metricsUrls.join(', ')}` : ''}${running.consoleUrls.length > 0 ? `; console: ${running.consoleUrls.join(', ')}` : ''}). Ctrl-C stops it.\n`,
  );
  const broker = running;
  let stopping = false;
  function stop(signal: string): void {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without a clean shutdown\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`${signal}: shutting down\n`);
    // A referenced timer keeps the process alive until the shutdown finishes, and bounds it.
    setTimeout(() => {
      process.stderr.write(`shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms: exiting\n`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    broker.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  }
  if (pendingSignal !== undefined) stop(pendingSignal);
}
