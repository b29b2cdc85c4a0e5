// `conveyor acls` (Kafka's kafka-acls) run as a real process against a broker with Kafka's
// StandardAuthorizer, connecting over SASL/PLAIN as the super user through --command-config:
// adding ACLs (Kafka's "Adding ACLs for resource" and "already exists" lines), listing them (all,
// per resource, per principal, by pattern type), removing them (refused without --force when no
// terminal can answer), --producer and --consumer, and the refusals Kafka's tool makes. The broker
// enforcing what the tool created (a produce refused, then allowed, then refused again) shows the
// ACLs are the ones asked for. A wrong password, a user who is not a super user and a client
// without --command-config fail with a clear message and exit code 1.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/base/error-codes.js';
import { FetchApi } from '../../src/protocol/messages/index.js';
import { AuthorizedBroker, USERS } from '../support/authorized-broker.js';
import { cliCommand, runCli } from '../support/crash-broker-process.js';
import type { RawClient } from '../support/raw-client.js';
import { batchOf, createTopic, fetchRequest, produce } from './helpers.js';

interface Listed {
  resourceType: string;
  resourceName: string;
  patternType: string;
  principal: string;
  host: string;
  operation: string;
  permissionType: string;
}

const acl = (resourceType: string, resourceName: string, principal: string, operation: string, more: Partial<Listed> = {}): Listed => ({
  resourceType,
  resourceName,
  patternType: 'LITERAL',
  principal,
  host: '*',
  operation,
  permissionType: 'ALLOW',
  ...more,
});
const sorted = (acls: readonly Listed[]) => [...acls].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

/** Why the CLI cannot be given a terminal here (util-linux's script command is missing), or false. */
const noScript = ((): string | false => {
  try {
    execFileSync('script', ['-qec', 'true', '/dev/null'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'the script command (util-linux) is not installed, so the CLI cannot be run on a terminal';
  }
})();

/** Runs the CLI on a pseudo-terminal (script), typing `answer` once it asks (y/n). */
function onTerminal(args: string[], answer: string): Promise<{ exitCode: number | null; output: string }> {
  const command = [process.execPath, ...cliCommand(args)].map((part) => `'${part.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let answered = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit on the terminal; output: ${output}`));
    }, 30_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (!answered && output.includes('(y/n)')) {
        answered = true;
        child.stdin.write(`${answer}\n`);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ exitCode, output: output.replaceAll('\r', '') });
    });
  });
}

const jaas = (user: string, password: string) => `org.apache.kafka.common.security.plain.PlainLoginModule required \\\n    username="${user}" \\\n    password="${password}";`;

