// A broker process's parts wired together: log manager, metadata quorum and image, controller,
// replica manager, request handlers and the socket server. Start-up order: bind the listeners while
// the logs open (with recovery), replay the metadata log, host the partitions the image assigns here,
// register this broker with its advertised endpoints (fenced), heartbeat until the controller has
// unfenced it (its metadata caught up with its registration), then serve the connections accepted
// so far.
import { saslConnector } from '../client/sasl-client.js';
import { ipQuota } from '../metadata/client-quotas.js';
import { ClientQuotas, clientQuotaSources } from './quota/client-quotas.js';
import { Authorization } from './authorizer/authorization.js';
import { forEachBounded } from '../base/bounded.js';
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import type { Clock, RandomSource } from '../base/clock.js';
import { type FileSystem, makeDirectoryDurably } from '../base/file-system.js';
import type { Logger } from '../base/logger.js';
import { GroupCoordinator } from '../coordinator/group/group-coordinator.js';
import { OPEN_PARTITIONS_CONCURRENCY } from '../log/log-limits.js';
import { LogManager } from '../log/log-manager.js';
import type { PartitionLog } from '../log/partition-log.js';
import { Controller } from '../metadata/controller.js';
import { MetadataImage, type PartitionImage, replicaDirectory } from '../metadata/metadata-image.js';
import { ConfigResourceType, type MetadataRecord } from '../metadata/metadata-record.js';
import { CLUSTER_METADATA_TOPIC, CONSUMER_OFFSETS_TOPIC, SHARE_GROUP_STATE_TOPIC, TRANSACTION_STATE_TOPIC } from '../metadata/topic-name.js';
import { raftConfig } from '../quorum/raft-config.js';
import { RaftMetadataQuorum } from '../quorum/raft-metadata-quorum.js';
import { type Transport, TransportError } from '../protocol/transport.js';
import { IsrManager } from '../replication/isr-manager.js';
import { ReplicaFetcherManager } from '../replication/replica-fetcher.js';
import { ReplicaManager } from '../replication/replica-manager.js';
import { advertisedBrokers } from './advertised-brokers.js';
import { type BrokerEndpoint, advertisedEndpoints } from './advertised-endpoints.js';
import { type BrokerConfig, bootstrapsOnlyItself, interBrokerListenerOf, isMultiNodeQuorum, listenerConnectionKeys, listenerOnlySecurityKeys, listenerPrefixed, resolveBrokerConfig, type SslSettings } from './broker-config.js';
import type { BrokerServices } from './broker-services.js';
import { handlers, servedHandlers, supportedApis } from './handlers/registry.js';
import { serverAssignorNamed } from '../coordinator/group/assignors.js';
import { BrokerMetrics } from './metrics/broker-metrics.js';
import type { MetricsSource } from './metrics/prometheus.js';
import { applyLogConfigs, effectiveBrokerConfig, replicationThrottle, serverPropertiesOf, topicConfigValue, topicLogConfig } from './config-resources.js';
import { effectiveMinIsr } from '../metadata/eligible-leaders.js';
import { targetReplicas } from '../metadata/reassignment.js';
import { brokerLogBackgroundWork, brokerLogDefaults } from './log-configs.js';
import { ensureBrokerIdentity } from './meta-properties.js';
import {
  type BoundListener,
  type ConnectionInfo,
  type ConnectionLimits,
  type ConnectionQuotaSettings,
  type ConnectionStats,
  type FrameHandler,
  type FrameOutcome,
  type ListenerConfig,
  type ListenerConnectionLimits,
  SocketServer,
  TlsReload,
  parseListeners,
  resolveIpOverrides,
} from './network/index.js';
import { tlsClientOptions, tlsPrincipal, tlsServerOptions } from './network/tls-listener.js';
import { SaslAuthenticator } from './sasl-authenticator.js';
import { ControllerChannel } from './controller-channel.js';
import { type ControllerRequests, createControllerListenerHandler } from './controller-listener.js';
import { NodeTransport } from '../client/node-transport.js';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Connector } from '../client/byte-stream.js';
import { randomUuid } from '../base/uuid.js';
import { DelayedOperations } from './purgatory/delayed-operations.js';
import { createRequestDispatcher } from './request-dispatcher.js';
import { TransactionMarkerChannel, writeMarkerHere } from './transaction-markers.js';
import { TransactionVerifier } from './transaction-verification.js';
import { createTransactionCoordinator } from './transaction-wiring.js';
import { internalTopicPartitions } from './internal-topics.js';
import { createShareParts } from './share-wiring.js';
import { startTransforms } from './transforms-wiring.js';
import { resolveGroupConfig } from '../metadata/group-configs.js';

export interface BrokerOptions {
  config: BrokerConfig;
  fs: FileSystem;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  /** Opens connections to the other nodes (src/node: TCP); needed when controller.quorum.voters is set. */
  connect?: Connector;
  /**
   * Told when the broker stopped itself (the metadata log's directory failed, as a Kafka broker
   * halts); a process exits then, so a supervisor restarts it.
   */
  onHalted?: (reason: string) => void;
}

/** How long a starting node waits for the active controller to register and unfence it. */
const REGISTRATION_TIMEOUT_MS = 60_000;
/** How long a replica's directory assignment is retried (the controller moving, the registration not applied yet). */
const DIRECTORY_ASSIGNMENT_TIMEOUT_MS = 60_000;
/** How long a client of a SASL listener has to authenticate before its connection is closed. */
export const SASL_AUTHENTICATION_TIMEOUT_MS = 10_000;
/** How long a stopping broker waits for the controller to acknowledge its controlled shutdown. */
const CONTROLLED_SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * The broker listeners' requests that arrive while a cluster node is still starting (its
 * controller listener already serves): each waits, in arrival order, until the dispatcher is ready.
 */
class DeferredFrameHandler {
  #handler: FrameHandler | undefined;
  #waiting: ((handler: FrameHandler) => void)[] = [];

