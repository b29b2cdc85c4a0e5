// `conveyor dev`: a local cluster of N combined broker+controller nodes for development, each its
// own process, as a person would run them by hand with `conveyor storage format` and `conveyor
// start`: one cluster id, one server.properties per node under DIR/node-<id>/ (data in
// DIR/node-<id>/data), every directory formatted, then `start --config` for each node through the
// same CLI entry as this process (bin/conveyor.js, or the sources through tsx), its output
// prefixed with `[node N] `. Once every node answers Metadata naming all N brokers it prints
// `bootstrap servers: ...`. Ctrl-C or SIGTERM stops every node cleanly (SIGTERM to each pid,
// SIGKILL after a bound); a node that exits on its own stops the others.
import { freePorts } from '../node/start-cluster.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { ConfigError } from '../base/config-def.js';
import { LogLevel } from '../base/logger.js';
import { randomUuid } from '../base/uuid.js';
import { resolveBrokerConfig } from '../broker/broker-config.js';
import { formatStorage, readMetaProperties } from '../broker/meta-properties.js';
import { ToolError } from '../client/cluster-client.js';
import { KafkaConnection } from '../client/kafka-connection.js';
import { ApiVersionsApi, MetadataApi } from '../protocol/messages/index.js';
import { NodeFileSystem } from '../node/node-file-system.js';
import { systemRandom } from '../node/system.js';
import { connectTcp } from '../node/tcp-byte-stream.js';
import { collect, integerOption } from './output.js';
import { BROKER_HEAP_FLAG } from './start-command.js';

interface DevOptions {
  brokers: string;
  dir?: string;
  basePort: string;
  set: string[];
  logLevel: string;
  readyTimeoutMs: string;
}

const HOST = '127.0.0.1';
/** How long every node may take to answer before the cluster is given up. */
const DEFAULT_READY_TIMEOUT_MS = 60_000;
/** A node's own clean shutdown is bounded at 30 s (start-command.ts); after a little more, SIGKILL. */
const STOP_TIMEOUT_MS = 35_000;
/** After SIGKILL, how long to wait for the kernel to reap a node before exiting anyway. */
const KILL_WAIT_MS = 5_000;

interface NodePlan {
  readonly nodeId: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly nodeDir: string;
  readonly dataDir: string;
  readonly configFile: string;
}

