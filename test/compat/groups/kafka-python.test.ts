// kafka-python 2.0.2 consumer groups against Conveyor (JoinGroup v2, OffsetCommit v2, OffsetFetch
// v1, FindCoordinator v0): the shared group scenario.
import { test } from 'node:test';
import { requireClient } from '../../support/clients.js';
import { runGroupScenario } from './group-scenario.js';

test('kafka-python: group scenario', { timeout: 180_000 }, async (t) => {
  if (!(await requireClient(t, 'kafka-python'))) return;
  await runGroupScenario('kafka-python', 'range', (line) => t.diagnostic(line));
});
