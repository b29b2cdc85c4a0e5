// The authorizer in a three-node cluster whose listeners are all SSL with client certificates
// required: the nodes' certificate (CN=localhost) is the super user, so Raft, broker registration,
// replication and forwarding pass CLUSTER_ACTION; alice's certificate names User:CN=alice,...
// A forwarded CreateAcls is authorized as the client that sent it (the Envelope carries its
// principal), not as the forwarding broker; alice, granted topic and group ACLs by the super
// user, produces with acks=all to three replicas and reads back; on a controller listener a
// principal without CLUSTER_ACTION or DESCRIBE on the cluster is answered CLUSTER_AUTHORIZATION_FAILED.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect as connectTls } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { ErrorCode } from '../../src/base/error-codes.js';
import { AclOperation, AclPermissionType, AclResourceType, PatternType } from '../../src/metadata/acl.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { type AnyApiDescriptor, CreateAclsApi, DescribeQuorumApi } from '../../src/protocol/messages/index.js';
import { responseHeaderVersion, decodeResponseHeader } from '../../src/protocol/headers.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { encodeRequestFrame } from '../support/raw-client.js';
import { makePki, noOpenssl, type Pki } from '../support/test-pki.js';

// The test certificate's subject is CN=alice then O=conveyor-tests; RFC 2253 names it from the last attribute.
const ALICE = 'User:O=conveyor-tests,CN=alice';

