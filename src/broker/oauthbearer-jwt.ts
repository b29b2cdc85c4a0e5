// KIP-768's JWT validation (Kafka's OAuthBearerValidatorCallbackHandler) with `jose`: this module
// is imported only when a listener selects that validator, so a broker without it never loads jose.
//
// As Kafka (jose4j underneath) checks a token: three non-empty sections; a signature (never alg
// `none`) by a key of the JWKS; `exp` and `iat` present, `exp` not past and `nbf` (if any) not
// ahead, both within sasl.oauthbearer.clock.skew.seconds; `iss` equal to
// sasl.oauthbearer.expected.issuer when set; `aud` holding one of
// sasl.oauthbearer.expected.audience when set, and, when it is not set, no `aud` at all (jose4j's
// default, which Kafka keeps); the subject claim (sasl.oauthbearer.sub.claim.name) a non-blank
// string, the principal; the scope claim (sasl.oauthbearer.scope.claim.name), when a list, without
// blank or repeated items. Every refusal is `invalid_token`.
//
// The JWKS (sasl.oauthbearer.jwks.endpoint.url): a file: URL is read once, when the validator is
// set up; an http(s) one is fetched then and again once sasl.oauthbearer.jwks.endpoint.refresh.ms
// has passed (at the next token, the old keys serving meanwhile), each fetch retried with
// exponential backoff from sasl.oauthbearer.jwks.endpoint.retry.backoff.ms for up to
// sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms, as Kafka's RefreshingHttpsJwks does. A token
// naming a key the set lacks asks for a fetch at once, at most once a minute per key id (Kafka's
// rule); unlike Kafka, which refuses that token and lets the client retry, the token waits briefly
// for the new set.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { JSONWebKeySet, JWTPayload, JWTVerifyGetKey, JWTVerifyOptions, KeyObject, CryptoKey } from 'jose';
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import type { JwtValidatorSettings, TokenValidation, TokenValidator } from './oauthbearer-types.js';

type Jose = typeof import('jose');

/** Kafka's RefreshingHttpsJwks: a missing key id may trigger a fetch once a minute, for the last 16 ids. */
const MISSING_KEY_ID_IN_FLIGHT_MS = 60_000;
const MISSING_KEY_IDS_KEPT = 16;
const MISSING_KEY_ID_MAX_LENGTH = 1000;
/** How long a token whose key is missing waits for the fetch it started (the SASL exchange has 10 s). */
const MISSING_KEY_WAIT_MS = 5_000;
/** One JWKS fetch's limit, and the largest JWKS document read. */
const FETCH_TIMEOUT_MS = 10_000;
const MAX_JWKS_BYTES = 1024 * 1024;

export interface JwtValidatorOptions {
  clock: Clock;
  logger: Logger;
  /** For tests: how a JWKS document is fetched from an http(s) URL. */
  fetchJwks?: (url: string) => Promise<unknown>;
}

/** Where the validator's keys come from. */
interface JwksSource {
  /** The key set now, or undefined when none has been read yet. */
  current(): JWTVerifyGetKey | undefined;
  /** A token named a key (id) the set lacks: a promise of a fetch started for it (true when it read a set), or false when none was. */
  missingKey(keyId: string): Promise<boolean> | false;
}

/** Sets up the validator: imports jose and reads (file:) or first fetches (http, https) the JWKS. */
export async function createJwtValidator(settings: JwtValidatorSettings, options: JwtValidatorOptions): Promise<TokenValidator> {
  const jose = await import('jose').catch((error: unknown) => {
    // The bundled command line loads it with require() (scripts/bundle-cli.mjs).
    if ((error as { code?: unknown }).code === 'ERR_REQUIRE_ESM') throw new Error(`jose is an ES module, which this Node (${process.version}) cannot require(): use Node 20.19 or later`);
    throw error;
  });
  const url = new URL(settings.jwksEndpointUrl);
  let keys: JwksSource;
  if (url.protocol === 'file:') {
    const path = fileURLToPath(url);
    let document: unknown;
    try {
      document = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new Error(`${settings.jwksEndpointUrlKey}: cannot read a JWKS from ${path}: ${(error as Error).message}`);
    }
    const set = localSet(jose, document, `${settings.jwksEndpointUrlKey} (${path})`);
    keys = { current: () => set, missingKey: () => false };
  } else {
    const remote = new RemoteJwks(jose, settings, options);
    await remote.refresh();
    keys = remote;
  }
  return new JwtValidator(jose, settings, keys, options.clock);
}

function localSet(jose: Jose, document: unknown, source: string): JWTVerifyGetKey {
  try {
    return jose.createLocalJWKSet(document as JSONWebKeySet);
  } catch (error) {
    throw new Error(`${source} is not a JSON Web Key Set: ${(error as Error).message}`);
  }
}

