// The connectors of this folder, as the worker's plugin registry lists them (src/connect/runtime/plugins.ts).
// The MySQL/MariaDB source is listed under Debezium's class names too, so Debezium configurations run as written.
import type { SinkConnector, SourceConnector } from '../../api/connector.js';
import { MySqlCdcSourceConnector } from './mysql-cdc-source-connector.js';

export const connectors: readonly { readonly className: string; readonly create: new () => SourceConnector | SinkConnector }[] = [
  { className: 'conveyor.connect.mysql.MySqlCdcSourceConnector', create: MySqlCdcSourceConnector },
  { className: 'io.debezium.connector.mysql.MySqlConnector', create: MySqlCdcSourceConnector },
  { className: 'io.debezium.connector.mariadb.MariaDbConnector', create: MySqlCdcSourceConnector },
];
