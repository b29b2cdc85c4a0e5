// How a broker starts its TransformRunner (src/broker/transforms/): a client of its own
// inter-broker listener, as any other client would connect (so deployments, outputs and offsets
// all go through the Kafka protocol and replicate like everything else), and the partitions it
// leads from its metadata image. None when transforms.enabled is false or the broker has no way to
// open connections (a broker started without a connector, as some tests do).
import type { Clock } from '../base/clock.js';
import type { Logger } from '../base/logger.js';
import type { Connector } from '../client/byte-stream.js';
import { ClusterClient, hostPort } from '../client/cluster-client.js';
import type { MetadataImage } from '../metadata/metadata-image.js';
import type { BrokerEndpoint } from './advertised-endpoints.js';
import { type BrokerConfig, interBrokerListenerOf } from './broker-config.js';
import { TransformRunner } from './transforms/transform-runner.js';

export interface TransformsWiring {
  readonly config: BrokerConfig;
  readonly image: MetadataImage;
  /** This broker's advertised endpoints: the runner connects to the inter-broker one. */
  readonly endpoints: readonly BrokerEndpoint[];
  /** Opens the runner's connections, secured as the inter-broker listener needs. */
  readonly connect: Connector | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
}

export function startTransforms(wiring: TransformsWiring): TransformRunner | undefined {
  const { config, image, endpoints, connect, clock, logger } = wiring;
  if (!config.transforms.enabled || connect === undefined) return undefined;
  const listener = interBrokerListenerOf(config);
  const endpoint = endpoints.find((each) => each.name === listener) ?? endpoints[0];
  if (endpoint === undefined) return undefined;
  const runner = new TransformRunner({
    nodeId: config.nodeId,
    openClient: (purpose) => new ClusterClient(connect, hostPort(endpoint.host, endpoint.port), `conveyor-transforms-${config.nodeId}-${purpose}`),
    leaderOf: (topic, partition) => image.partition(topic, partition)?.leader,
    partitionCount: (topic) => image.topic(topic)?.partitions.size ?? 0,
    maxMemoryMb: config.transforms.maxMemoryMb,
    clock,
    logger: logger.child('transforms'),
  });
  runner.start();
  return runner;
}
