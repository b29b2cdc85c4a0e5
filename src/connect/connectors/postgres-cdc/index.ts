// The connectors of this folder, as the worker's plugin registry lists them (src/connect/runtime/plugins.ts).
// The PostgreSQL source is listed under Debezium's class name too, so Debezium configurations run as written.
import type { SinkConnector, SourceConnector } from '../../api/connector.js';
import { PostgresCdcSourceConnector } from './postgres-cdc-source-connector.js';

export const connectors: readonly { readonly className: string; readonly create: new () => SourceConnector | SinkConnector }[] = [
  { className: 'conveyor.connect.postgres.PostgresCdcSourceConnector', create: PostgresCdcSourceConnector },
  { className: 'io.debezium.connector.postgresql.PostgresConnector', create: PostgresCdcSourceConnector },
];
