import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../base/error-codes.js';
import {
  AclOperation,
  AclPermissionType,
  AclResourceType,
  ANY_ACL_FILTER,
  type AclBindingFilter,
  aclOperationName,
  aclPermissionTypeName,
  aclResourceTypeName,
  bindingProblem,
  describeAcl,
  describeAclFilter,
  filterProblem,
  matchesFilter,
  type NewAclBinding,
  parseAclOperation,
  parseAclPermissionType,
  parseAclResourceType,
  parsePatternType,
  PatternType,
  patternTypeName,
  resourceTypeDisplayName,
} from './acl.js';

const { TOPIC, GROUP, CLUSTER } = AclResourceType;
const { LITERAL, PREFIXED, MATCH, ANY } = PatternType;
const { READ, WRITE, ALL } = AclOperation;
const { ALLOW, DENY } = AclPermissionType;

function binding(fields: Partial<NewAclBinding> = {}): NewAclBinding {
  return {
    resourceType: TOPIC,
    resourceName: 'orders',
    patternType: LITERAL,
    principal: 'User:alice',
    host: '*',
    operation: READ,
    permissionType: ALLOW,
    ...fields,
  };
}

function filter(fields: Partial<AclBindingFilter> = {}): AclBindingFilter {
  return { ...ANY_ACL_FILTER, ...fields };
}

describe('ACL enums', () => {
  it('carry Kafka wire codes and names, UNKNOWN for codes Kafka lacks', () => {
    assert.equal(AclOperation.IDEMPOTENT_WRITE, 12);
    assert.equal(AclOperation.DESCRIBE_TOKENS, 14);
    assert.equal(AclResourceType.USER, 7);
    assert.equal(aclOperationName(10), 'DESCRIBE_CONFIGS');
    assert.equal(aclOperationName(99), 'UNKNOWN');
    assert.equal(aclResourceTypeName(5), 'TRANSACTIONAL_ID');
    assert.equal(aclPermissionTypeName(2), 'DENY');
    assert.equal(patternTypeName(4), 'PREFIXED');
    assert.equal(patternTypeName(-1), 'UNKNOWN');
  });

  it('names resource types in Pascal case for the audit log', () => {
    assert.equal(resourceTypeDisplayName(TOPIC), 'Topic');
    assert.equal(resourceTypeDisplayName(AclResourceType.TRANSACTIONAL_ID), 'TransactionalId');
    assert.equal(resourceTypeDisplayName(AclResourceType.DELEGATION_TOKEN), 'DelegationToken');
  });

  it('parses names in any case, with or without underscores, UNKNOWN otherwise', () => {
    assert.equal(parseAclOperation('READ'), 3);
    assert.equal(parseAclOperation('describe_configs'), 10);
    assert.equal(parseAclOperation('DescribeConfigs'), 10);
    assert.equal(parseAclOperation('IdempotentWrite'), 12);
    assert.equal(parseAclOperation('reads'), 0);
    assert.equal(parseAclResourceType('TransactionalId'), 5);
    assert.equal(parseAclResourceType('transactional_id'), 5);
    assert.equal(parseAclPermissionType('allow'), 3);
    assert.equal(parsePatternType('Prefixed'), 4);
    assert.equal(parsePatternType('match'), 2);
    assert.equal(parsePatternType('regex'), 0);
  });
});

