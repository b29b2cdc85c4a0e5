// Runs only the client-side tools of the conveyor command line from source (no broker modules are
// loaded, so each spawned tool starts quicker than through the full CLI), with main.ts's handling
// of errors and exit codes.
import { Command, CommanderError } from 'commander';
import { registerClusterCommand } from '../../src/cli/cluster-command.js';
import { registerConfigsCommand } from '../../src/cli/configs-command.js';
import { registerConsumeCommand } from '../../src/cli/consume-command.js';
import { registerPerfCommand } from '../../src/cli/perf-command.js';
import { registerProduceCommand } from '../../src/cli/produce-command.js';
import { registerRecordsCommand } from '../../src/cli/records-command.js';
import { registerTopicsCommand } from '../../src/cli/topics-command.js';

const program = new Command('conveyor').exitOverride();
for (const register of [registerTopicsCommand, registerConfigsCommand, registerProduceCommand, registerConsumeCommand, registerClusterCommand, registerRecordsCommand, registerPerfCommand]) register(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write(`conveyor: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
