// kafka-python 2.0.2 against a 3-broker cluster: the shared cluster scenario. Metadata as its
// KafkaClient reads it (v1: brokers and controller), KafkaAdminClient.describe_cluster (Metadata v5,
// with the cluster id), describe_topics (v5: partition errors, offline replicas), create_topics and
// delete_topics, KafkaProducer to chosen partitions, KafkaConsumer with assign(). Driver:
// kafka_python_cluster.py.
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireClient } from '../../support/clients.js';
import { runPythonJson } from '../../support/process.js';
import { type ClusterView, pythonScriptDriver, runClusterScenario } from './cluster-scenario.js';

const SCRIPT = fileURLToPath(new URL('./kafka_python_cluster.py', import.meta.url));

const driver = pythonScriptDriver('kafka-python', SCRIPT, {
  api: 'KafkaAdminClient.describe_cluster (Metadata)',
  run: (bootstraps) => runPythonJson<ClusterView[]>(SCRIPT, 'describe_cluster', { bootstraps }, 60_000),
});

test('kafka-python against a 3-broker cluster', { timeout: 120_000 }, async (t) => {
  const client = await requireClient(t, 'kafka-python');
  if (client === undefined) return;
  t.diagnostic(`kafka-python ${client.version}`);
  await runClusterScenario(t, driver);
});
