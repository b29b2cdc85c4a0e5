// Runs a cluster of N nodes in this process, each a combined broker and controller with its own
// data directory and loopback ports, for tests of an application against a cluster: stop a node
// cleanly, crash it (with in-memory storage its unsynced writes are lost, through the file-system
// port), restart it, isolate it from the other nodes and heal. The nodes talk over real TCP.
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogLevelName } from '../base/logger.js';
import { silentLogger } from '../base/logger.js';
import { MemoryFileSystem } from '../base/memory-file-system.js';
import { randomUuid } from '../base/uuid.js';
import { Broker } from '../broker/broker.js';
import { type ConfigInput, resolveBrokerConfig } from '../broker/broker-config.js';
import { formatStorage, newDirectoryId } from '../broker/meta-properties.js';
import type { ByteStream, Connector } from '../client/byte-stream.js';
import type { FileSystem } from '../base/file-system.js';
import { NodeFileSystem } from './node-file-system.js';
import { consoleLogger, keepingProcessAlive, systemClock, systemRandom } from './system.js';
import { connectTcp } from './tcp-byte-stream.js';

export interface StartClusterOptions {
  /** How many brokers; 3 by default. Without `controllers`, each is also a controller (combined mode). */
  brokers?: number;
  /** Dedicated controllers (process.roles=controller), ids 1..N; the brokers then only broker (observers of the quorum). */
  controllers?: number;
  /** 'memory' (the default) keeps each node's data in memory, so a crash can lose unsynced writes; 'disk' uses temporary directories, removed by close(). */
  storage?: 'disk' | 'memory';
  /** Kafka server.properties keys applied to every node, e.g. { 'num.partitions': 3 }. */
  config?: ConfigInput;
  /** Keys for one node on top of `config`, e.g. its `broker.rack`. */
  nodeConfig?: (nodeId: number) => ConfigInput;
  /** How many log directories (log.dirs) each node has; 1 by default. */
  logDirsPerNode?: number;
  logLevel?: LogLevelName;
}

export interface ClusterNode {
  readonly nodeId: number;
  /** `host:port` of its client listener. */
  readonly bootstrapServer: string;
  /** `host:port` of its controller listener, for a controller (`conveyor cluster add-controller` and such); undefined for a broker only. */
  readonly controllerAddress: string | undefined;
  readonly dataDir: string;
  /** Every log directory of the node (log.dirs), dataDir first. */
  readonly logDirs: readonly string[];
  /** The node's file system: a MemoryFileSystem (faults can be injected) unless storage is 'disk'. */
  readonly fs: FileSystem;
  /** The running broker, or undefined while the node is down. */
  readonly broker: Broker | undefined;
}

export interface RunningCluster {
  readonly clusterId: string;
  readonly nodeIds: readonly number[];
  /** Every node's client listener, comma-separated, for a client's bootstrap servers. */
  readonly bootstrapServers: string;
  node(nodeId: number): ClusterNode;
  /** The node id of the active controller (the metadata quorum's leader), or -1. */
  activeController(): number;
  /** A clean shutdown of one node (a leader hands over first). */
  stop(nodeId: number): Promise<void>;
  /** The node dies at once; with in-memory storage, everything it had not fsynced is lost. */
  crash(nodeId: number): Promise<void>;
  /** Starts a stopped or crashed node again on the same directory and ports. */
  restart(nodeId: number): Promise<void>;
  /** Cuts the node off from the other nodes (clients still reach it), until heal(). */
  isolate(nodeId: number): void;
  heal(): void;
  close(): Promise<void>;
}

interface NodeState {
  readonly nodeId: number;
  /** 'combined' (broker and controller), or a dedicated 'controller' or 'broker'. */
  readonly roles: 'combined' | 'controller' | 'broker';
  readonly port: number;
  readonly controllerPort: number;
  readonly dataDir: string;
  readonly logDirs: readonly string[];
  readonly fs: FileSystem;
  broker: Broker | undefined;
}

