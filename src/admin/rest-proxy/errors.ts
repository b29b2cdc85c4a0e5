// The HTTP API's errors in Confluent REST Proxy v3's shape, {"error_code": N, "message": "..."}:
// error_code is the HTTP status for errors of the HTTP request itself (404 unknown cluster, 400
// bad JSON) and, as Confluent's exception mapper does, a five-digit code derived from the status
// for errors a Kafka broker returned (40403 unknown topic or partition, 40301 not authorized,
// 40101 authentication failed, 40002 a request the broker refused as bad, 50002 anything else).
import { ErrorCode, errorName } from '../../base/error-codes.js';
import { KafkaResponseError, ToolError } from '../../client/cluster-client.js';

export class RestError extends Error {
  override name = 'RestError';
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode: number = status,
  ) {
    super(message);
  }

  get body(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}

export const notFound = (message: string) => new RestError(404, message);
export const badRequest = (message: string) => new RestError(400, message);
export const unprocessable = (message: string) => new RestError(422, message);

/** A Kafka-protocol refusal that means the request may not be made: 401 or 403. */
export class KafkaAuthenticationError extends RestError {
  constructor(message: string) {
    super(401, message, 40101);
  }
}

const AUTHORIZATION_CODES: ReadonlySet<number> = new Set([
  ErrorCode.TOPIC_AUTHORIZATION_FAILED,
  ErrorCode.GROUP_AUTHORIZATION_FAILED,
  ErrorCode.CLUSTER_AUTHORIZATION_FAILED,
  ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
  ErrorCode.DELEGATION_TOKEN_AUTHORIZATION_FAILED,
]);

const NOT_FOUND_CODES: ReadonlySet<number> = new Set([ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.UNKNOWN_TOPIC_ID, ErrorCode.GROUP_ID_NOT_FOUND]);

const BAD_REQUEST_CODES: ReadonlySet<number> = new Set([
  ErrorCode.OFFSET_OUT_OF_RANGE,
  ErrorCode.INVALID_TOPIC_EXCEPTION,
  ErrorCode.TOPIC_ALREADY_EXISTS,
  ErrorCode.INVALID_PARTITIONS,
  ErrorCode.INVALID_REPLICATION_FACTOR,
  ErrorCode.INVALID_REPLICA_ASSIGNMENT,
  ErrorCode.INVALID_CONFIG,
  ErrorCode.INVALID_REQUEST,
  ErrorCode.POLICY_VIOLATION,
  ErrorCode.INVALID_RECORD,
  ErrorCode.INVALID_TIMESTAMP,
  ErrorCode.INVALID_GROUP_ID,
  ErrorCode.INVALID_PRINCIPAL_TYPE,
]);

/** The HTTP status and Confluent error code of a Kafka error code. */
export function statusOfKafkaError(code: number): { status: number; errorCode: number } {
  if (AUTHORIZATION_CODES.has(code)) return { status: 403, errorCode: 40301 };
  if (code === ErrorCode.SASL_AUTHENTICATION_FAILED) return { status: 401, errorCode: 40101 };
  if (NOT_FOUND_CODES.has(code)) return { status: 404, errorCode: code === ErrorCode.GROUP_ID_NOT_FOUND ? 404 : 40403 };
  if (BAD_REQUEST_CODES.has(code)) return { status: 400, errorCode: 40002 };
  return { status: 500, errorCode: 50002 };
}

/** A Kafka error code and message as a RestError. */
export function kafkaError(code: number, message: string): RestError {
  const { status, errorCode } = statusOfKafkaError(code);
  return new RestError(status, message, errorCode);
}

/** Any error thrown while serving a request, as the RestError the client gets. */
export function toRestError(error: unknown): RestError {
  if (error instanceof RestError) return error;
  if (error instanceof KafkaResponseError) return kafkaError(error.errorCode, error.message);
  if (error instanceof ToolError) return new RestError(500, error.message, 50002);
  return new RestError(500, error instanceof Error ? error.message : String(error), 500);
}

/** Kafka's error name with the broker's message, as a per-record error says it. */
export function kafkaErrorText(code: number, message: string | null): string {
  return `${errorName(code)}${message ? `: ${message}` : ''}`;
}
