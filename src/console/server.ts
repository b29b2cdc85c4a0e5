// The web console's HTTP server: the page, its bundled script and style (assets.ts), the HTTP API
// (Confluent REST Proxy v3, src/admin/rest-proxy/, mounted at the root; the page creates and
// deletes topics and produces through it) and the console's own JSON routes under /console/api/
// for what v3 does not offer: the overview, topic and group lists
// filtered and paged on the server, records read by offset or timestamp with their bytes (the
// page's live tail uses v3's record stream), offset resets, the live charts' samples, ACLs, SCRAM users and
// Connect connectors. Everything is read over the Kafka protocol (cluster-view.ts), so the same
// server runs inside a broker (console.listeners) or as `conveyor console` against any cluster.
// Plain HTTP with no login of its own: it listens on loopback unless told otherwise.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ConfigError } from '../base/config-def.js';
import { ErrorCode } from '../base/error-codes.js';
import type { AclBindingInfo, AclFilter } from '../client/admin-client.js';
import type { Connector } from '../client/byte-stream.js';
import { ClusterClient, KafkaResponseError, ToolError } from '../client/cluster-client.js';
import { registerRestProxy } from '../admin/rest-proxy/index.js';
import { consoleAssets } from './assets.js';
import { ClusterView, messageOf } from './cluster-view.js';
import { type BrokerMetricsReading, Sampler } from './sampler.js';

export interface ConsoleListener {
  host: string;
  port: number;
}

export interface ConsoleServerOptions {
  /** host:port of a broker of the cluster. */
  bootstrapServer: string;
  /** How connections to the cluster are opened (plain TCP, or TLS and SASL as a command config says). */
  connect: Connector;
  /** bootstrap.servers and the client security keys, for the HTTP API's own clients. */
  clientConfig: Map<string, string>;
  listeners: readonly ConsoleListener[];
  /** The key or option named when a listener cannot be bound. */
  listenerKey: string;
  /** A Connect worker's REST URL, for the Connect page. */
  connectUrl?: string;
  /** How often the live charts sample the cluster (default 5 s). */
  sampleIntervalMs?: number;
  /** The serving broker's own metrics, when it counts them (metrics.listeners): the charts add its request latency and bytes. */
  brokerMetrics?: () => BrokerMetricsReading;
}

