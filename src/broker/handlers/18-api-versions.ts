// ApiVersions (key 18), versions 0-4.
// Lists every API and version range this broker serves, derived from the handler registry.
// Version notes: clients send it first with any version; a version above 4 is answered by the
// dispatcher in v0 with UNSUPPORTED_VERSION (KIP-511). The response header is always v0.
// No features are advertised, so Java 4 clients stay on transactions v1.
import { ErrorCode } from '../../base/error-codes.js';
import { ApiVersionsApi } from '../../protocol/messages/index.js';
import { defineHandler } from './handler.js';

export const apiVersionsHandler = defineHandler({
  api: ApiVersionsApi,
  minVersion: 0,
  maxVersion: 4,
  handle(_request, context) {
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: context.broker.supportedApis.map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion })),
      throttleTimeMs: 0,
    };
  },
  errorResponse(_request, errorCode) {
    return { errorCode, apiKeys: [], throttleTimeMs: 0 };
  },
});
