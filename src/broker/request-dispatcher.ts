// Turns one request frame into one response: decode the header, find the handler by API key,
// check the version, decode the body, run the handler, encode the answer. Everything up to the
// handler call is synchronous, so handlers start in the order requests arrived on a connection.
//
// Client quotas (src/broker/quota/): for a client under one, the answer carries the throttle time
// its quotas give and the connection is muted for as long; such a connection is handled one
// request at a time. While a request_percentage quota is set anywhere, the dispatcher times each
// request with performance.now(): from receiving the frame to the return of the handler's
// synchronous part (the time the throttle decision counts), then the answer's encoding (counted
// after the decision); never the waits in between (request-quota.ts says exactly what counts).
// A request that came in an Envelope is answered with its throttle time but mutes nothing: the
// Envelope's connection is another broker's. That broker, which forwarded the request for its
// client, mutes the client's connection for the larger of the controller's throttle time and its
// own (Kafka's sendForwardedResponse).
import { ErrorCode } from '../base/error-codes.js';
import { KafkaError } from '../base/kafka-error.js';
import { decodeRequestHeader, decodeResponseHeader, encodeResponseHeader, responseHeaderVersion } from '../protocol/headers.js';
import { ApiKey } from '../protocol/messages/index.js';
import { ProtocolError } from '../protocol/primitives/protocol-error.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import type { BrokerServices } from './broker-services.js';
import { RequestTimer } from './metrics/broker-metrics.js';
import { type ApiHandler, CLOSE_AFTER_RESPONSE, CLOSE_CONNECTION, type HandlerOutcome, NO_RESPONSE, type RequestContext } from './handlers/handler.js';
import type { ConnectionInfo, FrameHandler, FrameOutcome } from './network/socket-server.js';
import type { RequestThrottle } from './quota/client-quotas.js';

/** The smallest frame that holds a request header: api key, version and correlation id. */
const MIN_FRAME_BYTES = 8;

/** A request of a client under a quota: how its answer is throttled, and the time it occupied the broker before its answer was ready. */
interface ThrottledRequest {
  readonly throttle: RequestThrottle;
  readonly request: unknown;
  readonly handlingMs: number;
}

/** Milliseconds since `startMs` (performance.now()), or 0 when the request is not timed. */
function elapsedSince(startMs: number | undefined): number {
  return startMs === undefined ? 0 : performance.now() - startMs;
}

