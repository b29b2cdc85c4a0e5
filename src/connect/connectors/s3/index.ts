// The connectors of this folder, as the worker's plugin registry lists them (src/connect/runtime/plugins.ts).
import type { SinkConnector, SourceConnector } from '../../api/connector.js';
import { S3SinkConnector } from './s3-sink.js';

export const connectors: readonly { readonly className: string; readonly create: new () => SourceConnector | SinkConnector }[] = [
  { className: 'conveyor.connect.s3.S3SinkConnector', create: S3SinkConnector },
  // Confluent's name, so its connector configs work as written.
  { className: 'io.confluent.connect.s3.S3SinkConnector', create: S3SinkConnector },
];
