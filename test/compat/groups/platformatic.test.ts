// @platformatic/kafka 2.x consumer groups against Conveyor (FindCoordinator v4+ batched keys,
// OffsetFetch v8+ batched groups, JoinGroup v6-9): the shared group scenario.
import { test } from 'node:test';
import { requireClient } from '../../support/clients.js';
import { runGroupScenario } from './group-scenario.js';

test('platformatic: group scenario', { timeout: 180_000 }, async (t) => {
  if (!(await requireClient(t, 'platformatic'))) return;
  await runGroupScenario('platformatic', undefined, (line) => t.diagnostic(line));
});
