// A Connect worker's metrics in Prometheus's text format, served by its REST server at GET /metrics,
// under the names the Prometheus JMX exporter's Kafka Connect configuration gives Connect's MBeans:
// `kafka_connect_<group>_<attribute>{connector,task}` (source-task, sink-task, connector-task and
// task-error metrics, hyphens as underscores), `kafka_connect_connector_status{connector,task,status}`
// and `kafka_connect_connect_worker_metrics_{connector,task}_count`, beside prom-client's Node
// metrics. prom-client is loaded on the first scrape: a worker nobody scrapes never loads it.
import { formatMetricFamilies, type MetricFamily, metricFamily, sample } from '../../base/metric-family.js';
import type { TaskMetrics } from './worker.js';

export interface ConnectMetricsSource {
  /** Each task's counters and state (Worker.metrics). */
  tasks(): TaskMetrics[];
  /** Connectors and tasks running on this worker. */
  counts(): { connectors: number; tasks: number };
}

/** The task attributes the worker counts (worker-source-task.ts, worker-sink-task.ts), with the Connect metrics group Kafka reports each in. */
const TASK_ATTRIBUTES: readonly (readonly [attribute: string, group: string])[] = [
  ['source-record-poll-total', 'source-task'],
  ['source-record-write-total', 'source-task'],
  ['source-record-filtered-total', 'source-task'],
  ['sink-record-read-total', 'sink-task'],
  ['sink-record-send-total', 'sink-task'],
  ['sink-record-skipped-total', 'sink-task'],
  ['sink-record-lag-max', 'sink-task'],
  ['offset-commit-completion-total', 'connector-task'],
  ['total-records-skipped', 'task-error'],
];

/** The worker's metric families, each reading the tasks as they are when scraped. */
export function connectMetricFamilies(source: ConnectMetricsSource): MetricFamily[] {
  const taskLabels = (task: TaskMetrics) => ({ connector: task.connector, task: task.task });
  return [
    metricFamily('kafka_connect_connector_status', "A task's state: 1 under the status it is in.", 'gauge', () =>
      source.tasks().map((task) => sample({ ...taskLabels(task), status: task.state.toLowerCase() }, 1)),
    ),
    ...TASK_ATTRIBUTES.map(([attribute, group]) =>
      metricFamily(`kafka_connect_${group}_${attribute}`.replace(/-/g, '_'), `Connect's ${group}-metrics ${attribute}, per task.`, attribute.endsWith('-total') ? 'counter' : 'gauge', () =>
        source.tasks().flatMap((task) => (attribute in task.metrics ? [sample(taskLabels(task), task.metrics[attribute]!)] : [])),
      ),
    ),
    metricFamily('kafka_connect_connect_worker_metrics_connector_count', 'Connectors running on this worker.', 'gauge', () => [sample({}, source.counts().connectors)]),
    metricFamily('kafka_connect_connect_worker_metrics_task_count', 'Tasks running on this worker.', 'gauge', () => [sample({}, source.counts().tasks)]),
  ];
}

/** GET /metrics's content type and body: prom-client's Node metrics and the worker's families, made on the first scrape. */
export function connectMetricsEndpoint(source: ConnectMetricsSource): () => Promise<{ contentType: string; text: string }> {
  let exposition: Promise<{ contentType: string; metrics(): Promise<string> }> | undefined;
  return async () => {
    exposition ??= import('prom-client').then(({ Registry, collectDefaultMetrics }) => {
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      const families = connectMetricFamilies(source);
      return { contentType: registry.contentType, metrics: async () => `${await registry.metrics()}${await formatMetricFamilies(families)}` };
    });
    const made = await exposition;
    return { contentType: made.contentType, text: await made.metrics() };
  };
}