describe('matchesFilter', () => {
  it('matches everything with the ANY filter', () => {
    assert.equal(matchesFilter(binding(), ANY_ACL_FILTER), true);
    assert.equal(matchesFilter(binding({ resourceType: CLUSTER, resourceName: 'kafka-cluster', permissionType: DENY }), ANY_ACL_FILTER), true);
  });

  it('compares the resource type unless ANY', () => {
    assert.equal(matchesFilter(binding(), filter({ resourceType: TOPIC })), true);
    assert.equal(matchesFilter(binding(), filter({ resourceType: GROUP })), false);
  });

  it('with a LITERAL or PREFIXED filter, matches that pattern type and exactly that name', () => {
    const literal = filter({ patternType: LITERAL, resourceName: 'orders' });
    assert.equal(matchesFilter(binding(), literal), true);
    assert.equal(matchesFilter(binding({ patternType: PREFIXED }), literal), false);
    assert.equal(matchesFilter(binding({ resourceName: '*' }), literal), false);
    const prefixed = filter({ patternType: PREFIXED, resourceName: 'ord' });
    assert.equal(matchesFilter(binding({ patternType: PREFIXED, resourceName: 'ord' }), prefixed), true);
    assert.equal(matchesFilter(binding({ patternType: PREFIXED, resourceName: 'o' }), prefixed), false);
    assert.equal(matchesFilter(binding({ resourceName: 'ord' }), prefixed), false);
    assert.equal(matchesFilter(binding({ patternType: PREFIXED }), filter({ patternType: PREFIXED })), true);
    assert.equal(matchesFilter(binding(), filter({ patternType: PREFIXED })), false);
  });

  it('with an ANY pattern type and a name, matches either pattern type with exactly that name', () => {
    const any = filter({ patternType: ANY, resourceName: 'orders' });
    assert.equal(matchesFilter(binding(), any), true);
    assert.equal(matchesFilter(binding({ patternType: PREFIXED }), any), true);
    assert.equal(matchesFilter(binding({ patternType: PREFIXED, resourceName: 'ord' }), any), false);
    assert.equal(matchesFilter(binding({ resourceName: '*' }), any), false);
  });

  it('with MATCH and a name, matches the bindings that apply to a resource of that name', () => {
    const match = filter({ resourceType: TOPIC, patternType: MATCH, resourceName: 'orders' });
    assert.equal(matchesFilter(binding(), match), true);
    assert.equal(matchesFilter(binding({ resourceName: '*' }), match), true);
    assert.equal(matchesFilter(binding({ patternType: PREFIXED, resourceName: 'ord' }), match), true);
    assert.equal(matchesFilter(binding({ patternType: PREFIXED, resourceName: 'orders' }), match), true);
    assert.equal(matchesFilter(binding({ patternType: PREFIXED, resourceName: 'orders-eu' }), match), false);
    assert.equal(matchesFilter(binding({ patternType: PREFIXED, resourceName: '*' }), match), false);
    assert.equal(matchesFilter(binding({ resourceName: 'ord' }), match), false);
    assert.equal(matchesFilter(binding({ resourceName: 'orders-eu' }), match), false);
    assert.equal(matchesFilter(binding({ resourceType: GROUP }), match), false);
  });

  it('with MATCH and no name, matches every binding of the resource type', () => {
    const match = filter({ resourceType: TOPIC, patternType: MATCH, resourceName: null });
    assert.equal(matchesFilter(binding({ patternType: PREFIXED, resourceName: 'x' }), match), true);
    assert.equal(matchesFilter(binding({ resourceName: 'y' }), match), true);
    assert.equal(matchesFilter(binding({ resourceType: GROUP }), match), false);
  });

  it('compares principal and host exactly unless null: a User:* binding is not every principal to a filter', () => {
    assert.equal(matchesFilter(binding(), filter({ principal: 'User:alice' })), true);
    assert.equal(matchesFilter(binding(), filter({ principal: 'User:bob' })), false);
    assert.equal(matchesFilter(binding({ principal: 'User:*' }), filter({ principal: 'User:alice' })), false);
    assert.equal(matchesFilter(binding({ principal: 'User:*' }), filter({ principal: 'User:*' })), true);
    assert.equal(matchesFilter(binding({ host: '10.0.0.1' }), filter({ host: '10.0.0.1' })), true);
    assert.equal(matchesFilter(binding(), filter({ host: '10.0.0.1' })), false);
    assert.equal(matchesFilter(binding({ host: '10.0.0.1' }), filter({ host: '*' })), false);
  });

  it('compares operation and permission type unless ANY: an ALL binding is not every operation to a filter', () => {
    assert.equal(matchesFilter(binding(), filter({ operation: READ })), true);
    assert.equal(matchesFilter(binding(), filter({ operation: WRITE })), false);
    assert.equal(matchesFilter(binding({ operation: ALL }), filter({ operation: READ })), false);
    assert.equal(matchesFilter(binding({ operation: ALL }), filter({ operation: ALL })), true);
    assert.equal(matchesFilter(binding(), filter({ permissionType: ALLOW })), true);
    assert.equal(matchesFilter(binding(), filter({ permissionType: DENY })), false);
  });
});

