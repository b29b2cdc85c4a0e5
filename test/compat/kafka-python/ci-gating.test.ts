// The CI gate for kafka-python holds: a codec module that is not importable (python3-snappy here)
// or kafka-python itself not importable skips locally but fails under
// CONVEYOR_REQUIRE_ALL_CLIENTS=1 (set by .ci/run). The modules are hidden for real: a directory put
// first on PYTHONPATH holds a module of the same name whose import fails, so the driver and the
// detection see exactly what a machine without the Debian package would show them.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { detectClient, installedCodecs, requireClient } from '../../support/clients.js';
import { runPythonJson } from '../../support/process.js';

const SCRIPT = fileURLToPath(new URL('./driver.py', import.meta.url));

/** Runs `body` with PYTHONPATH=`path` and CONVEYOR_REQUIRE_ALL_CLIENTS set or unset, restoring both. */
async function withEnvironment<T>(path: string | undefined, required: boolean, body: () => Promise<T>): Promise<T> {
  const saved = { PYTHONPATH: process.env.PYTHONPATH, CONVEYOR_REQUIRE_ALL_CLIENTS: process.env.CONVEYOR_REQUIRE_ALL_CLIENTS };
  const set = (name: keyof typeof saved, value: string | undefined) => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  set('PYTHONPATH', path);
  set('CONVEYOR_REQUIRE_ALL_CLIENTS', required ? '1' : undefined);
  try {
    return await body();
  } finally {
    set('PYTHONPATH', saved.PYTHONPATH);
    set('CONVEYOR_REQUIRE_ALL_CLIENTS', saved.CONVEYOR_REQUIRE_ALL_CLIENTS);
  }
}

describe('kafka-python CI gate', () => {
  let root = '';
  let noSnappy = '';
  let noKafka = '';
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'conveyor-python-'));
    noSnappy = join(root, 'no-snappy');
    noKafka = join(root, 'no-kafka');
    mkdirSync(noSnappy);
    writeFileSync(join(noSnappy, 'snappy.py'), "raise ImportError('hidden by the test: as if python3-snappy were not installed')\n");
    mkdirSync(join(noKafka, 'kafka'), { recursive: true });
    writeFileSync(join(noKafka, 'kafka', '__init__.py'), "raise ImportError('hidden by the test: as if python3-kafka were not installed')\n");
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('a missing codec module is skipped locally and fails under CONVEYOR_REQUIRE_ALL_CLIENTS=1', async (t) => {
    if (!(await requireClient(t, 'kafka-python'))) return;
    const reasons = await withEnvironment(noSnappy, false, () => runPythonJson<Record<string, string | null>>(SCRIPT, 'codecs', {}, 20_000));
    assert.match(reasons.snappy ?? '', /python3-snappy/, 'the driver sees snappy missing');
    assert.equal(reasons.gzip, null);
    const local = await withEnvironment(undefined, false, async () => installedCodecs('kafka-python', reasons));
    assert.deepEqual(
      local.filter((codec) => codec.unavailable !== undefined).map((codec) => codec.codec),
      ['snappy'],
      'locally: snappy skipped, the rest run',
    );
    await withEnvironment(undefined, true, async () => {
      assert.throws(() => installedCodecs('kafka-python', reasons), /snappy.*python3-snappy.*CONVEYOR_REQUIRE_ALL_CLIENTS=1/);
    });
  });

  it('kafka-python not importable is skipped locally and fails under CONVEYOR_REQUIRE_ALL_CLIENTS=1', async (t) => {
    if (!(await requireClient(t, 'kafka-python'))) return;
    const hidden = await withEnvironment(noKafka, false, () => detectClient('kafka-python'));
    assert.equal(hidden.available, false, 'detection sees kafka-python missing');
    // A context that records the skip instead of skipping this test.
    const skips: string[] = [];
    const recorder = { skip: (reason?: string) => skips.push(reason ?? '') } as unknown as TestContext;
    await withEnvironment(noKafka, false, async () => {
      assert.equal(await requireClient(recorder, 'kafka-python'), undefined);
    });
    assert.equal(skips.length, 1, 'locally: skipped');
    assert.match(skips[0]!, /python3-kafka/);
    await withEnvironment(noKafka, true, async () => {
      await assert.rejects(requireClient(recorder, 'kafka-python'), /python3-kafka.*CONVEYOR_REQUIRE_ALL_CLIENTS=1/);
    });
    assert.equal(skips.length, 1, 'under CONVEYOR_REQUIRE_ALL_CLIENTS=1: not skipped');
  });
});
