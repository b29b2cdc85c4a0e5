// The broker's metrics in Prometheus's text format, under the names the Prometheus JMX exporter
// gives Kafka's MBeans with its example Kafka configuration (lowercased `kafka_<domain>_<type>_<name>`,
// counters with `_total`), so dashboards and alert rules written for Kafka apply: BrokerTopicMetrics,
// RequestMetrics (as histograms), ReplicaManager, KafkaController, Log, the socket server's
// connection counts, and consumer group offsets and lag under kafka-exporter's names. prom-client
// provides Node's own metrics (event loop delay, heap, GC); the broker's figures are read when
// Prometheus scrapes, from BrokerMetrics' counts and the broker's state, and formatted by
// src/base/metric-family.ts.
//
// Loaded only by the metrics endpoint (src/admin/metrics-server.ts): a broker without one never
// imports prom-client.
import { performance } from 'node:perf_hooks';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { formatMetricFamilies, type MetricFamily, type MetricLabels, type MetricSampleValue, metricFamily as family, sample as value } from '../../base/metric-family.js';
import { errorName } from '../../base/error-codes.js';
import type { BrokerServices } from '../broker-services.js';
import { ALL_TOPICS, type BrokerMetrics, LATENCY_BUCKETS_MS, REQUEST_PHASES, type TopicCounters } from './broker-metrics.js';

/** What the endpoint reads from a running broker besides its services. */
export interface MetricsSource {
  readonly services: BrokerServices;
  readonly metrics: BrokerMetrics;
  /** Open connections per listener name. */
  connectionCounts(): ReadonlyMap<string, number>;
  /** ISR changes this broker made as a partition leader, since it started. */
  isrChanges(): { shrinks: number; expands: number };
}

/** BrokerTopicMetrics counters: [name under kafka_server_brokertopicmetrics_, counter field, help]. */
const TOPIC_COUNTERS: readonly [string, keyof TopicCounters, string][] = [
  ['messagesin', 'messagesIn', 'Records appended by producers (MessagesInPerSec).'],
  ['bytesin', 'bytesIn', 'Record batch bytes appended by producers (BytesInPerSec).'],
  ['bytesout', 'bytesOut', 'Record bytes sent to consumers (BytesOutPerSec).'],
  ['replicationbytesout', 'replicationBytesOut', 'Record bytes sent to follower replicas (ReplicationBytesOutPerSec).'],
  ['totalproducerequests', 'totalProduceRequests', 'Partitions of produce requests, per topic (TotalProduceRequestsPerSec).'],
  ['failedproducerequests', 'failedProduceRequests', 'Partitions of produce requests that failed (FailedProduceRequestsPerSec).'],
  ['totalfetchrequests', 'totalFetchRequests', 'Partitions of fetch requests, per topic (TotalFetchRequestsPerSec).'],
  ['failedfetchrequests', 'failedFetchRequests', 'Partitions of fetch requests that failed (FailedFetchRequestsPerSec).'],
];

/** What a scrape returns: `metrics()` gives the text, in `contentType`. */
export interface MetricsExposition {
  readonly contentType: string;
  metrics(): Promise<string>;
}

/** One broker's metrics: prom-client's Node metrics, then the broker's families. */
export function createPrometheusRegistry(source: MetricsSource): MetricsExposition {
  return withNodeMetrics(brokerMetricFamilies(source));
}

/** prom-client's default Node metrics (its registry) followed by `families`, formatted by metric-family.ts. */
export function withNodeMetrics(families: readonly MetricFamily[]): MetricsExposition {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    contentType: registry.contentType,
    metrics: async () => `${await registry.metrics()}${await formatMetricFamilies(families)}`,
  };
}

