// The conveyor command line: one program with a subcommand per tool.
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../base/config-def.js';
import { registerClusterCommand } from './cluster-command.js';
import { registerConfigsCommand } from './configs-command.js';
import { registerConsumeCommand } from './consume-command.js';
import { registerGroupsCommand } from './groups-command.js';
import { registerTransactionsCommand } from './transactions-command.js';
import { registerProduceCommand } from './produce-command.js';
import { registerRecordsCommand } from './records-command.js';
import { registerPerfCommand } from './perf-command.js';
import { registerStartCommand } from './start-command.js';
import { registerTopicsCommand } from './topics-command.js';

export function buildProgram(): Command {
  const program = new Command('conveyor')
    .description('Conveyor: a Kafka-compatible event streaming platform for Node.js')
    .showHelpAfterError()
    .exitOverride();
  registerStartCommand(program);
  registerGroupsCommand(program);
  registerTransactionsCommand(program);
  registerTopicsCommand(program);
  registerConfigsCommand(program);
  registerProduceCommand(program);
  registerConsumeCommand(program);
  registerClusterCommand(program);
  registerRecordsCommand(program);
  registerPerfCommand(program);
  return program;
}

/** Runs the CLI; configuration errors exit with status 2 and a message naming the key. */
export async function run(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
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
