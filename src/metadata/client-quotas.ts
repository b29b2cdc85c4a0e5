// Client quotas as metadata (KIP-546): the controller's AlterClientQuotas decisions, exactly as
// Kafka's ClientQuotaControlManager makes them; DescribeClientQuotas matching, as Kafka's
// ClientQuotasImage.describe; and the resolution a broker needs per request (`quotaFor`,
// `resolveQuota`, `ipQuota`), in the order of precedence of Kafka's ClientQuotaManager
// (DefaultQuotaCallback) and ConnectionQuotas.
//
// An entity is its parts, entity type to name: `user`, `client-id`, `user` + `client-id`, or `ip`
// alone; a null name is that type's default entity. Keys: producer_byte_rate and
// consumer_byte_rate (longs), request_percentage and controller_mutation_rate (doubles) for user
// and client-id entities; connection_creation_rate (an int) for ip entities. Every refusal is
// INVALID_REQUEST with Kafka's message, per entity; a refused entity changes nothing, the others go
// through. Kafka's quirks are kept: a key given twice in one entry answers "Ignoring duplicate
// entity ..." (the duplicate-key message is overwritten), an entity given in two entries answers
// that too, once, while the first entry's changes are still made; removing a key needs no valid key;
// NaN passes every value check. The messages that print an entity or iterate over keys follow the
// iteration order of the java.util.HashMaps Kafka builds (`javaHashMapOrder`), and so does the
// order of the results. Deviation: an ip entity must be an IP address literal (Kafka also takes a
// host name it can resolve; Conveyor does not resolve names, and refuses them with Kafka's message).
import { ErrorCode } from '../base/error-codes.js';
import { type MetadataImage, type QuotaEntityPart, canonicalQuotaEntity, quotaEntityKey } from './metadata-image.js';
import type { ClientQuotaRecord } from './metadata-record.js';

export type { QuotaEntityPart } from './metadata-image.js';

/** Kafka's ClientQuotaEntity types. */
export const QuotaEntityType = { USER: 'user', CLIENT_ID: 'client-id', IP: 'ip' } as const;

/** Kafka's QuotaConfig keys. */
export const QuotaKey = {
  PRODUCER_BYTE_RATE: 'producer_byte_rate',
  CONSUMER_BYTE_RATE: 'consumer_byte_rate',
  REQUEST_PERCENTAGE: 'request_percentage',
  CONTROLLER_MUTATION_RATE: 'controller_mutation_rate',
  CONNECTION_CREATION_RATE: 'connection_creation_rate',
} as const;

/** DescribeClientQuotas match types (Kafka's DescribeClientQuotasRequest MATCH_TYPE_*). */
export const QuotaMatchType = { EXACT: 0, DEFAULT: 1, ANY: 2 } as const;

type ValueType = 'long' | 'int' | 'double';

/** QuotaConfig.userAndClientQuotaConfigs(): for user, client-id and user + client-id entities. */
const USER_AND_CLIENT_KEYS: ReadonlyMap<string, ValueType> = new Map([
  [QuotaKey.PRODUCER_BYTE_RATE, 'long'],
  [QuotaKey.CONSUMER_BYTE_RATE, 'long'],
  [QuotaKey.REQUEST_PERCENTAGE, 'double'],
  [QuotaKey.CONTROLLER_MUTATION_RATE, 'double'],
]);

/** QuotaConfig.ipConfigs(). */
const IP_KEYS: ReadonlyMap<string, ValueType> = new Map([[QuotaKey.CONNECTION_CREATION_RATE, 'int']]);

const INT_MAX = 2147483647;
/** Long.MAX_VALUE as Java compares a double with it (2^63). */
const LONG_MAX = 2 ** 63;

export interface QuotaOp {
  key: string;
  value: number;
  /** Takes the key's value away (`value` is ignored). */
  remove: boolean;
}

/** One entry of AlterClientQuotas. */
export interface QuotaAlteration {
  entity: readonly QuotaEntityPart[];
  ops: readonly QuotaOp[];
}

/** One entity's answer to AlterClientQuotas. */
export interface QuotaAlterResult {
  errorCode: number;
  errorMessage: string | null;
  entity: QuotaEntityPart[];
}

