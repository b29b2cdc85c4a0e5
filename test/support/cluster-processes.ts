// A cluster of real `conveyor start` processes on loopback, for failover tests and benchmarks: N
// combined broker+controller nodes (Kafka's KRaft keys, `controller.quorum.voters`), each with a
// data directory formatted with one cluster id before its first start and free 127.0.0.1 ports
// for its PLAINTEXT and CONTROLLER listeners. A node is killed (kill -9 or SIGTERM) and restarted
// by its pid only; `stopAll` ends every process it started and removes the directories, and a
// process 'exit' hook SIGKILLs any node still running if the caller never got there.
//
// The active controller is found over the Kafka protocol, as a client sees it: Metadata from a
// node names a controller id (a node that knows no leader names itself), and DescribeQuorum on
// that node must answer with itself as the quorum leader.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCode } from '../../src/base/error-codes.js';
import { randomUuid } from '../../src/base/uuid.js';
import { formatStorage } from '../../src/broker/meta-properties.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { NodeFileSystem } from '../../src/node/node-file-system.js';
import { freePorts } from '../../src/node/start-cluster.js';
import { systemRandom } from '../../src/node/system.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { DescribeQuorumApi, MetadataApi } from '../../src/protocol/messages/index.js';
import { cliCommand } from './crash-broker-process.js';

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_LINE = / ready on (\S+):(\d+)/;
/** How much of each node's output is kept (its tail), for error messages. */
const OUTPUT_TAIL_CHARS = 64 * 1024;
const METADATA_TOPIC = '__cluster_metadata';

export interface ClusterProcessesOptions {
  /** How many combined nodes; 3 by default. */
  nodes?: number;
  /** server.properties keys for every node (e.g. `controller.quorum.election.timeout.ms`). */
  settings?: Record<string, string>;
  /** How long a (re)start may take to print its ready line; 60 s by default. */
  readyTimeoutMs?: number;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Where the node directories go (a new temporary directory by default, removed by stopAll). */
  baseDir?: string;
  /** If set, every node's whole output (all incarnations) is also appended to `<outputDir>/node-<id>.log`. */
  outputDir?: string;
  /**
   * Puts a proxy in front of every node's PLAINTEXT and CONTROLLER listeners (a fault-injecting
   * network, src/testing/chaos/fault-network.ts): the nodes advertise the PLAINTEXT proxy and name
   * the CONTROLLER proxies as the quorum's voters, so every connection between nodes, and every
   * client connection after the bootstrap, goes through a proxy. `address()` and `bootstrapServers`
   * stay direct, for the harness's own checks.
   */
  proxy?: ListenerProxy;
  /** A second log directory per node (`log.dirs=<data dir>,<this>`); the caller owns it. */
  extraLogDir?: (nodeId: number) => string | undefined;
  /** Node options for every node process, before CONVEYOR_CLUSTER_NODE_ARGS's (benchmarks pass the broker's heap flag). */
  nodeArgs?: readonly string[];
  /**
   * The command line each node runs: the sources through tsx by default (crash-cli-entry.ts);
   * benchmarks name the built bin/conveyor.js, so the cluster runs the bundle their single broker runs.
   */
  cliEntry?: string;
}

/** Starts a proxy in front of `port` for connections to node `node`; returns the proxy's port. */
export interface ListenerProxy {
  addProxy(node: string, host: string, port: number): Promise<number>;
}

export interface ExitStatus {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

interface NodeState {
  readonly nodeId: number;
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  readonly configFile: string;
  child: ChildProcess | undefined;
  exited: Promise<ExitStatus> | undefined;
  output: string;
  /** Previous incarnations' output tails, oldest first. */
  history: string[];
}

export interface ActiveController {
  nodeId: number;
  /** The quorum leader's epoch, from DescribeQuorum. */
  epoch: number;
}

/** Every pid started by any ProcessCluster of this process and still running. */
const livePids = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of livePids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  });
}

export class ProcessCluster {
  private stopped = false;

  private constructor(
    readonly clusterId: string,
    readonly baseDir: string,
    private readonly ownsBaseDir: boolean,
    private readonly nodes: NodeState[],
    private readonly readyTimeoutMs: number,
    private readonly logLevel: string,
    private readonly outputDir: string | undefined,
    private readonly nodeArgs: readonly string[],
    private readonly cliEntry: string | undefined,
  ) {}

