// ACLs as Kafka defines them: the enums with their wire codes and names, the binding stored by an
// AccessControlEntryRecord, the filter of DescribeAcls and DeleteAcls and how it matches bindings
// (Kafka's AclBindingFilter), the checks CreateAcls and DeleteAcls apply before anything is
// written, and one-line descriptions for logs and the CLI. Codes Kafka does not know read as
// UNKNOWN, as Kafka's fromCode does.
import { ErrorCode } from '../base/error-codes.js';
import type { DeleteAclsFilter } from '../protocol/messages/delete-acls.js';

export const AclResourceType = {
  UNKNOWN: 0,
  ANY: 1,
  TOPIC: 2,
  GROUP: 3,
  CLUSTER: 4,
  TRANSACTIONAL_ID: 5,
  DELEGATION_TOKEN: 6,
  USER: 7,
} as const;

export const AclOperation = {
  UNKNOWN: 0,
  ANY: 1,
  ALL: 2,
  READ: 3,
  WRITE: 4,
  CREATE: 5,
  DELETE: 6,
  ALTER: 7,
  DESCRIBE: 8,
  CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10,
  ALTER_CONFIGS: 11,
  IDEMPOTENT_WRITE: 12,
  CREATE_TOKENS: 13,
  DESCRIBE_TOKENS: 14,
  /** KIP-939 (Kafka 4.1): two-phase commit on a transactional id. */
  TWO_PHASE_COMMIT: 15,
} as const;

export const AclPermissionType = {
  UNKNOWN: 0,
  ANY: 1,
  DENY: 2,
  ALLOW: 3,
} as const;

export const PatternType = {
  UNKNOWN: 0,
  ANY: 1,
  MATCH: 2,
  LITERAL: 3,
  PREFIXED: 4,
} as const;

/** The resource name of a LITERAL binding that matches every name of its resource type. */
export const WILDCARD_RESOURCE = '*';
/** The principal of a binding that matches every principal. */
export const WILDCARD_PRINCIPAL = 'User:*';
/** The host of a binding that matches every host. */
export const WILDCARD_HOST = '*';
/** The only name a CLUSTER resource has. */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';

