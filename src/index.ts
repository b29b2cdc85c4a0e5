// Conveyor's public API: start a Kafka-compatible broker in this process.
export { startBroker, type RunningBroker, type StartBrokerOptions } from './node/start-broker.js';
export { startCluster, type ClusterNode, type RunningCluster, type StartClusterOptions } from './node/start-cluster.js';
export { resolveBrokerConfig, type BrokerConfig } from './broker/broker-config.js';
export { ConfigError } from './base/config-def.js';
