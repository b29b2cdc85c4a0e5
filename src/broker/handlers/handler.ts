// The shape of a request handler: one file per API (DESIGN.md decision 2), each a declarative
// object with the API it serves, the versions it supports, what it does, and the response that
// reports one error code for the whole request (used when the handler itself fails).
import type { ConnectionInfo } from '../network/socket-server.js';
import type { ApiDescriptor } from '../../protocol/messages/index.js';
import type { BrokerServices } from '../broker-services.js';
import type { RequestTimer } from '../metrics/broker-metrics.js';

/** Returned by a handler that must not answer, such as Produce with acks=0. */
export const NO_RESPONSE: unique symbol = Symbol('no response');
/** Returned by a handler that must close the connection, such as Produce acks=0 that failed. */
export const CLOSE_CONNECTION: unique symbol = Symbol('close connection');

/** The key of a response after which the connection closes (a failed SASL authentication). */
export const CLOSE_AFTER_RESPONSE: unique symbol = Symbol('close after response');

export type HandlerOutcome<Response> = Response | typeof NO_RESPONSE | typeof CLOSE_CONNECTION | { readonly [CLOSE_AFTER_RESPONSE]: Response };

export interface RequestContext {
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  readonly connection: ConnectionInfo;
  readonly broker: BrokerServices;
  /**
   * Runs `callback` once the response no longer needs the buffers it refers to (written to the
   * socket, or dropped): a fetch gives its pooled read buffers back then.
   */
  afterResponse(callback: () => void): void;
  /** Times the request's waits for other brokers while metrics are on (undefined otherwise). */
  readonly timer?: RequestTimer | undefined;
}

export interface ApiHandler<Request = unknown, Response = unknown> {
  /** The API served: its decoded request type and the response type it encodes. */
  // biome-ignore lint/suspicious/noExplicitAny: the handler neither encodes requests nor decodes responses.
  readonly api: ApiDescriptor<Request, any, any, Response>;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * Controller work a broker that is not the active controller forwards to it whole (in an
   * Envelope), as Kafka's brokers do: topic creation and deletion, partitions, configs.
   */
  readonly forwardToController?: boolean;
  handle(request: Request, context: RequestContext): HandlerOutcome<Response> | Promise<HandlerOutcome<Response>>;
  /** The response that gives every entity of `request` the error `errorCode`. */
  errorResponse(request: Request, errorCode: number, context: RequestContext): Response;
}

/** Declares a handler with its request and response types inferred from the API descriptor. */
export function defineHandler<Request, Response>(handler: ApiHandler<Request, Response>): ApiHandler<Request, Response> {
  return handler;
}