describe('conveyor acls', { timeout: 240_000 }, () => {
  let broker: AuthorizedBroker;
  let dir: string;
  let admin: RawClient;
  let bob: RawClient;
  let alice: RawClient;

  before(async () => {
    broker = await AuthorizedBroker.start();
    dir = mkdtempSync(join(tmpdir(), 'conveyor-acls-'));
    const sasl = (user: string, password: string) => `# SASL/PLAIN as ${user}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=${jaas(user, password)}\n`;
    writeFileSync(join(dir, 'admin.properties'), sasl('admin', USERS.admin));
    writeFileSync(join(dir, 'alice.properties'), sasl('alice', USERS.alice));
    writeFileSync(join(dir, 'wrong.properties'), sasl('admin', 'not-the-password'));
    writeFileSync(join(dir, 'bad.properties'), 'security.protocol=SASL_FOO\n');
    admin = await broker.raw('admin');
    bob = await broker.raw('bob');
    alice = await broker.raw('alice');
    for (const topic of ['orders', 'payments', 'orders-eu']) await createTopic(admin, topic);
  });
  after(async () => {
    await Promise.all([admin?.close(), bob?.close(), alice?.close()]);
    await broker?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const acls = (args: string[], config = 'admin') => runCli(['acls', ...args, '--bootstrap-server', broker.saslBootstrap, '--command-config', join(dir, `${config}.properties`)]);
  const ok = async (args: string[]) => {
    const result = await acls(args);
    assert.equal(result.exitCode, 0, `conveyor acls ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const listed = async (args: string[] = []): Promise<Listed[]> => JSON.parse(await ok(['--list', '--json', ...args])) as Listed[];
  const bobWrites = async (topic: string) => (await produce(bob, topic, 0, batchOf(['x']))).errorCode;
  const aliceReads = async (topic: string) => (await alice.request(FetchApi, 12, fetchRequest(topic, [{ partition: 0, fetchOffset: 0 }]))).responses[0]!.partitions[0]!.errorCode;
  const cleanUp = () => broker.revokeAll();

  it("adds ACLs with Kafka's output, tells which already exist, lists them, and the broker enforces them", async () => {
    try {
      assert.equal(await bobWrites('orders'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
      const added = await ok(['--add', '--allow-principal', 'User:bob', '--operation', 'Write', '--operation', 'Describe', '--topic', 'orders']);
      assert.equal(
        added,
        'Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`: \n' +
          ' \t(principal=User:bob, host=*, operation=WRITE, permissionType=ALLOW)\n' +
          '\t(principal=User:bob, host=*, operation=DESCRIBE, permissionType=ALLOW)\n\n',
      );
      assert.equal(await bobWrites('orders'), ErrorCode.NONE);

      const again = await ok(['--add', '--allow-principal', 'User:bob', '--operation', 'write', '--operation', 'READ', '--topic', 'orders']);
      assert.equal(
        again,
        'Acl (pattern=ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL), entry=(principal=User:bob, host=*, operation=WRITE, permissionType=ALLOW)) already exists.\n' +
          'Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`: \n' +
          ' \t(principal=User:bob, host=*, operation=READ, permissionType=ALLOW)\n\n',
      );
      assert.equal(
        await ok(['--list', '--topic', 'orders']),
        'Current ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`:\n' +
          '\t(principal=User:bob, host=*, operation=DESCRIBE, permissionType=ALLOW)\n' +
          '\t(principal=User:bob, host=*, operation=READ, permissionType=ALLOW)\n' +
          '\t(principal=User:bob, host=*, operation=WRITE, permissionType=ALLOW)\n\n',
      );
      // A deny with its own host, and the whole list as JSON.
      await ok(['--add', '--deny-principal', 'User:alice', '--deny-host', '10.0.0.1', '--operation', 'All', '--topic', 'orders']);
      assert.deepEqual(sorted(await listed()), sorted([
        acl('TOPIC', 'orders', 'User:bob', 'WRITE'),
        acl('TOPIC', 'orders', 'User:bob', 'DESCRIBE'),
        acl('TOPIC', 'orders', 'User:bob', 'READ'),
        acl('TOPIC', 'orders', 'User:alice', 'ALL', { host: '10.0.0.1', permissionType: 'DENY' }),
      ]));
    } finally {
      await cleanUp();
    }
  });

  it('removes only with --force when no terminal can answer: the entries named, all of a resource, and says when nothing matched', async () => {
    try {
      await ok(['--add', '--allow-principal', 'User:bob', '--operation', 'Write', '--operation', 'Describe', '--topic', 'orders']);
      const unconfirmed = await acls(['--remove', '--allow-principal', 'User:bob', '--operation', 'Write', '--topic', 'orders']);
      assert.equal(unconfirmed.exitCode, 1);
      assert.match(unconfirmed.stderr, /standard input is not a terminal: add --force/);
      assert.equal((await listed(['--topic', 'orders'])).length, 2, 'nothing was removed');
      assert.equal(await bobWrites('orders'), ErrorCode.NONE);

      const removed = await ok(['--remove', '--force', '--allow-principal', 'User:bob', '--operation', 'Write', '--topic', 'orders']);
      assert.equal(removed, 'Removed ACL (pattern=ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL), entry=(principal=User:bob, host=*, operation=WRITE, permissionType=ALLOW))\n');
      assert.deepEqual(await listed(['--topic', 'orders']), [acl('TOPIC', 'orders', 'User:bob', 'DESCRIBE')]);
      assert.equal(await bobWrites('orders'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);

      await ok(['--remove', '--force', '--topic', 'orders']);
      assert.deepEqual(await listed(), []);
      assert.equal(await ok(['--remove', '--force', '--topic', 'orders']), 'No ACLs matched resource filter `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`\n');
    } finally {
      await cleanUp();
    }
  });

  it('on a terminal --remove asks as Kafka does: n keeps the ACLs, y removes them', { skip: noScript }, async () => {
    try {
      await ok(['--add', '--allow-principal', 'User:bob', '--operation', 'Write', '--topic', 'orders']);
      const args = ['acls', '--remove', '--topic', 'orders', '--bootstrap-server', broker.saslBootstrap, '--command-config', join(dir, 'admin.properties')];
      const question = 'Are you sure you want to delete all ACLs for resource filter `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`? (y/n)';
      const declined = await onTerminal(args, 'n');
      assert.equal(declined.exitCode, 0, declined.output);
      assert.ok(declined.output.includes(question), declined.output);
      assert.ok(!declined.output.includes('Removed'), declined.output);
      assert.equal((await listed()).length, 1);
      const confirmed = await onTerminal(args, 'y');
      assert.equal(confirmed.exitCode, 0, confirmed.output);
      assert.ok(confirmed.output.includes(question), confirmed.output);
      assert.match(confirmed.output, /Removed ACL \(pattern=ResourcePattern\(resourceType=TOPIC, name=orders, patternType=LITERAL\), entry=\(principal=User:bob, host=\*, operation=WRITE, permissionType=ALLOW\)\)/);
      assert.deepEqual(await listed(), []);
    } finally {
      await cleanUp();
    }
  });

  it('--producer and --consumer grant what a producer and a consumer need; --principal lists one principal\'s', async () => {
    try {
      await ok(['--add', '--producer', '--idempotent', '--allow-principal', 'User:bob', '--topic', 'payments', '--transactional-id', 'pay-tx']);
      await ok(['--add', '--consumer', '--allow-principal', 'User:alice', '--topic', 'payments', '--group', 'billing']);
      const bobs = [
        acl('TOPIC', 'payments', 'User:bob', 'WRITE'),
        acl('TOPIC', 'payments', 'User:bob', 'DESCRIBE'),
        acl('TOPIC', 'payments', 'User:bob', 'CREATE'),
        acl('TRANSACTIONAL_ID', 'pay-tx', 'User:bob', 'WRITE'),
        acl('TRANSACTIONAL_ID', 'pay-tx', 'User:bob', 'DESCRIBE'),
        acl('CLUSTER', 'kafka-cluster', 'User:bob', 'IDEMPOTENT_WRITE'),
      ];
      const alices = [acl('TOPIC', 'payments', 'User:alice', 'READ'), acl('TOPIC', 'payments', 'User:alice', 'DESCRIBE'), acl('GROUP', 'billing', 'User:alice', 'READ')];
      assert.deepEqual(sorted(await listed()), sorted([...bobs, ...alices]));
      assert.equal(await bobWrites('payments'), ErrorCode.NONE);
      assert.equal(await aliceReads('payments'), ErrorCode.NONE);
      assert.equal(await aliceReads('orders'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);

      assert.deepEqual(sorted(await listed(['--principal', 'User:alice'])), sorted(alices));
      const text = await ok(['--list', '--principal', 'User:alice']);
      assert.ok(text.startsWith('ACLs for principal `User:alice`\nCurrent ACLs for resource `ResourcePattern(resourceType=TOPIC, name=payments, patternType=LITERAL)`:\n'), text);
      assert.ok(!text.includes('User:bob'), text);

      await ok(['--remove', '--force', '--producer', '--idempotent', '--allow-principal', 'User:bob', '--topic', 'payments', '--transactional-id', 'pay-tx']);
      assert.deepEqual(sorted(await listed()), sorted(alices));
      assert.equal(await bobWrites('payments'), ErrorCode.TOPIC_AUTHORIZATION_FAILED);
    } finally {
      await cleanUp();
    }
  });

  it('pattern types: prefixed to add; literal (the default), any and match to list and remove', async () => {
    try {
      await ok(['--add', '--resource-pattern-type', 'prefixed', '--allow-principal', 'User:bob', '--operation', 'Write', '--topic', 'orders']);
      await ok(['--add', '--deny-principal', 'User:bob', '--operation', 'Write', '--topic', 'orders-eu']);
      assert.equal(await bobWrites('orders'), ErrorCode.NONE);
      assert.equal(await bobWrites('orders-eu'), ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'DENY beats the prefixed ALLOW');
      const prefixed = acl('TOPIC', 'orders', 'User:bob', 'WRITE', { patternType: 'PREFIXED' });
      const denied = acl('TOPIC', 'orders-eu', 'User:bob', 'WRITE', { permissionType: 'DENY' });
      assert.deepEqual(await listed(['--topic', 'orders']), [], 'literal by default: no literal ACL on orders');
      assert.deepEqual(await listed(['--topic', 'orders', '--resource-pattern-type', 'any']), [prefixed]);
      assert.deepEqual(sorted(await listed(['--topic', 'orders-eu', '--resource-pattern-type', 'match'])), sorted([prefixed, denied]));

      const refused = await acls(['--add', '--resource-pattern-type', 'match', '--allow-principal', 'User:bob', '--topic', 'x']);
      assert.equal(refused.exitCode, 1);
      assert.match(refused.stderr, /A '--resource-pattern-type' value of 'MATCH' is not valid when adding acls/);

      await ok(['--remove', '--force', '--topic', 'orders-eu', '--resource-pattern-type', 'match']);
      assert.deepEqual(await listed(), []);
    } finally {
      await cleanUp();
    }
  });

  it("refuses what Kafka's tool refuses, naming the problem, and changes nothing", async () => {
    await ok(['--add', '--allow-principal', 'User:bob', '--operation', 'Read', '--topic', 'orders']);
    try {
      const cases: [string[], RegExp][] = [
        [['--topic', 'orders'], /Command must include exactly one action: --list, --add, --remove/],
        [['--add', '--list', '--topic', 'orders'], /exactly one action/],
        [['--list', '--allow-principal', 'User:bob'], /--list can't be used with option --allow-principal/],
        [['--add', '--producer', '--operation', 'Read', '--allow-principal', 'User:bob', '--topic', 'orders'], /--producer can't be used with option --operation/],
        [['--add', '--allow-principal', 'User:bob', '--operation', 'Frobnicate', '--topic', 'orders'], /--operation: unknown operation 'Frobnicate'; valid operations are All, Read, Write/],
        [['--add', '--allow-principal', 'User:bob', '--operation', 'Write', '--group', 'billing'], /ResourceType GROUP only supports operations READ, DESCRIBE, DELETE, DESCRIBE_CONFIGS, ALTER_CONFIGS, ALL \(not WRITE\)/],
        [['--add', '--operation', 'Read', '--topic', 'orders'], /You must specify one of: --allow-principal, --deny-principal when trying to add ACLs/],
        [['--add', '--allow-principal', 'bob', '--topic', 'orders'], /expected a string in format principalType:principalName but got 'bob'/],
        [['--add', '--allow-principal', 'User:bob'], /You must provide at least one resource/],
        [['--list', '--resource-pattern-type', 'glob'], /Unknown resource-pattern-type: glob/],
        [['--add', '--consumer', '--allow-principal', 'User:bob', '--topic', 'orders'], /With --consumer you must specify a --topic and a --group/],
        [['--add', '--idempotent', '--allow-principal', 'User:bob', '--topic', 'orders'], /--idempotent option is only available if --producer is set/],
        [['--add', '--principal', 'User:bob', '--topic', 'orders'], /--principal option is only available if --list is set/],
      ];
      const results = await Promise.all(cases.map(([args]) => acls(args)));
      results.forEach((result, index) => {
        assert.equal(result.exitCode, 1, `${cases[index]![0].join(' ')}: exit code`);
        assert.match(result.stderr, cases[index]![1]);
      });
      assert.deepEqual(await listed(), [acl('TOPIC', 'orders', 'User:bob', 'READ')]);
    } finally {
      await cleanUp();
    }
  });

  it('a wrong password, a user who is not a super user and a client without --command-config get a clear error and exit code 1', async () => {
    const wrong = await acls(['--list'], 'wrong');
    assert.equal(wrong.exitCode, 1);
    assert.match(wrong.stderr, /^conveyor: SASL authentication as 'admin' with PLAIN at 127\.0\.0\.1:\d+ failed: Authentication failed: Invalid username or password\n$/);
    assert.ok(!wrong.stderr.includes('not-the-password'));

    const notSuper = await acls(['--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'orders'], 'alice');
    assert.equal(notSuper.exitCode, 1);
    assert.match(notSuper.stderr, /CLUSTER_AUTHORIZATION_FAILED/);
    assert.deepEqual(await listed(), []);

    const plain = await runCli(['acls', '--list', '--bootstrap-server', broker.saslBootstrap]);
    assert.equal(plain.exitCode, 1);
    assert.match(plain.stderr, /closed.*give the tool --command-config/);

    const bad = await acls(['--list'], 'bad');
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /invalid configuration: security\.protocol: 'SASL_FOO' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL \(in .*bad\.properties\)/);
  });
});