  /** Formats every node's directory, starts every node at once and waits until all are ready. */
  static async start(options: ClusterProcessesOptions = {}): Promise<ProcessCluster> {
    installExitHook();
    const count = options.nodes ?? 3;
    const ownsBaseDir = options.baseDir === undefined;
    const baseDir = options.baseDir ?? (await mkdtemp(join(tmpdir(), 'conveyor-cluster-')));
    const clusterId = randomUuid(systemRandom);
    const ports = await freePorts(count * 2);
    const fs = new NodeFileSystem();
    const nodes: NodeState[] = [];
    for (let index = 0; index < count; index++) {
      const nodeId = index + 1;
      const dataDir = join(baseDir, `node-${nodeId}`);
      nodes.push({ nodeId, port: ports[index * 2]!, controllerPort: ports[index * 2 + 1]!, dataDir, configFile: join(baseDir, `node-${nodeId}.properties`), child: undefined, exited: undefined, output: '', history: [] });
      await formatStorage(fs, dataDir, nodeId, clusterId, {});
    }
    const advertised = new Map<number, { port: number; controllerPort: number }>();
    for (const node of nodes) {
      advertised.set(node.nodeId, options.proxy
        ? { port: await options.proxy.addProxy(String(node.nodeId), '127.0.0.1', node.port), controllerPort: await options.proxy.addProxy(String(node.nodeId), '127.0.0.1', node.controllerPort) }
        : { port: node.port, controllerPort: node.controllerPort });
    }
    const voters = nodes.map((node) => `${node.nodeId}@127.0.0.1:${advertised.get(node.nodeId)!.controllerPort}`).join(',');
    for (const node of nodes) {
      const lines = [
        `node.id=${node.nodeId}`,
        'process.roles=broker,controller',
        `listeners=PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
        ...(options.proxy ? [`advertised.listeners=PLAINTEXT://127.0.0.1:${advertised.get(node.nodeId)!.port}`] : []),
        'controller.listener.names=CONTROLLER',
        `controller.quorum.voters=${voters}`,
        `log.dirs=${[node.dataDir, options.extraLogDir?.(node.nodeId)].filter((dir) => dir !== undefined).join(',')}`,
        ...Object.entries(options.settings ?? {}).map(([key, value]) => `${key}=${value}`),
      ];
      await writeFile(node.configFile, `${lines.join('\n')}\n`);
    }
    if (options.outputDir !== undefined) mkdirSync(options.outputDir, { recursive: true });
    const cluster = new ProcessCluster(clusterId, baseDir, ownsBaseDir, nodes, options.readyTimeoutMs ?? 60_000, options.logLevel ?? 'info', options.outputDir, options.nodeArgs ?? [], options.cliEntry);
    try {
      // Every node at once: none is ready before a quorum leader is elected, which needs a majority.
      await Promise.all(nodes.map((node) => cluster.startNode(node)));
    } catch (error) {
      await cluster.stopAll();
      throw error;
    }
    return cluster;
  }

  get nodeIds(): number[] {
    return this.nodes.map((node) => node.nodeId);
  }

  /** `127.0.0.1:port` of the node's client (PLAINTEXT) listener. */
  address(nodeId: number): string {
    return `127.0.0.1:${this.node(nodeId).port}`;
  }

