// The network layer's public surface: frames in, outcomes out, for the request dispatcher and src/node.
export { Connection, type ConnectionStats } from './connection.js';
export type { ConnectionInfo, FrameHandler, FrameOutcome } from './frame-handler.js';
export { FrameReader, FrameSizeError } from './frame-reader.js';
export { defaultListeners, parseListeners, type BoundListener, type ListenerConfig } from './listeners.js';
export { assertValidNetworkLimits, defaultNetworkLimits, maxFrameSizeBytes, type NetworkLimits } from './network-limits.js';
export { defaultCloseGraceMs, SocketServer, type SocketServerOptions } from './socket-server.js';
