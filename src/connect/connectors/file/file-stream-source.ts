// Kafka's FileStreamSource connector: each line of a file (or standard input) becomes one record
// with a string value on `topic`. The source partition is the file name and the offset its byte
// position after the last line sent, so a restarted task goes on where the last stored offset
// says. A line is sent only once its newline has been written. One task at most.
import { open, type FileHandle } from 'node:fs/promises';
import { ConnectConfigDef, type ConnectValidator, Validators } from '../../api/config.js';
import { SourceConnector, SourceTask } from '../../api/connector.js';
import { Schemas, type SourceRecord } from '../../api/data.js';

const VERSION = '1.0.0';
const READ_CHUNK_BYTES = 64 * 1024;
/** How long poll waits for new lines before returning none. */
const IDLE_WAIT_MS = 200;

const singleTopic: ConnectValidator = (name, value) =>
  typeof value !== 'string' || value.trim() === '' ? `Missing required configuration "${name}" which has no default value.`
    : value.includes(',') ? `Invalid value ${value} for configuration ${name}: 'topic' in FileStreamSourceConnector configuration requires definition of a single topic` : undefined;

const configDef = new ConnectConfigDef()
  .define({ name: 'file', type: 'string', defaultValue: null, importance: 'HIGH', documentation: 'Source filename. If not specified, the standard input will be used' })
  .define({ name: 'topic', type: 'string', importance: 'HIGH', validator: singleTopic, documentation: 'The topic to publish data to' })
  .define({ name: 'batch.size', type: 'int', defaultValue: 2000, importance: 'LOW', validator: Validators.atLeast(1), documentation: 'The maximum number of records the source task can read from the file each time it is polled' });

export class FileStreamSourceConnector extends SourceConnector {
  private props: Readonly<Record<string, string>> = {};

  version(): string {
    return VERSION;
  }
  start(props: Readonly<Record<string, string>>): void {
    configDef.parse(props);
    this.props = props;
  }
  taskClass(): new () => SourceTask {
    return FileStreamSourceTask;
  }
  taskConfigs(_maxTasks: number): Record<string, string>[] {
    return [{ ...this.props }];
  }
  stop(): void {}
  config(): ConnectConfigDef {
    return configDef;
  }
  override exactlyOnceSupport(props: Readonly<Record<string, string>>): 'SUPPORTED' | 'UNSUPPORTED' {
    // Standard input cannot be re-read from an offset, so only a file can be exactly once.
    return (props.file ?? '').trim() === '' ? 'UNSUPPORTED' : 'SUPPORTED';
  }
  override alterOffsets(): boolean {
    return true;
  }
}

export class FileStreamSourceTask extends SourceTask {
  private filename: string | null = null;
  private topic = '';
  private batchSize = 2000;
  private handle: FileHandle | null = null;
  /** Byte position of the first byte not yet sent as part of a line. */
  private position = 0;
  /** Bytes read past `position` that hold no complete line yet. */
  private pending = Buffer.alloc(0);
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  /** Standard input's chunks not read yet (when no file is given). */
  private stdinChunks: Buffer[] | undefined;

  version(): string {
    return VERSION;
  }

  async start(props: Readonly<Record<string, string>>): Promise<void> {
    const config = configDef.parse(props);
    this.filename = config.optionalString('file');
    this.topic = config.string('topic');
    this.batchSize = config.number('batch.size');
    if (this.filename !== null) {
      const stored = await this.context.offsetStorageReader.offset({ filename: this.filename });
      const position = stored?.position;
      if (position !== undefined && position !== null) this.position = Number(position);
    }
  }

  async poll(): Promise<SourceRecord[] | null> {
    if (this.stopped) return null;
    const lines = await this.readLines();
    if (lines.length === 0) {
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, IDLE_WAIT_MS);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolveWait();
        };
      });
      return null;
    }
    const sourcePartition = this.filename === null ? null : { filename: this.filename };
    return lines.map(({ line, end }) => ({
      topic: this.topic,
      kafkaPartition: null,
      keySchema: null,
      key: null,
      valueSchema: Schemas.STRING,
      value: line,
      timestamp: null,
      headers: [],
      sourcePartition,
      sourceOffset: this.filename === null ? null : { position: end },
    }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.handle?.close().catch(() => undefined);
    this.handle = null;
  }

  /** Up to batch.size complete lines after `position`, each with the byte position after it. */
  private async readLines(): Promise<{ line: string; end: number }[]> {
    const lines: { line: string; end: number }[] = [];
    while (lines.length < this.batchSize) {
      const newline = this.pending.indexOf(0x0a);
      if (newline >= 0) {
        const raw = this.pending.subarray(0, newline);
        const text = raw.length > 0 && raw[raw.length - 1] === 0x0d ? raw.subarray(0, -1) : raw;
        this.position += newline + 1;
        this.pending = this.pending.subarray(newline + 1);
        lines.push({ line: text.toString('utf8'), end: this.position });
        continue;
      }
      const chunk = await this.readMore();
      if (chunk === 0) break;
    }
    return lines;
  }

  /** Reads the next chunk into `pending`; returns how many bytes came. */
  private async readMore(): Promise<number> {
    if (this.filename === null) return this.readStdin();
    if (!this.handle) {
      // A stopped task opens nothing: stop() has already closed what there was to close.
      if (this.stopped) return 0;
      let handle: FileHandle;
      try {
        handle = await open(this.filename, 'r');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0; // not there yet: Kafka's task waits for it
        throw error;
      }
      if (this.stopped) {
        // stop() ran while the file was opening: it could not close this handle, so close it here.
        await handle.close().catch(() => undefined);
        return 0;
      }
      this.handle = handle;
    }
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.position + this.pending.length);
    if (bytesRead > 0) this.pending = Buffer.concat([this.pending, buffer.subarray(0, bytesRead)]);
    return bytesRead;
  }

  private readStdin(): number {
    if (!this.stdinChunks) {
      const chunks: Buffer[] = [];
      this.stdinChunks = chunks;
      process.stdin.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        this.wakeUp?.();
      });
    }
    const size = this.stdinChunks.reduce((sum, chunk) => sum + chunk.length, 0);
    if (size === 0) return 0;
    this.pending = Buffer.concat([this.pending, ...this.stdinChunks.splice(0)]);
    return size;
  }
}
