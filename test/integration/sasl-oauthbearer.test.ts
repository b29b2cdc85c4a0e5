// SASL/OAUTHBEARER (KIP-255, KIP-768) on two SASL_PLAINTEXT listeners: JWT validates signed tokens
// against a JWKS file made here with jose (OAuthBearerValidatorCallbackHandler, expected issuer and
// audience), DEV takes unsigned ones (Kafka's default unsecured validator, with a required scope).
// kafkajs and @platformatic/kafka produce and read with a signed token, and are refused with an
// expired, forged or wrong-audience one; kcat (librdkafka's unsecured JWT) does the same on DEV.
// Over the protocol: the error challenge `{"status":"invalid_token"}`, acknowledged with %x01, then
// SASL_AUTHENTICATION_FAILED and the connection closed; the authorization id; raw tokens after a
// v0 handshake; the session ends when the token expires (without connections.max.reauth.ms) unless
// the client re-authenticates, as the same principal. Bad settings are refused at start, naming the
// key; a broker without OAUTHBEARER never loads jose.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import '../support/polyfills.js';
import { Producer, saslOAuthBearer, stringSerializers } from '@platformatic/kafka';
import { type CryptoKey, type JWTPayload, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { resolveBrokerConfig } from '../../src/broker/broker-config.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { MetadataApi, SaslAuthenticateApi, SaslHandshakeApi } from '../../src/protocol/messages/index.js';
import { checkPythonClient, kafkajsRoundTrip } from '../support/client-round-trips.js';
import { requireClient } from '../support/clients.js';
import { runProcess } from '../support/process.js';
import { RawClient } from '../support/raw-client.js';

const ISSUER = 'https://issuer.conveyor.test';
const VALIDATOR = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler';
const LOGIN_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);
const frame = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, index) => (bytes.length >>> (24 - 8 * index)) & 0xff)), bytes]);
/** An error's message and those of the errors it wraps (AggregateError-like `errors`, `cause`). */
const messages = (error: unknown): string[] => {
  if (!(error instanceof Error)) return [String(error)];
  const nested = error as Error & { errors?: unknown[]; cause?: unknown };
  return [error.message, ...(nested.errors ?? []).flatMap(messages), ...(nested.cause === undefined ? [] : messages(nested.cause))];
};
const initialResponse = (token: string, authzid = '') => Buffer.from(`n,${authzid === '' ? '' : `a=${authzid}`},\x01auth=Bearer ${token}\x01\x01`);

