import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { saltedPassword, scramMechanismByName, serverKeys } from '../base/scram.js';
import type { ScramCredential } from '../metadata/metadata-image.js';
import { ScramClient } from '../../test/support/scram-client.js';
import { ScramServerExchange, decodeSaslName } from './scram-server.js';

const SHA256 = scramMechanismByName('SCRAM-SHA-256')!;
const SHA512 = scramMechanismByName('SCRAM-SHA-512')!;
const SECRET = Buffer.alloc(32, 7);

function credential(mechanism = SHA256, password = 'pencil', salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), iterations = 4096): ScramCredential {
  return { salt, iterations, ...serverKeys(mechanism, saltedPassword(mechanism, password, salt, iterations)) };
}

function server(users: Record<string, ScramCredential>, mechanism = SHA256, nonce?: () => string) {
  return new ScramServerExchange(mechanism, (name) => users[name], SECRET, nonce);
}

describe('SCRAM server exchange', () => {
  it("runs RFC 7677's SCRAM-SHA-256 example to the byte", () => {
    const exchange = server({ user: credential() }, SHA256, () => '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0');
    const first = exchange.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    assert.equal(first.kind, 'continue');
    assert.equal(first.kind === 'continue' && first.response.toString(), 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
    const final = exchange.step(Buffer.from('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='));
    assert.deepEqual(final.kind === 'done' && { username: final.username, response: final.response.toString() }, { username: 'user', response: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=' });
  });

  for (const mechanism of [SHA256, SHA512]) {
    it(`${mechanism.name}: the right password authenticates and the client can verify the server; a wrong one fails at the proof`, () => {
      const users = { alice: credential(mechanism, 'alice-secret', Buffer.from('some salt'), 8192) };
      const client = new ScramClient(mechanism, 'alice', 'alice-secret');
      const exchange = server(users, mechanism);
      const first = exchange.step(client.clientFirst());
      assert.equal(first.kind, 'continue');
      const final = exchange.step(client.clientFinal((first as { response: Buffer }).response));
      assert.equal(final.kind, 'done');
      assert.ok(client.verifiesServer((final as { response: Buffer }).response));

      const wrong = new ScramClient(mechanism, 'alice', 'alice-secret');
      const other = server(users, mechanism);
      const serverFirst = other.step(wrong.clientFirst()) as { response: Buffer };
      assert.deepEqual(other.step(wrong.clientFinal(serverFirst.response, 'guess')), { kind: 'failed', reason: 'invalid proof (wrong password)' });
    });
  }

  it('an unknown user gets a made-up salt, the same each time, and fails only at the proof', () => {
    const salts = [0, 1].map(() => {
      const client = new ScramClient(SHA256, 'mallory', 'x');
      const exchange = server({});
      const first = exchange.step(client.clientFirst()) as { kind: string; response: Buffer };
      assert.equal(first.kind, 'continue');
      assert.deepEqual(exchange.step(client.clientFinal(first.response)), { kind: 'failed', reason: 'unknown user' });
      return /s=([^,]+)/.exec(first.response.toString())![1];
    });
    assert.equal(salts[0], salts[1]);
    const otherUser = server({}).step(new ScramClient(SHA256, 'trudy', 'x').clientFirst()) as { response: Buffer };
    assert.notEqual(/s=([^,]+)/.exec(otherUser.response.toString())![1], salts[0]);
  });

  it('refuses a replayed client-final message: a new exchange has a new server nonce', () => {
    const users = { alice: credential(SHA256, 'alice-secret') };
    const client = new ScramClient(SHA256, 'alice', 'alice-secret');
    const exchange = server(users);
    const final = client.clientFinal((exchange.step(client.clientFirst()) as { response: Buffer }).response);
    assert.equal(exchange.step(final).kind, 'done');
    const replay = server(users);
    assert.equal(replay.step(client.clientFirst()).kind, 'continue');
    assert.deepEqual(replay.step(final), { kind: 'failed', reason: 'invalid nonce in the client-final message' });
    // librdkafka before 2.6.1 repeats its own nonce in front of the combined one: accepted, with a
    // proof over the text as sent; any other nonce is refused.
    const echoing = server(users);
    const serverFirst = (echoing.step(client.clientFirst()) as { response: Buffer }).response;
    assert.equal(echoing.step(client.clientFinal(serverFirst, undefined, (combined) => client.nonce + combined)).kind, 'done');
    const other = server(users);
    const otherFirst = (other.step(client.clientFirst()) as { response: Buffer }).response;
    assert.deepEqual(other.step(client.clientFinal(otherFirst, undefined, (combined) => `x${combined}`)), { kind: 'failed', reason: 'invalid nonce in the client-final message' });
    // Nothing more is accepted once an exchange has ended.
    assert.deepEqual(exchange.step(final), { kind: 'failed', reason: 'a message after the exchange ended' });
  });

  it('refuses malformed, truncated and unsupported messages with a reason', () => {
    const first = (text: string) => server({ alice: credential() }).step(Buffer.from(text));
    assert.equal(first('').kind, 'failed');
    assert.equal(first('n,,').kind, 'failed');
    assert.equal(first('n,,n=alice').kind, 'failed');
    assert.equal(first('n,,n=alice,r=').kind, 'failed');
    assert.equal(first('n,,r=abc,n=alice').kind, 'failed');
    assert.match((first('p=tls-unique,,n=alice,r=abc') as { reason: string }).reason, /channel binding/);
    assert.match((first('n,,n=alice,r=abc,m=x') as { reason: string }).reason, /reserved m/);
    assert.match((first('n,,n=alice,r=abc,tokenauth=true') as { reason: string }).reason, /delegation token/);
    assert.match((first('n,,n=al=ice,r=abc') as { reason: string }).reason, /user name/);
    assert.deepEqual(first('n,a=bob,n=alice,r=abc'), { kind: 'failed', reason: 'authorization id differs', message: 'Authentication failed: Client requested an authorization id that is different from username' });
    assert.equal(first('n,a=alice,n=alice,r=abc').kind, 'continue');
    assert.equal(first('y,,n=alice,r=abc').kind, 'continue');

    const client = new ScramClient(SHA256, 'alice', 'pencil');
    const final = (mangle: (text: string) => string) => {
      const exchange = server({ alice: credential() });
      const serverFirst = (exchange.step(client.clientFirst()) as { response: Buffer }).response;
      return exchange.step(Buffer.from(mangle(client.clientFinal(serverFirst).toString())));
    };
    assert.equal(final((text) => text).kind, 'done');
    assert.equal(final((text) => text.slice(0, text.indexOf(',p='))).kind, 'failed');
    assert.deepEqual(final((text) => text.slice(0, -8)), { kind: 'failed', reason: 'malformed proof' });
    assert.deepEqual(final((text) => text.replace('c=biws', 'c=eSws')), { kind: 'failed', reason: 'channel binding differs from the gs2 header' });
    assert.equal(final(() => 'garbage').kind, 'failed');
  });

  it('decodes saslnames', () => {
    assert.equal(decodeSaslName('a=2Cb=3Dc'), 'a,b=c');
    assert.equal(decodeSaslName('a=b'), undefined);
  });
});
