import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type OAuthBearerStep, OAuthBearerServerExchange, errorChallenge, parseClientInitialResponse, parseScope, validateUnsecuredToken } from './oauthbearer.js';
import type { TokenValidation, TokenValidator, UnsecuredValidatorSettings } from './oauthbearer-types.js';

const NOW_MS = 1_750_000_000_000;
const NOW = NOW_MS / 1000;
const MAX = 524_288;
const section = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** An unsecured JWS as librdkafka and Kafka's unsecured login make it: `header.claims.` */
const unsecured = (claims: object, header: object = { alg: 'none' }) => `${section(header)}.${section(claims)}.`;
const initial = (token: string, options: { authzid?: string; extensions?: Record<string, string> } = {}) => {
  const extensions = Object.entries(options.extensions ?? {}).map(([key, value]) => `\x01${key}=${value}`).join('');
  return Buffer.from(`n,${options.authzid === undefined ? '' : `a=${options.authzid}`},\x01auth=Bearer ${token}${extensions}\x01\x01`);
};
const defaults: UnsecuredValidatorSettings = { kind: 'unsecured', principalClaimName: 'sub', scopeClaimName: 'scope', requiredScope: [], allowableClockSkewMs: 0 };
const validate = (token: string, settings: Partial<UnsecuredValidatorSettings> = {}, nowMs = NOW_MS) => validateUnsecuredToken(token, { ...defaults, ...settings }, nowMs);
const reasonOf = (validation: TokenValidation) => (validation.ok ? 'ok' : validation.reason);
/** A step the unsecured validator settles at once. */
const settled = (step: OAuthBearerStep | Promise<OAuthBearerStep>): OAuthBearerStep => {
  assert.ok(!(step instanceof Promise), 'settled synchronously');
  return step;
};

describe('OAUTHBEARER client initial response', () => {
  it("reads the token, the extensions and the authorization id from Kafka's format", () => {
    const token = unsecured({ sub: 'alice', exp: NOW + 60 });
    assert.deepEqual(parseClientInitialResponse(initial(token), MAX), { authorizationId: '', token, extensions: new Map() });
    const parsed = parseClientInitialResponse(initial(token, { authzid: 'al=2Cice', extensions: { traceId: 'abc 123', logicalCluster: 'lkc-1' } }), MAX);
    assert.deepEqual(parsed, { authorizationId: 'al,ice', token, extensions: new Map([['traceId', 'abc 123'], ['logicalCluster', 'lkc-1']]) });
    // The scheme is case-insensitive; b64token allows ~ + / and trailing =.
    assert.equal((parseClientInitialResponse(Buffer.from('n,,\x01auth=bearer a~b+c/d.e-f_g==\x01\x01'), MAX) as { token: string }).token, 'a~b+c/d.e-f_g==');
  });

  it('refuses malformed messages, saying why', () => {
    const token = unsecured({ sub: 'alice', exp: NOW + 60 });
    const problems: [string | Buffer, RegExp][] = [
      ['', /GS2 header/],
      [`y,,\x01auth=Bearer ${token}\x01\x01`, /GS2 header n,/],
      [`p=tls-unique,,\x01auth=Bearer ${token}\x01\x01`, /GS2 header n,/],
      // kafkajs 2.2.4 writes `"a=` for an authorization id.
      [`n,"a=alice,\x01auth=Bearer ${token}\x01\x01`, /authorization id/],
      [`n,a=,\x01auth=Bearer ${token}\x01\x01`, /authorization id/],
      [`n,a=al=ice,\x01auth=Bearer ${token}\x01\x01`, /authorization id/],
      [`n,,auth=Bearer ${token}\x01\x01`, /%x01/],
      [`n,,\x01auth=Bearer ${token}\x01`, /%x01/],
      [`n,,\x01\x01`, /key=value/],
      [`n,,\x01host=example.com\x01\x01`, /without 'auth'/],
      [`n,,\x01auth=Basic ${token}\x01\x01`, /scheme Basic/],
      [`n,,\x01auth=Bearer\x01\x01`, /malformed 'auth'/],
      [`n,,\x01auth=Bearer a b\x01\x01`, /malformed 'auth'/],
      [`n,,\x01auth=Bearer ${token}\x01auth=Bearer ${token}\x01\x01`, /auth twice/],
      [`n,,\x01auth=Bearer ${token}\x01x1=y\x01\x01`, /key=value/],
      [`n,,\x01auth=Bearer ${token}\x01x=\x01\x01`, /key=value/],
      [`n,,\x01auth=Bearer ${token}\x01\x01x=y\x01\x01`, /key=value/],
      [Buffer.from(`n,,\x01auth=Bearer ${token}\x01x=\u00e9\x01\x01`), /US-ASCII/],
      [Buffer.from(`n,,\x01auth=Bearer ${token}\x00\x01\x01`), /US-ASCII/],
    ];
    for (const [message, problem] of problems) {
      const parsed = parseClientInitialResponse(Buffer.isBuffer(message) ? message : Buffer.from(message, 'latin1'), MAX);
      assert.ok('problem' in parsed, JSON.stringify(message));
      assert.match(parsed.problem, problem, JSON.stringify(message));
    }
  });

  it('refuses an initial response over the size limit before reading it', () => {
    const big = initial(unsecured({ sub: 'alice', exp: NOW + 60, padding: 'x'.repeat(2000) }));
    assert.ok(!('problem' in parseClientInitialResponse(big, big.length)));
    const parsed = parseClientInitialResponse(big, big.length - 1);
    assert.ok('problem' in parsed && /over the \d+ taken/.test(parsed.problem));
    // Linear time on a large hostile input (no backtracking).
    const hostile = Buffer.from(`n,,\x01${'a=b\x01'.repeat(100_000)}x`);
    const started = Date.now();
    assert.ok('problem' in parseClientInitialResponse(hostile, hostile.length));
    assert.ok(Date.now() - started < 1000);
  });

  it("writes Kafka's error challenges", () => {
    assert.equal(errorChallenge({ ok: false, status: 'invalid_token', reason: 'expired' }), '{"status":"invalid_token"}');
    assert.equal(errorChallenge({ ok: false, status: 'insufficient_scope', scope: ['read', 'write'], reason: 'no write' }), '{"status":"insufficient_scope", "scope":"[read, write]"}');
  });
});

