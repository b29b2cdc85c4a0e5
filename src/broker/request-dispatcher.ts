// Turns one request frame into one response: decode the header, find the handler by API key,
// check the version, decode the body, run the handler, encode the answer. Everything up to the
// handler call is synchronous, so handlers start in the order requests arrived on a connection.
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import { decodeRequestHeader, encodeResponseHeader, responseHeaderVersion } from '../protocol/headers.js';
import { ApiKey } from '../protocol/messages/index.js';
import { ProtocolError } from '../protocol/primitives/protocol-error.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import type { BrokerServices } from './broker-services.js';
import { type ApiHandler, CLOSE_AFTER_RESPONSE, CLOSE_CONNECTION, type HandlerOutcome, NO_RESPONSE, type RequestContext } from './handlers/handler.js';
import type { ConnectionInfo, FrameHandler, FrameOutcome } from './network/socket-server.js';

/** The smallest frame that holds a request header: api key, version and correlation id. */
const MIN_FRAME_BYTES = 8;

export function createRequestDispatcher(handlers: readonly ApiHandler[], services: BrokerServices): FrameHandler {
  const byKey: (ApiHandler | undefined)[] = [];
  for (const handler of handlers) byKey[handler.api.apiKey] = handler;
  const logger = services.logger.child('request');

  return (frame: Buffer, connection: ConnectionInfo): FrameOutcome | Promise<FrameOutcome> => {
    // A SASL listener's connection authenticates before anything else (raw tokens included).
    const screened = services.sasl.screen(frame, connection);
    if (screened !== undefined) return screened;
    if (frame.length < MIN_FRAME_BYTES) return close(`frame of ${frame.length} bytes is too short for a request header`);
    const apiKey = frame.readInt16BE(0);
    const apiVersion = frame.readInt16BE(2);
    const handler = byKey[apiKey];
    if (!handler) return close(`unknown api key ${apiKey}`);
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      if (apiKey === ApiKey.ApiVersions) return unsupportedApiVersionsVersion(frame.readInt32BE(4), handler);
      return close(`${handler.api.name} v${apiVersion} is not supported (${handler.minVersion}-${handler.maxVersion})`);
    }
    let request: unknown;
    let context: RequestContext;
    // Filled only by handlers that ask (Fetch): most requests allocate no list.
    let afterResponse: (() => void)[] | undefined;
    try {
      const reader = new Reader(frame);
      const header = decodeRequestHeader(reader);
      // Trailing bytes after the body are ignored, as Kafka does (librdkafka 2.0.2 sends one).
      request = handler.api.decodeRequest(reader, apiVersion);
      context = { apiVersion, correlationId: header.correlationId, clientId: header.clientId, connection, broker: services, afterResponse: (callback) => (afterResponse ??= []).push(callback) };
    } catch (error) {
      if (error instanceof ProtocolError) return close(`malformed ${handler.api.name} v${apiVersion} request: ${error.message}`);
      throw error;
    }
    if (handler.forwardToController && !connection.forwarded && services.controllerChannel.forwards) {
      const callbacks = afterResponse;
      return forward(handler, request, context, Buffer.from(frame)).then((outcome) => withAfterResponse(outcome, callbacks));
    }
    let outcome: HandlerOutcome<unknown> | Promise<HandlerOutcome<unknown>>;
    try {
      outcome = handler.handle(request, context);
    } catch (error) {
      return withAfterResponse(failed(handler, request, context, error), afterResponse);
    }
    // Client quotas (producer and consumer byte rates): the answer carries the throttle time.
    const throttleOf = services.clientQuotas?.throttleFor(apiKey, frame.length, connection, context.clientId);
    if (throttleOf !== undefined) connection.oneRequestAtATime = true;
    const throttled = throttleOf && ((response: unknown) => throttleOf(request, response));
    if (outcome instanceof Promise) {
      return outcome.then(
        (result) => withAfterResponse(respond(handler, context, result, throttled), afterResponse),
        (error: unknown) => withAfterResponse(failed(handler, request, context, error), afterResponse),
      );
    }
    return withAfterResponse(respond(handler, context, outcome, throttled), afterResponse);
  };

  /**
   * Controller work on a broker that is not the active controller: the request goes whole to the
   * active controller in an Envelope and its answer comes back as is (its header carries the
   * client's correlation id). If this node became the active controller meanwhile it handles the
   * request itself; if no controller answers in time the client gets REQUEST_TIMED_OUT.
   */
  async function forward(handler: ApiHandler, request: unknown, context: RequestContext, frame: Buffer): Promise<FrameOutcome> {
    try {
      const forwarded = await services.controllerChannel.forward(frame, context.connection.remoteAddress, context.connection.principal);
      if (forwarded !== undefined) return { kind: 'respond', chunks: [forwarded] };
      return respond(handler, context, await handler.handle(request, { ...context, connection: { ...context.connection, forwarded: true } }));
    } catch (error) {
      if (error instanceof KafkaError) return respond(handler, context, handler.errorResponse(request, error.errorCode, context));
      return failed(handler, request, context, error);
    }
  }

  function failed(handler: ApiHandler, request: unknown, context: RequestContext, error: unknown): FrameOutcome {
    // An expected condition raised deep down (NOT_CONTROLLER when leadership moved mid-request)
    // is answered with its own code, which clients know to retry.
    if (error instanceof KafkaError && error.errorCode !== ErrorCode.UNKNOWN_SERVER_ERROR) {
      logger.info('request failed', { api: handler.api.name, errorCode: error.errorCode, error: error.message });
      return respond(handler, context, handler.errorResponse(request, error.errorCode, context));
    }
    logger.error('handler failed; answering UNKNOWN_SERVER_ERROR', {
      api: handler.api.name,
      version: context.apiVersion,
      client: context.clientId,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    return respond(handler, context, handler.errorResponse(request, ErrorCode.UNKNOWN_SERVER_ERROR, context));
  }

  function close(reason: string): FrameOutcome {
    logger.warn('closing connection', { reason });
    return { kind: 'close', reason };
  }
}

/** Hands the handler's after-response callbacks to the network layer, or runs them when nothing is written. */
function withAfterResponse(outcome: FrameOutcome, callbacks: (() => void)[] | undefined): FrameOutcome {
  if (callbacks === undefined) return outcome;
  const runAll = () => {
    for (const callback of callbacks) callback();
  };
  if (outcome.kind !== 'respond') {
    runAll();
    return outcome;
  }
  return { ...outcome, onSent: runAll };
}

/** Encodes the handler's answer; `throttleOf` (a client quota) may set its throttle time, and mutes the connection as long. */
function respond(handler: ApiHandler, context: RequestContext, outcome: HandlerOutcome<unknown>, throttleOf?: (response: unknown) => number): FrameOutcome {
  if (outcome === NO_RESPONSE) {
    // acks=0: the bytes count, and the connection is muted, though nothing is answered.
    const throttleMs = throttleOf?.(undefined) ?? 0;
    return throttleMs > 0 ? { kind: 'none', throttleMs } : { kind: 'none' };
  }
  if (outcome === CLOSE_CONNECTION) return { kind: 'close', reason: `${handler.api.name} failed without a response channel` };
  const last = typeof outcome === 'object' && outcome !== null && CLOSE_AFTER_RESPONSE in outcome;
  const response = last ? (outcome as { [CLOSE_AFTER_RESPONSE]: unknown })[CLOSE_AFTER_RESPONSE] : outcome;
  const throttleMs = throttleOf?.(response) ?? 0;
  if (throttleMs > 0) {
    const body = response as { throttleTimeMs?: number };
    body.throttleTimeMs = Math.max(body.throttleTimeMs ?? 0, throttleMs);
  }
  const writer = new Writer();
  encodeResponseHeader(writer, responseHeaderVersion(handler.api.apiKey, context.apiVersion), context.correlationId);
  handler.api.encodeResponse(writer, context.apiVersion, response);
  if (last) return { kind: 'close', reason: `${handler.api.name} ends the connection`, lastResponse: writer.finish() };
  return throttleMs > 0 ? { kind: 'respond', chunks: writer.finish(), throttleMs } : { kind: 'respond', chunks: writer.finish() };
}

/**
 * ApiVersions at a version above ours: Kafka answers in v0 with UNSUPPORTED_VERSION and only its
 * own ApiVersions range, so the client can retry at a version both sides know (KIP-511).
 */
function unsupportedApiVersionsVersion(correlationId: number, handler: ApiHandler): FrameOutcome {
  const writer = new Writer();
  encodeResponseHeader(writer, 0, correlationId);
  handler.api.encodeResponse(writer, 0, {
    errorCode: ErrorCode.UNSUPPORTED_VERSION,
    apiKeys: [{ apiKey: ApiKey.ApiVersions, minVersion: handler.minVersion, maxVersion: handler.maxVersion }],
  });
  return { kind: 'respond', chunks: writer.finish() };
}
