// The brokers as clients must see them: node id and the host and port each registered, unfenced
// broker advertises for one listener, the listener the request arrived on. A broker without an
// endpoint for that listener is left out, as Kafka does: this is what makes internal/external
// listener setups (Docker, NAT) send each client to addresses it can reach.
// Also what a partition looks like to such a client (Kafka's KRaftMetadataCache): its leader
// only when reachable on that listener, and the replicas whose broker is not (unregistered,
// fenced or without the listener) as offline replicas.
import type { MetadataImage, PartitionImage } from '../metadata/metadata-image.js';

export interface AdvertisedBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
  fenced: boolean;
}

export function advertisedBrokers(image: MetadataImage, listenerName: string, includeFenced = false): AdvertisedBroker[] {
  const wanted = listenerName.toUpperCase();
  const brokers: AdvertisedBroker[] = [];
  for (const broker of image.brokers.values()) {
    if (broker.fenced && !includeFenced) continue;
    const endpoint = broker.endpoints.find((candidate) => candidate.name.toUpperCase() === wanted);
    if (!endpoint) continue;
    brokers.push({ nodeId: broker.brokerId, host: endpoint.host, port: endpoint.port, rack: broker.rack, fenced: broker.fenced });
  }
  return brokers.sort((a, b) => a.nodeId - b.nodeId);
}

/**
 * The controller id a response names: the preferred one (the active controller) when the response
 * lists it among its brokers, else this broker, else the first listed broker, else -1. A client
 * sends its controller requests to that id, so it must be one it can find in the same response
 * (a fenced active controller, between its controlled shutdown and its resignation, is not); any
 * broker forwards those requests to the active controller.
 */
export function advertisedControllerAmong(brokers: readonly AdvertisedBroker[], preferred: number, self: number): number {
  if (brokers.some((broker) => broker.nodeId === preferred)) return preferred;
  if (brokers.some((broker) => broker.nodeId === self)) return self;
  return brokers[0]?.nodeId ?? -1;
}

export interface PartitionAvailability {
  /**
   * 'live' when the leader is registered with an endpoint for the listener; 'none' when it is
   * not registered (including no leader at all, -1); 'no-listener' when it is registered without
   * an endpoint for the listener.
   */
  leader: 'live' | 'none' | 'no-listener';
  /** The replicas whose broker is unregistered, fenced, or has no endpoint for the listener, or whose log directory is offline, in replica order. */
  offlineReplicas: number[];
}

export function partitionAvailability(image: MetadataImage, listenerName: string, partition: PartitionImage): PartitionAvailability {
  const wanted = listenerName.toUpperCase();
  const hasListener = (brokerId: number) => image.brokers.get(brokerId)?.endpoints.some((endpoint) => endpoint.name.toUpperCase() === wanted) ?? false;
  // A replica in a log directory its broker reported offline is offline too (Kafka's hasOnlineDir).
  const online = (brokerId: number) => image.brokers.get(brokerId)?.fenced === false && hasListener(brokerId) && image.replicaOnline(partition, brokerId);
  // Kafka names a registered leader even while it is fenced (the controller moves leadership off
  // a fenced broker in the same batch, so that lasts no longer than a record).
  const leader = !image.brokers.has(partition.leader) ? 'none' : hasListener(partition.leader) ? 'live' : 'no-listener';
  return { leader, offlineReplicas: partition.replicas.filter((replica) => !online(replica)) };
}