describe('SASL/OAUTHBEARER', { timeout: 180_000 }, () => {
  let dir: string;
  let jwksFile: string;
  let key: { privateKey: CryptoKey; kid: string };
  let forger: CryptoKey;
  let broker: RunningBroker;
  const portOf = (name: string) => broker.broker.endpoints.find((endpoint) => endpoint.name === name)!.port;
  const principals = () => broker.broker.connectionStats().map((connection) => connection.principal);

  /** A token signed with the JWKS's key (or `signer`), for sub, valid for ten minutes unless `claims` says otherwise. */
  const signed = (sub: string, claims: JWTPayload = {}, signer?: CryptoKey) =>
    new SignJWT({ sub, iss: ISSUER, aud: 'kafka', iat: nowSeconds() - 5, exp: nowSeconds() + 600, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
      .sign(signer ?? key.privateKey);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conveyor-oauthbearer-'));
    const pair = await generateKeyPair('RS256');
    key = { privateKey: pair.privateKey, kid: 'conveyor-test-1' };
    forger = (await generateKeyPair('RS256')).privateKey;
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: key.kid, alg: 'RS256', use: 'sig' }] }));
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'PLAINTEXT://127.0.0.1:0,JWT://127.0.0.1:0,DEV://127.0.0.1:0',
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,JWT:SASL_PLAINTEXT,DEV:SASL_PLAINTEXT',
        'group.initial.rebalance.delay.ms': '0',
        'sasl.enabled.mechanisms': 'OAUTHBEARER',
        'listener.name.jwt.oauthbearer.sasl.server.callback.handler.class': VALIDATOR,
        'listener.name.jwt.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required ;`,
        'listener.name.jwt.oauthbearer.sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(jwksFile).href,
        'sasl.oauthbearer.expected.audience': 'kafka',
        'sasl.oauthbearer.expected.issuer': ISSUER,
        'listener.name.dev.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required unsecuredValidatorRequiredScope="kafka" unsecuredValidatorAllowableClockSkewMs="1000";`,
      },
    });
    await broker.broker.services.sasl.ready();
  });
  after(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const roundTrip = (token: string, label: string): Promise<string[]> =>
    kafkajsRoundTrip(
      new Kafka({
        clientId: `oauthbearer-${label}`,
        brokers: [`127.0.0.1:${portOf('JWT')}`],
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
        sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) },
      }),
      `oauthbearer-${label}`,
      label,
    );

  it('kafkajs produces and reads in a group with a signed JWT; expired, forged and wrong-audience tokens are refused', async () => {
    assert.deepEqual(await roundTrip(await signed('alice'), 'alice'), ['alice-1', 'alice-2']);
    const refused = [
      ['expired', await signed('expired-user', { iat: nowSeconds() - 600, exp: nowSeconds() - 120 })],
      ['forged', await signed('forger', {}, forger)],
      ['wrong-audience', await signed('wrong-audience', { aud: 'billing' })],
    ] as const;
    for (const [label, token] of refused) {
      // kafkajs takes the error challenge for success and sends its next request, which closes the connection.
      await assert.rejects(roundTrip(token, label), /Closed connection/, label);
    }
    assert.ok(principals().every((principal) => !['User:expired-user', 'User:forger', 'User:wrong-audience'].includes(principal ?? '')));
  });

  it('@platformatic/kafka produces with a signed JWT, and is refused with an expired one', async (t) => {
    if (!(await requireClient(t, 'platformatic'))) return;
    const bootstrapBrokers = [`127.0.0.1:${portOf('JWT')}`];
    const producer = new Producer({ clientId: 'oauthbearer-platformatic', bootstrapBrokers, sasl: { mechanism: 'OAUTHBEARER', token: await signed('carol') }, serializers: stringSerializers, autocreateTopics: true });
    try {
      await producer.send({ messages: [{ topic: 'oauthbearer-platformatic', value: 'p1' }, { topic: 'oauthbearer-platformatic', value: 'p2' }] });
    } finally {
      await producer.close();
    }
    const admin = new Kafka({ brokers: [`127.0.0.1:${portOf('PLAINTEXT')}`], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets('oauthbearer-platformatic');
      assert.equal(offsets.reduce((sum, partition) => sum + Number(partition.high), 0), 2);
    } finally {
      await admin.disconnect();
    }
    const expiredToken = await signed('late-carol', { iat: nowSeconds() - 600, exp: nowSeconds() - 120 });
    const refused = async (validating: boolean, pattern: RegExp) => {
      const sasl = { mechanism: 'OAUTHBEARER' as const, token: expiredToken, ...(validating ? { authBytesValidator: saslOAuthBearer.jwtValidateAuthenticationBytes } : {}) };
      const expired = new Producer({ clientId: 'oauthbearer-platformatic-expired', bootstrapBrokers, sasl, serializers: stringSerializers, autocreateTopics: true, retries: 0 });
      try {
        await assert.rejects(expired.send({ messages: [{ topic: 'oauthbearer-platformatic', value: 'never' }] }), (error: Error) => {
          assert.match(messages(error).join(' | '), pattern);
          return true;
        });
      } finally {
        await expired.close();
      }
    };
    // By default the client takes the error challenge for success and its next request closes the
    // connection; with its own authBytesValidator it reads the challenge's invalid_token status.
    await refused(false, /Connection closed/);
    await refused(true, /Invalid SASL\/OAUTHBEARER token/);
    assert.ok(!principals().includes('User:late-carol'));
  });

  it('kcat (librdkafka) with an unsecured JWT on the unsecured validator: produces and reads with the required scope, is refused without', async (t) => {
    if (!(await requireClient(t, 'kcat'))) return;
    const bootstrap = `127.0.0.1:${portOf('DEV')}`;
    const kcat = (config: string, args: string[], input?: string) =>
      runProcess('kcat', ['-b', bootstrap, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=OAUTHBEARER', '-X', 'enable.sasl.oauthbearer.unsecure.jwt=true', '-X', `sasl.oauthbearer.config=${config}`, ...args], { timeoutMs: 30_000, ...(input === undefined ? {} : { input }) });
    const produced = await kcat('principal=alice scope=kafka', ['-P', '-t', 'oauthbearer-kcat'], 'k1\nk2\n');
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat('principal=alice scope=kafka,other', ['-C', '-t', 'oauthbearer-kcat', '-o', 'beginning', '-e', '-q']);
    assert.equal(consumed.code, 0, consumed.stderr);
    assert.deepEqual(consumed.stdout.trim().split('\n'), ['k1', 'k2']);
    const refused = await kcat('principal=alice', ['-L', '-m', '3']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /SASL authentication error: \{"status":"insufficient_scope", "scope":"\[kafka\]"\}/);
  });

  it('confluent-kafka-python (librdkafka) with an unsecured JWT: produces and reads in a group with the required scope, is refused without', async (t) => {
    if (!(await requireClient(t, 'confluent-kafka-python'))) return;
    const settings = (config: string) => ({
      'bootstrap.servers': `127.0.0.1:${portOf('DEV')}`,
      'security.protocol': 'SASL_PLAINTEXT',
      'sasl.mechanisms': 'OAUTHBEARER',
      'enable.sasl.oauthbearer.unsecure.jwt': true,
      'sasl.oauthbearer.config': config,
    });
    await checkPythonClient('confluent-kafka-python', 'oauthbearer-confluent', 'oauthbearer-confluent', settings('principal=alice scope=kafka'), settings('principal=alice'), /insufficient_scope/);
  });

  it('kafka-python with a signed JWT from its token provider: produces and reads in a group; an expired token is refused', async (t) => {
    if (!(await requireClient(t, 'kafka-python'))) return;
    const settings = (token: string) => ({ bootstrap_servers: `127.0.0.1:${portOf('JWT')}`, security_protocol: 'SASL_PLAINTEXT', sasl_mechanism: 'OAUTHBEARER', sasl_oauth_token: token });
    await checkPythonClient('kafka-python', 'oauthbearer-kafka-python', 'oauthbearer-kafka-python', settings(await signed('alice')), settings(await signed('alice', { exp: nowSeconds() - 60 })));
  });

  it('over SaslAuthenticate: an empty answer and the principal; the error challenge, %x01, then SASL_AUTHENTICATION_FAILED and close', async () => {
    const port = portOf('JWT');
    const good = await RawClient.connect('127.0.0.1', port);
    assert.deepEqual(await good.request(SaslHandshakeApi, 1, { mechanism: 'OAUTHBEARER' }), { errorCode: ErrorCode.NONE, mechanisms: ['OAUTHBEARER'] });
    const accepted = await good.request(SaslAuthenticateApi, 2, { authBytes: initialResponse(await signed('dave'), 'dave') });
    assert.deepEqual([accepted.errorCode, accepted.errorMessage, accepted.authBytes.length], [ErrorCode.NONE, null, 0]);
    // Without connections.max.reauth.ms the token's expiry (ten minutes) still bounds the session.
    assert.ok((accepted.sessionLifetimeMs ?? 0n) > 590_000n && (accepted.sessionLifetimeMs ?? 0n) <= 600_000n, String(accepted.sessionLifetimeMs));
    assert.ok(principals().includes('User:dave'));
    assert.equal((await good.request(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })).brokers.length, 1);
    await good.close();

    for (const [label, token] of [
      ['expired', await signed('erin', { iat: nowSeconds() - 600, exp: nowSeconds() - 120 })],
      ['wrong audience', await signed('erin', { aud: ['billing', 'payments'] })],
      ['wrong issuer', await signed('erin', { iss: 'https://evil.test' })],
      ['forged', await signed('erin', {}, forger)],
    ] as const) {
      const client = await RawClient.connect('127.0.0.1', port);
      await client.request(SaslHandshakeApi, 1, { mechanism: 'OAUTHBEARER' });
      const challenge = await client.request(SaslAuthenticateApi, 2, { authBytes: initialResponse(token) });
      assert.deepEqual([challenge.errorCode, challenge.authBytes.toString()], [ErrorCode.NONE, '{"status":"invalid_token"}'], label);
      const failed = await client.request(SaslAuthenticateApi, 2, { authBytes: Buffer.from([1]) });
      assert.deepEqual([failed.errorCode, failed.errorMessage], [ErrorCode.SASL_AUTHENTICATION_FAILED, '{"status":"invalid_token"}'], label);
      await client.waitForClose();
    }
    // A client that goes on as if authenticated after the challenge is closed.
    const pushy = await RawClient.connect('127.0.0.1', port);
    await pushy.request(SaslHandshakeApi, 1, { mechanism: 'OAUTHBEARER' });
    await pushy.request(SaslAuthenticateApi, 2, { authBytes: initialResponse(await signed('erin', { exp: nowSeconds() - 60 })) });
    pushy.send(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { expectResponse: false });
    await pushy.waitForClose();
    assert.ok(!principals().includes('User:erin'));

    // Malformed, and an authorization id that is not the token's principal: refused at once.
    const malformed = await RawClient.connect('127.0.0.1', port);
    await malformed.request(SaslHandshakeApi, 1, { mechanism: 'OAUTHBEARER' });
    const answer = await malformed.request(SaslAuthenticateApi, 2, { authBytes: Buffer.from(`n,,auth=Bearer ${await signed('frank')}`) });
    assert.deepEqual([answer.errorCode, answer.errorMessage], [ErrorCode.SASL_AUTHENTICATION_FAILED, 'Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER']);
    await malformed.waitForClose();
    const other = await RawClient.connect('127.0.0.1', port);
    await other.request(SaslHandshakeApi, 1, { mechanism: 'OAUTHBEARER' });
    const mismatch = await other.request(SaslAuthenticateApi, 2, { authBytes: initialResponse(await signed('frank'), 'admin') });
    assert.deepEqual([mismatch.errorCode, mismatch.errorMessage], [ErrorCode.SASL_AUTHENTICATION_FAILED, "Authentication failed: Client requested an authorization id (admin) that is different from the token's principal name (frank)"]);
    await other.waitForClose();
  });

  it('after a v0 handshake takes the token and the %x01 as raw frames', async () => {
    const port = portOf('JWT');
    const raw = await RawClient.connect('127.0.0.1', port);
    await raw.request(SaslHandshakeApi, 0, { mechanism: 'OAUTHBEARER' });
    raw.sendRaw(frame(initialResponse(await signed('grace'))));
    assert.equal((await raw.readRawFrame()).length, 0);
    assert.ok(principals().includes('User:grace'));
    await raw.close();
    const refused = await RawClient.connect('127.0.0.1', port);
    await refused.request(SaslHandshakeApi, 0, { mechanism: 'OAUTHBEARER' });
    refused.sendRaw(frame(initialResponse(await signed('grace', { aud: 'billing' }))));
    assert.equal((await refused.readRawFrame()).toString(), '{"status":"invalid_token"}');
    refused.sendRaw(frame(Buffer.from([1])));
    await refused.waitForClose();
  });

  it("ends the session when the token expires, unless the client re-authenticates with a new token as the same principal", async () => {
    const port = portOf('DEV');
    const unsigned = (sub: string, exp: number, scope = ['kafka']) => {
      const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${part({ alg: 'none' })}.${part({ sub, iat: nowSeconds(), exp, scope })}.`;
    };
    const login = async (client: RawClient, token: string) => {
      assert.equal((await client.request(SaslHandshakeApi, 1, { mechanism: 'OAUTHBEARER' })).errorCode, ErrorCode.NONE);
      return client.request(SaslAuthenticateApi, 2, { authBytes: initialResponse(token) });
    };
    const metadata = (client: RawClient) => client.request(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });

    // Within the allowed clock skew (1 s here) a token at its exp is still taken, for no time at all.
    const late = await RawClient.connect('127.0.0.1', port);
    const atExpiry = await login(late, unsigned('heidi', nowSeconds()));
    assert.deepEqual([atExpiry.errorCode, atExpiry.sessionLifetimeMs], [ErrorCode.NONE, 0n]);
    late.send(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { expectResponse: false });
    await late.waitForClose();

    const expiring = await RawClient.connect('127.0.0.1', port);
    const exp = nowSeconds() + 2;
    const first = await login(expiring, unsigned('heidi', exp));
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.ok((first.sessionLifetimeMs ?? 0n) > 0n && (first.sessionLifetimeMs ?? 0n) <= 2000n, String(first.sessionLifetimeMs));
    assert.equal((await metadata(expiring)).brokers.length, 1);
    await sleep(exp * 1000 - Date.now() + 300);
    expiring.send(MetadataApi, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }, { expectResponse: false });
    await expiring.waitForClose();

    const renewing = await RawClient.connect('127.0.0.1', port);
    const shortExp = nowSeconds() + 2;
    await login(renewing, unsigned('heidi', shortExp));
    const renewed = await login(renewing, unsigned('heidi', nowSeconds() + 60));
    assert.ok(renewed.errorCode === ErrorCode.NONE && (renewed.sessionLifetimeMs ?? 0n) > 50_000n, String(renewed.sessionLifetimeMs));
    await sleep(shortExp * 1000 - Date.now() + 300);
    assert.equal((await metadata(renewing)).brokers.length, 1);
    const stolen = await login(renewing, unsigned('ivan', nowSeconds() + 60));
    assert.deepEqual([stolen.errorCode, stolen.errorMessage], [ErrorCode.SASL_AUTHENTICATION_FAILED, 'Cannot change principals during re-authentication from User:heidi: User:ivan']);
    await renewing.waitForClose();
  });

  it('refuses bad OAUTHBEARER settings at start, naming the key', () => {
    const base = {
      listeners: 'OAUTH://127.0.0.1:0',
      'listener.security.protocol.map': 'OAUTH:SASL_PLAINTEXT',
      'sasl.enabled.mechanisms': 'OAUTHBEARER',
      'listener.name.oauth.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required;`,
    };
    const secured = { ...base, 'listener.name.oauth.oauthbearer.sasl.server.callback.handler.class': VALIDATOR };
    const refusals: [Record<string, string>, string, RegExp][] = [
      [secured, 'listener.name.oauth.oauthbearer.sasl.oauthbearer.jwks.endpoint.url', /needs the keys that sign them/],
      [{ ...base, 'listener.name.oauth.oauthbearer.sasl.server.callback.handler.class': 'com.example.MyValidator' }, 'listener.name.oauth.oauthbearer.sasl.server.callback.handler.class', /'com\.example\.MyValidator' is not a callback handler/],
      [{ ...secured, 'sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(join(dir, 'missing.json')).href }, 'sasl.oauthbearer.jwks.endpoint.url', /does not exist/],
      [{ ...secured, 'listener.name.oauth.sasl.oauthbearer.jwks.endpoint.url': pathToFileURL(dir).href }, 'listener.name.oauth.sasl.oauthbearer.jwks.endpoint.url', /is a directory/],
      [{ ...secured, 'sasl.oauthbearer.jwks.endpoint.url': 'ftp://keys.example/jwks.json' }, 'sasl.oauthbearer.jwks.endpoint.url', /only http, https and file/],
      [{ ...secured, 'sasl.oauthbearer.jwks.endpoint.url': 'https://idp.example/jwks', 'sasl.oauthbearer.jwks.endpoint.refresh.ms': '0' }, 'sasl.oauthbearer.jwks.endpoint.refresh.ms', /at least 1/],
      [{ ...secured, 'sasl.oauthbearer.jwks.endpoint.url': 'https://idp.example/jwks', 'sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms': '10' }, 'sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms', /less than/],
      [{ ...secured, 'sasl.oauthbearer.jwks.endpoint.url': 'https://idp.example/jwks', 'listener.name.oauth.oauthbearer.sasl.oauthbearer.sub.claim.name': ' ' }, 'listener.name.oauth.oauthbearer.sasl.oauthbearer.sub.claim.name', /must name a claim/],
      [{ ...base, 'listener.name.oauth.oauthbearer.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="secret";' }, 'listener.name.oauth.oauthbearer.sasl.jaas.config', /must be one org\.apache\.kafka\.common\.security\.oauthbearer\.OAuthBearerLoginModule/],
      [{ ...base, 'listener.name.oauth.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required unsecuredValidatorAllowableClockSkewMs="-5";` }, 'listener.name.oauth.oauthbearer.sasl.jaas.config', /AllowableClockSkewMs must be a whole number/],
      [{ ...base, 'listener.name.oauth.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required unsecuredValidatorRequiredScope="read \\"x\\"";` }, 'listener.name.oauth.oauthbearer.sasl.jaas.config', /invalid scope value/],
      [{ ...base, 'listener.name.oauth.oauthbearer.sasl.jaas.config': `${LOGIN_MODULE} required clientSecret="hunter2"` }, 'listener.name.oauth.oauthbearer.sasl.jaas.config', /cannot parse the JAAS configuration/],
      [{ listeners: base.listeners, 'listener.security.protocol.map': base['listener.security.protocol.map'], 'sasl.enabled.mechanisms': 'OAUTHBEARER' }, 'listener.name.oauth.oauthbearer.sasl.jaas.config', /needs its JAAS entry/],
      [{ ...base, 'sasl.server.callback.handler.class': VALIDATOR }, 'sasl.server.callback.handler.class', /per listener and mechanism/],
      [{ ...base, 'listener.name.oauth.plain.sasl.server.callback.handler.class': 'com.example.Plain' }, 'listener.name.oauth.plain.sasl.server.callback.handler.class', /runs no Java callback handler/],
      [{ ...base, 'sasl.mechanism.inter.broker.protocol': 'OAUTHBEARER', 'inter.broker.listener.name': 'OAUTH', 'controller.quorum.voters': '1@127.0.0.1:9093', 'controller.listener.names': 'CONTROLLER', listeners: 'OAUTH://127.0.0.1:0,CONTROLLER://127.0.0.1:9093', 'listener.security.protocol.map': 'OAUTH:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT' }, 'sasl.mechanism.inter.broker.protocol', /not OAUTHBEARER/],
    ];
    for (const [config, key, message] of refusals) {
      assert.throws(() => resolveBrokerConfig(config), (error: Error & { key?: string }) => {
        assert.equal(error.key, key, error.message);
        assert.match(error.message, message);
        assert.ok(!error.message.includes('hunter2'), 'the JAAS text is not quoted back');
        return true;
      });
    }
    // The deprecated Kafka 3 class name and a remote JWKS are taken; the listener gets the settings.
    const taken = resolveBrokerConfig({
      ...base,
      'listener.name.oauth.oauthbearer.sasl.server.callback.handler.class': 'org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler',
      'sasl.oauthbearer.jwks.endpoint.url': 'https://idp.example/jwks',
      'listener.name.oauth.sasl.oauthbearer.expected.audience': 'kafka,kafka-eu',
      'listener.name.oauth.oauthbearer.sasl.oauthbearer.clock.skew.seconds': '5',
    });
    assert.deepEqual(taken.listenerSasl.get('OAUTH')?.oauthBearer?.validator, {
      kind: 'jwt',
      jwksEndpointUrl: 'https://idp.example/jwks',
      jwksEndpointUrlKey: 'sasl.oauthbearer.jwks.endpoint.url',
      jwksEndpointRefreshMs: 3_600_000,
      jwksEndpointRetryBackoffMs: 100,
      jwksEndpointRetryBackoffMaxMs: 10_000,
      clockSkewSeconds: 5,
      expectedAudience: ['kafka', 'kafka-eu'],
      expectedIssuer: null,
      scopeClaimName: 'scope',
      subClaimName: 'sub',
    });
  });

  it('a broker without OAUTHBEARER does not load jose; one with the JWT validator does', async () => {
    // A fresh process (this one loaded jose to sign tokens) whose module resolutions are watched by
    // a loader hook: a PLAIN broker starts and stops, a marker is imported, then a JWT one starts.
    const child = join(dir, 'jose-watch.mjs');
    writeFileSync(child, `
      import { register } from 'node:module';
      import { MessageChannel } from 'node:worker_threads';
      const { port1, port2 } = new MessageChannel();
      const seen = [];
      port1.on('message', (url) => seen.push(url));
      register('data:text/javascript,' + encodeURIComponent(\`
        let port;
        export function initialize(data) { port = data.port; }
        export async function resolve(specifier, context, next) {
          const result = await next(specifier, context);
          if (result.url.includes('/node_modules/jose/') || result.url.includes('plain-broker-closed')) port.postMessage(result.url);
          return result;
        }\`), { data: { port: port2 }, transferList: [port2] });
      const { startBroker } = await import(${JSON.stringify(new URL('../../src/node/start-broker.ts', import.meta.url).href)});
      const plain = await startBroker({ storage: 'memory', config: { listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b";' } });
      await plain.close();
      await import('data:text/javascript,export const marker = "plain-broker-closed";');
      const jwt = await startBroker({ storage: 'memory', config: {
        listeners: 'SASL_PLAINTEXT://127.0.0.1:0', 'sasl.enabled.mechanisms': 'OAUTHBEARER',
        'sasl.jaas.config': '${LOGIN_MODULE} required;',
        'listener.name.sasl_plaintext.oauthbearer.sasl.server.callback.handler.class': '${VALIDATOR}',
        'sasl.oauthbearer.jwks.endpoint.url': ${JSON.stringify(pathToFileURL(jwksFile).href)},
      } });
      await jwt.broker.services.sasl.ready();
      await jwt.close();
      const deadline = Date.now() + 10_000;
      while (!seen.some((url) => url.includes('/node_modules/jose/')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      port1.close();
      const marker = seen.findIndex((url) => url.includes('plain-broker-closed'));
      console.log(JSON.stringify({ marker, before: seen.slice(0, Math.max(marker, 0)), after: seen.slice(marker + 1).filter((url) => url.includes('/node_modules/jose/')).length }));
    `);
    const watched = await runProcess(process.execPath, ['--import', 'tsx', child], { timeoutMs: 60_000 });
    assert.equal(watched.code, 0, watched.stderr);
    const { marker, before, after: joseModules } = JSON.parse(watched.stdout.trim().split('\n').at(-1)!) as { marker: number; before: string[]; after: number };
    assert.equal(marker, 0, 'the marker is the first module watched');
    assert.deepEqual(before, [], 'no jose module before the JWT validator');
    assert.ok(joseModules > 0, 'the JWT validator loads jose');
  });
});
