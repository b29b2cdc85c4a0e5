// `conveyor cluster add-controller` and `remove-controller`: Kafka's `kafka-metadata-quorum.sh
// add-controller / remove-controller` (KIP-853). They speak to the controllers' listener
// (`--bootstrap-controller`, comma-separated host:port) with AddRaftVoter (80) or RemoveRaftVoter
// (81); only the quorum leader takes the change, so the tool asks each controller given in turn
// until one is the leader. The leader adds a voter only once it fetches as an observer and has
// caught up, so add-controller retries REQUEST_TIMED_OUT until its timeout; the change is in
// effect when the tool returns (committed).
//
// add-controller names the new voter by its replica key (KIP-853): its node id and the directory.id
// of its metadata log directory. As Kafka's tool, it reads them from the controller's own properties
// file (`--command-config`): node.id, the controller listener's endpoint, and the directory id from
// meta.properties in its first log directory, or --controller-directory-id. As Kafka's, it refuses
// without one: the quorum leader answers INVALID_REQUEST to a voter without a directory id.
// remove-controller names the voter the same way, by --controller-id and --controller-directory-id,
// both required as in Kafka's MetadataQuorumCommand (-i and -d for short, --dry-run to only print);
// the leader answers INVALID_REQUEST to the zero uuid and VOTER_NOT_FOUND to a key it does not hold.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parseProperties } from '../base/config-def.js';
import { resolveBrokerConfig } from '../broker/broker-config.js';
import { parseListeners } from '../broker/network/listeners.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaConnection } from '../client/kafka-connection.js';
import { KafkaResponseError, ToolError } from '../client/cluster-client.js';
import { connectTcp } from '../node/tcp-byte-stream.js';
import { AddRaftVoterApi, RemoveRaftVoterApi, ZERO_UUID } from '../protocol/messages/index.js';

