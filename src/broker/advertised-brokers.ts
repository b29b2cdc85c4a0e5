// The brokers as clients must see them: node id and the host and port of the first advertised
// listener of each registered, unfenced broker.
import type { MetadataImage } from '../metadata/metadata-image.js';

export interface AdvertisedBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export function advertisedBrokers(image: MetadataImage): AdvertisedBroker[] {
  const brokers: AdvertisedBroker[] = [];
  for (const broker of image.brokers.values()) {
    const endpoint = broker.endpoints[0];
    if (broker.fenced || !endpoint) continue;
    brokers.push({ nodeId: broker.brokerId, host: endpoint.host, port: endpoint.port, rack: broker.rack });
  }
  return brokers.sort((a, b) => a.nodeId - b.nodeId);
}
