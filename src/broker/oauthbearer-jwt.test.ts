import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type CryptoKey, type JWK, type JWTPayload, SignJWT, UnsecuredJWT, exportJWK, generateKeyPair } from 'jose';
import type { Clock } from '../base/clock.js';
import { silentLogger } from '../base/logger.js';
import { systemClock } from '../node/system.js';
import { createJwtValidator } from './oauthbearer-jwt.js';
import type { JwtValidatorSettings, TokenValidation, TokenValidator } from './oauthbearer-types.js';

const NOW = 1_750_000_000;
const fixedClock = (seconds = NOW): Clock => ({ ...systemClock, nowMs: () => seconds * 1000 });

interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg = 'RS256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function sign(key: SigningKey, claims: JWTPayload, header: { kid?: string | null; alg?: string } = {}): Promise<string> {
  const kid = header.kid === undefined ? key.kid : header.kid;
  return new SignJWT(claims).setProtectedHeader({ alg: header.alg ?? key.alg, typ: 'JWT', ...(kid === null ? {} : { kid }) }).sign(key.privateKey);
}

const reasonOf = (validation: TokenValidation) => (validation.ok ? 'ok' : validation.reason);

describe('OAUTHBEARER JWT validation (jose)', () => {
  let dir: string;
  let rsa: SigningKey;
  let ec: SigningKey;
  let stranger: SigningKey;
  let jwksFile: string;
  const settings = (overrides: Partial<JwtValidatorSettings> = {}): JwtValidatorSettings => ({
    kind: 'jwt',
    jwksEndpointUrl: pathToFileURL(jwksFile).href,
    jwksEndpointUrlKey: 'sasl.oauthbearer.jwks.endpoint.url',
    jwksEndpointRefreshMs: 3_600_000,
    jwksEndpointRetryBackoffMs: 100,
    jwksEndpointRetryBackoffMaxMs: 10_000,
    clockSkewSeconds: 30,
    expectedAudience: ['kafka'],
    expectedIssuer: 'https://issuer.example',
    scopeClaimName: 'scope',
    subClaimName: 'sub',
    ...overrides,
  });
  const claims = (extra: JWTPayload = {}): JWTPayload => ({ sub: 'alice', iss: 'https://issuer.example', aud: 'kafka', iat: NOW - 60, exp: NOW + 600, ...extra });
  const validator = (overrides: Partial<JwtValidatorSettings> = {}, clock = fixedClock()) => createJwtValidator(settings(overrides), { clock, logger: silentLogger });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'conveyor-jwks-'));
    [rsa, ec, stranger] = await Promise.all([signingKey('rsa-1'), signingKey('ec-1', 'ES256'), signingKey('rsa-1')]);
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify({ keys: [rsa.jwk, ec.jwk] }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a token signed by a key of the JWKS: the principal is sub, the expiry exp', async () => {
    const jwt = await validator();
    assert.deepEqual(await jwt.validate(await sign(rsa, claims({ scope: 'read write' }))), { ok: true, principal: 'alice', expiresAtMs: (NOW + 600) * 1000, scope: ['read write'] });
    assert.equal(reasonOf(await jwt.validate(await sign(ec, claims({ scope: ['read', 'write'] })))), 'ok');
    // No key id: the key whose signature verifies.
    assert.equal(reasonOf(await jwt.validate(await sign(rsa, claims(), { kid: null }))), 'ok');
    const custom = await (await validator({ subClaimName: 'client_id' })).validate(await sign(rsa, claims({ client_id: ' svc-orders ' })));
    assert.equal(custom.ok && custom.principal, 'svc-orders');
  });

  it('refuses expired and not-yet-valid tokens beyond the clock skew', async () => {
    const jwt = await validator();
    assert.match(reasonOf(await jwt.validate(await sign(rsa, claims({ exp: NOW - 31 })))), /ERR_JWT_EXPIRED/);
    assert.equal(reasonOf(await jwt.validate(await sign(rsa, claims({ exp: NOW - 29 })))), 'ok');
    assert.match(reasonOf(await jwt.validate(await sign(rsa, claims({ nbf: NOW + 31 })))), /"nbf" claim timestamp check failed/);
    assert.equal(reasonOf(await jwt.validate(await sign(rsa, claims({ nbf: NOW + 29 })))), 'ok');
    const strict = await validator({ clockSkewSeconds: 0 });
    assert.match(reasonOf(await strict.validate(await sign(rsa, claims({ exp: NOW })))), /ERR_JWT_EXPIRED/);
  });

  it('requires exp, iat and a non-blank subject', async () => {
    const jwt = await validator();
    const without = (name: string) => Object.fromEntries(Object.entries(claims()).filter(([key]) => key !== name));
    assert.match(reasonOf(await jwt.validate(await sign(rsa, without('exp')))), /missing required "exp" claim/);
    assert.match(reasonOf(await jwt.validate(await sign(rsa, without('iat')))), /missing required "iat" claim/);
    assert.match(reasonOf(await jwt.validate(await sign(rsa, without('sub')))), /sub claim is not a non-blank string/);
    assert.match(reasonOf(await jwt.validate(await sign(rsa, claims({ sub: '   ' })))), /sub claim/);
    assert.match(reasonOf(await jwt.validate(await sign(rsa, claims({ sub: 7 } as unknown as JWTPayload)))), /sub claim/);
  });

  it('checks the issuer and the audience; without an expected audience a token naming one is refused', async () => {
    const jwt = await validator({ expectedAudience: ['kafka', 'kafka-eu'] });
    assert.match(reasonOf(await jwt.validate(await sign(rsa, claims({ iss: 'https://evil.example' })))), /unexpected "iss" claim value/);
    assert.match(reasonOf(await jwt.validate(await sign(rsa, claims({ aud: 'billing' })))), /unexpected "aud" claim value/);
    assert.equal(reasonOf(await jwt.validate(await sign(rsa, claims({ aud: ['billing', 'kafka-eu'] })))), 'ok');
    const anyIssuer = await validator({ expectedIssuer: null, expectedAudience: null });
    assert.equal(reasonOf(await anyIssuer.validate(await sign(rsa, claims({ iss: 'https://elsewhere.example', aud: undefined })))), 'ok');
    assert.match(reasonOf(await anyIssuer.validate(await sign(rsa, claims()))), /aud claim but sasl\.oauthbearer\.expected\.audience is not set/);
  });

  it('refuses forged signatures, keys outside the JWKS, alg none and HMAC', async () => {
    const jwt = await validator();
    // The right key id, another key.
    assert.match(reasonOf(await jwt.validate(await sign(stranger, claims()))), /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    assert.match(reasonOf(await jwt.validate(await sign(stranger, claims(), { kid: 'rsa-9' }))), /ERR_JWKS_NO_MATCHING_KEY/);
    // A token altered after signing.
    const [header, , signature] = (await sign(rsa, claims())).split('.');
    const tampered = `${header}.${Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url')}.${signature}`;
    assert.match(reasonOf(await jwt.validate(tampered)), /ERR_JWS_SIGNATURE_VERIFICATION_FAILED/);
    const none = new UnsecuredJWT(claims()).encode();
    assert.match(reasonOf(await jwt.validate(none)), /signature section is empty/);
    assert.match(reasonOf(await jwt.validate(`${none}c2ln`)), /ERR_JOSE_NOT_SUPPORTED|ERR_JWS_INVALID|Unsupported "alg"/);
    const hmac = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256', kid: 'rsa-1' }).sign(new Uint8Array(32).fill(7));
    assert.equal((await jwt.validate(hmac)).ok, false);
  });

  it('refuses malformed tokens and scope claims Kafka refuses', async () => {
    const jwt = await validator();
    for (const token of ['', 'abc', 'a.b', 'a.b.c.d', '..', 'a..c', 'a.b.c']) assert.equal((await jwt.validate(token)).ok, false, token);
    assert.match(reasonOf(await jwt.validate(await sign(rsa, claims({ scope: ['read', 'read'] })))), /read twice/);
    assert.match(reasonOf(await jwt.validate(await sign(rsa, claims({ scope: ['read', ' '] })))), /empty or non-string/);
    assert.match(reasonOf(await jwt.validate(await sign(rsa, claims({ scope: '' })))), /empty or non-string/);
    assert.equal(reasonOf(await jwt.validate(await sign(rsa, claims({ scope: 5 })))), 'ok');
  });

  it('refuses to set up with a JWKS file that is not a key set, naming the key', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"keys": "none"}');
    await assert.rejects(validator({ jwksEndpointUrl: pathToFileURL(bad).href }), /sasl\.oauthbearer\.jwks\.endpoint\.url .*is not a JSON Web Key Set/);
    writeFileSync(bad, 'not json');
    await assert.rejects(validator({ jwksEndpointUrl: pathToFileURL(bad).href }), /sasl\.oauthbearer\.jwks\.endpoint\.url: cannot read a JWKS/);
  });

  describe('an http JWKS', () => {
    let server: Server;
    let served: JWK[] = [];
    let failures = 0;
    let requests = 0;
    before(async () => {
      server = createServer((_request, response) => {
        requests++;
        if (failures > 0) {
          failures--;
          response.writeHead(503).end();
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: served }));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;

    it('is fetched at start, retried with backoff, and fetched again for a key id it lacks (once a minute per id)', async () => {
      served = [rsa.jwk];
      failures = 2;
      requests = 0;
      const jwt: TokenValidator = await validator({ jwksEndpointUrl: url(), jwksEndpointRetryBackoffMs: 10, jwksEndpointRetryBackoffMaxMs: 2000 }, { ...systemClock, nowMs: () => NOW * 1000 });
      assert.equal(requests, 3, 'two failures, then the set');
      assert.equal(reasonOf(await jwt.validate(await sign(rsa, claims()))), 'ok');
      // The provider rotates to the EC key: the first token naming it fetches the set again.
      served = [rsa.jwk, ec.jwk];
      assert.equal(reasonOf(await jwt.validate(await sign(ec, claims()))), 'ok');
      assert.equal(requests, 4);
      // An unknown key id fetches once, and not again within the minute.
      assert.match(reasonOf(await jwt.validate(await sign(stranger, claims(), { kid: 'unknown' }))), /ERR_JWKS_NO_MATCHING_KEY/);
      assert.match(reasonOf(await jwt.validate(await sign(stranger, claims(), { kid: 'unknown' }))), /ERR_JWKS_NO_MATCHING_KEY/);
      assert.equal(requests, 5);
    });

    it('refreshes a set older than the refresh interval, serving the old keys meanwhile', async () => {
      served = [rsa.jwk];
      requests = 0;
      let monotonic = 0;
      const clock: Clock = { ...systemClock, nowMs: () => NOW * 1000, monotonicMs: () => monotonic };
      const jwt = await validator({ jwksEndpointUrl: url(), jwksEndpointRefreshMs: 60_000 }, clock);
      assert.equal(requests, 1);
      served = [ec.jwk];
      monotonic = 59_000;
      assert.equal(reasonOf(await jwt.validate(await sign(rsa, claims()))), 'ok');
      assert.equal(requests, 1);
      monotonic = 61_000;
      // Due: this token is checked against the keys held while the set is fetched again.
      assert.equal(reasonOf(await jwt.validate(await sign(rsa, claims()))), 'ok');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(requests, 2);
      assert.match(reasonOf(await jwt.validate(await sign(rsa, claims()))), /ERR_JWKS_NO_MATCHING_KEY/);
    });

    it('starts without keys when the provider cannot be reached, and takes tokens once it can', async () => {
      served = [rsa.jwk];
      failures = 1000;
      requests = 0;
      let monotonic = 0;
      const clock: Clock = { ...systemClock, nowMs: () => NOW * 1000, monotonicMs: () => monotonic };
      const jwt = await validator({ jwksEndpointUrl: url(), jwksEndpointRetryBackoffMs: 0, jwksEndpointRetryBackoffMaxMs: 0 }, clock);
      assert.equal(requests, 1);
      assert.match(reasonOf(await jwt.validate(await sign(rsa, claims()))), /no JWKS has been read/);
      failures = 0;
      monotonic = 1;
      assert.equal(reasonOf(await jwt.validate(await sign(rsa, claims()))), 'ok');
    });
  });
});
