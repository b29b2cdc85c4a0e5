// What the worker's source and sink tasks share: a task's state (RUNNING, PAUSED, FAILED with its
// stack trace), its loop run until stopped, pausing between iterations, and stopping within
// `task.shutdown.graceful.timeout.ms` even when the task hangs (a poll that never returns is
// abandoned, and only its own task is affected).
import type { Logger } from '../../base/logger.js';
import type { ConnectorState } from './herder.js';

export interface TaskId {
  readonly connector: string;
  readonly task: number;
}

export type TaskStateListener = (state: ConnectorState, trace?: string) => void;

export abstract class WorkerTask {
  private loopDone: Promise<void> | undefined;
  private resumeGate: { promise: Promise<void>; open: () => void } | undefined;
  protected stopping = false;
  state: ConnectorState = 'UNASSIGNED';
  trace: string | undefined;

  constructor(
    readonly id: TaskId,
    protected readonly logger: Logger,
    private readonly onState: TaskStateListener,
  ) {}

  /** Starts the task (its start() then its loop) in the background; the state says how it goes. */
  run(startPaused: boolean): void {
    if (startPaused) this.pause();
    this.loopDone = this.execute();
  }

  pause(): void {
    if (this.resumeGate || this.state === 'FAILED') return;
    let open!: () => void;
    const promise = new Promise<void>((resolveGate) => {
      open = resolveGate;
    });
    this.resumeGate = { promise, open };
    this.setState('PAUSED');
  }

  resume(): void {
    if (!this.resumeGate) return;
    const gate = this.resumeGate;
    this.resumeGate = undefined;
    gate.open();
    if (this.state === 'PAUSED') this.setState('RUNNING');
  }

  /** Stops the loop and the task; gives up waiting after `timeoutMs` (the task is then abandoned). */
  async stop(timeoutMs: number): Promise<void> {
    this.stopping = true;
    this.resumeGate?.open();
    const stopped = (async () => {
      await this.onStopRequested().catch((error: unknown) => this.logger.warn('task stop failed', { task: this.label, error }));
      await this.loopDone;
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolveTimeout) => {
      timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([stopped.then(() => 'stopped' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') this.logger.error(`graceful stop of ${this.label} timed out after ${timeoutMs} ms; abandoning it`);
    if (this.state !== 'FAILED') this.setState('UNASSIGNED');
  }

  get label(): string {
    return `${this.id.connector}-${this.id.task}`;
  }

  /** The task's counters under Kafka Connect's metric names (source-task-metrics, sink-task-metrics, task-error-metrics). */
  abstract metrics(): Record<string, number>;

  /** The task's start() and whatever it needs before its first iteration. */
  protected abstract initializeAndStart(): Promise<void>;
  /** One iteration: a poll and its sends, or a fetch and its put. */
  protected abstract iterate(): Promise<void>;
  /** Called once when stopping is requested: unblocks the task (its stop()). */
  protected abstract onStopRequested(): Promise<void>;
  /** Called once after the loop ends: commits what can be committed, releases resources. */
  protected abstract close(failed: boolean): Promise<void>;

  protected async waitWhilePaused(): Promise<void> {
    while (this.resumeGate && !this.stopping) await this.resumeGate.promise;
  }

  private async execute(): Promise<void> {
    let failed = false;
    try {
      await this.initializeAndStart();
      if (!this.resumeGate) this.setState('RUNNING');
      while (!this.stopping) {
        await this.waitWhilePaused();
        if (this.stopping) break;
        await this.iterate();
      }
    } catch (error) {
      failed = true;
      this.fail(error);
    }
    try {
      await this.close(failed);
    } catch (error) {
      if (!failed) this.fail(error);
    }
  }

  protected fail(error: unknown): void {
    const trace = error instanceof Error ? traceOf(error) : String(error);
    this.logger.error(`task ${this.label} failed`, { error: error instanceof Error ? error.message : String(error) });
    this.trace = trace;
    this.setState('FAILED', trace);
  }

  private setState(state: ConnectorState, trace?: string): void {
    this.state = state;
    if (state !== 'FAILED') this.trace = undefined;
    this.onState(state, trace);
  }
}

/** The error's stack with its causes, as Connect's status "trace" shows a Java stack trace. */
export function traceOf(error: Error): string {
  let text = error.stack ?? `${error.name}: ${error.message}`;
  let cause = error.cause;
  while (cause instanceof Error) {
    text += `\nCaused by: ${cause.stack ?? `${cause.name}: ${cause.message}`}`;
    cause = cause.cause;
  }
  return text;
}
