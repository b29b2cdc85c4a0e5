// `conveyor storage` end to end, the real CLI from source as a child process (as
// test/support/crash-cli-entry.ts runs it): random-uuid prints a cluster id; format writes
// meta.properties into the log directory a server.properties names, refuses a formatted directory
// unless --ignore-formatted, refuses another cluster's directory, and refuses a bad configuration
// naming the key.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { temporaryDirectory } from '../integration/helpers.js';
import { type ProcessResult, runProcess } from '../support/process.js';

const cliEntry = fileURLToPath(new URL('../support/crash-cli-entry.ts', import.meta.url));

function conveyor(args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, ['--import', 'tsx', cliEntry, ...args], { timeoutMs: 30_000 });
}

async function ok(args: string[]): Promise<ProcessResult> {
  const result = await conveyor(args);
  assert.equal(result.code, 0, `conveyor ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

describe('conveyor storage', { timeout: 120_000, concurrency: 3 }, () => {
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
  let clusterId: string;
  before(async () => {
    directory = await temporaryDirectory();
    clusterId = (await ok(['storage', 'random-uuid'])).stdout.trim();
  });
  after(() => directory.remove());

  /** A server.properties for node `nodeId` with its log directory under the temporary directory. */
  async function configFile(name: string, nodeId: number, extra = ''): Promise<{ path: string; logDir: string }> {
    const logDir = join(directory.path, name, 'logs');
    const path = join(directory.path, `${name}.properties`);
    await writeFile(path, `node.id=${nodeId}\nlog.dirs=${logDir}\n${extra}`);
    return { path, logDir };
  }

  it('random-uuid prints a new 22-character cluster id', async () => {
    assert.match(clusterId, /^[A-Za-z0-9_-]{22}$/);
    const another = (await ok(['storage', 'random-uuid'])).stdout.trim();
    assert.match(another, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(another, clusterId);
  });

  it('format writes meta.properties; again only with --ignore-formatted; never for another cluster', async () => {
    const quorum = [
      'process.roles=broker,controller',
      'controller.quorum.voters=2@localhost:9093,3@localhost:9095',
      'listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093',
      'controller.listener.names=CONTROLLER',
      '',
    ].join('\n');
    const { path, logDir } = await configFile('node-2', 2, quorum);
    const formatted = await ok(['storage', 'format', '--cluster-id', clusterId, '--config', path]);
    assert.match(formatted.stdout, new RegExp(`Formatting ${logDir.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')} with cluster id ${clusterId}`));
    assert.equal(await readFile(join(logDir, 'meta.properties'), 'utf8'), `version=1\ncluster.id=${clusterId}\nnode.id=2\n`);

    const again = await conveyor(['storage', 'format', '--cluster-id', clusterId, '--config', path]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already formatted.*--ignore-formatted/);
    const ignored = await ok(['storage', 'format', '--cluster-id', clusterId, '--config', path, '--ignore-formatted']);
    assert.match(ignored.stdout, /already formatted/);

    const otherId = (await ok(['storage', 'random-uuid'])).stdout.trim();
    const otherCluster = await conveyor(['storage', 'format', '--cluster-id', otherId, '--config', path, '--ignore-formatted']);
    assert.equal(otherCluster.code, 1);
    assert.match(otherCluster.stderr, new RegExp(`belongs to cluster ${clusterId}, not ${otherId}`));
    assert.equal(await readFile(join(logDir, 'meta.properties'), 'utf8'), `version=1\ncluster.id=${clusterId}\nnode.id=2\n`, 'unchanged');
  });

  it('format refuses a bad configuration, naming the key, and a cluster id that is not one', async () => {
    const unknownKey = await configFile('unknown-key', 4, 'no.such.setting=1\n');
    const refused = await conveyor(['storage', 'format', '--cluster-id', clusterId, '--config', unknownKey.path]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /invalid configuration: no\.such\.setting/);

    const notAVoter = await configFile('not-a-voter', 5, 'controller.quorum.voters=1@localhost:9093\nlisteners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093\ncontroller.listener.names=CONTROLLER\n');
    const refusedNode = await conveyor(['storage', 'format', '--cluster-id', clusterId, '--config', notAVoter.path]);
    assert.equal(refusedNode.code, 2);
    assert.match(refusedNode.stderr, /invalid configuration: node\.id: node 5 has the controller role/);

    const good = await configFile('bad-id', 6);
    const badId = await conveyor(['storage', 'format', '--cluster-id', 'not-a-cluster-id', '--config', good.path]);
    assert.equal(badId.code, 1);
    assert.match(badId.stderr, /not a Kafka cluster id/);

    const missingOption = await conveyor(['storage', 'format', '--config', good.path]);
    assert.notEqual(missingOption.code, 0);
    assert.match(missingOption.stderr, /--cluster-id/);
  });
});
