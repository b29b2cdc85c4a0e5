// What every route of the HTTP API shares: the client of the request's identity, the cluster id
// check of /v3/clusters/{cluster_id}, the links of Confluent's resources (metadata.self, related),
// and the error handling that answers {"error_code", "message"}.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ClientPool, IdentityClient } from './clients.js';
import { basicCredentials } from './clients.js';
import { badRequest, notFound, toRestError } from './errors.js';

export interface RouteContext {
  request: FastifyRequest;
  reply: FastifyReply;
  client: IdentityClient;
  /** The cluster's id, checked against the path's cluster_id when it has one. */
  clusterId: string;
  /** The absolute URL of /v3/clusters/{cluster_id}. */
  clusterUrl: string;
  /** The absolute URL of the API's root (the prefix included), for links. */
  baseUrl: string;
}

export type Params = Record<string, string>;
export type Query = Record<string, string | undefined>;

export class Routes {
  constructor(
    readonly pool: ClientPool,
    readonly prefix: string,
  ) {}

  /**
   * A handler that runs `action` with the request's client, after checking the path's cluster id;
   * errors answer in Confluent's shape. `action` returns the body (status 200 unless it set one),
   * or undefined once it has answered itself.
   */
  handler(action: (context: RouteContext) => Promise<unknown>) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      let client: IdentityClient | undefined;
      try {
        client = this.pool.clientFor(basicCredentials(request.headers.authorization));
        const result = await client.run(async (identity) => {
          const clusterId = await clusterIdOf(identity);
          const wanted = (request.params as Params).cluster_id;
          if (wanted !== undefined && wanted !== clusterId) throw notFound(`Cluster ${wanted} cannot be found.`);
          const baseUrl = `${request.protocol}://${request.headers.host ?? 'localhost'}${this.prefix}`;
          return action({ request, reply, client: identity, clusterId, baseUrl, clusterUrl: `${baseUrl}/v3/clusters/${clusterId}` });
        });
        if (result === undefined) return reply;
        return reply.send(result);
      } catch (error) {
        const failure = toRestError(client ? client.explain(error) : error);
        if (failure.status === 401 && client?.httpUser) this.pool.forget(client);
        if (reply.sent || reply.raw.headersSent) return reply;
        return reply.code(failure.status).type('application/json').send(failure.body);
      }
    };
  }
}

/** The cluster's id (Metadata's cluster_id), remembered per client once known. */
const clusterIds = new WeakMap<IdentityClient, string>();
async function clusterIdOf(client: IdentityClient): Promise<string> {
  const known = clusterIds.get(client);
  if (known !== undefined) return known;
  const metadata = await client.cluster.metadata([]);
  const id = metadata.clusterId ?? '';
  clusterIds.set(client, id);
  return id;
}

/** An integer query parameter within bounds; 400 naming it otherwise. */
export function integerParam(query: Query, name: string, fallback: number, min: number, max: number): number {
  const text = query[name];
  if (text === undefined || text === '') return fallback;
  if (!/^-?\d+$/.test(text)) throw badRequest(`${name} must be an integer, got '${text}'`);
  const value = Number(text);
  if (value < min || value > max) throw badRequest(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A path segment that must be a non-negative integer (a broker or partition id); 404 when it is not. */
export function idParam(params: Params, name: string, what: string): number {
  const text = params[name] ?? '';
  if (!/^\d+$/.test(text)) throw notFound(`${what} '${text}' not found`);
  return Number(text);
}

/** A JSON request body as one object; 400 when it is not one. */
export function jsonObject(request: FastifyRequest): Record<string, unknown> {
  const raw = request.body;
  if (typeof raw !== 'string' || raw.trim() === '') throw badRequest('the request needs a JSON body');
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    throw badRequest(`the request body is not JSON: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Confluent's list envelope. */
export function list(kind: string, self: string, data: unknown[]): Record<string, unknown> {
  return { kind, metadata: { self, next: null }, data };
}

export const related = (url: string) => ({ related: url });
