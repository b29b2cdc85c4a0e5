// Kafka Connect's REST API on fastify (routes.ts has the paths). Every answer is JSON, and every
// failure Connect's {"error_code": status, "message": ...}, as Kafka's ConnectExceptionMapper writes
// it: a ConnectRestError keeps its status; an unknown path is 404 and a known path with another
// method 405 (with Allow), with Jersey's messages; a body that is not JSON is 400; a body of another
// media type 415; a herder call that takes longer than Kafka's 90 s is 500 "Request timed out"; any
// other failure is 500 with its message (and logged). fastify's own error and not-found answers
// are replaced.
import type { AddressInfo } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { TlsOptions } from 'node:tls';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../../../base/logger.js';
import { ConnectRestError, type Herder } from '../herder.js';
import type { LoggerLevels } from '../logger-levels.js';
import { type RestReply, type RestRequest, type Route, connectRoutes } from './routes.js';

/** One address to serve on: plain http, or https with these TLS options. */
export interface RestServerListener {
  host: string;
  port: number;
  tls?: TlsOptions;
}

export interface RestServerOptions {
  /** Every listener serves the same API; the first is the server's `url` unless `advertised` names another. */
  listeners: readonly RestServerListener[];
  /** The index in `listeners` of the one other workers and clients are told of (0 by default). */
  advertised?: number;
  logger: Logger;
  loggerLevels: LoggerLevels;
  version: string;
  commit: string;
  /** GET /metrics (Prometheus text format), besides Connect's own API. */
  metrics?: () => Promise<{ contentType: string; text: string }>;
}

export interface RestServer {
  /** The advertised listener's URL and port. */
  readonly url: string;
  readonly port: number;
  /** Every listener's URL, in the order of `listeners`. */
  readonly urls: readonly string[];
  close(): Promise<void>;
}

/** Kafka's ConnectorsResource waits this long for the herder before answering 500. */
const REQUEST_TIMEOUT_MS = 90_000;

/** Connector names can be long; fastify's default refuses path parameters over 100 characters. */
const MAX_PARAM_LENGTH = 4096;

/** A refusal with Jersey's message for a bare status ("HTTP 404 Not Found"). */
function httpError(status: number): ConnectRestError {
  return new ConnectRestError(status, `HTTP ${status} ${STATUS_CODES[status] ?? 'Error'}`);
}

/** JSON bodies only, as Connect's @Consumes(APPLICATION_JSON); an empty one is no body. */
function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__') throw new SyntaxError('"__proto__" is not allowed as a key');
      return value;
    });
  } catch (error) {
    throw new ConnectRestError(400, `The request body is not valid JSON: ${(error as Error).message}`);
  }
}

function withDeadline<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ConnectRestError(500, 'Request timed out')), REQUEST_TIMEOUT_MS);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function restRequest(request: FastifyRequest): RestRequest {
  return {
    params: request.params as Record<string, string>,
    query: request.query as Record<string, string | string[] | undefined>,
    body: request.body,
    baseUrl: `${request.protocol}://${request.host}`,
  };
}

function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json').send(JSON.stringify(body));
}

function send(reply: FastifyReply, answer: RestReply): FastifyReply {
  if (answer.location !== undefined) reply.header('location', answer.location);
  if (answer.body === undefined) return reply.code(answer.status).send();
  return sendJson(reply, answer.status, answer.body);
}

/** Connect's error body; failures that are not refusals are logged, as Kafka logs them. */
function sendError(reply: FastifyReply, request: FastifyRequest, error: unknown, logger: Logger): FastifyReply {
  const refusal = asRefusal(error);
  if (refusal.status >= 500) logger.error('REST request failed', { method: request.method, url: request.url, error });
  return sendJson(reply, refusal.status, { error_code: refusal.status, message: refusal.message });
}

function asRefusal(error: unknown): ConnectRestError {
  if (error instanceof ConnectRestError) return error;
  // fastify's own refusals (415 media type, 413 body too large, ...) keep their status.
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return httpError(status);
  return new ConnectRestError(500, error instanceof Error ? error.message : String(error));
}

/** A route's path as a pattern over concrete paths, to tell a wrong method from an unknown path. */
function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (segment === '*' ? '.+' : segment.startsWith(':') ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/** 405 with Allow when another method serves the path, else 404. */
function unmatched(routes: readonly { method: string; pattern: RegExp }[], request: FastifyRequest): { error: ConnectRestError; allow?: string } {
  const path = request.url.split('?')[0]!;
  const methods = [...new Set(routes.filter((each) => each.pattern.test(path)).map((each) => each.method))];
  if (methods.length === 0) return { error: httpError(404) };
  if (methods.includes('GET')) methods.push('HEAD');
  return { error: httpError(405), allow: methods.join(', ') };
}

function buildApp(routes: readonly Route[], logger: Logger, tls: TlsOptions | undefined) {
  const app = Fastify({ logger: false, forceCloseConnections: true, routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PARAM_LENGTH }, ...(tls === undefined ? {} : { https: tls }) });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    try {
      done(null, parseJsonBody(text as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  for (const each of routes) {
    app.route({ method: each.method, url: each.path, handler: async (request, reply) => send(reply, await withDeadline(each.handle(restRequest(request)))) });
  }
  const patterns = routes.map((each) => ({ method: each.method, pattern: pathPattern(each.path) }));
  app.setNotFoundHandler((request, reply) => {
    const { error, allow } = unmatched(patterns, request);
    if (allow !== undefined) reply.header('allow', allow);
    return sendError(reply, request, error, logger);
  });
  app.setErrorHandler((error, request, reply) => sendError(reply, request, error, logger));
  app.addHook('onResponse', async (request, reply) => {
    logger.debug('REST request', { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) });
  });
  return app;
}

/** The URL clients use: a wildcard listen address is reached on the loopback interface. */
function clientUrl(protocol: 'http' | 'https', host: string, port: number): string {
  const reachable = host === '' || host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${protocol}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** Starts the REST API on every listener (port 0: any free port) in front of `herder`; all or none. */
export async function startRestServer(herder: Herder, options: RestServerOptions): Promise<RestServer> {
  const routes = connectRoutes({ herder, loggerLevels: options.loggerLevels, version: options.version, commit: options.commit });
  const apps: ReturnType<typeof buildApp>[] = [];
  const urls: string[] = [];
  const ports: number[] = [];
  const close = async () => {
    await Promise.all(apps.map((app) => app.close()));
  };
  try {
    for (const listener of options.listeners) {
      const app = buildApp(routes, options.logger, listener.tls);
      apps.push(app);
      const metrics = options.metrics;
      if (metrics !== undefined) {
        app.get('/metrics', async (_request, reply) => {
          const { contentType, text } = await metrics();
          return reply.type(contentType).send(text);
        });
      }
      await app.listen({ host: listener.host, port: listener.port });
      const { port } = app.server.address() as AddressInfo;
      ports.push(port);
      urls.push(clientUrl(listener.tls === undefined ? 'http' : 'https', listener.host, port));
      options.logger.info('REST server listening', { url: urls[urls.length - 1] });
    }
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  const advertised = options.advertised ?? 0;
  return { url: urls[advertised]!, port: ports[advertised]!, urls, close };
}
