// confluent-kafka-python (librdkafka 2.0.2) consumer groups against Conveyor: the shared group
// scenario, with the range assignor.
import { test } from 'node:test';
import { requireClient } from '../../support/clients.js';
import { runGroupScenario } from './group-scenario.js';

test('confluent-kafka-python: group scenario', { timeout: 180_000 }, async (t) => {
  if (!(await requireClient(t, 'confluent-kafka-python'))) return;
  await runGroupScenario('confluent', 'range', (line) => t.diagnostic(line));
});
