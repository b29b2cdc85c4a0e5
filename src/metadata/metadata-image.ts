// The metadata image: the cluster's topics, partitions, configs and brokers as the result of
// replaying the metadata log. Only `apply` changes it, one record at a time, so every holder of the
// image sees exactly the state the log describes (DESIGN.md decision 5).
import { assert, unreachable } from '../base/assert.js';
import { DirectoryId, isDirectoryOnline, migratingDirectories } from './directory-id.js';
import type { AclBinding } from './acl.js';
import type { BrokerEndpoint, MetadataRecord, PartitionChangeRecord, PartitionRecord } from './metadata-record.js';

export interface PartitionImage {
  partitionId: number;
  /** During a reassignment: the target replicas first, then those being removed. */
  replicas: number[];
  isr: number[];
  /** A reassignment in progress (KIP-455): replicas not yet in sync, and those that leave when they are. */
  addingReplicas: number[];
  removingReplicas: number[];
  /** Eligible leader replicas (KIP-966): out of the ISR, yet holding everything below the high watermark. */
  eligibleLeaderReplicas: number[];
  /** When the ISR and ELR are empty: the replicas that last were (the last leader, or ELR members that lost their place in an unclean shutdown). */
  lastKnownElr: number[];
  /**
   * Each replica's log directory id (KIP-858), aligned with `replicas`: a broker's directory, or
   * DirectoryId.MIGRATING / UNASSIGNED / LOST (src/metadata/directory-id.ts).
   */
  directories: string[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

/** The directory `brokerId`'s replica of `partition` lives in; undefined if it is not a replica. */
export function replicaDirectory(partition: { replicas: readonly number[]; directories: readonly string[] }, brokerId: number): string | undefined {
  const index = partition.replicas.indexOf(brokerId);
  return index < 0 ? undefined : partition.directories[index];
}

export interface TopicImage {
  name: string;
  topicId: string;
  partitions: Map<number, PartitionImage>;
}

export interface BrokerImage {
  brokerId: number;
  incarnationId: string;
  brokerEpoch: number;
  endpoints: BrokerEndpoint[];
  rack: string | null;
  fenced: boolean;
  /** The ids of the broker's online log directories, as it registered them less those it reported offline since (empty: none registered). */
  logDirs: string[];
}

/** A user's SCRAM credential for one mechanism: what a server needs to check a client's proof. */
export interface ScramCredential {
  readonly salt: Buffer;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
  readonly iterations: number;
}

/** One part of a client quota entity (KIP-546): its type (`user`, `client-id`, `ip`) and name; a null name is the type's default entity. */
export interface QuotaEntityPart {
  readonly entityType: string;
  readonly entityName: string | null;
}

/** A client quota entity's values (key, e.g. producer_byte_rate, to value), with its parts ordered by entity type. */
export interface ClientQuotaImage {
  readonly entity: readonly QuotaEntityPart[];
  readonly values: Map<string, number>;
}

/**
 * A client quota entity as one string, the same for the same parts in any order (a type given
 * twice counts once, the last name winning, as Kafka reads a record's entity into a map): the key
 * of `MetadataImage.clientQuotas`.
 */
export function quotaEntityKey(entity: readonly QuotaEntityPart[]): string {
  return JSON.stringify(canonicalQuotaEntity(entity).map(({ entityType, entityName }) => [entityType, entityName]));
}

/** The parts of a client quota entity ordered by type, each type once (its last name). */
export function canonicalQuotaEntity(entity: readonly QuotaEntityPart[]): QuotaEntityPart[] {
  const names = new Map<string, string | null>();
  for (const { entityType, entityName } of entity) names.set(entityType, entityName);
  return [...names.keys()].sort().map((entityType) => ({ entityType, entityName: names.get(entityType)! }));
}

function configResourceKey(resourceType: number, resourceName: string): string {
  return `${resourceType}:${resourceName}`;
}

const NO_CONFIGS: ReadonlyMap<string, string> = new Map();

export class MetadataImage {
  readonly brokers = new Map<number, BrokerImage>();
  readonly topicsByName = new Map<string, TopicImage>();
  readonly topicsById = new Map<string, TopicImage>();
  private readonly configs = new Map<string, Map<string, string>>();
  /** SCRAM credentials by user name, then mechanism type (1: SCRAM-SHA-256, 2: SCRAM-SHA-512). */
  readonly scramCredentials = new Map<string, Map<number, ScramCredential>>();
  /** Client quotas by entity (`quotaEntityKey`); an entity without values is not kept. */
  readonly clientQuotas = new Map<string, ClientQuotaImage>();
  /**
   * Counts client quota changes (and resets), and nothing else: a broker caches quota resolutions
   * (src/metadata/client-quotas.ts) until this moves.
   */
  quotaVersion = 0;
  /** The ACLs by id. */
  readonly acls = new Map<string, AclBinding>();
  /** Counts ACL changes (and resets): the authorizer rebuilds its index when this moves. */
  aclVersion = 0;
  /** The next producer id not yet handed out in a block. */
  nextProducerId = 0;
  /** How many records have been applied, a cheap version number for caches. */
  version = 0;
  /** Counts changes to the set of topics and their partition counts (not leaders or ISRs): consumer groups re-check their subscriptions when it moves. */
  topicsVersion = 0;

  apply(record: MetadataRecord): void {
    this.version++;
    switch (record.type) {
      case 'RegisterBroker': {
        const { type: _type, logDirs = [], ...broker } = record;
        this.brokers.set(record.brokerId, { ...broker, logDirs: [...logDirs] });
        return;
      }
      case 'BrokerRegistrationChange': {
        const broker = this.brokers.get(record.brokerId);
        // An empty list changes nothing (Kafka's replay); a record of an older registration is stale.
        if (broker && broker.brokerEpoch === record.brokerEpoch && record.logDirs.length > 0) broker.logDirs = [...record.logDirs];
        return;
      }
      case 'Topic':
        return this.applyTopic(record.name, record.topicId);
      case 'Partition':
        return this.applyPartition(record);
      case 'RemoveTopic':
        return this.applyRemoveTopic(record.topicId);
      case 'Config':
        return this.applyConfig(record.resourceType, record.resourceName, record.name, record.value);
      case 'ProducerIds':
        this.nextProducerId = Math.max(this.nextProducerId, record.nextProducerId);
        return;
      case 'FenceBroker':
      case 'UnfenceBroker': {
        const broker = this.brokers.get(record.brokerId);
        // A record of an older registration (epoch) is stale: the broker registered again since.
        if (broker && broker.brokerEpoch === record.brokerEpoch) broker.fenced = record.type === 'FenceBroker';
        return;
      }
      case 'PartitionChange':
        return this.applyPartitionChange(record);
      case 'UserScramCredential': {
        const { name, mechanism, salt, storedKey, serverKey, iterations } = record;
        let credentials = this.scramCredentials.get(name);
        if (credentials === undefined) {
          credentials = new Map();
          this.scramCredentials.set(name, credentials);
        }
        credentials.set(mechanism, { salt, storedKey, serverKey, iterations });
        return;
      }
      case 'AccessControlEntry': {
        const { type: _type, ...entry } = record;
        this.acls.set(entry.id, entry);
        this.aclVersion++;
        return;
      }
      case 'RemoveAccessControlEntry':
        this.acls.delete(record.id);
        this.aclVersion++;
        return;
      case 'ClientQuota':
        this.applyClientQuota(record.entity, record.key, record.remove ? null : record.value);
        return;
      case 'RemoveUserScramCredential': {
        const credentials = this.scramCredentials.get(record.name);
        credentials?.delete(record.mechanism);
        if (credentials?.size === 0) this.scramCredentials.delete(record.name);
        return;
      }
      default:
        unreachable(record);
    }
  }

  topic(name: string): TopicImage | undefined {
    return this.topicsByName.get(name);
  }

  partition(topic: string, partitionId: number): PartitionImage | undefined {
    return this.topicsByName.get(topic)?.partitions.get(partitionId);
  }

  /**
   * Whether `brokerId` is registered and has `directoryId` online (Kafka's hasOnlineDir): the
   * reserved MIGRATING and UNASSIGNED are online, LOST is not, and a broker that registered no
   * directories has all of them online.
   */
  hasOnlineDir(brokerId: number, directoryId: string): boolean {
    const broker = this.brokers.get(brokerId);
    return broker !== undefined && isDirectoryOnline(directoryId, broker.logDirs);
  }

  /**
   * Whether `brokerId` may be in an ISR (Kafka's isReplicaIsrEligible, KIP-903): registered,
   * unfenced, and in `brokerEpoch`, the epoch it was seen fetching with (-1: not known, not checked).
   */
  isrEligible(brokerId: number, brokerEpoch: number): boolean {
    const broker = this.brokers.get(brokerId);
    return broker !== undefined && !broker.fenced && (brokerEpoch < 0 || broker.brokerEpoch === brokerEpoch);
  }

  /** Whether `brokerId`'s replica of `partition` is in a directory that is online (false if it is not a replica). */
  replicaOnline(partition: PartitionImage, brokerId: number): boolean {
    const directory = replicaDirectory(partition, brokerId);
    return directory !== undefined && this.hasOnlineDir(brokerId, directory);
  }

  /** Every resource that has configs, with them. */
  *configResources(): Generator<{ resourceType: number; resourceName: string; configs: ReadonlyMap<string, string> }> {
    for (const [key, configs] of this.configs) {
      const separator = key.indexOf(':');
      yield { resourceType: Number(key.slice(0, separator)), resourceName: key.slice(separator + 1), configs };
    }
  }

  /** Forgets everything, before a snapshot is loaded in its place (the version keeps counting). */
  reset(): void {
    this.version++;
    this.brokers.clear();
    this.topicsByName.clear();
    this.topicsById.clear();
    this.topicsVersion++;
    this.configs.clear();
    this.scramCredentials.clear();
    this.clientQuotas.clear();
    this.quotaVersion++;
    this.acls.clear();
    this.aclVersion++;
    this.nextProducerId = 0;
  }

  scramCredential(name: string, mechanism: number): ScramCredential | undefined {
    return this.scramCredentials.get(name)?.get(mechanism);
  }

  resourceConfigs(resourceType: number, resourceName: string): ReadonlyMap<string, string> {
    return this.configs.get(configResourceKey(resourceType, resourceName)) ?? NO_CONFIGS;
  }

  private applyTopic(name: string, topicId: string): void {
    assert(!this.topicsByName.has(name), `metadata log creates topic ${name} twice`);
    const topic: TopicImage = { name, topicId, partitions: new Map() };
    this.topicsByName.set(name, topic);
    this.topicsById.set(topicId, topic);
    this.topicsVersion++;
  }

  private applyPartition(record: PartitionRecord): void {
    const topic = this.topicsById.get(record.topicId);
    assert(topic, `metadata log has a partition of unknown topic id ${record.topicId}`);
    const { type: _type, topicId: _topicId, addingReplicas = [], removingReplicas = [], eligibleLeaderReplicas = [], lastKnownElr = [], directories, ...partition } = record;
    assert(directories === undefined || directories.length === record.replicas.length, `partition ${record.partitionId} of ${record.topicId} has ${directories?.length} directories for ${record.replicas.length} replicas`);
    if (!topic.partitions.has(record.partitionId)) this.topicsVersion++;
    topic.partitions.set(record.partitionId, {
      ...partition,
      replicas: [...record.replicas],
      isr: [...record.isr],
      directories: directories ? [...directories] : migratingDirectories(record.replicas.length),
      addingReplicas: [...addingReplicas],
      removingReplicas: [...removingReplicas],
      eligibleLeaderReplicas: [...eligibleLeaderReplicas],
      lastKnownElr: [...lastKnownElr],
    });
  }

  private applyPartitionChange(record: PartitionChangeRecord): void {
    const partition = this.topicsById.get(record.topicId)?.partitions.get(record.partitionId);
    if (!partition) return;
    const leaderChanged = record.leader !== -2 && record.leader !== partition.leader;
    if (record.leader !== -2) partition.leader = record.leader;
    partition.isr = [...record.isr];
    if (record.directories !== undefined) {
      const replicas = record.replicas ?? partition.replicas;
      assert(record.directories.length === replicas.length, `partition change of ${record.topicId}-${record.partitionId} has ${record.directories.length} directories for ${replicas.length} replicas`);
      partition.directories = [...record.directories];
    } else if (record.replicas !== undefined) {
      // A change written without directories (before directory assignment): replicas that stay keep theirs.
      partition.directories = record.replicas.map((id) => replicaDirectory(partition, id) ?? DirectoryId.MIGRATING);
    }
    if (record.replicas !== undefined) partition.replicas = [...record.replicas];
    if (record.addingReplicas !== undefined) partition.addingReplicas = [...record.addingReplicas];
    if (record.removingReplicas !== undefined) partition.removingReplicas = [...record.removingReplicas];
    if (record.eligibleLeaderReplicas !== undefined) partition.eligibleLeaderReplicas = [...record.eligibleLeaderReplicas];
    if (record.lastKnownElr !== undefined) partition.lastKnownElr = [...record.lastKnownElr];
    // A new leader starts a new leader epoch; any change is a new partition epoch (Kafka's rules).
    if (leaderChanged) partition.leaderEpoch++;
    partition.partitionEpoch++;
  }

  private applyRemoveTopic(topicId: string): void {
    const topic = this.topicsById.get(topicId);
    assert(topic, `metadata log removes unknown topic id ${topicId}`);
    this.topicsById.delete(topicId);
    this.topicsByName.delete(topic.name);
    this.topicsVersion++;
    this.configs.delete(configResourceKey(2, topic.name));
  }

  private applyClientQuota(entity: readonly QuotaEntityPart[], key: string, value: number | null): void {
    this.quotaVersion++;
    const entityKey = quotaEntityKey(entity);
    let quotas = this.clientQuotas.get(entityKey);
    if (value === null) {
      quotas?.values.delete(key);
      if (quotas?.values.size === 0) this.clientQuotas.delete(entityKey);
      return;
    }
    if (quotas === undefined) {
      quotas = { entity: canonicalQuotaEntity(entity), values: new Map() };
      this.clientQuotas.set(entityKey, quotas);
    }
    quotas.values.set(key, value);
  }

  private applyConfig(resourceType: number, resourceName: string, name: string, value: string | null): void {
    const key = configResourceKey(resourceType, resourceName);
    let entries = this.configs.get(key);
    if (value === null) {
      entries?.delete(name);
      return;
    }
    if (!entries) {
      entries = new Map();
      this.configs.set(key, entries);
    }
    entries.set(name, value);
  }
}