function brokerMetricFamilies(source: MetricsSource): MetricFamily[] {
  const { services, metrics } = source;
  // Every API has counters from the start (the dispatcher looks them up once); those never used have no series.
  const usedRequests = () => [...metrics.requests].filter(([, counters]) => counters.phases.TotalTimeMs.count > 0);
  const topicCounters = () => {
    metrics.retainTopics((topic) => services.image.topicsByName.has(topic));
    return [...metrics.topics];
  };
  return [
    ...TOPIC_COUNTERS.map(([name, field, help]) =>
      family(`kafka_server_brokertopicmetrics_${name}_total`, help, 'counter', () =>
        topicCounters().map(([topic, counters]) => value(topic === ALL_TOPICS ? {} : { topic }, counters[field])),
      ),
    ),
    family('kafka_network_requestmetrics_requests_total', 'Requests answered, per API and version (RequestsPerSec).', 'counter', () =>
      usedRequests().flatMap(([request, counters]) => counters.byVersion.flatMap((count, version) => (count === undefined ? [] : [value({ request, version }, count)]))),
    ),
    family('kafka_network_requestmetrics_errors_total', 'Error codes in answers, per API and error, NONE included (ErrorsPerSec).', 'counter', () =>
      usedRequests().flatMap(([request, counters]) => [...counters.errors].map(([code, count]) => value({ request, error: errorName(code) }, count))),
    ),
    ...REQUEST_PHASES.map((phase) =>
      family(`kafka_network_requestmetrics_${phase.toLowerCase()}`, `Request ${phase.replace(/TimeMs$/, '')} time in ms, per API (RequestMetrics ${phase}).`, 'histogram', () =>
        usedRequests().flatMap(([request, counters]) => histogramValues(`kafka_network_requestmetrics_${phase.toLowerCase()}`, { request }, counters.phases[phase])),
      ),
    ),
    ...replicaManagerFamilies(source),
    ...controllerFamilies(services),
    ...logFamilies(services),
    ...groupFamilies(services),
    ...quotaFamilies(services),
    family('kafka_server_socket_server_metrics_connection_count', 'Open client connections, per listener.', 'gauge', () =>
      [...source.connectionCounts()].map(([listener, count]) => value({ listener }, count)),
    ),
    ...eventLoopFamilies(),
  ];
}

/**
 * Kafka's per-client quota metrics (kafka.server type=Produce|Fetch|Request, user, client-id) under
 * the JMX exporter's example rule: kafka_server_quota_<attribute>{resource, user, clientid}, for
 * each quota entity a client resolved to (the user and client id of the quota that applies; empty
 * where the entity has none), while it is measured: byte-rate (Produce, Fetch), request-time
 * (Request, the percentage of a thread) and throttle-time (the average of the window's requests).
 */
function quotaFamilies(services: BrokerServices): MetricFamily[] {
  const managers = () => {
    const quotas = services.clientQuotas;
    return quotas === undefined ? [] : ([['Produce', quotas.produce], ['Fetch', quotas.fetch], ['Request', quotas.request]] as const);
  };
  const labelsOf = (resource: string, figures: { user: string; clientId: string }) => ({ resource, user: figures.user, clientid: figures.clientId });
  return [
    family('kafka_server_quota_byte_rate', 'Bytes per second a quota entity produced or fetched, over the quota window (byte-rate).', 'gauge', () =>
      managers().filter(([resource]) => resource !== 'Request').flatMap(([resource, manager]) => manager.figures().map((figures) => value(labelsOf(resource, figures), figures.rate))),
    ),
    family('kafka_server_quota_request_time', 'The percentage of a request thread a quota entity used, over the quota window (request-time).', 'gauge', () =>
      managers().filter(([resource]) => resource === 'Request').flatMap(([resource, manager]) => manager.figures().map((figures) => value(labelsOf(resource, figures), figures.rate))),
    ),
    family('kafka_server_quota_throttle_time', 'The average throttle time in ms of a quota entity\'s requests, over the quota window (throttle-time).', 'gauge', () =>
      managers().flatMap(([resource, manager]) => manager.figures().map((figures) => value(labelsOf(resource, figures), figures.throttleTimeMs))),
    ),
  ];
}

