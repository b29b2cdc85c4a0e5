// How the chaos workloads read kafkajs's errors. The hour-long campaign of seed 2033 (2026-12-07)
// ended its copier on "KafkaJSNonRetriableError: This is not the correct coordinator for this
// group <- KafkaJSError: ...": the group coordinator's node was split off, and kafkajs's consumer
// ran out of retries re-joining. kafkajs wraps a coordinator error met while joining into a plain
// KafkaJSError that keeps only the message (consumerGroup.js joinAndSync), its retrier then into
// KafkaJSNumberOfRetriesExceeded, and an outer retrier into KafkaJSNonRetriableError. The chains
// are built here by kafkajs's own classes and retrier, as its consumer builds them.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { isConnectionError, isStorageError } from './kafkajs-errors.js';

const require = createRequire(import.meta.url);
const { KafkaJSError, KafkaJSProtocolError } = require('kafkajs/src/errors.js') as { KafkaJSError: new (e: unknown) => Error; KafkaJSProtocolError: new (e: unknown) => Error };
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as { createErrorFromCode: (code: number) => unknown };
const createRetry = require('kafkajs/src/retry/index.js') as (options: { retries: number; initialRetryTime?: number }) => <T>(fn: () => Promise<T>) => Promise<T>;

/** What a kafkajs consumer's crash carries when its join met `code` every time: two retriers deep, the protocol error kept as a message only. */
async function joinFailure(code: number): Promise<unknown> {
  const joinAndSync = createRetry({ retries: 1, initialRetryTime: 1 });
  const runner = createRetry({ retries: 1, initialRetryTime: 1 });
  return runner(() =>
    joinAndSync(async () => {
      throw new KafkaJSError(new KafkaJSProtocolError(createErrorFromCode(code)));
    }),
  ).then(
    () => assert.fail('the join cannot succeed'),
    (error: unknown) => error,
  );
}

test('a coordinator that moved while a kafkajs consumer re-joined counts as a coordinator moving, however deep kafkajs wrapped it', async () => {
  // NOT_COORDINATOR (16), COORDINATOR_NOT_AVAILABLE (15), COORDINATOR_LOAD_IN_PROGRESS (14)
  for (const code of [16, 15, 14]) {
    const error = await joinFailure(code);
    assert.equal((error as Error).name, 'KafkaJSNonRetriableError');
    assert.equal(isConnectionError(error), true, `code ${code}: ${(error as Error).message}`);
  }
  // The protocol error itself, as the transactional producer and the admin client report it.
  assert.equal(isConnectionError(new KafkaJSProtocolError(createErrorFromCode(16))), true);
});

test('other errors wrapped the same way are not taken for a coordinator moving', async () => {
  // INVALID_TXN_STATE (48), KAFKA_STORAGE_ERROR (56), UNKNOWN_SERVER_ERROR (-1), GROUP_AUTHORIZATION_FAILED (30)
  for (const code of [48, 56, -1, 30]) assert.equal(isConnectionError(await joinFailure(code)), false, `code ${code}`);
  // A storage error keeps its type only when it is not flattened to a message.
  assert.equal(isStorageError(new KafkaJSProtocolError(createErrorFromCode(56))), true);
});
