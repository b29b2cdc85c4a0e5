// The MySQL/MariaDB change data capture source (Debezium's MySQL and MariaDB connectors): a
// consistent snapshot, then the row-based binary log, as Debezium change events. One task whatever
// tasks.max says: the binary log is one ordered stream.
import type { ConnectConfigDef } from '../../api/config.js';
import { SourceConnector, type SourceTask } from '../../api/connector.js';
import { configDef, parseSettings } from './config.js';
import { MySqlCdcSourceTask } from './mysql-cdc-source-task.js';
import { CONNECTOR_VERSION } from './source-info.js';

export class MySqlCdcSourceConnector extends SourceConnector {
  private props: Readonly<Record<string, string>> = {};

  version(): string {
    return CONNECTOR_VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    parseSettings(props);
    this.props = props;
  }
  taskClass(): new () => SourceTask {
    return MySqlCdcSourceTask;
  }
  taskConfigs(_maxTasks: number): Record<string, string>[] {
    return [{ ...this.props }];
  }
  stop(): void {}
  config(): ConnectConfigDef {
    return configDef;
  }
  /**
   * Streaming resumes exactly after the last change whose offset is stored (binlog position, event
   * and row), so with the worker's transactions (KIP-618) each change is in Kafka once. A snapshot
   * interrupted by a crash is taken again from the start, repeating its rows: exactly once only
   * without one.
   */
  override exactlyOnceSupport(props: Readonly<Record<string, string>>): 'SUPPORTED' | 'UNSUPPORTED' {
    const mode = (props['snapshot.mode'] ?? 'initial').trim().toLowerCase();
    return mode === 'never' || mode === 'no_data' || mode === 'schema_only' ? 'SUPPORTED' : 'UNSUPPORTED';
  }
  override alterOffsets(): boolean {
    // Offsets name binary log positions; a changed offset makes the task read from there, or resnapshot when removed.
    return true;
  }
}
