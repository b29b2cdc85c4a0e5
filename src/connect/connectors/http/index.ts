// The connectors of this folder, as the worker's plugin registry lists them (src/connect/runtime/plugins.ts).
// They use only node:http(s): nothing to load lazily.
import type { SinkConnector, SourceConnector } from '../../api/connector.js';
import { HttpSinkConnector } from './http-sink.js';
import { HttpSourceConnector } from './http-source.js';

export const connectors: readonly { readonly className: string; readonly create: new () => SourceConnector | SinkConnector }[] = [
  { className: 'conveyor.connect.http.HttpSourceConnector', create: HttpSourceConnector },
  { className: 'conveyor.connect.http.HttpSinkConnector', create: HttpSinkConnector },
];