// --- java.util.HashMap iteration order -------------------------------------------------------

/** Java's String.hashCode. */
export function javaStringHash(text: string): number {
  let hash = 0;
  for (let index = 0; index < text.length; index++) hash = (Math.imul(31, hash) + text.charCodeAt(index)) | 0;
  return hash;
}

/** The table length of a java.util.HashMap built with `initialCapacity` (undefined: the default constructor) once `size` distinct keys were put in it. */
function javaTableLength(initialCapacity: number | undefined, size: number): number {
  let length = 0;
  let threshold = 0;
  if (initialCapacity !== undefined) {
    threshold = 1;
    while (threshold < initialCapacity) threshold *= 2;
  }
  const resize = () => {
    if (length > 0) {
      const old = length;
      length *= 2;
      threshold = old >= 16 ? threshold * 2 : Math.floor(length * 0.75);
    } else if (threshold > 0) {
      length = threshold;
      threshold = Math.floor(length * 0.75);
    } else {
      length = 16;
      threshold = 12;
    }
  };
  for (let count = 1; count <= size; count++) {
    if (length === 0) resize();
    if (count > threshold) resize();
  }
  return length;
}

/**
 * `keys` (distinct, in the order they were first put) in the order a java.util.HashMap built with
 * `initialCapacity` iterates them: by bucket (the spread hash masked by the table length), then in
 * insertion order within a bucket (a resize keeps it).
 */
export function javaHashMapOrder<T>(keys: readonly T[], hashOf: (key: T) => number, initialCapacity?: number): T[] {
  const mask = javaTableLength(initialCapacity, keys.length) - 1;
  const bucket = (key: T) => {
    const hash = hashOf(key);
    return (hash ^ (hash >>> 16)) & mask;
  };
  return keys
    .map((key, index) => ({ key, index, bucket: bucket(key) }))
    .sort((a, b) => a.bucket - b.bucket || a.index - b.index)
    .map(({ key }) => key);
}

// --- AlterClientQuotas -----------------------------------------------------------------------

/** An entry's entity as Kafka's AlterClientQuotasRequest.entries() builds it: a HashMap of type to name (a type given twice keeps its last name). */
interface RequestEntity {
  /** In the map's iteration order. */
  readonly parts: QuotaEntityPart[];
  readonly names: ReadonlyMap<string, string | null>;
  readonly key: string;
  /** ClientQuotaEntity.hashCode(). */
  readonly hash: number;
}

function requestEntity(entity: readonly QuotaEntityPart[]): RequestEntity {
  const names = new Map<string, string | null>();
  for (const { entityType, entityName } of entity) names.set(entityType, entityName);
  const types = javaHashMapOrder([...names.keys()], javaStringHash, entity.length);
  const parts = types.map((entityType) => ({ entityType, entityName: names.get(entityType)! }));
  let mapHash = 0;
  for (const [entityType, entityName] of names) mapHash = (mapHash + (javaStringHash(entityType) ^ (entityName === null ? 0 : javaStringHash(entityName)))) | 0;
  return { parts, names, key: quotaEntityKey(parts), hash: (31 + mapHash) | 0 };
}

/** ClientQuotaEntity.toString(). */
function entityString(entity: RequestEntity): string {
  return `ClientQuotaEntity(entries={${entity.parts.map(({ entityType, entityName }) => `${entityType}=${entityName}`).join(', ')}})`;
}

type Problem = { errorCode: number; errorMessage: string };

const invalid = (errorMessage: string): Problem => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage });

/** ClientQuotaControlManager.validateEntity. */
function entityProblem(entity: RequestEntity): Problem | undefined {
  if (entity.parts.length === 0) return invalid('Invalid empty client quota entity');
  for (const { entityType, entityName } of entity.parts) {
    if (entityType !== QuotaEntityType.USER && entityType !== QuotaEntityType.CLIENT_ID && entityType !== QuotaEntityType.IP) {
      return invalid(`Unhandled client quota entity type: ${entityType}`);
    }
    if (entityName === '') return invalid(`Empty ${entityType} not supported`);
  }
  return undefined;
}