const refused = (reason: string): TokenValidation => ({ ok: false, status: 'invalid_token', reason });

class JwtValidator implements TokenValidator {
  readonly #options: Omit<JWTVerifyOptions, 'currentDate'>;

  constructor(
    private readonly jose: Jose,
    private readonly settings: JwtValidatorSettings,
    private readonly keys: JwksSource,
    private readonly clock: Clock,
  ) {
    this.#options = {
      clockTolerance: settings.clockSkewSeconds,
      requiredClaims: ['exp', 'iat'],
      ...(settings.expectedIssuer === null ? {} : { issuer: settings.expectedIssuer }),
      ...(settings.expectedAudience === null ? {} : { audience: [...settings.expectedAudience] }),
    };
  }

  async validate(token: string): Promise<TokenValidation> {
    // Kafka's SerializedJwt: three sections, none empty (so an unsigned token is refused here).
    const sections = token.trim().split('.');
    if (sections.length !== 3) return refused(`a malformed JWT: ${sections.length} sections, not 3 (header, payload and signature)`);
    const empty = ['header', 'payload', 'signature'].find((_, index) => sections[index]!.trim() === '');
    if (empty !== undefined) return refused(`a malformed JWT: its ${empty} section is empty`);
    let payload: JWTPayload;
    try {
      payload = await this.#verify(token.trim());
    } catch (error) {
      return refused(`could not validate the access token: ${describe(error)}`);
    }
    const { settings } = this;
    if (settings.expectedAudience === null && payload.aud !== undefined) {
      return refused('the token has an aud claim but sasl.oauthbearer.expected.audience is not set (Kafka refuses such a token)');
    }
    const subject = payload[settings.subClaimName];
    if (typeof subject !== 'string' || subject.trim() === '') return refused(`the ${settings.subClaimName} claim is not a non-blank string`);
    const scope = payload[settings.scopeClaimName];
    const items = typeof scope === 'string' ? [scope] : Array.isArray(scope) ? scope : [];
    const seen = new Set<string>();
    for (const item of items) {
      if (typeof item !== 'string' || item.trim() === '') return refused(`the ${settings.scopeClaimName} claim holds an empty or non-string item`);
      if (seen.has(item.trim())) return refused(`the ${settings.scopeClaimName} claim holds ${item.trim()} twice`);
      seen.add(item.trim());
    }
    const { exp, iat } = payload as { exp: number; iat: number };
    if (exp < 0 || iat < 0) return refused('a negative exp or iat claim');
    return { ok: true, principal: subject.trim(), expiresAtMs: Math.floor(exp) * 1000, scope: [...seen] };
  }

  async #verify(token: string): Promise<JWTPayload> {
    const options = { ...this.#options, currentDate: new Date(this.clock.nowMs()) };
    try {
      return (await this.jose.jwtVerify(token, (header, jws) => this.#key(header, jws), options)).payload;
    } catch (error) {
      // Several keys fit a token without a key id: the one whose signature verifies (as jose4j picks).
      if (!(error instanceof this.jose.errors.JWKSMultipleMatchingKeys)) throw error;
      let last: unknown = error;
      for await (const key of error as unknown as AsyncIterable<CryptoKey | KeyObject>) {
        try {
          return (await this.jose.jwtVerify(token, key, options)).payload;
        } catch (failure) {
          if (!(failure instanceof this.jose.errors.JWSSignatureVerificationFailed)) throw failure;
          last = failure;
        }
      }
      throw last;
    }
  }

  async #key(...args: Parameters<JWTVerifyGetKey>): Promise<CryptoKey | KeyObject> {
    const [header] = args;
    const set = this.keys.current();
    try {
      if (set === undefined) throw new this.jose.errors.JWKSNoMatchingKey(`no JWKS has been read from ${this.settings.jwksEndpointUrl} yet`);
      return (await set(...args)) as CryptoKey | KeyObject;
    } catch (error) {
      if (!(error instanceof this.jose.errors.JWKSNoMatchingKey)) throw error;
      const fetched = this.keys.missingKey(typeof header.kid === 'string' ? header.kid : '');
      if (fetched === false || !(await withinMs(fetched, MISSING_KEY_WAIT_MS, this.clock))) throw error;
      const refreshed = this.keys.current();
      if (refreshed === undefined) throw error;
      return (await refreshed(...args)) as CryptoKey | KeyObject;
    }
  }
}

