// SASL/OAUTHBEARER on the broker (RFC 7628, KIP-255, KIP-768), as Kafka's OAuthBearerSaslServer
// runs it: one client message, the initial response, holding a bearer token (a JWT); the broker
// validates the token and answers with an empty message (authenticated as the token's principal)
// or with an error challenge, `{"status":"invalid_token"}`, which the client acknowledges with a
// single %x01 before the broker fails the exchange (SASL_AUTHENTICATION_FAILED with that JSON as
// the message). The token's expiry bounds the session (KIP-368; see sasl-authenticator.ts).
//
// Two validators, chosen per listener as in Kafka: the unsecured one (Kafka's default,
// OAuthBearerUnsecuredValidatorCallbackHandler: an unsigned JWT, alg `none`, for development,
// configured by the `unsecuredValidator*` options of the listener's JAAS entry), here; and JWT
// validation against a JWKS (OAuthBearerValidatorCallbackHandler), in oauthbearer-jwt.ts, which
// loads `jose` and is imported only when a listener uses it. Nothing here logs or echoes a token.
import { decodeSaslName } from './scram-server.js';
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import type { OAuthBearerSettings, RefusedToken, TokenValidation, TokenValidator, UnsecuredValidatorSettings } from './oauthbearer-types.js';

export type { OAuthBearerSettings } from './oauthbearer-types.js';

export const OAUTHBEARER = 'OAUTHBEARER';
/** The JAAS login module an OAUTHBEARER entry must name. */
export const OAUTHBEARER_LOGIN_MODULE = 'org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule';
/** Kafka's default server callback handler for OAUTHBEARER (unsigned tokens, development only). */
export const UNSECURED_VALIDATOR_CLASS = 'org.apache.kafka.common.security.oauthbearer.internals.unsecured.OAuthBearerUnsecuredValidatorCallbackHandler';
/** KIP-768's JWT validator: Kafka 3.4+ (the only name in Kafka 4), and the deprecated 3.1-3.9 name. */
export const JWT_VALIDATOR_CLASSES: readonly string[] = [
  'org.apache.kafka.common.security.oauthbearer.OAuthBearerValidatorCallbackHandler',
  'org.apache.kafka.common.security.oauthbearer.secured.OAuthBearerValidatorCallbackHandler',
];

const SEPARATOR = '\x01';
const KEY = /^[A-Za-z]+$/;
const VALUE = /^[\x21-\x7E \t\r\n]+$/;
// Any US-ASCII but = and , (those as =3D and =2C).
const SASLNAME = /^(?:[\x01-\x2B\x2D-\x3C\x3E-\x7F]|=2C|=3D)+$/;
// RFC 6750's b64token after the scheme (Kafka's AUTH_PATTERN).
const AUTH = /^(\w+) +([-_~+/.a-zA-Z0-9]+=*)$/;

/** The parts of a client's initial response. */
export interface ClientInitialResponse {
  /** The authorization id (`a=` of the GS2 header), or '' when none. */
  readonly authorizationId: string;
  readonly token: string;
  readonly extensions: ReadonlyMap<string, string>;
}

/**
 * Reads an initial response: `n,` [`a=` authzid] `,` %x01 then `key=value` %x01 pairs, one of them
 * `auth=Bearer <token>`, then a closing %x01 (RFC 7628 3.1, Kafka's
 * OAuthBearerClientInitialResponse). Returns why not when it is malformed. Linear in the input.
 */
