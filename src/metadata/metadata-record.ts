// The records of the metadata log (DESIGN.md decision 5): every change to topics, partitions,
// configs, brokers and producer-id blocks is one of these, and the metadata image is what replaying
// them yields. On disk they use Kafka's own metadata record formats (see metadata-record-serde.ts).
import type { AclBinding } from './acl.js';
import { DirectoryId } from './directory-id.js';

export const ConfigResourceType = { topic: 2, broker: 4, group: 32 } as const;

export interface BrokerEndpoint {
  name: string;
  host: string;
  port: number;
  securityProtocol: number;
}

export interface RegisterBrokerRecord {
  type: 'RegisterBroker';
  brokerId: number;
  incarnationId: string;
  brokerEpoch: number;
  endpoints: BrokerEndpoint[];
  rack: string | null;
  fenced: boolean;
  /** The broker's online log directories' ids (KIP-858; absent: none registered). */
  logDirs?: string[];
}

/**
 * A change to a broker's registration of epoch `brokerEpoch` (Kafka's BrokerRegistrationChangeRecord):
 * Conveyor writes it for the log directories still online once the broker reports some offline
 * (an empty list changes nothing, as in Kafka).
 */
export interface BrokerRegistrationChangeRecord {
  type: 'BrokerRegistrationChange';
  brokerId: number;
  brokerEpoch: number;
  logDirs: string[];
}

export interface TopicRecord {
  type: 'Topic';
  name: string;
  topicId: string;
}

