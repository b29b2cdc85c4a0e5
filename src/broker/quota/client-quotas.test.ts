import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MetadataImage } from '../../metadata/metadata-image.js';
import { ApiKey } from '../../protocol/messages/index.js';
import { ManualClock } from '../../testing/log-support.js';
import type { ConnectionInfo } from '../network/index.js';
import { ClientQuotas, clientQuotaSources } from './client-quotas.js';
import type { QuotaSource, ResolvedQuota } from './quota-sensors.js';

const WINDOW = { samples: 11, sampleMs: 1000 };

/** One key's quotas by client id (entity `client-id=<id>`). */
function clientQuotas(quotas: Record<string, number>): QuotaSource {
  return {
    version: () => 0,
    resolve: (_user, clientId): ResolvedQuota | undefined => (clientId in quotas ? { bound: quotas[clientId]!, entity: `client-id=${clientId}` } : undefined),
    anySet: () => Object.keys(quotas).length > 0,
  };
}

function connection(overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return { id: 1, remoteAddress: '127.0.0.1', remotePort: 5000, listenerName: 'PLAINTEXT', principal: 'User:ANONYMOUS', authenticated: true, ...overrides };
}

function quotasOf(keys: { produce?: Record<string, number>; fetch?: Record<string, number>; request?: Record<string, number>; controllerMutation?: Record<string, number> }) {
  return new ClientQuotas(
    { produce: clientQuotas(keys.produce ?? {}), fetch: clientQuotas(keys.fetch ?? {}), request: clientQuotas(keys.request ?? {}), controllerMutation: clientQuotas(keys.controllerMutation ?? {}) },
    new ManualClock(),
    WINDOW,
  );
}

/** A request_percentage of 1% allows 0.1 percent-seconds (10 ms of handling) in the first 10 s window. */
const ONE_PERCENT = { request: { busy: 1 } };

