import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../base/logger.js';
import {
  AclOperation,
  AclPermissionType,
  AclResourceType,
  ANY_ACL_FILTER,
  type AclBinding,
  type NewAclBinding,
  PatternType,
} from '../../metadata/acl.js';
import { seededRandom } from '../../../test/support/records.js';
import { type AuthorizableAction, StandardAuthorizer } from './standard-authorizer.js';

const { TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID } = AclResourceType;
const { LITERAL, PREFIXED } = PatternType;
const { ALL, READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE } = AclOperation;
const { ALLOW, DENY } = AclPermissionType;

let nextId = 0;

function acl(fields: Partial<AclBinding> = {}): AclBinding {
  nextId += 1;
  return {
    id: `00000000-0000-4000-8000-${String(nextId).padStart(12, '0')}`,
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

function setup(options: { superUsers?: string[]; allowEveryoneIfNoAclFound?: boolean; acls?: AclBinding[] } = {}) {
  const lines: { level: string; line: string }[] = [];
  const authorizer = new StandardAuthorizer({
    superUsers: options.superUsers ?? [],
    allowEveryoneIfNoAclFound: options.allowEveryoneIfNoAclFound ?? false,
    logger: createLogger((level, line) => lines.push({ level, line }), 'debug'),
  });
  for (const binding of options.acls ?? []) authorizer.addAcl(binding);
  lines.length = 0;
  /** May `principal` do `operation` on the resource (a topic named orders unless said). */
  const may = (principal: string, operation: number, resourceName = 'orders', extra: Partial<AuthorizableAction> = {}) =>
    authorizer.authorize({ principal, host: '10.0.0.1', operation, resourceType: TOPIC, resourceName, ...extra });
  return { authorizer, lines, may };
}

describe('StandardAuthorizer.authorize', () => {
  it('allows by a LITERAL ACL on exactly the name', () => {
    const { may } = setup({ acls: [acl()] });
    assert.equal(may('User:alice', READ), true);
    assert.equal(may('User:alice', READ, 'orders2'), false);
    assert.equal(may('User:alice', READ, 'order'), false);
    assert.equal(may('User:alice', WRITE), false);
    assert.equal(may('User:bob', READ), false);
  });

  it('keeps resource types apart', () => {
    const { may } = setup({ acls: [acl({ resourceType: GROUP })], allowEveryoneIfNoAclFound: true });
    assert.equal(may('User:alice', READ, 'orders', { resourceType: GROUP }), true);
    assert.equal(may('User:bob', READ, 'orders', { resourceType: GROUP }), false);
    // The GROUP ACL is no ACL for the topic: the default decides.
    assert.equal(may('User:bob', READ), true);
  });

  it('applies the LITERAL wildcard * to every name, even names starting with *', () => {
    const { may } = setup({ acls: [acl({ resourceName: '*' })] });
    assert.equal(may('User:alice', READ, 'anything'), true);
    assert.equal(may('User:alice', READ, '*'), true);
    assert.equal(may('User:alice', READ, '*groupish', { resourceType: TOPIC }), true);
    assert.equal(may('User:alice', WRITE, 'anything'), false);
  });

  it('applies a PREFIXED ACL to names starting with its prefix, including the prefix itself', () => {
    const { may } = setup({ acls: [acl({ patternType: PREFIXED, resourceName: 'ord' })] });
    assert.equal(may('User:alice', READ, 'orders'), true);
    assert.equal(may('User:alice', READ, 'ord'), true);
    assert.equal(may('User:alice', READ, 'or'), false);
    assert.equal(may('User:alice', READ, 'xorders'), false);
    assert.equal(may('User:alice', READ, 'Orders'), false);
  });

  it('finds prefixes of every length among many', () => {
    const { may } = setup({
      acls: [
        acl({ patternType: PREFIXED, resourceName: 'a', principal: 'User:a' }),
        acl({ patternType: PREFIXED, resourceName: 'ab', principal: 'User:ab' }),
        acl({ patternType: PREFIXED, resourceName: 'abc-', principal: 'User:abc' }),
        acl({ patternType: PREFIXED, resourceName: 'abd', principal: 'User:abd' }),
        acl({ patternType: PREFIXED, resourceName: 'abc-long-prefix', principal: 'User:long' }),
        acl({ resourceName: 'ab', principal: 'User:literal' }),
      ],
    });
    const name = 'abc-long-prefix-topic';
    assert.equal(may('User:a', READ, name), true);
    assert.equal(may('User:ab', READ, name), true);
    assert.equal(may('User:abc', READ, name), true);
    assert.equal(may('User:long', READ, name), true);
    assert.equal(may('User:abd', READ, name), false);
    assert.equal(may('User:literal', READ, name), false);
    assert.equal(may('User:literal', READ, 'ab'), true);
    assert.equal(may('User:long', READ, 'abc-long'), false);
  });

  it('lets a DENY win over an ALLOW whatever their patterns: no pattern takes precedence', () => {
    // A literal ALLOW loses to a prefixed DENY...
    const first = setup({ acls: [acl(), acl({ patternType: PREFIXED, resourceName: 'ord', permissionType: DENY })] });
    assert.equal(first.may('User:alice', READ), false);
    assert.equal(first.may('User:alice', READ, 'ordinary'), false);
    // ...and a prefixed ALLOW to a literal DENY.
    const second = setup({ acls: [acl({ patternType: PREFIXED, resourceName: 'ord' }), acl({ permissionType: DENY })] });
    assert.equal(second.may('User:alice', READ), false);
    assert.equal(second.may('User:alice', READ, 'ordinary'), true);
  });

  it('lets a DENY of everyone on the wildcard override a specific ALLOW', () => {
    const { may } = setup({
      acls: [acl(), acl({ resourceName: '*', principal: 'User:*', permissionType: DENY })],
      allowEveryoneIfNoAclFound: true,
    });
    assert.equal(may('User:alice', READ), false);
    assert.equal(may('User:bob', READ, 'elsewhere'), false);
    assert.equal(may('User:alice', WRITE), false);
  });

  it('matches the principal exactly or through User:* (and no other wildcard type)', () => {
    const { may } = setup({
      acls: [
        acl({ principal: 'User:*' }),
        acl({ resourceName: 'groups-only', principal: 'Group:*' }),
        acl({ resourceName: 'eng', principal: 'Group:eng' }),
      ],
    });
    assert.equal(may('User:anyone', READ), true);
    assert.equal(may('Group:eng', READ), true);
    assert.equal(may('Group:eng', READ, 'groups-only'), false);
    assert.equal(may('Group:*', READ, 'groups-only'), true);
    assert.equal(may('Group:eng', READ, 'eng'), true);
    assert.equal(may('User:eng', READ, 'eng'), false);
    assert.equal(may('User:ALICE', READ, 'eng'), false);
  });

  it('matches the host exactly or through *', () => {
    const { may } = setup({ acls: [acl({ host: '10.0.0.1' }), acl({ resourceName: 'anywhere', host: '*' })] });
    assert.equal(may('User:alice', READ, 'orders', { host: '10.0.0.1' }), true);
    assert.equal(may('User:alice', READ, 'orders', { host: '10.0.0.2' }), false);
    assert.equal(may('User:alice', READ, 'anywhere', { host: '192.168.1.9' }), true);
    assert.equal(may('User:alice', READ, 'anywhere', { host: '::1' }), true);
  });

  it('lets a host-specific DENY deny only that host', () => {
    const { may } = setup({ acls: [acl({ principal: 'User:*' }), acl({ principal: 'User:*', host: '10.0.0.66', permissionType: DENY })] });
    assert.equal(may('User:alice', READ, 'orders', { host: '10.0.0.1' }), true);
    assert.equal(may('User:alice', READ, 'orders', { host: '10.0.0.66' }), false);
  });

  it('treats ALL as every operation, for ALLOW and DENY', () => {
    const allowAll = setup({ acls: [acl({ operation: ALL })] });
    for (const operation of [READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS]) {
      assert.equal(allowAll.may('User:alice', operation), true, `operation ${operation}`);
    }
    const denyAll = setup({ acls: [acl({ operation: READ }), acl({ operation: DESCRIBE }), acl({ operation: ALL, permissionType: DENY })] });
    assert.equal(denyAll.may('User:alice', READ), false);
    assert.equal(denyAll.may('User:alice', DESCRIBE), false);
  });

  it('lets an ALLOW of READ, WRITE, DELETE or ALTER imply DESCRIBE, and of ALTER_CONFIGS imply DESCRIBE_CONFIGS', () => {
    for (const operation of [READ, WRITE, DELETE, ALTER, DESCRIBE]) {
      const { may } = setup({ acls: [acl({ operation })] });
      assert.equal(may('User:alice', DESCRIBE), true, `ALLOW ${operation} implies DESCRIBE`);
    }
    for (const operation of [CREATE, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE]) {
      const { may } = setup({ acls: [acl({ operation })] });
      assert.equal(may('User:alice', DESCRIBE), false, `ALLOW ${operation} does not imply DESCRIBE`);
    }
    assert.equal(setup({ acls: [acl({ operation: ALTER_CONFIGS })] }).may('User:alice', DESCRIBE_CONFIGS), true);
    assert.equal(setup({ acls: [acl({ operation: ALTER })] }).may('User:alice', DESCRIBE_CONFIGS), false);
    assert.equal(setup({ acls: [acl({ operation: ALTER })] }).may('User:alice', ALTER_CONFIGS), false);
    // Implications run one way only.
    assert.equal(setup({ acls: [acl({ operation: DESCRIBE })] }).may('User:alice', READ), false);
    assert.equal(setup({ acls: [acl({ operation: DESCRIBE_CONFIGS })] }).may('User:alice', ALTER_CONFIGS), false);
  });

  it('does not let a DENY imply anything', () => {
    const denyRead = setup({ acls: [acl({ operation: READ, permissionType: DENY }), acl({ operation: DESCRIBE })] });
    assert.equal(denyRead.may('User:alice', DESCRIBE), true);
    assert.equal(denyRead.may('User:alice', READ), false);
    const denyAlterConfigs = setup({ acls: [acl({ operation: ALTER_CONFIGS, permissionType: DENY }), acl({ operation: DESCRIBE_CONFIGS })] });
    assert.equal(denyAlterConfigs.may('User:alice', DESCRIBE_CONFIGS), true);
    // A DENY alone still counts as an ACL for the resource: nothing allows DESCRIBE.
    assert.equal(setup({ acls: [acl({ permissionType: DENY })], allowEveryoneIfNoAclFound: true }).may('User:alice', DESCRIBE), false);
  });

  it('allows super users everything, despite DENY ACLs, comparing principals exactly', () => {
    const { may } = setup({
      superUsers: ['User:admin', 'User:*'],
      acls: [acl({ resourceName: '*', principal: 'User:*', operation: ALL, permissionType: DENY })],
    });
    assert.equal(may('User:admin', WRITE), true);
    assert.equal(may('User:admin', ALTER, 'kafka-cluster', { resourceType: CLUSTER }), true);
    assert.equal(may('User:Admin', WRITE), false);
    // "User:*" among the super users names only the principal spelled so.
    assert.equal(may('User:bob', READ), false);
  });

  it('answers allow.everyone.if.no.acl.found only when no ACL at all exists for the resource', () => {
    const acls = [acl({ principal: 'User:alice', operation: WRITE }), acl({ resourceName: 'pre', patternType: PREFIXED, principal: 'User:carol', host: '10.9.9.9' })];
    const open = setup({ acls, allowEveryoneIfNoAclFound: true });
    assert.equal(open.may('User:bob', READ, 'unprotected'), true);
    // An ACL for someone else, another operation, or another host still protects the resource.
    assert.equal(open.may('User:bob', READ), false);
    assert.equal(open.may('User:alice', READ), false);
    assert.equal(open.may('User:bob', READ, 'prefixed-topic'), false);
    assert.equal(open.may('User:carol', READ, 'prefixed-topic'), false);
    const closed = setup({ acls, allowEveryoneIfNoAclFound: false });
    assert.equal(closed.may('User:bob', READ, 'unprotected'), false);
    assert.equal(closed.may('User:bob', READ), false);
  });

  it('defaults both ways with no ACLs at all', () => {
    assert.equal(setup({ allowEveryoneIfNoAclFound: true }).may('User:bob', WRITE), true);
    assert.equal(setup({ allowEveryoneIfNoAclFound: false }).may('User:bob', WRITE), false);
  });

  it('logs a denial at info and a grant at debug, as Kafka words them', () => {
    const { may, lines } = setup({ superUsers: ['User:admin'], acls: [acl({ id: 'acl-1' })] });
    assert.equal(may('User:bob', READ), false);
    assert.equal(may('User:alice', READ), true);
    assert.equal(may('User:admin', DELETE, 'tx-1', { resourceType: TRANSACTIONAL_ID, host: '::1' }), true);
    assert.deepEqual(lines, [
      { level: 'info', line: 'Principal = User:bob is Denied operation = READ from host = 10.0.0.1 on resource = Topic:LITERAL:orders based on rule DefaultDeny' },
      {
        level: 'debug',
        line:
          'Principal = User:alice is Allowed operation = READ from host = 10.0.0.1 on resource = Topic:LITERAL:orders based on rule ' +
          'MatchingAcl(acl=(principal=User:alice, host=*, operation=READ, permissionType=ALLOW) on ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL))',
      },
      { level: 'debug', line: 'Principal = User:admin is Allowed operation = DELETE from host = ::1 on resource = TransactionalId:LITERAL:tx-1 based on rule SuperUser' },
    ]);
  });

  it('names the DENY ACL that decided, and logs nothing when told not to', () => {
    const { may, lines } = setup({ acls: [acl({ permissionType: DENY, principal: 'User:*' })] });
    assert.equal(may('User:bob', READ), false);
    assert.match(lines[0]?.line ?? '', /is Denied .* based on rule MatchingAcl\(acl=\(principal=User:\*, host=\*, operation=READ, permissionType=DENY\)/);
    lines.length = 0;
    assert.equal(may('User:bob', READ, 'orders', { logIfDenied: false }), false);
    assert.equal(setup({ allowEveryoneIfNoAclFound: true }).may('User:bob', READ), true);
    const quiet = setup({ allowEveryoneIfNoAclFound: true });
    assert.equal(quiet.may('User:bob', READ, 'x', { logIfAllowed: false }), true);
    assert.deepEqual(lines, []);
    assert.deepEqual(quiet.lines, []);
  });
});

describe('StandardAuthorizer ACL store', () => {
  it('lists, counts and finds ACLs by filter', () => {
    const literal = acl();
    const prefixed = acl({ patternType: PREFIXED, resourceName: 'ord', principal: 'User:bob' });
    const group = acl({ resourceType: GROUP, resourceName: 'g', permissionType: DENY });
    const { authorizer } = setup({ acls: [literal, prefixed, group] });
    assert.equal(authorizer.aclCount, 3);
    assert.deepEqual([...authorizer.acls()].map((binding) => binding.id), [literal.id, prefixed.id, group.id]);
    assert.deepEqual(authorizer.findAcls(ANY_ACL_FILTER).length, 3);
    const match = { ...ANY_ACL_FILTER, resourceType: TOPIC, patternType: PatternType.MATCH, resourceName: 'orders' };
    assert.deepEqual(authorizer.findAcls(match).map((binding) => binding.id), [literal.id, prefixed.id]);
    assert.deepEqual(authorizer.findAcls({ ...ANY_ACL_FILTER, principal: 'User:bob' }).map((binding) => binding.id), [prefixed.id]);
    assert.deepEqual(authorizer.findAcls({ ...ANY_ACL_FILTER, permissionType: DENY }).map((binding) => binding.id), [group.id]);
  });

  it('keeps its own copy of each ACL', () => {
    const binding = acl();
    const { authorizer, may } = setup({ acls: [binding] });
    binding.principal = 'User:mallory';
    assert.equal(may('User:alice', READ), true);
    assert.equal([...authorizer.acls()][0]?.principal, 'User:alice');
  });

  it('refuses a second ACL with the same id or the same content, and removing an unknown id', () => {
    const binding = acl();
    const { authorizer } = setup({ acls: [binding] });
    assert.throws(() => authorizer.addAcl({ ...binding, resourceName: 'other' }), /already exists/);
    assert.throws(() => authorizer.addAcl({ ...binding, id: 'another-id' }), /same ACL exists/);
    assert.throws(() => authorizer.removeAcl('no-such-id'), /not found/);
    assert.equal(authorizer.aclCount, 1);
  });

  it('leaves no trace once every ACL added is removed again', () => {
    const { authorizer, may } = setup({ allowEveryoneIfNoAclFound: true });
    const probes: [string, number, string, number][] = [
      ['User:alice', READ, 'orders', TOPIC],
      ['User:bob', WRITE, 'orders-eu', TOPIC],
      ['User:bob', DESCRIBE, 'g', GROUP],
      ['User:carol', IDEMPOTENT_WRITE, 'kafka-cluster', CLUSTER],
    ];
    const decide = () => probes.map(([principal, operation, name, resourceType]) => may(principal, operation, name, { resourceType }));
    assert.deepEqual(decide(), [true, true, true, true]);
    const added = [
      acl({ principal: 'User:*', permissionType: DENY, resourceName: '*' }),
      acl({ patternType: PREFIXED, resourceName: 'orders-' }),
      acl({ patternType: PREFIXED, resourceName: 'o', operation: WRITE, permissionType: DENY }),
      acl({ resourceType: GROUP, resourceName: 'g', principal: 'User:bob', operation: READ }),
      acl({ resourceType: CLUSTER, resourceName: 'kafka-cluster', operation: IDEMPOTENT_WRITE, principal: 'User:dave' }),
    ];
    for (const binding of added) authorizer.addAcl(binding);
    assert.deepEqual(decide(), [false, false, true, false]);
    for (const binding of added) authorizer.removeAcl(binding.id);
    assert.deepEqual(decide(), [true, true, true, true]);
    assert.equal(authorizer.aclCount, 0);
    assert.deepEqual([...authorizer.acls()], []);
    assert.deepEqual(authorizer.findAcls(ANY_ACL_FILTER), []);
    const internals = authorizer as unknown as { byType: Map<number, unknown>; contentKeys: Set<string> };
    assert.equal(internals.byType.size, 0);
    assert.equal(internals.contentKeys.size, 0);
    // The same ACLs can be added again under new ids.
    for (const binding of added) authorizer.addAcl({ ...binding, id: `${binding.id}-again` });
    assert.deepEqual(decide(), [false, false, true, false]);
  });

  it('keeps a prefix length searchable while another prefix of that length remains', () => {
    const first = acl({ patternType: PREFIXED, resourceName: 'abc' });
    const second = acl({ patternType: PREFIXED, resourceName: 'xyz' });
    const { authorizer, may } = setup({ acls: [first, second] });
    authorizer.removeAcl(first.id);
    assert.equal(may('User:alice', READ, 'abcdef'), false);
    assert.equal(may('User:alice', READ, 'xyz-1'), true);
    // Once no prefix of a length remains, names are no longer checked at that length.
    const shorter = acl({ patternType: PREFIXED, resourceName: 'ab' });
    authorizer.addAcl(shorter);
    const lengths = () => (authorizer as unknown as { byType: Map<number, { prefixLengths: number[] }> }).byType.get(TOPIC)?.prefixLengths;
    assert.deepEqual(lengths(), [2, 3]);
    authorizer.removeAcl(second.id);
    assert.deepEqual(lengths(), [2]);
    assert.equal(may('User:alice', READ, 'abcdef'), true);
  });
});

describe('StandardAuthorizer.authorizeByResourceType', () => {
  const byType = (authorizer: StandardAuthorizer, principal: string, operation: number = IDEMPOTENT_WRITE, resourceType: number = TOPIC, host = '10.0.0.1') =>
    authorizer.authorizeByResourceType(principal, host, operation, resourceType);

  it('allows super users despite DENY ACLs', () => {
    const { authorizer } = setup({ superUsers: ['User:admin'], acls: [acl({ resourceName: '*', principal: 'User:*', operation: ALL, permissionType: DENY })] });
    assert.equal(byType(authorizer, 'User:admin'), true);
    assert.equal(byType(authorizer, 'User:bob'), false);
  });

  it('follows allow.everyone.if.no.acl.found when no ACL exists, and when none names the "hardcode" resource', () => {
    assert.equal(byType(setup({ allowEveryoneIfNoAclFound: true }).authorizer, 'User:bob'), true);
    assert.equal(byType(setup({ allowEveryoneIfNoAclFound: false }).authorizer, 'User:bob'), false);
    // Kafka checks a resource named "hardcode" first: with no ACL there, the default allows even
    // though bob is denied the only topic that has an ACL.
    const denied = [acl({ principal: 'User:bob', operation: IDEMPOTENT_WRITE, permissionType: DENY })];
    assert.equal(byType(setup({ allowEveryoneIfNoAclFound: true, acls: denied }).authorizer, 'User:bob'), true);
    assert.equal(byType(setup({ allowEveryoneIfNoAclFound: false, acls: denied }).authorizer, 'User:bob'), false);
  });

  it('allows when a LITERAL ALLOW for the operation or ALL applies to the principal and host', () => {
    const { authorizer } = setup({ acls: [acl({ operation: IDEMPOTENT_WRITE }), acl({ resourceName: 'other', principal: 'User:bob', operation: ALL })] });
    assert.equal(byType(authorizer, 'User:alice'), true);
    assert.equal(byType(authorizer, 'User:bob'), true);
    assert.equal(byType(authorizer, 'User:carol'), false);
    assert.equal(byType(authorizer, 'User:alice', WRITE), false);
    assert.equal(byType(authorizer, 'User:alice', IDEMPOTENT_WRITE, GROUP), false);
  });

  it('counts User:* and host * ACLs, and ignores ACLs for another host', () => {
    const { authorizer } = setup({ acls: [acl({ principal: 'User:*', operation: WRITE }), acl({ resourceName: 'x', host: '10.0.0.9', operation: READ })] });
    assert.equal(byType(authorizer, 'User:anyone', WRITE), true);
    assert.equal(byType(authorizer, 'User:alice', READ), false);
    assert.equal(byType(authorizer, 'User:alice', READ, TOPIC, '10.0.0.9'), true);
  });

  it('lets a LITERAL ALLOW be overridden by a LITERAL DENY of the name or a PREFIXED DENY of a prefix', () => {
    const allow = acl({ operation: WRITE });
    assert.equal(byType(setup({ acls: [allow, acl({ operation: WRITE, permissionType: DENY })] }).authorizer, 'User:alice', WRITE), false);
    assert.equal(byType(setup({ acls: [allow, acl({ operation: ALL, permissionType: DENY, principal: 'User:*' })] }).authorizer, 'User:alice', WRITE), false);
    const prefixDeny = (prefix: string) => acl({ patternType: PREFIXED, resourceName: prefix, operation: WRITE, permissionType: DENY });
    assert.equal(byType(setup({ acls: [allow, prefixDeny('ord')] }).authorizer, 'User:alice', WRITE), false);
    assert.equal(byType(setup({ acls: [allow, prefixDeny('orders')] }).authorizer, 'User:alice', WRITE), false);
    assert.equal(byType(setup({ acls: [allow, prefixDeny('orders-')] }).authorizer, 'User:alice', WRITE), true);
    assert.equal(byType(setup({ acls: [allow, prefixDeny('x')] }).authorizer, 'User:alice', WRITE), true);
    // A DENY for another principal, operation or host does not override.
    assert.equal(byType(setup({ acls: [allow, acl({ operation: WRITE, permissionType: DENY, principal: 'User:bob' })] }).authorizer, 'User:alice', WRITE), true);
    assert.equal(byType(setup({ acls: [allow, acl({ operation: READ, permissionType: DENY })] }).authorizer, 'User:alice', WRITE), true);
    assert.equal(byType(setup({ acls: [allow, acl({ operation: WRITE, permissionType: DENY, host: '1.1.1.1' })] }).authorizer, 'User:alice', WRITE), true);
  });

  it('lets a PREFIXED ALLOW be overridden only by a PREFIXED DENY of one of its prefixes', () => {
    const allow = acl({ patternType: PREFIXED, resourceName: 'orders-', operation: WRITE });
    const deny = (fields: Partial<NewAclBinding>) => acl({ operation: WRITE, permissionType: DENY, ...fields });
    assert.equal(byType(setup({ acls: [allow] }).authorizer, 'User:alice', WRITE), true);
    assert.equal(byType(setup({ acls: [allow, deny({ resourceName: 'orders-' })] }).authorizer, 'User:alice', WRITE), true);
    assert.equal(byType(setup({ acls: [allow, deny({ resourceName: 'orders-', patternType: PREFIXED })] }).authorizer, 'User:alice', WRITE), false);
    assert.equal(byType(setup({ acls: [allow, deny({ resourceName: 'o', patternType: PREFIXED })] }).authorizer, 'User:alice', WRITE), false);
    assert.equal(byType(setup({ acls: [allow, deny({ resourceName: 'orders-eu', patternType: PREFIXED })] }).authorizer, 'User:alice', WRITE), true);
  });

  it('lets one ALLOW that is not overridden suffice', () => {
    const { authorizer } = setup({
      acls: [acl({ operation: WRITE }), acl({ operation: WRITE, permissionType: DENY }), acl({ resourceName: 'payments', operation: WRITE })],
    });
    assert.equal(byType(authorizer, 'User:alice', WRITE), true);
  });

  it('lets a wildcard ALLOW allow and a wildcard DENY deny, whatever else exists', () => {
    assert.equal(byType(setup({ acls: [acl({ resourceName: '*', operation: WRITE })] }).authorizer, 'User:alice', WRITE), true);
    const wildcardDeny = acl({ resourceName: '*', principal: 'User:*', operation: WRITE, permissionType: DENY });
    assert.equal(byType(setup({ acls: [acl({ operation: WRITE }), acl({ patternType: PREFIXED, resourceName: 'p', operation: WRITE }), wildcardDeny] }).authorizer, 'User:alice', WRITE), false);
  });

  it('counts implied operations only through the "hardcode" check, as Kafka', () => {
    // ALLOW WRITE on one topic does not count for DESCRIBE on the type...
    assert.equal(byType(setup({ acls: [acl({ operation: WRITE })] }).authorizer, 'User:alice', DESCRIBE), false);
    // ...but ALLOW WRITE on every topic does, because "hardcode" is then allowed DESCRIBE.
    assert.equal(byType(setup({ acls: [acl({ resourceName: '*', operation: WRITE })] }).authorizer, 'User:alice', DESCRIBE), true);
    assert.equal(byType(setup({ acls: [acl({ patternType: PREFIXED, resourceName: 'hard', operation: WRITE })] }).authorizer, 'User:alice', DESCRIBE), true);
  });

  it('logs no denial for its "hardcode" check', () => {
    const { authorizer, lines } = setup({ acls: [acl({ operation: WRITE })] });
    assert.equal(byType(authorizer, 'User:alice', WRITE), true);
    assert.deepEqual(lines.filter((line) => line.level === 'info'), []);
  });

  it('refuses filter and unknown arguments', () => {
    const { authorizer } = setup();
    assert.throws(() => byType(authorizer, 'User:a', WRITE, AclResourceType.ANY), /non-filter resource type/);
    assert.throws(() => byType(authorizer, 'User:a', WRITE, AclResourceType.UNKNOWN), /Unknown resource type/);
    assert.throws(() => byType(authorizer, 'User:a', AclOperation.ANY), /non-filter operation type/);
    assert.throws(() => byType(authorizer, 'User:a', AclOperation.UNKNOWN), /Unknown operation type/);
  });
});


/** The decision by the rules alone, looking at every ACL: what the index must agree with. */
function referenceDecision(acls: readonly AclBinding[], action: AuthorizableAction, allowEveryone: boolean): boolean {
  let found = false;
  let allowed = false;
  for (const binding of acls) {
    if (binding.resourceType !== action.resourceType) continue;
    const applies =
      binding.patternType === LITERAL
        ? binding.resourceName === action.resourceName || binding.resourceName === '*'
        : action.resourceName.startsWith(binding.resourceName);
    if (!applies) continue;
    found = true;
    if (binding.principal !== action.principal && binding.principal !== 'User:*') continue;
    if (binding.host !== '*' && binding.host !== action.host) continue;
    const deny = binding.permissionType === DENY;
    const implied =
      !deny &&
      ((action.operation === DESCRIBE && ([READ, WRITE, DELETE, ALTER] as readonly number[]).includes(binding.operation)) ||
        (action.operation === DESCRIBE_CONFIGS && binding.operation === ALTER_CONFIGS));
    if (binding.operation !== ALL && binding.operation !== action.operation && !implied) continue;
    if (deny) return false;
    allowed = true;
  }
  return allowed || (!found && allowEveryone);
}

describe('StandardAuthorizer with many ACLs', () => {
  it('decides as a scan of every ACL would, before and after removals', () => {
    // Seeded, so the comparison sees the same ACLs every run.
    const next = seededRandom(679);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const names = ['a', 'ab', 'abc', 'abcd', 'b', 'ba', 'orders', 'orders-eu', 'orders-us', 'payments', 'x-y-z', '*'];
    const randomName = () => pick(names) + (next() < 0.3 ? `-${Math.floor(next() * 20)}` : '');
    const principals = ['User:alice', 'User:bob', 'User:carol', 'User:*'];
    const hosts = ['*', '*', '10.0.0.1', '10.0.0.2'];
    const operations = [ALL, READ, WRITE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS, CREATE];
    const acls = new Map<string, AclBinding>();
    const seen = new Set<string>();
    while (acls.size < 1_500) {
      const binding = acl({
        resourceType: pick([TOPIC, TOPIC, GROUP]),
        resourceName: randomName(),
        patternType: next() < 0.4 ? PREFIXED : LITERAL,
        principal: pick(principals),
        host: pick(hosts),
        operation: pick(operations),
        permissionType: next() < 0.2 ? DENY : ALLOW,
      });
      const key = JSON.stringify({ ...binding, id: '' });
      if (seen.has(key)) continue;
      seen.add(key);
      acls.set(binding.id, binding);
    }
    for (const allowEveryone of [false, true]) {
      const { authorizer } = setup({ allowEveryoneIfNoAclFound: allowEveryone, acls: [...acls.values()] });
      const current = new Map(acls);
      const compare = () => {
        const remaining = [...current.values()];
        let allowedCount = 0;
        for (let i = 0; i < 3_000; i++) {
          const action: AuthorizableAction = {
            principal: pick(['User:alice', 'User:bob', 'User:carol', 'User:dave']),
            host: pick(['10.0.0.1', '10.0.0.2', '10.0.0.3']),
            operation: pick(operations.slice(1)),
            resourceType: pick([TOPIC, GROUP, TRANSACTIONAL_ID]),
            resourceName: randomName() + (next() < 0.3 ? 'tail' : ''),
          };
          const expected = referenceDecision(remaining, action, allowEveryone);
          assert.equal(authorizer.authorize(action), expected, JSON.stringify(action));
          if (expected) allowedCount++;
        }
        // Both outcomes occur, so the comparison means something.
        assert.ok(allowedCount > 100 && allowedCount < 2_900, `allowed ${allowedCount}`);
      };
      compare();
      for (const id of [...current.keys()]) {
        if (next() < 0.5) {
          authorizer.removeAcl(id);
          current.delete(id);
        }
      }
      assert.equal(authorizer.aclCount, current.size);
      compare();
    }
  });

  it('stays fast with thousands of ACLs', () => {
    const acls: AclBinding[] = [];
    for (let i = 0; i < 2_000; i++) {
      acls.push(acl({ resourceName: `topic-${i}`, principal: `User:user-${i % 50}` }));
      if (i % 4 === 0) acls.push(acl({ patternType: PREFIXED, resourceName: `team-${i}-`, principal: `User:user-${i % 50}`, operation: WRITE }));
    }
    const { authorizer } = setup({ acls });
    assert.equal(authorizer.aclCount, 2_500);
    const started = performance.now();
    let allowed = 0;
    for (let i = 0; i < 100_000; i++) {
      const n = i % 2_000;
      if (authorizer.authorize({ principal: `User:user-${n % 50}`, host: '10.0.0.1', operation: READ, resourceType: TOPIC, resourceName: `topic-${n}`, logIfAllowed: false })) allowed++;
    }
    const elapsedMs = performance.now() - started;
    assert.equal(allowed, 100_000);
    assert.ok(elapsedMs < 2_000, `100k authorizations took ${elapsedMs.toFixed(0)} ms`);
  });
});