export interface PartitionRecord {
  type: 'Partition';
  topicId: string;
  partitionId: number;
  replicas: number[];
  isr: number[];
  /** A reassignment in progress (KIP-455): replicas being added, and being removed once they are in sync (absent: none). */
  addingReplicas?: number[];
  removingReplicas?: number[];
  /** Eligible leader replicas (KIP-966): out of the ISR but holding everything below the high watermark (absent: none). */
  eligibleLeaderReplicas?: number[];
  /** The last known ELR (or leader) when the ISR and ELR are empty: the last resort before an unclean election (absent: none). */
  lastKnownElr?: number[];
  /** Each replica's log directory (KIP-858), aligned with `replicas` (absent: every one MIGRATING). */
  directories?: string[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

/** A partition's state with every list present, as the image keeps it. */
export interface PartitionState {
  partitionId: number;
  replicas: readonly number[];
  isr: readonly number[];
  addingReplicas: readonly number[];
  removingReplicas: readonly number[];
  eligibleLeaderReplicas: readonly number[];
  lastKnownElr: readonly number[];
  directories: readonly string[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

/** The PartitionRecord of `state` (copied), its optional lists present only where not empty, as replay and snapshots give them. */
export function partitionRecordOf(topicId: string, state: PartitionState): PartitionRecord {
  const { partitionId, leader, leaderEpoch, partitionEpoch } = state;
  const record: PartitionRecord = { type: 'Partition', topicId, partitionId, replicas: [...state.replicas], isr: [...state.isr], leader, leaderEpoch, partitionEpoch };
  if (state.addingReplicas.length > 0 || state.removingReplicas.length > 0) Object.assign(record, { addingReplicas: [...state.addingReplicas], removingReplicas: [...state.removingReplicas] });
  if (state.eligibleLeaderReplicas.length > 0) record.eligibleLeaderReplicas = [...state.eligibleLeaderReplicas];
  if (state.lastKnownElr.length > 0) record.lastKnownElr = [...state.lastKnownElr];
  if (state.directories.some((directory) => directory !== DirectoryId.MIGRATING)) record.directories = [...state.directories];
  return record;
}

export interface RemoveTopicRecord {
  type: 'RemoveTopic';
  topicId: string;
}

export interface ConfigRecord {
  type: 'Config';
  resourceType: number;
  resourceName: string;
  name: string;
  /** null removes the key. */
  value: string | null;
}

export interface ProducerIdsRecord {
  type: 'ProducerIds';
  brokerId: number;
  brokerEpoch: number;
  nextProducerId: number;
}

/** The controller fenced the broker: it missed its heartbeats or is shutting down. */
export interface FenceBrokerRecord {
  type: 'FenceBroker';
  brokerId: number;
  brokerEpoch: number;
}

/** The controller unfenced the broker: it heartbeats and has caught up with the metadata. */
export interface UnfenceBrokerRecord {
  type: 'UnfenceBroker';
  brokerId: number;
  brokerEpoch: number;
}

/**
 * A change to one partition: a new leader (-1: none, -2: unchanged) and ISR, and for a
 * reassignment (KIP-455) the new replica list and the replicas being added and removed (absent:
 * unchanged; empty lists end the reassignment). Each bumps the epochs as Kafka does.
 */
export interface PartitionChangeRecord {
  type: 'PartitionChange';
  topicId: string;
  partitionId: number;
  leader: number;
  isr: number[];
  replicas?: number[];
  addingReplicas?: number[];
  removingReplicas?: number[];
  eligibleLeaderReplicas?: number[];
  lastKnownElr?: number[];
  /** Each replica's log directory, aligned with the new replicas (absent: unchanged). */
  directories?: string[];
}

/**
 * A user's SCRAM credential for one mechanism (1: SCRAM-SHA-256, 2: SCRAM-SHA-512), as RFC 5802
 * keeps it on a server: the salt, the iteration count, and the stored and server keys derived
 * from the salted password. The password itself is never in the log.
 */
export interface UserScramCredentialRecord {
  type: 'UserScramCredential';
  name: string;
  mechanism: number;
  salt: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
  iterations: number;
}

export interface RemoveUserScramCredentialRecord {
  type: 'RemoveUserScramCredential';
  name: string;
  mechanism: number;
}

/**
 * One quota value of a client quota entity (Kafka's ClientQuotaRecord, KIP-546): the entity is its
 * parts, entity type (`user`, `client-id`, `ip`) to name, a null name meaning that type's default
 * entity; `remove` takes the key's value away (the value is then 0 and ignored).
 */
export interface ClientQuotaRecord {
  type: 'ClientQuota';
  entity: { entityType: string; entityName: string | null }[];
  key: string;
  value: number;
  remove: boolean;
}

/**
 * One ACL (Kafka's AccessControlEntryRecord): who (`principal`, from `host`) is allowed or denied
 * an operation on the resources a pattern names (a LITERAL name, `*`, or a PREFIXED name start),
 * with Kafka's codes (src/metadata/acl.ts).
 */
export interface AccessControlEntryRecord extends AclBinding {
  type: 'AccessControlEntry';
}

export interface RemoveAccessControlEntryRecord {
  type: 'RemoveAccessControlEntry';
  id: string;
}

export type MetadataRecord =
  | ClientQuotaRecord
  | AccessControlEntryRecord
  | RemoveAccessControlEntryRecord
  | UserScramCredentialRecord
  | RemoveUserScramCredentialRecord
  | BrokerRegistrationChangeRecord
  | FenceBrokerRecord
  | UnfenceBrokerRecord
  | PartitionChangeRecord
  | RegisterBrokerRecord
  | TopicRecord
  | PartitionRecord
  | RemoveTopicRecord
  | ConfigRecord
  | ProducerIdsRecord;

/**
 * Kafka's NoOpRecord: nothing to apply. The active controller appends one when it has appended
 * nothing for metadata.max.idle.interval.ms, so the high watermark, and with it the followers' and
 * observers' view of what is committed, keeps moving. Replay skips it (it decodes to nothing), so it
 * is not one of the image's records.
 */
export interface NoOpRecord {
  type: 'NoOp';
}

/** What the controller appends to the metadata log: the image's records, and NoOp. */
export type AppendedRecord = MetadataRecord | NoOpRecord;