export function createRequestDispatcher(handlers: readonly ApiHandler[], services: BrokerServices): FrameHandler {
  const byKey: (ApiHandler | undefined)[] = [];
  for (const handler of handlers) byKey[handler.api.apiKey] = handler;
  const logger = services.logger.child('request');

  const metrics = services.metrics;
  if (metrics !== undefined) {
    const nowMs = () => services.clock.monotonicMs();
    // Each API's counters, looked up once: the per-request cost is one RequestTimer.
    const countersByKey = byKey.map((handler) => (handler === undefined ? undefined : metrics.countersFor(handler.api.name)));
    return (frame: Buffer, connection: ConnectionInfo, receivedAtMs?: number): FrameOutcome | Promise<FrameOutcome> => {
      const startMs = nowMs();
      const counters = frame.length >= MIN_FRAME_BYTES ? countersByKey[frame.readInt16BE(0)] : undefined;
      const timer = counters === undefined ? undefined : new RequestTimer(counters, frame.readInt16BE(2), receivedAtMs ?? startMs, startMs, nowMs);
      return dispatch(frame, connection, timer);
    };
  }
  return (frame: Buffer, connection: ConnectionInfo): FrameOutcome | Promise<FrameOutcome> => dispatch(frame, connection, undefined);

  function dispatch(frame: Buffer, connection: ConnectionInfo, timer: RequestTimer | undefined): FrameOutcome | Promise<FrameOutcome> {
    // request_percentage: the time this request occupies the broker, measured only while such a quota is set.
    const startMs = services.clientQuotas?.timesRequests() ? performance.now() : undefined;
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
      context = { apiVersion, correlationId: header.correlationId, clientId: header.clientId, connection, broker: services, afterResponse: (callback) => (afterResponse ??= []).push(callback), timer };
    } catch (error) {
      if (error instanceof ProtocolError) return close(`malformed ${handler.api.name} v${apiVersion} request: ${error.message}`);
      throw error;
    }
    // Client quotas: how to throttle the answer, for a client under one (undefined for every other).
    const throttle = services.clientQuotas?.throttleFor(apiKey, frame.length, connection, context.clientId);
    if (throttle !== undefined && !connection.forwarded) connection.oneRequestAtATime = true;
    if (handler.forwardToController && !connection.forwarded && services.controllerChannel.forwards) {
      const callbacks = afterResponse;
      return forward(handler, request, context, Buffer.from(frame), throttle, startMs).then((outcome) => withAfterResponse(outcome, callbacks, timer));
    }
    let outcome: HandlerOutcome<unknown> | Promise<HandlerOutcome<unknown>>;
    try {
      outcome = handler.handle(request, context);
    } catch (error) {
      const throttled = throttle && { throttle, request, handlingMs: elapsedSince(startMs) };
      return withAfterResponse(failed(handler, request, context, error, throttled), afterResponse, timer);
    }
    // The handler's synchronous part is done: what follows its first wait is not counted.
    const throttled = throttle && { throttle, request, handlingMs: elapsedSince(startMs) };
    if (outcome instanceof Promise) {
      return outcome.then(
        (result) => withAfterResponse(respond(handler, context, result, throttled), afterResponse, timer),
        (error: unknown) => withAfterResponse(failed(handler, request, context, error, throttled), afterResponse, timer),
      );
    }
    return withAfterResponse(respond(handler, context, outcome, throttled), afterResponse, timer);
  }

  /**
   * Controller work on a broker that is not the active controller: the request goes whole to the
   * active controller in an Envelope and its answer comes back as is (its header carries the
   * client's correlation id). If this node became the active controller meanwhile it handles the
   * request itself; if no controller answers in time the client gets REQUEST_TIMED_OUT.
   */
  async function forward(handler: ApiHandler, request: unknown, context: RequestContext, frame: Buffer, throttle: RequestThrottle | undefined, startMs: number | undefined): Promise<FrameOutcome> {
    // This broker's own time on the request: decoding it and handing it over.
    let handlingMs = elapsedSince(startMs);
    const throttled = () => throttle && { throttle, request, handlingMs };
    try {
      const forwarded = await services.controllerChannel.forward(frame, context.connection.remoteAddress, context.connection.principal);
      if (forwarded !== undefined) return throttle ? forwardedAnswer(handler, context, forwarded, { throttle, request, handlingMs }) : { kind: 'respond', chunks: [forwarded] };
      // Handled here, for the client on its own connection: its quotas apply as to any request.
      const handleStartMs = startMs === undefined ? undefined : performance.now();
      const pending = handler.handle(request, { ...context, connection: { ...context.connection, forwarded: true } });
      handlingMs += elapsedSince(handleStartMs);
      return respond(handler, context, await pending, throttled());
    } catch (error) {
      if (error instanceof KafkaError) return respond(handler, context, handler.errorResponse(request, error.errorCode, context), throttled());
      return failed(handler, request, context, error, throttled());
    }
  }

  /**
   * The active controller's answer to a request forwarded for a client under a quota (Kafka's
   * sendForwardedResponse). The controller measured the request against its quotas, put the
   * throttle time in the answer and muted nothing; this broker counts its own time on the request
   * too, mutes the client's connection for the larger throttle time, and encodes the answer again
   * only when its own is the larger.
   */
  function forwardedAnswer(handler: ApiHandler, context: RequestContext, bytes: Buffer, throttled: ThrottledRequest): FrameOutcome {
    let response: { throttleTimeMs?: number };
    try {
      const reader = new Reader(bytes);
      decodeResponseHeader(reader, responseHeaderVersion(handler.api.apiKey, context.apiVersion));
      response = handler.api.decodeResponse(reader, context.apiVersion) as { throttleTimeMs?: number };
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      logger.warn('cannot read the throttle time of a forwarded answer', { api: handler.api.name, error: error.message });
      return { kind: 'respond', chunks: [bytes] };
    }
    const controllerThrottleMs = response.throttleTimeMs ?? 0;
    const throttleMs = throttled.throttle.throttleMs(throttled.request, response, throttled.handlingMs);
    if (throttleMs <= 0) return { kind: 'respond', chunks: [bytes] };
    if (throttleMs <= controllerThrottleMs) return { kind: 'respond', chunks: [bytes], throttleMs };
    response.throttleTimeMs = throttleMs;
    return { kind: 'respond', chunks: encode(handler, context, response), throttleMs };
  }

  function failed(handler: ApiHandler, request: unknown, context: RequestContext, error: unknown, throttled?: ThrottledRequest): FrameOutcome {
    // An expected condition raised deep down (NOT_CONTROLLER when leadership moved mid-request)
    // is answered with its own code, which clients know to retry.
    if (error instanceof KafkaError && error.errorCode !== ErrorCode.UNKNOWN_SERVER_ERROR) {
      logger.info('request failed', { api: handler.api.name, errorCode: error.errorCode, error: error.message });
      return respond(handler, context, handler.errorResponse(request, error.errorCode, context), throttled);
    }
    logger.error('handler failed; answering UNKNOWN_SERVER_ERROR', {
      api: handler.api.name,
      version: context.apiVersion,
      client: context.clientId,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    return respond(handler, context, handler.errorResponse(request, ErrorCode.UNKNOWN_SERVER_ERROR, context), throttled);
  }

  function close(reason: string): FrameOutcome {
    logger.warn('closing connection', { reason });
    return { kind: 'close', reason };
  }
}

/**
 * Hands the handler's after-response callbacks to the network layer, or runs them when nothing is
 * written; with metrics on, the request's timer is told when the answer was ready and when it was
 * sent (a connection closed before the answer was written records nothing: it was never sent).
 */
function withAfterResponse(outcome: FrameOutcome, callbacks: (() => void)[] | undefined, timer: RequestTimer | undefined): FrameOutcome {
  if (callbacks === undefined && timer === undefined) return outcome;
  timer?.answered(outcome.kind === 'close' ? 0 : (outcome.throttleMs ?? 0));
  const done = () => {
    if (callbacks !== undefined) for (const callback of callbacks) callback();
    timer?.sent();
  };
  if (outcome.kind !== 'respond') {
    done();
    return outcome;
  }
  // Every 'respond' outcome has the same four properties: the network layer sees one shape.
  return { kind: 'respond', chunks: outcome.chunks, onSent: outcome.onSent === undefined ? done : chainSent(outcome.onSent, done), throttleMs: outcome.throttleMs };
}

function chainSent(first: () => void, then: () => void): () => void {
  return () => {
    first();
    then();
  };
}

/**
 * Encodes the handler's answer. For a client under a quota (`throttled`) its measures are recorded
 * first and the answer carries their throttle time; the connection is muted as long, unless the
 * request came in an Envelope (its connection is the forwarding broker's, which mutes its client).
 */
function respond(handler: ApiHandler, context: RequestContext, outcome: HandlerOutcome<unknown>, throttled?: ThrottledRequest): FrameOutcome {
  const mutes = context.connection.forwarded !== true;
  if (outcome === NO_RESPONSE) {
    // acks=0: the bytes count, and the connection is muted, though nothing is answered.
    const throttleMs = throttled?.throttle.throttleMs(throttled.request, undefined, throttled.handlingMs) ?? 0;
    return throttleMs > 0 && mutes ? { kind: 'none', throttleMs } : { kind: 'none' };
  }
  if (outcome === CLOSE_CONNECTION) return { kind: 'close', reason: `${handler.api.name} failed without a response channel` };
  const last = typeof outcome === 'object' && outcome !== null && CLOSE_AFTER_RESPONSE in outcome;
  const response = last ? (outcome as { [CLOSE_AFTER_RESPONSE]: unknown })[CLOSE_AFTER_RESPONSE] : outcome;
  context.timer?.answeredWith(response);
  const throttleMs = throttled?.throttle.throttleMs(throttled.request, response, throttled.handlingMs) ?? 0;
  if (throttleMs > 0) (response as { throttleTimeMs?: number }).throttleTimeMs = throttleMs;
  const encodeStartMs = throttled === undefined ? 0 : performance.now();
  const chunks = encode(handler, context, response);
  // Encoding counts against request_percentage after the decision (Kafka's network-thread time).
  throttled?.throttle.recordLate(performance.now() - encodeStartMs);
  if (last) return { kind: 'close', reason: `${handler.api.name} ends the connection`, lastResponse: chunks };
  return { kind: 'respond', chunks, onSent: undefined, throttleMs: throttleMs > 0 && mutes ? throttleMs : undefined };
}

/** The response header and body, as the writer's chunks. */
function encode(handler: ApiHandler, context: RequestContext, response: unknown): Buffer[] {
  const writer = new Writer();
  encodeResponseHeader(writer, responseHeaderVersion(handler.api.apiKey, context.apiVersion), context.correlationId);
  handler.api.encodeResponse(writer, context.apiVersion, response);
  return writer.finish();
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
