// `conveyor console`: the web console (and the HTTP API it uses) against any Kafka-protocol
// cluster, Apache Kafka included: it speaks only the Kafka protocol to --bootstrap-server, secured
// as --command-config says, and serves the pages on --listen until Ctrl-C or SIGTERM.
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { ConfigError } from '../base/config-def.js';
import { parseJavaProperties } from '../client/client-config.js';
import { commandConfigOption, connectorFor, DEFAULT_BOOTSTRAP_SERVER } from './output.js';

interface ConsoleOptions {
  bootstrapServer: string;
  commandConfig?: string;
  listen: string[];
  connectUrl?: string;
  sampleIntervalMs?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), ...value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '')];
}

export function registerConsoleCommand(program: Command): void {
  commandConfigOption(
    program
      .command('console')
      .description('serve the web console and the HTTP API (REST Proxy v3) for a cluster, over the Kafka protocol')
      .option('--bootstrap-server <host:port>', 'a broker of the cluster', DEFAULT_BOOTSTRAP_SERVER)
      .option('--listen <url>', 'where the console listens, http://host:port (repeatable; default http://localhost:8080)', collect)
      .option('--connect-url <url>', 'a Connect worker\'s REST URL, for the Connect page (e.g. http://localhost:8083)')
      .option('--sample-interval-ms <ms>', 'how often the live charts sample the cluster', '5000'),
  ).action(async (options: ConsoleOptions) => {
    await runConsole(options);
  });
}

/** http://host:port, as console.listeners takes it. */
function listenerOf(url: string): { host: string; port: number } {
  const match = /^http:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(url);
  if (match === null) throw new ConfigError('--listen', `'${url}' is not of the form http://{host}:{port}`);
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) };
}

async function runConsole(options: ConsoleOptions): Promise<void> {
  const listeners = (options.listen ?? ['http://localhost:8080']).map(listenerOf);
  const connect = await connectorFor(options);
  const clientConfig = options.commandConfig === undefined ? new Map<string, string>() : parseJavaProperties(await readFile(options.commandConfig, 'utf8'));
  clientConfig.set('bootstrap.servers', options.bootstrapServer);
  const { startConsoleServer } = await import('../console/server.js');
  const server = await startConsoleServer({
    bootstrapServer: options.bootstrapServer,
    connect,
    clientConfig,
    listeners,
    listenerKey: '--listen',
    ...(options.connectUrl === undefined ? {} : { connectUrl: options.connectUrl }),
    sampleIntervalMs: Math.max(500, Number(options.sampleIntervalMs) || 5_000),
  });
  process.stderr.write(`Conveyor console for ${options.bootstrapServer} on ${server.urls.join(', ')}. Ctrl-C stops it.\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`${signal}: stopping the console\n`);
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
