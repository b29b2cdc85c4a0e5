// The metadata image written out as the records that rebuild it (the content of a metadata
// snapshot, KIP-630): brokers (with their online log directories), topics with their partitions as
// they stand now (each replica's directory too), configs, SCRAM
// credentials, client quotas, ACLs, and the producer-id high mark. Replaying these into an empty image gives an equal image.
import type { MetadataImage } from './metadata-image.js';
import { type MetadataRecord, partitionRecordOf } from './metadata-record.js';

export function imageRecords(image: MetadataImage): MetadataRecord[] {
  const records: MetadataRecord[] = [];
  for (const broker of image.brokers.values()) {
    const { logDirs, ...registration } = broker;
    // The directories online now (Kafka's snapshot does the same): those reported offline are gone from the registration.
    records.push({ type: 'RegisterBroker', ...registration, endpoints: broker.endpoints.map((endpoint) => ({ ...endpoint })), ...(logDirs.length > 0 ? { logDirs: [...logDirs] } : {}) });
  }
  for (const topic of image.topicsByName.values()) {
    records.push({ type: 'Topic', name: topic.name, topicId: topic.topicId });
    for (const partition of topic.partitions.values()) {
      records.push(partitionRecordOf(topic.topicId, partition));
    }
  }
  for (const { resourceType, resourceName, configs } of image.configResources()) {
    for (const [name, value] of configs) records.push({ type: 'Config', resourceType, resourceName, name, value });
  }
  for (const [name, credentials] of image.scramCredentials) {
    for (const [mechanism, credential] of credentials) records.push({ type: 'UserScramCredential', name, mechanism, ...credential });
  }
  for (const { entity, values } of image.clientQuotas.values()) {
    for (const [key, value] of values) records.push({ type: 'ClientQuota', entity: entity.map((part) => ({ ...part })), key, value, remove: false });
  }
  for (const entry of image.acls.values()) records.push({ type: 'AccessControlEntry', ...entry });
  if (image.nextProducerId > 0) records.push({ type: 'ProducerIds', brokerId: -1, brokerEpoch: -1, nextProducerId: image.nextProducerId });
  return records;
}
