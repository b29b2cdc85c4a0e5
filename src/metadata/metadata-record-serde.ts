// Kafka's metadata record framing: an unsigned-varint frame version (1), the record's api key and
// version, then the record in its generated format. An operator's tools that read
// __cluster_metadata see Kafka's own records.
import { assert, unreachable } from '../base/assert.js';
import { ProtocolError } from '../protocol/primitives/protocol-error.js';
import { Reader } from '../protocol/primitives/reader.js';
import { Writer } from '../protocol/primitives/writer.js';
import { decodeConfigRecord, encodeConfigRecord } from '../protocol/messages/records/config-record.js';
import { decodePartitionRecord, encodePartitionRecord } from '../protocol/messages/records/partition-record.js';
import { decodeProducerIdsRecord, encodeProducerIdsRecord } from '../protocol/messages/records/producer-ids-record.js';
import { decodeRegisterBrokerRecord, encodeRegisterBrokerRecord } from '../protocol/messages/records/register-broker-record.js';
import { decodeRemoveTopicRecord, encodeRemoveTopicRecord } from '../protocol/messages/records/remove-topic-record.js';
import { decodeTopicRecord, encodeTopicRecord } from '../protocol/messages/records/topic-record.js';
import { decodeFenceBrokerRecord, encodeFenceBrokerRecord } from '../protocol/messages/records/fence-broker-record.js';
import { decodeUnfenceBrokerRecord, encodeUnfenceBrokerRecord } from '../protocol/messages/records/unfence-broker-record.js';
import { decodePartitionChangeRecord, encodePartitionChangeRecord } from '../protocol/messages/records/partition-change-record.js';
import { encodeNoOpRecord } from '../protocol/messages/records/no-op-record.js';
import { decodeBrokerRegistrationChangeRecord, encodeBrokerRegistrationChangeRecord } from '../protocol/messages/records/broker-registration-change-record.js';
import { decodeUserScramCredentialRecord, encodeUserScramCredentialRecord } from '../protocol/messages/records/user-scram-credential-record.js';
import { decodeRemoveUserScramCredentialRecord, encodeRemoveUserScramCredentialRecord } from '../protocol/messages/records/remove-user-scram-credential-record.js';
import { decodeAccessControlEntryRecord, encodeAccessControlEntryRecord } from '../protocol/messages/records/access-control-entry-record.js';
import { decodeRemoveAccessControlEntryRecord, encodeRemoveAccessControlEntryRecord } from '../protocol/messages/records/remove-access-control-entry-record.js';
import { decodeClientQuotaRecord, encodeClientQuotaRecord } from '../protocol/messages/records/client-quota-record.js';
import { migratingDirectories } from './directory-id.js';
import { type AppendedRecord, type MetadataRecord, type PartitionChangeRecord, partitionRecordOf } from './metadata-record.js';

const FRAME_VERSION = 1;

/** Kafka's api keys of the metadata records Conveyor writes. */
export const MetadataRecordApiKey = {
  RegisterBroker: 0,
  Topic: 2,
  Partition: 3,
  Config: 4,
  PartitionChange: 5,
  FenceBroker: 7,
  UnfenceBroker: 8,
  RemoveTopic: 9,
  UserScramCredential: 11,
  ClientQuota: 14,
  RemoveUserScramCredential: 22,
  ProducerIds: 15,
  BrokerRegistrationChange: 17,
  AccessControlEntry: 18,
  RemoveAccessControlEntry: 19,
  NoOp: 20,
} as const;

