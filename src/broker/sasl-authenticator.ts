// SASL authentication on SASL_PLAINTEXT and SASL_SSL listeners (Kafka's SaslServerAuthenticator):
// a connection there may send ApiVersions, then SaslHandshake naming a mechanism the listener
// enables, then its credentials, before anything else; any other request first closes it. The
// credentials come in SaslAuthenticate requests after a SaslHandshake v1, or as raw frames (no
// request header) after a v0 handshake, as old clients (kafka-python 2.0) send them. A failure
// answers SASL_AUTHENTICATION_FAILED (raw: nothing) and closes the connection. Nothing here logs a
// password, a proof or a token.
//
// PLAIN (RFC 4616): the token is [authzid] NUL username NUL password, checked against the
// listener's users; an authorization id, if given, must be the username. SCRAM-SHA-256 and
// SCRAM-SHA-512 (RFC 5802): two round trips (src/broker/scram-server.ts) against the credentials
// in the metadata image. The principal is then User:<username>. OAUTHBEARER (RFC 7628, KIP-255,
// KIP-768): one message holding a bearer token, checked by the listener's validator
// (src/broker/oauthbearer.ts): the principal is User:<the token's principal claim>, and a refused
// token is answered with an error challenge the client acknowledges before the exchange fails. A
// JWT validator checks signatures asynchronously: while it does, the connection takes nothing but
// ApiVersions (anything else closes it).
//
// Re-authentication (KIP-368): with connections.max.reauth.ms above 0, a SaslAuthenticate answer
// (v1+) names the session's lifetime. Before it ends the client authenticates again on the same
// connection (SaslHandshake with the same mechanism, then SaslAuthenticate), as the same principal;
// a request other than those after the session has ended closes the connection, as Kafka's
// broker closes it. A v0 client (raw tokens) cannot re-authenticate: its connection is closed at
// its first request after the lifetime, and it connects again. An OAUTHBEARER session also ends
// when its token expires, with or without connections.max.reauth.ms (Kafka takes the smaller).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '../base/error-codes.js';
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import { scramMechanismByName } from '../base/scram.js';
import type { ScramCredential } from '../metadata/metadata-image.js';
import { ScramServerExchange } from './scram-server.js';
import { OAUTHBEARER, OAuthBearerServerExchange, oauthBearerValidator } from './oauthbearer.js';
import { ApiKey } from '../protocol/messages/index.js';
import type { SaslSettings } from './broker-config.js';
import type { ConnectionInfo, FrameOutcome } from './network/index.js';

/** An authenticated session: its mechanism, principal and end (monotonic ms; Infinity without re-authentication). */
interface Session {
  readonly mechanism: string;
  readonly principal: string;
  readonly expiresAtMs: number;
}

type SaslState =
  | { kind: 'handshake' }
  /** `session`: the session being renewed, for a re-authentication. */
  | { kind: 'authenticate'; mechanism: string; raw: boolean; exchange: Exchange; session?: Session }
  /** A step is being checked asynchronously (an OAUTHBEARER JWT): nothing else is taken meanwhile. */
  | { kind: 'verifying'; raw: boolean }
  | { kind: 'done'; session: Session }
  | { kind: 'failed' };

