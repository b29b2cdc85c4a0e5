// SaslAuthenticate (key 36), versions 0-2: the client's SASL token after a SaslHandshake v1 on a
// SASL listener. Success answers NONE with no server token (PLAIN has none) and no session
// lifetime (re-authentication is not asked for); a failure answers SASL_AUTHENTICATION_FAILED
// with its message and closes the connection. See src/broker/sasl-authenticator.ts.
import { ErrorCode } from '../../base/error-codes.js';
import { SaslAuthenticateApi } from '../../protocol/messages/index.js';
import { CLOSE_AFTER_RESPONSE, defineHandler } from './handler.js';

const EMPTY = Buffer.alloc(0);

export const saslAuthenticateHandler = defineHandler({
  api: SaslAuthenticateApi,
  minVersion: 0,
  maxVersion: 2,
  handle(request, { broker, connection }) {
    const { errorCode, errorMessage } = broker.sasl.authenticate(connection, request.authBytes);
    const response = { errorCode, errorMessage, authBytes: EMPTY, sessionLifetimeMs: 0n };
    return errorCode === ErrorCode.SASL_AUTHENTICATION_FAILED ? { [CLOSE_AFTER_RESPONSE]: response } : response;
  },
  errorResponse(_request, errorCode) {
    return { errorCode, errorMessage: null, authBytes: EMPTY, sessionLifetimeMs: 0n };
  },
});
