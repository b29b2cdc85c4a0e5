// The typed failure of the record batch compression codecs: an unknown codec id, output beyond the
// caller's bound (zip-bomb protection) or bytes that do not decompress.
import { ErrorCode } from '../../base/error-codes.js';
import { KafkaError } from '../../base/kafka-error.js';

export const CompressionFailure = {
  unknownCodec: 'unknown-codec',
  outputTooLarge: 'output-too-large',
  corrupt: 'corrupt',
} as const;
export type CompressionFailureValue = (typeof CompressionFailure)[keyof typeof CompressionFailure];

const errorCodeByFailure: { [K in CompressionFailureValue]: number } = {
  'unknown-codec': ErrorCode.UNSUPPORTED_COMPRESSION_TYPE,
  // MESSAGE_TOO_LARGE makes the Java producer split the batch and retry, which is the useful reaction.
  'output-too-large': ErrorCode.MESSAGE_TOO_LARGE,
  'corrupt': ErrorCode.CORRUPT_MESSAGE,
};

export class CompressionError extends KafkaError {
  override name = 'CompressionError';
  readonly failure: CompressionFailureValue;
  readonly codec: number;

  constructor(failure: CompressionFailureValue, codec: number, message: string) {
    super(errorCodeByFailure[failure], message);
    this.failure = failure;
    this.codec = codec;
  }
}

export function isCompressionError(error: unknown): error is CompressionError {
  return error instanceof CompressionError;
}

export function outputTooLarge(codec: number, maxBytes: number): CompressionError {
  return new CompressionError(CompressionFailure.outputTooLarge, codec, `decompressed records exceed ${maxBytes} bytes`);
}

export function corrupt(codec: number, detail: string): CompressionError {
  return new CompressionError(CompressionFailure.corrupt, codec, `compressed records do not decompress: ${detail}`);
}
