// The ACL APIs (CreateAcls 30, DescribeAcls 29, DeleteAcls 31) against a broker with Kafka's
// StandardAuthorizer: kafkajs's admin creates, describes (literal, prefixed, MATCH filters) and
// deletes ACLs as a super user; an identical ACL is stored once; a bad binding gets INVALID_REQUEST
// with Kafka's message; a principal without ALTER (or DESCRIBE) on the cluster is refused with
// CLUSTER_AUTHORIZATION_FAILED, and can once granted. Without an authorizer the APIs answer
// SECURITY_DISABLED, as Kafka does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { type RunningBroker, startBroker } from '../../src/node/start-broker.js';
import { CreateAclsApi, DeleteAclsApi, DescribeAclsApi } from '../../src/protocol/messages/index.js';
import { AclOperation, AclPermissionType, AclResourceType, AuthorizedBroker, PatternType } from '../support/authorized-broker.js';
import { RawClient } from '../support/raw-client.js';

// kafkajs's enums are on its CommonJS export object (not named ESM exports).
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

const describeAll = { resourceTypeFilter: AclResourceType.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY };

describe('ACL APIs', { timeout: 120_000 }, () => {
  let broker: AuthorizedBroker;
  before(async () => {
    broker = await AuthorizedBroker.start();
  });
  after(async () => {
    await broker?.close();
  });

  it('a super user creates, describes and deletes ACLs through kafkajs', async () => {
    const admin = broker.kafka('admin').admin();
    await admin.connect();
    try {
      const acl = (resourceName: string, resourcePatternType: number, principal: string, operation: number, permissionType = AclPermissionTypes.ALLOW) => ({ resourceType: AclResourceTypes.TOPIC, resourceName, resourcePatternType, principal, host: '*', operation, permissionType });
      await admin.createAcls({
        acl: [
          acl('orders', ResourcePatternTypes.LITERAL, 'User:alice', AclOperationTypes.READ),
          acl('orders', ResourcePatternTypes.LITERAL, 'User:alice', AclOperationTypes.READ),
          acl('ord', ResourcePatternTypes.PREFIXED, 'User:bob', AclOperationTypes.WRITE),
          acl('*', ResourcePatternTypes.LITERAL, 'User:*', AclOperationTypes.DESCRIBE),
          acl('payments', ResourcePatternTypes.LITERAL, 'User:bob', AclOperationTypes.READ, AclPermissionTypes.DENY),
        ],
      });
      const all = await admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
      assert.equal(all.resources.flatMap((resource) => resource.acls).length, 4, 'the identical ACL is stored once');
      // MATCH: every ACL that applies to a topic named orders-eu.
      const matching = await admin.describeAcls({ resourceType: AclResourceTypes.TOPIC, resourceName: 'orders-eu', resourcePatternType: ResourcePatternTypes.MATCH, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
      assert.deepEqual(matching.resources.map((resource) => [resource.resourceName, resource.resourcePatternType]).sort(), [['*', ResourcePatternTypes.LITERAL], ['ord', ResourcePatternTypes.PREFIXED]]);
      const bobs = await admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, principal: 'User:bob', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
      assert.deepEqual(bobs.resources.map((resource) => resource.resourceName).sort(), ['ord', 'payments']);

      const deleted = await admin.deleteAcls({ filters: [{ resourceType: AclResourceTypes.TOPIC, resourcePatternType: ResourcePatternTypes.ANY, principal: 'User:bob', operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }] });
      assert.deepEqual(deleted.filterResponses[0]!.matchingAcls.map((matched) => matched.resourceName).sort(), ['ord', 'payments']);
      const left = await admin.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY });
      assert.deepEqual(left.resources.map((resource) => resource.resourceName).sort(), ['*', 'orders']);
    } finally {
      await admin.disconnect();
      await broker.revokeAll();
    }
  });

  it("refuses bad bindings and filters with Kafka's messages, each on its own", async () => {
    const admin = await broker.raw('admin');
    try {
      const creation = { resourceType: AclResourceType.TOPIC, resourceName: 'orders', resourcePatternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW };
      const created = await admin.request(CreateAclsApi, 3, {
        creations: [
          creation,
          { ...creation, resourceType: AclResourceType.CLUSTER, resourceName: 'other' },
          { ...creation, principal: 'alice' },
          { ...creation, resourcePatternType: PatternType.MATCH },
          { ...creation, resourceName: '' },
        ],
      });
      assert.deepEqual(created.results, [
        { errorCode: ErrorCode.NONE, errorMessage: null },
        { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'The only valid name for the CLUSTER resource is kafka-cluster' },
        { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Could not parse principal from `alice` (no colon is present separating the principal type from the principal name)' },
        { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid patternType MATCH' },
        { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Invalid empty resource name' },
      ]);
      const deleted = await admin.request(DeleteAclsApi, 3, { filters: [{ ...describeAll, resourceTypeFilter: AclResourceType.UNKNOWN }, describeAll] });
      assert.deepEqual(deleted.filterResults.map(({ errorCode, errorMessage, matchingAcls }) => [errorCode, errorMessage, matchingAcls.length]), [[ErrorCode.INVALID_REQUEST, 'Unknown patternFilter.', 0], [ErrorCode.NONE, null, 1]]);
    } finally {
      await admin.close();
    }
  });

  it('needs ALTER on the cluster to create or delete ACLs and DESCRIBE to list them', async () => {
    const alice = await broker.raw('alice');
    try {
      const creation = { resourceType: AclResourceType.TOPIC, resourceName: 'x', resourcePatternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation: AclOperation.ALL, permissionType: AclPermissionType.ALLOW };
      assert.deepEqual((await alice.request(CreateAclsApi, 3, { creations: [creation] })).results, [{ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null }]);
      assert.deepEqual((await alice.request(DeleteAclsApi, 3, { filters: [describeAll] })).filterResults.map(({ errorCode }) => errorCode), [ErrorCode.CLUSTER_AUTHORIZATION_FAILED]);
      assert.equal((await alice.request(DescribeAclsApi, 3, describeAll)).errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      // DESCRIBE on the cluster lets alice list, ALTER (which implies DESCRIBE) lets her change.
      await broker.grant({ principal: 'User:alice', resourceType: AclResourceType.CLUSTER, resourceName: 'kafka-cluster', operation: AclOperation.DESCRIBE });
      const listed = await alice.request(DescribeAclsApi, 3, describeAll);
      assert.deepEqual([listed.errorCode, listed.resources.length], [ErrorCode.NONE, 1]);
      assert.equal((await alice.request(CreateAclsApi, 3, { creations: [creation] })).results[0]!.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
      await broker.grant({ principal: 'User:alice', resourceType: AclResourceType.CLUSTER, resourceName: 'kafka-cluster', operation: AclOperation.ALTER });
      assert.equal((await alice.request(CreateAclsApi, 3, { creations: [creation] })).results[0]!.errorCode, ErrorCode.NONE);
    } finally {
      await alice.close();
      await broker.revokeAll();
    }
  });

  it('without an authorizer the ACL APIs answer SECURITY_DISABLED', async () => {
    let plain: RunningBroker | undefined;
    try {
      plain = await startBroker({ storage: 'memory', config: { listeners: 'PLAINTEXT://127.0.0.1:0' } });
      const client = await RawClient.connect('127.0.0.1', plain.broker.endpoints[0]!.port);
      try {
        assert.deepEqual(await client.request(DescribeAclsApi, 3, describeAll), { throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.', resources: [] });
        const creation = { resourceType: AclResourceType.TOPIC, resourceName: 'x', resourcePatternType: PatternType.LITERAL, principal: 'User:a', host: '*', operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW };
        assert.deepEqual((await client.request(CreateAclsApi, 3, { creations: [creation] })).results, [{ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured.' }]);
        assert.equal((await client.request(DeleteAclsApi, 3, { filters: [describeAll] })).filterResults[0]!.errorCode, ErrorCode.SECURITY_DISABLED);
      } finally {
        await client.close();
      }
    } finally {
      await plain?.close();
    }
  });

  it('refuses bad authorizer settings at start, naming the key', async () => {
    await assert.rejects(startBroker({ storage: 'memory', config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'authorizer.class.name': 'kafka.security.authorizer.AclAuthorizer' } }), /authorizer\.class\.name/);
    await assert.rejects(startBroker({ storage: 'memory', config: { listeners: 'PLAINTEXT://127.0.0.1:0', 'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users': 'admin' } }), /super\.users.*'admin' is not a principal/);
  });
});
