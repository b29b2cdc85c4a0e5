// The tools' view of a cluster: its bootstrap addresses, a connection per broker opened on demand
// (and opened again once it closed: a broker that restarted is reached again), the API versions
// each broker serves (each request uses the highest version both sides know) and the cluster
// metadata. A request for no broker in particular goes to the bootstrap broker in use; when that
// one cannot be reached, to the next bootstrap address, then to the brokers the last metadata
// named, as Kafka's clients do. Errors a person can act on ("no broker at ...") are ToolError.
import { errorName } from '../base/error-codes.js';
import { ApiVersionsApi, type ApiDescriptor, MetadataApi, type MetadataResponse } from '../protocol/messages/index.js';
import { TransportError } from '../protocol/transport.js';
import type { Connector } from './byte-stream.js';
import { KafkaConnection } from './kafka-connection.js';
import { ConnectionSecurityError } from './sasl-client.js';

/** `host:port`, with an IPv6 host in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** An error whose message is meant for the person running a tool. */
export class ToolError extends Error {
  override name = 'ToolError';
}

/** A protocol error code in a response, with Kafka's name and the broker's message. */
export class KafkaResponseError extends ToolError {
  constructor(
    readonly errorCode: number,
    what: string,
    message?: string | null,
  ) {
    super(`${what}: ${errorName(errorCode)}${message ? ` (${message})` : ''}`);
  }
}

/** How long one request may take before the tool gives up on the broker. */
export const REQUEST_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;

interface BrokerConnection {
  connection: KafkaConnection;
  versions: Map<number, { minVersion: number; maxVersion: number }>;
}

export class ClusterClient {
  private readonly connections = new Map<string, Promise<BrokerConnection>>();
  /** The connections once open, to see that one has closed since. */
  private readonly opened = new Map<string, BrokerConnection>();
  private cachedMetadata: MetadataResponse | undefined;
  private readonly bootstraps: string[];
  /** Brokers the last metadata named, where a request for no broker in particular may go when no bootstrap address answers. */
  private knownBrokers: string[] = [];
  private current: string;

  /**
   * `connect` opens the connections (src/node's connectTcp for TCP; secured ones authenticate as they
   * open, see sasl-client.ts). `bootstrapServers`: one `host:port` or several, comma-separated.
   */
  constructor(
    private readonly connect: Connector,
    bootstrapServers: string,
    private readonly clientId = 'conveyor-cli',
  ) {
    this.bootstraps = bootstrapServers.split(',').map((address) => address.trim()).filter(Boolean);
    if (this.bootstraps.length === 0) this.bootstraps.push(bootstrapServers);
    this.current = this.bootstraps[0]!;
  }

  /** The broker requests for no broker in particular go to now. */
  get bootstrapServer(): string {
    return this.current;
  }

  /** Sends `request` to the bootstrap broker (or `address`) at the best common version. */
  async request<Request, Response>(
    // biome-ignore lint/suspicious/noExplicitAny: the client encodes requests and decodes responses only.
    api: ApiDescriptor<any, Response, Request, any>,
    request: Request | ((version: number) => Request),
    /** timeoutMs: this request's deadline (REQUEST_TIMEOUT_MS unless given), e.g. a JoinGroup's rebalance timeout. */
    options: { address?: string; maxVersion?: number; minVersion?: number; timeoutMs?: number } = {},
  ): Promise<Response> {
    const address = options.address ?? (await this.reachableBootstrap());
    const broker = await this.brokerAt(address);
    const version = this.versionFor(broker, api, address, options.minVersion ?? 0, options.maxVersion ?? api.maxVersion);
    const body = typeof request === 'function' ? (request as (version: number) => Request)(version) : request;
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    return withTimeout(broker.connection.send(api, version, body, timeoutMs), `${api.name} to ${address}`, timeoutMs);
  }

  /** The version `request` will use with the bootstrap broker, or -1 when it does not serve the API. */
  async versionOf(apiKey: number): Promise<number> {
    const broker = await this.brokerAt(await this.reachableBootstrap());
    return broker.versions.get(apiKey)?.maxVersion ?? -1;
  }

  /**
   * The broker in use for requests to no broker in particular, if it can be connected to; else the
   * first of the other bootstrap addresses, then of the brokers the metadata named, that can. All
   * unreachable: the error of the one in use.
   */
  private async reachableBootstrap(): Promise<string> {
    let firstError: unknown;
    for (const address of new Set([this.current, ...this.bootstraps, ...this.knownBrokers])) {
      try {
        await this.brokerAt(address);
        this.current = address;
        return address;
      } catch (error) {
        firstError ??= error;
      }
    }
    throw firstError;
  }

