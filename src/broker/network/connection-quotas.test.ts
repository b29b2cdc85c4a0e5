import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../base/logger.js';
import { ManualClock } from '../../testing/log-support.js';
import { ConnectionQuotas, resolveIpOverrides } from './connection-quotas.js';
import { type ConnectionLimits, type ListenerConnectionLimits, unlimitedConnectionLimits } from './network-limits.js';

/** Two samples of one second: a rate is measured over one to two seconds, so tests stay short. */
const WINDOW = { samples: 2, sampleMs: 1000 };

/** A connection the quotas decide about, and what they decided. */
interface Probe {
  readonly name: string;
  state: 'offered' | 'accepted' | 'refused' | 'held';
  release?: () => void;
}

interface Harness {
  readonly quotas: ConnectionQuotas<Probe>;
  readonly clock: ManualClock;
  /** Calls to closeLeastRecentlyUsed: the listeners and the count. */
  readonly evictions: { listeners: string[]; count: number }[];
  offer(name: string, listener?: string, ip?: string): Probe;
}

function harness(limits: Partial<ConnectionLimits> = {}, options: { listeners?: string[]; interBrokerListener?: string; acceptQueueSize?: number } = {}): Harness {
  const clock = new ManualClock();
  const evictions: { listeners: string[]; count: number }[] = [];
  const quotas = new ConnectionQuotas<Probe>({
    listeners: options.listeners ?? ['PLAINTEXT'],
    ...(options.interBrokerListener ? { interBrokerListener: options.interBrokerListener } : {}),
    limits: { ...unlimitedConnectionLimits, ...limits },
    window: WINDOW,
    clock,
    logger: silentLogger,
    ...(options.acceptQueueSize ? { acceptQueueSize: options.acceptQueueSize } : {}),
    handlers: {
      accept: (probe, release) => {
        probe.state = 'accepted';
        probe.release = release;
      },
      refuse: (probe) => {
        probe.state = 'refused';
      },
      hold: (probe) => {
        probe.state = 'held';
      },
      closeLeastRecentlyUsed: (listeners, count) => evictions.push({ listeners: [...listeners].sort(), count }),
    },
  });
  return {
    quotas,
    clock,
    evictions,
    offer(name, listener = options.listeners?.[0] ?? 'PLAINTEXT', ip = '127.0.0.1') {
      const probe: Probe = { name, state: 'offered' };
      quotas.offer(probe, listener, ip);
      return probe;
    },
  };
}

const listenerLimits = (entries: Record<string, ListenerConnectionLimits>) => new Map(Object.entries(entries));