function histogramValues(name: string, labels: MetricLabels, histogram: { buckets: Float64Array; sum: number; count: number }): MetricSampleValue[] {
  const values: MetricSampleValue[] = [];
  let cumulative = 0;
  LATENCY_BUCKETS_MS.forEach((bound, index) => {
    cumulative += histogram.buckets[index]!;
    values.push(value({ ...labels, le: bound }, cumulative, `${name}_bucket`));
  });
  values.push(value({ ...labels, le: '+Inf' }, histogram.count, `${name}_bucket`));
  values.push(value(labels, histogram.sum, `${name}_sum`));
  values.push(value(labels, histogram.count, `${name}_count`));
  return values;
}

/** ReplicaManager's gauges over the replicas this broker hosts, and its ISR change counters. */
function replicaManagerFamilies(source: MetricsSource): MetricFamily[] {
  const { replicaManager, image, nodeId } = source.services;
  const led = () => [...replicaManager.all()].filter((partition) => partition.isLeader);
  const gauge = (name: string, help: string, count: () => number) => family(`kafka_server_replicamanager_${name}`, help, 'gauge', () => [value({}, count())]);
  return [
    gauge('partitioncount', 'Replicas hosted on this broker.', () => [...replicaManager.all()].length),
    gauge('leadercount', 'Partitions this broker leads.', () => led().length),
    gauge('underreplicatedpartitions', 'Partitions led here whose ISR is smaller than their replica set.', () => led().filter((partition) => partition.isr.length < partition.assignment.replicas.length).length),
    gauge('underminisrpartitioncount', 'Partitions led here with fewer in-sync replicas than min.insync.replicas.', () => led().filter((partition) => partition.isr.length < (partition.assignment.minIsr ?? 1)).length),
    gauge('atminisrpartitioncount', 'Partitions led here with exactly min.insync.replicas in-sync replicas.', () => led().filter((partition) => partition.isr.length === (partition.assignment.minIsr ?? 1)).length),
    gauge('offlinereplicacount', 'Replicas assigned here whose log directory is offline.', () => {
      let offline = 0;
      for (const topic of image.topicsByName.values()) {
        for (const partition of topic.partitions.values()) if (partition.replicas.includes(nodeId) && replicaManager.isOffline(topic.name, partition.partitionId)) offline += 1;
      }
      return offline;
    }),
    family('kafka_server_replicamanager_isrshrinks_total', 'ISR changes this broker made as leader that removed a replica.', 'counter', () => [value({}, source.isrChanges().shrinks)]),
    family('kafka_server_replicamanager_isrexpands_total', 'ISR changes this broker made as leader that added a replica.', 'counter', () => [value({}, source.isrChanges().expands)]),
  ];
}

/** KafkaController's gauges: counts over the whole cluster, reported by the active controller (0 elsewhere, as Kafka). */
function controllerFamilies(services: BrokerServices): MetricFamily[] {
  const active = () => services.quorum.activeControllerId === services.nodeId;
  const partitions = () => [...services.image.topicsByName.values()].flatMap((topic) => [...topic.partitions.values()]);
  const gauge = (name: string, help: string, count: () => number) => family(`kafka_controller_kafkacontroller_${name}`, help, 'gauge', () => [value({}, active() ? count() : 0)]);
  return [
    family('kafka_controller_kafkacontroller_activecontrollercount', 'Whether this node is the active controller (1) or not (0).', 'gauge', () => [value({}, active() ? 1 : 0)]),
    gauge('offlinepartitionscount', 'Partitions without a leader.', () => partitions().filter((partition) => partition.leader < 0).length),
    gauge('globaltopiccount', 'Topics in the cluster.', () => services.image.topicsByName.size),
    gauge('globalpartitioncount', 'Partitions in the cluster.', () => partitions().length),
    gauge('activebrokercount', 'Registered brokers that are not fenced.', () => [...services.image.brokers.values()].filter((broker) => !broker.fenced).length),
    gauge('fencedbrokercount', 'Registered brokers that are fenced.', () => [...services.image.brokers.values()].filter((broker) => broker.fenced).length),
  ];
}

