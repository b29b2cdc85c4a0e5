import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetadataRecord } from './metadata-record.js';
import { deserializeMetadataRecord, serializeMetadataRecord } from './metadata-record-serde.js';

test('every metadata record round-trips through Kafka framing', () => {
  const records: MetadataRecord[] = [
    { type: 'RegisterBroker', brokerId: 1, incarnationId: 'q7vKjbdwQvWsVqzvI3oZ3A', brokerEpoch: 3, endpoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9092, securityProtocol: 0 }], rack: null, fenced: false },
    { type: 'Topic', name: 'orders', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A' },
    { type: 'Partition', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 2, replicas: [1], isr: [1], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
    { type: 'Config', resourceType: 2, resourceName: 'orders', name: 'retention.ms', value: '1000' },
    { type: 'Config', resourceType: 2, resourceName: 'orders', name: 'retention.ms', value: null },
    { type: 'RemoveTopic', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A' },
    { type: 'ProducerIds', brokerId: 1, brokerEpoch: 2, nextProducerId: 2000 },
    { type: 'FenceBroker', brokerId: 2, brokerEpoch: 7 },
    { type: 'UnfenceBroker', brokerId: 2, brokerEpoch: 7 },
    // A reassignment in progress, in a snapshot's PartitionRecord and in the changes that start and end it.
    { type: 'Partition', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 0, replicas: [3, 1], isr: [1], addingReplicas: [3], removingReplicas: [1], leader: 1, leaderEpoch: 4, partitionEpoch: 9 },
    { type: 'PartitionChange', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 0, leader: -2, isr: [1, 2] },
    { type: 'PartitionChange', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 0, leader: -2, isr: [1], replicas: [3, 1], addingReplicas: [3], removingReplicas: [1] },
    { type: 'PartitionChange', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 0, leader: 3, isr: [3], replicas: [3], addingReplicas: [], removingReplicas: [] },
    // Log directories (KIP-858): a broker's registered ones, a partition's per replica, and changes of both.
    { type: 'RegisterBroker', brokerId: 2, incarnationId: 'q7vKjbdwQvWsVqzvI3oZ3A', brokerEpoch: 4, endpoints: [], rack: 'r1', fenced: true, logDirs: ['zG8QzHuRSXaBBVO6WYzMdg', 'hN2kqYv9R1SPqkW7zPE4sQ'] },
    { type: 'BrokerRegistrationChange', brokerId: 2, brokerEpoch: 4, logDirs: ['hN2kqYv9R1SPqkW7zPE4sQ'] },
    { type: 'Partition', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 1, replicas: [1, 2], isr: [1, 2], directories: ['AAAAAAAAAAAAAAAAAAAAAQ', 'hN2kqYv9R1SPqkW7zPE4sQ'], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
    { type: 'Partition', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 1, replicas: [1, 2], isr: [1], eligibleLeaderReplicas: [2], directories: ['AAAAAAAAAAAAAAAAAAAAAQ', 'hN2kqYv9R1SPqkW7zPE4sQ'], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
    { type: 'PartitionChange', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 1, leader: -2, isr: [1, 2], directories: ['zG8QzHuRSXaBBVO6WYzMdg', 'hN2kqYv9R1SPqkW7zPE4sQ'] },
    { type: 'PartitionChange', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 1, leader: 2, isr: [2], eligibleLeaderReplicas: [], lastKnownElr: [], directories: ['AAAAAAAAAAAAAAAAAAAAAg', 'hN2kqYv9R1SPqkW7zPE4sQ'] },
    // SCRAM users (KIP-554).
    { type: 'UserScramCredential', name: 'alice', mechanism: 2, salt: Buffer.from('salt'), storedKey: Buffer.alloc(64, 1), serverKey: Buffer.alloc(64, 2), iterations: 8192 },
    { type: 'RemoveUserScramCredential', name: 'alice', mechanism: 2 },
    // ACLs.
    { type: 'AccessControlEntry', id: 'q7vKjbdwQvWsVqzvI3oZ3A', resourceType: 2, resourceName: 'orders-', patternType: 4, principal: 'User:alice', host: '*', operation: 3, permissionType: 3 },
    { type: 'RemoveAccessControlEntry', id: 'q7vKjbdwQvWsVqzvI3oZ3A' },
    // Client quotas (KIP-546): a user + client-id value, a default user's fractional double, a default ip's removal.
    { type: 'ClientQuota', entity: [{ entityType: 'client-id', entityName: 'app' }, { entityType: 'user', entityName: 'alice' }], key: 'producer_byte_rate', value: 1048576, remove: false },
    { type: 'ClientQuota', entity: [{ entityType: 'user', entityName: null }], key: 'request_percentage', value: 12.5, remove: false },
    { type: 'ClientQuota', entity: [{ entityType: 'ip', entityName: null }], key: 'connection_creation_rate', value: 0, remove: true },
  ];
  for (const record of records) assert.deepEqual(deserializeMetadataRecord(serializeMetadataRecord(record)), record);
  // Frame version 1, api key 2 (TopicRecord), version 0.
  assert.deepEqual([...serializeMetadataRecord(records[1]!).subarray(0, 3)], [1, 2, 0]);
  // Kafka's versions: BrokerRegistrationChangeRecord (17) v2 carries logDirs; a PartitionRecord with directories only is v1.
  assert.deepEqual([...serializeMetadataRecord(records.find((record) => record.type === 'BrokerRegistrationChange')!).subarray(0, 3)], [1, 17, 2]);
  assert.deepEqual([...serializeMetadataRecord(records.find((record) => record.type === 'Partition' && record.directories !== undefined)!).subarray(0, 3)], [1, 3, 1]);
  // Kafka's api keys: UserScramCredentialRecord 11, RemoveUserScramCredentialRecord 22.
  assert.deepEqual([...serializeMetadataRecord(records.find((record) => record.type === 'UserScramCredential')!).subarray(0, 3)], [1, 11, 0]);
  assert.deepEqual([...serializeMetadataRecord(records.find((record) => record.type === 'RemoveUserScramCredential')!).subarray(0, 3)], [1, 22, 0]);
  // AccessControlEntryRecord 18, RemoveAccessControlEntryRecord 19.
  assert.deepEqual([...serializeMetadataRecord(records.find((record) => record.type === 'AccessControlEntry')!).subarray(0, 3)], [1, 18, 0]);
  assert.deepEqual([...serializeMetadataRecord(records.find((record) => record.type === 'RemoveAccessControlEntry')!).subarray(0, 3)], [1, 19, 0]);
  // ClientQuotaRecord 14.
  assert.deepEqual([...serializeMetadataRecord(records.find((record) => record.type === 'ClientQuota')!).subarray(0, 3)], [1, 14, 0]);
});

test('a PartitionRecord whose directories are all MIGRATING reads back without them, as one written before directory assignment', () => {
  const bytes = serializeMetadataRecord({ type: 'Partition', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 0, replicas: [1, 2], isr: [1, 2], directories: ['AAAAAAAAAAAAAAAAAAAAAA', 'AAAAAAAAAAAAAAAAAAAAAA'], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
  assert.deepEqual(deserializeMetadataRecord(bytes), { type: 'Partition', topicId: 'q7vKjbdwQvWsVqzvI3oZ3A', partitionId: 0, replicas: [1, 2], isr: [1, 2], leader: 1, leaderEpoch: 0, partitionEpoch: 0 });
});

test('record types Conveyor does not use are skipped, not fatal', () => {
  assert.equal(deserializeMetadataRecord(Buffer.from([1, 12, 0, 0, 0])), null);
});

test('a NoOpRecord is written in Kafka framing and skipped on replay', () => {
  const bytes = serializeMetadataRecord({ type: 'NoOp' });
  // Frame version 1, api key 20 (NoOpRecord), version 0, no tagged fields.
  assert.deepEqual([...bytes], [1, 20, 0, 0]);
  assert.equal(deserializeMetadataRecord(bytes), null);
});

test("a ClientQuotaRecord is Kafka's bytes: frame, api key 14 v0, compact entity array, float64 value, remove flag", () => {
  const bytes = serializeMetadataRecord({ type: 'ClientQuota', entity: [{ entityType: 'user', entityName: 'alice' }], key: 'producer_byte_rate', value: 1024, remove: false });
  const expected = Buffer.concat([
    Buffer.from([1, 14, 0]),
    Buffer.from([2, 5]), Buffer.from('user'), Buffer.from([6]), Buffer.from('alice'), Buffer.from([0]),
    Buffer.from([19]), Buffer.from('producer_byte_rate'),
    Buffer.from([0x40, 0x90, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0, 0]),
  ]);
  assert.deepEqual(bytes, expected);
  // The default entity is a null name (compact nullable string length 0).
  const defaultUser = serializeMetadataRecord({ type: 'ClientQuota', entity: [{ entityType: 'user', entityName: null }], key: 'producer_byte_rate', value: 1024, remove: true });
  assert.deepEqual([...defaultUser.subarray(3, 11)], [2, 5, ...Buffer.from('user'), 0, 0]);
  assert.equal(defaultUser[defaultUser.length - 2], 1);
});
