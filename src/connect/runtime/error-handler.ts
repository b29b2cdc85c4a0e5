// Kafka Connect's error handling for one task (KIP-298): an operation on a record (converting,
// transforming) that throws a RetriableException is retried with exponential backoff for
// `errors.retry.timeout` ms (-1: forever), waiting at most `errors.retry.delay.max.ms` between
// tries. What still fails is logged when `errors.log.enable` and, for sinks, sent to the dead
// letter queue; then it fails the task (`errors.tolerance=none`) or the record is skipped (`all`).
// As in Kafka's RetryWithToleranceOperator, a failure is reported before the tolerance is
// checked, so with `none` the record that fails the task is in the dead letter queue too.
import type { Logger } from '../../base/logger.js';
import type { ParsedConfig } from '../api/config.js';
import { ConnectException, RetriableException } from '../api/connector.js';

/** Where in the pipeline an operation failed; Kafka's Stage names, reported in DLQ headers. */
export type Stage = 'KEY_CONVERTER' | 'VALUE_CONVERTER' | 'HEADER_CONVERTER' | 'TRANSFORMATION' | 'TASK_PUT' | 'TASK_POLL' | 'KAFKA_PRODUCE' | 'KAFKA_CONSUME';

export interface FailureContext {
  readonly stage: Stage;
  /** The class of the plugin that failed (a converter or transform), when there is one. */
  readonly className: string;
  /** A description of the record for the error log. */
  readonly record: () => string;
}

/** Receives each tolerated failure (the sink worker sends the record to the dead letter queue). */
export type FailureReporter = (error: Error, context: FailureContext) => Promise<void>;

const FIRST_RETRY_DELAY_MS = 300;

export class ErrorHandler {
  private readonly retryTimeoutMs: number;
  private readonly retryDelayMaxMs: number;
  private readonly tolerateAll: boolean;
  private readonly logErrors: boolean;
  private readonly logMessages: boolean;
  private reporter: FailureReporter | undefined;
  /** Failures tolerated so far (for metrics). */
  toleratedFailures = 0;

  constructor(config: ParsedConfig, private readonly logger: Logger, private readonly stopping: () => boolean) {
    this.retryTimeoutMs = config.number('errors.retry.timeout');
    this.retryDelayMaxMs = config.number('errors.retry.delay.max.ms');
    this.tolerateAll = config.string('errors.tolerance') === 'all';
    this.logErrors = config.boolean('errors.log.enable');
    this.logMessages = config.boolean('errors.log.include.messages');
  }

  get toleratesErrors(): boolean {
    return this.tolerateAll;
  }

  /** errors.log.enable: each failure is logged. */
  get logsErrors(): boolean {
    return this.logErrors;
  }

  reportTo(reporter: FailureReporter): void {
    this.reporter = reporter;
  }

  /**
   * Runs `operation`, retrying RetriableExceptions; returns its result, or `skip` when it failed
   * and errors are tolerated. Throws a ConnectException when they are not.
   */
  async execute<T>(context: FailureContext, operation: () => T | Promise<T>): Promise<T | typeof SKIP> {
    const started = Date.now();
    // As Kafka's RetryWithToleranceOperator: 300 ms, doubling, never more than delay.max.ms; tries
    // go on until the timeout has passed, the last wait cut short to end at the timeout.
    let delay = Math.min(FIRST_RETRY_DELAY_MS, this.retryDelayMaxMs);
    for (;;) {
      try {
        return await operation();
      } catch (caught) {
        const error = caught instanceof Error ? caught : new Error(String(caught));
        const elapsed = Date.now() - started;
        const retrying = error instanceof RetriableException && !this.stopping() &&
          (this.retryTimeoutMs < 0 || elapsed < this.retryTimeoutMs);
        if (retrying) {
          const wait = this.retryTimeoutMs < 0 ? delay : Math.min(delay, this.retryTimeoutMs - elapsed);
          await new Promise((resolveWait) => setTimeout(resolveWait, wait));
          delay = Math.min(delay * 2, this.retryDelayMaxMs);
          continue;
        }
        return this.failed(error, context);
      }
    }
  }

  /** A failure outside `execute` (a sink's put reporting an errant record): reported, then tolerated or thrown. */
  async failed(error: Error, context: FailureContext): Promise<typeof SKIP> {
    if (this.logErrors) {
      const record = this.logMessages ? ` record: ${context.record()}` : '';
      this.logger.error(`error in stage ${context.stage} (${context.className}): ${error.message}${record}`);
    }
    if (!this.tolerateAll) {
      // Reported first, as Kafka does; a failure to report must not hide the error that fails the task.
      await this.reporter?.(error, context).catch((reportError: unknown) => this.logger.error('could not report a failed record', { error: reportError instanceof Error ? reportError.message : String(reportError) }));
      throw new ConnectException(`Tolerance exceeded in error handler: ${error.message}`, { cause: error });
    }
    this.toleratedFailures++;
    await this.reporter?.(error, context);
    return SKIP;
  }
}

/** What `execute` returns for a record skipped after a tolerated failure. */
export const SKIP: unique symbol = Symbol('skip');