/** A refusal's reason for the log: jose's error code and message (neither holds the token). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${error.message}` : error.message;
}

/** Whether `promise` resolves to true within `ms` (false when it does not, or resolves false). */
function withinMs(promise: Promise<boolean>, ms: number, clock: Clock): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = clock.schedule(ms, () => resolve(false));
    promise.then(
      (value) => {
        cancel();
        resolve(value);
      },
      () => {
        cancel();
        resolve(false);
      },
    );
  });
}

/** An http(s) JWKS, fetched at start and refreshed as Kafka's RefreshingHttpsJwks does. */
class RemoteJwks implements JwksSource {
  #set: JWTVerifyGetKey | undefined;
  /** When the last refresh ended (monotonic ms), successful or not. */
  #refreshedAtMs = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<boolean> | undefined;
  /** Key ids that started a fetch, with the monotonic time until which they may not start another. */
  readonly #missingKeyIds = new Map<string, number>();
  readonly #logger: Logger;

  constructor(
    private readonly jose: Jose,
    private readonly settings: JwtValidatorSettings,
    private readonly options: JwtValidatorOptions,
  ) {
    this.#logger = options.logger.child('oauthbearer');
  }

  current(): JWTVerifyGetKey | undefined {
    // A set older than the refresh interval is refreshed in the background; a broker that has
    // none yet (its fetches failed) tries again once the retry time has passed.
    const age = this.options.clock.monotonicMs() - this.#refreshedAtMs;
    if (age >= (this.#set === undefined ? this.settings.jwksEndpointRetryBackoffMaxMs : this.settings.jwksEndpointRefreshMs)) void this.refresh();
    return this.#set;
  }

  missingKey(keyId: string): Promise<boolean> | false {
    // With no set yet, a token waits for the fetch under way (current() starts one when due).
    if (this.#set === undefined) return this.#refreshing ?? false;
    if (keyId.length > MISSING_KEY_ID_MAX_LENGTH) return false;
    const now = this.options.clock.monotonicMs();
    const next = this.#missingKeyIds.get(keyId);
    if (next !== undefined && next > now) return false;
    this.#missingKeyIds.delete(keyId);
    this.#missingKeyIds.set(keyId, now + MISSING_KEY_ID_IN_FLIGHT_MS);
    if (this.#missingKeyIds.size > MISSING_KEY_IDS_KEPT) this.#missingKeyIds.delete(this.#missingKeyIds.keys().next().value!);
    return this.refresh();
  }

  /** Fetches the set (one fetch at a time), retrying with backoff; true when it read one. */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#fetchWithRetries().finally(() => {
      this.#refreshing = undefined;
      this.#refreshedAtMs = this.options.clock.monotonicMs();
    });
    return this.#refreshing;
  }

  async #fetchWithRetries(): Promise<boolean> {
    const { clock } = this.options;
    const { jwksEndpointUrl: url, jwksEndpointRetryBackoffMs: backoffMs, jwksEndpointRetryBackoffMaxMs: backoffMaxMs } = this.settings;
    const endMs = clock.monotonicMs() + backoffMaxMs;
    let lastError: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        const document = await (this.options.fetchJwks ?? fetchJwks)(url);
        const set = localSet(this.jose, document, url);
        const keyIds = Array.isArray((document as JSONWebKeySet).keys) ? (document as JSONWebKeySet).keys.map((key) => key.kid) : [];
        for (const keyId of keyIds) if (typeof keyId === 'string') this.#missingKeyIds.delete(keyId);
        this.#set = set;
        this.#logger.info('read the JWKS', { url, keys: keyIds.length });
        return true;
      } catch (error) {
        lastError = error;
        const waitMs = Math.min(backoffMs * 2 ** (attempt - 1), endMs - clock.monotonicMs());
        if (waitMs <= 0) break;
        await new Promise<void>((resolve) => clock.schedule(waitMs, resolve));
      }
    }
    this.#logger.warn(this.#set === undefined ? 'cannot fetch the JWKS: OAUTHBEARER tokens are refused until a fetch succeeds' : 'cannot refresh the JWKS: keeping the keys read before', {
      url,
      key: this.settings.jwksEndpointUrlKey,
      error: lastError instanceof Error ? lastError.message : String(lastError),
    });
    return false;
  }
}

/** GETs a JWKS document (JSON, at most 1 MiB) from an http(s) URL. */
async function fetchJwks(url: string): Promise<unknown> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > MAX_JWKS_BYTES) throw new Error(`GET ${url} answered ${declared} bytes, more than the ${MAX_JWKS_BYTES} a JWKS may have`);
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of response.body ?? []) {
    bytes += chunk.length;
    if (bytes > MAX_JWKS_BYTES) throw new Error(`GET ${url} answered more than the ${MAX_JWKS_BYTES} bytes a JWKS may have`);
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}
