// The PostgreSQL change data capture source (Debezium's PostgreSQL connector, pgoutput only):
// snapshot, then the logical replication stream, as Debezium change events. One task whatever
// tasks.max says: a replication slot has one reader.
import type { ConnectConfigDef } from '../../api/config.js';
import { SourceConnector, type SourceTask } from '../../api/connector.js';
import { configDef, parseSettings } from './config.js';
import { PostgresCdcSourceTask } from './postgres-cdc-source-task.js';
import { CONNECTOR_VERSION } from './source-info.js';

export class PostgresCdcSourceConnector extends SourceConnector {
  private props: Readonly<Record<string, string>> = {};

  version(): string {
    return CONNECTOR_VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    parseSettings(props);
    this.props = props;
  }
  taskClass(): new () => SourceTask {
    return PostgresCdcSourceTask;
  }
  taskConfigs(_maxTasks: number): Record<string, string>[] {
    return [{ ...this.props }];
  }
  stop(): void {}
  config(): ConnectConfigDef {
    return configDef;
  }
  override exactlyOnceSupport(): 'UNSUPPORTED' {
    // The slot confirms positions after offsets are stored, not inside Kafka transactions.
    return 'UNSUPPORTED';
  }
  override alterOffsets(): boolean {
    // Offsets name WAL positions; a changed offset makes the task skip up to it, or resnapshot when removed.
    return true;
  }
}