export interface ConsoleServer {
  /** The addresses bound, as `http://host:port/` (the port chosen when 0 was configured). */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/** The most records one read of the message browser returns. */
const MAX_RECORDS = 500;

/** Binds every listener or none; ConfigError naming `listenerKey` when one cannot be bound. */
export async function startConsoleServer(options: ConsoleServerOptions): Promise<ConsoleServer> {
  const cluster = new ClusterClient(options.connect, options.bootstrapServer, 'conveyor-console');
  const view = new ClusterView(cluster);
  const sampler = new Sampler(cluster, view, options.sampleIntervalMs ?? 5_000, options.brokerMetrics);
  const apps: FastifyInstance[] = [];
  const closers: (() => Promise<void>)[] = [];
  const urls: string[] = [];
  const close = async () => {
    sampler.stop();
    await Promise.all(apps.map((app) => app.close()));
    await Promise.all(closers.map((closer) => closer().catch(() => undefined)));
    cluster.close();
  };
  for (const listener of options.listeners) {
    const app = Fastify({ logger: false });
    // JSON bodies only (415 otherwise): a cross-site form can post text/plain without the browser
    // asking first, and the console has no login of its own.
    app.removeContentTypeParser('text/plain');
    if (isLoopback(listener.host)) app.addHook('onRequest', refuseForeignHost);
    registerConsoleRoutes(app, view, sampler, options);
    closers.push(await mountRestProxy(app, options.clientConfig));
    try {
      await app.listen({ host: listener.host, port: listener.port });
    } catch (error) {
      await app.close().catch(() => undefined);
      await close();
      throw new ConfigError(options.listenerKey, `cannot listen on http://${formatHost(listener.host)}:${listener.port}: ${messageOf(error)}`);
    }
    apps.push(app);
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : listener.port;
    urls.push(`http://${formatHost(listener.host)}:${port}/`);
  }
  sampler.start();
  return { urls, close };
}

/** The HTTP API (REST Proxy v3) on the same server, so the page and scripts share one address. */
async function mountRestProxy(app: FastifyInstance, clientConfig: Map<string, string>): Promise<() => Promise<void>> {
  const proxy = await registerRestProxy(app, { clientConfig });
  return () => proxy.close();
}

/** Whether `host` is a loopback address or name (the console's default: nothing else can reach it). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * On a loopback listener, a request must name a loopback host: a page from another site whose name
 * was made to resolve to 127.0.0.1 (DNS rebinding) would otherwise be same-origin with the console
 * and could read and change the cluster through it.
 */
async function refuseForeignHost(request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const name = (request.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  if (isLoopback(name)) return;
  await reply.code(403).type('application/json').send({ error_code: 403, message: `the console on a loopback address answers requests for localhost only, not for '${name}'` });
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Conveyor console</title>
<link rel="stylesheet" href="/console/app.css">
</head>
<body>
<div id="app"><noscript>The Conveyor console needs JavaScript.</noscript></div>
<script src="/console/app.js"></script>
</body>
</html>
`;

type Params = Record<string, string>;
type Query = Record<string, string | undefined>;

function registerConsoleRoutes(app: FastifyInstance, view: ClusterView, sampler: Sampler, options: ConsoleServerOptions): void {
  app.setErrorHandler((error, _request, reply) => {
    const status = statusOf(error);
    void reply.code(status).send({ error_code: status, message: messageOf(error) });
  });
  const page = async (_request: FastifyRequest, reply: FastifyReply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-cache').send(PAGE);
  app.get('/', page);
  app.get('/console', page);
  app.get('/console/', page);
  app.get('/console/app.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send((await consoleAssets()).script));
  app.get('/console/app.css', async (_request, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').send((await consoleAssets()).style));

  app.get('/console/api/info', async () => ({ clusterId: (await view.cluster.metadata([])).clusterId ?? null, bootstrapServer: options.bootstrapServer, connect: options.connectUrl !== undefined && options.connectUrl !== '', sampleIntervalMs: sampler.intervalMs }));
  app.get('/console/api/overview', async () => view.overview());

  app.get<{ Querystring: Query }>('/console/api/topics', async (request) => {
    const { filter = '', offset = '0', limit = '50', internal = 'false', fresh } = request.query;
    // fresh: the page changed topics (through /v3) and wants the list read anew, not the cached one.
    if (fresh !== undefined) view.invalidate();
    return view.topics(filter, Number(offset) || 0, Number(limit), internal === 'true');
  });
  app.get<{ Params: Params }>('/console/api/topics/:topic', async (request) => view.topic(request.params.topic!));
  app.get<{ Params: Params; Querystring: Query }>('/console/api/topics/:topic/partitions/:partition/records', async (request) => {
    const { offset, timestamp, limit = '50', timeout_ms = '0' } = request.query;
    const from = timestamp !== undefined && timestamp !== '' ? { timestamp: Number(timestamp) } : offset !== undefined && offset !== '' ? { offset: Number(offset) } : {};
    return view.records(request.params.topic!, Number(request.params.partition), from, Math.min(MAX_RECORDS, Math.max(1, Number(limit) || 50)), Math.min(30_000, Number(timeout_ms) || 0));
  });

  app.get<{ Querystring: Query }>('/console/api/groups', async (request) => {
    const { filter = '', offset = '0', limit = '50' } = request.query;
    return view.groups(filter, Number(offset) || 0, Number(limit));
  });
  app.get<{ Params: Params }>('/console/api/groups/:group', async (request) => ({ ...(await view.group(request.params.group!)), lagHistory: sampler.lagHistory(request.params.group!) }));
  app.post<{ Params: Params; Body: { topic?: string; to?: string; value?: number } }>('/console/api/groups/:group/reset', async (request) => {
    const { topic, to, value } = request.body ?? {};
    if (typeof topic !== 'string' || !['earliest', 'latest', 'offset', 'timestamp'].includes(to ?? '')) throw new BadRequest('a reset needs a topic and to: earliest, latest, offset or timestamp');
    const offsets = await view.resetOffsets(request.params.group!, topic, { kind: to as 'earliest', ...(value === undefined ? {} : { value: Number(value) }) });
    return { offsets };
  });

  app.get('/console/api/throughput', async () => ({ intervalMs: sampler.intervalMs, samples: sampler.throughput.toArray() }));

  app.get('/console/api/acls', async () => ({ acls: await view.admin.describeAcls(ANY_ACL) }));
  app.post<{ Body: Partial<AclBindingInfo> }>('/console/api/acls', async (request, reply) => {
    const [result] = await view.admin.createAcls([aclBinding(request.body ?? {})]);
    if (result !== undefined && result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, 'creating the ACL', result.message);
    return reply.code(201).send({ created: true });
  });
  app.post<{ Body: Partial<AclBindingInfo> }>('/console/api/acls/delete', async (request) => {
    const binding = aclBinding(request.body ?? {});
    const [result] = await view.admin.deleteAcls([binding]);
    if (result !== undefined && result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, 'deleting the ACL', result.message);
    return { deleted: result?.matching.length ?? 0 };
  });

  app.get('/console/api/users', async () => ({ users: await view.users() }));
  app.post<{ Body: { user?: string; password?: string; mechanism?: string; iterations?: number } }>('/console/api/users', async (request, reply) => {
    const { user, password, mechanism = 'SCRAM-SHA-256', iterations = 8192 } = request.body ?? {};
    if (!user || !password) throw new BadRequest('a user needs a name and a password');
    const [result] = await view.admin.alterUserScramCredentials([{ user, mechanism: scramMechanism(mechanism), iterations: Number(iterations), password }], []);
    if (result !== undefined && result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, `setting ${user}'s credential`, result.message);
    return reply.code(201).send({ user });
  });
  app.delete<{ Params: Params; Querystring: Query }>('/console/api/users/:user', async (request, reply) => {
    const [result] = await view.admin.alterUserScramCredentials([], [{ user: request.params.user!, mechanism: scramMechanism(request.query.mechanism ?? 'SCRAM-SHA-256') }]);
    if (result !== undefined && result.errorCode !== ErrorCode.NONE) throw new KafkaResponseError(result.errorCode, `deleting ${request.params.user}'s credential`, result.message);
    return reply.code(204).send();
  });