  /** Every node's client listener, comma-separated. */
  get bootstrapServers(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  dataDir(nodeId: number): string {
    return this.node(nodeId).dataDir;
  }

  /** The running process's pid, or undefined while the node is down. */
  pid(nodeId: number): number | undefined {
    return this.isRunning(nodeId) ? this.node(nodeId).child!.pid : undefined;
  }

  isRunning(nodeId: number): boolean {
    const child = this.node(nodeId).child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** The tail of what the node's current (or last) process printed. */
  log(nodeId: number): string {
    return this.node(nodeId).output;
  }

  /** The tails of every incarnation's output, oldest first, each headed by its number. */
  fullLog(nodeId: number): string {
    const node = this.node(nodeId);
    return [...node.history, node.output].map((text, index) => `--- node ${nodeId} incarnation ${index + 1} ---\n${text}`).join('\n');
  }

  /** Sends `signal` to the node's process by its pid and waits until it has exited. */
  async kill(nodeId: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    const node = this.node(nodeId);
    if (node.child === undefined || node.exited === undefined) throw new Error(`node ${nodeId} was never started`);
    if (this.isRunning(nodeId)) process.kill(node.child.pid!, signal);
    return node.exited;
  }

  /** SIGSTOP: the process stays, frozen, until `resume` (its sockets stay open, nothing answers). */
  pause(nodeId: number): void {
    const pid = this.pid(nodeId);
    if (pid === undefined) throw new Error(`node ${nodeId} is not running`);
    process.kill(pid, 'SIGSTOP');
  }

  /** SIGCONT for a paused node. */
  resume(nodeId: number): void {
    const pid = this.pid(nodeId);
    if (pid !== undefined) process.kill(pid, 'SIGCONT');
  }

  /** Starts a stopped node again on its directory and ports; resolves once it printed its ready line. */
  async restart(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    if (this.isRunning(nodeId)) throw new Error(`node ${nodeId} is still running (pid ${node.child!.pid})`);
    await node.exited;
    node.history.push(node.output);
    node.output = '';
    await this.startNode(node);
  }

  /** Metadata's controller id as `nodeId` reports it (a node that knows no leader names itself). */
  async reportedController(nodeId: number, timeoutMs = 1_000): Promise<number> {
    return withConnection(this.address(nodeId), timeoutMs, async (connection) => {
      const response = await connection.send(MetadataApi, 12, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, timeoutMs);
      return response.controllerId ?? -1;
    });
  }

  /** The quorum leader's id and epoch if `nodeId` answers DescribeQuorum as the leader, else undefined. */
  async describeQuorumLeader(nodeId: number, timeoutMs = 1_000): Promise<ActiveController | undefined> {
    return withConnection(this.address(nodeId), timeoutMs, async (connection) => {
      const response = await connection.send(DescribeQuorumApi, 2, { topics: [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }] }, timeoutMs);
      const partition = response.topics[0]?.partitions[0];
      if (response.errorCode !== ErrorCode.NONE || partition === undefined || partition.errorCode !== ErrorCode.NONE) return undefined;
      return partition.leaderId === nodeId ? { nodeId, epoch: partition.leaderEpoch } : undefined;
    });
  }

  /**
   * The active controller as the running nodes report it: a controller id from Metadata on one of
   * `askNodes` (every running node by default) that is not `exclude`, confirmed by DescribeQuorum
   * on that node. Undefined when no node gives a confirmed answer right now.
   */
  async findActiveController(options: { exclude?: number; askNodes?: number[]; timeoutMs?: number } = {}): Promise<ActiveController | undefined> {
    const ask = (options.askNodes ?? this.nodeIds).filter((id) => this.isRunning(id));
    const timeoutMs = options.timeoutMs ?? 1_000;
    const reported = await Promise.all(ask.map((id) => this.reportedController(id, timeoutMs).catch(() => -1)));
    const candidates = [...new Set(reported)].filter((id) => id >= 0 && id !== options.exclude && this.nodeIds.includes(id) && this.isRunning(id));
    for (const candidate of candidates) {
      const leader = await this.describeQuorumLeader(candidate, timeoutMs).catch(() => undefined);
      if (leader !== undefined) return leader;
    }
    return undefined;
  }

  /** Polls findActiveController until it answers, or throws after `timeoutMs`. */
  async waitForActiveController(options: { exclude?: number; minEpoch?: number; timeoutMs?: number; intervalMs?: number } = {}): Promise<ActiveController> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const found = await this.findActiveController({ exclude: options.exclude });
      if (found !== undefined && found.epoch >= (options.minEpoch ?? 0)) return found;
      if (Date.now() > deadline) throw new Error(`no active controller${options.exclude === undefined ? '' : ` other than ${options.exclude}`} within ${options.timeoutMs ?? 30_000} ms`);
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
    }
  }

  /**
   * Stops every running node (SIGTERM, then SIGKILL after `graceMs`), waits for each to exit and
   * removes the directories this cluster made. Safe to call twice.
   */
  async stopAll(graceMs = 10_000): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(
      this.nodes.map(async (node) => {
        if (node.child === undefined || node.exited === undefined) return;
        if (this.isRunning(node.nodeId)) {
          try {
            // A paused node would hold the SIGTERM until it runs again.
            process.kill(node.child.pid!, 'SIGCONT');
            process.kill(node.child.pid!, 'SIGTERM');
          } catch {
            // Exited meanwhile.
          }
        }
        const timer = setTimeout(() => {
          if (this.isRunning(node.nodeId)) process.kill(node.child!.pid!, 'SIGKILL');
        }, graceMs);
        await node.exited;
        clearTimeout(timer);
      }),
    );
    if (this.ownsBaseDir) await rm(this.baseDir, { recursive: true, force: true });
  }

  private node(nodeId: number): NodeState {
    const node = this.nodes.find((candidate) => candidate.nodeId === nodeId);
    if (node === undefined) throw new Error(`no node ${nodeId} in this cluster`);
    return node;
  }

  private startNode(node: NodeState): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('the cluster was stopped'));
    // CONVEYOR_CLUSTER_NODE_ARGS: extra node options for every node process (e.g. `--cpu-prof
    // --cpu-prof-dir=/tmp/profiles` to profile a benchmark's cluster).
    const nodeArgs = [...this.nodeArgs, ...(process.env.CONVEYOR_CLUSTER_NODE_ARGS ?? '').split(' ').filter((arg) => arg.length > 0)];
    const command = ['start', '--config', node.configFile, '--log-level', this.logLevel];
    const args = [...nodeArgs, ...(this.cliEntry === undefined ? cliCommand(command) : [this.cliEntry, ...command])];
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    node.child = child;
    node.output = '';
    const pid = child.pid;
    if (pid !== undefined) livePids.add(pid);
    node.exited = new Promise((resolve) =>
      child.on('exit', (exitCode, signal) => {
        if (pid !== undefined) livePids.delete(pid);
        resolve({ exitCode, signal });
      }),
    );
    const outputFile = this.outputDir === undefined ? undefined : join(this.outputDir, `node-${node.nodeId}.log`);
    if (outputFile !== undefined) appendFileSync(outputFile, `--- node ${node.nodeId} started, pid ${pid} ---\n`);
    const keep = (chunk: string) => {
      node.output = (node.output + chunk).slice(-OUTPUT_TAIL_CHARS);
      if (outputFile !== undefined) appendFileSync(outputFile, chunk);
    };
    child.stdout!.setEncoding('utf8').on('data', keep);
    child.stderr!.setEncoding('utf8').on('data', keep);
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(poll);
        if (error === undefined) resolve();
        else {
          if (child.exitCode === null && child.signalCode === null && pid !== undefined) process.kill(pid, 'SIGKILL');
          reject(error);
        }
      };
      // The ready line may be split over chunks: look at the accumulated tail.
      const poll = setInterval(() => {
        if (READY_LINE.test(node.output)) finish();
      }, 10);
      const timer = setTimeout(() => finish(new Error(`node ${node.nodeId} did not report ready within ${this.readyTimeoutMs} ms; its output:\n${node.output}`)), this.readyTimeoutMs);
      child.once('exit', (code, signal) => {
        if (!READY_LINE.test(node.output)) finish(new Error(`node ${node.nodeId} exited before it was ready (code ${code}, signal ${signal}); its output:\n${node.output}`));
      });
      child.once('error', (error) => finish(new Error(`node ${node.nodeId}: spawn failed: ${error.message}`)));
    });
  }
}

async function withConnection<T>(address: string, timeoutMs: number, use: (connection: KafkaConnection) => Promise<T>): Promise<T> {
  const connection = await KafkaConnection.open(connectTcp, address, 'cluster-processes', { connectTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs });
  try {
    return await use(connection);
  } finally {
    connection.close();
  }
}

/** Median and max of a list of milliseconds (NaN for an empty list). */
export function medianAndMax(values: readonly number[]): { median: number; max: number } {
  if (values.length === 0) return { median: Number.NaN, max: Number.NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, max: sorted[sorted.length - 1]! };
}
