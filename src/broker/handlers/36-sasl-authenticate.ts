// SaslAuthenticate (key 36), versions 0-2: the client's SASL token after a SaslHandshake v1 on a
// SASL listener. Success answers NONE with the mechanism's next server token (none for PLAIN;
// SCRAM's server-first, then server-final message; OAUTHBEARER's error challenge for a refused
// token, which the client acknowledges with %x01 before the failure) and, from v1, the session's
// lifetime (connections.max.reauth.ms, KIP-368; 0 when re-authentication is off; an OAUTHBEARER
// token's expiry bounds it). An OAUTHBEARER JWT is checked asynchronously. A failure answers
// SASL_AUTHENTICATION_FAILED with its message and closes the connection, and so does
// SaslAuthenticate out of place (ILLEGAL_SASL_STATE), as Kafka closes it. See
// src/broker/sasl-authenticator.ts.
import { ErrorCode } from '../../base/error-codes.js';
import { SaslAuthenticateApi } from '../../protocol/messages/index.js';
import type { SaslAuthenticateOutcome } from '../sasl-authenticator.js';
import { CLOSE_AFTER_RESPONSE, defineHandler } from './handler.js';

const EMPTY = Buffer.alloc(0);

function answer({ errorCode, errorMessage, authBytes, sessionLifetimeMs }: SaslAuthenticateOutcome) {
  const response = { errorCode, errorMessage, authBytes, sessionLifetimeMs: BigInt(sessionLifetimeMs) };
  return errorCode === ErrorCode.NONE ? response : { [CLOSE_AFTER_RESPONSE]: response };
}

export const saslAuthenticateHandler = defineHandler({
  api: SaslAuthenticateApi,
  minVersion: 0,
  maxVersion: 2,
  handle(request, { broker, connection }) {
    const outcome = broker.sasl.authenticate(connection, request.authBytes);
    // A promise while an OAUTHBEARER token's signature is checked.
    return outcome instanceof Promise ? outcome.then(answer) : answer(outcome);
  },
  errorResponse(_request, errorCode) {
    return { errorCode, errorMessage: null, authBytes: EMPTY, sessionLifetimeMs: 0n };
  },
});