export function parseClientInitialResponse(message: Buffer, maxBytes: number): ClientInitialResponse | { problem: string } {
  if (message.length > maxBytes) return { problem: `an initial response of ${message.length} bytes, over the ${maxBytes} taken (sasl.server.max.receive.size)` };
  // Every part of the grammar is US-ASCII.
  for (const byte of message) if (byte === 0 || byte > 0x7f) return { problem: 'an initial response with a byte outside US-ASCII' };
  const text = message.toString('latin1');
  if (!text.startsWith('n,')) return { problem: 'an initial response without the GS2 header n, (channel binding is not supported)' };
  const authzidEnd = text.indexOf(',', 2);
  if (authzidEnd < 0) return { problem: 'an initial response with an unterminated GS2 header' };
  const authzidPart = text.slice(2, authzidEnd);
  let authorizationId = '';
  if (authzidPart !== '') {
    const name = authzidPart.startsWith('a=') ? authzidPart.slice(2) : undefined;
    const decoded = name !== undefined && SASLNAME.test(name) ? decodeSaslName(name) : undefined;
    if (decoded === undefined || decoded === '') return { problem: 'an initial response with a malformed authorization id' };
    authorizationId = decoded;
  }
  const rest = text.slice(authzidEnd + 1);
  // %x01, the key=value pairs each ended by %x01, and the closing %x01.
  if (!rest.startsWith(SEPARATOR) || !rest.endsWith(SEPARATOR + SEPARATOR) || rest.length < 2) return { problem: 'an initial response not framed by %x01 separators' };
  const pairs = rest.slice(1, -2).split(SEPARATOR);
  const values = new Map<string, string>();
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    const key = equals < 0 ? pair : pair.slice(0, equals);
    const value = equals < 0 ? '' : pair.slice(equals + 1);
    if (!KEY.test(key) || !VALUE.test(value)) return { problem: 'an initial response with a malformed key=value pair' };
    if (values.has(key)) return { problem: `an initial response with the key ${key} twice` };
    values.set(key, value);
  }
  const auth = values.get('auth');
  if (auth === undefined) return { problem: "an initial response without 'auth'" };
  values.delete('auth');
  const match = AUTH.exec(auth);
  if (!match) return { problem: "an initial response with a malformed 'auth' value" };
  if (match[1]!.toLowerCase() !== 'bearer') return { problem: `an initial response with the scheme ${match[1]}, not Bearer` };
  return { authorizationId, token: match[2]!, extensions: values };
}

/** Kafka's error challenge: `{"status":"..."}`, with the required scope for insufficient_scope (Kafka's exact text). */
export function errorChallenge(refused: RefusedToken): string {
  const scope = refused.scope === undefined ? '' : `, "scope":"[${refused.scope.join(', ')}]"`;
  return `{"status":"${refused.status}"${scope}}`;
}

/** The step of an exchange, as sasl-authenticator.ts runs them. */
export type OAuthBearerStep =
  | { kind: 'continue'; response: Buffer; refused?: string }
  | { kind: 'done'; response: Buffer; username: string; credentialExpiresAtMs: number }
  | { kind: 'failed'; reason: string; message?: string };

const EMPTY = Buffer.alloc(0);

/**
 * One OAUTHBEARER exchange. The first message is the initial response; after an error challenge
 * the client's %x01 ends the exchange with that error. Kafka takes any other message after the
 * challenge as a fresh initial response; here it ends the exchange too, as RFC 7628 3.2.2 has it.
 */
export class OAuthBearerServerExchange {
  #stage: 'initial' | 'challenged' | 'over' = 'initial';
  #challenge = '';
  #refusal = '';

  constructor(
    private readonly validator: () => TokenValidator | Promise<TokenValidator>,
    private readonly maxInitialResponseBytes: number,
  ) {}