describe('ConnectionQuotas', () => {
  describe('max.connections.per.ip', () => {
    it('refuses a connection from an address at its limit at once, and takes one again once a connection closed', () => {
      const { offer, quotas } = harness({ maxConnectionsPerIp: 2 });
      const [first, second, third] = [offer('a'), offer('b'), offer('c')];
      assert.deepEqual([first.state, second.state, third.state], ['accepted', 'accepted', 'refused']);
      assert.equal(offer('other', 'PLAINTEXT', '10.0.0.2').state, 'accepted', 'another address has its own count');
      first.release!();
      first.release!(); // a second release changes nothing
      assert.equal(quotas.connectionsFrom('127.0.0.1'), 1);
      assert.equal(offer('d').state, 'accepted');
      assert.equal(offer('e').state, 'refused');
    });

    it('takes an override for an address, and counts an IPv4-mapped IPv6 address as its IPv4 address', () => {
      const { offer } = harness({ maxConnectionsPerIp: 1, maxConnectionsPerIpOverrides: new Map([['127.0.0.1', 3]]) });
      const states = ['::ffff:127.0.0.1', '127.0.0.1', '::ffff:7f00:1', '127.0.0.1'].map((ip, index) => offer(`c${index}`, 'PLAINTEXT', ip).state);
      assert.deepEqual(states, ['accepted', 'accepted', 'accepted', 'refused']);
      assert.deepEqual([offer('x', 'PLAINTEXT', '10.0.0.9').state, offer('y', 'PLAINTEXT', '10.0.0.9').state], ['accepted', 'refused']);
    });

    it('refuses every connection of an address whose override is 0', () => {
      const { offer } = harness({ maxConnectionsPerIp: 0, maxConnectionsPerIpOverrides: new Map([['10.0.0.1', 2]]) });
      assert.equal(offer('local').state, 'refused');
      assert.equal(offer('allowed', 'PLAINTEXT', '10.0.0.1').state, 'accepted');
    });
  });

  describe('max.connections', () => {
    it('makes new connections wait, in order, while the broker is at its limit, and takes them as slots free', () => {
      const { offer, quotas } = harness({ maxConnections: 2 });
      const [first, second, third, fourth] = [offer('a'), offer('b'), offer('c'), offer('d')];
      assert.deepEqual([first, second, third, fourth].map((probe) => probe.state), ['accepted', 'accepted', 'offered', 'offered']);
      assert.equal(quotas.pendingCount, 2);
      second.release!();
      assert.deepEqual([third.state, fourth.state], ['accepted', 'offered'], 'the first waiting connection goes first');
      first.release!();
      assert.equal(fourth.state, 'accepted');
      assert.equal(quotas.connectionCount, 2);
    });

    it('gives a listener its own limit, and the others go on', () => {
      const { offer } = harness({ listeners: listenerLimits({ CLIENT: { maxConnections: 1 } }) }, { listeners: ['CLIENT', 'OTHER'] });
      const first = offer('a', 'CLIENT');
      const waiting = offer('b', 'CLIENT');
      assert.deepEqual([first.state, waiting.state], ['accepted', 'offered']);
      assert.equal(offer('c', 'OTHER').state, 'accepted');
      first.release!();
      assert.equal(waiting.state, 'accepted');
    });

    it('lets the inter-broker listener past the broker-wide limit, closing the least recently used connections of the others', () => {
      const { offer, evictions } = harness({ maxConnections: 2 }, { listeners: ['CLIENT', 'INTERNAL'], interBrokerListener: 'INTERNAL' });
      const clients = [offer('a', 'CLIENT'), offer('b', 'CLIENT')];
      const waiting = offer('c', 'CLIENT');
      assert.deepEqual([...clients, waiting].map((probe) => probe.state), ['accepted', 'accepted', 'offered']);
      const replica = offer('replica', 'INTERNAL');
      assert.equal(replica.state, 'accepted');
      assert.deepEqual(evictions, [{ listeners: ['CLIENT'], count: 1 }]);
      // The evicted connection's close frees a slot, but the broker is still at its limit.
      clients[0]!.release!();
      assert.equal(waiting.state, 'offered');
      clients[1]!.release!();
      assert.equal(waiting.state, 'accepted');
    });

    it('protects the inter-broker listener only when there is another listener', () => {
      const { offer } = harness({ maxConnections: 1 }, { listeners: ['INTERNAL'], interBrokerListener: 'INTERNAL' });
      assert.deepEqual([offer('a').state, offer('b').state], ['accepted', 'offered']);
    });

    it('takes waiting connections when the limit is raised, and closes the excess when it is lowered', () => {
      const { offer, quotas, evictions } = harness({ maxConnections: 1 });
      const [first, waiting] = [offer('a'), offer('b')];
      assert.equal(waiting.state, 'offered');
      quotas.reconfigure({ ...unlimitedConnectionLimits, maxConnections: 3 });
      assert.equal(waiting.state, 'accepted');
      assert.equal(first.state, 'accepted');
      quotas.reconfigure({ ...unlimitedConnectionLimits, maxConnections: 1 });
      assert.deepEqual(evictions, [{ listeners: ['PLAINTEXT'], count: 1 }]);
    });

    it('closes connections beyond the accept queue, and forgets one that closed while waiting', () => {
      const { offer, quotas } = harness({ maxConnections: 1 }, { acceptQueueSize: 2 });
      const first = offer('a');
      const [second, third, fourth] = [offer('b'), offer('c'), offer('d')];
      assert.deepEqual([second.state, third.state, fourth.state], ['offered', 'offered', 'refused']);
      quotas.withdraw(second);
      first.release!();
      assert.equal(third.state, 'accepted');
      assert.equal(second.state, 'offered', 'a withdrawn connection is never accepted');
    });
  });

  describe('max.connection.creation.rate', () => {
    it('makes accepting wait until the rate is back under the limit', () => {
      const { offer, clock } = harness({ maxConnectionCreationRate: 2 });
      const [first, second, third, fourth] = [offer('a'), offer('b'), offer('c'), offer('d')];
      assert.deepEqual([first.state, second.state], ['accepted', 'accepted']);
      // Three connections over the (at least) one-second window: 3/s, (3 - 2) / 2 of the window to wait.
      assert.deepEqual([third.state, fourth.state], ['offered', 'offered']);
      clock.advance(499);
      assert.equal(third.state, 'offered');
      clock.advance(1);
      assert.equal(third.state, 'accepted');
      assert.equal(fourth.state, 'offered', 'the next one waits its own turn');
      clock.advance(1000);
      assert.equal(fourth.state, 'accepted');
    });

    it('waits at most one quota sample, however far over the rate', () => {
      const { offer, clock } = harness({ maxConnectionCreationRate: 0 });
      const first = offer('a');
      assert.equal(first.state, 'offered');
      clock.advance(999);
      assert.equal(first.state, 'offered');
      clock.advance(1);
      assert.equal(first.state, 'accepted');
    });

    it('holds the inter-broker listener to its own rate only, not the broker-wide one', () => {
      const limits = { maxConnectionCreationRate: 1, listeners: listenerLimits({ INTERNAL: { maxConnectionCreationRate: 100 } }) };
      const { offer } = harness(limits, { listeners: ['CLIENT', 'INTERNAL'], interBrokerListener: 'INTERNAL' });
      assert.deepEqual([offer('a', 'CLIENT').state, offer('b', 'CLIENT').state], ['accepted', 'offered']);
      const replicas = Array.from({ length: 5 }, (_, index) => offer(`r${index}`, 'INTERNAL'));
      assert.ok(replicas.every((probe) => probe.state === 'accepted'));
    });

    it('gives a listener without a rate of its own the broker-wide value (Kafka\'s prefix override)', () => {
      const { offer } = harness({ maxConnectionCreationRate: 1 }, { listeners: ['CLIENT', 'INTERNAL'], interBrokerListener: 'INTERNAL' });
      assert.deepEqual([offer('a', 'INTERNAL').state, offer('b', 'INTERNAL').state], ['accepted', 'offered']);
    });
  });

  describe('connection_creation_rate of an address (KIP-612)', () => {
    it('holds a connection over its address\'s rate, closes it after the throttle time, and counts it nowhere', () => {
      const { offer, quotas, clock } = harness({ maxConnectionCreationRate: 2 });
      quotas.useIpConnectionRates((ip) => (ip === '10.0.0.1' ? 1 : undefined));
      const first = offer('a', 'PLAINTEXT', '10.0.0.1');
      const second = offer('b', 'PLAINTEXT', '10.0.0.1');
      assert.deepEqual([first.state, second.state], ['accepted', 'held']);
      assert.equal(quotas.connectionsFrom('10.0.0.1'), 1);
      // Not counted in the broker's rate either: another address still gets its two.
      assert.deepEqual([offer('c', 'PLAINTEXT', '10.0.0.2').state, offer('d', 'PLAINTEXT', '10.0.0.2').state], ['accepted', 'offered']);
      clock.advance(999);
      assert.equal(second.state, 'held');
      clock.advance(1);
      assert.equal(second.state, 'refused');
      // Two seconds on, the address's measure holds only what fits.
      clock.advance(2000);
      assert.equal(offer('e', 'PLAINTEXT', '10.0.0.1').state, 'accepted');
    });

    it('forgets a held connection that its client closed, and hands the held ones back on close', () => {
      const { offer, quotas } = harness();
      quotas.useIpConnectionRates(() => 1);
      offer('a');
      const [held, other] = [offer('b'), offer('c')];
      assert.deepEqual([held.state, other.state], ['held', 'held']);
      quotas.withdraw(held);
      assert.equal(quotas.pendingCount, 1);
      assert.deepEqual(quotas.close(), [other]);
      assert.equal(offer('d').state, 'refused', 'nothing is admitted once closed');
    });

    it('measures nothing for an address at Kafka\'s default (Int.MaxValue) or without a quota', () => {
      const { offer, quotas } = harness();
      quotas.useIpConnectionRates((ip) => (ip === '10.0.0.1' ? 2_147_483_647 : undefined));
      const probes = Array.from({ length: 20 }, (_, index) => offer(`p${index}`, 'PLAINTEXT', index % 2 === 0 ? '10.0.0.1' : '10.0.0.2'));
      assert.ok(probes.every((probe) => probe.state === 'accepted'));
    });
  });
});

describe('resolveIpOverrides', () => {
  it('keeps IP literals, resolves host names to each of their addresses, and reports the ones that do not resolve', async () => {
    const names: Record<string, string[]> = { 'broker.example': ['10.1.1.1', '::ffff:10.1.1.2'] };
    const resolve = async (host: string) => {
      const addresses = names[host];
      if (!addresses) throw new Error(`ENOTFOUND ${host}`);
      return addresses;
    };
    const result = await resolveIpOverrides(new Map([['127.0.0.1', 5], ['[::1]', 6], ['broker.example', 7], ['nowhere.example', 8]]), resolve);
    assert.deepEqual([...result.overrides], [['127.0.0.1', 5], ['0:0:0:0:0:0:0:1', 6], ['10.1.1.1', 7], ['10.1.1.2', 7]]);
    assert.deepEqual(result.unresolved, ['nowhere.example']);
  });
});
