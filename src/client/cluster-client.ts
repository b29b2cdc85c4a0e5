// The tools' view of a cluster: one bootstrap address, a connection per broker opened on demand,
// the API versions each broker serves (each request uses the highest version both sides know) and
// the cluster metadata. Errors a person can act on ("no broker at ...") are ToolError.
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
  private cachedMetadata: MetadataResponse | undefined;

  /** `connect` opens the connections (src/node's connectTcp for TCP; secured ones authenticate as they open, see sasl-client.ts). */
  constructor(
    private readonly connect: Connector,
    readonly bootstrapServer: string,
    private readonly clientId = 'conveyor-cli',
  ) {}

  /** Sends `request` to the bootstrap broker (or `address`) at the best common version. */
  async request<Request, Response>(
    // biome-ignore lint/suspicious/noExplicitAny: the client encodes requests and decodes responses only.
    api: ApiDescriptor<any, Response, Request, any>,
    request: Request | ((version: number) => Request),
    /** timeoutMs: this request's deadline (REQUEST_TIMEOUT_MS unless given), e.g. a JoinGroup's rebalance timeout. */
    options: { address?: string; maxVersion?: number; minVersion?: number; timeoutMs?: number } = {},
  ): Promise<Response> {
    const broker = await this.brokerAt(options.address ?? this.bootstrapServer);
    const version = this.versionFor(broker, api, options.address ?? this.bootstrapServer, options.minVersion ?? 0, options.maxVersion ?? api.maxVersion);
    const body = typeof request === 'function' ? (request as (version: number) => Request)(version) : request;
    const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
    return withTimeout(broker.connection.send(api, version, body, timeoutMs), `${api.name} to ${options.address ?? this.bootstrapServer}`, timeoutMs);
  }

  /** The version `request` will use with the bootstrap broker, or -1 when it does not serve the API. */
  async versionOf(apiKey: number): Promise<number> {
    const broker = await this.brokerAt(this.bootstrapServer);
    return broker.versions.get(apiKey)?.maxVersion ?? -1;
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
  }

  private brokerAt(address: string): Promise<BrokerConnection> {
    let pending = this.connections.get(address);
    if (!pending) {
      pending = openBroker(this.connect, address, this.clientId);
      this.connections.set(address, pending);
      pending.catch(() => this.connections.delete(address));
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
