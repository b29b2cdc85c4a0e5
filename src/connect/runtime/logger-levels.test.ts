// LoggerLevels: log4j's hierarchy over '.' and '/' names, what /admin/loggers reports, and how
// log4j's levels map onto base/logger's (TRACE as DEBUG, FATAL as ERROR, OFF silent).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectRestError } from './herder.js';
import { LoggerLevels } from './logger-levels.js';

function capture(rootLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent' = 'info') {
  const lines: string[] = [];
  let clock = 1000;
  const levels = new LoggerLevels((level, line) => lines.push(`${level} ${line}`), rootLevel, () => clock++);
  return { levels, lines };
}

describe('LoggerLevels', () => {
  it('reports the root with its level and no last_modified until the REST API changes it', () => {
    const { levels } = capture('warn');
    assert.deepEqual(levels.levels(), { root: { level: 'WARN', last_modified: null } });
    assert.deepEqual(levels.level('root'), { level: 'WARN', last_modified: null });
    assert.deepEqual(capture('silent').levels.levels().root, { level: 'OFF', last_modified: null });
  });

  it("a logger follows its nearest configured namespace, over '.' and '/'", () => {
    const { levels, lines } = capture('info');
    const task = levels.logger('connect').child('worker').child('task-0');
    const other = levels.logger('org.apache.kafka.connect.runtime.Worker');
    task.debug('hidden');
    levels.setLevel('connect/worker', 'DEBUG');
    levels.setLevel('org.apache', 'ERROR');
    task.debug('shown');
    other.warn('hidden');
    other.error('shown too');
    assert.deepEqual(lines, ['debug [connect/worker/task-0] shown', 'error [org.apache.kafka.connect.runtime.Worker] shown too']);
    assert.equal(levels.level('connect/worker/task-0')?.level, 'DEBUG');
    assert.equal(levels.level('connect')?.level, 'INFO');
  });

  it('setLevel answers every logger of the namespace, sorted; only those it changed get a level and last_modified', () => {
    const { levels } = capture('info');
    levels.logger('a.b');
    levels.logger('a.b.c');
    levels.logger('a.bc');
    assert.deepEqual(levels.setLevel('a.b.c', 'WARN'), ['a.b.c']);
    assert.deepEqual(levels.setLevel('a.b', 'WARN'), ['a.b', 'a.b.c']);
    assert.deepEqual(levels.levels(), {
      'a.b': { level: 'WARN', last_modified: 1001 },
      'a.b.c': { level: 'WARN', last_modified: 1000 },
      root: { level: 'INFO', last_modified: null },
    });
    // A namespace no logger has yet is created, as log4j's LogManager.getLogger does.
    assert.deepEqual(levels.setLevel('x', 'debug'), ['x']);
    assert.equal(levels.level('x')?.level, 'DEBUG');
    assert.equal(levels.level('unknown'), undefined);
  });

  it("'root' sets every logger", () => {
    const { levels } = capture('info');
    levels.logger('a');
    levels.setLevel('b', 'DEBUG');
    assert.deepEqual(levels.setLevel('ROOT', 'ERROR'), ['a', 'b', 'root']);
    assert.equal(levels.level('a')?.level, 'ERROR');
    assert.equal(levels.level('b')?.level, 'ERROR');
  });

  it('TRACE prints debug lines, FATAL errors only, OFF nothing; levels are reported as set', () => {
    const { levels, lines } = capture('info');
    const logger = levels.logger('c');
    for (const level of ['TRACE', 'FATAL', 'OFF']) {
      levels.setLevel('c', level);
      logger.debug(level);
      logger.warn(level);
      logger.error(level);
      assert.equal(levels.level('c')?.level, level);
    }
    assert.deepEqual(lines, ['debug [c] TRACE', 'warn [c] TRACE', 'error [c] TRACE', 'error [c] FATAL']);
  });

  it("refuses a level log4j does not have with Kafka's 404", () => {
    const { levels } = capture();
    assert.throws(() => levels.setLevel('a', 'LOUD'), (error) => error instanceof ConnectRestError && error.status === 404 && error.message === "invalid log level 'LOUD'.");
  });
});
