// SaslHandshake (key 17), versions 0-1. On a SASL listener, before authentication: the mechanism
// the client will use, answered with the listener's mechanisms (UNSUPPORTED_SASL_MECHANISM when
// it is not one of them, and the connection closes). v0 means the credentials follow as raw
// frames, v1 in SaslAuthenticate requests. Anywhere else (another listener, after authentication):
// ILLEGAL_SASL_STATE, as Kafka answers. The state lives in src/broker/sasl-authenticator.ts.
import { ErrorCode } from '../../base/error-codes.js';
import { SaslHandshakeApi } from '../../protocol/messages/index.js';
import { CLOSE_AFTER_RESPONSE, defineHandler } from './handler.js';

export const saslHandshakeHandler = defineHandler({
  api: SaslHandshakeApi,
  minVersion: 0,
  maxVersion: 1,
  handle(request, { broker, connection, apiVersion }) {
    const answer = broker.sasl.handshake(connection, request.mechanism, apiVersion);
    return answer.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM ? { [CLOSE_AFTER_RESPONSE]: answer } : answer;
  },
  errorResponse(_request, errorCode) {
    return { errorCode, mechanisms: [] };
  },
});
