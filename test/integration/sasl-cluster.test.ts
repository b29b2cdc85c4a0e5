// SASL between nodes: a three-node cluster whose client, inter-broker and controller listeners are
// all SASL_SSL. The nodes log in to each other with PLAIN (sasl.mechanism.inter.broker.protocol,
// sasl.mechanism.controller.protocol and the JAAS entry's username and password), so Raft, broker
// registration, forwarding and replication run over authenticated TLS; kafkajs as alice (PLAIN)
// creates a topic and produces with acks=all to three replicas. Bad inter-node SASL settings are
// refused at start, naming the key.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Kafka, logLevel } from 'kafkajs';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { startBroker } from '../../src/node/start-broker.js';
import { makePki, noOpenssl, type Pki } from '../support/test-pki.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret" user_alice="alice-secret";';

describe('SASL_SSL between the nodes of a cluster', { timeout: 150_000, skip: noOpenssl || undefined }, () => {
  let pki: Pki;
  let cluster: RunningCluster;
  before(async () => {
    pki = makePki();
    cluster = await startCluster({
      brokers: 3,
      storage: 'memory',
      config: {
        'listener.security.protocol.map': 'PLAINTEXT:SASL_SSL,CONTROLLER:SASL_SSL',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerPemFile,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': pki.caFile,
        'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-512',
        'sasl.mechanism.inter.broker.protocol': 'PLAIN',
        'sasl.mechanism.controller.protocol': 'PLAIN',
        'sasl.jaas.config': JAAS,
        'group.initial.rebalance.delay.ms': '0',
      },
    });
  });
  after(async () => {
    await cluster?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const client = (sasl: { mechanism: 'plain'; username: string; password: string }, clientId: string) =>
    new Kafka({ clientId, brokers: cluster.bootstrapServers.split(','), ssl: { ca: [pki.ca], servername: 'localhost' }, sasl, logLevel: logLevel.NOTHING, retry: { retries: 8 } });

  it('replicates acks=all writes over SASL_SSL; every node-to-node connection is authenticated as the broker user', async () => {
    const kafka = client({ mechanism: 'plain', username: 'alice', password: 'alice-secret' }, 'sasl-cluster');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic: 'sasl-replicated', numPartitions: 3, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '3' }] }], waitForLeaders: true });
      assert.equal((await admin.describeCluster()).brokers.length, 3);
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    try {
      await producer.send({ topic: 'sasl-replicated', acks: -1, messages: Array.from({ length: 30 }, (_, n) => ({ partition: n % 3, value: `v${n}` })) });
    } finally {
      await producer.disconnect();
    }
    for (let partition = 0; partition < 3; partition++) {
      const ends = cluster.nodeIds.map((nodeId) => cluster.node(nodeId).broker!.services.replicaManager.logManager.get('sasl-replicated', partition)?.logEndOffset ?? -1);
      assert.ok(ends[0]! >= 10 && ends.every((end) => end === ends[0]), `partition ${partition}: log ends ${ends.join(', ')}`);
    }
    // The nodes' own connections (replica fetchers, Raft, the controller channel) are User:broker.
    const principals = new Set(cluster.nodeIds.flatMap((nodeId) => cluster.node(nodeId).broker!.connectionStats().map((connection) => connection.principal)));
    assert.ok(principals.has('User:broker'), `principals seen: ${[...principals].join(', ')}`);
    assert.ok(![...principals].includes('User:ANONYMOUS'), 'no connection is unauthenticated');
  });

  it('refuses bad inter-node SASL settings at start, naming the key', async () => {
    const base = {
      'node.id': '1',
      'process.roles': 'broker,controller',
      'controller.quorum.voters': '1@127.0.0.1:19093',
      'controller.listener.names': 'CONTROLLER',
      listeners: 'SASL_PLAINTEXT://127.0.0.1:0,CONTROLLER://127.0.0.1:0',
      'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT',
      'inter.broker.listener.name': 'SASL_PLAINTEXT',
      'sasl.enabled.mechanisms': 'PLAIN,SCRAM-SHA-256',
      'sasl.jaas.config': JAAS,
    };
    const refused = async (config: Record<string, string>, pattern: RegExp) => {
      await assert.rejects(startBroker({ storage: 'memory', config: { ...base, ...config } }), (error: Error) => {
        assert.match(error.message, pattern);
        return true;
      });
    };
    // Kafka's default mechanism is GSSAPI, which nodes cannot log in with here.
    await refused({}, /sasl\.mechanism\.(controller|inter\.broker)\.protocol.*not GSSAPI/);
    await refused({ 'sasl.mechanism.controller.protocol': 'SCRAM-SHA-256', 'sasl.mechanism.inter.broker.protocol': 'PLAIN' }, /sasl\.mechanism\.controller\.protocol.*SCRAM-SHA-256 cannot log in to the controller listener/);
    await refused({ 'sasl.mechanism.controller.protocol': 'PLAIN', 'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512' }, /sasl\.mechanism\.inter\.broker\.protocol.*SCRAM-SHA-512 is not among listener SASL_PLAINTEXT's SASL mechanisms/);
    await refused({ 'sasl.mechanism.controller.protocol': 'PLAIN', 'sasl.mechanism.inter.broker.protocol': 'PLAIN', 'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_broker="x";' }, /sasl\.jaas\.config.*username="\.\.\." and password="\.\.\."/);
  });
});
