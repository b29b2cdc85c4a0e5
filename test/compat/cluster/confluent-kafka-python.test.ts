// confluent-kafka-python (librdkafka) against a 3-broker cluster: the shared cluster scenario.
// AdminClient.list_topics is its Metadata (brokers, controller id, cluster id; partitions with their
// error, leader, replicas and ISR: librdkafka does not expose offline replicas), describe_cluster
// where the installed version has it (2.3+), create_topics and delete_topics, a Producer to chosen
// partitions and a Consumer with assign(). Driver: confluent_cluster.py.
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireClient } from '../../support/clients.js';
import { runPythonJson } from '../../support/process.js';
import { type ClusterDriver, type ClusterView, pythonScriptDriver, runClusterScenario } from './cluster-scenario.js';

const SCRIPT = fileURLToPath(new URL('./confluent_cluster.py', import.meta.url));
const call = <T>(command: string, payload: unknown) => runPythonJson<T>(SCRIPT, command, payload, 60_000);

function driver(describeCluster: boolean): ClusterDriver {
  return pythonScriptDriver(
    'confluent',
    SCRIPT,
    describeCluster
      ? { api: 'AdminClient.describe_cluster (DescribeCluster)', run: (bootstraps) => call<ClusterView[]>('describe_cluster', { bootstraps }) }
      : { missing: 'this confluent-kafka-python has no AdminClient.describe_cluster (added in 2.3); its cluster description is list_topics, the Metadata checked above' },
  );
}

test('confluent-kafka-python against a 3-broker cluster', { timeout: 120_000 }, async (t) => {
  const client = await requireClient(t, 'confluent-kafka-python');
  if (client === undefined) return;
  const capabilities = await call<{ describe_cluster: boolean }>('capabilities', {});
  t.diagnostic(`confluent-kafka-python ${client.version}; AdminClient.describe_cluster ${capabilities.describe_cluster ? 'present' : 'absent (1.x): list_topics is its cluster description'}`);
  await runClusterScenario(t, driver(capabilities.describe_cluster));
});
