// Directory ids in the quorum tooling (KIP-853), the CLI from source as a child process:
// `storage format --standalone` and `--initial-controllers` record this node's voter with the
// directory.id of its metadata log directory (given in --initial-controllers, it becomes that
// directory's id, as Kafka's Formatter does), and `cluster add-controller --command-config` reads
// the controller's node id, listener and directory id from its properties file and meta.properties,
// so the voter set names the new voter's real directory.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseProperties } from '../../src/base/config-def.js';
import { controllerIdentity, removeController } from '../../src/cli/controller-commands.js';
import { type RunningCluster, startCluster } from '../../src/node/start-cluster.js';
import { decodeSnapshotFile } from '../../src/quorum/snapshot-file.js';
import { ZERO_UUID } from '../../src/quorum/voter-set.js';
import { temporaryDirectory, waitFor } from '../integration/helpers.js';
import { type ProcessResult, runProcess } from '../support/process.js';

const cliEntry = fileURLToPath(new URL('../support/crash-cli-entry.ts', import.meta.url));
const toolsEntry = fileURLToPath(new URL('./tools-entry.ts', import.meta.url));

async function ok(entry: string, args: string[]): Promise<ProcessResult> {
  const result = await runProcess(process.execPath, ['--import', 'tsx', entry, ...args], { timeoutMs: 40_000 });
  assert.equal(result.code, 0, `conveyor ${args.join(' ')} failed:\n${result.stderr}\n${result.stdout}`);
  return result;
}

async function directoryIdOf(logDir: string): Promise<string> {
  return parseProperties(await readFile(join(logDir, 'meta.properties'), 'utf8')).get('directory.id')!;
}

async function bootstrapVoters(logDir: string) {
  const bytes = await readFile(join(logDir, '__cluster_metadata-0', '00000000000000000000-0000000000.checkpoint'));
  return decodeSnapshotFile(bytes).voters!;
}

describe('directory ids in the quorum tools (KIP-853)', { timeout: 180_000 }, () => {
  let directory: Awaited<ReturnType<typeof temporaryDirectory>>;
  let cluster: RunningCluster | undefined;
  before(async () => {
    directory = await temporaryDirectory();
  });
  after(async () => {
    await cluster?.close();
    await directory.remove();
  });

  async function configFile(name: string, nodeId: number, extra: string): Promise<{ path: string; logDir: string }> {
    const logDir = join(directory.path, name, 'logs');
    const path = join(directory.path, `${name}.properties`);
    await writeFile(path, `node.id=${nodeId}\nlog.dirs=${logDir}\n${extra}`);
    return { path, logDir };
  }

  it('storage format --standalone / --initial-controllers name this node by its metadata directory id', async () => {
    const clusterId = 'MkU3OEVBNTcwNTJENDM2Qg';
    const dynamic = (port: number) =>
      ['process.roles=broker,controller', `listeners=PLAINTEXT://localhost:${port - 1},CONTROLLER://localhost:${port}`, 'controller.listener.names=CONTROLLER', 'controller.quorum.bootstrap.servers=localhost:9193', ''].join('\n');

    const standalone = await configFile('standalone', 1, dynamic(9193));
    await ok(cliEntry, ['storage', 'format', '--cluster-id', clusterId, '--config', standalone.path, '--standalone']);
    const ownId = await directoryIdOf(standalone.logDir);
    assert.notEqual(ownId, ZERO_UUID);
    assert.deepEqual((await bootstrapVoters(standalone.logDir)).map((voter) => [voter.id, voter.directoryId]), [[1, ownId]]);

    // A directory id given for this node becomes its metadata directory's; the others are kept as given.
    const given = 'P2mNCTldQtqmQnDo3ps9oQ';
    const other = 'XbHAxAJ0QoOXjmg5O1n8Ug';
    const initial = await configFile('initial', 2, dynamic(9195));
    await ok(cliEntry, ['storage', 'format', '--cluster-id', clusterId, '--config', initial.path, '--initial-controllers', `1@localhost:9193:${other},2@localhost:9195:${given}`]);
    assert.equal(await directoryIdOf(initial.logDir), given);
    assert.deepEqual((await bootstrapVoters(initial.logDir)).map((voter) => [voter.id, voter.directoryId]), [[1, other], [2, given]]);

    // Without one for this node, its new directory id is recorded.
    const unnamed = await configFile('unnamed', 3, dynamic(9197));
    await ok(cliEntry, ['storage', 'format', '--cluster-id', clusterId, '--config', unnamed.path, '--initial-controllers', '1@localhost:9193,3@localhost:9197']);
    const unnamedId = await directoryIdOf(unnamed.logDir);
    assert.deepEqual((await bootstrapVoters(unnamed.logDir)).map((voter) => [voter.id, voter.directoryId]), [[1, ZERO_UUID], [3, unnamedId]]);
  });

  it('add-controller --command-config sends the controller\'s directory id from its meta.properties (the zero uuid without one)', async () => {
    cluster = await startCluster({ brokers: 3 });
    const running = cluster;
    const controllers = () => running.nodeIds.map((id) => running.node(id).controllerAddress!).join(',');
    const raftOf = (id: number) => running.node(id).broker!.services.quorum.raft;
    const leader = running.activeController();
    const follower = running.nodeIds.find((id) => id !== leader)!;
    const realId = raftOf(follower).directoryId;
    assert.notEqual(realId, ZERO_UUID, 'the node runs without a directory id');

    // The controller's properties file, its log directory's meta.properties holding its directory id.
    const logDir = join(directory.path, 'controller', 'logs');
    await mkdir(logDir, { recursive: true });
    const address = running.node(follower).controllerAddress!;
    const configPath = join(directory.path, 'controller.properties');
    await writeFile(configPath, [`node.id=${follower}`, `log.dirs=${logDir}`, 'process.roles=broker,controller', `listeners=CONTROLLER://${address}`, 'controller.listener.names=CONTROLLER', ''].join('\n'));
    assert.deepEqual(await controllerIdentity(configPath), { id: follower, directoryId: ZERO_UUID, endpoint: { name: 'CONTROLLER', host: address.split(':')[0], port: Number(address.split(':')[1]) } });
    await writeFile(join(logDir, 'meta.properties'), `version=1\ncluster.id=x\nnode.id=${follower}\ndirectory.id=${realId}\n`);
    assert.equal((await controllerIdentity(configPath)).directoryId, realId);

    await removeController(controllers().split(','), follower, realId);
    await waitFor(() => (raftOf(follower).isVoter ? undefined : true), 'the follower to be removed');
    const added = await ok(toolsEntry, ['cluster', 'add-controller', '--bootstrap-controller', controllers(), '--command-config', configPath]);
    assert.match(added.stdout, new RegExp(`Added controller ${follower} \\(directory ${realId}\\)`));
    await waitFor(() => (running.nodeIds.every((id) => raftOf(id).voterSet.some((voter) => voter.id === follower && voter.directoryId === realId)) ? true : undefined), 'every node to record the new voter with its directory id');
    assert.equal(raftOf(follower).isVoter, true, 'the node is not the voter its key names');
  });
});