interface RunningNode {
  readonly plan: NodePlan;
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once the process has exited and its output is read to the end. */
  readonly closed: Promise<void>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export function registerDevCommand(program: Command): void {
  program
    .command('dev')
    .description('run a local cluster of N broker+controller nodes, each its own process, until Ctrl-C')
    .option('-n, --brokers <n>', 'how many nodes', '3')
    .option('-d, --dir <dir>', 'directory for the nodes\' configs and data (default: a new temporary directory, removed at a clean exit)')
    .option('-p, --base-port <port>', "node N's client port is base+2(N-1) and its controller port the next one; 0 picks free ports", '9092')
    .option('-s, --set <key=value>', 'a server.properties key for every node (repeatable)', collect, [])
    .option('--log-level <level>', "the nodes' log level: debug, info, warn or error", 'info')
    .option('--ready-timeout-ms <ms>', 'give up when the nodes do not all answer within this long', String(DEFAULT_READY_TIMEOUT_MS))
    .action(async (options: DevOptions) => {
      process.exitCode = await runDev(options);
    });
}

async function runDev(options: DevOptions): Promise<number> {
  const startedAt = performance.now();
  const count = integerOption('--brokers', options.brokers, 1)!;
  const basePort = integerOption('--base-port', options.basePort, 0)!;
  const readyTimeoutMs = integerOption('--ready-timeout-ms', options.readyTimeoutMs, 1)!;
  if (basePort !== 0 && basePort + 2 * count - 1 > 65_535) throw new ToolError(`--base-port ${basePort} leaves no room for ${2 * count} ports below 65536`);
  if (!Object.hasOwn(LogLevel, options.logLevel)) throw new ToolError(`--log-level must be one of ${Object.keys(LogLevel).join(', ')}, got '${options.logLevel}'`);
  const extra = parseAssignments(options.set);

  const temporary = options.dir === undefined;
  const dir = temporary ? await mkdtemp(join(tmpdir(), 'conveyor-dev-')) : resolve(options.dir!);
  const nodes: RunningNode[] = [];
  try {
    if (!temporary) await mkdir(dir, { recursive: true });
    const ports = basePort === 0 ? await freePorts(2 * count) : await claimPorts(basePort, count);
    const plans = Array.from({ length: count }, (_, index): NodePlan => {
      const nodeId = index + 1;
      const nodeDir = join(dir, `node-${nodeId}`);
      return { nodeId, port: ports[2 * index]!, controllerPort: ports[2 * index + 1]!, nodeDir, dataDir: join(nodeDir, 'data'), configFile: join(nodeDir, 'server.properties') };
    });
    const clusterId = await prepareStorage(dir, plans, extra);
    for (const plan of plans) nodes.push(startNode(plan, options.logLevel));
    process.stdout.write(`cluster id ${clusterId}\n`);
    for (const { plan, pid } of nodes) process.stdout.write(`node ${plan.nodeId} pid ${pid}: ${HOST}:${plan.port} (controller ${HOST}:${plan.controllerPort}), config ${plan.configFile}\n`);
  } catch (error) {
    // Nothing runs yet (or what started is stopped here); a temporary directory goes with it.
    if (nodes.length > 0) await stopNodes(nodes);
    if (temporary) await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return superviseNodes(nodes, { dir, temporary, readyTimeoutMs, startedAt });
}

/** `--set` assignments, checked for shape; their keys and values are checked with the whole configuration. */
function parseAssignments(assignments: readonly string[]): Map<string, string> {
  const extra = new Map<string, string>();
  for (const assignment of assignments) {
    const equals = assignment.indexOf('=');
    if (equals <= 0) throw new ConfigError(assignment, 'expected --set key=value');
    extra.set(assignment.slice(0, equals).trim(), assignment.slice(equals + 1));
  }
  return extra;
}

/**
 * Writes each node's server.properties and formats its data directory. A directory that already
 * holds this cluster (a --dir used before, with as many nodes) keeps its cluster id and data; one
 * that holds part of a cluster or a cluster of another size is refused.
 */
async function prepareStorage(dir: string, plans: readonly NodePlan[], extra: ReadonlyMap<string, string>): Promise<string> {
  const fs = new NodeFileSystem();
  const existing = new Map<number, string>();
  for (const plan of plans) {
    const identity = await readMetaProperties(fs, plan.dataDir, plan.nodeId);
    if (identity !== undefined) existing.set(plan.nodeId, identity.clusterId);
  }
  const otherNodes = (await readdir(dir)).filter((name) => /^node-\d+$/.test(name) && Number(name.slice(5)) > plans.length);
  if (existing.size > 0 && (existing.size < plans.length || otherNodes.length > 0)) {
    const formatted = existing.size + otherNodes.length;
    throw new ToolError(`${dir} holds another cluster (${formatted} node director${formatted === 1 ? 'y' : 'ies'}, not ${plans.length}): use another --dir, or the same --brokers as before`);
  }
  const clusterIds = new Set(existing.values());
  if (clusterIds.size > 1) throw new ToolError(`${dir} holds nodes of different clusters (${[...clusterIds].join(', ')}): use another --dir`);
  const clusterId = [...clusterIds][0] ?? randomUuid(systemRandom);
  const voters = plans.map((plan) => `${plan.nodeId}@${HOST}:${plan.controllerPort}`).join(',');
  for (const plan of plans) {
    const properties = new Map<string, string>(extra);
    properties.set('node.id', String(plan.nodeId));
    properties.set('process.roles', 'broker,controller');
    properties.set('listeners', `PLAINTEXT://${HOST}:${plan.port},CONTROLLER://${HOST}:${plan.controllerPort}`);
    properties.set('controller.listener.names', 'CONTROLLER');
    properties.set('controller.quorum.voters', voters);
    properties.set('log.dirs', plan.dataDir);
    // Refused here, naming the key, rather than by every node as it starts.
    resolveBrokerConfig(properties);
    await mkdir(plan.nodeDir, { recursive: true });
    const text = [...properties].map(([key, value]) => `${key}=${value}`).join('\n');
    await writeFile(plan.configFile, `# written by \`conveyor dev\` for node ${plan.nodeId} of cluster ${clusterId}\n${text}\n`);
    await formatStorage(fs, plan.dataDir, plan.nodeId, clusterId, { ignoreFormatted: existing.has(plan.nodeId) });
  }
  return clusterId;
}

/**
 * The command that runs this CLI again: the same node binary, its flags (the tsx loader when run
 * from source) and entry script, so a node runs the code this process runs. Inspector flags are
 * left out: every node would want the same debugger port.
 */
function cliCommand(): { command: string; args: string[] } {
  const entry = process.argv[1];
  if (entry === undefined) throw new ToolError('cannot tell how this CLI was started (no entry script in process.argv)');
  const flags = process.execArgv.filter((flag) => !/^--(inspect|debug)/.test(flag));
  // The old-space floor `conveyor start` runs a broker with (bin/conveyor.js), also on a Node that cannot add it itself.
  if (!flags.some((flag) => flag.startsWith('--initial-old-space-size'))) flags.push(BROKER_HEAP_FLAG);
  return { command: process.execPath, args: [...flags, entry] };
}

/**
 * Makes a node end cleanly when this process dies without stopping it (kill -9, a crash): the IPC
 * channel to the node closes with this process, and the node then sends itself SIGTERM, which
 * `conveyor start` answers with a clean shutdown.
 */
const ORPHAN_WATCHDOG = `data:text/javascript,${encodeURIComponent('process.on("disconnect",()=>process.kill(process.pid,"SIGTERM"));')}`;

function startNode(plan: NodePlan, logLevel: string): RunningNode {
  const { command, args } = cliCommand();
  const child = spawn(command, [`--import=${ORPHAN_WATCHDOG}`, ...args, 'start', '--config', plan.configFile, '--log-level', logLevel], {
    // Its own process group: a Ctrl-C in the terminal reaches this process only, which stops the
    // nodes once each (a node that got SIGINT from the terminal and SIGTERM from here would take
    // the second signal as "exit without a clean shutdown").
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  if (child.pid === undefined) throw new ToolError(`could not start node ${plan.nodeId} (${command})`);
  const prefix = `[node ${plan.nodeId}] `;
  const forward = (stream: NodeJS.ReadableStream, to: NodeJS.WriteStream) =>
    new Promise<void>((done) => {
      const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
      lines.on('line', (line) => to.write(`${prefix}${line}\n`));
      lines.on('close', done);
    });
  const output = Promise.all([forward(child.stdout!, process.stdout), forward(child.stderr!, process.stderr)]);
  const node: RunningNode = {
    plan,
    child,
    pid: child.pid,
    exit: undefined,
    closed: new Promise<void>((done) => {
      child.once('close', () => {
        void output.then(() => done());
      });
    }),
  };
  child.once('exit', (code, signal) => {
    node.exit = { code, signal };
  });
  // A spawn failure after the pid is known (it cannot usually happen) ends like an exit.
  child.once('error', (error) => {
    process.stderr.write(`node ${plan.nodeId}: ${error.message}\n`);
    node.exit ??= { code: null, signal: null };
  });
  return node;
}

function isRunning(node: RunningNode): boolean {
  return node.exit === undefined && node.child.exitCode === null && node.child.signalCode === null;
}

/** Sends `signal` to the node's pid unless it has exited (its pid could belong to another process by then). */
function signalNode(node: RunningNode, signal: NodeJS.Signals): void {
  if (!isRunning(node)) return;
  try {
    process.kill(node.pid, signal);
  } catch {
    // It exited meanwhile.
  }
}

function describeExit(exit: RunningNode['exit']): string {
  if (exit === undefined) return 'is still running';
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
}

/**
 * Stops every node still running: SIGTERM by pid, then SIGKILL by pid for any that has not exited
 * within the bound. True when every node exited with code 0.
 */
async function stopNodes(nodes: readonly RunningNode[], timeoutMs = STOP_TIMEOUT_MS): Promise<boolean> {
  const stoppedByUs = new Set(nodes.filter(isRunning));
  for (const node of stoppedByUs) signalNode(node, 'SIGTERM');
  const allClosed = Promise.all(nodes.map((node) => node.closed));
  if (!(await within(allClosed, timeoutMs))) {
    for (const node of nodes) {
      if (!isRunning(node)) continue;
      process.stderr.write(`node ${node.plan.nodeId} (pid ${node.pid}) did not stop within ${timeoutMs} ms: killing it\n`);
      signalNode(node, 'SIGKILL');
    }
    await within(allClosed, KILL_WAIT_MS);
  }
  return nodes.every((node) => !stoppedByUs.has(node) || (node.exit?.code === 0 && node.exit.signal === null));
}

async function within(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((done) => {
    timer = setTimeout(() => done(false), timeoutMs);
  });
  try {
    return await Promise.race([promise.then(() => true), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

interface Supervision {
  dir: string;
  temporary: boolean;
  readyTimeoutMs: number;
  startedAt: number;
}

/** Why the nodes are being stopped. */
type StopReason = { kind: 'signal'; signal: NodeJS.Signals } | { kind: 'exited'; node: RunningNode } | { kind: 'not-ready'; message: string };

/** Waits for the nodes to answer, then for a signal or a node's exit; stops them all; the exit status. */
async function superviseNodes(nodes: readonly RunningNode[], how: Supervision): Promise<number> {
  let requestStop: (reason: StopReason) => void = () => {};
  const stopRequested = new Promise<StopReason>((done) => {
    requestStop = done;
  });
  let reason: StopReason | undefined;
  const stop = (why: StopReason) => {
    if (reason !== undefined) return;
    reason = why;
    requestStop(why);
  };
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!signalled) {
      signalled = true;
      if (reason === undefined) process.stderr.write(`${signal}: stopping ${plural(nodes.length, 'node')}\n`);
      else process.stderr.write(`${signal}: already stopping the nodes; send it again to kill them\n`);
      stop({ kind: 'signal', signal });
      return;
    }
    process.stderr.write(`${signal} again: killing the nodes without a clean shutdown\n`);
    for (const node of nodes) signalNode(node, 'SIGKILL');
    process.exit(130);
  };
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => {
    const handler = () => onSignal(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  for (const node of nodes) void node.closed.then(() => stop({ kind: 'exited', node }));
  try {
    const problem = await Promise.race([waitUntilReady(nodes, how.readyTimeoutMs, stopRequested), stopRequested.then(() => undefined)]);
    if (problem !== undefined) stop({ kind: 'not-ready', message: problem });
    if (reason === undefined) {
      const servers = nodes.map((node) => `${HOST}:${node.plan.port}`).join(',');
      process.stdout.write(
        `Conveyor dev cluster of ${plural(nodes.length, 'node')} ready in ${Math.round(performance.now() - how.startedAt)} ms\n` +
          `bootstrap servers: ${servers}\n` +
          `data dir: ${how.dir}${how.temporary ? ' (temporary: removed at a clean exit; --dir keeps data across runs)' : ''}\n` +
          'Ctrl-C stops every node.\n',
      );
    }
    const why = await stopRequested;
    if (why.kind === 'exited') {
      const others = nodes.filter((node) => node !== why.node && isRunning(node)).length;
      process.stderr.write(`node ${why.node.plan.nodeId} (pid ${why.node.pid}) ${describeExit(why.node.exit)}${others > 0 ? ': stopping the other nodes' : ''}\n`);
    } else if (why.kind === 'not-ready') {
      process.stderr.write(`${why.message}: stopping the nodes\n`);
    }
    const clean = await stopNodes(nodes);
    for (const node of nodes) {
      if (node !== (why.kind === 'exited' ? why.node : undefined) && (node.exit?.code !== 0 || node.exit.signal !== null)) {
        process.stderr.write(`node ${node.plan.nodeId} (pid ${node.pid}) ${describeExit(node.exit)}\n`);
      }
    }
    const success = why.kind === 'signal' && clean;
    if (success) process.stderr.write('every node stopped cleanly\n');
    if (success && how.temporary) await rm(how.dir, { recursive: true, force: true });
    else if (how.temporary) process.stderr.write(`the data is kept for a look in ${how.dir}\n`);
    return success ? 0 : 1;
  } finally {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Polls every node's client listener until each answers Metadata naming all the nodes (so a client
 * bootstrapping from any of them sees the whole cluster). Resolves undefined when they do, or with
 * what went wrong at the deadline; gives up quietly once `cancelled` settles.
 */
async function waitUntilReady(nodes: readonly RunningNode[], timeoutMs: number, cancelled: Promise<unknown>): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let stop = false;
  void cancelled.then(() => {
    stop = true;
  });
  const lastProblem = new Map<number, string>();
  const pollNode = async (node: RunningNode): Promise<boolean> => {
    const address = `${HOST}:${node.plan.port}`;
    let delayMs = 50;
    while (!stop && Date.now() < deadline) {
      const left = deadline - Date.now();
      try {
        const brokers = await describeBrokers(address, Math.max(1, Math.min(2_000, left)), Math.max(1, Math.min(10_000, left)));
        if (brokers >= nodes.length) return true;
        lastProblem.set(node.plan.nodeId, `it knows ${brokers} of ${nodes.length} brokers`);
      } catch (error) {
        lastProblem.set(node.plan.nodeId, error instanceof Error ? error.message : String(error));
      }
      await new Promise((done) => setTimeout(done, Math.min(delayMs, Math.max(0, deadline - Date.now()))));
      delayMs = Math.min(delayMs * 2, 500);
    }
    return false;
  };
  const answered = await Promise.all(nodes.map(pollNode));
  if (answered.every(Boolean)) return undefined;
  const late = nodes.filter((_, index) => !answered[index]).map((node) => `node ${node.plan.nodeId} (${lastProblem.get(node.plan.nodeId) ?? 'no answer'})`);
  return `not every node answered within ${timeoutMs} ms: ${late.join(', ')}`;
}

/** How many brokers the node at `address` lists in its Metadata. */
async function describeBrokers(address: string, connectTimeoutMs: number, requestTimeoutMs: number): Promise<number> {
  const connection = await KafkaConnection.open(connectTcp, address, 'conveyor-dev', { connectTimeoutMs, requestTimeoutMs });
  try {
    const versions = await connection.send(ApiVersionsApi, 3, { clientSoftwareName: 'conveyor-dev', clientSoftwareVersion: '0.1.0' });
    const served = versions.apiKeys.find((key) => key.apiKey === MetadataApi.apiKey);
    if (versions.errorCode !== 0 || served === undefined) throw new Error(`ApiVersions error ${versions.errorCode}`);
    const metadata = await connection.send(MetadataApi, Math.min(served.maxVersion, 12), { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    return metadata.brokers.length;
  } finally {
    connection.close();
  }
}

/** The ports base, base+1, ... for `count` nodes, each checked free on 127.0.0.1 now; a taken one is refused, naming it. */
async function claimPorts(base: number, count: number): Promise<number[]> {
  const ports = Array.from({ length: 2 * count }, (_, index) => base + index);
  const servers: Server[] = [];
  try {
    for (const [index, port] of ports.entries()) {
      try {
        servers.push(await listen(port));
      } catch (error) {
        const what = `node ${Math.floor(index / 2) + 1}'s ${index % 2 === 0 ? 'client' : 'controller'} listener`;
        const code = (error as { code?: string }).code;
        const reason = code === 'EADDRINUSE' ? 'is taken' : code === 'EACCES' ? 'is not allowed for this user' : `cannot be used (${error instanceof Error ? error.message : String(error)})`;
        throw new ToolError(`port ${port} on ${HOST} (${what}) ${reason}: stop what uses it, choose other ports with --base-port P, or let the nodes pick free ones with --base-port 0`);
      }
    }
    return ports;
  } finally {
    await Promise.all(servers.map(close));
  }
}

function listen(port: number): Promise<Server> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen({ port, host: HOST, exclusive: true }, () => done(server));
  });
}

function close(server: Server): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}
