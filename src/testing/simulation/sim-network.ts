// A simulated network between node ids behind the Transport port, driven by the SimScheduler and
// a SeededRandom fork, so a seed replays the same deliveries. Every request and response crosses
// as bytes (encoded with the API descriptor, decoded at the other end), so no object is shared
// between nodes and codec bugs show. Faults: random delay (which reorders messages), loss,
// duplicated requests, partitions and bridges, crashed nodes, and a bound on in-flight requests.
//
// Choices a harness must know:
// - Each node's clock is `network.clockFor(nodeId)`; send deadlines live on it. `crash(nodeId)`
//   is the node's process dying: it stops serving, its clock is halted (every timer cancelled,
//   later ones ignored), its outstanding sends reject with TransportError 'closed' at once, and
//   its messages still in flight, both ways, are dropped at delivery. A restarted node takes a
//   fresh `clockFor` and `transportFor` and calls `serve` again; the old transport rejects 'closed'.
// - A lost message (random loss, a partition at send or at delivery time, a destination that
//   crashed or stopped serving meanwhile) is silent: the sender's promise rejects 'timeout' at its
//   deadline. Only a send to a node that is not served and not partitioned away rejects
//   'unreachable', after one simulated delivery delay (the refused connection's round trip).
// - A request may be processed after its sender timed out; the late response is discarded.
// - A duplicated request reaches the handler twice; the duplicate's response is discarded.
// - A handler that throws or rejects, and a message that fails to encode or decode, fail the whole
//   run (SimScheduler.fail): handlers answer with Kafka error codes, so a throw is a bug.
import { assert } from '../../base/assert.js';
import type { ApiDescriptor } from '../../protocol/messages/index.js';
import { Reader } from '../../protocol/primitives/reader.js';
import { Writer } from '../../protocol/primitives/writer.js';
import { type InboundHandler, type Transport, TransportError, type TransportErrorKind } from '../../protocol/transport.js';
import type { SeededRandom } from './seeded-random.js';
import type { NodeClock, SimScheduler } from './sim-scheduler.js';

export interface NetworkFaults {
  /** Shortest one-way delay of a message, in whole virtual ms. */
  minDelayMs: number;
  /** Longest one-way delay; each message draws uniformly from [minDelayMs, maxDelayMs]. */
  maxDelayMs: number;
  /** Probability that a message (each request and each response, independently) is lost. */
  dropProbability: number;
  /** Probability that a request is delivered a second time, with its own delay. */
  duplicateProbability: number;
}

export const DEFAULT_NETWORK_FAULTS: Readonly<NetworkFaults> = {
  minDelayMs: 1,
  maxDelayMs: 5,
  dropProbability: 0,
  duplicateProbability: 0,
};

/** Requests one node may have outstanding to one destination before sends reject 'overloaded'. */
export const DEFAULT_MAX_IN_FLIGHT_PER_DESTINATION = 1024;

export interface SimNetworkOptions {
  scheduler: SimScheduler;
  /** The network draws from `random.fork('sim-network')`, never from `random` itself. */
  random: SeededRandom;
  faults?: Partial<NetworkFaults>;
  maxInFlightPerDestination?: number;
}

export interface NetworkStats {
  /** Requests accepted by `send` (not rejected up front as 'closed' or 'overloaded'). */
  sent: number;
  /** Messages (requests and responses) handed over at their destination. */
  delivered: number;
  /** Messages lost: random loss, partitions, crashed or unserved endpoints. */
  dropped: number;
  /** Extra copies of requests. */
  duplicated: number;
  /** Responses that arrived after their send had settled (timed out), and duplicates' responses. */
  discarded: number;
  timedOut: number;
  unreachable: number;
  overloaded: number;
  closed: number;
}

export type NetworkEventKind =
  | 'send'
  | 'deliver-request'
  | 'deliver-response'
  | 'drop-request'
  | 'drop-response'
  | 'duplicate'
  | 'discard-response'
  | TransportErrorKind;