  app.get('/console/api/connect/connectors', async () => connectors(options.connectUrl));
}

class BadRequest extends Error {}

function statusOf(error: unknown): number {
  if (error instanceof BadRequest) return 400;
  if (error instanceof KafkaResponseError) {
    if (error.errorCode === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION || error.errorCode === ErrorCode.GROUP_ID_NOT_FOUND) return 404;
    if (error.errorCode === ErrorCode.TOPIC_AUTHORIZATION_FAILED || error.errorCode === ErrorCode.CLUSTER_AUTHORIZATION_FAILED || error.errorCode === ErrorCode.GROUP_AUTHORIZATION_FAILED) return 403;
    return 400;
  }
  if (error instanceof ToolError) return 400;
  const status = (error as { statusCode?: number }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

const ANY_ACL: AclFilter = { resourceType: 1, resourceName: null, patternType: 1, principal: null, host: null, operation: 1, permissionType: 1 };

function aclBinding(body: Partial<AclBindingInfo>): AclBindingInfo {
  const { resourceType, resourceName, patternType = 3, principal, host = '*', operation, permissionType = 3 } = body;
  if (resourceType === undefined || !resourceName || !principal || operation === undefined) throw new BadRequest('an ACL needs resourceType, resourceName, principal and operation');
  return { resourceType: Number(resourceType), resourceName, patternType: Number(patternType), principal, host, operation: Number(operation), permissionType: Number(permissionType) };
}

function scramMechanism(name: string): string {
  if (name === 'SCRAM-SHA-256' || name === 'SCRAM-SHA-512') return name;
  throw new BadRequest(`unknown SCRAM mechanism '${name}' (SCRAM-SHA-256 or SCRAM-SHA-512)`);
}

/** Connectors with their status, from the Connect worker's REST API (GET /connectors?expand=status). */
async function connectors(connectUrl: string | undefined) {
  if (connectUrl === undefined || connectUrl === '') return { configured: false, connectors: [] };
  const response = await fetch(new URL('/connectors?expand=status&expand=info', connectUrl), { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw Object.assign(new Error(`Connect at ${connectUrl} answered ${response.status}`), { statusCode: 502 });
  const body = (await response.json()) as Record<string, { status?: { connector?: { state?: string; worker_id?: string }; tasks?: { id: number; state: string; worker_id: string; trace?: string }[]; type?: string }; info?: { config?: Record<string, string>; type?: string } }>;
  return {
    configured: true,
    url: connectUrl,
    connectors: Object.entries(body).map(([name, entry]) => ({
      name,
      type: entry.status?.type ?? entry.info?.type ?? null,
      state: entry.status?.connector?.state ?? null,
      workerId: entry.status?.connector?.worker_id ?? null,
      connectorClass: entry.info?.config?.['connector.class'] ?? null,
      tasks: (entry.status?.tasks ?? []).map((task) => ({ id: task.id, state: task.state, workerId: task.worker_id, trace: task.trace ?? null })),
    })),
  };
}
