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
    const written = await readFile(join(logDir, 'meta.properties'), 'utf8');
    assert.match(written, new RegExp(`^version=1\ncluster.id=${clusterId}\nnode.id=2\ndirectory.id=[A-Za-z0-9_-]{22}\n$`), 'Kafka 3.7+ meta.properties, with the directory id');

    const again = await conveyor(['storage', 'format', '--cluster-id', clusterId, '--config', path]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already formatted.*--ignore-formatted/);
    const ignored = await ok(['storage', 'format', '--cluster-id', clusterId, '--config', path, '--ignore-formatted']);
    assert.match(ignored.stdout, /already formatted/);

    const otherId = (await ok(['storage', 'random-uuid'])).stdout.trim();
    const otherCluster = await conveyor(['storage', 'format', '--cluster-id', otherId, '--config', path, '--ignore-formatted']);
    assert.equal(otherCluster.code, 1);
    assert.match(otherCluster.stderr, new RegExp(`belongs to cluster ${clusterId}, not ${otherId}`));
    assert.equal(await readFile(join(logDir, 'meta.properties'), 'utf8'), written, 'unchanged');
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

  it('a dynamic quorum\'s controller (bootstrap servers, KIP-853): --standalone or --initial-controllers write the first voters, --no-initial-controllers none, and one of them is required', async () => {
    const dynamic = (port: number) =>
      ['process.roles=broker,controller', `listeners=PLAINTEXT://localhost:${port - 1},CONTROLLER://localhost:${port}`, 'controller.listener.names=CONTROLLER', 'controller.quorum.bootstrap.servers=localhost:9193', ''].join('\n');
    const checkpoint = (logDir: string) => join(logDir, '__cluster_metadata-0', '00000000000000000000-0000000000.checkpoint');
    const exists = (path: string) => readFile(path).then(() => true, () => false);

    const standalone = await configFile('dynamic-1', 1, dynamic(9193));
    await ok(['storage', 'format', '--cluster-id', clusterId, '--config', standalone.path, '--standalone']);
    assert.ok(await exists(checkpoint(standalone.logDir)), 'no bootstrap checkpoint after --standalone');

    const initial = await configFile('dynamic-2', 2, dynamic(9195));
    await ok(['storage', 'format', '--cluster-id', clusterId, '--config', initial.path, '--initial-controllers', '1@localhost:9193,2@localhost:9195']);
    assert.ok(await exists(checkpoint(initial.logDir)), 'no bootstrap checkpoint after --initial-controllers');

    const joining = await configFile('dynamic-3', 3, dynamic(9197));
    await ok(['storage', 'format', '--cluster-id', clusterId, '--config', joining.path, '--no-initial-controllers']);
    assert.equal(await exists(checkpoint(joining.logDir)), false);

    const undecided = await configFile('dynamic-4', 4, dynamic(9199));
    const refused = await conveyor(['storage', 'format', '--cluster-id', clusterId, '--config', undecided.path]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /exactly one of --standalone, --initial-controllers or --no-initial-controllers/);
    const notNamed = await conveyor(['storage', 'format', '--cluster-id', clusterId, '--config', undecided.path, '--initial-controllers', '1@localhost:9193']);
    assert.match(notNamed.stderr, /does not name this node \(4\)/);
    const staticQuorum = await configFile('static-5', 5, ['process.roles=broker,controller', 'controller.quorum.voters=5@localhost:9201', 'listeners=PLAINTEXT://localhost:9200,CONTROLLER://localhost:9201', 'controller.listener.names=CONTROLLER', ''].join('\n'));
    const wrongKind = await conveyor(['storage', 'format', '--cluster-id', clusterId, '--config', staticQuorum.path, '--standalone']);
    assert.notEqual(wrongKind.code, 0);
    assert.match(wrongKind.stderr, /for a controller with controller.quorum.bootstrap.servers/);
  });
});
