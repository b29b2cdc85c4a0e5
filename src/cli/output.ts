// What the tools share: the --bootstrap-server, --command-config and --json options, a cluster
// client opened and closed around each command, aligned tables for people and JSON for scripts.
// --command-config is Kafka's: a properties file with the client's security settings
// (security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.*, ssl.keystore.*), read and
// checked before any connection; every connection the tool opens is then secured as it says.
import type { Command } from 'commander';
import { AdminClient } from '../client/admin-client.js';
import type { Connector } from '../client/byte-stream.js';
import { ClusterClient, ToolError } from '../client/cluster-client.js';
import { KafkaConnection } from '../client/kafka-connection.js';
import { connectTcp } from '../node/tcp-byte-stream.js';

export const DEFAULT_BOOTSTRAP_SERVER = 'localhost:9092';

export interface ToolOptions {
  bootstrapServer: string;
  /** A properties file with the client's security settings (Kafka's --command-config). */
  commandConfig?: string;
  json?: boolean;
}

/** The --command-config option alone, for tools that declare --bootstrap-server themselves. */
export function commandConfigOption(command: Command): Command {
  return command.option(
    '--command-config <file>',
    "a properties file with Kafka's client security settings: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.* and ssl.keystore.* (PEM), ssl.endpoint.identification.algorithm",
  );
}

/** Adds the options every tool takes. */
export function toolOptions(command: Command): Command {
  return commandConfigOption(command.option('--bootstrap-server <host:port>', 'a broker to connect to', DEFAULT_BOOTSTRAP_SERVER)).option('--json', 'print JSON for scripts instead of tables');
}

/**
 * The connector of a tool's connections: plain TCP, or as --command-config says (TLS, SASL). The
 * file is read and checked now, so a bad setting fails before any connection, naming its key.
 */
export async function connectorFor(options: { commandConfig?: string }): Promise<Connector> {
  if (options.commandConfig === undefined) return connectTcp;
  const { loadClientSecurity } = await import('../node/client-security.js');
  return (await loadClientSecurity(options.commandConfig)).connect;
}

/** A cluster client on the bootstrap server, secured as --command-config says; the caller closes it. */
export async function openCluster(options: { bootstrapServer: string; commandConfig?: string }): Promise<ClusterClient> {
  return new ClusterClient(await connectorFor(options), options.bootstrapServer);
}

/** Runs `action` with an admin client on the bootstrap server, closing it afterwards. */
export async function withAdmin<T>(options: ToolOptions, action: (admin: AdminClient) => Promise<T>): Promise<T> {
  const cluster = await openCluster(options);
  try {
    return await action(new AdminClient(cluster));
  } finally {
    cluster.close();
  }
}

/** Runs `action` on one connection to the bootstrap server, closing it afterwards. */
export async function withConnection<T>(options: { bootstrapServer: string; commandConfig?: string }, action: (connection: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = await KafkaConnection.open(await connectorFor(options), options.bootstrapServer);
  try {
    return await action(connection);
  } finally {
    connection.close();
  }
}

/** Columns padded to their widest cell; the first row is the header. */
export function table(rows: readonly (readonly (string | number | null)[])[]): string {
  const cells = rows.map((row) => row.map((cell) => (cell === null ? '' : String(cell))));
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n');
}

/** Prints `json` with --json, `text` otherwise. */
export function print(options: { json?: boolean }, json: unknown, text: () => string): void {
  process.stdout.write(options.json ? `${JSON.stringify(json, null, 2)}\n` : `${text()}\n`);
}

/** Parses Kafka's `k=v,k2=v2` config lists; a value with commas goes in brackets: `k=[a,b]`. */
export function parseConfigList(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const pattern = /\s*([^=,\s]+)\s*=\s*(\[[^\]]*\]|[^,]*)\s*(?:,|$)/y;
  let match: RegExpExecArray | null;
  while (pattern.lastIndex < text.length && (match = pattern.exec(text)) !== null) {
    const value = match[2]!.trim();
    result[match[1]!] = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  }
  if (pattern.lastIndex < text.length) throw new ToolError(`cannot parse '${text}': expected key=value[,key=value...] (use key=[a,b] for lists)`);
  return result;
}

/** Commander's collector for repeatable options. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** A non-negative integer option, with a message naming the option. */
export function integerOption(name: string, text: string | undefined, min = 0): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim()) || Number(text) < min) throw new ToolError(`${name} must be an integer of at least ${min}, got '${text}'`);
  return Number(text);
}
