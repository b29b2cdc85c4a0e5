// The brokers as clients must see them: node id and the host and port each registered, unfenced
// broker advertises for one listener, the listener the request arrived on. A broker without an
// endpoint for that listener is left out, as Kafka does: this is what makes internal/external
// listener setups (Docker, NAT) send each client to addresses it can reach.
import type { MetadataImage } from '../metadata/metadata-image.js';

export interface AdvertisedBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export function advertisedBrokers(image: MetadataImage, listenerName: string): AdvertisedBroker[] {
  const wanted = listenerName.toUpperCase();
  const brokers: AdvertisedBroker[] = [];
  for (const broker of image.brokers.values()) {
    if (broker.fenced) continue;
    const endpoint = broker.endpoints.find((candidate) => candidate.name.toUpperCase() === wanted);
    if (!endpoint) continue;
    brokers.push({ nodeId: broker.brokerId, host: endpoint.host, port: endpoint.port, rack: broker.rack });
  }
  return brokers.sort((a, b) => a.nodeId - b.nodeId);
}
