// An expected failure that maps onto one Kafka error code, carried to the response field
// the protocol defines (DESIGN.md decision 9).
import { errorName } from './error-codes.js';

export class KafkaError extends Error {
  override name = 'KafkaError';
  readonly errorCode: number;

  constructor(errorCode: number, message?: string) {
    super(message ?? errorName(errorCode));
    this.errorCode = errorCode;
  }
}

export function isKafkaError(error: unknown): error is KafkaError {
  return error instanceof KafkaError;
}
