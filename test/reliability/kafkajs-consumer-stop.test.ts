// Why the exactly-once copier recovers in a new process, not with new clients in its own: kafkajs
// 2.2.4's consumer, stopped while it rebuilds its fetchers for a changed set of nodes, makes new
// fetchers after the stop, and they loop on resolved promises for ever, so its process never runs
// anything else (the 20-minute chaos campaign of seed 2036 lost its copier that way, during a kill
// of every node). The fixture drives kafkajs's own fetch manager through that order of events in a
// child process, killed by its pid at the end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

const FIXTURE = fileURLToPath(new URL('./kafkajs-stop-during-rebuild.cjs', import.meta.url));

test('kafkajs 2.2.4: a consumer stopped during a fetcher rebuild blocks its event loop', async () => {
  const child = spawn(process.execPath, [FIXTURE], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // The fixture exits by itself after 1 s if its event loop runs; 3 s leaves room on a loaded machine.
  const ended = await Promise.race([exited.then(() => true), delay(3_000).then(() => false)]);
  if (!ended) {
    child.kill('SIGKILL');
    await exited;
  }
  const lines = output.split('\n').filter((line) => line !== '');
  assert.ok(lines.includes('stopped'), `the fixture stopped its consumer; output: ${JSON.stringify(lines)}`);
  const afterStop = lines.slice(lines.indexOf('stopped') + 1);
  assert.equal(ended, false, 'a process whose consumer is stopped this way never runs its own exit timer (if kafkajs no longer blocks here, the copier may recover in-process again)');
  assert.deepEqual(afterStop, [], 'nothing runs after the stop');
});
