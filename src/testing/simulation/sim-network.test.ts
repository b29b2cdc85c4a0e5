// The simulated network with real Vote and ApiVersions codecs: a seed replays the same deliveries
// under faults and another seed does not; requests cross as bytes; loss times out at the deadline;
// partitions, bridges and isolation cut the right links; crashes reject, cancel and drop; duplicates
// reach the handler twice; the in-flight bound and unserved nodes reject.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiVersionsApi, VoteApi } from '../../protocol/messages/index.js';
import type { VoteRequest, VoteResponse } from '../../protocol/messages/vote.js';
import { type InboundHandler, type InboundRequest, TransportError } from '../../protocol/transport.js';
import { SeededRandom } from './seeded-random.js';
import { type NetworkFaults, SimNetwork } from './sim-network.js';
import { SimScheduler } from './sim-scheduler.js';

const VOTE_VERSION = 1;
const TIMEOUT_MS = 100;

function voteRequest(candidateId: number, candidateEpoch: number): VoteRequest {
  return {
    clusterId: 'sim',
    voterId: 0,
    topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0, candidateEpoch, candidateId, lastOffsetEpoch: 0, lastOffset: 0n }] }],
  };
}

/** A voter that grants everything and answers with its own id as leader, in the request's epoch. */
function voter(nodeId: number, seen: InboundRequest[] = []): InboundHandler {
  return async (request) => {
    seen.push(request);
    const body = request.body as VoteRequest;
    const partition = body.topics[0]!.partitions[0]!;
    const response: VoteResponse = {
      errorCode: 0,
      topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0, errorCode: 0, leaderId: nodeId, leaderEpoch: partition.candidateEpoch, voteGranted: true }] }],
    };
    return response;
  };
}

interface Outcome {
  ok: boolean;
  atMs?: number;
  value?: VoteResponse;
  error?: TransportError;
}

/** Records how and when a send settled, so no rejection goes unhandled. */
function track(scheduler: SimScheduler, promise: Promise<VoteResponse>): Outcome {
  const outcome: Outcome = { ok: false };
  promise.then(
    (value) => Object.assign(outcome, { ok: true, value, atMs: scheduler.monotonicMs() }),
    (error: TransportError) => Object.assign(outcome, { error, atMs: scheduler.monotonicMs() }),
  );
  return outcome;
}

function setup(seed = 1, faults: Partial<NetworkFaults> = {}, nodeIds = [1, 2, 3]) {
  const scheduler = new SimScheduler();
  const network = new SimNetwork({ scheduler, random: new SeededRandom(seed), faults });
  for (const nodeId of nodeIds) network.serve(nodeId, voter(nodeId));
  const send = (from: number, to: number, epoch = 1, timeoutMs = TIMEOUT_MS): Outcome =>
    track(scheduler, network.transportFor(from).send(to, VoteApi, VOTE_VERSION, voteRequest(from, epoch), timeoutMs));
  return { scheduler, network, send };
}

/** Random sends among five nodes under loss, duplication, reordering, partitions and a crash. */
async function tracedWorkload(seed: number): Promise<string[]> {
  const nodes = [1, 2, 3, 4, 5];
  const { scheduler, network, send } = setup(seed, { minDelayMs: 1, maxDelayMs: 20, dropProbability: 0.1, duplicateProbability: 0.1 }, nodes);
  const trace: string[] = [];
  network.onEvent((event) => trace.push(`${event.atMs} ${event.kind} ${event.from}->${event.to} api ${event.apiKey} #${event.requestId}`));
  const workload = new SeededRandom(seed).fork('workload');
  const outcomes: Outcome[] = [];
  for (let round = 0; round < 200; round++) {
    const from = workload.pick(nodes);
    const to = workload.pick(nodes.filter((nodeId) => nodeId !== from));
    outcomes.push(send(from, to, round));
    if (round === 50) network.partition([[1, 2], [3]]);
    if (round === 100) network.bridge([1], [3], 2);
    if (round === 120) network.crash(5);
    if (round === 150) {
      network.heal();
      network.serve(5, voter(5));
    }
    await scheduler.runFor(workload.between(0, 10));
  }
  await scheduler.runFor(TIMEOUT_MS);
  assert.ok(outcomes.every((outcome) => outcome.atMs !== undefined), 'every send settles by its deadline');
  const stats = network.stats;
  trace.push(JSON.stringify(stats));
  assert.ok(stats.dropped > 0 && stats.duplicated > 0 && stats.timedOut > 0 && stats.delivered > 0);
  return trace;
}

