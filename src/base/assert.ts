// Assertions for programmer errors: a failed assertion is a bug and crashes loudly.
// Expected conditions (bad client input, missing topics) use Kafka error codes instead.

export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, message = 'unreachable'): never {
  throw new AssertionError(`${message}: ${String(value)}`);
}
