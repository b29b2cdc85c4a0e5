// The settings and results of OAUTHBEARER token validation, shared by oauthbearer.ts (the
// exchange, the unsecured validator) and oauthbearer-jwt.ts (JWT validation with jose).

/** Options of Kafka's unsecured validator (the `unsecuredValidator*` options of the JAAS entry). */
export interface UnsecuredValidatorSettings {
  readonly kind: 'unsecured';
  /** unsecuredValidatorPrincipalClaimName (default sub). */
  readonly principalClaimName: string;
  /** unsecuredValidatorScopeClaimName (default scope). */
  readonly scopeClaimName: string;
  /** unsecuredValidatorRequiredScope, split at spaces. */
  readonly requiredScope: readonly string[];
  /** unsecuredValidatorAllowableClockSkewMs (default 0). */
  readonly allowableClockSkewMs: number;
}

/** The sasl.oauthbearer.* settings of KIP-768's validator, from the listener's keys. */
export interface JwtValidatorSettings {
  readonly kind: 'jwt';
  /** sasl.oauthbearer.jwks.endpoint.url: a file: URL (read once, at start) or an http(s) one (refreshed). */
  readonly jwksEndpointUrl: string;
  readonly jwksEndpointRefreshMs: number;
  readonly jwksEndpointRetryBackoffMs: number;
  readonly jwksEndpointRetryBackoffMaxMs: number;
  readonly clockSkewSeconds: number;
  /** sasl.oauthbearer.expected.audience; null: a token with an `aud` claim is refused (as Kafka's jose4j does). */
  readonly expectedAudience: readonly string[] | null;
  readonly expectedIssuer: string | null;
  readonly scopeClaimName: string;
  readonly subClaimName: string;
  /** The key the JWKS URL came from, for messages. */
  readonly jwksEndpointUrlKey: string;
}

/** One listener's OAUTHBEARER settings. */
export interface OAuthBearerSettings {
  readonly validator: UnsecuredValidatorSettings | JwtValidatorSettings;
  /** The longest initial response taken (sasl.server.max.receive.size, also on re-authentication). */
  readonly maxInitialResponseBytes: number;
}

/** A validated token: its principal name, its expiry (wall-clock ms) and scope. */
export interface ValidToken {
  readonly ok: true;
  readonly principal: string;
  readonly expiresAtMs: number;
  readonly scope: readonly string[];
}

/** A refused token: the error status for the client, and why (for the broker's log, never the token). */
export interface RefusedToken {
  readonly ok: false;
  readonly status: 'invalid_token' | 'insufficient_scope';
  /** The required scope, for insufficient_scope. */
  readonly scope?: readonly string[];
  readonly reason: string;
}

export type TokenValidation = ValidToken | RefusedToken;

export interface TokenValidator {
  validate(token: string): TokenValidation | Promise<TokenValidation>;
}
