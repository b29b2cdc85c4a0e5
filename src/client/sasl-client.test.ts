import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import { saltedPassword, scramMechanismByName, serverKeys } from '../base/scram.js';
import { ScramServerExchange } from '../broker/scram-server.js';
import type { ScramCredential } from '../metadata/metadata-image.js';
import { ApiKey } from '../protocol/messages/index.js';
import { ConnectionSecurityError, type SaslCredentials, type SaslSend, ScramClientExchange, authenticate } from './sasl-client.js';

const SHA256 = scramMechanismByName('SCRAM-SHA-256')!;
const SHA512 = scramMechanismByName('SCRAM-SHA-512')!;

function credential(mechanism = SHA256, password = 'carol-secret', iterations = 4096): ScramCredential {
  const salt = Buffer.from('a salt of sixteen');
  return { salt, iterations, ...serverKeys(mechanism, saltedPassword(mechanism, password, salt, iterations)) };
}

interface FakeBroker {
  mechanisms?: string[];
  /** SCRAM users by name (for the mechanism asked for), PLAIN users' passwords by name. */
  scram?: Record<string, ScramCredential>;
  plain?: Record<string, string>;
  handshakeError?: number;
  /** Replaces the server-final message (a server without the server key). */
  serverFinal?: string;
  authenticateMaxVersion?: number;
}

/** A broker's side of the exchange, on the broker's own SCRAM server; records what the client sent. */
function fakeBroker(options: FakeBroker) {
  const sent: { api: number; version: number; request: Record<string, unknown> }[] = [];
  let step: ((token: Buffer) => { errorCode: number; errorMessage: string | null; authBytes: Buffer }) | undefined;
  const send = (async (api, version, request) => {
    sent.push({ api: api.apiKey, version, request: request as Record<string, unknown> });
    if (api.apiKey === ApiKey.ApiVersions) {
      return { errorCode: 0, throttleTimeMs: 0, apiKeys: [{ apiKey: ApiKey.SaslHandshake, minVersion: 0, maxVersion: 1 }, { apiKey: ApiKey.SaslAuthenticate, minVersion: 0, maxVersion: options.authenticateMaxVersion ?? 2 }] };
    }
    if (api.apiKey === ApiKey.SaslHandshake) {
      const mechanisms = options.mechanisms ?? ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
      const mechanism = (request as { mechanism: string }).mechanism;
      if (options.handshakeError !== undefined) return { errorCode: options.handshakeError, mechanisms: [] };
      if (!mechanisms.includes(mechanism)) return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms };
      const scram = scramMechanismByName(mechanism);
      if (scram) {
        const exchange = new ScramServerExchange(scram, (name) => options.scram?.[name], Buffer.alloc(32, 1));
        step = (token) => {
          const result = exchange.step(token);
          if (result.kind === 'failed') return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}`, authBytes: Buffer.alloc(0) };
          const response = result.kind === 'done' && options.serverFinal !== undefined ? Buffer.from(options.serverFinal) : result.response;
          return { errorCode: 0, errorMessage: null, authBytes: response };
        };
      } else {
        step = (token) => {
          const [, user, password] = token.toString().split('\0');
          const ok = options.plain?.[user!] === password;
          return { errorCode: ok ? 0 : ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: ok ? null : 'Authentication failed: Invalid username or password', authBytes: Buffer.alloc(0) };
        };
      }
      return { errorCode: 0, mechanisms };
    }
    if (api.apiKey === ApiKey.SaslAuthenticate) {
      if (!step) throw new Error('SaslAuthenticate before the handshake');
      return step((request as { authBytes: Buffer }).authBytes);
    }
    throw new Error(`unexpected api ${api.apiKey}`);
  }) as SaslSend;
  return { send, sent };
}

const rejectsWith = (promise: Promise<unknown>, message: RegExp, secret?: string) =>
  assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof ConnectionSecurityError, `a ConnectionSecurityError, got ${String(error)}`);
    assert.match(error.message, message);
    if (secret) assert.ok(!error.message.includes(secret), 'the message does not show the password');
    return true;
  });

describe('SCRAM client exchange against the broker\'s SCRAM server', () => {
  for (const mechanism of [SHA256, SHA512]) {
    it(`${mechanism.name}: authenticates, escapes the user name, and checks the server's signature`, () => {
      const user = 'user,with=odd';
      const server = new ScramServerExchange(mechanism, (name) => (name === user ? credential(mechanism, 'odd-secret', 8192) : undefined), Buffer.alloc(32, 2));
      const client = new ScramClientExchange(mechanism, user, 'odd-secret');
      assert.match(client.clientFirst().toString(), /^n,,n=user=2Cwith=3Dodd,r=[A-Za-z0-9_-]{32}$/);
      const first = server.step(client.clientFirst());
      assert.equal(first.kind, 'continue');
      const final = server.step(client.clientFinal((first as { response: Buffer }).response));
      assert.equal(final.kind, 'done');
      assert.equal((final as { username: string }).username, user);
      client.verifyServerFinal((final as { response: Buffer }).response);
      // A signature made with another key is refused.
      const forged = `v=${Buffer.alloc(mechanism.keyLength, 9).toString('base64')}`;
      assert.throws(() => client.verifyServerFinal(Buffer.from(forged)), /invalid server signature/);
    });
  }

  it('a wrong password fails at the server; a server-first it must not answer is refused', () => {
    const server = new ScramServerExchange(SHA256, () => credential(), Buffer.alloc(32, 2));
    const client = new ScramClientExchange(SHA256, 'carol', 'guess');
    const first = server.step(client.clientFirst()) as { response: Buffer };
    assert.deepEqual(server.step(client.clientFinal(first.response)), { kind: 'failed', reason: 'invalid proof (wrong password)' });

    const fresh = () => new ScramClientExchange(SHA256, 'carol', 'carol-secret', 'clientnonce');
    assert.throws(() => fresh().clientFinal(Buffer.from('r=othernonceserver,s=c2FsdA==,i=4096')), /does not extend the client nonce/);
    assert.throws(() => fresh().clientFinal(Buffer.from('r=clientnonce,s=c2FsdA==,i=4096')), /does not extend the client nonce/);
    assert.throws(() => fresh().clientFinal(Buffer.from('r=clientnonceserver,s=c2FsdA==,i=1024')), /iterations 1024 is less than the minimum 4096/);
    assert.throws(() => fresh().clientFinal(Buffer.from('e=unknown-user')), /refused the SCRAM exchange: unknown-user/);
    assert.throws(() => fresh().clientFinal(Buffer.from('m=ext,r=clientnonceserver,s=c2FsdA==,i=4096')), /reserved m attribute/);
    assert.throws(() => fresh().clientFinal(Buffer.from('r=clientnonceserver,i=4096')), /malformed/);
    assert.throws(() => fresh().verifyServerFinal(Buffer.from('v=AAAA')), /invalid server signature/);
  });
});