/** ClientQuotaControlManager.configKeysForEntityType: the keys the entity's combination of types may have. */
function keysFor(entity: RequestEntity): ReadonlyMap<string, ValueType> | Problem {
  const { names } = entity;
  const hasUser = names.has(QuotaEntityType.USER);
  const hasClientId = names.has(QuotaEntityType.CLIENT_ID);
  if (names.has(QuotaEntityType.IP)) {
    // Kafka's message, without the space it lacks.
    if (hasUser || hasClientId) return invalid('Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId');
    const ip = names.get(QuotaEntityType.IP)!;
    if (ip !== null && canonicalIp(ip) === undefined) return invalid(`${ip} is not a valid IP or resolvable host.`);
    return IP_KEYS;
  }
  if (hasUser || hasClientId) return USER_AND_CLIENT_KEYS;
  return invalid('Invalid empty client quota entity');
}

/** ClientQuotaControlManager.validateQuotaKeyValue. */
function valueProblem(keys: ReadonlyMap<string, ValueType>, key: string, value: number): Problem | undefined {
  const type = keys.get(key);
  if (type === undefined) return invalid(`Invalid configuration key ${key}`);
  if (value <= 0) return invalid(`Quota ${key} must be greater than 0`);
  if (type === 'double') return undefined;
  if (type === 'int' && value > INT_MAX) return invalid(`Proposed value for ${key} is too large for an INT.`);
  if (type === 'long' && value > LONG_MAX) return invalid(`Proposed value for ${key} is too large for a LONG.`);
  if (Math.abs(value % 1) > 1e-6) return invalid(`${key} cannot be a fractional value.`);
  return undefined;
}

/** ClientQuotaControlManager.alterClientQuotaEntity: the entity's records, or why it is refused (then none). */
function entityChanges(image: MetadataImage, entity: RequestEntity, ops: ReadonlyMap<string, number | null>, opCount: number): ClientQuotaRecord[] | Problem {
  const problem = entityProblem(entity);
  if (problem) return problem;
  const keys = keysFor(entity);
  if ('errorCode' in keys) return keys;
  const current: ReadonlyMap<string, number> = image.clientQuotas.get(entity.key)?.values ?? new Map();
  const recordEntity = canonicalQuotaEntity(entity.parts);
  const record = (key: string, value: number, remove: boolean): ClientQuotaRecord => ({ type: 'ClientQuota', entity: recordEntity.map((part) => ({ ...part })), key, value, remove });
  const records: ClientQuotaRecord[] = [];
  for (const key of javaHashMapOrder([...ops.keys()], javaStringHash, opCount)) {
    const value = ops.get(key)!;
    if (value === null) {
      if (current.has(key)) records.push(record(key, 0, true));
      continue;
    }
    const problem = valueProblem(keys, key, value);
    if (problem) return problem;
    if (!Object.is(current.get(key), value)) records.push(record(key, value, false));
  }
  return records;
}

/**
 * The records and per-entity results of an AlterClientQuotas request against `image`
 * (ClientQuotaControlManager.alterClientQuotas): one result per distinct entity, in the order of
 * Kafka's response; the records of every entity that succeeded (a value already set is not
 * written again, a removal of a key without a value writes nothing).
 */
export function clientQuotaChanges(image: MetadataImage, alterations: readonly QuotaAlteration[]): { records: ClientQuotaRecord[]; results: QuotaAlterResult[] } {
  const records: ClientQuotaRecord[] = [];
  // Kafka's outputResults: a later result for an entity replaces the earlier, keeping its place (and its key's parts).
  const results = new Map<string, { entity: RequestEntity; errorCode: number; errorMessage: string | null }>();
  const put = (entity: RequestEntity, errorCode: number, errorMessage: string | null) => {
    const existing = results.get(entity.key);
    if (existing) Object.assign(existing, { errorCode, errorMessage });
    else results.set(entity.key, { entity, errorCode, errorMessage });
  };
  for (const alteration of alterations) {
    const entity = requestEntity(alteration.entity);
    const ops = new Map<string, number | null>();
    for (const { key, value, remove } of alteration.ops) {
      if (ops.has(key)) put(entity, ErrorCode.INVALID_REQUEST, `Duplicate quota key ${key} not updating quota for this entity ${entityString(entity)}`);
      else ops.set(key, remove ? null : value);
    }
    if (results.has(entity.key)) {
      put(entity, ErrorCode.INVALID_REQUEST, `Ignoring duplicate entity ${entityString(entity)}`);
      continue;
    }
    const changes = entityChanges(image, entity, ops, alteration.ops.length);
    if ('errorCode' in changes) {
      put(entity, changes.errorCode, changes.errorMessage);
    } else {
      records.push(...changes);
      put(entity, ErrorCode.NONE, null);
    }
  }
  const ordered = javaHashMapOrder([...results.values()], (result) => result.entity.hash);
  return { records, results: ordered.map(({ entity, errorCode, errorMessage }) => ({ errorCode, errorMessage, entity: entity.parts.map((part) => ({ ...part })) })) };
}

