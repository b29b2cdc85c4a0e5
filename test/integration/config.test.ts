// Broker configuration errors: startBroker refuses unknown keys and bad values with an error that
// names the key, and the `conveyor start` command exits non-zero with a message naming the key.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { ConfigError, startBroker } from '../../src/index.js';
import { runCli } from '../support/crash-broker-process.js';
import { temporaryDirectory } from './helpers.js';

async function assertRejectsNaming(config: Record<string, string | number | boolean>, key: string): Promise<void> {
  await assert.rejects(
    startBroker({ port: 0, storage: 'memory', config }),
    (error: unknown) => {
      assert.ok(error instanceof Error, 'rejects with an Error');
      assert.ok(error.message.includes(key), `message '${error.message}' names ${key}`);
      if (error instanceof ConfigError) assert.equal(error.key, key);
      return true;
    },
  );
}

describe('broker configuration', () => {
  it('startBroker rejects an unknown key, naming it', async () => {
    await assertRejectsNaming({ 'no.such.setting': 1 }, 'no.such.setting');
    await assertRejectsNaming({ 'log.retention.hourz': 5 }, 'log.retention.hourz');
  });

  it('startBroker rejects bad values, naming the key', async () => {
    await assertRejectsNaming({ 'num.partitions': 'many' }, 'num.partitions');
    await assertRejectsNaming({ 'num.partitions': 0 }, 'num.partitions');
    await assertRejectsNaming({ 'auto.create.topics.enable': 'maybe' }, 'auto.create.topics.enable');
    await assertRejectsNaming({ 'log.message.timestamp.type': 'WallClock' }, 'log.message.timestamp.type');
    await assertRejectsNaming({ 'message.max.bytes': -5 }, 'message.max.bytes');
  });

  it('startBroker accepts Kafka keys that have no effect here, and valid values', async () => {
    const running = await startBroker({ port: 0, storage: 'memory', config: { 'num.network.threads': 3, 'num.partitions': 4, 'auto.create.topics.enable': 'false' } });
    await running.close();
  });

  it('the CLI exits non-zero on a bad --set, naming the key', async () => {
    const directory = await temporaryDirectory();
    try {
      const badValue = await runCli(['start', '--port', '0', '--data-dir', directory.path, '--set', 'num.partitions=zero']);
      assert.notEqual(badValue.exitCode, 0);
      assert.match(badValue.stderr, /num\.partitions/);
      const unknownKey = await runCli(['start', '--port', '0', '--data-dir', directory.path, '--set', 'no.such.setting=1']);
      assert.notEqual(unknownKey.exitCode, 0);
      assert.match(unknownKey.stderr, /no\.such\.setting/);
      const malformed = await runCli(['start', '--port', '0', '--data-dir', directory.path, '--set', 'just-a-word']);
      assert.notEqual(malformed.exitCode, 0);
      assert.match(malformed.stderr, /just-a-word/);
    } finally {
      await directory.remove();
    }
  });

  const bin = fileURLToPath(new URL('../../bin/conveyor.js', import.meta.url));
  const built = existsSync(fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url)));
  it('bin/conveyor.js (compiled CLI) exits non-zero on a bad --set, naming the key', { skip: built ? false : 'dist/ is not built' }, async () => {
    const directory = await temporaryDirectory();
    try {
      const result = spawnSync(process.execPath, [bin, 'start', '--port', '0', '--data-dir', directory.path, '--set', 'num.partitions=zero'], { encoding: 'utf8', timeout: 30_000 });
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /num\.partitions/);
    } finally {
      await directory.remove();
    }
  });
});