export function serializeMetadataRecord(record: AppendedRecord): Buffer {
  const writer = new Writer();
  const frame = (apiKey: number, version: number) => {
    writer.writeUnsignedVarInt(FRAME_VERSION);
    writer.writeUnsignedVarInt(apiKey);
    writer.writeUnsignedVarInt(version);
  };
  switch (record.type) {
    case 'RegisterBroker':
      frame(MetadataRecordApiKey.RegisterBroker, 3);
      encodeRegisterBrokerRecord(writer, 3, {
        brokerId: record.brokerId,
        incarnationId: record.incarnationId,
        brokerEpoch: BigInt(record.brokerEpoch),
        endPoints: record.endpoints,
        features: [],
        rack: record.rack,
        fenced: record.fenced,
        logDirs: record.logDirs ?? [],
      });
      break;
    case 'BrokerRegistrationChange':
      frame(MetadataRecordApiKey.BrokerRegistrationChange, 2);
      encodeBrokerRegistrationChangeRecord(writer, 2, { brokerId: record.brokerId, brokerEpoch: BigInt(record.brokerEpoch), logDirs: record.logDirs });
      break;
    case 'Topic':
      frame(MetadataRecordApiKey.Topic, 0);
      encodeTopicRecord(writer, 0, { name: record.name, topicId: record.topicId });
      break;
    case 'Partition': {
      // Version 2 where it has eligible leader replicas to carry, 1 where it has directories (KIP-858)
      // only, else 0 (every directory MIGRATING, as Kafka reads a record without them).
      const elr = record.eligibleLeaderReplicas ?? [];
      const lastKnownElr = record.lastKnownElr ?? [];
      const directories = record.directories ?? migratingDirectories(record.replicas.length);
      const version = elr.length > 0 || lastKnownElr.length > 0 ? 2 : record.directories !== undefined ? 1 : 0;
      frame(MetadataRecordApiKey.Partition, version);
      encodePartitionRecord(writer, version, {
        partitionId: record.partitionId,
        topicId: record.topicId,
        replicas: record.replicas,
        isr: record.isr,
        removingReplicas: record.removingReplicas ?? [],
        addingReplicas: record.addingReplicas ?? [],
        leader: record.leader,
        leaderEpoch: record.leaderEpoch,
        partitionEpoch: record.partitionEpoch,
        ...(version >= 1 ? { directories } : {}),
        ...(version === 2 ? { eligibleLeaderReplicas: elr, lastKnownElr } : {}),
      });
      break;
    }
    case 'RemoveTopic':
      frame(MetadataRecordApiKey.RemoveTopic, 0);
      encodeRemoveTopicRecord(writer, 0, { topicId: record.topicId });
      break;
    case 'Config':
      frame(MetadataRecordApiKey.Config, 0);
      encodeConfigRecord(writer, 0, { resourceType: record.resourceType, resourceName: record.resourceName, name: record.name, value: record.value });
      break;
    case 'ProducerIds':
      frame(MetadataRecordApiKey.ProducerIds, 0);
      encodeProducerIdsRecord(writer, 0, { brokerId: record.brokerId, brokerEpoch: BigInt(record.brokerEpoch), nextProducerId: BigInt(record.nextProducerId) });
      break;
    case 'FenceBroker':
      frame(MetadataRecordApiKey.FenceBroker, 0);
      encodeFenceBrokerRecord(writer, 0, { id: record.brokerId, epoch: BigInt(record.brokerEpoch) });
      break;
    case 'UnfenceBroker':
      frame(MetadataRecordApiKey.UnfenceBroker, 0);
      encodeUnfenceBrokerRecord(writer, 0, { id: record.brokerId, epoch: BigInt(record.brokerEpoch) });
      break;
    case 'PartitionChange': {
      // Version 2 only where the change carries eligible leader replicas, 1 where it carries
      // directories only, else 0 (all its fields are tagged).
      const version = record.eligibleLeaderReplicas !== undefined || record.lastKnownElr !== undefined ? 2 : record.directories !== undefined ? 1 : 0;
      frame(MetadataRecordApiKey.PartitionChange, version);
      encodePartitionChangeRecord(writer, version, {
        partitionId: record.partitionId,
        topicId: record.topicId,
        leader: record.leader,
        isr: record.isr,
        replicas: record.replicas ?? null,
        addingReplicas: record.addingReplicas ?? null,
        removingReplicas: record.removingReplicas ?? null,
        eligibleLeaderReplicas: record.eligibleLeaderReplicas ?? null,
        lastKnownElr: record.lastKnownElr ?? null,
        directories: record.directories ?? null,
      });
      break;
    }
    case 'UserScramCredential': {
      frame(MetadataRecordApiKey.UserScramCredential, 0);
      const { type: _type, ...credential } = record;
      encodeUserScramCredentialRecord(writer, 0, credential);
      break;
    }
    case 'RemoveUserScramCredential':
      frame(MetadataRecordApiKey.RemoveUserScramCredential, 0);
      encodeRemoveUserScramCredentialRecord(writer, 0, { name: record.name, mechanism: record.mechanism });
      break;
    case 'AccessControlEntry': {
      frame(MetadataRecordApiKey.AccessControlEntry, 0);
      const { type: _type, ...entry } = record;
      encodeAccessControlEntryRecord(writer, 0, entry);
      break;
    }
    case 'RemoveAccessControlEntry':
      frame(MetadataRecordApiKey.RemoveAccessControlEntry, 0);
      encodeRemoveAccessControlEntryRecord(writer, 0, { id: record.id });
      break;
    case 'ClientQuota':
      frame(MetadataRecordApiKey.ClientQuota, 0);
      encodeClientQuotaRecord(writer, 0, {
        entity: record.entity.map(({ entityType, entityName }) => ({ entityType, entityName })),
        key: record.key,
        value: record.value,
        remove: record.remove,
      });
      break;
    case 'NoOp':
      frame(MetadataRecordApiKey.NoOp, 0);
      encodeNoOpRecord(writer, 0, {});
      break;
    default:
      unreachable(record);
  }
  return writer.toBuffer();
}

/**
 * Decodes one metadata record, or returns null for a NoOpRecord (nothing to apply) and for record
 * types Conveyor does not use yet (a log written by a newer version): replay skips them rather
 * than failing.
 */
