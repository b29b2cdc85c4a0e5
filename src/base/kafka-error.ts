// An expected failure that maps onto one Kafka error code, carried to the response field
// the protocol defines (DESIGN.md decision 9).
import { errorName } from './error-codes.js';

/** One refused record of a produced batch: its index in the batch and why (Produce v8+ RecordErrors). */
export interface RecordError {
  readonly batchIndex: number;
  readonly message: string | null;
}

export class KafkaError extends Error {
  override name = 'KafkaError';
  readonly errorCode: number;
  /** The records that caused the error, when it concerns some records of a batch and not the batch as a whole. */
  readonly recordErrors: readonly RecordError[];

  constructor(errorCode: number, message?: string, recordErrors: readonly RecordError[] = []) {
    super(message ?? errorName(errorCode));
    this.errorCode = errorCode;
    this.recordErrors = recordErrors;
  }
}

export function isKafkaError(error: unknown): error is KafkaError {
  return error instanceof KafkaError;
}