  step(message: Buffer): OAuthBearerStep | Promise<OAuthBearerStep> {
    const stage = this.#stage;
    this.#stage = 'over';
    if (stage === 'challenged') {
      const acknowledged = message.length === 1 && message[0] === 1;
      return { kind: 'failed', reason: acknowledged ? this.#refusal : `${this.#refusal} (and the client answered the error challenge with something other than %x01)`, message: this.#challenge };
    }
    if (stage === 'over') return { kind: 'failed', reason: 'a message after the exchange ended' };
    const response = parseClientInitialResponse(message, this.maxInitialResponseBytes);
    if ('problem' in response) return { kind: 'failed', reason: `invalid OAUTHBEARER client first message: ${response.problem}` };
    return chain(
      () => chain(this.validator, (validator) => validator.validate(response.token)),
      (validation) => this.#settle(validation, response),
      (error) => ({ kind: 'failed', reason: `the token could not be validated (internal error: ${error instanceof Error ? error.message : String(error)})` }),
    );
  }

  #settle(validation: TokenValidation, response: ClientInitialResponse): OAuthBearerStep {
    if (!validation.ok) {
      this.#stage = 'challenged';
      this.#challenge = errorChallenge(validation);
      this.#refusal = `token refused: ${validation.reason}`;
      return { kind: 'continue', response: Buffer.from(this.#challenge, 'utf8'), refused: this.#refusal };
    }
    if (response.authorizationId !== '' && response.authorizationId !== validation.principal) {
      return {
        kind: 'failed',
        reason: 'authorization id differs from the token principal',
        message: `Authentication failed: Client requested an authorization id (${response.authorizationId}) that is different from the token's principal name (${validation.principal})`,
      };
    }
    // Extensions are accepted as Kafka's validators accept them; none carries meaning here.
    return { kind: 'done', response: EMPTY, username: validation.principal, credentialExpiresAtMs: validation.expiresAtMs };
  }
}

/** `then` for a value that may or may not be a promise: stays synchronous when it is not. */
function chain<T, U>(value: () => T | Promise<T>, next: (value: T) => U | Promise<U>, failed?: (error: unknown) => U): U | Promise<U> {
  let result: T | Promise<T>;
  try {
    result = value();
  } catch (error) {
    if (failed) return failed(error);
    throw error;
  }
  if (result instanceof Promise) return failed ? result.then(next, failed) : result.then(next);
  if (!failed) return next(result);
  try {
    const after = next(result);
    return after instanceof Promise ? after.catch(failed) : after;
  } catch (error) {
    return failed(error);
  }
}

// ---- Kafka's unsecured validator (OAuthBearerUnsecuredValidatorCallbackHandler) ----

const SCOPE_ITEM = /^[\x23-\x5B\x5D-\x7E\x21]+$/;

/** unsecuredValidatorRequiredScope's items, or why one is not a valid scope token (RFC 6749 3.3). */
export function parseScope(spaceDelimited: string): string[] | { problem: string } {
  const items = spaceDelimited.split(' ').filter((item) => item !== '');
  const bad = items.find((item) => !SCOPE_ITEM.test(item));
  return bad === undefined ? items : { problem: `invalid scope value: ${bad}` };
}

const refused = (reason: string, scope?: readonly string[]): RefusedToken =>
  scope === undefined ? { ok: false, status: 'invalid_token', reason } : { ok: false, status: 'insufficient_scope', scope, reason };

/** A JWS section: base64url (the standard alphabet too, which Kafka's decoder takes), JSON object inside. */
function jsonSection(section: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(section)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(section.replace(/=+$/, ''), 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isBlank = (text: string) => text.trim() === '';

/** The token's scope as Kafka's unsecured validator reads it: a string is one item (not split), a list its items. */
function unsecuredScope(claim: unknown, claimName: string): string[] | RefusedToken {
  if (claim === undefined || claim === null) return [];
  if (typeof claim === 'string') return isBlank(claim) ? [] : [claim.trim()];
  if (Array.isArray(claim)) return [...new Set(claim.map((item) => (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean' ? String(item) : '')).filter((item) => !isBlank(item)).map((item) => item.trim()))];
  return refused(`the '${claimName}' claim was not of type List: ${typeof claim}`);
}

/**
 * Validates an unsecured JWS (`header.payload.` with alg `none`) as Kafka's unsecured validator
 * does: the principal claim (a non-blank string) and `exp` (a number) are required, `iat` is
 * optional but not after now plus the allowed skew, `exp` must not be past now minus the skew
 * and must follow `iat`, and the token's scope must hold every required scope item.
 */
export function validateUnsecuredToken(token: string, settings: UnsecuredValidatorSettings, nowMs: number): TokenValidation {
  if (token.includes('..')) return refused("malformed compact serialization contains '..'");
  const sections = token.split('.');
  if (sections.length !== 3) return refused('unsecured JWS compact serializations must have 3 dot-separated Base64URL-encoded values');
  const header = jsonSection(sections[0]!);
  const claims = jsonSection(sections[1]!);
  if (header === undefined || claims === undefined) return refused('malformed Base64 URL encoded value or JSON');
  if (header.alg !== 'none') return refused("unsecured JWS must have 'none' for an algorithm");
  if (sections[2] !== '') return refused('unsecured JWS must not contain a digital signature');
  const scope = unsecuredScope(claims[settings.scopeClaimName], settings.scopeClaimName);
  if (!Array.isArray(scope)) return scope;
  const { exp, iat } = claims;
  if (exp === undefined || exp === null) return refused('no expiration time in JWT');
  if (typeof exp !== 'number') return refused("the 'exp' claim was not of type Number");
  const principal = claims[settings.principalClaimName];
  if (principal !== undefined && principal !== null && typeof principal !== 'string') return refused(`the '${settings.principalClaimName}' claim was not of type String`);
  if (typeof principal !== 'string' || isBlank(principal)) return refused(`no principal name in JWT claim: ${settings.principalClaimName}`);
  if (iat !== undefined && iat !== null && typeof iat !== 'number') return refused("the 'iat' claim was not of type Number");
  const skew = settings.allowableClockSkewMs;
  if (typeof iat === 'number' && 1000 * iat > nowMs + skew) return refused(`the Issued At value (${iat} seconds) was after the indicated time (${nowMs} ms) plus allowable clock skew (${skew} ms)`);
  if (nowMs - skew >= 1000 * exp) return refused(`the indicated time (${nowMs} ms) minus allowable clock skew (${skew} ms) was on or after the Expiration Time value (${exp} seconds)`);
  if (typeof iat === 'number' && exp <= iat) return refused(`the Expiration Time (${exp} seconds) was not after the Issued At time (${iat} seconds)`);
  const missing = settings.requiredScope.find((item) => !scope.includes(item));
  if (missing !== undefined) return refused(`the provided scope (${scope.join(' ')}) was missing a required scope (${missing})`, settings.requiredScope);
  return { ok: true, principal, expiresAtMs: Math.round(exp * 1000), scope };
}

// ---- Loading a listener's validator ----

const loaded = new WeakMap<OAuthBearerSettings, TokenValidator | Promise<TokenValidator>>();

/**
 * The validator of a listener's settings: the unsecured one at once; the JWT one after importing
 * oauthbearer-jwt.ts (and with it `jose`) and reading or fetching the JWKS. One per settings
 * object, shared by everything that authenticates on the listener; a failure to set it up is
 * logged once (every OAUTHBEARER authentication on the listener then fails).
 */
export function oauthBearerValidator(settings: OAuthBearerSettings, clock: Clock, logger: Logger, listener?: string): TokenValidator | Promise<TokenValidator> {
  const existing = loaded.get(settings);
  if (existing !== undefined) return existing;
  const { validator } = settings;
  if (validator.kind === 'unsecured') {
    const unsecured: TokenValidator = { validate: (token) => validateUnsecuredToken(token, validator, clock.nowMs()) };
    loaded.set(settings, unsecured);
    return unsecured;
  }
  const created = import('./oauthbearer-jwt.js').then(({ createJwtValidator }) => createJwtValidator(validator, { clock, logger }));
  created.catch((error: unknown) => {
    logger.error('OAUTHBEARER tokens cannot be validated: the validator could not be set up', { listener, error: error instanceof Error ? error.message : String(error) });
  });
  loaded.set(settings, created);
  return created;
}
