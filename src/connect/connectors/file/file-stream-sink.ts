// Kafka's FileStreamSink connector: appends each record's value as one line to a file (or
// standard output). flush makes the lines durable (fsync) before the worker commits the offsets
// of the records behind them, so after a crash the file holds at least every committed record.
import { open, type FileHandle } from 'node:fs/promises';
import { ConnectConfigDef } from '../../api/config.js';
import { SinkConnector, SinkTask, type TopicPartitionOffset } from '../../api/connector.js';
import type { SinkRecord } from '../../api/data.js';

const VERSION = '1.0.0';

const configDef = new ConnectConfigDef()
  .define({ name: 'file', type: 'string', defaultValue: null, importance: 'HIGH', documentation: 'Destination filename. If not specified, the standard output will be used' });

export class FileStreamSinkConnector extends SinkConnector {
  private props: Readonly<Record<string, string>> = {};

  version(): string {
    return VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    configDef.parse(props);
    this.props = props;
  }
  taskClass(): new () => SinkTask {
    return FileStreamSinkTask;
  }
  taskConfigs(maxTasks: number): Record<string, string>[] {
    return Array.from({ length: maxTasks }, () => ({ ...this.props }));
  }
  stop(): void {}
  config(): ConnectConfigDef {
    return configDef;
  }
  override alterOffsets(): boolean {
    return true;
  }
}

export class FileStreamSinkTask extends SinkTask {
  private handle: FileHandle | null = null;
  private toStdout = true;

  version(): string {
    return VERSION;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    const filename = configDef.parse(props).optionalString('file');
    this.toStdout = filename === null;
    if (filename !== null) this.handle = await open(filename, 'a');
  }

  async put(records: readonly SinkRecord[]): Promise<void> {
    if (records.length === 0) return;
    const text = records.map((record) => `${lineOf(record.value)}\n`).join('');
    if (this.toStdout) process.stdout.write(text);
    else await this.handle!.appendFile(text);
  }

  override async flush(_offsets: readonly TopicPartitionOffset[]): Promise<void> {
    await this.handle?.sync();
  }

  async stop(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
  }
}

/** A value as Java's String.valueOf would print it (Buffers as their text, objects as JSON). */
function lineOf(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'object') return JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? Number(item) : item));
  return String(value);
}