const BEFORE_AUTHENTICATION = new Set<number>([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);
const FAILED = 'Authentication failed: Invalid username or password';

/**
 * One step of a mechanism's exchange: more to come (`refused`: an error challenge was sent, why),
 * done as `username` (`credentialExpiresAtMs`: when the credential expires, wall clock), or failed.
 */
type Step =
  | { kind: 'continue'; response: Buffer; refused?: string }
  | { kind: 'done'; response: Buffer; username: string; credentialExpiresAtMs?: number }
  | { kind: 'failed'; reason: string; message?: string };
type Exchange = { step(token: Buffer): Step | Promise<Step> };

/** What SaslAuthenticate answers: the server's token, or an error (the connection then closes). */
export interface SaslAuthenticateOutcome {
  errorCode: number;
  errorMessage: string | null;
  authBytes: Buffer;
  /** KIP-368: how long the session lasts, in ms (0: for as long as the connection). */
  sessionLifetimeMs: number;
}

/** Looks up a user's SCRAM credential for a mechanism type (the metadata image's). */
export type ScramCredentials = (username: string, mechanism: number) => ScramCredential | undefined;

const EMPTY = Buffer.alloc(0);

export class SaslAuthenticator {
  readonly #listeners: ReadonlyMap<string, SaslSettings>;
  readonly #logger: Logger;
  readonly #states = new WeakMap<ConnectionInfo, SaslState>();
  readonly #scramCredentials: ScramCredentials;
  /** For the made-up salts of unknown SCRAM users (the same name gets the same salt while this broker runs). */
  readonly #secret = randomBytes(32);

  readonly #clock: Clock;
  /** connections.max.reauth.ms: 0 keeps a session for the connection's life. */
  readonly #reauthMs: number;

  constructor(listeners: ReadonlyMap<string, SaslSettings>, scramCredentials: ScramCredentials, options: { clock: Clock; logger: Logger; connectionsMaxReauthMs?: number }) {
    this.#listeners = listeners;
    this.#scramCredentials = scramCredentials;
    this.#clock = options.clock;
    this.#reauthMs = options.connectionsMaxReauthMs ?? 0;
    this.#logger = options.logger.child('sasl');
    // OAUTHBEARER validators are set up now (a JWT one imports jose and reads its JWKS), not at the first client.
    for (const [listener, settings] of listeners) {
      if (settings.oauthBearer) oauthBearerValidator(settings.oauthBearer, this.#clock, this.#logger, listener);
    }
  }

  /** Settles once every listener's OAUTHBEARER validator is set up; rejects, naming the key, when one cannot be. */
  async ready(): Promise<void> {
    for (const [listener, settings] of this.#listeners) {
      if (settings.oauthBearer) await oauthBearerValidator(settings.oauthBearer, this.#clock, this.#logger, listener);
    }
  }

  /**
   * For a connection that has not authenticated yet: the outcome of a frame the dispatcher must not
   * see (a raw token, a request other than ApiVersions and the SASL ones), or undefined to dispatch it.
   */
  screen(frame: Buffer, connection: ConnectionInfo): FrameOutcome | Promise<FrameOutcome> | undefined {
    const state = this.#state(connection);
    if (state === undefined) return undefined;
    if (state.kind === 'done') {
      if (this.#clock.monotonicMs() < state.session.expiresAtMs) return undefined;
      // The session has ended: only a re-authentication is taken.
      const apiKey = frame.length >= 2 ? frame.readInt16BE(0) : -1;
      if (apiKey === ApiKey.SaslHandshake || apiKey === ApiKey.SaslAuthenticate) return undefined;
      this.#logger.info('closing connection: its SASL session has expired', { listener: connection.listenerName, client: `${connection.remoteAddress}:${connection.remotePort}`, principal: state.session.principal });
      return { kind: 'close', reason: 'SASL session expired without re-authentication' };
    }
    if (state.kind === 'authenticate' && state.raw) {
      const rawOutcome = (outcome: SaslAuthenticateOutcome): FrameOutcome =>
        outcome.errorCode === ErrorCode.NONE ? { kind: 'respond', chunks: [outcome.authBytes] } : { kind: 'close', reason: 'SASL authentication failed' };
      const outcome = this.authenticate(connection, frame);
      return outcome instanceof Promise ? outcome.then(rawOutcome) : rawOutcome(outcome);
    }
    if (state.kind === 'verifying' && state.raw) return { kind: 'close', reason: 'a frame while the SASL token is being checked' };
    const apiKey = frame.length >= 2 ? frame.readInt16BE(0) : -1;
    if (BEFORE_AUTHENTICATION.has(apiKey)) return undefined;
    return { kind: 'close', reason: `request (api key ${apiKey}) before SASL authentication on listener ${connection.listenerName}` };
  }

  /** SaslHandshake: NONE and the listener's mechanisms, UNSUPPORTED_SASL_MECHANISM, or ILLEGAL_SASL_STATE (not a SASL listener, or not now). */
  handshake(connection: ConnectionInfo, mechanism: string, version: number): { errorCode: number; mechanisms: string[] } {
    const state = this.#state(connection);
    const settings = this.#listeners.get(connection.listenerName);
    // A new session on an authenticated connection (KIP-368): with re-authentication on, v1, the same mechanism.
    const renewing = state?.kind === 'done' && Number.isFinite(state.session.expiresAtMs) && version >= 1 ? state.session : undefined;
    if ((state?.kind !== 'handshake' && renewing === undefined) || settings === undefined) return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, mechanisms: [] };
    const mechanisms = [...settings.mechanisms];
    if (!mechanisms.includes(mechanism) || (renewing !== undefined && renewing.mechanism !== mechanism)) return { errorCode: ErrorCode.UNSUPPORTED_SASL_MECHANISM, mechanisms: renewing ? [renewing.mechanism] : mechanisms };
    this.#states.set(connection, { kind: 'authenticate', mechanism, raw: version === 0, exchange: this.#exchange(mechanism, settings), ...(renewing ? { session: renewing } : {}) });
    return { errorCode: ErrorCode.NONE, mechanisms };
  }

  #exchange(mechanism: string, settings: SaslSettings): Exchange {
    const scram = scramMechanismByName(mechanism);
    if (scram !== undefined) return new ScramServerExchange(scram, (username) => this.#scramCredentials(username, scram.type), this.#secret);
    const oauthBearer = settings.oauthBearer;
    if (mechanism === OAUTHBEARER && oauthBearer !== undefined) {
      return new OAuthBearerServerExchange(() => oauthBearerValidator(oauthBearer, this.#clock, this.#logger), oauthBearer.maxInitialResponseBytes);
    }
    return { step: (token) => checkPlain(token, settings.plainUsers) };
  }

  /**
   * The client's next token for the mechanism it chose: NONE and the server's token, or an error
   * code and message (the connection then closes). A promise while a token is checked asynchronously.
   */
  authenticate(connection: ConnectionInfo, token: Buffer): SaslAuthenticateOutcome | Promise<SaslAuthenticateOutcome> {
    const state = this.#state(connection);
    if (state?.kind !== 'authenticate') {
      return { errorCode: ErrorCode.ILLEGAL_SASL_STATE, errorMessage: 'SaslAuthenticate is not expected now: send SaslHandshake first, once', authBytes: EMPTY, sessionLifetimeMs: 0 };
    }
    let step: Step | Promise<Step>;
    try {
      step = state.exchange.step(token);
    } catch (error) {
      step = { kind: 'failed', reason: `internal error: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (!(step instanceof Promise)) return this.#settle(connection, state, step);
    this.#states.set(connection, { kind: 'verifying', raw: state.raw });
    return step.then(
      (settled) => this.#settle(connection, state, settled),
      (error: unknown) => this.#settle(connection, state, { kind: 'failed', reason: `internal error: ${error instanceof Error ? error.message : String(error)}` }),
    );
  }

  #settle(connection: ConnectionInfo, state: Extract<SaslState, { kind: 'authenticate' }>, step: Step): SaslAuthenticateOutcome {
    const fail = (reason: string, message: string): SaslAuthenticateOutcome => {
      this.#states.set(connection, { kind: 'failed' });
      this.#logger.info('SASL authentication failed', { listener: connection.listenerName, client: `${connection.remoteAddress}:${connection.remotePort}`, mechanism: state.mechanism, reason });
      return { errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: message, authBytes: EMPTY, sessionLifetimeMs: 0 };
    };
    if (step.kind === 'failed') {
      return fail(step.reason, step.message ?? (state.mechanism === 'PLAIN' ? FAILED : `Authentication failed during authentication due to invalid credentials with SASL mechanism ${state.mechanism}`));
    }
    if (step.kind === 'continue') {
      this.#states.set(connection, state);
      if (step.refused !== undefined) {
        this.#logger.info('SASL authentication refused: error challenge sent', { listener: connection.listenerName, client: `${connection.remoteAddress}:${connection.remotePort}`, mechanism: state.mechanism, reason: step.refused });
      }
      return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.response, sessionLifetimeMs: 0 };
    }
    const principal = `User:${step.username}`;
    if (state.session !== undefined && state.session.principal !== principal) {
      return fail('a different principal on re-authentication', `Cannot change principals during re-authentication from ${state.session.principal}: ${principal}`);
    }
    // Kafka sets a lifetime only for clients that can re-authenticate (SaslAuthenticate v1+), yet ends every session.
    // A credential that expires (an OAUTHBEARER token) bounds it, connections.max.reauth.ms or not.
    let lifetimeMs = this.#reauthMs > 0 ? this.#reauthMs : 0;
    let expiresAtMs = lifetimeMs > 0 ? this.#clock.monotonicMs() + lifetimeMs : Number.POSITIVE_INFINITY;
    if (step.credentialExpiresAtMs !== undefined) {
      const credentialMs = Math.max(0, step.credentialExpiresAtMs - this.#clock.nowMs());
      lifetimeMs = lifetimeMs > 0 ? Math.min(lifetimeMs, credentialMs) : credentialMs;
      // 0 (a token past its expiry within the allowed clock skew): the session is over at once, as in Kafka.
      expiresAtMs = this.#clock.monotonicMs() + lifetimeMs;
    }
    this.#states.set(connection, { kind: 'done', session: { mechanism: state.mechanism, principal, expiresAtMs } });
    connection.principal = principal;
    connection.authenticated = true;
    return { errorCode: ErrorCode.NONE, errorMessage: null, authBytes: step.response, sessionLifetimeMs: lifetimeMs };
  }

  #state(connection: ConnectionInfo): SaslState | undefined {
    if (!this.#listeners.has(connection.listenerName) || connection.forwarded) return undefined;
    let state = this.#states.get(connection);
    if (state === undefined) {
      state = { kind: 'handshake' };
      this.#states.set(connection, state);
    }
    return state;
  }
}

/** The username a PLAIN token authenticates, or why not (a message for the client, a reason for the log). */
function checkPlain(token: Buffer, users: ReadonlyMap<string, string>): Step {
  const parts = token.toString('utf8').split('\0');
  if (parts.length !== 3) return { kind: 'failed', message: `Invalid SASL/PLAIN response: expected 3 tokens, got ${parts.length}`, reason: 'malformed token' };
  const [authorizationId, username, password] = parts as [string, string, string];
  if (username === '') return { kind: 'failed', message: 'Authentication failed: username not specified', reason: 'no username' };
  if (authorizationId !== '' && authorizationId !== username) {
    return { kind: 'failed', message: 'Authentication failed: Client requested an authorization id that is different from username', reason: 'authorization id differs' };
  }
  const expected = users.get(username);
  // Digests of equal length, compared in constant time whether or not the user exists.
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const matches = timingSafeEqual(digest(password), digest(expected ?? `\0no such user\0${password}`));
  return expected !== undefined && matches ? { kind: 'done', response: EMPTY, username } : { kind: 'failed', message: FAILED, reason: 'invalid username or password' };
}
