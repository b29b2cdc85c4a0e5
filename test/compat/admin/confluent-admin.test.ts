// confluent-kafka-python 1.7.0 (librdkafka 2.0.2) AdminClient against Conveyor, driven by
// confluent_admin.py under /usr/bin/python3: create_topics (configs, validate_only),
// describe_configs for a topic and the broker, alter_configs, create_partitions, INVALID_CONFIG.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestBroker } from '../../support/broker.js';
import { requireClient } from '../../support/clients.js';
import { runChecked } from '../../support/process.js';

const script = fileURLToPath(new URL('./confluent_admin.py', import.meta.url));

test('confluent-kafka-python AdminClient: configs, validate_only, create_partitions', { timeout: 90_000 }, async (t) => {
  if (!(await requireClient(t, 'confluent-kafka-python'))) return;
  const broker = await startTestBroker();
  try {
    const result = await runChecked('/usr/bin/python3', [script, broker.bootstrapServers, String(broker.running.nodeId)], { timeoutMs: 60_000 });
    const observed = JSON.parse(result.stdout.trim().split('\n').at(-1)!);
    assert.equal(observed.dry_run_created, false);
    assert.equal(observed.cleanup_policy, 'compact');
    assert.equal(observed.cleanup_policy_source, 1, 'DYNAMIC_TOPIC_CONFIG');
    assert.equal(observed.retention_ms_is_default, true);
    assert.equal(observed.retention_ms_after_alter, '3600000');
    assert.equal(observed.cleanup_policy_after_alter, 'delete', 'AlterConfigs replaces every override');
    assert.match(observed.bad_value_error ?? '', /INVALID_CONFIG|retention\.ms/);
    assert.equal(observed.broker_num_partitions, '1');
    assert.equal(observed.broker_listeners_read_only, false, 'Kafka updates listeners per broker at run time');
    assert.equal(observed.broker_log_dirs_read_only, true);
    assert.equal(observed.partitions_after_create_partitions, 4);
  } finally {
    await broker.close();
  }
});
