// Kafka Connect's retry and error logging for one task (KIP-298): a RetriableException is retried
// with a backoff starting at 300 ms, doubling, capped by errors.retry.delay.max.ms, until
// errors.retry.timeout has passed; errors.log.enable logs each failure (with the record under
// errors.log.include.messages). Real timers: the delays are what is checked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, silentLogger } from '../../base/logger.js';
import { ConnectException, RetriableException } from '../api/connector.js';
import { connectorConfigDef } from './connector-config.js';
import { ErrorHandler, type FailureContext, SKIP } from './error-handler.js';

const CONTEXT: FailureContext = { stage: 'TRANSFORMATION', className: 'com.example.Flaky', record: () => "{topic='in', partition=0, offset=7}" };

function handler(props: Record<string, string>, logger = silentLogger): ErrorHandler {
  return new ErrorHandler(connectorConfigDef.parse({ name: 'c', 'connector.class': 'X', ...props }), logger, () => false);
}

/** An operation that throws RetriableException `failures` times, then returns 'done'; records when each try started. */
function flaky(failures: number): { run: () => string; tries: number[] } {
  const tries: number[] = [];
  return {
    tries,
    run: () => {
      tries.push(Date.now());
      if (tries.length <= failures) throw new RetriableException(`not yet (try ${tries.length})`);
      return 'done';
    },
  };
}

const gaps = (tries: number[]) => tries.slice(1).map((at, index) => at - tries[index]!);
/** Timers fire late, never early; this much late is tolerated. */
const SLACK_MS = 150;

describe('ErrorHandler: errors.retry.timeout, errors.retry.delay.max.ms, errors.log.enable', () => {
  it('a retriable failure that succeeds after two retries within the timeout returns its result', async () => {
    const operation = flaky(2);
    const result = await handler({ 'errors.retry.timeout': '5000' }).execute(CONTEXT, operation.run);
    assert.equal(result, 'done');
    assert.equal(operation.tries.length, 3);
    const [first, second] = gaps(operation.tries);
    assert.ok(first! >= 295 && first! < 300 + SLACK_MS, `first wait ${first} ms (300 ms)`);
    assert.ok(second! >= 595 && second! < 600 + SLACK_MS, `second wait ${second} ms (doubled)`);
  });

  it('without errors.retry.timeout (0) a retriable failure is not retried', async () => {
    const operation = flaky(1);
    await assert.rejects(handler({}).execute(CONTEXT, operation.run), ConnectException);
    assert.equal(operation.tries.length, 1);
  });

  it('gives up once the timeout has passed, the last wait cut short to end at it', async () => {
    const operation = flaky(Number.POSITIVE_INFINITY);
    const started = Date.now();
    await assert.rejects(handler({ 'errors.retry.timeout': '1000' }).execute(CONTEXT, operation.run),
      (error: unknown) => error instanceof ConnectException && /Tolerance exceeded in error handler: not yet/.test(error.message));
    const took = Date.now() - started;
    // Tries at 0, 300, 900 and, the next 1200 ms wait cut to 100, at 1000 ms; then no more.
    assert.equal(operation.tries.length, 4, `tries at ${operation.tries.map((at) => at - started).join(', ')} ms`);
    assert.ok(took >= 995 && took < 1000 + 2 * SLACK_MS, `gave up after ${took} ms (timeout 1000 ms)`);
  });

  it('the backoff never waits longer than errors.retry.delay.max.ms, from the first retry on', async () => {
    const operation = flaky(Number.POSITIVE_INFINITY);
    const result = await handler({ 'errors.retry.timeout': '700', 'errors.retry.delay.max.ms': '100', 'errors.tolerance': 'all' }).execute(CONTEXT, operation.run);
    assert.equal(result, SKIP, 'tolerated once the retries are spent');
    for (const gap of gaps(operation.tries)) assert.ok(gap < 100 + SLACK_MS, `waited ${gap} ms between tries (max 100 ms): ${gaps(operation.tries).join(', ')}`);
    assert.ok(operation.tries.length >= 6, `${operation.tries.length} tries in 700 ms at most 100 ms apart`);
  });

  it('errors.log.enable logs each failure with its stage and class; errors.log.include.messages adds the record', async () => {
    const lines: string[] = [];
    const logger = createLogger((level, line) => lines.push(`${level} ${line}`), 'debug', 'task');
    const fail = () => {
      throw new Error('bad value');
    };
    assert.equal(await handler({ 'errors.tolerance': 'all' }, logger).execute(CONTEXT, fail), SKIP);
    assert.deepEqual(lines, [], 'nothing logged without errors.log.enable');
    assert.equal(await handler({ 'errors.tolerance': 'all', 'errors.log.enable': 'true' }, logger).execute(CONTEXT, fail), SKIP);
    assert.deepEqual(lines, ['error [task] error in stage TRANSFORMATION (com.example.Flaky): bad value']);
    lines.length = 0;
    await assert.rejects(handler({ 'errors.log.enable': 'true', 'errors.log.include.messages': 'true' }, logger).execute(CONTEXT, fail), ConnectException);
    assert.deepEqual(lines, ["error [task] error in stage TRANSFORMATION (com.example.Flaky): bad value record: {topic='in', partition=0, offset=7}"], 'logged before the task fails');
  });
});
