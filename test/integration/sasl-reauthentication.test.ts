// Re-authentication (KIP-368, connections.max.reauth.ms): SaslAuthenticate v1+ names the session's
// lifetime; a request after the session has ended closes the connection; re-authenticating on the
// same connection (SaslHandshake v1 with the same mechanism, then SaslAuthenticate) as the same
// principal starts a new session, as another principal or with another mechanism is refused; a
// v0 (raw token) client's connection ends at its first request after the lifetime; and
// @platformatic/kafka (re-authenticates in place) and kafkajs (reconnects) keep producing across
// several lifetimes.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import '../support/polyfills.js';
import { Producer, stringSerializers } from '@platformatic/kafka';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { MetadataApi, SaslAuthenticateApi, SaslHandshakeApi } from '../../src/protocol/messages/index.js';
import { RawClient } from '../support/raw-client.js';

const LIFETIME_MS = 1_500;
const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret" user_bob="bob-secret";';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('SASL re-authentication (KIP-368)', { timeout: 120_000 }, () => {
  let broker: RunningBroker;
  const port = () => broker.broker.endpoints.find((endpoint) => endpoint.name === 'SASL_PLAINTEXT')!.port;
  before(async () => {
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
        'sasl.jaas.config': JAAS,
        'connections.max.reauth.ms': String(LIFETIME_MS),
        'group.initial.rebalance.delay.ms': '0',
      },
    });
  });
  after(async () => {
    await broker?.close();
  });

  const login = async (client: RawClient, user: string, password: string) => {
    assert.equal((await client.request(SaslHandshakeApi, 1, { mechanism: 'PLAIN' })).errorCode, ErrorCode.NONE);
    return client.request(SaslAuthenticateApi, 2, { authBytes: Buffer.from(`\0${user}\0${password}`) });
  };
  const metadata = (client: RawClient) => client.request(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });

  it('names the lifetime, and closes the connection at the first request after it', async () => {
    const client = await RawClient.connect('127.0.0.1', port());
    const answer = await login(client, 'alice', 'alice-secret');
    assert.deepEqual([answer.errorCode, answer.sessionLifetimeMs], [ErrorCode.NONE, BigInt(LIFETIME_MS)]);
    assert.equal((await metadata(client)).brokers.length, 1);
    await sleep(LIFETIME_MS + 200);
    client.send(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { expectResponse: false });
    await client.waitForClose();
  });

  it('re-authenticating as the same principal starts a new session; another principal or mechanism is refused', async () => {
    const client = await RawClient.connect('127.0.0.1', port());
    await login(client, 'alice', 'alice-secret');
    await sleep(LIFETIME_MS - 700);
    const renewed = await login(client, 'alice', 'alice-secret');
    assert.deepEqual([renewed.errorCode, renewed.sessionLifetimeMs], [ErrorCode.NONE, BigInt(LIFETIME_MS)]);
    // Past the first session's end, within the second's.
    await sleep(900);
    assert.equal((await metadata(client)).brokers.length, 1);
    await client.close();

    const other = await RawClient.connect('127.0.0.1', port());
    await login(other, 'alice', 'alice-secret');
    const refused = await login(other, 'bob', 'bob-secret');
    assert.deepEqual([refused.errorCode, refused.errorMessage], [ErrorCode.SASL_AUTHENTICATION_FAILED, 'Cannot change principals during re-authentication from User:alice: User:bob']);
    await other.waitForClose();

    const switching = await RawClient.connect('127.0.0.1', port());
    await login(switching, 'alice', 'alice-secret');
    const handshake = await switching.request(SaslHandshakeApi, 1, { mechanism: 'SCRAM-SHA-256' });
    assert.deepEqual(handshake, { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: ['PLAIN'] });
    await switching.waitForClose();
  });

  it('@platformatic/kafka re-authenticates in place and kafkajs reconnects: both keep producing across several lifetimes', async () => {
    const bootstrap = `127.0.0.1:${port()}`;
    const platformatic = new Producer({ clientId: 'reauth-platformatic', bootstrapBrokers: [bootstrap], sasl: { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' }, serializers: stringSerializers, autocreateTopics: true });
    const kafkajs = new Kafka({ clientId: 'reauth-kafkajs', brokers: [bootstrap], sasl: { mechanism: 'plain', username: 'bob', password: 'bob-secret' }, logLevel: logLevel.NOTHING }).producer({ allowAutoTopicCreation: true });
    await kafkajs.connect();
    try {
      const deadline = Date.now() + 3 * LIFETIME_MS + 500;
      let sent = 0;
      while (Date.now() < deadline) {
        await platformatic.send({ messages: [{ topic: 'reauth-platformatic', value: `p${sent}` }] });
        await kafkajs.send({ topic: 'reauth-kafkajs', messages: [{ value: `k${sent}` }] });
        sent++;
        await sleep(100);
      }
      assert.ok(sent >= 15, `sent ${sent} rounds`);
    } finally {
      await platformatic.close();
      await kafkajs.disconnect();
    }
  });
});