describe("Kafka's unsecured validator", () => {
  it('takes an unsigned token with a principal and an expiry, as librdkafka makes it', () => {
    const validation = validate(unsecured({ sub: 'alice', iat: NOW - 10, exp: NOW + 3600, scope: 'read' }));
    assert.deepEqual(validation, { ok: true, principal: 'alice', expiresAtMs: (NOW + 3600) * 1000, scope: ['read'] });
    // The standard base64 alphabet, which Kafka's decoder reads, is taken too.
    const standard = `${Buffer.from('{"alg":"none"}').toString('base64')}.${Buffer.from(JSON.stringify({ sub: 'b?b>', exp: NOW + 60 })).toString('base64')}.`;
    assert.equal(reasonOf(validate(standard)), 'ok');
  });

  it('refuses expired, not yet issued and inconsistent tokens, honouring the allowed clock skew', () => {
    assert.match(reasonOf(validate(unsecured({ sub: 'alice', exp: NOW }))), /on or after the Expiration Time/);
    assert.match(reasonOf(validate(unsecured({ sub: 'alice', exp: NOW - 1 }))), /on or after the Expiration Time/);
    assert.equal(reasonOf(validate(unsecured({ sub: 'alice', exp: NOW - 1 }), { allowableClockSkewMs: 2000 })), 'ok');
    assert.match(reasonOf(validate(unsecured({ sub: 'alice', iat: NOW + 5, exp: NOW + 60 }))), /Issued At value .* was after/);
    assert.equal(reasonOf(validate(unsecured({ sub: 'alice', iat: NOW + 5, exp: NOW + 60 }), { allowableClockSkewMs: 5000 })), 'ok');
    assert.match(reasonOf(validate(unsecured({ sub: 'alice', iat: NOW - 5, exp: NOW - 5 }), { allowableClockSkewMs: 60_000 })), /not after the Issued At/);
  });

  it('requires exp, and the principal claim as a non-blank string', () => {
    assert.match(reasonOf(validate(unsecured({ sub: 'alice' }))), /no expiration time/);
    assert.match(reasonOf(validate(unsecured({ sub: 'alice', exp: String(NOW + 60) }))), /'exp' claim was not of type Number/);
    assert.match(reasonOf(validate(unsecured({ exp: NOW + 60 }))), /no principal name in JWT claim: sub/);
    assert.match(reasonOf(validate(unsecured({ sub: '  ', exp: NOW + 60 }))), /no principal name/);
    assert.match(reasonOf(validate(unsecured({ sub: 42, exp: NOW + 60 }))), /'sub' claim was not of type String/);
    const custom = validate(unsecured({ sub: 'ignored', preferred_username: 'carol', exp: NOW + 60 }), { principalClaimName: 'preferred_username' });
    assert.equal(custom.ok && custom.principal, 'carol');
  });

  it('requires every item of the required scope (insufficient_scope names them); a string scope is one item', () => {
    const settings = { requiredScope: ['read', 'write'] };
    assert.equal(reasonOf(validate(unsecured({ sub: 'alice', exp: NOW + 60, scope: ['write', 'read', 'admin'] }), settings)), 'ok');
    const missing = validate(unsecured({ sub: 'alice', exp: NOW + 60, scope: ['read'] }), settings);
    assert.deepEqual(missing.ok ? undefined : [missing.status, missing.scope], ['insufficient_scope', ['read', 'write']]);
    assert.equal(errorChallenge(missing as Extract<TokenValidation, { ok: false }>), '{"status":"insufficient_scope", "scope":"[read, write]"}');
    // As Kafka's unsecured JWS reads it, "read write" is a single scope item.
    assert.equal(validate(unsecured({ sub: 'alice', exp: NOW + 60, scope: 'read write' }), settings).ok, false);
    assert.equal(validate(unsecured({ sub: 'alice', exp: NOW + 60 }), settings).ok, false);
    assert.equal(reasonOf(validate(unsecured({ sub: 'alice', exp: NOW + 60, roles: ['read', 'write'] }), { ...settings, scopeClaimName: 'roles' })), 'ok');
    assert.match(reasonOf(validate(unsecured({ sub: 'alice', exp: NOW + 60, scope: 7 }))), /not of type List/);
  });

  it('refuses signed or malformed tokens', () => {
    const claims = { sub: 'alice', exp: NOW + 60 };
    assert.match(reasonOf(validate(unsecured(claims, { alg: 'HS256' }))), /'none' for an algorithm/);
    assert.match(reasonOf(validate(unsecured(claims, {}))), /'none' for an algorithm/);
    assert.match(reasonOf(validate(`${unsecured(claims)}c2lnbmF0dXJl`)), /must not contain a digital signature/);
    assert.match(reasonOf(validate(`${section({ alg: 'none' })}..`)), /contains '\.\.'/);
    assert.match(reasonOf(validate(`${section({ alg: 'none' })}.${section(claims)}`)), /3 dot-separated/);
    assert.match(reasonOf(validate(`${unsecured(claims)}.`)), /3 dot-separated|'\.\.'/);
    assert.match(reasonOf(validate(`${section({ alg: 'none' })}.bm90IGpzb24.`)), /malformed/);
    assert.match(reasonOf(validate(`${section({ alg: 'none' })}.${Buffer.from('[1,2]').toString('base64url')}.`)), /malformed/);
    assert.match(reasonOf(validate(`${section({ alg: 'none' })}.a*b.`)), /malformed/);
  });

  it('reads the required scope as Kafka does: space-separated scope tokens', () => {
    assert.deepEqual(parseScope(' read  write '), ['read', 'write']);
    assert.deepEqual(parseScope(''), []);
    assert.deepEqual(parseScope('read "write"'), { problem: 'invalid scope value: "write"' });
    assert.deepEqual(parseScope('a\\b'), { problem: 'invalid scope value: a\\b' });
  });
});