/** Log's per-partition gauges, for every replica hosted here, and the leaders' offsets under kafka-exporter's names. */
function logFamilies(services: BrokerServices): MetricFamily[] {
  const replicas = () => [...services.replicaManager.all()];
  const perPartition = (name: string, help: string, read: (partition: ReturnType<typeof replicas>[number]) => number | Promise<number>, leadersOnly = false) =>
    family(name, help, 'gauge', async () =>
      Promise.all(replicas().filter((partition) => !leadersOnly || partition.isLeader).map(async (partition) => value({ topic: partition.topic, partition: partition.partitionIndex }, await read(partition)))),
    );
  return [
    perPartition('kafka_log_log_size', 'Bytes in the replica\'s segment files.', (partition) => partition.log.size()),
    perPartition('kafka_log_log_logstartoffset', 'The replica\'s log start offset.', (partition) => partition.log.logStartOffset),
    perPartition('kafka_log_log_logendoffset', 'The replica\'s log end offset.', (partition) => partition.log.logEndOffset),
    perPartition('kafka_log_log_numlogsegments', 'Segments in the replica\'s log.', (partition) => partition.log.segmentCount),
    perPartition('kafka_topic_partition_current_offset', 'The partition\'s high watermark, from its leader (kafka-exporter).', (partition) => partition.highWatermark, true),
    perPartition('kafka_topic_partition_oldest_offset', 'The partition\'s log start offset, from its leader (kafka-exporter).', (partition) => partition.log.logStartOffset, true),
  ];
}

/**
 * Consumer group offsets from the groups this broker coordinates (kafka-exporter's names). The lag
 * needs the partition's high watermark: it is given where this broker hosts a replica of the
 * partition; across a cluster, kafka_topic_partition_current_offset from the leaders minus
 * kafka_consumergroup_current_offset gives it for every partition (docs/metrics.md).
 */
function groupFamilies(services: BrokerServices): MetricFamily[] {
  const offsets = async () => {
    const rows: { labels: MetricLabels; committed: number; lag: number | undefined }[] = [];
    for (const group of services.groupCoordinator.listGroups().groups) {
      const fetched = await services.groupCoordinator.fetchOffsets(group.groupId, null).catch(() => undefined);
      for (const topic of fetched?.topics ?? []) {
        for (const partition of topic.partitions) {
          const committed = partition.offset;
          if (committed < 0) continue;
          const replica = services.replicaManager.replica(topic.topic, partition.partition);
          rows.push({
            labels: { consumergroup: group.groupId, topic: topic.topic, partition: partition.partition },
            committed,
            lag: replica === undefined ? undefined : Math.max(0, replica.highWatermark - committed),
          });
        }
      }
    }
    return rows;
  };
  return [
    family('kafka_consumergroup_current_offset', 'A group\'s committed offset per partition, from its coordinator (kafka-exporter).', 'gauge', async () => (await offsets()).map((row) => value(row.labels, row.committed))),
    family('kafka_consumergroup_lag', 'High watermark minus committed offset, where the coordinator hosts a replica of the partition (kafka-exporter).', 'gauge', async () =>
      (await offsets()).filter((row) => row.lag !== undefined).map((row) => value(row.labels, row.lag!)),
    ),
  ];
}

/** The event loop's utilisation since the previous scrape (prom-client's default metrics give its delay). */
function eventLoopFamilies(): MetricFamily[] {
  let previous = performance.eventLoopUtilization();
  return [
    family('nodejs_eventloop_utilization', 'The fraction of time the event loop was busy since the previous scrape.', 'gauge', () => {
      const now = performance.eventLoopUtilization();
      const since = performance.eventLoopUtilization(now, previous);
      previous = now;
      return [value({}, since.utilization)];
    }),
  ];
}
