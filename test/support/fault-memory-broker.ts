// An in-process broker for disk-fault tests, on a MemoryFileSystem (or any file-system port): real
// TCP on port 0, real clock, log lines captured for assertions, and a power cut that stops the
// "process" from touching the disk, drops every unsynced write and shuts the broker down, ready to
// start again on what is left.
import type { FileSystem } from '../../src/base/file-system.js';
import type { LogLevelName } from '../../src/base/logger.js';
import { createLogger } from '../../src/base/logger.js';
import { MemoryFileSystem } from '../../src/base/memory-file-system.js';
import { Broker } from '../../src/broker/broker.js';
import { resolveBrokerConfig } from '../../src/broker/broker-config.js';
import { systemClock, systemRandom } from '../../src/node/system.js';
import { withTimeout } from '../../src/testing/workload.js';

export const MEMORY_DATA_DIR = '/data';

export interface CapturedLine {
  level: Exclude<LogLevelName, 'silent'>;
  line: string;
}

export class FaultBroker<Fs extends FileSystem = FileSystem> {
  readonly lines: CapturedLine[] = [];
  private current: Broker | undefined;

  constructor(
    readonly fs: Fs,
    private readonly config: Record<string, string>,
    readonly dataDir = MEMORY_DATA_DIR,
    private readonly level: LogLevelName = 'info',
  ) {}

  get broker(): Broker {
    if (!this.current) throw new Error('the broker is not running');
    return this.current;
  }

  get address(): string {
    const endpoint = this.broker.endpoints[0]!;
    return `${endpoint.host}:${endpoint.port}`;
  }

  async start(): Promise<void> {
    const input = new Map<string, string>([
      ['listeners', 'PLAINTEXT://localhost:0'],
      ['log.dirs', this.dataDir],
      ...Object.entries(this.config),
    ]);
    const logger = createLogger((level, line) => this.lines.push({ level, line }), this.level);
    this.current = await Broker.start({ config: resolveBrokerConfig(input), fs: this.fs, clock: systemClock, random: systemRandom, logger });
  }

  async stop(): Promise<void> {
    const broker = this.current;
    this.current = undefined;
    await broker?.close();
  }

  /**
   * A power cut: from this instant the broker can read or write nothing (every file operation
   * fails with EIO), writes not yet fsynced are gone, and the broker is shut down, failing as it
   * may; then the disk comes back for the next start.
   */
  async powerLoss(this: FaultBroker<MemoryFileSystem>): Promise<void> {
    this.fs.setFaultInjector(() => 'EIO');
    this.fs.simulatePowerLoss();
    const broker = this.current;
    this.current = undefined;
    await withTimeout(broker?.close() ?? Promise.resolve(), 15_000, 'closing the broker after a power loss').catch(() => {});
    this.fs.setFaultInjector(undefined);
  }

  logged(pattern: RegExp): CapturedLine[] {
    return this.lines.filter((entry) => pattern.test(entry.line));
  }

  /** Every captured line, for failure messages. */
  get logText(): string {
    return this.lines.map((entry) => `${entry.level} ${entry.line}`).join('\n');
  }
}

export type MemoryBroker = FaultBroker<MemoryFileSystem>;

export async function startMemoryBroker(config: Record<string, string> = {}, fs = new MemoryFileSystem()): Promise<MemoryBroker> {
  const broker = new FaultBroker(fs, config);
  await broker.start();
  return broker;
}
