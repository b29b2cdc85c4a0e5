// The operations a principal may perform on a resource, as the bit field Metadata (v8+),
// DescribeCluster, DescribeGroups (v3+) and DescribeTopicPartitions answer when asked: bit n set
// for the ACL operation whose code is n. With no authorizer configured (Conveyor has none yet)
// that is every operation the resource type supports, as Kafka answers; not asked, the field is
// Kafka's "omitted" value.

/** Kafka's ACL operation codes. */
export const AclOperation = {
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
} as const;

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

/** The authorized-operations field for `resource`: the bit field when `requested`, else omitted. */
export function authorizedOperations(resource: AuthorizableResource, requested: boolean | undefined): number {
  return requested ? BIT_FIELDS[resource] : AUTHORIZED_OPERATIONS_OMITTED;
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