describe('the authorizer in a TLS cluster', { timeout: 150_000, skip: noOpenssl || undefined }, () => {
  let pki: Pki;
  let cluster: RunningCluster;
  before(async () => {
    pki = makePki();
    cluster = await startCluster({
      brokers: 3,
      storage: 'memory',
      config: {
        'listener.security.protocol.map': 'PLAINTEXT:SSL,CONTROLLER:SSL',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerPemFile,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.caFile,
        'ssl.client.auth': 'required',
        'group.initial.rebalance.delay.ms': '0',
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:CN=localhost',
      },
    });
  });
  after(async () => {
    await cluster?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const kafkaAs = (who: 'node' | 'alice', clientId: string) =>
    new Kafka({
      clientId,
      brokers: cluster.bootstrapServers.split(','),
      ssl: { ca: [pki.ca], servername: 'localhost', cert: who === 'node' ? pki.brokerCert : pki.clientCert, key: who === 'node' ? pki.brokerKey : pki.clientKey },
      logLevel: logLevel.NOTHING,
      retry: { retries: 8 },
    });

  /** One request over TLS with alice's certificate (or the nodes') to `port`, decoded. */
  async function requestAsAlice<Response>(port: number, api: AnyApiDescriptor, version: number, body: unknown, who: 'alice' | 'node' = 'alice'): Promise<Response> {
    const [cert, key] = who === 'alice' ? [pki.clientCert, pki.clientKey] : [pki.brokerCert, pki.brokerKey];
    const socket = connectTls({ host: '127.0.0.1', port, ca: [pki.ca], cert, key, servername: 'localhost' });
    try {
      await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
      socket.write(encodeRequestFrame(api, version, 1, body as never));
      let received = Buffer.alloc(0);
      const frame = await new Promise<Buffer>((resolve, reject) => {
        socket.on('data', (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          if (received.length >= 4 && received.length >= 4 + received.readInt32BE(0)) resolve(received.subarray(4, 4 + received.readInt32BE(0)));
        });
        socket.once('close', () => reject(new Error('closed without a response')));
      });
      const reader = new Reader(frame);
      decodeResponseHeader(reader, responseHeaderVersion(api.apiKey, version));
      return api.decodeResponse(reader, version) as Response;
    } finally {
      socket.destroy();
    }
  }

  it('a forwarded CreateAcls is authorized as the client: alice is refused on every broker, the super user is not', async () => {
    const creation = { resourceType: AclResourceType.TOPIC, resourceName: 'secured', resourcePatternType: PatternType.LITERAL, principal: ALICE, host: '*', operation: AclOperation.ALL, permissionType: AclPermissionType.ALLOW };
    for (const nodeId of cluster.nodeIds) {
      const port = cluster.node(nodeId).broker!.endpoints.find((endpoint) => endpoint.name === 'PLAINTEXT')!.port;
      const refused = await requestAsAlice<{ results: { errorCode: number }[] }>(port, CreateAclsApi, 3, { creations: [creation] });
      assert.deepEqual(refused.results.map(({ errorCode }) => errorCode), [ErrorCode.CLUSTER_AUTHORIZATION_FAILED], `through node ${nodeId}`);
      // The super user's request through the same node succeeds, forwarded or not: the controller
      // sees the client's principal, not an anonymous one.
      const allowed = await requestAsAlice<{ results: { errorCode: number }[] }>(port, CreateAclsApi, 3, { creations: [{ ...creation, resourceName: `via-${nodeId}` }] }, 'node');
      assert.deepEqual(allowed.results.map(({ errorCode }) => errorCode), [ErrorCode.NONE], `through node ${nodeId}`);
    }
    assert.ok(cluster.nodeIds.some((nodeId) => nodeId !== cluster.activeController()), 'some requests went through a broker that forwards');
    const admin = kafkaAs('node', 'authz-cluster-admin').admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'secured', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '3' }] }], waitForLeaders: true });
      await admin.createAcls({
        acl: [
          { resourceType: AclResourceType.TOPIC, resourceName: 'secured', resourcePatternType: PatternType.LITERAL, principal: ALICE, host: '*', operation: AclOperation.WRITE, permissionType: AclPermissionType.ALLOW },
          { resourceType: AclResourceType.TOPIC, resourceName: 'secured', resourcePatternType: PatternType.LITERAL, principal: ALICE, host: '*', operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW },
          { resourceType: AclResourceType.GROUP, resourceName: 'alice-', resourcePatternType: PatternType.PREFIXED, principal: ALICE, host: '*', operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW },
        ],
      });
    } finally {
      await admin.disconnect();
    }
  });

  it('alice, granted WRITE and READ, produces with acks=all to three replicas and reads back; the followers fetched as the super user', async () => {
    const kafka = kafkaAs('alice', 'authz-cluster-alice');
    // Every broker applies the ACL records before alice's requests reach it.
    const deadline = Date.now() + 10_000;
    while (cluster.nodeIds.some((nodeId) => cluster.node(nodeId).broker!.services.image.acls.size < 6)) {
      assert.ok(Date.now() < deadline, 'every broker has the six ACLs');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic: 'secured', acks: -1, messages: Array.from({ length: 12 }, (_, n) => ({ partition: n % 3, value: `v${n}` })) });
    } finally {
      await producer.disconnect();
    }
    const consumer = kafka.consumer({ groupId: 'alice-readers', sessionTimeout: 6_000, heartbeatInterval: 500 });
    await consumer.connect();
    try {
      const seen = new Set<string>();
      await consumer.subscribe({ topic: 'secured', fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${seen.size} of 12`)), 30_000);
        void consumer.run({
          eachMessage: async ({ message }) => {
            seen.add(String(message.value));
            if (seen.size === 12) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    for (let partition = 0; partition < 3; partition++) {
      const ends = cluster.nodeIds.map((nodeId) => cluster.node(nodeId).broker!.services.replicaManager.logManager.get('secured', partition)?.logEndOffset ?? -1);
      assert.ok(ends.every((end) => end === 4), `partition ${partition}: log ends ${ends.join(', ')}`);
    }
  });

  it('on a controller listener alice is answered CLUSTER_AUTHORIZATION_FAILED', async () => {
    const address = cluster.node(cluster.nodeIds[0]!).controllerAddress;
    assert.ok(address, 'the node has a controller listener');
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    const response = await requestAsAlice<{ errorCode: number }>(port, DescribeQuorumApi, 2, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
    assert.equal(response.errorCode, ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
  });
});
