// The HTTP API's authentication and authorization against a broker with SASL/PLAIN and Kafka's
// StandardAuthorizer (test/support/authorized-broker.ts: users admin, alice and bob, nothing
// allowed without an ACL): the Kafka connections of a request authenticate as its HTTP Basic user,
// so the broker's ACLs refuse bob (403 with Kafka's authorization error) and allow alice; a wrong
// password is a 401; without credentials, and no identity of its own in clientConfig, a 401; the
// ACL endpoints create, list and delete ACLs as the admin.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { type RestProxy, registerRestProxy } from '../../src/admin/rest-proxy/index.js';
import { AclOperation, AclResourceType, AuthorizedBroker, USERS, type User } from '../support/authorized-broker.js';

interface Json {
  [key: string]: any;
}

describe('HTTP API authentication and ACLs', { timeout: 60_000 }, () => {
  let broker: AuthorizedBroker;
  let app: FastifyInstance;
  let proxy: RestProxy;
  let base: string;
  let cluster: string;

  const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
  const as = (user: User) => basic(user, USERS[user]);
  const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: Json }> => {
    const response = await fetch(`${base}${path}`, { method, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, json: text === '' ? {} : JSON.parse(text) };
  };

  before(async () => {
    broker = await AuthorizedBroker.start();
    app = Fastify({ logger: false });
    proxy = await registerRestProxy(app, { clientConfig: new Map([['bootstrap.servers', broker.saslBootstrap], ['security.protocol', 'SASL_PLAINTEXT'], ['sasl.mechanism', 'PLAIN']]) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    cluster = broker.running.clusterId;
    const created = await call('POST', `/v3/clusters/${cluster}/topics`, as('admin'), { topic_name: 'secret', partitions_count: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    for (const operation of [AclOperation.WRITE, AclOperation.READ]) await broker.grant({ principal: 'User:alice', resourceType: AclResourceType.TOPIC, resourceName: 'secret', operation });
  });
  after(async () => {
    await proxy?.close();
    await app?.close();
    await broker?.running.close();
  });

  it('refuses a request without credentials and one with a wrong password with 401', async () => {
    const anonymous = await call('GET', `/v3/clusters/${cluster}/topics`, {});
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.json.error_code, 40101);
    const wrong = await call('GET', `/v3/clusters/${cluster}/topics`, basic('alice', 'not-her-password'));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error_code, 40101);
    assert.match(wrong.json.message, /SASL authentication as 'alice'/);
    // The refused client is not kept: the right password works next.
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics`, as('alice'))).status, 200);
  });

  it('lets the broker\'s ACLs decide: bob is refused with 403, alice produces and consumes', async () => {
    const record = { partition_id: 0, value: { type: 'STRING', data: 'classified' } };
    const refused = await call('POST', `/v3/clusters/${cluster}/topics/secret/records`, as('bob'), record);
    assert.equal(refused.status, 403);
    assert.equal(refused.json.error_code, 40301);
    assert.match(refused.json.message, /TOPIC_AUTHORIZATION_FAILED/);
    const refusedRead = await call('GET', `/v3/clusters/${cluster}/topics/secret/partitions/0/records?offset=0&timeout_ms=0`, as('bob'));
    assert.equal(refusedRead.status, 403);

    const written = await call('POST', `/v3/clusters/${cluster}/topics/secret/records`, as('alice'), record);
    assert.equal(written.status, 200, JSON.stringify(written.json));
    assert.equal(written.json.offset, 0);
    const read = await call('GET', `/v3/clusters/${cluster}/topics/secret/partitions/0/records?offset=0&timeout_ms=2000`, as('alice'));
    assert.equal(read.status, 200);
    assert.deepEqual(read.json.data.map((entry: Json) => entry.value.data), ['classified']);
    // Topic listings show what each user may describe.
    const names = async (user: User) => (await call('GET', `/v3/clusters/${cluster}/topics`, as(user))).json.data.map((topic: Json) => topic.topic_name);
    assert.deepEqual(await names('alice'), ['secret']);
    assert.deepEqual(await names('bob'), []);
  });

  it('creates, lists and deletes ACLs through the ACL endpoints, which the broker then applies', async () => {
    const acl = { resource_type: 'TOPIC', resource_name: 'secret', pattern_type: 'LITERAL', principal: 'User:bob', host: '*', operation: 'READ', permission: 'ALLOW' };
    assert.equal((await call('POST', `/v3/clusters/${cluster}/acls`, as('bob'), acl)).status, 403, 'bob may not create ACLs');
    assert.equal((await call('POST', `/v3/clusters/${cluster}/acls`, as('admin'), acl)).status, 201);
    assert.equal((await call('POST', `/v3/clusters/${cluster}/acls`, as('admin'), { ...acl, operation: 'FLY' })).status, 422);
    const listed = await call('GET', `/v3/clusters/${cluster}/acls?principal=User:bob`, as('admin'));
    assert.equal(listed.json.kind, 'KafkaAclList');
    assert.deepEqual(listed.json.data.map((entry: Json) => [entry.kind, entry.resource_type, entry.resource_name, entry.pattern_type, entry.principal, entry.operation, entry.permission]), [['KafkaAcl', 'TOPIC', 'secret', 'LITERAL', 'User:bob', 'READ', 'ALLOW']]);
    const read = await call('GET', `/v3/clusters/${cluster}/topics/secret/partitions/0/records?offset=0&timeout_ms=2000`, as('bob'));
    assert.equal(read.status, 200, JSON.stringify(read.json));
    const deleted = await call('DELETE', `/v3/clusters/${cluster}/acls?resource_type=TOPIC&resource_name=secret&principal=User:bob`, as('admin'));
    assert.equal(deleted.status, 200);
    assert.equal(deleted.json.data.length, 1);
    assert.equal((await call('GET', `/v3/clusters/${cluster}/topics/secret/partitions/0/records?offset=0&timeout_ms=0`, as('bob'))).status, 403);
  });
});
