// Duplicate broker registrations, as Kafka's ClusterControlManager refuses them: a BrokerRegistration
// from a new incarnation (another incarnation id) of a broker id whose registration is unfenced and
// whose session is alive (a heartbeat within broker.session.timeout.ms) is answered
// DUPLICATE_BROKER_REGISTRATION; the same incarnation registering again, a new one after the old
// session expired, and a new one after a controlled shutdown fenced the old are accepted. A real
// broker crashed (the in-process kill -9) and restarted at once, while the controller still holds
// its old session, retries its registration until that session expires and comes back, as Kafka's
// broker does. Real nodes over real TCP; registrations and heartbeats of made-up broker ids are sent
// by hand to the active controller's controller listener.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { KafkaConnection } from '../../src/client/kafka-connection.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { connectTcp } from '../../src/node/tcp-byte-stream.js';
import { ApiVersionsApi, BrokerHeartbeatApi, BrokerRegistrationApi } from '../../src/protocol/messages/index.js';
import { waitFor } from './helpers.js';

const HEARTBEAT_INTERVAL_MS = 200;
const SESSION_TIMEOUT_MS = 4000;

/** Base64 uuids, as a broker picks one per start. */
const INCARNATION_A = 'AAAAAAAAAAAAAAAAAAAAAQ';
const INCARNATION_B = 'AAAAAAAAAAAAAAAAAAAAAg';
const INCARNATION_C = 'AAAAAAAAAAAAAAAAAAAAAw';
const INCARNATION_D = 'AAAAAAAAAAAAAAAAAAAABA';
const PROBE_INCARNATION = 'AAAAAAAAAAAAAAAAAAAABQ';

