// The Transport port (DESIGN.md, the cluster): how one node sends a Kafka request to another by
// node id and gets the response. The Raft quorum, the controller channel and the replica fetchers
// talk through it and never touch sockets; src/node wires it to TCP with the project's own client,
// src/testing/simulation to a seeded simulated network. Every send has a deadline.
import type { ApiDescriptor } from './messages/index.js';

/** Why a send failed without a response. */
export type TransportErrorKind =
  /** No response before the deadline (the request may or may not have been processed). */
  | 'timeout'
  /** The connection to the node broke while the request was outstanding. */
  | 'disconnected'
  /** The node's address is unknown or it could not be reached. */
  | 'unreachable'
  /** Too many requests are already waiting on that node; nothing was sent. */
  | 'overloaded'
  /** The transport was closed. */
  | 'closed';

export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    readonly nodeId: number,
    message: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface Transport {
  /**
   * Sends `request` to node `nodeId` and resolves with its decoded response, or rejects with a
   * TransportError at the latest `timeoutMs` after the call (measured on the transport's clock).
   */
  // biome-ignore lint/suspicious/noExplicitAny: a sender encodes requests and decodes responses only.
  send<Request, Response>(nodeId: number, api: ApiDescriptor<any, Response, Request, any>, version: number, request: Request, timeoutMs: number): Promise<Response>;
}

/** A request that arrived from another node, decoded. */
export interface InboundRequest {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly body: unknown;
  /** The sending node, when the transport knows it (the simulated network always does). */
  readonly fromNodeId?: number;
}

/** Serves requests from other nodes: resolves with the response body to encode and return. */
export type InboundHandler = (request: InboundRequest) => Promise<unknown>;
