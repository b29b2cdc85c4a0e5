// `conveyor users add|list|remove`: SCRAM users (KIP-554), what `kafka-configs.sh --entity-type
// users --add-config 'SCRAM-SHA-256=[iterations=8192,password=...]'` does, as its own command. The
// password is salted on this side (only the salted password reaches the broker) and comes from
// --password or, without it, from the first line of standard input, so it need not be in a shell's
// history. The brokers keep the stored and server keys in the metadata log, never the password.
import type { Command } from 'commander';
import { SCRAM_MECHANISMS, SCRAM_MIN_ITERATIONS } from '../base/scram.js';
import type { UserResult } from '../client/admin-client.js';
import { ToolError } from '../client/cluster-client.js';
import { type ToolOptions, collect, integerOption, print, table, toolOptions, withAdmin } from './output.js';

interface AddOptions extends ToolOptions {
  user: string;
  password?: string;
  mechanism: string[];
  iterations: string;
}

interface RemoveOptions extends ToolOptions {
  user: string;
  mechanism: string[];
}

interface ListOptions extends ToolOptions {
  user: string[];
}

const MECHANISM_NAMES: readonly string[] = SCRAM_MECHANISMS.map(({ name }) => name);

function mechanismsOf(given: readonly string[], fallback: readonly string[]): string[] {
  const mechanisms = given.length > 0 ? given.map((name) => name.toUpperCase()) : [...fallback];
  for (const mechanism of mechanisms) {
    if (!MECHANISM_NAMES.includes(mechanism)) throw new ToolError(`--mechanism: '${mechanism}' is not one of ${MECHANISM_NAMES.join(', ')}`);
  }
  return [...new Set(mechanisms)];
}

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('password: ');
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '') throw new ToolError('no password: give --password or write it on standard input');
  return password;
}

/** Fails the command with every user's refusal, after printing what succeeded. */
function report(results: readonly UserResult[], options: ToolOptions, done: string): void {
  const failed = results.filter((result) => result.error !== null);
  print(options, results, () => results.map((result) => (result.error === null ? `${done} ${result.user}` : `${result.user}: ${result.error}: ${result.message ?? ''}`)).join('\n'));
  if (failed.length > 0) throw new ToolError(`${failed.length} of ${results.length} users not changed`);
}

export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('SCRAM users: add, list and remove the credentials clients authenticate with');
  toolOptions(
    users
      .command('add')
      .description('add a SCRAM user, or change its password (one credential per mechanism)')
      .requiredOption('--user <name>', 'the user name (its principal is User:<name>)')
      .option('--password <password>', 'the password (without it: the first line of standard input)')
      .option('--mechanism <name>', `${MECHANISM_NAMES.join(' or ')} (repeatable; default: both)`, collect, [])
      .option('--iterations <n>', 'PBKDF2 iterations (4096 to 16384)', '8192'),
  ).action(async (options: AddOptions) => {
    const iterations = integerOption('--iterations', options.iterations, SCRAM_MIN_ITERATIONS)!;
    const mechanisms = mechanismsOf(options.mechanism, MECHANISM_NAMES);
    const password = options.password ?? (await readPassword());
    // Kafka changes one credential per user and request: one request per mechanism.
    const results = await withAdmin(options, async (admin) => {
      const all: UserResult[] = [];
      for (const mechanism of mechanisms) {
        const [result] = await admin.alterUserScramCredentials([{ user: options.user, mechanism, password, iterations }], []);
        all.push({ ...result!, user: `${options.user} (${mechanism})` });
      }
      return all;
    });
    report(results, options, 'set the credential of');
  });
  toolOptions(
    users
      .command('list')
      .description("list SCRAM users and their credentials' mechanisms and iterations")
      .option('--user <name>', 'only this user (repeatable)', collect, []),
  ).action(async (options: ListOptions) => {
    const described = await withAdmin(options, (admin) => admin.describeUserScramCredentials(options.user.length > 0 ? options.user : null));
    const sorted = [...described].sort((a, b) => a.user.localeCompare(b.user));
    print(options, sorted, () => {
      const rows = sorted.flatMap((user) => (user.error !== null ? [[user.user, user.error, user.message ?? '']] : user.credentials.map((credential) => [user.user, credential.mechanism, String(credential.iterations)])));
      return rows.length === 0 ? 'no SCRAM users' : table([['USER', 'MECHANISM', 'ITERATIONS'], ...rows]);
    });
    if (sorted.some((user) => user.error !== null)) throw new ToolError('some users could not be described');
  });
  toolOptions(
    users
      .command('remove')
      .description("remove a SCRAM user's credentials")
      .requiredOption('--user <name>', 'the user name')
      .option('--mechanism <name>', 'only this mechanism (repeatable; default: every credential the user has)', collect, []),
  ).action(async (options: RemoveOptions) => {
    const results = await withAdmin(options, async (admin) => {
      let mechanisms = mechanismsOf(options.mechanism, []);
      if (mechanisms.length === 0) {
        const [described] = await admin.describeUserScramCredentials([options.user]);
        if (!described || described.error !== null) throw new ToolError(`user ${options.user}: ${described?.error ?? 'not described'}: ${described?.message ?? ''}`);
        mechanisms = described.credentials.map(({ mechanism }) => mechanism);
      }
      const all: UserResult[] = [];
      for (const mechanism of mechanisms) {
        const [result] = await admin.alterUserScramCredentials([], [{ user: options.user, mechanism }]);
        all.push({ ...result!, user: `${options.user} (${mechanism})` });
      }
      return all;
    });
    report(results, options, 'removed the credential of');
  });
}
