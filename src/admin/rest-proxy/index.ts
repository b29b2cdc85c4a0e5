// Conveyor's HTTP API, after Confluent REST Proxy v3: clusters, brokers, topics, partitions,
// configs, consumer groups and ACLs, produce (POST .../records, streaming mode included), and
// Conveyor's own consume endpoints (a long poll of a partition, a server-sent event stream of a
// topic). A fastify plugin: it talks to the cluster only over the Kafka protocol, through
// src/client, as the identity of the request's HTTP Basic credentials when it has them (see
// clients.ts), so the brokers' authentication and ACLs apply. docs/http-api.md documents it.
import type { FastifyInstance } from 'fastify';
import { registerAclRoutes } from './acl-routes.js';
import { ClientPool } from './clients.js';
import { registerClusterRoutes } from './cluster-routes.js';
import { Routes } from './context.js';
import { RestError } from './errors.js';
import { registerGroupRoutes } from './group-routes.js';
import { OpenStreams, registerRecordRoutes } from './record-routes.js';

export interface RestProxyOptions {
  /** Kafka client settings for the connections the API makes: bootstrap servers and the client security keys (as src/client/client-config.ts reads them: security.protocol, sasl.*, ssl.*). */
  clientConfig: Map<string, string>;
  /** Optional prefix, default '' (routes at /v3/...). */
  prefix?: string;
}

export interface RestProxy {
  /** Ends the record streams and closes every Kafka client of the API. */
  close(): Promise<void>;
  /** The server-sent event streams whose Kafka client is still open. */
  openStreams(): number;
}

/**
 * Adds the API's routes to `app` under `prefix`, in a scope of their own (its JSON body parsing
 * and error shape do not reach the app's other routes). Closing the app closes the API too.
 */
export async function registerRestProxy(app: FastifyInstance, options: RestProxyOptions): Promise<RestProxy> {
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const pool = await ClientPool.create(options.clientConfig);
  const streams = new OpenStreams();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    streams.stopAll();
    pool.close();
  };
  await app.register(async (scope) => {
    // Bodies arrive as text: produce takes several JSON objects one after the other (Confluent's
    // streaming mode), which a JSON parser refuses; each route parses what it takes. Only
    // application/json is taken (415 otherwise): a cross-site form can send text/plain without the
    // browser asking first, so accepting it would let any web page write to a local cluster.
    scope.removeContentTypeParser(['application/json', 'text/plain']);
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 * 1024 }, (_request, body, done) => done(null, body));
    scope.setErrorHandler((error, _request, reply) => {
      const status = typeof (error as { statusCode?: number }).statusCode === 'number' ? (error as { statusCode: number }).statusCode : 500;
      const failure = error instanceof RestError ? error : new RestError(status, error instanceof Error ? error.message : String(error));
      return reply.code(failure.status).type('application/json').send(failure.body);
    });
    // Open event streams would keep the HTTP server from closing: end them first.
    scope.addHook('preClose', (done) => {
      streams.stopAll();
      done();
    });
    scope.addHook('onClose', async () => close());
    const routes = new Routes(pool, prefix);
    registerClusterRoutes(scope, routes);
    registerRecordRoutes(scope, routes, streams);
    registerGroupRoutes(scope, routes);
    registerAclRoutes(scope, routes);
    // Any other path under /v3 answers in the API's error shape (the app's own 404 handler is left alone).
    scope.all('/v3/*', async (request, reply) => reply.code(404).send(new RestError(404, `HTTP 404 Not Found: no ${request.method} ${request.url}`).body));
  }, { prefix });
  return { close, openStreams: () => streams.active };
}