/** What happened to a message, for traces; `from` and `to` are the request's direction. */
export interface NetworkEvent {
  readonly kind: NetworkEventKind;
  readonly atMs: number;
  readonly from: number;
  readonly to: number;
  readonly apiKey: number;
  /** Numbers the sends of this network in order, to follow one request through a trace. */
  readonly requestId: number;
}

// biome-ignore lint/suspicious/noExplicitAny: the network only encodes requests and decodes responses.
type SendableApi = ApiDescriptor<any, unknown, unknown, any>;

interface PendingSend {
  readonly requestId: number;
  readonly from: number;
  readonly to: number;
  readonly fromIncarnation: number;
  readonly api: SendableApi;
  readonly version: number;
  settled: boolean;
  resolve: (response: unknown) => void;
  reject: (error: Error) => void;
  cancelDeadline: () => void;
}

interface NodeState {
  readonly nodeId: number;
  /** Bumped by every crash; messages and transports of an older incarnation are dead. */
  incarnation: number;
  clock: NodeClock;
  handler: InboundHandler | undefined;
  /** This node's sends awaiting a response, in send order. */
  readonly outstanding: Set<PendingSend>;
  /** Outstanding sends per destination, for the in-flight bound. */
  readonly outstandingTo: Map<number, number>;
}

function assertDisjoint(groups: readonly (readonly number[])[]): void {
  const seen = new Set<number>();
  for (const nodeId of groups.flat()) {
    assert(!seen.has(nodeId), `node ${nodeId} is listed twice`);
    seen.add(nodeId);
  }
}

/** The implicit group of nodes that a partition does not list. */
const UNLISTED_GROUP = -1;