export interface ControllerEndpoint {
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

interface VoterChangeAnswer {
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const RETRY_DELAY_MS = 250;

/**
 * Adds `controllerId` (its metadata log directory `directoryId`, reachable at `endpoint`) to the
 * quorum's voters.
 */
export async function addController(bootstrapControllers: readonly string[], controllerId: number, directoryId: string, endpoint: ControllerEndpoint, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  await changeVoters(bootstrapControllers, `adding controller ${controllerId}`, timeoutMs, (connection, remainingMs) =>
    connection.send(AddRaftVoterApi, 0, { clusterId: null, timeoutMs: Math.max(1, Math.min(remainingMs, 10_000)), voterId: controllerId, voterDirectoryId: directoryId, listeners: [endpoint] }),
  );
}

/** The directory.id in `logDir`'s meta.properties, or the zero uuid when it has none (or no meta.properties). */
export async function readDirectoryId(logDir: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(join(logDir, 'meta.properties'), 'utf8');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return ZERO_UUID;
    throw error;
  }
  return parseProperties(text).get('directory.id') || ZERO_UUID;
}

export interface ControllerIdentity {
  readonly id: number;
  readonly directoryId: string;
  /** Its first controller listener's endpoint, if it has one with a fixed port. */
  readonly endpoint: ControllerEndpoint | undefined;
}

/**
 * What Kafka's add-controller reads from the controller's properties file (--command-config): its
 * node.id, its controller listener, and the directory id of its metadata log directory (the first of
 * log.dirs), from that directory's meta.properties.
 */
export async function controllerIdentity(configFile: string): Promise<ControllerIdentity> {
  const config = resolveBrokerConfig(parseProperties(await readFile(configFile, 'utf8')));
  const listenerName = config.controllerListenerNames[0];
  const listener = listenerName === undefined ? undefined : parseListeners(config.listeners).find((candidate) => candidate.name === listenerName);
  const endpoint = listener && listener.port > 0 ? { name: listener.name, host: listener.host || 'localhost', port: listener.port } : undefined;
  return { id: config.nodeId, directoryId: await readDirectoryId(config.logDir), endpoint };
}

/** Removes the voter `controllerId` whose metadata log directory is `directoryId` from the quorum's voters. */
export async function removeController(bootstrapControllers: readonly string[], controllerId: number, directoryId: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  await changeVoters(bootstrapControllers, `removing controller ${controllerId}`, timeoutMs, (connection) =>
    connection.send(RemoveRaftVoterApi, 0, { clusterId: null, voterId: controllerId, voterDirectoryId: directoryId }),
  );
}

async function changeVoters(addresses: readonly string[], what: string, timeoutMs: number, send: (connection: KafkaConnection, remainingMs: number) => Promise<VoterChangeAnswer>): Promise<void> {
  if (addresses.length === 0) throw new ToolError('--bootstrap-controller names no controller');
  const deadline = Date.now() + timeoutMs;
  const problems = new Map<string, string>();
  for (;;) {
    for (const address of addresses) {
      let answer: VoterChangeAnswer;
      const connection = await KafkaConnection.open(connectTcp, address).catch((error: unknown) => error as Error);
      if (connection instanceof Error) {
        problems.set(address, `${address}: ${connection.message}`);
        continue;
      }
      try {
        answer = await send(connection, deadline - Date.now());
      } catch (error) {
        problems.set(address, `${address}: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      } finally {
        connection.close();
      }
      if (answer.errorCode === ErrorCode.NONE) return;
      // Not the leader, or not yet possible (the new voter catching up, an earlier change
      // committing, a new leader's first commit): try the next controller, then again.
      if (answer.errorCode !== ErrorCode.NOT_LEADER_OR_FOLLOWER && answer.errorCode !== ErrorCode.REQUEST_TIMED_OUT) {
        throw new KafkaResponseError(answer.errorCode, `${what} through ${address}`, answer.errorMessage);
      }
      problems.set(address, new KafkaResponseError(answer.errorCode, address, answer.errorMessage).message);
    }
    if (Date.now() >= deadline) throw new ToolError(`${what} did not succeed within ${timeoutMs} ms: ${[...problems.values()].join('; ')}`);
    await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
  }
}

function addressList(value: string): string[] {
  return value.split(',').map((entry) => entry.trim()).filter((entry) => entry.length > 0);
}

function parseEndpoint(value: string): ControllerEndpoint {
  const match = /^(?:([A-Za-z0-9_]+):\/\/)?(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value.trim());
  if (!match) throw new ToolError(`--controller-endpoint must be [NAME://]host:port, got '${value}'`);
  return { name: match[1] ?? 'CONTROLLER', host: match[2]!.replace(/^\[|\]$/g, ''), port: Number(match[3]) };
}

function nodeId(value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id < 0) throw new ToolError(`--controller-id must be a node id, got '${value}'`);
  return id;
}

export function registerControllerCommands(cluster: Command): void {
  cluster
    .command('add-controller')
    .description('make a controller that fetches the metadata log as an observer a voter of the quorum (KIP-853)')
    .requiredOption('--bootstrap-controller <host:port,...>', 'the controllers\' listener addresses; the quorum leader takes the change')
    .option('--command-config <file>', "the controller's own properties file (Kafka's form): its node.id, controller listener and metadata log directory's directory.id")
    .option('--controller-id <id>', 'the node id of the controller to add (instead of --command-config\'s node.id)')
    .option('--controller-endpoint <[NAME://]host:port>', 'its controller listener, NAME defaulting to CONTROLLER (instead of --command-config\'s)')
    .option('--controller-directory-id <uuid>', 'its metadata log directory id (instead of --command-config\'s meta.properties)')
    .option('--timeout-ms <ms>', 'how long to keep trying while it catches up', String(DEFAULT_TIMEOUT_MS))
    .action(async (options: { bootstrapController: string; commandConfig?: string; controllerId?: string; controllerEndpoint?: string; controllerDirectoryId?: string; timeoutMs: string }) => {
      const identity = options.commandConfig === undefined ? undefined : await controllerIdentity(options.commandConfig);
      const id = options.controllerId !== undefined ? nodeId(options.controllerId) : identity?.id;
      if (id === undefined) throw new ToolError('add-controller needs --command-config (the controller\'s properties file) or --controller-id');
      const endpoint = options.controllerEndpoint !== undefined ? parseEndpoint(options.controllerEndpoint) : identity?.endpoint;
      if (endpoint === undefined) throw new ToolError('add-controller needs the controller\'s listener: --controller-endpoint, or a --command-config whose controller listener has a fixed port');
      if (options.controllerDirectoryId !== undefined && !/^[A-Za-z0-9_-]{22}$/.test(options.controllerDirectoryId)) throw new ToolError(`--controller-directory-id must be a uuid (22 characters of base64url), got '${options.controllerDirectoryId}'`);
      const directoryId = options.controllerDirectoryId ?? (identity && identity.id === id ? identity.directoryId : ZERO_UUID);
      if (directoryId === ZERO_UUID) throw new ToolError('add-controller needs the controller\'s directory id: --controller-directory-id, or a --command-config whose metadata log directory\'s meta.properties has a directory.id');
      await addController(addressList(options.bootstrapController), id, directoryId, endpoint, Number(options.timeoutMs));
      console.log(`Added controller ${id} (directory ${directoryId}) as a voter of the metadata quorum.`);
    });
  cluster
    .command('remove-controller')
    .description('remove a voter from the metadata quorum (KIP-853); it goes on fetching as an observer while it runs')
    .requiredOption('--bootstrap-controller <host:port,...>', 'the controllers\' listener addresses; the quorum leader takes the change')
    .requiredOption('-i, --controller-id <id>', 'the node id of the voter to remove')
    .requiredOption('-d, --controller-directory-id <uuid>', 'its metadata log directory id (the directory.id in its meta.properties; DescribeQuorum lists each voter\'s)')
    .option('--dry-run', 'print what would be done, but do not do it')
    .option('--timeout-ms <ms>', 'how long to keep trying', String(DEFAULT_TIMEOUT_MS))
    .action(async (options: { bootstrapController: string; controllerId: string; controllerDirectoryId: string; dryRun?: boolean; timeoutMs: string }) => {
      const id = nodeId(options.controllerId);
      if (!/^[A-Za-z0-9_-]{22}$/.test(options.controllerDirectoryId)) throw new ToolError(`--controller-directory-id must be a uuid (22 characters of base64url), got '${options.controllerDirectoryId}'`);
      if (options.dryRun) {
        console.log(`DRY RUN of removing controller ${id} (directory ${options.controllerDirectoryId}) from the voters of the metadata quorum.`);
        return;
      }
      await removeController(addressList(options.bootstrapController), id, options.controllerDirectoryId, Number(options.timeoutMs));
      console.log(`Removed controller ${id} (directory ${options.controllerDirectoryId}) from the voters of the metadata quorum.`);
    });
}