/** One ACL, with the fields of Kafka's AccessControlEntryRecord. */
export interface AclBinding {
  /** The ACL's id, a uuid string, as the metadata record carries it. */
  id: string;
  resourceType: number;
  resourceName: string;
  patternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

/** A binding as CreateAcls asks for it, before the controller gives it an id. */
export type NewAclBinding = Omit<AclBinding, 'id'>;

/** The filter of DescribeAcls and DeleteAcls: null strings and ANY codes match everything. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

/**
 * A DescribeAcls or DeleteAcls filter as the wire carries it (no pattern type before v1: LITERAL):
 * the generated DeleteAclsFilter, whose fields DescribeAclsRequest shares.
 */
export type WireAclFilter = DeleteAclsFilter;

export function aclFilterOf(wire: WireAclFilter): AclBindingFilter {
  return {
    resourceType: wire.resourceTypeFilter,
    resourceName: wire.resourceNameFilter,
    patternType: wire.patternTypeFilter ?? PatternType.LITERAL,
    principal: wire.principalFilter,
    host: wire.hostFilter,
    operation: wire.operation,
    permissionType: wire.permissionType,
  };
}

/** A request's refusal of one binding or filter: the error code and message Kafka answers. */
export interface AclProblem {
  errorCode: number;
  message: string;
}

/** The filter that matches every binding. */
export const ANY_ACL_FILTER: Readonly<AclBindingFilter> = Object.freeze({
  resourceType: AclResourceType.ANY,
  resourceName: null,
  patternType: PatternType.ANY,
  principal: null,
  host: null,
  operation: AclOperation.ANY,
  permissionType: AclPermissionType.ANY,
});

type CodeTable = Readonly<Record<string, number>>;

function namesByCode(table: CodeTable): ReadonlyMap<number, string> {
  return new Map(Object.entries(table).map(([name, code]) => [code, name]));
}

const resourceTypeNames = namesByCode(AclResourceType);
const operationNames = namesByCode(AclOperation);
const permissionTypeNames = namesByCode(AclPermissionType);
const patternTypeNames = namesByCode(PatternType);

/** Kafka's name for a resource type code (TOPIC, TRANSACTIONAL_ID), UNKNOWN for a code it lacks. */
export function aclResourceTypeName(code: number): string {
  return resourceTypeNames.get(code) ?? 'UNKNOWN';
}

export function aclOperationName(code: number): string {
  return operationNames.get(code) ?? 'UNKNOWN';
}

export function aclPermissionTypeName(code: number): string {
  return permissionTypeNames.get(code) ?? 'UNKNOWN';
}

export function patternTypeName(code: number): string {
  return patternTypeNames.get(code) ?? 'UNKNOWN';
}

/** A resource type as Kafka's audit log and CLI write it: TransactionalId (SecurityUtils.resourceTypeName). */
export function resourceTypeDisplayName(code: number): string {
  return aclResourceTypeName(code)
    .split('_')
    .map((word) => word.charAt(0) + word.slice(1).toLowerCase())
    .join('');
}

/**
 * The code named `name`, ignoring case and underscores, so READ, read, DescribeConfigs and
 * describe_configs all parse (Kafka's enum names and SecurityUtils' Pascal case); UNKNOWN (0) when
 * nothing matches, as Kafka's fromString.
 */
function parseCode(table: CodeTable, name: string): number {
  const wanted = name.trim().replaceAll('_', '').toUpperCase();
  for (const [known, code] of Object.entries(table)) if (known.replaceAll('_', '') === wanted) return code;
  return 0;
}

export const parseAclResourceType = (name: string): number => parseCode(AclResourceType, name);
export const parseAclOperation = (name: string): number => parseCode(AclOperation, name);
export const parseAclPermissionType = (name: string): number => parseCode(AclPermissionType, name);
export const parsePatternType = (name: string): number => parseCode(PatternType, name);

/** Whether `code` is one Kafka knows, other than UNKNOWN. */
function isKnown(names: ReadonlyMap<number, string>, code: number): boolean {
  return code !== 0 && names.has(code);
}

/**
 * Whether `binding` matches `filter`, as Kafka's AclBindingFilter.matches: each field of the
 * filter either equals the binding's or is a wildcard (null, ANY). A pattern type of MATCH with a
 * name matches every binding that would apply to a resource of that name: LITERAL bindings with
 * the name, the LITERAL wildcard `*`, and PREFIXED bindings whose prefix starts the name.
 */
export function matchesFilter(binding: NewAclBinding, filter: AclBindingFilter): boolean {
  return matchesPatternFilter(binding, filter) && matchesEntryFilter(binding, filter);
}

function matchesPatternFilter(binding: NewAclBinding, filter: AclBindingFilter): boolean {
  if (filter.resourceType !== AclResourceType.ANY && filter.resourceType !== binding.resourceType) return false;
  const anyPattern = filter.patternType === PatternType.ANY;
  if (!anyPattern && filter.patternType !== PatternType.MATCH && filter.patternType !== binding.patternType) return false;
  if (filter.resourceName === null) return true;
  if (anyPattern || filter.patternType === binding.patternType) return filter.resourceName === binding.resourceName;
  // MATCH with a name: the bindings that apply to a resource with that name.
  if (binding.patternType === PatternType.LITERAL) {
    return binding.resourceName === filter.resourceName || binding.resourceName === WILDCARD_RESOURCE;
  }
  if (binding.patternType === PatternType.PREFIXED) return filter.resourceName.startsWith(binding.resourceName);
  return false;
}

function matchesEntryFilter(binding: NewAclBinding, filter: AclBindingFilter): boolean {
  if (filter.principal !== null && filter.principal !== binding.principal) return false;
  if (filter.host !== null && filter.host !== binding.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== binding.operation) return false;
  return filter.permissionType === AclPermissionType.ANY || filter.permissionType === binding.permissionType;
}

function invalid(message: string): AclProblem {
  return { errorCode: ErrorCode.INVALID_REQUEST, message };
}

/**
 * Why CreateAcls refuses `binding`, or undefined when it may be created. Kafka's checks in Kafka's
 * order: the filter-only values (a resource type ANY, a pattern type MATCH or ANY, an operation or
 * permission type ANY) that make no binding; the broker's CLUSTER-name and empty-name checks
 * (AclApis); then the controller's AclControlManager.validateNewAcl (UNKNOWN values, a principal
 * without the colon of `Type:name`). Every refusal is INVALID_REQUEST for that binding alone.
 */
export function bindingProblem(binding: NewAclBinding): AclProblem | undefined {
  const filterOnly = filterOnlyValueProblem(binding);
  if (filterOnly) return filterOnly;
  if (binding.resourceType === AclResourceType.CLUSTER && binding.resourceName !== CLUSTER_RESOURCE_NAME) {
    return invalid(`The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`);
  }
  if (binding.resourceName === '') return invalid('Invalid empty resource name');
  if (!isKnown(resourceTypeNames, binding.resourceType)) return invalid('Invalid resourceType UNKNOWN');
  if (!isKnown(patternTypeNames, binding.patternType)) return invalid('Invalid patternType UNKNOWN');
  if (!isKnown(operationNames, binding.operation)) return invalid('Invalid operation UNKNOWN');
  if (!isKnown(permissionTypeNames, binding.permissionType)) return invalid('Invalid permissionType UNKNOWN');
  if (!binding.principal.includes(':')) {
    return invalid(
      `Could not parse principal from \`${binding.principal}\` (no colon is present separating the principal type from the principal name)`,
    );
  }
  return undefined;
}

/**
 * A binding holding a value that only a filter may hold. Kafka refuses these while turning the
 * request into bindings (ResourcePattern, AccessControlEntry), before the per-binding checks;
 * the messages are validateNewAcl's, which names the same values.
 */
function filterOnlyValueProblem(binding: NewAclBinding): AclProblem | undefined {
  if (binding.resourceType === AclResourceType.ANY) return invalid('Invalid resourceType ANY');
  if (binding.patternType === PatternType.ANY || binding.patternType === PatternType.MATCH) {
    return invalid(`Invalid patternType ${patternTypeName(binding.patternType)}`);
  }
  if (binding.operation === AclOperation.ANY) return invalid('Invalid operation ANY');
  if (binding.permissionType === AclPermissionType.ANY) return invalid('Invalid permissionType ANY');
  return undefined;
}

/**
 * Why DeleteAcls refuses `filter`, or undefined: Kafka's AclControlManager.validateFilter refuses
 * a filter whose resource type or pattern type is UNKNOWN ("Unknown patternFilter.") or whose
 * operation or permission type is UNKNOWN ("Unknown entryFilter."). DescribeAcls has no such
 * per-filter answer in Kafka (an UNKNOWN code fails the request's parsing); a filter this refuses
 * matches no binding.
 */
export function filterProblem(filter: AclBindingFilter): AclProblem | undefined {
  if (!isKnown(resourceTypeNames, filter.resourceType) || !isKnown(patternTypeNames, filter.patternType)) {
    return invalid('Unknown patternFilter.');
  }
  if (!isKnown(operationNames, filter.operation) || !isKnown(permissionTypeNames, filter.permissionType)) {
    return invalid('Unknown entryFilter.');
  }
  return undefined;
}

/** Kafka's ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL). */
export function describeResourcePattern(resourceType: number, name: string | null, patternType: number): string {
  return `ResourcePattern(resourceType=${aclResourceTypeName(resourceType)}, name=${name ?? '<any>'}, patternType=${patternTypeName(patternType)})`;
}

function describeEntry(principal: string | null, host: string | null, operation: number, permissionType: number): string {
  return `(principal=${principal ?? '<any>'}, host=${host ?? '<any>'}, operation=${aclOperationName(operation)}, permissionType=${aclPermissionTypeName(permissionType)})`;
}

/** One line for logs and the CLI: `(principal=User:alice, host=*, operation=READ, permissionType=ALLOW) on ResourcePattern(...)`. */
export function describeAcl(binding: NewAclBinding): string {
  const entry = describeEntry(binding.principal, binding.host, binding.operation, binding.permissionType);
  return `${entry} on ${describeResourcePattern(binding.resourceType, binding.resourceName, binding.patternType)}`;
}

/** The same for a filter, with `<any>` for a null field. */
export function describeAclFilter(filter: AclBindingFilter): string {
  const entry = describeEntry(filter.principal, filter.host, filter.operation, filter.permissionType);
  return `${entry} on ${describeResourcePattern(filter.resourceType, filter.resourceName, filter.patternType)}`;
}
