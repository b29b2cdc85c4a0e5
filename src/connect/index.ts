// Conveyor's Kafka Connect, as the package's `conveyor/connect` entry point: startConnect() runs a
// worker in this process, and the connector API (connect/api) is what connectors, transforms and
// converters written in TypeScript extend. Kept apart from the main entry so that a program that
// only embeds a broker does not load the Connect runtime (or its HTTP server).
export * from './api/index.js';
export { startConnect, type RunningConnect, type StartConnectOptions } from './runtime/start-connect.js';
export type { Herder, ConnectorInfo, ConnectorStateInfo, ConnectorState, TaskStateInfo } from './runtime/herder.js';
export { ConnectRestError } from './runtime/herder.js';
