// `conveyor connect`: Kafka Connect. `connect standalone worker.properties connector.properties...`
// runs a standalone worker in the foreground (Kafka's connect-standalone.sh), and
// `connect distributed worker.properties` a worker of a Connect cluster (connect-distributed.sh),
// until Ctrl-C or SIGTERM stops it cleanly, committing offsets; the other subcommands talk to a
// running worker's REST API (connect-rest-commands.ts).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseProperties } from '../base/config-def.js';
import type { LogLevelName } from '../base/logger.js';
import { ConnectConfigException } from '../connect/api/config.js';
import { startConnect } from '../connect/runtime/start-connect.js';
import type { WorkerMode } from '../connect/runtime/worker-config.js';
import { connectorRequestFromFile, registerConnectRestCommands } from './connect-rest-commands.js';

/** The longest a clean shutdown may take before the process exits anyway. */
const SHUTDOWN_TIMEOUT_MS = 30_000;

export function registerConnectCommand(program: Command): void {
  const connect = program.command('connect').description('Kafka Connect: run a worker, manage its connectors over its REST API');
  connect
    .command('standalone <worker-properties> [connector-configs...]')
    .description('run a standalone Connect worker with these connectors (properties or JSON files)')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (workerFile: string, connectorFiles: string[], options: { logLevel: LogLevelName }) => {
      await runWorker('standalone', workerFile, connectorFiles, options.logLevel);
    });
  connect
    .command('distributed <worker-properties>')
    .description('run a worker of a distributed Connect cluster (its group.id); connectors come over the REST API')
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (workerFile: string, options: { logLevel: LogLevelName }) => {
      await runWorker('distributed', workerFile, [], options.logLevel);
    });
  registerConnectRestCommands(connect);
}

async function runWorker(mode: WorkerMode, workerFile: string, connectorFiles: readonly string[], logLevel: LogLevelName): Promise<void> {
  const worker = Object.fromEntries(parseProperties(await readFile(workerFile, 'utf8')));
  const connectors = await Promise.all(connectorFiles.map(async (file) => {
    const { name, config } = connectorRequestFromFile(file, await readFile(file, 'utf8'));
    return { ...Object.fromEntries(Object.entries(config).map(([key, value]) => [key, String(value)])), name };
  }));
  let running: Awaited<ReturnType<typeof startConnect>>;
  try {
    running = await startConnect({ mode, worker, connectors, logLevel });
  } catch (error) {
    if (error instanceof ConnectConfigException) throw new Error(`${workerFile}: ${error.message}`);
    throw error;
  }
  const what = mode === 'standalone' ? `running ${connectors.length} connector(s)` : `in group ${worker['group.id']}`;
  process.stderr.write(`Conveyor Connect worker ${running.workerId} (${mode}) ${what}; REST API at ${running.url}. Ctrl-C stops it.\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`${signal} again: exiting without a clean shutdown\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`${signal}: stopping connectors and committing offsets\n`);
    setTimeout(() => {
      process.stderr.write(`shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms: exiting\n`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    running.close().then(() => process.exit(0), (error: unknown) => {
      process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