describe('BrokerRegistration of a broker id whose previous incarnation may still be alive', () => {
  let cluster: RunningCluster;
  let controllerId: number;
  /** The active controller's controller listener. */
  let controller: KafkaConnection;

  before(async () => {
    cluster = await startCluster({ brokers: 3, config: { 'broker.heartbeat.interval.ms': HEARTBEAT_INTERVAL_MS, 'broker.session.timeout.ms': SESSION_TIMEOUT_MS } });
    controllerId = cluster.activeController();
    controller = await KafkaConnection.open(connectTcp, cluster.node(controllerId).controllerAddress!, 'registration-test');
  });
  after(async () => {
    controller?.close();
    await cluster?.close();
  });

  const image = () => cluster.node(controllerId).broker!.services.image;
  const appliedOffset = () => BigInt(cluster.node(controllerId).broker!.services.quorum.appliedOffset - 1);
  const register = (brokerId: number, incarnationId: string) =>
    controller.send(BrokerRegistrationApi, 4, {
      brokerId,
      clusterId: cluster.clusterId,
      incarnationId,
      listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 1, securityProtocol: 0 }],
      features: [],
      rack: null,
      isMigratingZkBroker: false,
      logDirs: [],
      previousBrokerEpoch: -1n,
    });
  const heartbeat = (brokerId: number, brokerEpoch: bigint, wantShutDown = false) =>
    controller.send(BrokerHeartbeatApi, 1, { brokerId, brokerEpoch, currentMetadataOffset: appliedOffset(), wantFence: false, wantShutDown });

  /** A made-up broker that heartbeats every HEARTBEAT_INTERVAL_MS, as a live broker does, until stopped. */
  function liveBroker(brokerId: number, firstEpoch: bigint) {
    let epoch = firstEpoch;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const beat = () => {
      heartbeat(brokerId, epoch)
        .catch(() => undefined)
        .finally(() => {
          if (!stopped) timer = setTimeout(beat, HEARTBEAT_INTERVAL_MS);
        });
    };
    beat();
    return {
      setEpoch(next: bigint) {
        epoch = next;
      },
      stop() {
        stopped = true;
        clearTimeout(timer);
      },
    };
  }

  it('the controller listener answers ApiVersions with the kraft.version feature, as the broker listener does', async () => {
    const response = await controller.send(ApiVersionsApi, 3, { clientSoftwareName: 'registration-test', clientSoftwareVersion: '1' });
    assert.deepEqual(response.supportedFeatures, [{ name: 'kraft.version', minVersion: 0, maxVersion: 1 }]);
    // Static controller.quorum.voters: no voter set in the log, so kraft.version 0.
    assert.deepEqual(response.finalizedFeatures, [{ name: 'kraft.version', minVersionLevel: 0, maxVersionLevel: 0 }]);
    assert.ok(response.finalizedFeaturesEpoch! >= 0n);
  });

  it('refuses a new incarnation while the old one heartbeats, accepts the same incarnation again, and the new one once the old session expired', async () => {
    const brokerId = 97;
    const first = await register(brokerId, INCARNATION_A);
    assert.equal(first.errorCode, ErrorCode.NONE);
    const live = liveBroker(brokerId, first.brokerEpoch);
    try {
      await waitFor(() => image().brokers.get(brokerId)?.fenced === false || undefined, 'broker 97 unfenced by its heartbeats');
      // Refused again and again over more than a session timeout: the heartbeats keep the session alive.
      const refusedUntil = Date.now() + SESSION_TIMEOUT_MS + 1000;
      let refusals = 0;
      while (Date.now() < refusedUntil) {
        const second = await register(brokerId, INCARNATION_B);
        assert.deepEqual([second.errorCode, second.brokerEpoch], [ErrorCode.DUPLICATE_BROKER_REGISTRATION, -1n], `attempt ${refusals + 1}`);
        refusals++;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      assert.ok(refusals >= 2);
      assert.equal(image().brokers.get(brokerId)?.incarnationId, INCARNATION_A, 'the registration is still the first incarnation\'s');

      // The same incarnation registering again (a retried registration) is accepted, with a new epoch.
      const again = await register(brokerId, INCARNATION_A);
      assert.equal(again.errorCode, ErrorCode.NONE);
      assert.ok(again.brokerEpoch > first.brokerEpoch);
      live.setEpoch(again.brokerEpoch);
      await waitFor(() => (image().brokers.get(brokerId)?.brokerEpoch === Number(again.brokerEpoch) && image().brokers.get(brokerId)?.fenced === false) || undefined, 'the re-registration unfenced');
      assert.equal((await register(brokerId, INCARNATION_B)).errorCode, ErrorCode.DUPLICATE_BROKER_REGISTRATION);
    } finally {
      live.stop();
    }
    // The old incarnation is silent from now on: refused while its session lasts, then accepted.
    assert.equal((await register(brokerId, INCARNATION_B)).errorCode, ErrorCode.DUPLICATE_BROKER_REGISTRATION, 'refused right after the last heartbeat');
    const accepted = await waitFor(async () => {
      const answer = await register(brokerId, INCARNATION_B);
      if (answer.errorCode === ErrorCode.DUPLICATE_BROKER_REGISTRATION) return undefined;
      assert.equal(answer.errorCode, ErrorCode.NONE);
      return answer;
    }, 'the new incarnation accepted once the old session expired', SESSION_TIMEOUT_MS + 10_000);
    assert.ok(accepted.brokerEpoch > first.brokerEpoch);
    assert.equal(image().brokers.get(brokerId)?.incarnationId, INCARNATION_B);
    assert.equal(image().brokers.get(brokerId)?.brokerEpoch, Number(accepted.brokerEpoch));
    // Gone cleanly, so it leaves nothing clients could see.
    assert.equal((await heartbeat(brokerId, accepted.brokerEpoch, true)).shouldShutDown, true);
  });

  it('accepts a new incarnation at once after a controlled shutdown fenced the old one', async () => {
    const brokerId = 96;
    const first = await register(brokerId, INCARNATION_C);
    assert.equal(first.errorCode, ErrorCode.NONE);
    const unfenced = await heartbeat(brokerId, first.brokerEpoch);
    assert.deepEqual([unfenced.errorCode, unfenced.isFenced], [ErrorCode.NONE, false]);
    assert.equal((await register(brokerId, INCARNATION_D)).errorCode, ErrorCode.DUPLICATE_BROKER_REGISTRATION, 'refused while unfenced and alive');
    const down = await heartbeat(brokerId, first.brokerEpoch, true);
    assert.deepEqual([down.errorCode, down.isFenced, down.shouldShutDown], [ErrorCode.NONE, true, true]);
    const next = await register(brokerId, INCARNATION_D);
    assert.equal(next.errorCode, ErrorCode.NONE);
    assert.equal(image().brokers.get(brokerId)?.incarnationId, INCARNATION_D);
    assert.equal((await heartbeat(brokerId, next.brokerEpoch, true)).shouldShutDown, true);
  });

  it('heartbeats of an older incarnation do not keep the current one\'s session alive', async () => {
    const brokerId = 95;
    const old = await register(brokerId, INCARNATION_C);
    assert.equal((await heartbeat(brokerId, old.brokerEpoch)).isFenced, false);
    assert.equal((await heartbeat(brokerId, old.brokerEpoch, true)).shouldShutDown, true);
    const current = await register(brokerId, INCARNATION_D);
    assert.equal(current.errorCode, ErrorCode.NONE);
    assert.equal((await heartbeat(brokerId, current.brokerEpoch)).isFenced, false);
    // The current incarnation falls silent; the old one keeps heartbeating with its stale epoch.
    const zombie = liveBroker(brokerId, old.brokerEpoch);
    try {
      assert.equal((await heartbeat(brokerId, old.brokerEpoch)).errorCode, ErrorCode.STALE_BROKER_EPOCH);
      await waitFor(() => image().brokers.get(brokerId)?.fenced === true || undefined, 'the silent current incarnation fenced when its session expires', SESSION_TIMEOUT_MS + 10_000);
    } finally {
      zombie.stop();
    }
    assert.equal(image().brokers.get(brokerId)?.brokerEpoch, Number(current.brokerEpoch));
  });

  it('a broker crashed and restarted at once retries its registration until the old session expires, and comes back', async () => {
    const victim = cluster.nodeIds.find((id) => id !== controllerId)!;
    const before = image().brokers.get(victim)!;
    assert.equal(before.fenced, false);
    await cluster.crash(victim);
    // The crashed process's session is still alive on the controller: a new incarnation is refused.
    assert.equal((await register(victim, PROBE_INCARNATION)).errorCode, ErrorCode.DUPLICATE_BROKER_REGISTRATION);
    await cluster.restart(victim);
    const after = cluster.node(victim).broker!.services.image.brokers.get(victim)!;
    assert.equal(after.fenced, false, 'the restarted broker serves unfenced');
    assert.notEqual(after.incarnationId, before.incarnationId);
    assert.notEqual(after.incarnationId, PROBE_INCARNATION);
    assert.ok(after.brokerEpoch > before.brokerEpoch);
    await waitFor(() => image().brokers.get(victim)?.brokerEpoch === after.brokerEpoch || undefined, 'the controller to see the new registration');
  });
});