describe('SASL authentication of a connection', () => {
  const scramCarol: SaslCredentials = { mechanism: 'SCRAM-SHA-256', username: 'carol', password: 'carol-secret' };

  it('PLAIN: ApiVersions, SaslHandshake v1, one SaslAuthenticate v2 with NUL user NUL password', async () => {
    const broker = fakeBroker({ plain: { alice: 'alice-secret' } });
    await authenticate(broker.send, { mechanism: 'PLAIN', username: 'alice', password: 'alice-secret' }, 'b:9092');
    assert.deepEqual(broker.sent.map(({ api, version }) => [api, version]), [[ApiKey.ApiVersions, 3], [ApiKey.SaslHandshake, 1], [ApiKey.SaslAuthenticate, 2]]);
    assert.deepEqual(broker.sent[1]!.request, { mechanism: 'PLAIN' });
    assert.equal((broker.sent[2]!.request.authBytes as Buffer).toString(), '\0alice\0alice-secret');
  });

  it('SCRAM: two SaslAuthenticate round trips, at the highest version the broker serves', async () => {
    const broker = fakeBroker({ scram: { carol: credential() }, authenticateMaxVersion: 1 });
    await authenticate(broker.send, scramCarol, 'b:9092');
    assert.deepEqual(broker.sent.map(({ api, version }) => [api, version]), [[ApiKey.ApiVersions, 3], [ApiKey.SaslHandshake, 1], [ApiKey.SaslAuthenticate, 1], [ApiKey.SaslAuthenticate, 1]]);
    assert.deepEqual(broker.sent[1]!.request, { mechanism: 'SCRAM-SHA-256' });
  });

  it('refusals say what went wrong and never show the password', async () => {
    await rejectsWith(authenticate(fakeBroker({ plain: { alice: 'alice-secret' } }).send, { mechanism: 'PLAIN', username: 'alice', password: 'wrong-secret' }, 'b:9092'), /SASL authentication as 'alice' with PLAIN at b:9092 failed: Authentication failed: Invalid username or password/, 'wrong-secret');
    await rejectsWith(authenticate(fakeBroker({ scram: { carol: credential() } }).send, { ...scramCarol, password: 'wrong-secret' }, 'b:9092'), /as 'carol' with SCRAM-SHA-256 at b:9092 failed: .*invalid credentials/, 'wrong-secret');
    await rejectsWith(authenticate(fakeBroker({ mechanisms: ['PLAIN'] }).send, scramCarol, 'b:9092'), /does not enable SASL mechanism SCRAM-SHA-256 \(sasl\.mechanism\); it enables PLAIN/);
    await rejectsWith(authenticate(fakeBroker({ handshakeError: ErrorCode.ILLEGAL_SASL_STATE }).send, scramCarol, 'b:9092'), /does not take SASL authentication .*security\.protocol/);
    // A broker that lets the client in without holding its server key is not believed.
    await rejectsWith(authenticate(fakeBroker({ scram: { carol: credential() }, serverFinal: `v=${Buffer.alloc(32).toString('base64')}` }).send, scramCarol, 'b:9092'), /invalid server signature/);
  });
});
