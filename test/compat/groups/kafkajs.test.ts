// kafkajs consumer groups against Conveyor: the shared group scenario (assignment, rebalances on
// join, kill and leave, at-least-once, resume after a broker restart).
import { test } from 'node:test';
import { requireClient } from '../../support/clients.js';
import { runGroupScenario } from './group-scenario.js';

test('kafkajs: group scenario', { timeout: 180_000 }, async (t) => {
  if (!(await requireClient(t, 'kafkajs'))) return;
  await runGroupScenario('kafkajs', undefined, (line) => t.diagnostic(line));
});
