// The operations a principal may perform on a resource, as the bit field Metadata (v8+),
// DescribeCluster, DescribeGroups (v3+) and DescribeTopicPartitions answer when asked: bit n set
// for the ACL operation whose code is n, among those the resource type supports, each asked of the
// authorizer (without logging denials, as Kafka does); with no authorizer every supported
// operation, as Kafka answers. Not asked, the field is Kafka's "omitted" value.
import { AclOperation } from '../metadata/acl.js';

/** The value of an authorized-operations field that was not asked for (Java's Integer.MIN_VALUE). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

export type AuthorizableResource = 'topic' | 'group' | 'cluster';

const { READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE } = AclOperation;

/** The operations each resource type supports, as Kafka's authorizer defines them. */
const SUPPORTED_OPERATIONS: Record<AuthorizableResource, readonly number[]> = {
  topic: [READ, WRITE, CREATE, DESCRIBE, DELETE, ALTER, DESCRIBE_CONFIGS, ALTER_CONFIGS],
  group: [READ, DESCRIBE, DELETE, DESCRIBE_CONFIGS, ALTER_CONFIGS],
  cluster: [CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER, DESCRIBE],
};

const BIT_FIELDS: Record<AuthorizableResource, number> = {
  topic: toBitField(SUPPORTED_OPERATIONS.topic),
  group: toBitField(SUPPORTED_OPERATIONS.group),
  cluster: toBitField(SUPPORTED_OPERATIONS.cluster),
};

/**
 * The authorized-operations field for `resource`: when `requested`, the bit field of the supported
 * operations `allowed` grants (every one by default), else omitted.
 */
export function authorizedOperations(resource: AuthorizableResource, requested: boolean | undefined, allowed?: (operation: number) => boolean): number {
  if (!requested) return AUTHORIZED_OPERATIONS_OMITTED;
  return allowed === undefined ? BIT_FIELDS[resource] : toBitField(SUPPORTED_OPERATIONS[resource].filter(allowed));
}

/** Decodes a bit field into the operation codes it holds, ascending. */
export function operationsInBitField(field: number): number[] {
  const operations: number[] = [];
  for (let code = 0; code < 31; code++) if ((field & (1 << code)) !== 0) operations.push(code);
  return operations;
}

function toBitField(operations: readonly number[]): number {
  let field = 0;
  for (const code of operations) field |= 1 << code;
  return field;
}