export async function startCluster(options: StartClusterOptions = {}): Promise<RunningCluster> {
  const brokers = options.brokers ?? 3;
  const controllers = options.controllers ?? 0;
  if (!Number.isInteger(brokers) || brokers < 1) throw new Error(`brokers must be a positive integer, got ${brokers}`);
  if (!Number.isInteger(controllers) || controllers < 0) throw new Error(`controllers must be a non-negative integer, got ${controllers}`);
  const storage = options.storage ?? 'memory';
  const clusterId = randomUuid(systemRandom);
  const count = brokers + controllers;
  const ports = await freePorts(count * 2);
  const nodes: NodeState[] = [];
  for (let index = 0; index < count; index++) {
    // Dedicated controllers take the first ids, then the brokers; without them every node is both.
    const nodeId = index + 1;
    const roles = controllers === 0 ? 'combined' : index < controllers ? 'controller' : 'broker';
    const logDirs: string[] = [];
    for (let dir = 0; dir < (options.logDirsPerNode ?? 1); dir++) {
      logDirs.push(storage === 'memory' ? `/conveyor-${nodeId}${dir === 0 ? '' : `-${dir}`}` : await mkdtemp(join(tmpdir(), `conveyor-node-${nodeId}-`)));
    }
    const dataDir = logDirs[0]!;
    const fs = storage === 'memory' ? new MemoryFileSystem() : new NodeFileSystem();
    nodes.push({ nodeId, roles, port: ports[index * 2]!, controllerPort: ports[index * 2 + 1]!, dataDir, logDirs, fs, broker: undefined });
    // Every directory formatted, as kafka-storage.sh formats each of log.dirs.
    for (const logDir of logDirs) await formatStorage(fs, logDir, nodeId, clusterId, { directoryId: newDirectoryId(systemRandom) });
  }
  const voters = nodes
    .filter((node) => node.roles !== 'broker')
    .map((node) => `${node.nodeId}@127.0.0.1:${node.controllerPort}`)
    .join(',');
  const network = new ClusterNetwork(nodes);
  const level = options.logLevel ?? 'silent';

  const start = async (node: NodeState): Promise<void> => {
    const input = new Map<string, string>();
    for (const config of [options.config, options.nodeConfig?.(node.nodeId)]) {
      if (!config) continue;
      const entries = config instanceof Map ? [...config.entries()] : Object.entries(config);
      for (const [key, value] of entries) input.set(key, String(value));
    }
    input.set('node.id', String(node.nodeId));
    input.set('process.roles', node.roles === 'combined' ? 'broker,controller' : node.roles);
    const listeners = {
      combined: `PLAINTEXT://127.0.0.1:${node.port},CONTROLLER://127.0.0.1:${node.controllerPort}`,
      controller: `CONTROLLER://127.0.0.1:${node.controllerPort}`,
      broker: `PLAINTEXT://127.0.0.1:${node.port}`,
    };
    input.set('listeners', listeners[node.roles]);
    input.set('controller.listener.names', 'CONTROLLER');
    input.set('controller.quorum.voters', voters);
    input.set('log.dirs', node.logDirs.join(','));
    const logger = level === 'silent' ? silentLogger : consoleLogger(level).child(`node-${node.nodeId}`);
    node.broker = await Broker.start({ config: resolveBrokerConfig(input), fs: node.fs, clock: systemClock, random: systemRandom, logger, connect: network.connectorFor(node.nodeId) });
  };

  // Every node starts at once: each waits for a quorum leader, which needs a majority running.
  await Promise.all(nodes.map(start));
  // Each broker resolved once it saw itself unfenced; the others learn of it a fetch later.
  await everyImageShowsBrokersUnfenced(nodes);

  const byId = (nodeId: number): NodeState => {
    const node = nodes.find((candidate) => candidate.nodeId === nodeId);
    if (!node) throw new Error(`no node ${nodeId} in this cluster`);
    return node;
  };
  return {
    clusterId,
    nodeIds: nodes.map((node) => node.nodeId),
    bootstrapServers: nodes
      .filter((node) => node.roles !== 'controller')
      .map((node) => `127.0.0.1:${node.port}`)
      .join(','),
    node(nodeId) {
      const node = byId(nodeId);
      return {
        nodeId,
        bootstrapServer: `127.0.0.1:${node.port}`,
        controllerAddress: node.roles === 'broker' ? undefined : `127.0.0.1:${node.controllerPort}`,
        dataDir: node.dataDir,
        logDirs: node.logDirs,
        fs: node.fs,
        broker: node.broker,
      };
    },
    activeController() {
      for (const node of nodes) {
        const quorum = node.broker?.services.quorum;
        if (quorum?.isActive) return node.nodeId;
      }
      return -1;
    },
    async stop(nodeId) {
      const node = byId(nodeId);
      const broker = node.broker;
      node.broker = undefined;
      if (broker) await keepingProcessAlive(broker.close());
    },
    async crash(nodeId) {
      const node = byId(nodeId);
      const broker = node.broker;
      if (!broker) return;
      node.broker = undefined;
      // Power is cut before the broker stops, so nothing it does on the way down becomes durable.
      if (node.fs instanceof MemoryFileSystem) node.fs.simulatePowerLoss();
      await keepingProcessAlive(broker.halt());
    },
    async restart(nodeId) {
      const node = byId(nodeId);
      if (node.broker) return;
      await start(node);
    },
    isolate: (nodeId) => network.isolate(byId(nodeId).nodeId),
    heal: () => network.heal(),
    async close() {
      await keepingProcessAlive(
        Promise.all(
          nodes.map(async (node) => {
            const broker = node.broker;
            node.broker = undefined;
            await broker?.close();
            // A temporary directory this function made: gone with the cluster.
            if (storage === 'disk') for (const logDir of node.logDirs) await rm(logDir, { recursive: true, force: true });
          }),
        ),
      );
    },
  };
}

