// A Connect worker against a cluster that takes only authenticated, encrypted clients: Kafka's
// client keys in the worker's own configuration (security.protocol=SASL_SSL, sasl.mechanism,
// sasl.jaas.config, ssl.truststore.*) secure every connection it makes, its internal topics, its
// group and its tasks' producers and consumers. The broker's authorizer lets only that user in, so a
// connection that skipped SASL or TLS could not have done the work. A wrong password stops the
// worker at start with the broker's refusal.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningConnect, startConnect } from '../../../src/connect/runtime/start-connect.js';
import { type RunningBroker, startBroker } from '../../../src/node/start-broker.js';
import { makePki, noOpenssl, type Pki } from '../../support/test-pki.js';
import { temporaryDirectory, uniqueTopic, waitFor } from '../helpers.js';
import { distributedWorkerConfig, whenLed } from './worker-processes.js';

const plain = (user: string, password: string) => `org.apache.kafka.common.security.plain.PlainLoginModule required username="${user}" password="${password}";`;

describe('Connect against a SASL_SSL cluster', { skip: noOpenssl }, () => {
  let pki: Pki;
  let broker: RunningBroker;
  let dir: Awaited<ReturnType<typeof temporaryDirectory>>;
  let worker: RunningConnect | undefined;
  let bootstrap = '';
  before(async () => {
    pki = makePki();
    dir = await temporaryDirectory();
    broker = await startBroker({
      storage: 'memory',
      config: {
        listeners: 'SASL_SSL://127.0.0.1:0',
        'sasl.enabled.mechanisms': 'PLAIN',
        'sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_connect="connect-secret";',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': pki.brokerPemFile,
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:connect',
        'allow.everyone.if.no.acl.found': 'false',
        'group.initial.rebalance.delay.ms': '0',
      },
    });
    bootstrap = broker.bootstrapServers;
  });
  after(async () => {
    await worker?.close().catch(() => undefined);
    await broker?.close();
    await dir?.remove();
  });

  const secured = (password: string): Record<string, string> => ({
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'PLAIN',
    'sasl.jaas.config': plain('connect', password),
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': pki.caFile,
  });

  it('copies a file through the cluster with every connection authenticated and encrypted', async () => {
    const group = uniqueTopic('connect-secured');
    worker = await startConnect({ mode: 'distributed', worker: distributedWorkerConfig(bootstrap, group, 6_000, { ...secured('connect-secret'), 'offset.flush.interval.ms': '300' }) });
    const topic = uniqueTopic('secured-lines');
    const input = join(dir.path, 'in.txt');
    const output = join(dir.path, 'out.txt');
    const lines = Array.from({ length: 200 }, (_, index) => `line ${index}\n`).join('');
    await writeFile(input, lines);
    await whenLed(() => worker!.herder.putConnectorConfig('source', { 'connector.class': 'FileStreamSource', file: input, topic }, false), 'the worker to accept the source');
    await whenLed(() => worker!.herder.putConnectorConfig('sink', { 'connector.class': 'FileStreamSink', file: output, topics: topic }, false), 'the worker to accept the sink');
    await waitFor(async () => (await readFile(output, 'utf8').catch(() => '')) === lines, 'the sink to write every line', 30_000);
  });

  it('refuses to start with a wrong password, saying why', async () => {
    await assert.rejects(
      startConnect({ mode: 'distributed', worker: distributedWorkerConfig(bootstrap, uniqueTopic('connect-wrong'), 6_000, secured('guess')) }),
      /SASL authentication as 'connect' with PLAIN .* failed/,
    );
  });

  it('refuses a security setting it cannot honour, naming the key', async () => {
    await assert.rejects(
      startConnect({ mode: 'distributed', worker: distributedWorkerConfig(bootstrap, uniqueTopic('connect-bad'), 6_000, { ...secured('connect-secret'), 'security.protocol': 'SASL_FOO' }) }),
      /security\.protocol: 'SASL_FOO' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL \(in the worker config\)/,
    );
  });
});
