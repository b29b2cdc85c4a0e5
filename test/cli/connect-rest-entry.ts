// Runs the `conveyor connect` REST commands from source, on a `connect` command of their own (the
// worker commands beside them are not needed to talk to a worker), with main.ts's handling of
// errors and exit codes.
import { Command, CommanderError } from 'commander';
import { registerConnectRestCommands } from '../../src/cli/connect-rest-commands.js';

const program = new Command('conveyor').exitOverride();
registerConnectRestCommands(program.command('connect').exitOverride());
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  process.stderr.write(`conveyor: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