async function everyImageShowsBrokersUnfenced(nodes: readonly NodeState[]): Promise<void> {
  const brokerIds = nodes.filter((node) => node.roles !== 'controller').map((node) => node.nodeId);
  // And every broker trusts its own metadata (it serves as a coordinator: ControllerChannel.mayBeStale).
  const settled = () =>
    nodes.every((node) => brokerIds.every((id) => node.broker?.services.image.brokers.get(id)?.fenced === false)) &&
    nodes.every((node) => node.roles === 'controller' || node.broker?.services.controllerChannel.mayBeStale() === false);
  const deadline = Date.now() + 30_000;
  while (!settled()) {
    if (Date.now() > deadline) throw new Error('the cluster started, but not every node sees every broker unfenced and trusts its metadata within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The links between the nodes: each node's outgoing connections, which isolation refuses and cuts. */
class ClusterNetwork {
  readonly #isolated = new Set<number>();
  readonly #links = new Set<{ from: number; to: number; stream: ByteStream }>();
  readonly #nodeByAddress: Map<string, number>;

  constructor(nodes: readonly NodeState[]) {
    this.#nodeByAddress = new Map(nodes.map((node) => [`127.0.0.1:${node.controllerPort}`, node.nodeId]));
  }

  connectorFor(from: number): Connector {
    return async (address, timeoutMs, tls) => {
      const to = this.#nodeByAddress.get(address) ?? -1;
      if (this.#isolated.has(from) || this.#isolated.has(to)) throw Object.assign(new Error(`node ${from} is isolated from ${address}`), { code: 'ECONNREFUSED' });
      const stream = await connectTcp(address, timeoutMs, tls);
      const link = { from, to, stream };
      this.#links.add(link);
      return stream;
    };
  }

  isolate(nodeId: number): void {
    this.#isolated.add(nodeId);
    for (const link of [...this.#links]) {
      if (link.from === nodeId || link.to === nodeId) {
        link.stream.destroy(new Error(`node ${nodeId} was isolated`));
        this.#links.delete(link);
      }
    }
  }

  heal(): void {
    this.#isolated.clear();
  }
}

/**
 * Ports free on 127.0.0.1 right now (bound and released; another process could take one
 * meanwhile), chosen at random below the kernel's ephemeral range where it can be read. A node
 * stopped and restarted binds its port again; a port from the ephemeral range could meanwhile be
 * the local end of any outgoing connection on the machine (a client's), and the restart would fail
 * with EADDRINUSE. Below that range only another listener can take it.
 */
export async function freePorts(count: number): Promise<number[]> {
  const below = ephemeralRangeStart();
  const servers: ReturnType<typeof createServer>[] = [];
  try {
    let refused = 0;
    while (servers.length < count) {
      // Past a few hundred refusals (a crowded range), whatever the kernel hands out. A port handed
      // out before in this process is skipped: its node may be stopped, about to start on it again.
      const port = below !== undefined && refused < 500 ? FIRST_CHOSEN_PORT + randomInt(below - FIRST_CHOSEN_PORT) : 0;
      const server = port !== 0 && handedOut.has(port) ? undefined : await listenOn(port);
      if (server) servers.push(server);
      else if (port === 0) throw new Error('no free port on 127.0.0.1');
      else refused++;
    }
    const ports = servers.map((server) => (server.address() as { port: number }).port);
    for (const port of ports) handedOut.add(port);
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

/** The ports freePorts has handed out in this process. */
const handedOut = new Set<number>();

/** The lowest port freePorts chooses: above the common services' fixed ports (9092 among them). */
const FIRST_CHOSEN_PORT = 20_000;

/** The first port of Linux's ephemeral range, if it can be read and leaves room below it. */
function ephemeralRangeStart(): number | undefined {
  try {
    const first = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(first) && first > FIRST_CHOSEN_PORT + 1_000 ? first : undefined;
  } catch {
    return undefined;
  }
}

/** A server listening on 127.0.0.1:`port`, or undefined when the port is taken. */
function listenOn(port: number): Promise<ReturnType<typeof createServer> | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' || error.code === 'EACCES' ? resolve(undefined) : reject(error)));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}
