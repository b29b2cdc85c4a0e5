// Conveyor's Connect API: what a connector, transform, predicate or converter written in
// TypeScript imports. Connectors import only this module (and connect/api's files).
export * from './config.js';
export * from './connector.js';
export * from './data.js';