// --- DescribeClientQuotas --------------------------------------------------------------------

export interface QuotaFilterComponent {
  entityType: string;
  /** QuotaMatchType: EXACT (`match` names the entity), DEFAULT (the default entity), ANY (any entity of the type). */
  matchType: number;
  match: string | null;
}

export interface QuotaDescribeEntry {
  entity: QuotaEntityPart[];
  values: { key: string; value: number }[];
}

/** DescribeClientQuotas' answer: the entries, or an error (entries null) for a bad filter. */
export interface QuotaDescribeResult {
  errorCode: number;
  errorMessage: string | null;
  entries: QuotaDescribeEntry[] | null;
}

function filterFailure(errorCode: number, errorMessage: string): QuotaDescribeResult {
  return { errorCode, errorMessage, entries: null };
}

/**
 * DescribeClientQuotas from a broker's image, as Kafka's ClientQuotasImage.describe: the entities
 * that have every component's type (EXACT: with that name; DEFAULT: the default entity; ANY: any
 * name) and, when `strict`, no other type (strict with no components matches nothing; without
 * components and not strict, everything). A bad filter is the whole request's error
 * (INVALID_REQUEST, or UNSUPPORTED_VERSION for an entity type other than user, client-id and ip),
 * with Kafka's message.
 */