describe('bindingProblem', () => {
  const invalid = (message: string) => ({ errorCode: ErrorCode.INVALID_REQUEST, message });

  it('accepts valid bindings, including the cluster, prefixes, wildcards and every concrete operation', () => {
    assert.equal(bindingProblem(binding()), undefined);
    assert.equal(bindingProblem(binding({ patternType: PREFIXED, resourceName: 'ord' })), undefined);
    assert.equal(bindingProblem(binding({ resourceName: '*', principal: 'User:*', permissionType: DENY })), undefined);
    assert.equal(bindingProblem(binding({ resourceType: CLUSTER, resourceName: 'kafka-cluster', operation: AclOperation.IDEMPOTENT_WRITE })), undefined);
    assert.equal(bindingProblem(binding({ resourceType: AclResourceType.USER, operation: AclOperation.CREATE_TOKENS })), undefined);
    assert.equal(bindingProblem(binding({ resourceType: AclResourceType.TRANSACTIONAL_ID, operation: AclOperation.TWO_PHASE_COMMIT })), undefined);
    for (let operation = 2; operation <= 15; operation++) assert.equal(bindingProblem(binding({ operation })), undefined);
  });

  it('refuses filter-only values', () => {
    assert.deepEqual(bindingProblem(binding({ resourceType: AclResourceType.ANY })), invalid('Invalid resourceType ANY'));
    assert.deepEqual(bindingProblem(binding({ patternType: MATCH })), invalid('Invalid patternType MATCH'));
    assert.deepEqual(bindingProblem(binding({ patternType: ANY })), invalid('Invalid patternType ANY'));
    assert.deepEqual(bindingProblem(binding({ operation: AclOperation.ANY })), invalid('Invalid operation ANY'));
    assert.deepEqual(bindingProblem(binding({ permissionType: AclPermissionType.ANY })), invalid('Invalid permissionType ANY'));
  });

  it('refuses UNKNOWN values, and codes Kafka does not know as UNKNOWN', () => {
    assert.deepEqual(bindingProblem(binding({ resourceType: 0 })), invalid('Invalid resourceType UNKNOWN'));
    assert.deepEqual(bindingProblem(binding({ resourceType: 42 })), invalid('Invalid resourceType UNKNOWN'));
    assert.deepEqual(bindingProblem(binding({ patternType: 0 })), invalid('Invalid patternType UNKNOWN'));
    assert.deepEqual(bindingProblem(binding({ patternType: 9 })), invalid('Invalid patternType UNKNOWN'));
    assert.deepEqual(bindingProblem(binding({ operation: 0 })), invalid('Invalid operation UNKNOWN'));
    assert.deepEqual(bindingProblem(binding({ operation: 16 })), invalid('Invalid operation UNKNOWN'));
    assert.deepEqual(bindingProblem(binding({ permissionType: 0 })), invalid('Invalid permissionType UNKNOWN'));
    assert.deepEqual(bindingProblem(binding({ permissionType: 4 })), invalid('Invalid permissionType UNKNOWN'));
  });

  it('refuses a CLUSTER resource with any name but kafka-cluster, even as a prefix', () => {
    const expected = invalid('The only valid name for the CLUSTER resource is kafka-cluster');
    assert.deepEqual(bindingProblem(binding({ resourceType: CLUSTER, resourceName: 'my-cluster' })), expected);
    assert.deepEqual(bindingProblem(binding({ resourceType: CLUSTER, resourceName: '*' })), expected);
    assert.deepEqual(bindingProblem(binding({ resourceType: CLUSTER, resourceName: '' })), expected);
    assert.deepEqual(bindingProblem(binding({ resourceType: CLUSTER, resourceName: 'kafka', patternType: PREFIXED })), expected);
  });

  it('refuses an empty resource name', () => {
    assert.deepEqual(bindingProblem(binding({ resourceName: '' })), invalid('Invalid empty resource name'));
    assert.deepEqual(bindingProblem(binding({ resourceName: '', patternType: PREFIXED })), invalid('Invalid empty resource name'));
  });

  it('refuses a principal without the colon of Type:name, and only that', () => {
    assert.deepEqual(
      bindingProblem(binding({ principal: 'alice' })),
      invalid('Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)'),
    );
    assert.equal(bindingProblem(binding({ principal: 'Group:eng' })), undefined);
    assert.equal(bindingProblem(binding({ principal: 'User:' })), undefined);
    assert.equal(bindingProblem(binding({ principal: 'User:CN=a,O=b:c' })), undefined);
  });

  it('checks in Kafka order: filter-only values, cluster name, empty name, unknown values, principal', () => {
    assert.deepEqual(bindingProblem(binding({ resourceType: AclResourceType.ANY, resourceName: '' })), invalid('Invalid resourceType ANY'));
    assert.deepEqual(bindingProblem(binding({ operation: AclOperation.ANY, resourceType: CLUSTER, resourceName: 'x' })), invalid('Invalid operation ANY'));
    assert.deepEqual(bindingProblem(binding({ resourceType: CLUSTER, resourceName: 'x', operation: 0 })), invalid('The only valid name for the CLUSTER resource is kafka-cluster'));
    assert.deepEqual(bindingProblem(binding({ resourceType: 0, resourceName: '' })), invalid('Invalid empty resource name'));
    assert.deepEqual(bindingProblem(binding({ operation: 0, permissionType: 0 })), invalid('Invalid operation UNKNOWN'));
    assert.deepEqual(bindingProblem(binding({ permissionType: 0, principal: 'alice' })), invalid('Invalid permissionType UNKNOWN'));
  });
});