describe('ClientQuotas', () => {
  it('throttles a client whose requests take more than its request_percentage, at most one sample', () => {
    const quotas = quotasOf(ONE_PERCENT);
    const throttle = quotas.throttleFor(ApiKey.Metadata, 100, connection(), 'busy')!;
    assert.equal(throttle.throttleMs({}, { throttleTimeMs: 0 }, 5), 0, '5 ms: within 1% of the window');
    assert.equal(throttle.throttleMs({}, { throttleTimeMs: 0 }, 500), 1000, '505 ms: far above, bounded by one sample');
    assert.equal(quotas.throttleFor(ApiKey.Metadata, 100, connection(), 'idle'), undefined, 'another client id has no quota');
    assert.equal(quotas.timesRequests(), true);
    assert.equal(quotasOf({}).timesRequests(), false, 'nothing is timed without a request_percentage set');
  });

  it('counts encoding time for the next answer, not the one it is measured on', () => {
    const quotas = quotasOf(ONE_PERCENT);
    const throttle = quotas.throttleFor(ApiKey.Metadata, 100, connection(), 'busy')!;
    assert.equal(throttle.throttleMs({}, {}, 1), 0);
    throttle.recordLate(500);
    assert.ok(quotas.throttleFor(ApiKey.Metadata, 100, connection(), 'busy')!.throttleMs({}, {}, 0.01) > 0);
  });

  it('exempts what Kafka exempts: SASL requests, WriteTxnMarkers, requests before authentication, a follower fetch, acks=0', () => {
    const quotas = quotasOf(ONE_PERCENT);
    assert.equal(quotas.throttleFor(ApiKey.SaslHandshake, 10, connection(), 'busy'), undefined);
    assert.equal(quotas.throttleFor(ApiKey.SaslAuthenticate, 10, connection(), 'busy'), undefined);
    assert.equal(quotas.throttleFor(ApiKey.WriteTxnMarkers, 10, connection(), 'busy'), undefined);
    assert.equal(quotas.throttleFor(ApiKey.ApiVersions, 10, connection({ authenticated: false }), 'busy'), undefined);
    const follower = quotas.throttleFor(ApiKey.Fetch, 10, connection(), 'busy')!;
    assert.equal(follower.throttleMs({ replicaId: 2 }, { throttleTimeMs: 0, responses: [] }, 10_000), 0);
    const acksZero = quotas.throttleFor(ApiKey.Produce, 10, connection(), 'busy')!;
    assert.equal(acksZero.throttleMs({}, undefined, 10_000), 0);
    assert.equal(quotas.throttleFor(ApiKey.ApiVersions, 10, connection(), 'busy')!.throttleMs({}, {}, 10_000), 1000, 'ApiVersions counts once authenticated');
  });

  it('answers a consumer fetch throttled by request_percentage empty, its bytes taken back from consumer_byte_rate', () => {
    const quotas = quotasOf({ request: { busy: 1 }, fetch: { busy: 1000 } });
    const response = { throttleTimeMs: 0, responses: [{ topic: 't', partitions: [{ records: Buffer.alloc(5000) }] }] };
    assert.equal(quotas.throttleFor(ApiKey.Fetch, 10, connection(), 'busy')!.throttleMs({ replicaId: -1 }, response, 10_000), 1000);
    assert.deepEqual(response.responses, []);
    // 9,000 bytes are within 1,000 B/s over the 10 s window; with the 5,000 of the empty answer they would not be.
    assert.equal(quotas.fetch.recordAndGetThrottleTimeMs('ANONYMOUS', 'busy', 9000), 0);
  });

  it('takes the largest throttle time: the byte rate, the request time, or the one the handler put in the answer', () => {
    const quotas = quotasOf({ produce: { busy: 1000 }, request: { busy: 100 }, controllerMutation: { busy: 1 } });
    // 20,000 bytes over a 10 s window at 1,000 B/s: twice the quota, 10 s of throttle.
    assert.equal(quotas.throttleFor(ApiKey.Produce, 20_000, connection(), 'busy')!.throttleMs({}, { throttleTimeMs: 0 }, 1), 10_000);
    const createTopics = quotas.throttleFor(ApiKey.CreateTopics, 10, connection(), 'busy')!;
    assert.equal(createTopics.throttleMs({}, { throttleTimeMs: 4000 }, 1), 4000, 'the controller mutation quota, from the handler');
    assert.equal(quotas.throttleFor(ApiKey.CreateTopics, 10, connection(), 'other'), undefined);
  });

  it('hands out a controller mutation quota only to a client under one, strict or permissive', () => {
    const quotas = quotasOf({ controllerMutation: { admin: 1 } });
    assert.equal(quotas.controllerMutationQuota(connection(), 'other', true), undefined);
    const strict = quotas.controllerMutationQuota(connection(), 'admin', true)!;
    assert.equal(strict.record(20), true);
    assert.equal(strict.record(1), false);
    const permissive = quotas.controllerMutationQuota(connection(), 'admin', false)!;
    assert.equal(permissive.record(1), true);
    assert.ok(permissive.throttleTimeMs() > 0);
  });

  it('looks nothing up while no quota is set anywhere', () => {
    const quotas = new ClientQuotas({ produce: clientQuotas({ busy: 1 }), fetch: clientQuotas({}), request: clientQuotas({ busy: 1 }), controllerMutation: clientQuotas({ busy: 1 }) }, new ManualClock(), WINDOW, () => false);
    assert.equal(quotas.throttleFor(ApiKey.Produce, 10, connection(), 'busy'), undefined);
    assert.equal(quotas.timesRequests(), false);
    assert.equal(quotas.controllerMutationQuota(connection(), 'busy', true), undefined);
  });
});

describe('quotaSource', () => {
  it('knows whether any entity has its key; ClientQuotas reads request_percentage from the image', () => {
    const image = new MetadataImage();
    const sources = clientQuotaSources(image);
    const { produce, request } = sources;
    assert.equal(request.anySet!(), false);
    image.apply({ type: 'ClientQuota', entity: [{ entityType: 'user', entityName: 'alice' }], key: 'request_percentage', value: 25, remove: false });
    assert.equal(request.anySet!(), true);
    assert.equal(produce.anySet!(), false);
    assert.deepEqual(request.resolve('alice', 'any'), { bound: 25, entity: 'alice\u0000', tags: { user: 'alice', clientId: '' } });
    const quotas = new ClientQuotas(sources, new ManualClock(), WINDOW, () => image.clientQuotas.size > 0);
    assert.equal(quotas.timesRequests(), true);
    assert.ok(quotas.throttleFor(ApiKey.Metadata, 10, connection({ principal: 'User:alice' }), 'any'));
    assert.equal(quotas.throttleFor(ApiKey.Metadata, 10, connection({ principal: 'User:bob' }), 'any'), undefined);
  });
});
