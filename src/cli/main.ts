// The conveyor command line: one program with a subcommand per tool. Each command's module is
// loaded only when that command runs, so `conveyor start` does not pay for the tools' clients.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../base/config-def.js';

type Register = (program: Command) => void;

/** Every command and where its definition lives, in the order `--help` lists them. */
const commandLoaders: Readonly<Record<string, () => Promise<Register>>> = {
  start: async () => (await import('./start-command.js')).registerStartCommand,
  storage: async () => (await import('./storage-command.js')).registerStorageCommand,
  dev: async () => (await import('./dev-command.js')).registerDevCommand,
  topics: async () => (await import('./topics-command.js')).registerTopicsCommand,
  configs: async () => (await import('./configs-command.js')).registerConfigsCommand,
  produce: async () => (await import('./produce-command.js')).registerProduceCommand,
  consume: async () => (await import('./consume-command.js')).registerConsumeCommand,
  groups: async () => (await import('./groups-command.js')).registerGroupsCommand,
  transactions: async () => (await import('./transactions-command.js')).registerTransactionsCommand,
  'leader-election': async () => (await import('./leader-election-command.js')).registerLeaderElectionCommand,
  'reassign-partitions': async () => (await import('./reassign-partitions-command.js')).registerReassignPartitionsCommand,
  cluster: async () => (await import('./cluster-command.js')).registerClusterCommand,
  records: async () => (await import('./records-command.js')).registerRecordsCommand,
  perf: async () => (await import('./perf-command.js')).registerPerfCommand,
  certs: async () => (await import('./certs-command.js')).registerCertsCommand,
  users: async () => (await import('./users-command.js')).registerUsersCommand,
  acls: async () => (await import('./acls-command.js')).registerAclsCommand,
  connect: async () => (await import('./connect-command.js')).registerConnectCommand,
  console: async () => (await import('./console-command.js')).registerConsoleCommand,
  transforms: async () => (await import('./transforms-command.js')).registerTransformsCommand,
};

/** The commands' names (bin/conveyor.js keeps a code cache per command). */
export const commandNames: readonly string[] = Object.keys(commandLoaders);

/** The program with `commandName` registered, or every command when it names none of them. */
export async function buildProgram(commandName?: string): Promise<Command> {
  const program = new Command('conveyor')
    .description('Conveyor: a Kafka-compatible event streaming platform for Node.js')
    .showHelpAfterError()
    .exitOverride();
  const loader = commandName === undefined ? undefined : commandLoaders[commandName];
  const loaders = loader ? [loader] : Object.values(commandLoaders);
  for (const register of await Promise.all(loaders.map((load) => load()))) register(program);
  return program;
}

/** Runs the CLI; configuration errors exit with status 2 and a message naming the key. */
export async function run(argv: string[]): Promise<void> {
  try {
    await (await buildProgram(argv[2])).parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) process.exit(error.exitCode);
    if (error instanceof ConfigError) {
      process.stderr.write(`conveyor: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`conveyor: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