describe('filterProblem', () => {
  it('accepts filters with ANY and MATCH', () => {
    assert.equal(filterProblem(ANY_ACL_FILTER), undefined);
    assert.equal(filterProblem(filter({ patternType: MATCH, resourceName: 'orders', resourceType: TOPIC })), undefined);
    assert.equal(filterProblem(filter({ operation: READ, permissionType: DENY, principal: 'User:a', host: '1.2.3.4' })), undefined);
  });

  it('refuses UNKNOWN resource or pattern types as an unknown pattern filter', () => {
    const expected = { errorCode: ErrorCode.INVALID_REQUEST, message: 'Unknown patternFilter.' };
    assert.deepEqual(filterProblem(filter({ resourceType: 0 })), expected);
    assert.deepEqual(filterProblem(filter({ resourceType: 8 })), expected);
    assert.deepEqual(filterProblem(filter({ patternType: 0 })), expected);
    assert.deepEqual(filterProblem(filter({ patternType: 0, operation: 0 })), expected);
  });

  it('refuses UNKNOWN operations or permission types as an unknown entry filter', () => {
    const expected = { errorCode: ErrorCode.INVALID_REQUEST, message: 'Unknown entryFilter.' };
    assert.deepEqual(filterProblem(filter({ operation: 0 })), expected);
    assert.deepEqual(filterProblem(filter({ operation: 77 })), expected);
    assert.deepEqual(filterProblem(filter({ permissionType: 0 })), expected);
  });
});

describe('describeAcl', () => {
  it('writes an ACL as Kafka writes its entry and resource pattern', () => {
    assert.equal(
      describeAcl(binding()),
      '(principal=User:alice, host=*, operation=READ, permissionType=ALLOW) on ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)',
    );
    assert.equal(
      describeAcl(binding({ resourceType: AclResourceType.TRANSACTIONAL_ID, resourceName: 'tx-', patternType: PREFIXED, host: '10.0.0.1', operation: AclOperation.DESCRIBE_CONFIGS, permissionType: DENY })),
      '(principal=User:alice, host=10.0.0.1, operation=DESCRIBE_CONFIGS, permissionType=DENY) on ResourcePattern(resourceType=TRANSACTIONAL_ID, name=tx-, patternType=PREFIXED)',
    );
  });

  it('writes a filter with <any> for its null fields', () => {
    assert.equal(
      describeAclFilter(ANY_ACL_FILTER),
      '(principal=<any>, host=<any>, operation=ANY, permissionType=ANY) on ResourcePattern(resourceType=ANY, name=<any>, patternType=ANY)',
    );
  });
});