  handle(frame: Buffer, connection: ConnectionInfo): FrameOutcome | Promise<FrameOutcome> {
    if (this.#handler) return this.#handler(frame, connection);
    // The frame is a view of the socket's buffer: keep a copy while it waits.
    const copy = Buffer.from(frame);
    return new Promise<FrameOutcome>((resolve, reject) => {
      this.#waiting.push((handler) => {
        try {
          Promise.resolve(handler(copy, connection)).then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** The dispatcher once ready, else undefined. */
  get current(): FrameHandler | undefined {
    return this.#handler;
  }

  ready(handler: FrameHandler): void {
    this.#handler = handler;
    for (const start of this.#waiting.splice(0)) start(handler);
  }
}

/**
 * The connector for this node's connections to other nodes' `listener`: over TLS, with this
 * node's own settings for that listener, when the listener is SSL; logged in with this node's
 * SASL credentials for it (sasl.mechanism.inter.broker.protocol / controller.protocol and the
 * JAAS entry's username and password) when the listener is SASL.
 */
async function nodeConnector(connect: Connector | undefined, config: BrokerConfig, listener: string): Promise<Connector | undefined> {
  if (connect === undefined) return connect;
  const ssl = config.listenerSsl.get(listener);
  const tls = ssl === undefined ? undefined : await tlsClientOptions(listener, ssl);
  const secured: Connector = tls === undefined ? connect : (address, timeoutMs) => connect(address, timeoutMs, tls);
  const login = config.nodeSasl.get(listener);
  return login === undefined ? secured : saslConnector(secured, login, { clientId: `conveyor-sasl-${config.nodeId}` });
}

/** The key and trust store files of an SSL listener's settings (none for PEM in the configuration). */
function tlsFiles(ssl: SslSettings): string[] {
  return [ssl.keystoreCertificateChain === null ? ssl.keystoreLocation : null, ssl.truststoreCertificates === null ? ssl.truststoreLocation : null].filter((file): file is string => file !== null);
}

/**
 * The listeners to bind: an SSL listener with its TLS options (read and checked now) and where they
 * come from again (its files; dynamic settings replace them, see tlsSettingsUpdater).
 */
async function listenerConfigs(config: BrokerConfig): Promise<ListenerConfig[]> {
  const listeners = parseListeners(config.listeners);
  if (config.listenerSsl.size === 0 && config.listenerSasl.size === 0) return listeners;
  return Promise.all(listeners.map(async (plain) => {
    // A SASL listener's clients send small frames, and must authenticate in time, until they have.
    const listener = config.listenerSasl.has(plain.name) ? { ...plain, unauthenticated: { maxFrameBytes: config.saslServerMaxReceiveSize, timeoutMs: SASL_AUTHENTICATION_TIMEOUT_MS } } : plain;
    const ssl = config.listenerSsl.get(listener.name);
    if (ssl === undefined) return listener;
    const tls = await tlsServerOptions(listener.name, ssl);
    const principalOf = (socket: Socket) => tlsPrincipal(socket as TLSSocket, ssl.principalMapper);
    return { ...listener, tls, principalOf, tlsReload: new TlsReload(tlsFiles(ssl), () => tlsServerOptions(listener.name, ssl)) };
  }));
}

/**
 * Applies the key and trust store settings of this broker's dynamic configs (Kafka reconfigures
 * listener.name.<listener>.ssl.keystore.location and the other listenerOnlySecurityKeys without a
 * restart, per broker) to its SSL listeners: a listener whose dynamic settings changed (or were
 * removed: back to server.properties) reads them at once and watches its new files from then on.
 * Settings that do not resolve, or key stores that cannot be used, are logged and the listener
 * keeps what it serves.
 */
function tlsSettingsUpdater(services: BrokerServices, sources: ReadonlyMap<string, TlsReload>): () => void {
  const applied = new Map<string, string>();
  return () => {
    if (sources.size === 0) return;
    const dynamic: [string, string][] = [];
    for (const [name, value] of services.image.resourceConfigs(ConfigResourceType.broker, String(services.nodeId))) {
      const prefixed = listenerPrefixed(name);
      if (prefixed && listenerOnlySecurityKeys.has(prefixed.baseName)) dynamic.push([name, value]);
    }
    for (const [listener, source] of sources) {
      const prefix = `listener.name.${listener.toLowerCase()}.`;
      const own = dynamic.filter(([name]) => name.toLowerCase().startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1));
      const fingerprint = JSON.stringify(own);
      if ((applied.get(listener) ?? '[]') === fingerprint) continue;
      applied.set(listener, fingerprint);
      let ssl: SslSettings | undefined;
      try {
        const input = serverPropertiesOf(services.config);
        for (const [name, value] of own) input.set(name, value);
        ssl = resolveBrokerConfig(input).listenerSsl.get(listener);
      } catch (error) {
        services.logger.warn('dynamic TLS settings do not resolve: the listener keeps its key and trust stores', { listener, error: (error as Error).message });
        continue;
      }
      if (ssl === undefined) continue;
      const settings = ssl;
      source.replace(tlsFiles(settings), () => tlsServerOptions(listener, settings));
    }
  };
}

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The most sockets the broker holds, whatever max.connections says (a safety cap: file
 * descriptors and memory). max.connections itself makes new connections wait, as in Kafka.
 */
const MAX_SOCKETS = 100_000;

/** Kafka's connection limits as the socket server enforces them, from the broker config. */
async function connectionQuotaSettings(config: BrokerConfig, logger: Logger): Promise<ConnectionQuotaSettings> {
  return {
    limits: await connectionLimits(config, config.listenerConnectionLimits, logger),
    interBrokerListener: interBrokerListenerOf(config),
    // A Kafka node's controller has a socket server of its own: its listeners are counted apart.
    separateListeners: config.controllerListenerNames,
    window: { samples: config.quotaWindowNum, sampleMs: config.quotaWindowSizeSeconds * 1000 },
  };
}

/** max.connections and the others, with the host names of max.connections.per.ip.overrides resolved. */
async function connectionLimits(config: BrokerConfig, listeners: ReadonlyMap<string, ListenerConnectionLimits>, logger: Logger): Promise<ConnectionLimits> {
  const { overrides, unresolved } = await resolveIpOverrides(config.maxConnectionsPerIpOverrides);
  if (unresolved.length > 0) {
    logger.warn('max.connections.per.ip.overrides names hosts that do not resolve: their overrides are left out', { hosts: unresolved.join(',') });
  }
  return {
    maxConnections: config.maxConnections,
    maxConnectionCreationRate: config.maxConnectionCreationRate,
    maxConnectionsPerIp: config.maxConnectionsPerIp,
    maxConnectionsPerIpOverrides: overrides,
    listeners,
  };
}

/**
 * Applies the connection limits of the dynamic broker configs (per broker over cluster default
 * over server.properties; a listener's own listener.name.<listener>.* keys too) to the socket
 * server, each time a broker config changes. Host names are resolved off the metadata
 * publisher's path; a later change wins over a lookup still under way.
 */
function connectionLimitsUpdater(services: BrokerServices, socketServer: SocketServer): () => void {
  let generation = 0;
  return () => {
    const current = ++generation;
    const effective = effectiveBrokerConfig(services);
    const listeners = new Map(effective.listenerConnectionLimits);
    for (const resourceName of ['', String(services.nodeId)]) {
      for (const [name, text] of services.image.resourceConfigs(ConfigResourceType.broker, resourceName)) {
        const prefixed = listenerPrefixed(name);
        const value = Number(text);
        // AlterConfigs checked the value against the base key (a non-negative int).
        if (!prefixed || !listenerConnectionKeys.has(prefixed.baseName) || !Number.isSafeInteger(value) || value < 0) continue;
        const listener = prefixed.listener.toUpperCase();
        const own = prefixed.baseName === 'max.connections' ? { maxConnections: value } : { maxConnectionCreationRate: value };
        listeners.set(listener, { ...listeners.get(listener), ...own });
      }
    }
    connectionLimits(effective, listeners, services.logger).then(
      (limits) => {
        if (current === generation) socketServer.reconfigureConnectionQuotas(limits);
      },
      (error: unknown) => services.logger.warn('connection limits not applied', { error: String(error) }),
    );
  };
}

/** A quorum of one sends nothing to anyone: the only voter elects itself. */
const NO_PEERS: Transport = {
  send: (nodeId) => Promise.reject(new TransportError('unreachable', nodeId, `node ${nodeId} is not part of this quorum`)),
};

/** Fetch requests that may wait at once; beyond it they are answered immediately. */
export const MAX_WAITING_FETCHES = 100_000;
/** acks=all partition responses waiting for the in-sync replicas, at most (beyond: REQUEST_TIMED_OUT at once). */
export const MAX_WAITING_PRODUCES = 100_000;
/** How long a leader's ISR change may take to reach the active controller before it is proposed again. */
const ALTER_PARTITION_TIMEOUT_MS = 10_000;

export class Broker {
  private constructor(
    readonly services: BrokerServices,
    private readonly logManager: LogManager,
    private readonly socketServer: SocketServer,
    readonly listeners: readonly BoundListener[],
    readonly endpoints: readonly BrokerEndpoint[],
  ) {}

  static async start(options: BrokerOptions): Promise<Broker> {
    const { config, fs, clock, logger } = options;
    const socketServer = new SocketServer({
      listeners: await listenerConfigs(config),
      limits: {
        socketRequestMaxBytes: config.socketRequestMaxBytes,
        connectionsMaxIdleMs: config.connectionsMaxIdleMs,
        maxQueuedResponseBytes: 16 * 1024 * 1024,
        maxInFlightRequestsPerConnection: 5,
        maxConnections: MAX_SOCKETS,
      },
      connectionQuotas: await connectionQuotaSettings(config, logger),
      logger,
      clock,
      timesFrames: config.metricsListeners.length > 0,
    });
    // The listeners bind on this thread while the file system's threads make the directory; they
    // serve nothing until the broker is registered (startOnLogs), as a Kafka broker does. A new
    // directory's entry is durable only once its parent is synced: without that, a power loss
    // could take the whole directory, flushed records and metadata included (Kafka syncs it too).
    const madeDir = makeDirectoryDurably(fs, config.logDir);
    const bound = socketServer.bind();
    bound.catch(() => {}); // awaited in startOnLogs: a taken port fails the start there
    try {
      await madeDir;
      return await Broker.openLogs(options, socketServer, bound);
    } catch (error) {
      await socketServer.close();
      throw error;
    }
  }

  private static async openLogs(options: BrokerOptions, socketServer: SocketServer, bound: Promise<BoundListener[]>): Promise<Broker> {
    const { config, fs, clock, random, logger } = options;
    // Another node's directory is refused before any of its logs is opened; a new directory's
    // identity is written while the (empty) logs open.
    const dirFailures = new LogDirFailures();
    const [meta, opened] = await Promise.allSettled([
      // A node of a multi-node quorum must have been formatted with the cluster's id; the other
      // log directories share the first one's identity, each with its own directory id.
      ensureBrokerIdentity(fs, config.logDirs, config.nodeId, random, isMultiNodeQuorum(config)),
      LogManager.open({
        fs,
        dataDir: config.logDir,
        dataDirs: config.logDirs,
        clock,
        logger: logger.child('log'),
        defaults: brokerLogDefaults(config),
        // In a cluster another replica can take over: any failed write fails its directory, as in Kafka.
        offlineOnWriteError: isMultiNodeQuorum(config),
        // One directory on a single node: a log's failure stays its own (see LogManagerOptions).
        logFailureFailsDirectory: isMultiNodeQuorum(config) || config.logDirs.length > 1,
        onLogDirFailure: (dir) => dirFailures.report(dir),
        ...brokerLogBackgroundWork(config),
      }).then(openMetadataLog),
    ]);
    if (opened.status === 'rejected') throw opened.reason;
    const { logManager, metadataLog } = opened.value;
    try {
      if (meta.status === 'rejected') throw meta.reason;
      const logDirs = { directoryIds: meta.value.directoryIds, failures: dirFailures };
      return await Broker.startOnLogs(options, meta.value.clusterId, logManager, metadataLog, socketServer, bound, logDirs);
    } catch (error) {
      await logManager.close();
      throw error;
    }
  }

  private static async startOnLogs(
    options: BrokerOptions,
    clusterId: string,
    logManager: LogManager,
    metadataLog: PartitionLog,
    socketServer: SocketServer,
    bound: Promise<BoundListener[]>,
    logDirs: LogDirIdentities,
  ): Promise<Broker> {
    const { config, clock, random, logger } = options;
    const image = new MetadataImage();
    // KIP-612: an address's connection_creation_rate, from the ip entities the image holds.
    socketServer.useIpConnectionRates((ip) => ipQuota(image, ip));
    // A single node with no voters configured is a quorum of one; a cluster's voters are reached
    // on their controller listeners through the node transport. With bootstrap servers instead of
    // voters (KIP-853) the voters are those the metadata log (or its bootstrap checkpoint) names;
    // bootstrap servers naming only this node make it a quorum of itself until voters are added.
    const staticVoters = config.controllerQuorumVoters;
    const bootstrapServers = staticVoters.length === 0 ? config.controllerQuorumBootstrapServers : [];
    const clustered = staticVoters.length > 0 || bootstrapServers.length > 0;
    const bootstrapIds = bootstrapServers.map((_, index) => -2 - index);
    // A broker-only node is an observer of the quorum (it fetches the metadata log, never votes);
    // a controller-only node votes and may lead but never registers as a broker.
    // Two sets of connections, as Kafka keeps two network clients: the Raft RPCs must never queue
    // behind a request to the controller that waits for a commit (a connection answers in order,
    // and that commit needs the very fetch stuck behind it).
    let transport: Transport = NO_PEERS;
    let channelTransport: Transport = NO_PEERS;
    let lifecycleTransport: Transport = NO_PEERS;
    const peerTransports: NodeTransport[] = [];
    if (clustered) {
      const connect = await nodeConnector(options.connect, config, config.controllerListenerNames[0] ?? 'CONTROLLER');
      if (!connect) throw new Error('controller.quorum.voters is set but no connector was given to reach the other nodes');
      const addresses = [
        ...staticVoters.map(({ nodeId, host, port }) => [nodeId, joinHostPort(host, port)] as const),
        ...bootstrapServers.map(({ host, port }, index) => [bootstrapIds[index]!, joinHostPort(host, port)] as const),
      ];
      const raftTransport = new NodeTransport({ connect, clock, clientId: `conveyor-raft-${config.nodeId}`, addresses });
      const controllerTransport = new NodeTransport({ connect, clock, clientId: `conveyor-controller-channel-${config.nodeId}`, addresses });
      const lifecycle = new NodeTransport({ connect, clock, clientId: `conveyor-broker-lifecycle-${config.nodeId}`, addresses });
      peerTransports.push(raftTransport, controllerTransport, lifecycle);
      lifecycleTransport = lifecycle;
      transport = raftTransport;
      channelTransport = controllerTransport;
    }
    const controllerListener = config.controllerListenerNames[0] ?? 'CONTROLLER';
    const selfEndpoints = clustered
      ? advertisedEndpoints(config, await bound).filter((endpoint) => config.controllerListenerNames.includes(endpoint.name)).map(({ name, host, port }) => ({ name, host, port }))
      : [];
    const setAddress = (nodeId: number, host: string, port: number) => {
      if (nodeId !== config.nodeId) for (const peers of peerTransports) peers.setAddress(nodeId, joinHostPort(host, port));
    };
    const quorum = await RaftMetadataQuorum.start({
      config: raftConfig({
        nodeId: config.nodeId,
        directoryId: logDirs.directoryIds.get(config.logDir),
        voters: staticVoters.length > 0 ? staticVoters.map((voter) => voter.nodeId) : bootstrapServers.length > 0 && !bootstrapsOnlyItself(config) ? [] : [config.nodeId],
        bootstrapIds,
        selfEndpoints,
        staticEndpoints: new Map(staticVoters.map((voter) => [voter.nodeId, [{ name: controllerListener, host: voter.host, port: voter.port }]])),
        clusterId,
        electionTimeoutMs: config.controllerQuorumElectionTimeoutMs,
        fetchTimeoutMs: config.controllerQuorumFetchTimeoutMs,
        electionBackoffMaxMs: config.controllerQuorumElectionBackoffMaxMs,
        requestTimeoutMs: config.controllerQuorumRequestTimeoutMs,
        retryBackoffMs: config.controllerQuorumRetryBackoffMs,
      }),
      log: metadataLog,
      fs: options.fs,
      transport,
      clock,
      random,
      logger: logger.child('quorum'),
      image,
      maxBytesBetweenSnapshots: config.metadataLogMaxRecordBytesBetweenSnapshots,
      // A voter added at run time (KIP-853) is reached at the controller listener its record names.
      onVotersChange: (voters) => {
        for (const voter of voters) {
          const endpoint = voter.endpoints.find((candidate) => config.controllerListenerNames.includes(candidate.name)) ?? voter.endpoints[0];
          if (endpoint) setAddress(voter.id, endpoint.host, endpoint.port);
        }
      },
      // A node that found the quorum through bootstrap servers learns the leader's address so.
      onEndpoint: (nodeId, endpoint) => setAddress(nodeId, endpoint.host, endpoint.port),
    });
    // The controller listener answers the other voters from now on: they need this node to elect a
    // leader before any of them can finish starting. The broker listeners' requests wait.
    let controllerRequests: ControllerRequests | undefined;
    const brokerDispatcher = new DeferredFrameHandler();
    if (clustered) {
      const controllerListeners = new Set(config.controllerListenerNames);
      const controllerHandler = createControllerListenerHandler({
        quorum,
        controllerRequests: () => controllerRequests,
        forwardedDispatcher: () => brokerDispatcher.current,
        forwardableApiKeys: new Set(handlers.filter((handler) => handler.forwardToController).map((handler) => handler.api.apiKey)),
        forwardedListenerName: interBrokerListenerOf(config),
        authorization: new Authorization(config.authorizer, image, logger),
        sasl: new SaslAuthenticator(config.listenerSasl, (username, mechanism) => image.scramCredential(username, mechanism), { clock, logger, connectionsMaxReauthMs: config.connectionsMaxReauthMs }),
        logger,
      });
      await bound;
      socketServer.serve((frame, connection) =>
        controllerListeners.has(connection.listenerName) ? controllerHandler(frame, connection) : brokerDispatcher.handle(frame, connection),
      );
    }
    try {
      // Brokers reach each other (replica fetchers, transaction markers) on the inter-broker listener.
      const brokerLinks = clustered ? { ...options, connect: await nodeConnector(options.connect, config, interBrokerListenerOf(config)) } : options;
      return await Broker.startOnQuorum(brokerLinks, clusterId, logManager, socketServer, bound, image, quorum, [transport, channelTransport, lifecycleTransport], clustered, (requests) => {
        controllerRequests = requests;
      }, brokerDispatcher, logDirs);
    } catch (error) {
      // A start that fails after the quorum started stops it, or its timers would outlive the broker.
      quorum.raft.kill();
      for (const opened of [transport, channelTransport, lifecycleTransport]) if (opened instanceof NodeTransport) opened.close();
      throw error;
    }
  }

  private static async startOnQuorum(
    options: BrokerOptions,
    clusterId: string,
    logManager: LogManager,
    socketServer: SocketServer,
    bound: Promise<BoundListener[]>,
    image: MetadataImage,
    quorum: RaftMetadataQuorum,
    [raftTransport, transport, lifecycleTransport]: [Transport, Transport, Transport],
    clustered: boolean,
    setControllerRequests: (requests: ControllerRequests) => void,
    brokerDispatcher: DeferredFrameHandler,
    logDirs: LogDirIdentities,
  ): Promise<Broker> {
    const { config, clock, random, logger } = options;
    await quorum.caughtUp();
    logger.info('metadata loaded', { offset: quorum.appliedOffset, epoch: quorum.raft.epoch, leaderId: quorum.activeControllerId });
    const controller = new Controller({
      image,
      quorum,
      clock,
      random,
      defaultNumPartitions: config.numPartitions,
      defaultReplicationFactor: config.defaultReplicationFactor,
      uncleanLeaderElectionEnable: config.uncleanLeaderElectionEnable,
      minInsyncReplicas: config.minInsyncReplicas,
      logger: logger.child('controller'),
      onUncleanElection: (topic, partition, leader, lostIsr) =>
        logger.warn('unclean leader election: a replica outside the ISR leads, and records only the lost in-sync replicas had are gone', { topic, partition, leader, lostIsr: lostIsr.join(',') }),
      ...(config.processRoles.includes('broker') ? { localBrokerId: config.nodeId } : {}),
    });
    const channel = new ControllerChannel({ nodeId: config.nodeId, clusterId, quorum, controller, image, transport, lifecycleTransport, clustered, metadataMaxIdleIntervalMs: config.metadataMaxIdleIntervalMs, clock, logger: logger.child('controller-channel') });
    setControllerRequests(channel);
    const replicaManager = new ReplicaManager(logManager, logger.child('replicas'), config.nodeId);
    const fetchWaiters = new DelayedOperations(clock, MAX_WAITING_FETCHES);
    const produceWaiters = new DelayedOperations(clock, MAX_WAITING_PRODUCES);
    replicaManager.onHighWatermarkChange((partition) => {
      fetchWaiters.checkAndComplete(partition.key);
      produceWaiters.checkAndComplete(partition.key);
    });
    // Followers fetch from their leaders on the inter-broker listener; a single node follows nobody.
    const replicaTransport = clustered && options.connect ? new NodeTransport({ connect: options.connect, clock, clientId: `conveyor-replica-fetcher-${config.nodeId}` }) : undefined;
    // This broker's epoch once registered: its followers name themselves by it (Fetch v15+ ReplicaState, KIP-903).
    let registeredEpoch = -1;
    const fetchers = new ReplicaFetcherManager({
      localBrokerId: config.nodeId,
      brokerEpoch: () => registeredEpoch,
      transport: replicaTransport ?? NO_PEERS,
      clock,
      logger: logger.child('replica-fetcher'),
      config: {
        waitMaxMs: config.replicaFetchWaitMaxMs,
        minBytes: config.replicaFetchMinBytes,
        maxBytes: config.replicaFetchMaxBytes,
        responseMaxBytes: config.replicaFetchResponseMaxBytes,
        backoffMs: config.replicaFetchBackoffMs,
        requestTimeoutMs: config.replicaSocketTimeoutMs,
      },
      stillFollows: (partition) => !partition.isLeader && replicaManager.replica(partition.topic, partition.partitionIndex) === partition,
      // follower.replication.throttled.rate over the partitions its topic lists (KIP-73).
      throttle: replicationThrottle({ image, nodeId: config.nodeId, clock, config }, 'follower'),
      onProgress: (partition) => replicaManager.notify(partition),
    });
    replicaManager.onFollowChange((partition) => fetchers.follow(partition));
    const interBrokerListener = interBrokerListenerOf(config);
    // Transaction markers and produce verifications for transactions coordinated elsewhere go out
    // on a connection of their own, not queued behind the replica fetchers' long polls.
    const transactionTransport = clustered && options.connect ? new NodeTransport({ connect: options.connect, clock, clientId: `conveyor-transactions-${config.nodeId}` }) : undefined;
    const updatePeers = () => {
      for (const peer of advertisedBrokers(image, interBrokerListener, true)) {
        if (peer.nodeId === config.nodeId) continue;
        replicaTransport?.setAddress(peer.nodeId, joinHostPort(peer.host, peer.port));
        transactionTransport?.setAddress(peer.nodeId, joinHostPort(peer.host, peer.port));
      }
    };
    // Share groups (KIP-932): the share coordinator, the router to other brokers' ones, and the share-partitions led here.
    const groupConfig = (groupId: string) => resolveGroupConfig(image, groupId, config);
    const share = createShareParts({
      config,
      image,
      replicaManager,
      controllerChannel: channel,
      transport: transactionTransport ?? NO_PEERS,
      clock,
      logger,
      fetchWaiters,
      groupSettings: (groupId) => {
        const resolved = groupConfig(groupId);
        return { recordLockDurationMs: resolved.shareRecordLockDurationMs, autoOffsetReset: resolved.shareAutoOffsetReset, readCommitted: resolved.shareIsolationLevel === 'read_committed' };
      },
    });
    const groupCoordinator = new GroupCoordinator({
      clock,
      random,
      logger: logger.child('group-coordinator'),
      image,
      partitions: internalTopicPartitions({ controllerChannel: channel, image, logger, replicaManager, clock }, CONSUMER_OFFSETS_TOPIC, {
        numPartitions: config.offsetsTopicNumPartitions,
        replicationFactor: config.offsetsTopicReplicationFactor,
      }),
      config: {
        offsetsTopicNumPartitions: config.offsetsTopicNumPartitions,
        offsetsRetentionMs: config.offsetsRetentionMinutes * 60_000,
        offsetsRetentionCheckIntervalMs: 600_000,
        groupInitialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
        groupMinSessionTimeoutMs: config.groupMinSessionTimeoutMs,
        groupMaxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
        groupMaxSize: config.groupMaxSize,
        offsetMetadataMaxBytes: 4096,
      },
      consumerConfig: {
        sessionTimeoutMs: config.consumerGroups.sessionTimeoutMs,
        heartbeatIntervalMs: config.consumerGroups.heartbeatIntervalMs,
        maxSize: config.consumerGroups.maxSize,
        assignors: config.consumerGroups.assignors.map((name) => serverAssignorNamed(name)!),
        migrationPolicy: config.consumerGroups.migrationPolicy,
        groupConfig: (groupId) => {
          const resolved = groupConfig(groupId);
          return { sessionTimeoutMs: resolved.consumerSessionTimeoutMs, heartbeatIntervalMs: resolved.consumerHeartbeatIntervalMs };
        },
      },
      shareConfig: {
        sessionTimeoutMs: config.shareGroups.sessionTimeoutMs,
        heartbeatIntervalMs: config.shareGroups.heartbeatIntervalMs,
        maxSize: config.shareGroups.maxSize,
        initializeRetryIntervalMs: config.shareGroups.initializeRetryIntervalMs,
      },
      shareGroupConfig: (groupId) => {
        const resolved = groupConfig(groupId);
        return { sessionTimeoutMs: resolved.shareSessionTimeoutMs, heartbeatIntervalMs: resolved.shareHeartbeatIntervalMs };
      },
      shareStatePersister: share.persister,
    });
    const transactionCoordinator = createTransactionCoordinator({
      config,
      nodeId: config.nodeId,
      clock,
      logger: logger.child('transaction-coordinator'),
      image,
      controller,
      controllerChannel: channel,
      replicaManager,
      // `services` exists before the coordinator starts, the first moment a marker can be written.
      markers: new TransactionMarkerChannel({
        nodeId: config.nodeId,
        image,
        transport: transactionTransport ?? NO_PEERS,
        clock,
        logger: logger.child('txn-markers'),
        writeHere: (marker) => writeMarkerHere(services, marker),
      }),
      allocateProducerIdBlock: (blockSize) => channel.allocateBlock(blockSize, clock.monotonicMs() + REGISTRATION_TIMEOUT_MS),
    });
    const services: BrokerServices = {
      authorization: new Authorization(config.authorizer, image, logger),
      clientQuotas: new ClientQuotas(
        clientQuotaSources(image),
        clock,
        { samples: config.quotaWindowNum, sampleMs: config.quotaWindowSizeSeconds * 1000 },
        () => image.clientQuotas.size > 0,
        { samples: config.controllerQuotaWindowNum, sampleMs: config.controllerQuotaWindowSizeSeconds * 1000 },
      ),
      sasl: new SaslAuthenticator(config.listenerSasl, (username, mechanism) => image.scramCredential(username, mechanism), { clock, logger, connectionsMaxReauthMs: config.connectionsMaxReauthMs }),
      nodeId: config.nodeId,
      clusterId,
      config,
      image,
      controller,
      quorum,
      controllerChannel: channel,
      replicaManager,
      fetchWaiters,
      produceWaiters,
      groupCoordinator,
      transactionCoordinator,
      shareStateCoordinator: share.coordinator,
      sharePartitions: share.partitions,
      peers: transactionTransport ?? NO_PEERS,
      transactionVerifier: new TransactionVerifier({ nodeId: config.nodeId, image, coordinator: transactionCoordinator, transport: transactionTransport ?? NO_PEERS, logger: logger.child('txn-verifier') }),
      clock,
      logger,
      supportedApis: supportedApis(servedHandlers(config)),
      ...(config.metricsListeners.length > 0 ? { metrics: new BrokerMetrics() } : {}),
    };
    // Coordinators follow the leadership of their internal topics' partitions: one that moves away
    // takes its groups or transactional ids with it (the new leader loads them from its log).
    replicaManager.onLeadershipChange((partition, leads) => {
      if (leads) return;
      services.sharePartitions.leadershipLost(partition);
      if (partition.topic === CONSUMER_OFFSETS_TOPIC) groupCoordinator.unload(partition.partitionIndex);
      else if (partition.topic === SHARE_GROUP_STATE_TOPIC) share.coordinator.unload(partition.partitionIndex);
      else if (partition.topic === TRANSACTION_STATE_TOPIC) transactionCoordinator.unload(partition.partitionIndex);
    });
    // A share session ends with its connection, and its member's records go back (KIP-932).
    socketServer.onConnectionClosed((info) => services.sharePartitions.connectionClosed(info.id));
    // A failed log directory (Kafka's log-dir failure): its partitions go offline here and the
    // controller hears of it in the heartbeats, and moves their leadership to other replicas. The
    // metadata log's directory failing stops the broker, as it stops Kafka's. Directories that
    // failed while the logs opened are handled now, before any partition is hosted.
    let self: Broker | undefined;
    // The ids of the log directories that are (not) offline.
    const directoryIds = (offline: boolean) => logManager.logDirs.filter((dir) => dir.offline === offline).flatMap((dir) => logDirs.directoryIds.get(dir.path) ?? []);
    logDirs.failures.attach((dir) => {
      if (dir === logManager.dataDir) {
        logger.error('the metadata log directory failed: the broker stops, as a Kafka broker halts', { dir });
        void self?.halt().finally(() => options.onHalted?.(`the metadata log directory ${dir} failed`));
        return;
      }
      replicaManager.takeLogDirOffline(dir);
      channel.reportOfflineLogDirs(directoryIds(true));
    });
    // The controller learns in which directory each replica lives where it cannot know it (several
    // directories: it records UNASSIGNED) or where a move changed it (KIP-858's AssignReplicasToDirs).
    replicaManager.onReplicaPlaced((partition) => {
      const placedIn = logManager.logDirOf(partition.topic, partition.partitionIndex);
      const directoryId = placedIn === undefined ? undefined : logDirs.directoryIds.get(placedIn);
      const recorded = image.partition(partition.topic, partition.partitionIndex);
      if (directoryId === undefined || recorded === undefined || replicaDirectory(recorded, config.nodeId) === directoryId) return;
      channel
        .assignReplicasToDirs([{ topicId: partition.topicId, partitionIndex: partition.partitionIndex, directoryId }], clock.monotonicMs() + DIRECTORY_ASSIGNMENT_TIMEOUT_MS)
        .catch((error: unknown) => logger.warn('the controller did not record a replica\'s log directory', { topic: partition.topic, partition: partition.partitionIndex, error: String(error) }));
    });
    // The connection limits and TLS key and trust stores of dynamic broker configs apply now and at every change.
    const updateConnectionLimits = connectionLimitsUpdater(services, socketServer);
    const updateTlsSettings = tlsSettingsUpdater(services, socketServer.tlsSources());
    const onBrokerConfigs = () => {
      updateConnectionLimits();
      updateTlsSettings();
    };
    onBrokerConfigs();
    const publisher = new MetadataPublisher(services, updatePeers, onBrokerConfigs, () => quorum.republish());
    await publisher.reconcile();
    // Retention and the cleaner start once every hosted log carries its topic's settings.
    logManager.startBackgroundWork();
    quorum.onCommit((records, snapshot) => publisher.apply(records, snapshot));
    // Groups and offsets are rebuilt from __consumer_offsets before any client can ask for them.
    await groupCoordinator.start();
    await share.coordinator.start();
    // Transactions caught between prepare and complete are finished from `__transaction_state`:
    // before serving on a single broker, in the background in a cluster (see interruptedFinished).
    await transactionCoordinator.start();
    if (!clustered) await transactionCoordinator.interruptedFinished();
    const cancelProducerExpiry = scheduleProducerExpiry(services, logManager);

    const listeners = await bound;
    // Clients are told of the broker listeners only, never of a controller listener.
    const endpoints = advertisedEndpoints(config, listeners).filter((endpoint) => !config.controllerListenerNames.includes(endpoint.name));
    const isBroker = config.processRoles.includes('broker');
    let brokerEpoch = -1;
    if (isBroker) {
      // Registered fenced, as Kafka registers a broker; the controller unfences it once its
      // metadata has caught up with its registration, and only then does it serve (Kafka's broker
      // enables request processing once unfenced). A new incarnation id for every start.
      const deadlineMs = clock.monotonicMs() + REGISTRATION_TIMEOUT_MS;
      brokerEpoch = await channel.registerThisBroker(endpoints, config.brokerRack, randomUuid(random), deadlineMs, logManager.previousBrokerEpoch, directoryIds(false));
      registeredEpoch = brokerEpoch;
      await channel.awaitUnfenced(brokerEpoch, deadlineMs);
    }
    const dispatcher = createRequestDispatcher(servedHandlers(config), services);
    if (clustered) brokerDispatcher.ready(dispatcher);
    else socketServer.serve(dispatcher);
    logger.info('broker started', { nodeId: config.nodeId, clusterId, listeners: endpoints.map((endpoint) => `${endpoint.host}:${endpoint.port}`).join(',') });
    const broker = new Broker(services, logManager, socketServer, listeners, endpoints);
    self = broker;
    broker.cancelProducerExpiry = cancelProducerExpiry;
    broker.stopPublishing = () => publisher.stop();
    if (clustered) {
      // A cluster's brokers heartbeat the active controller, which fences the silent ones; a
      // controller-only node heartbeats nobody but still fences silent brokers while it leads.
      broker.brokerEpoch = brokerEpoch;
      broker.stopHeartbeats = channel.startHeartbeats(isBroker ? () => broker.brokerEpoch : undefined, config.brokerHeartbeatIntervalMs, config.brokerSessionTimeoutMs);
      // NoOps exist for the followers and observers: a quorum of one has none, so it appends none.
      broker.stopIdleNoOps = channel.startIdleNoOps(config.metadataMaxIdleIntervalMs);
      if (config.autoLeaderRebalanceEnable) broker.stopLeaderBalancing = channel.startLeaderBalancing(config.leaderImbalanceCheckIntervalSeconds * 1000);
    }
    broker.transports = [raftTransport, transport, lifecycleTransport, replicaTransport, transactionTransport].filter((opened): opened is NodeTransport => opened instanceof NodeTransport);
    broker.fetchers = fetchers;
    if (clustered && isBroker) {
      // The leaders' ISR changes go to the active controller (AlterPartition) under this broker's epoch.
      const isrManager = new IsrManager({
        clock,
        logger: logger.child('isr'),
        lagTimeMaxMs: config.replicaLagTimeMaxMs,
        ledPartitions: () => [...replicaManager.all()].filter((partition) => partition.isLeader),
        isrEligible: (brokerId, fetchedBrokerEpoch) => image.isrEligible(brokerId, fetchedBrokerEpoch),
        alterPartition: (proposals) =>
          channel.alterPartition(
            broker.brokerEpoch,
            proposals.map((proposal) => ({ topicId: proposal.topicId, partitionId: proposal.partitionIndex, leaderEpoch: proposal.leaderEpoch, partitionEpoch: proposal.partitionEpoch, isr: proposal.isr, memberEpochs: proposal.memberEpochs })),
            clock.monotonicMs() + ALTER_PARTITION_TIMEOUT_MS,
          ),
      });
      replicaManager.isrManager = isrManager;
      broker.isrManager = isrManager;
      isrManager.start();
    }
    if (isBroker) broker.transforms = startTransforms({ config, image, endpoints, connect: await nodeConnector(options.connect, config, interBrokerListener), clock, logger });
    return broker;
  }

  private cancelProducerExpiry: (() => void) | undefined;
  private stopPublishing: (() => void) | undefined;
  private fetchers: ReplicaFetcherManager | undefined;
  private isrManager: IsrManager | undefined;
  /** Connections to the other nodes of a cluster (Raft's, the controller channel's). */
  private transports: NodeTransport[] = [];
  private brokerEpoch = -1;
  private stopHeartbeats: (() => void) | undefined;
  private stopIdleNoOps: (() => void) | undefined;
  private stopLeaderBalancing: (() => void) | undefined;
  /** The broker transforms this broker runs (transforms.enabled). */
  transforms: ReturnType<typeof startTransforms>;

  /** Each open connection's requests in flight and response bytes waiting to be sent. */
  connectionStats(): ConnectionStats[] {
    return this.socketServer.connectionStats();
  }

  /** What the metrics endpoint reads, when metrics are on (metrics.listeners); undefined otherwise. */
  metricsSource(): MetricsSource | undefined {
    const metrics = this.services.metrics;
    if (metrics === undefined) return undefined;
    return {
      services: this.services,
      metrics,
      connectionCounts: () => this.socketServer.connectionCounts(),
      isrChanges: () => ({ shrinks: this.isrManager?.isrShrinks ?? 0, expands: this.isrManager?.isrExpands ?? 0 }),
    };
  }

  /**
   * Stops at once, as a crashed process would: no flush, no checkpoint, no clean-shutdown marker,
   * no resignation. The data directory is left as the last writes left it (tests cut the power to
   * an in-memory one first).
   */
  async halt(): Promise<void> {
    this.transforms?.halt();
    this.stopHeartbeats?.();
    this.stopIdleNoOps?.();
    this.stopLeaderBalancing?.();
    this.services.quorum.raft.kill();
    this.isrManager?.stop();
    this.fetchers?.close();
    this.services.fetchWaiters.shutdown();
    this.services.produceWaiters.shutdown();
    this.services.groupCoordinator.stop();
    this.services.transactionCoordinator.stop();
    this.services.sharePartitions.close();
    this.services.shareStateCoordinator.stop();
    this.cancelProducerExpiry?.();
    this.stopPublishing?.();
    for (const transport of this.transports) transport.close();
    await this.logManager.retention.stop();
    await this.logManager.cleaner?.stop();
    await this.socketServer.close();
  }

  async close(): Promise<void> {
    // First, while this broker still serves: each transform's last batch is produced and committed.
    // With none running there is nothing to finish, and the shutdown must not yield before it
    // begins (a coordinator's interrupted work stays interrupted, as a test of it relies on).
    if (this.transforms?.isIdle()) this.transforms.halt();
    else await this.transforms?.stop();
    this.stopHeartbeats?.();
    if (this.stopHeartbeats && this.brokerEpoch >= 0) {
      // Kafka's controlled shutdown, first, while this broker still serves and replicates: the
      // controller fences it and moves its partitions' leadership to in-sync followers (and takes
      // it out of every ISR) before it goes, so clients move on at once rather than after a session
      // timeout, and acks=all never waits for a replica that is leaving.
      await this.services.controllerChannel
        .heartbeat(this.brokerEpoch, true, this.services.clock.monotonicMs() + CONTROLLED_SHUTDOWN_TIMEOUT_MS)
        .catch((error: unknown) => this.services.logger.warn('controlled shutdown was not acknowledged', { error: String(error) }));
    }
    this.isrManager?.stop();
    this.fetchers?.close();
    // Waiting fetches answer now, so the connections can drain instead of waiting out MaxWaitMs.
    this.services.fetchWaiters.shutdown();
    this.services.produceWaiters.shutdown();
    this.services.groupCoordinator.stop();
    this.services.transactionCoordinator.stop();
    this.services.sharePartitions.close();
    this.services.shareStateCoordinator.stop();
    this.cancelProducerExpiry?.();
    this.stopPublishing?.();
    this.stopIdleNoOps?.();
    this.stopLeaderBalancing?.();
    // The quorum resigns first (a leader hands over at once), while the controller listener still answers.
    await this.services.quorum.close();
    await this.socketServer.close();
    for (const transport of this.transports) transport.close();
    // The clean shutdown marker carries this broker's epoch: registered with it next time, it
    // tells the controller nothing unsynced was lost (KIP-966).
    await this.logManager.close(this.brokerEpoch);
    this.services.logger.info('broker stopped', { nodeId: this.services.nodeId });
  }
}

/** The log directories' ids (from their meta.properties) and the failures reported so far. */
interface LogDirIdentities {
  readonly directoryIds: Map<string, string>;
  readonly failures: LogDirFailures;
}

/**
 * Log directory failures, held until the broker can act on them: the log manager reports those of
 * its opening before the broker's parts exist.
 */
class LogDirFailures {
  #handler: ((dir: string) => void) | undefined;
  readonly #pending: string[] = [];

  report(dir: string): void {
    if (this.#handler) this.#handler(dir);
    else this.#pending.push(dir);
  }

  attach(handler: (dir: string) => void): void {
    this.#handler = handler;
    for (const dir of this.#pending.splice(0)) handler(dir);
  }
}

/**
 * Opens (or creates) `__cluster_metadata-0`, which is never subject to retention or compaction: the
 * quorum trims it itself, below its newest snapshot. Part of opening the logs, so a new one is
 * created while meta.properties is written.
 */
async function openMetadataLog(logManager: LogManager): Promise<{ logManager: LogManager; metadataLog: PartitionLog }> {
  const metadataLogConfig = { segmentBytes: 64 * 1024 * 1024, cleanupPolicy: [], retentionMs: Number.POSITIVE_INFINITY, retentionBytes: -1 };
  try {
    // In the first log directory, as Kafka's metadata.log.dir defaults to it.
    const metadataLog = await logManager.createLog(CLUSTER_METADATA_TOPIC, 0, metadataLogConfig, logManager.dataDir);
    logManager.updateConfig(CLUSTER_METADATA_TOPIC, 0, metadataLogConfig);
    return { logManager, metadataLog };
  } catch (error) {
    await logManager.close();
    throw error;
  }
}

/** How often a broker whose metadata publishing failed retries with the whole image, at most. */
const PUBLISH_RETRY_MS = 1_000;
/** How often a failure that goes on is logged again. */
const PUBLISH_FAILURE_LOG_MS = 60_000;

/**
 * Applies committed metadata to this broker's partitions: hosts the partitions the image assigns
 * here and deletes the logs of removed topics.
 */
class MetadataPublisher {
  constructor(
    private readonly services: BrokerServices,
    /** Points the replica fetchers' connections at the brokers the image registers. */
    private readonly updatePeers: () => void = () => {},
    /** Applies the connection limits of the broker configs (dynamic ones included). */
    private readonly updateConnectionLimits: () => void = () => {},
    /** Has the quorum hand the whole image to `apply` again; false once it is closed. */
    private readonly republish: () => Promise<boolean> = async () => false,
  ) {}

  /** Set while a publish has failed: this broker's partitions may not match the image. */
  #behindSinceMs: number | undefined;
  #lastLoggedMs = Number.NEGATIVE_INFINITY;
  /** Cancels the retry while one is scheduled. */
  #cancelRetry: (() => void) | undefined;
  #stopped = false;

  /**
   * Applies one committed batch range (or a snapshot) and never throws. A failure is a fault of
   * this broker's state, not of the metadata (the image has applied the records), so, as Kafka's
   * brokers log a metadata publishing fault and go on, the loading goes on: a node that stopped
   * loading would leave its controller unable to act. Since an incremental publish after a failed
   * one could build on a half-applied change, the broker then applies the whole image again,
   * once a second (`republish`: in turn with the loads, as after a snapshot), until it succeeds;
   * meanwhile later batches wait for that, except a deleted topic's share-group state, which goes.
   */
  async apply(records: readonly MetadataRecord[], snapshot: boolean): Promise<void> {
    if (this.#stopped) return;
    if (!snapshot && this.#behindSinceMs !== undefined) {
      this.#forgetShareState(records);
      return;
    }
    try {
      if (snapshot) await this.reloaded();
      else await this.publish(records);
    } catch (error) {
      this.#publishFailed(error);
      return;
    }
    if (this.#behindSinceMs !== undefined) this.services.logger.info("this broker's partitions match the metadata image again", { behindMs: Math.round(this.services.clock.monotonicMs() - this.#behindSinceMs) });
    this.#behindSinceMs = undefined;
  }

  /** Stops the retries (the broker shuts down, or its start failed). */
  stop(): void {
    this.#stopped = true;
    this.#cancelRetry?.();
  }

  #publishFailed(error: unknown): void {
    const { clock, logger } = this.services;
    const now = clock.monotonicMs();
    // The first failure, and the latest one about once a minute while they go on.
    if (now - this.#lastLoggedMs >= PUBLISH_FAILURE_LOG_MS) {
      this.#lastLoggedMs = now;
      logger.error("applying committed metadata to this broker's partitions failed; it applies the whole image again every second until it succeeds", { error: String(error), behindMs: this.#behindSinceMs === undefined ? 0 : Math.round(now - this.#behindSinceMs) });
    }
    this.#behindSinceMs ??= now;
    if (this.#stopped || this.#cancelRetry) return;
    this.#cancelRetry = clock.schedule(PUBLISH_RETRY_MS, () => {
      this.#cancelRetry = undefined;
      if (!this.#stopped) void this.republish().catch(() => undefined);
    });
  }

  /** Share-partition state of deleted topics goes too (Kafka's share coordinator onTopicsDeleted). */
  #forgetShareState(records: readonly MetadataRecord[]): void {
    for (const record of records) {
      if (record.type !== 'RemoveTopic') continue;
      void this.services.shareStateCoordinator.onTopicsDeleted(new Set([record.topicId])).catch((error: unknown) => this.services.logger.warn('share-partition state of a deleted topic not removed', { topicId: record.topicId, error: String(error) }));
    }
  }

  async reconcile(): Promise<void> {
    const { image, replicaManager } = this.services;
    this.updatePeers();
    for (const topic of image.topicsByName.values()) await this.hostTopic(topic.name);
    const known = new Set(image.topicsByName.keys());
    known.add(CLUSTER_METADATA_TOPIC);
    for (const log of [...replicaManager.logManager.logs()]) {
      if (!known.has(log.topic)) {
        this.services.logger.info('deleting log of a topic the metadata log no longer has', { topic: log.topic, partition: log.partition });
        await replicaManager.logManager.deleteLog(log.topic, log.partition);
      } else if (log.topic !== CLUSTER_METADATA_TOPIC && !isAssignedHere(image.partition(log.topic, log.partition), this.services.nodeId)) {
        // A stray replica: a reassignment moved the partition off this broker while it was down.
        this.services.logger.info('deleting log of a partition no longer assigned here', { topic: log.topic, partition: log.partition });
        await replicaManager.logManager.deleteLog(log.topic, log.partition);
      }
    }
  }

  /** A snapshot replaced the image: host what it assigns here, drop what it no longer has, reapply configs. */
  async reloaded(): Promise<void> {
    await this.removeTopic();
    await this.reconcile();
    applyLogConfigs(this.services, null);
    this.updateConnectionLimits();
  }

  async publish(records: readonly MetadataRecord[]): Promise<void> {
    if (records.some((record) => record.type === 'RegisterBroker')) this.updatePeers();
    const touched = new Set<string>();
    const reconfigured = new Set<string>();
    let brokerDefaultsChanged = false;
    // A topic's min.insync.replicas is part of its replicas' assignment (the strict min ISR rule).
    let minIsrDefaultChanged = false;
    for (const record of records) {
      if (record.type === 'Config') {
        const minIsr = record.name === 'min.insync.replicas';
        if (record.resourceType === ConfigResourceType.topic) {
          reconfigured.add(record.resourceName);
          if (minIsr) touched.add(record.resourceName);
        } else if (record.resourceType === ConfigResourceType.broker) {
          brokerDefaultsChanged = true;
          minIsrDefaultChanged ||= minIsr;
        }
      } else if (record.type === 'Topic') touched.add(record.name);
      else if (record.type === 'Partition' || record.type === 'PartitionChange') {
        const topic = this.services.image.topicsById.get(record.topicId);
        if (topic) touched.add(topic.name);
      } else if (record.type === 'RemoveTopic') {
        await this.removeTopic();
        this.#forgetShareState([record]);
      }
    }
    if (minIsrDefaultChanged) for (const name of this.services.image.topicsByName.keys()) touched.add(name);
    for (const name of touched) await this.hostTopic(name);
    // Config records apply to live logs at once; a removed override falls back to the broker default.
    if (brokerDefaultsChanged) {
      applyLogConfigs(this.services, null);
      this.updateConnectionLimits();
    } else if (reconfigured.size > 0) applyLogConfigs(this.services, reconfigured);
  }

  private async hostTopic(name: string): Promise<void> {
    const { image, replicaManager, nodeId } = this.services;
    const topic = image.topic(name);
    if (!topic) return;
    // The complete settings (dynamic broker defaults included), so every field is the current one.
    const logConfig = topicLogConfig(this.services, name);
    const minInsyncReplicas = Number(topicConfigValue(this.services, name, 'min.insync.replicas') ?? 1);
    // The replicas assigned here: led or followed (a leaderless one waits, following nobody).
    // A replica in a failed log directory stays offline here until a restart.
    const hosted = [...topic.partitions.values()].filter((partition) => isAssignedHere(partition, nodeId) && !replicaManager.isOffline(name, partition.partitionId));
    const nowMs = this.services.clock.monotonicMs();
    // A new topic's logs are created a few dozen at a time, so their files and syncs overlap.
    await forEachBounded(hosted, OPEN_PARTITIONS_CONCURRENCY, async (partition) => {
      const minIsr = effectiveMinIsr(minInsyncReplicas, targetReplicas(partition));
      const assignment = { leaderId: partition.leader, leaderEpoch: partition.leaderEpoch, partitionEpoch: partition.partitionEpoch, replicas: partition.replicas, isr: partition.isr, minIsr };
      await replicaManager.host(name, partition.partitionId, topic.topicId, assignment, logConfig, nowMs).catch((error: unknown) => {
        // Its log directory failed (under it, or while the log was created there): the directory is
        // offline and reported to the controller, and the replica stays offline here. That is the
        // directory's fault, not the metadata's: the rest of the metadata is applied as usual.
        if (!(error instanceof KafkaError && error.errorCode === ErrorCode.KAFKA_STORAGE_ERROR)) throw error;
        this.services.logger.warn('a replica is offline: its log directory failed', { topic: name, partition: partition.partitionId, error: error.message });
      });
    });
    // A reassignment that completed moved these replicas off this broker: they go, with their logs.
    // (Looked up by the topic's partitions, not by scanning every replica: a new topic among thousands stays cheap.)
    const moved = [...topic.partitions.values()]
      .filter((partition) => !isAssignedHere(partition, nodeId))
      .flatMap((partition) => replicaManager.replica(name, partition.partitionId) ?? [])
      .filter((replica) => replica.topicId === topic.topicId);
    for (const replica of moved) {
      this.services.logger.info('deleting a replica moved off this broker', { topic: name, partition: replica.partitionIndex });
      await replicaManager.removeReplica(replica);
    }
  }

  /** Deletes every hosted partition whose topic the image no longer has. */
  private async removeTopic(): Promise<void> {
    const { image, replicaManager } = this.services;
    const gone = new Set<string>();
    for (const partition of replicaManager.all()) {
      if (image.topic(partition.topic)?.topicId !== partition.topicId) gone.add(partition.topic);
    }
    for (const topic of gone) await replicaManager.deleteTopic(topic);
  }
}

/** Whether the image has a replica of `partition` on broker `nodeId` (its leader counts, as a single node's). */
function isAssignedHere(partition: PartitionImage | undefined, nodeId: number): boolean {
  return partition !== undefined && (partition.replicas.includes(nodeId) || partition.leader === nodeId);
}

/** Forgets idle producers in every log every producer.id.expiration.check.interval.ms (producer.id.expiration.ms). */
function scheduleProducerExpiry(services: BrokerServices, logManager: LogManager): () => void {
  const { clock, config } = services;
  let cancel = () => {};
  const tick = () => {
    const nowMs = clock.nowMs();
    for (const log of logManager.logs()) log.producerState.removeExpiredProducers(nowMs, config.producerIdExpirationMs);
    cancel = clock.schedule(config.producerIdExpirationCheckIntervalMs, tick);
  };
  cancel = clock.schedule(config.producerIdExpirationCheckIntervalMs, tick);
  return () => cancel();
}