export class SimNetwork {
  readonly #scheduler: SimScheduler;
  readonly #random: SeededRandom;
  readonly #maxInFlightPerDestination: number;
  readonly #nodes = new Map<number, NodeState>();
  readonly #listeners: ((event: NetworkEvent) => void)[] = [];
  #faults: NetworkFaults;
  /** Node id to the groups it belongs to; undefined while the network is whole. */
  #groupsOf: Map<number, Set<number>> | undefined;
  readonly #isolated = new Set<number>();
  #nextRequestId = 1;
  readonly #stats: NetworkStats = {
    sent: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    discarded: 0,
    timedOut: 0,
    unreachable: 0,
    overloaded: 0,
    closed: 0,
  };

  constructor(options: SimNetworkOptions) {
    this.#scheduler = options.scheduler;
    this.#random = options.random.fork('sim-network');
    this.#maxInFlightPerDestination = options.maxInFlightPerDestination ?? DEFAULT_MAX_IN_FLIGHT_PER_DESTINATION;
    assert(this.#maxInFlightPerDestination >= 1, 'maxInFlightPerDestination must be at least 1');
    this.#faults = { ...DEFAULT_NETWORK_FAULTS };
    this.setFaults(options.faults ?? {});
  }

  /** Changes fault settings from now on (messages already scheduled keep their fate). */
  setFaults(faults: Partial<NetworkFaults>): void {
    const next = { ...this.#faults, ...faults };
    assert(Number.isInteger(next.minDelayMs) && next.minDelayMs >= 0, `bad minDelayMs ${next.minDelayMs}`);
    assert(Number.isInteger(next.maxDelayMs) && next.maxDelayMs >= next.minDelayMs, `bad maxDelayMs ${next.maxDelayMs}`);
    for (const probability of [next.dropProbability, next.duplicateProbability]) {
      assert(probability >= 0 && probability <= 1, `probability out of [0, 1]: ${probability}`);
    }
    this.#faults = next;
  }

  get faults(): Readonly<NetworkFaults> {
    return { ...this.#faults };
  }

  /** A copy of the counters. */
  get stats(): NetworkStats {
    return { ...this.#stats };
  }

  /** Calls `listener` for every network event (traces, reports); returns a function that removes it. */
  onEvent(listener: (event: NetworkEvent) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      const index = this.#listeners.indexOf(listener);
      if (index >= 0) this.#listeners.splice(index, 1);
    };
  }

  /** The clock of the node's current incarnation: its components schedule their timers on it. */
  clockFor(nodeId: number): NodeClock {
    return this.#node(nodeId).clock;
  }

  /** The node's Transport; it rejects every send with 'closed' once the node crashes. */
  transportFor(nodeId: number): Transport {
    const node = this.#node(nodeId);
    const incarnation = node.incarnation;
    return {
      // biome-ignore lint/suspicious/noExplicitAny: a sender encodes requests and decodes responses only.
      send: <Request, Response>(to: number, api: ApiDescriptor<any, Response, Request, any>, version: number, request: Request, timeoutMs: number) =>
        this.#send(node, incarnation, to, api as SendableApi, version, request, timeoutMs) as Promise<Response>,
    };
  }

  /** Starts delivering requests addressed to `nodeId` to `handler`. */
  serve(nodeId: number, handler: InboundHandler): void {
    const node = this.#node(nodeId);
    assert(node.handler === undefined, `node ${nodeId} is already served`);
    node.handler = handler;
  }

  /**
   * Stops delivering to `nodeId` (it no longer listens): requests arriving from now on are lost;
   * responses to requests it is already handling still go out. Use `crash` for a dead process.
   */
  unserve(nodeId: number): void {
    this.#node(nodeId).handler = undefined;
  }

  isServed(nodeId: number): boolean {
    return this.#nodes.get(nodeId)?.handler !== undefined;
  }

  /** How many times the node has crashed. */
  incarnationOf(nodeId: number): number {
    return this.#node(nodeId).incarnation;
  }

  /** The node's process dies: see the header for everything this does. */
  crash(nodeId: number): void {
    const node = this.#node(nodeId);
    node.handler = undefined;
    node.incarnation++;
    node.clock.halt();
    node.clock = this.#scheduler.clockFor(`node-${nodeId}#${node.incarnation}`);
    for (const pending of [...node.outstanding]) this.#fail(pending, 'closed', `node ${nodeId} crashed`);
  }

  /**
   * Splits the network: nodes in different groups cannot exchange messages. Nodes listed in no
   * group form one more group together. Replaces an earlier partition or bridge; isolations stay.
   */
  partition(groups: readonly (readonly number[])[]): void {
    assertDisjoint(groups);
    this.#setGroups(groups);
  }

  /**
   * Nodes in `sideA` and `sideB` cannot talk to each other, but `bridgeNode` talks to both (a
   * non-transitive partition). Nodes in none of them form one more group together, cut off from
   * all three. Replaces an earlier partition or bridge; isolations stay.
   */
  bridge(sideA: readonly number[], sideB: readonly number[], bridgeNode: number): void {
    assertDisjoint([sideA, sideB, [bridgeNode]]);
    // Two overlapping groups: two nodes talk when some group holds both.
    this.#setGroups([
      [...sideA, bridgeNode],
      [...sideB, bridgeNode],
    ]);
  }

  /** Cuts `nodeId` off from every other node until `heal`, on top of any partition. */
  isolate(nodeId: number): void {
    this.#isolated.add(nodeId);
  }

  /** Removes every partition, bridge and isolation. */
  heal(): void {
    this.#groupsOf = undefined;
    this.#isolated.clear();
  }

  /** Whether a message from `from` to `to` would get through the current partitions. */
  canTalk(from: number, to: number): boolean {
    if (from === to) return true;
    if (this.#isolated.has(from) || this.#isolated.has(to)) return false;
    if (this.#groupsOf === undefined) return true;
    const fromGroups = this.#groupsOf.get(from) ?? new Set([UNLISTED_GROUP]);
    const toGroups = this.#groupsOf.get(to) ?? new Set([UNLISTED_GROUP]);
    for (const group of fromGroups) if (toGroups.has(group)) return true;
    return false;
  }

  #setGroups(groups: readonly (readonly number[])[]): void {
    const groupsOf = new Map<number, Set<number>>();
    groups.forEach((group, index) => {
      for (const nodeId of group) {
        const memberships = groupsOf.get(nodeId) ?? new Set<number>();
        memberships.add(index);
        groupsOf.set(nodeId, memberships);
      }
    });
    this.#groupsOf = groupsOf;
  }

  #node(nodeId: number): NodeState {
    let node = this.#nodes.get(nodeId);
    if (node === undefined) {
      assert(Number.isInteger(nodeId), `node id must be an integer, got ${nodeId}`);
      node = {
        nodeId,
        incarnation: 0,
        clock: this.#scheduler.clockFor(`node-${nodeId}`),
        handler: undefined,
        outstanding: new Set(),
        outstandingTo: new Map(),
      };
      this.#nodes.set(nodeId, node);
    }
    return node;
  }

  #send(sender: NodeState, incarnation: number, to: number, api: SendableApi, version: number, request: unknown, timeoutMs: number): Promise<unknown> {
    assert(Number.isFinite(timeoutMs) && timeoutMs > 0, `timeout must be positive, got ${timeoutMs}`);
    const requestId = this.#nextRequestId++;
    const refuse = (kind: 'closed' | 'overloaded', message: string): Promise<never> => {
      this.#stats[kind]++;
      this.#emit(kind, sender.nodeId, to, api.apiKey, requestId);
      return Promise.reject(new TransportError(kind, to, message));
    };
    if (sender.incarnation !== incarnation) return refuse('closed', `node ${sender.nodeId} crashed`);
    if ((sender.outstandingTo.get(to) ?? 0) >= this.#maxInFlightPerDestination) {
      return refuse('overloaded', `${this.#maxInFlightPerDestination} requests already outstanding to node ${to}`);
    }
    const bytes = this.#encode(() => {
      const writer = new Writer();
      api.encodeRequest(writer, version, request);
      return writer.toBuffer();
    });
    if (bytes instanceof Error) return Promise.reject(bytes);
    return new Promise((resolve, reject) => {
      const pending: PendingSend = {
        requestId,
        from: sender.nodeId,
        to,
        fromIncarnation: incarnation,
        api,
        version,
        settled: false,
        resolve,
        reject,
        cancelDeadline: () => {},
      };
      sender.outstanding.add(pending);
      sender.outstandingTo.set(to, (sender.outstandingTo.get(to) ?? 0) + 1);
      this.#stats.sent++;
      this.#emit('send', pending.from, to, api.apiKey, requestId);
      pending.cancelDeadline = sender.clock.schedule(timeoutMs, () => this.#fail(pending, 'timeout', `no response from node ${to} in ${timeoutMs} ms`));
      this.#transmitRequest(pending, bytes);
    });
  }

  #transmitRequest(pending: PendingSend, bytes: Buffer): void {
    const destination = this.#node(pending.to);
    if (!this.canTalk(pending.from, pending.to)) return this.#drop('drop-request', pending);
    if (destination.handler === undefined) {
      const sender = this.#node(pending.from);
      sender.clock.schedule(this.#delayMs(), () => this.#fail(pending, 'unreachable', `node ${pending.to} is not serving`));
      return;
    }
    if (this.#random.chance(this.#faults.dropProbability)) return this.#drop('drop-request', pending);
    const toIncarnation = destination.incarnation;
    this.#scheduler.schedule(this.#delayMs(), () => this.#deliverRequest(pending, bytes, toIncarnation, false));
    if (this.#random.chance(this.#faults.duplicateProbability)) {
      this.#stats.duplicated++;
      this.#emit('duplicate', pending.from, pending.to, pending.api.apiKey, pending.requestId);
      this.#scheduler.schedule(this.#delayMs(), () => this.#deliverRequest(pending, bytes, toIncarnation, true));
    }
  }

  /** A scheduler event: the request arrives, unless its sender or receiver died or a partition cut it. */
  #deliverRequest(pending: PendingSend, bytes: Buffer, toIncarnation: number, duplicate: boolean): void {
    const destination = this.#node(pending.to);
    const handler = destination.handler;
    const alive = this.#node(pending.from).incarnation === pending.fromIncarnation && destination.incarnation === toIncarnation;
    if (!alive || handler === undefined || !this.canTalk(pending.from, pending.to)) return this.#drop('drop-request', pending);
    this.#stats.delivered++;
    this.#emit('deliver-request', pending.from, pending.to, pending.api.apiKey, pending.requestId);
    const body = pending.api.decodeRequest(new Reader(bytes), pending.version);
    const request = { apiKey: pending.api.apiKey, apiVersion: pending.version, body, fromNodeId: pending.from };
    let response: Promise<unknown>;
    try {
      // Called within this event, so a synchronous throw is attributed to it; resolve() tolerates
      // a handler that returns a plain value.
      response = Promise.resolve(handler(request));
    } catch (error) {
      response = Promise.reject(error);
    }
    response.then(
      (body) => this.#transmitResponse(pending, body, toIncarnation, duplicate),
      (error: unknown) => {
        // A dead incarnation's failures are part of its death, not a bug to report.
        if (destination.incarnation === toIncarnation) this.#scheduler.fail(error);
      },
    );
  }

  #transmitResponse(pending: PendingSend, body: unknown, toIncarnation: number, duplicate: boolean): void {
    if (this.#node(pending.to).incarnation !== toIncarnation) return this.#drop('drop-response', pending);
    if (duplicate) return this.#discard(pending);
    const bytes = this.#encode(() => {
      const writer = new Writer();
      pending.api.encodeResponse(writer, pending.version, body);
      return writer.toBuffer();
    });
    if (bytes instanceof Error) return;
    if (!this.canTalk(pending.to, pending.from) || this.#random.chance(this.#faults.dropProbability)) {
      return this.#drop('drop-response', pending);
    }
    this.#scheduler.schedule(this.#delayMs(), () => this.#deliverResponse(pending, bytes, toIncarnation));
  }

  /** A scheduler event: the response arrives and settles the send, unless something cut it off. */
  #deliverResponse(pending: PendingSend, bytes: Buffer, toIncarnation: number): void {
    const alive = this.#node(pending.to).incarnation === toIncarnation && this.#node(pending.from).incarnation === pending.fromIncarnation;
    if (!alive || !this.canTalk(pending.to, pending.from)) return this.#drop('drop-response', pending);
    if (pending.settled) return this.#discard(pending);
    this.#stats.delivered++;
    this.#emit('deliver-response', pending.from, pending.to, pending.api.apiKey, pending.requestId);
    const response = pending.api.decodeResponse(new Reader(bytes), pending.version);
    this.#settle(pending);
    pending.resolve(response);
  }

  #fail(pending: PendingSend, kind: TransportErrorKind, message: string): void {
    if (pending.settled) return;
    this.#settle(pending);
    if (kind === 'timeout') this.#stats.timedOut++;
    else if (kind === 'unreachable' || kind === 'closed') this.#stats[kind]++;
    this.#emit(kind, pending.from, pending.to, pending.api.apiKey, pending.requestId);
    pending.reject(new TransportError(kind, pending.to, message));
  }

  #settle(pending: PendingSend): void {
    pending.settled = true;
    pending.cancelDeadline();
    const sender = this.#node(pending.from);
    if (!sender.outstanding.delete(pending)) return;
    const remaining = (sender.outstandingTo.get(pending.to) ?? 1) - 1;
    if (remaining === 0) sender.outstandingTo.delete(pending.to);
    else sender.outstandingTo.set(pending.to, remaining);
  }

  #drop(kind: 'drop-request' | 'drop-response', pending: PendingSend): void {
    this.#stats.dropped++;
    this.#emit(kind, pending.from, pending.to, pending.api.apiKey, pending.requestId);
  }

  #discard(pending: PendingSend): void {
    this.#stats.discarded++;
    this.#emit('discard-response', pending.from, pending.to, pending.api.apiKey, pending.requestId);
  }

  /** Runs an encoder; a failure is a codec or caller bug, so it also fails the whole run. */
  #encode(encode: () => Buffer): Buffer | Error {
    try {
      return encode();
    } catch (error) {
      this.#scheduler.fail(error);
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  #delayMs(): number {
    return this.#random.between(this.#faults.minDelayMs, this.#faults.maxDelayMs);
  }

  #emit(kind: NetworkEventKind, from: number, to: number, apiKey: number, requestId: number): void {
    if (this.#listeners.length === 0) return;
    const event: NetworkEvent = { kind, atMs: this.#scheduler.monotonicMs(), from, to, apiKey, requestId };
    for (const listener of [...this.#listeners]) listener(event);
  }
}