describe('OAUTHBEARER server exchange', () => {
  const unsecuredValidator = (settings: Partial<UnsecuredValidatorSettings> = {}): TokenValidator => ({ validate: (token) => validate(token, settings) });

  it('authenticates as the principal with an empty answer, carrying the token expiry', () => {
    const exchange = new OAuthBearerServerExchange(() => unsecuredValidator(), MAX);
    const step = exchange.step(initial(unsecured({ sub: 'alice', exp: NOW + 300 }), { authzid: 'alice', extensions: { traceId: 'x' } }));
    assert.deepEqual(step, { kind: 'done', response: Buffer.alloc(0), username: 'alice', credentialExpiresAtMs: (NOW + 300) * 1000 });
    assert.deepEqual(exchange.step(Buffer.from([1])), { kind: 'failed', reason: 'a message after the exchange ended' });
  });

  it('answers a refused token with the error challenge, then fails with it when the client sends %x01', () => {
    const exchange = new OAuthBearerServerExchange(() => unsecuredValidator(), MAX);
    const challenge = settled(exchange.step(initial(unsecured({ sub: 'alice', exp: NOW - 10 }))));
    assert.deepEqual(challenge.kind === 'continue' && [challenge.response.toString(), challenge.refused?.startsWith('token refused: the indicated time')], ['{"status":"invalid_token"}', true]);
    const failed = settled(exchange.step(Buffer.from([1])));
    assert.deepEqual(failed.kind === 'failed' && failed.message, '{"status":"invalid_token"}');
    // Anything else after the challenge fails the same way.
    const other = new OAuthBearerServerExchange(() => unsecuredValidator({ requiredScope: ['admin'] }), MAX);
    assert.equal((other.step(initial(unsecured({ sub: 'alice', exp: NOW + 60 }))) as { response: Buffer }).response.toString(), '{"status":"insufficient_scope", "scope":"[admin]"}');
    const retried = settled(other.step(initial(unsecured({ sub: 'alice', exp: NOW + 60, scope: 'admin' }))));
    assert.deepEqual(retried.kind === 'failed' && [retried.message, /other than %x01/.test(retried.reason)], ['{"status":"insufficient_scope", "scope":"[admin]"}', true]);
  });

  it("refuses an authorization id that is not the token's principal, and malformed messages, at once", () => {
    const mismatch = settled(new OAuthBearerServerExchange(() => unsecuredValidator(), MAX).step(initial(unsecured({ sub: 'alice', exp: NOW + 60 }), { authzid: 'bob' })));
    assert.deepEqual(mismatch.kind === 'failed' && mismatch.message, "Authentication failed: Client requested an authorization id (bob) that is different from the token's principal name (alice)");
    const malformed = settled(new OAuthBearerServerExchange(() => unsecuredValidator(), MAX).step(Buffer.from('n,,\x01auth=Bearer\x01\x01')));
    assert.deepEqual(malformed.kind === 'failed' && [malformed.message, /invalid OAUTHBEARER client first message/.test(malformed.reason)], [undefined, true]);
    const oversized = settled(new OAuthBearerServerExchange(() => unsecuredValidator(), 64).step(initial(unsecured({ sub: 'alice', exp: NOW + 60 }))));
    assert.equal(oversized.kind, 'failed');
  });

  it('waits for an asynchronous validator, and fails (never throws) when it cannot be set up or throws', async () => {
    const later: TokenValidator = { validate: async (token) => validate(token) };
    const exchange = new OAuthBearerServerExchange(async () => later, MAX);
    const step = exchange.step(initial(unsecured({ sub: 'alice', exp: NOW + 60 })));
    assert.ok(step instanceof Promise);
    assert.equal((await step).kind, 'done');
    const broken = await new OAuthBearerServerExchange(() => Promise.reject(new Error('no JWKS')), MAX).step(initial(unsecured({ sub: 'alice', exp: NOW + 60 })));
    assert.deepEqual(broken.kind === 'failed' && [broken.message, broken.reason], [undefined, 'the token could not be validated (internal error: no JWKS)']);
    const throwing = new OAuthBearerServerExchange(() => ({ validate: () => { throw new Error('bug'); } }), MAX).step(initial(unsecured({ sub: 'alice', exp: NOW + 60 })));
    assert.equal(throwing instanceof Promise ? 'promise' : throwing.kind, 'failed');
  });
});