export function deserializeMetadataRecord(bytes: Buffer): MetadataRecord | null {
  const reader = new Reader(bytes);
  const frameVersion = reader.readUnsignedVarInt();
  if (frameVersion !== FRAME_VERSION) throw new ProtocolError(`unknown metadata record frame version ${frameVersion}`);
  const apiKey = reader.readUnsignedVarInt();
  const version = reader.readUnsignedVarInt();
  switch (apiKey) {
    case MetadataRecordApiKey.RegisterBroker: {
      const record = decodeRegisterBrokerRecord(reader, version);
      return {
        type: 'RegisterBroker',
        brokerId: record.brokerId,
        incarnationId: record.incarnationId,
        brokerEpoch: Number(record.brokerEpoch),
        endpoints: record.endPoints.map(({ name, host, port, securityProtocol }) => ({ name, host, port, securityProtocol })),
        rack: record.rack,
        fenced: record.fenced,
        ...(record.logDirs !== undefined && record.logDirs.length > 0 ? { logDirs: record.logDirs } : {}),
      };
    }
    case MetadataRecordApiKey.BrokerRegistrationChange: {
      // Conveyor writes only the online log directories; fencing has records of its own.
      const record = decodeBrokerRegistrationChangeRecord(reader, version);
      return { type: 'BrokerRegistrationChange', brokerId: record.brokerId, brokerEpoch: Number(record.brokerEpoch), logDirs: record.logDirs ?? [] };
    }
    case MetadataRecordApiKey.Topic:
      return { type: 'Topic', ...decodeTopicRecord(reader, version) };
    case MetadataRecordApiKey.Partition: {
      const record = decodePartitionRecord(reader, version);
      // No directories (version 0, or an empty list): every replica MIGRATING, as Kafka reads it.
      const directories = record.directories !== undefined && record.directories.length > 0 ? record.directories : migratingDirectories(record.replicas.length);
      return partitionRecordOf(record.topicId, { ...record, eligibleLeaderReplicas: record.eligibleLeaderReplicas ?? [], lastKnownElr: record.lastKnownElr ?? [], directories });
    }
    case MetadataRecordApiKey.RemoveTopic:
      return { type: 'RemoveTopic', ...decodeRemoveTopicRecord(reader, version) };
    case MetadataRecordApiKey.Config:
      return { type: 'Config', ...decodeConfigRecord(reader, version) };
    case MetadataRecordApiKey.ProducerIds: {
      const record = decodeProducerIdsRecord(reader, version);
      assert(record.nextProducerId <= BigInt(Number.MAX_SAFE_INTEGER), 'producer id beyond 2^53');
      return { type: 'ProducerIds', brokerId: record.brokerId, brokerEpoch: Number(record.brokerEpoch), nextProducerId: Number(record.nextProducerId) };
    }
    case MetadataRecordApiKey.FenceBroker: {
      const record = decodeFenceBrokerRecord(reader, version);
      return { type: 'FenceBroker', brokerId: record.id, brokerEpoch: Number(record.epoch) };
    }
    case MetadataRecordApiKey.UnfenceBroker: {
      const record = decodeUnfenceBrokerRecord(reader, version);
      return { type: 'UnfenceBroker', brokerId: record.id, brokerEpoch: Number(record.epoch) };
    }
    case MetadataRecordApiKey.PartitionChange: {
      const record = decodePartitionChangeRecord(reader, version);
      // Conveyor writes the leader and the ISR in every change; -2 (absent) keeps the leader.
      // Replica lists are written only when a reassignment changes them.
      const change: PartitionChangeRecord = { type: 'PartitionChange', topicId: record.topicId, partitionId: record.partitionId, leader: record.leader ?? -2, isr: record.isr ?? [] };
      if (record.replicas != null) change.replicas = record.replicas;
      if (record.addingReplicas != null) change.addingReplicas = record.addingReplicas;
      if (record.removingReplicas != null) change.removingReplicas = record.removingReplicas;
      if (record.eligibleLeaderReplicas != null) change.eligibleLeaderReplicas = record.eligibleLeaderReplicas;
      if (record.lastKnownElr != null) change.lastKnownElr = record.lastKnownElr;
      if (record.directories != null && record.directories.length > 0) change.directories = record.directories;
      return change;
    }
    case MetadataRecordApiKey.UserScramCredential:
      return { type: 'UserScramCredential', ...decodeUserScramCredentialRecord(reader, version) };
    case MetadataRecordApiKey.RemoveUserScramCredential:
      return { type: 'RemoveUserScramCredential', ...decodeRemoveUserScramCredentialRecord(reader, version) };
    case MetadataRecordApiKey.AccessControlEntry:
      return { type: 'AccessControlEntry', ...decodeAccessControlEntryRecord(reader, version) };
    case MetadataRecordApiKey.RemoveAccessControlEntry:
      return { type: 'RemoveAccessControlEntry', ...decodeRemoveAccessControlEntryRecord(reader, version) };
    case MetadataRecordApiKey.ClientQuota:
      return { type: 'ClientQuota', ...decodeClientQuotaRecord(reader, version) };
    case MetadataRecordApiKey.NoOp: // nothing to apply
    default:
      return null;
  }
}