export function describeClientQuotas(image: MetadataImage, components: readonly QuotaFilterComponent[], strict: boolean): QuotaDescribeResult {
  const exact = new Map<string, string | null>();
  const any = new Set<string>();
  for (const { entityType, matchType, match } of components) {
    if (entityType === '') return filterFailure(ErrorCode.INVALID_REQUEST, 'Invalid empty entity type.');
    if (exact.has(entityType) || any.has(entityType)) return filterFailure(ErrorCode.INVALID_REQUEST, `Entity type ${entityType} cannot appear more than once in the filter.`);
    if (entityType !== QuotaEntityType.IP && entityType !== QuotaEntityType.USER && entityType !== QuotaEntityType.CLIENT_ID) {
      return filterFailure(ErrorCode.UNSUPPORTED_VERSION, `Unsupported entity type ${entityType}`);
    }
    switch (matchType) {
      case QuotaMatchType.EXACT:
        if (match === null) return filterFailure(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_EXACT, but set match string to null.');
        exact.set(entityType, match);
        break;
      case QuotaMatchType.DEFAULT:
        if (match !== null) return filterFailure(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_DEFAULT, but also specified a match string.');
        exact.set(entityType, null);
        break;
      case QuotaMatchType.ANY:
        if (match !== null) return filterFailure(ErrorCode.INVALID_REQUEST, 'Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.');
        any.add(entityType);
        break;
      default:
        return filterFailure(ErrorCode.INVALID_REQUEST, `Unknown match type ${matchType}`);
    }
  }
  const named = (type: string) => exact.has(type) || any.has(type);
  if (named(QuotaEntityType.IP) && (named(QuotaEntityType.USER) || named(QuotaEntityType.CLIENT_ID))) {
    return filterFailure(ErrorCode.INVALID_REQUEST, 'Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.');
  }
  const entries: QuotaDescribeEntry[] = [];
  for (const { entity, values } of image.clientQuotas.values()) {
    if (strict && entity.length !== exact.size + any.size) continue;
    const names = new Map(entity.map(({ entityType, entityName }) => [entityType, entityName]));
    if ([...exact].some(([type, name]) => !names.has(type) || names.get(type) !== name)) continue;
    if ([...any].some((type) => !names.has(type))) continue;
    entries.push({ entity: entity.map((part) => ({ ...part })), values: [...values].map(([key, value]) => ({ key, value })) });
  }
  return { errorCode: ErrorCode.NONE, errorMessage: null, entries };
}

// --- Resolution, for enforcement ---------------------------------------------------------------

/** A user/client-id part of an index key: a name, null for the default entity, undefined when the entity has no part of that type. */
type Part = string | null | undefined;

interface QuotaIndex {
  readonly version: number;
  /** User part, then client-id part, to the entity's values (entities of user and client-id types only). */
  readonly userClient: Map<Part, Map<Part, ReadonlyMap<string, number>>>;
  /** Canonical address (null: the default ip entity) to connection_creation_rate. */
  readonly ip: Map<string | null, number>;
}

const indexes = new WeakMap<MetadataImage, QuotaIndex>();

/** The image's quotas indexed for resolution, rebuilt when `image.quotaVersion` has moved. */
function indexOf(image: MetadataImage): QuotaIndex {
  const cached = indexes.get(image);
  if (cached !== undefined && cached.version === image.quotaVersion) return cached;
  const index: QuotaIndex = { version: image.quotaVersion, userClient: new Map(), ip: new Map() };
  for (const { entity, values } of image.clientQuotas.values()) {
    const names = new Map<string, string | null>(entity.map(({ entityType, entityName }) => [entityType, entityName]));
    if (names.has(QuotaEntityType.IP)) {
      const ip = names.get(QuotaEntityType.IP)!;
      const value = values.get(QuotaKey.CONNECTION_CREATION_RATE);
      const address = ip === null ? null : canonicalIp(ip);
      if (entity.length === 1 && value !== undefined && address !== undefined) index.ip.set(address, value);
      continue;
    }
    const user = names.get(QuotaEntityType.USER);
    const clientId = names.get(QuotaEntityType.CLIENT_ID);
    if (entity.length !== Number(names.has(QuotaEntityType.USER)) + Number(names.has(QuotaEntityType.CLIENT_ID))) continue;
    let byClient = index.userClient.get(user);
    if (byClient === undefined) {
      byClient = new Map();
      index.userClient.set(user, byClient);
    }
    byClient.set(clientId, values);
  }
  indexes.set(image, index);
  return index;
}

/** The quota that applies to a client, and the identity of the measure it is counted in. */
export interface ResolvedClientQuota {
  readonly bound: number;
  /**
   * Kafka's quota metric tags (DefaultQuotaCallback.quotaMetricTags): clients with the same
   * `user` and `clientId` here share one measured rate ('' where the quota does not depend on it:
   * every client id of a user with a user-level quota shares the user's).
   */
  readonly user: string;
  readonly clientId: string;
}

/**
 * The `key` quota (producer_byte_rate, consumer_byte_rate, request_percentage,
 * controller_mutation_rate) of a client, as Kafka's DefaultQuotaCallback resolves it: `user` is
 * the principal's name (User:alice → alice), `clientId` the request's client id ('' for none).
 * The first of these entities with a value for `key` applies:
 *   user + client-id, user + default client-id, user, default user + client-id,
 *   default user + default client-id, default user, client-id, default client-id
 * with Kafka's edge cases kept: with an empty client id only the user and default user quotas
 * apply; with an empty user name, a default user quota hides the client-id ones. Undefined when no
 * quota applies (Kafka's unlimited). A handful of Map lookups; the image's quotas are indexed once
 * per `image.quotaVersion`, so callers may cache results until that moves.
 */
export function resolveQuota(image: MetadataImage, key: string, user: string, clientId: string): ResolvedClientQuota | undefined {
  const index = indexOf(image).userClient;
  const value = (userPart: Part, clientPart: Part) => index.get(userPart)?.get(clientPart)?.get(key);
  const has = (userPart: Part, clientPart: Part) => value(userPart, clientPart) !== undefined;
  // quotaMetricTags: which measure the client's usage goes into.
  let tags: [string, string];
  if (has(user, clientId) || has(user, null)) tags = [user, clientId];
  else if (has(user, undefined)) tags = [user, ''];
  else if (has(null, clientId) || has(null, null)) tags = [user, clientId];
  else if (has(null, undefined)) tags = [user, ''];
  else tags = ['', clientId];
  // quotaLimit: the quota of that measure.
  const [userTag, clientTag] = tags;
  let bound: number | undefined;
  if (userTag !== '' && clientTag !== '') bound = value(userTag, clientTag) ?? value(userTag, null) ?? value(null, clientTag) ?? value(null, null);
  else if (userTag !== '') bound = value(userTag, undefined) ?? value(null, undefined);
  else if (clientTag !== '') bound = value(undefined, clientTag) ?? value(undefined, null);
  return bound === undefined ? undefined : { bound, user: userTag, clientId: clientTag };
}

/** The `key` quota of a client (`resolveQuota`'s bound), or undefined when none applies. */
export function quotaFor(image: MetadataImage, key: string, user: string, clientId: string): number | undefined {
  return resolveQuota(image, key, user, clientId)?.bound;
}

/**
 * The connection_creation_rate quota of connections from `ip` (a socket's remote address; an
 * IPv4-mapped IPv6 address counts as its IPv4 address), as Kafka's ConnectionQuotas: the ip
 * entity's, else the default ip entity's, else undefined (no limit). Indexed like `resolveQuota`.
 */
export function ipQuota(image: MetadataImage, ip: string): number | undefined {
  const index = indexOf(image).ip;
  return index.get(canonicalIp(ip) ?? ip) ?? index.get(null);
}

// --- IP address literals -----------------------------------------------------------------------

function ipv4Bytes(text: string): number[] | undefined {
  // Java's forms: a.b.c.d, a.b.c (c: 16 bits), a.b (b: 24 bits), a (32 bits); decimal (leading
  // zeros too: InetAddress reads 010.0.0.1 as 10.0.0.1, JDK 17 and 25 alike).
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((part) => !/^\d+$/.test(part))) return undefined;
  const numbers = parts.map(Number);
  const last = numbers.pop()!;
  if (numbers.some((number) => number > 255) || last >= 256 ** (5 - parts.length)) return undefined;
  const bytes = [...numbers];
  for (let shift = (4 - parts.length) * 8; shift >= 0; shift -= 8) bytes.push(Math.floor(last / 2 ** shift) % 256);
  return bytes;
}

function ipv6Groups(text: string): number[] | undefined {
  if (text.includes('%')) return undefined; // zone ids are not taken
  let body = text;
  let tail: number[] = [];
  const lastColon = body.lastIndexOf(':');
  if (body.slice(lastColon + 1).includes('.')) {
    const parts = body.slice(lastColon + 1).split('.');
    const bytes = parts.length === 4 ? ipv4Bytes(body.slice(lastColon + 1)) : undefined;
    if (bytes === undefined) return undefined;
    tail = [bytes[0]! * 256 + bytes[1]!, bytes[2]! * 256 + bytes[3]!];
    body = body.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  if ([...head, ...rest].some((group) => !/^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  const given = head.length + rest.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return undefined;
  const zeros = halves.length === 2 ? 8 - given : 0;
  return [...head.map((group) => parseInt(group, 16)), ...new Array<number>(zeros).fill(0), ...rest.map((group) => parseInt(group, 16)), ...tail];
}

/**
 * An IP address literal in one canonical form (IPv4 dotted; IPv6 as eight lower-case hex groups;
 * an IPv4-mapped IPv6 address as its IPv4 address, as Java's InetAddress makes it), or undefined
 * when `text` is not one. Brackets around IPv6 are taken, as InetAddress.getByName takes them.
 */
export function canonicalIp(text: string): string | undefined {
  if (text.startsWith('[') && text.endsWith(']')) {
    const groups = ipv6Groups(text.slice(1, -1));
    return groups === undefined ? undefined : ipv6String(groups);
  }
  const bytes = ipv4Bytes(text);
  if (bytes !== undefined) return bytes.join('.');
  const groups = ipv6Groups(text);
  return groups === undefined ? undefined : ipv6String(groups);
}

function ipv6String(groups: number[]): string {
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  }
  return groups.map((group) => group.toString(16)).join(':');
}
