// The network layer's public surface: frames in, outcomes out, for the request dispatcher and src/node.
export { Connection, type ConnectionStats } from './connection.js';
export { ConnectionQuotas, resolveIpOverrides } from './connection-quotas.js';
export type { ConnectionInfo, FrameHandler, FrameOutcome } from './frame-handler.js';
export { FrameReader, FrameSizeError } from './frame-reader.js';
export { defaultListeners, parseListeners, TlsReload, type BoundListener, type ListenerConfig } from './listeners.js';
export {
  assertValidNetworkLimits,
  type ConnectionLimits,
  defaultNetworkLimits,
  type ListenerConnectionLimits,
  maxFrameSizeBytes,
  type NetworkLimits,
  UNLIMITED,
  unlimitedConnectionLimits,
} from './network-limits.js';
export { type ConnectionQuotaSettings, defaultCloseGraceMs, SocketServer, type SocketServerOptions } from './socket-server.js';