  /** Cluster metadata for `topics` (all topics when null); creates missing ones only when asked (and the broker auto-creates). */
  async metadata(topics: string[] | null = null, allowAutoTopicCreation = false): Promise<MetadataResponse> {
    const response = await this.request(MetadataApi, (version) => ({
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    }), { maxVersion: 12, minVersion: 1 });
    if (topics === null) this.cachedMetadata = response;
    if (response.brokers.length > 0) this.knownBrokers = response.brokers.map((broker) => hostPort(broker.host, broker.port));
    return response;
  }

  /** The host:port of broker `nodeId` as the cluster advertises it. */
  async addressOf(nodeId: number): Promise<string> {
    const find = (metadata: MetadataResponse | undefined) => metadata?.brokers.find((broker) => broker.nodeId === nodeId);
    const broker = find(this.cachedMetadata) ?? find(await this.metadata());
    if (!broker) throw new ToolError(`broker ${nodeId} is not in the cluster metadata`);
    return hostPort(broker.host, broker.port);
  }

  close(): void {
    for (const pending of this.connections.values()) pending.then((broker) => broker.connection.close(), () => {});
    this.connections.clear();
    this.opened.clear();
  }

  /** The connection to `address`: the open one, or a new one when there is none or it closed (the broker went away, maybe to come back). */
  private brokerAt(address: string): Promise<BrokerConnection> {
    let pending = this.connections.get(address);
    if (pending && this.opened.get(address)?.connection.isClosed) pending = undefined;
    if (!pending) {
      const opening = openBroker(this.connect, address, this.clientId);
      pending = opening;
      this.connections.set(address, opening);
      this.opened.delete(address);
      opening.then(
        (broker) => (this.connections.get(address) === opening ? this.opened.set(address, broker) : broker.connection.close()),
        () => (this.connections.get(address) === opening ? this.connections.delete(address) : undefined),
      );
    }
    return pending;
  }

  private versionFor(
    broker: BrokerConnection,
    // biome-ignore lint/suspicious/noExplicitAny: only the key and the range are read.
    api: ApiDescriptor<any, any, any, any>,
    address: string,
    clientMin: number,
    clientMax: number,
  ): number {
    const served = broker.versions.get(api.apiKey);
    const version = served ? Math.min(served.maxVersion, clientMax, api.maxVersion) : -1;
    if (!served || version < Math.max(served.minVersion, clientMin)) {
      throw new ToolError(`the broker at ${address} does not serve ${api.name} in a version this tool speaks`);
    }
    return version;
  }
}

async function openBroker(connect: Connector, address: string, clientId: string): Promise<BrokerConnection> {
  let connection: KafkaConnection;
  try {
    connection = await KafkaConnection.open(connect, address, clientId, { connectTimeoutMs: CONNECT_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  } catch (error) {
    // Refused authentication or a failed TLS handshake: the broker is there, say what went wrong.
    if (error instanceof ConnectionSecurityError) throw new ToolError(error.message);
    const code = (error as { code?: string }).code;
    const reason = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EADDRNOTAVAIL' ? '' : ` (${error instanceof Error ? error.message : String(error)})`;
    throw new ToolError(`no broker at ${address}${reason}: is it running? start one with npm start`);
  }
  try {
    const response = await withTimeout(connection.send(ApiVersionsApi, 3, { clientSoftwareName: 'conveyor-cli', clientSoftwareVersion: '0.1.0' }), `ApiVersions to ${address}`);
    if (response.errorCode !== 0) throw new KafkaResponseError(response.errorCode, `ApiVersions to ${address}`);
    const versions = new Map(response.apiKeys.map((key) => [key.apiKey, { minVersion: key.minVersion, maxVersion: key.maxVersion }]));
    return { connection, versions };
  } catch (error) {
    connection.close();
    throw error;
  }
}

/** The connection's deadline (REQUEST_TIMEOUT_MS) missed becomes a ToolError a person can read. */
function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
  return promise.catch((error: unknown) => {
    if (error instanceof TransportError && error.kind === 'timeout') throw new ToolError(`${what} got no answer within ${timeoutMs} ms`);
    // A SASL or SSL listener closes a connection that does not authenticate (or speak TLS) first.
    if (error instanceof TransportError && error.kind === 'disconnected') throw new ToolError(`${what}: ${error.message} (does the listener need TLS or SASL? give the tool --command-config)`);
    throw error;
  });
}