describe('SimNetwork', () => {
  it('replays exactly the same deliveries for the same seed, and different ones for another', async () => {
    const first = await tracedWorkload(7);
    const again = await tracedWorkload(7);
    assert.deepEqual(again, first);
    assert.ok(first.some((line) => line.includes('deliver-response')));
    assert.notDeepEqual(await tracedWorkload(8), first);
  });

  it('carries requests and responses as bytes through the codecs, with the sender id', async () => {
    const { scheduler, network } = setup();
    const seen: InboundRequest[] = [];
    network.serve(9, voter(9, seen));
    const request = voteRequest(1, 4);
    const outcome = track(scheduler, network.transportFor(1).send(9, VoteApi, VOTE_VERSION, request, TIMEOUT_MS));
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(outcome.ok, true);
    assert.equal(outcome.value!.topics[0]!.partitions[0]!.leaderId, 9);
    assert.equal(outcome.value!.topics[0]!.partitions[0]!.leaderEpoch, 4);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.apiKey, VoteApi.apiKey);
    assert.equal(seen[0]!.apiVersion, VOTE_VERSION);
    assert.equal(seen[0]!.fromNodeId, 1);
    assert.notEqual(seen[0]!.body, request, 'the handler gets a decoded copy, not the sender’s object');
    const decoded = (seen[0]!.body as VoteRequest).topics[0]!.partitions[0]!;
    assert.deepEqual([decoded.candidateId, decoded.candidateEpoch, decoded.lastOffset], [1, 4, 0n]);
    assert.ok(outcome.atMs! >= 2 && outcome.atMs! <= 10, 'two one-way delays of 1 to 5 ms');
  });

  it('works with any API descriptor (ApiVersions)', async () => {
    const { scheduler, network } = setup();
    network.serve(7, async () => ({ errorCode: 0, apiKeys: [{ apiKey: 52, minVersion: 0, maxVersion: 1 }] }));
    let response: unknown;
    void network
      .transportFor(1)
      .send(7, ApiVersionsApi, 3, { clientSoftwareName: 'sim', clientSoftwareVersion: '1' }, TIMEOUT_MS)
      .then((value) => (response = value));
    await scheduler.runFor(TIMEOUT_MS);
    assert.deepEqual((response as { apiKeys: unknown }).apiKeys, [{ apiKey: 52, minVersion: 0, maxVersion: 1 }]);
  });

  it('reorders messages with random delays', async () => {
    const { scheduler, network, send } = setup(3, { minDelayMs: 1, maxDelayMs: 50 });
    const arrivals: number[] = [];
    network.onEvent((event) => event.kind === 'deliver-request' && arrivals.push(event.requestId));
    for (let index = 0; index < 20; index++) send(1, 2, index);
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(arrivals.length, 20);
    assert.notDeepEqual(arrivals, [...arrivals].sort((a, b) => a - b));
  });

  it('rejects a lost message with timeout exactly at the deadline on the sender’s clock', async () => {
    const { scheduler, network, send } = setup(1, { dropProbability: 1 });
    await scheduler.runFor(13);
    const outcome = send(1, 2, 1, 40);
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(outcome.error?.kind, 'timeout');
    assert.ok(outcome.error instanceof TransportError);
    assert.equal(outcome.error.nodeId, 2);
    assert.equal(outcome.atMs, 13 + 40);
    assert.equal(network.stats.dropped, 1);
    assert.equal(network.stats.timedOut, 1);
    network.setFaults({ dropProbability: 0 });
    const later = send(1, 2);
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(later.ok, true, 'setFaults applies mid-run');
  });

  it('loses responses too: the handler ran, the sender still times out', async () => {
    const { scheduler, network } = setup(2, { dropProbability: 0.5 });
    const seen: InboundRequest[] = [];
    network.serve(9, voter(9, seen));
    const outcomes = Array.from({ length: 40 }, (_, index) =>
      track(scheduler, network.transportFor(1).send(9, VoteApi, VOTE_VERSION, voteRequest(1, index), TIMEOUT_MS)),
    );
    await scheduler.runFor(TIMEOUT_MS);
    const timedOut = outcomes.filter((outcome) => outcome.error?.kind === 'timeout').length;
    const requestsLost = 40 - seen.length;
    assert.ok(timedOut > requestsLost && requestsLost > 0, `${timedOut} timed out, ${requestsLost} requests lost`);
  });

  it('partitions: groups cannot talk across, unlisted nodes form one more group, heal restores', async () => {
    const { scheduler, network, send } = setup(1, {}, [1, 2, 3, 4, 5]);
    network.partition([[1], [2, 3]]);
    const across = send(1, 2);
    const within = send(2, 3);
    const unlistedTogether = send(4, 5);
    const unlistedToListed = send(4, 3);
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(across.error?.kind, 'timeout');
    assert.equal(within.ok, true);
    assert.equal(unlistedTogether.ok, true);
    assert.equal(unlistedToListed.error?.kind, 'timeout');
    network.heal();
    const healed = send(1, 2);
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(healed.ok, true);
    assert.throws(() => network.partition([[1, 2], [2]]), /listed twice/);
  });

  it('drops a message in flight when a partition appears before it arrives', async () => {
    const { scheduler, network, send } = setup(1, { minDelayMs: 10, maxDelayMs: 10 });
    const outcome = send(1, 2);
    await scheduler.runFor(5);
    network.partition([[1], [2]]);
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(outcome.error?.kind, 'timeout');
    assert.equal(network.stats.delivered, 0);
  });

  it('drops a response in flight when a partition appears after the request arrived', async () => {
    const { scheduler, network, send } = setup(1, { minDelayMs: 10, maxDelayMs: 10 });
    const outcome = send(1, 2);
    await scheduler.runFor(15);
    assert.equal(network.stats.delivered, 1);
    network.isolate(1);
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(outcome.error?.kind, 'timeout');
    assert.equal(network.stats.dropped, 1);
  });

  it('bridges: the bridge node talks to both sides, the sides not to each other', async () => {
    const { scheduler, network, send } = setup();
    network.bridge([1], [3], 2);
    assert.equal(network.canTalk(1, 2), true);
    assert.equal(network.canTalk(3, 2), true);
    assert.equal(network.canTalk(1, 3), false);
    const outcomes = [send(1, 2), send(2, 1), send(2, 3), send(3, 2), send(1, 3), send(3, 1)];
    await scheduler.runFor(TIMEOUT_MS);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.ok),
      [true, true, true, true, false, false],
    );
  });

  it('isolates one node on top of a partition until heal', async () => {
    const { network } = setup();
    network.partition([[1, 2, 3]]);
    network.isolate(2);
    assert.equal(network.canTalk(1, 2), false);
    assert.equal(network.canTalk(2, 3), false);
    assert.equal(network.canTalk(1, 3), true);
    assert.equal(network.canTalk(2, 2), true);
    network.heal();
    assert.equal(network.canTalk(1, 2), true);
  });

  it('crash: the sender’s pending sends reject closed at once, its timers die, its old transport is closed', async () => {
    const { scheduler, network } = setup(1, { minDelayMs: 10, maxDelayMs: 10 });
    let handled = 0;
    network.serve(9, async () => {
      handled++;
      return new Promise(() => {});
    });
    const transport = network.transportFor(1);
    const pending = track(scheduler, transport.send(9, VoteApi, VOTE_VERSION, voteRequest(1, 1), TIMEOUT_MS));
    const inFlight = track(scheduler, transport.send(2, VoteApi, VOTE_VERSION, voteRequest(1, 1), TIMEOUT_MS));
    const clock = network.clockFor(1);
    let timerRan = false;
    clock.schedule(50, () => (timerRan = true));
    await scheduler.runFor(15);
    assert.equal(handled, 1);
    network.crash(1);
    await scheduler.drain();
    assert.equal(pending.error?.kind, 'closed');
    assert.equal(inFlight.error?.kind, 'closed');
    assert.equal(pending.atMs, 15);
    assert.equal(clock.halted, true);
    assert.equal(clock.pendingCount, 0, 'deadline and node timers cancelled');
    const afterCrash = track(scheduler, transport.send(2, VoteApi, VOTE_VERSION, voteRequest(1, 2), TIMEOUT_MS));
    await scheduler.runFor(TIMEOUT_MS * 2);
    assert.equal(timerRan, false);
    assert.equal(afterCrash.error?.kind, 'closed');
    assert.equal(network.stats.dropped, 1, 'the response to the crashed sender is dropped');
    assert.equal(network.incarnationOf(1), 1);
    network.serve(1, voter(1));
    const restarted = track(scheduler, network.transportFor(1).send(2, VoteApi, VOTE_VERSION, voteRequest(1, 3), TIMEOUT_MS));
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(restarted.ok, true, 'a restarted node sends through its new transport and clock');
  });

  it('crash: requests in flight to the crashed node and its late responses are dropped', async () => {
    const { scheduler, network, send } = setup(1, { minDelayMs: 10, maxDelayMs: 10 });
    let answer: (() => void) | undefined;
    network.serve(8, async (request) => {
      await new Promise<void>((resolve) => (answer = resolve));
      return voter(8)(request);
    });
    const beingHandled = send(1, 8);
    await scheduler.runFor(12);
    const inFlight = send(1, 8);
    network.crash(8);
    answer!();
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(beingHandled.error?.kind, 'timeout', 'the dead handler’s response never leaves');
    assert.equal(inFlight.error?.kind, 'timeout');
    assert.equal(network.stats.dropped, 2);
    const unreachable = send(1, 8);
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(unreachable.error?.kind, 'unreachable');
    assert.equal(unreachable.atMs, 12 + TIMEOUT_MS + 10, 'rejected after one simulated delay');
  });

  it('delivers a duplicated request twice and resolves the send once', async () => {
    const { scheduler, network } = setup(1, { duplicateProbability: 1 });
    const seen: InboundRequest[] = [];
    network.serve(9, voter(9, seen));
    let resolutions = 0;
    void network
      .transportFor(1)
      .send(9, VoteApi, VOTE_VERSION, voteRequest(1, 1), TIMEOUT_MS)
      .then(() => resolutions++);
    await scheduler.runFor(TIMEOUT_MS);
    assert.equal(seen.length, 2);
    assert.equal(resolutions, 1);
    assert.deepEqual(network.stats, { ...network.stats, duplicated: 1, discarded: 1, delivered: 3, sent: 1 });
  });

  it('discards a response that arrives after the send timed out', async () => {
    const { scheduler, network, send } = setup();
    network.serve(9, async (request) => {
      await new Promise<void>((resolve) => network.clockFor(9).schedule(TIMEOUT_MS, resolve));
      return voter(9)(request);
    });
    const outcome = send(1, 9);
    await scheduler.runFor(TIMEOUT_MS * 2);
    assert.equal(outcome.error?.kind, 'timeout');
    assert.equal(network.stats.discarded, 1);
  });

  it('bounds requests outstanding to one destination', async () => {
    const scheduler = new SimScheduler();
    const network = new SimNetwork({ scheduler, random: new SeededRandom(1), maxInFlightPerDestination: 2 });
    network.serve(2, voter(2));
    network.serve(3, voter(3));
    const transport = network.transportFor(1);
    const sendTo = (to: number) => track(scheduler, transport.send(to, VoteApi, VOTE_VERSION, voteRequest(1, 1), TIMEOUT_MS));
    const outcomes = [sendTo(2), sendTo(2), sendTo(2), sendTo(3)];
    await scheduler.drain();
    assert.equal(outcomes[2]!.error?.kind, 'overloaded');
    await scheduler.runFor(TIMEOUT_MS);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.ok),
      [true, true, false, true],
    );
    const afterwards = sendTo(2);
    await scheduler.drain();
    assert.equal(afterwards.error, undefined, 'settled sends free their slots');
    assert.equal(network.stats.overloaded, 1);
  });

  it('fails the run when a handler throws or a message cannot be encoded', async () => {
    const { scheduler, network, send } = setup();
    network.serve(9, async () => {
      throw new Error('handler bug');
    });
    send(1, 9);
    await assert.rejects(scheduler.runFor(TIMEOUT_MS), /handler bug/);

    const second = setup();
    const unsupported = second.network.transportFor(1).send(2, VoteApi, 99, voteRequest(1, 1), TIMEOUT_MS);
    await assert.rejects(unsupported, /not supported/);
    await assert.rejects(second.scheduler.runFor(TIMEOUT_MS), /not supported/);
  });
});
