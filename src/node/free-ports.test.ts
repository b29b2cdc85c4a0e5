import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePorts } from './start-cluster.js';

test('freePorts gives distinct ports that can be bound, below the ephemeral range where Linux says where it starts', async () => {
  const ports = await freePorts(40);
  assert.equal(ports.length, 40);
  assert.equal(new Set(ports).size, 40, 'no port twice');
  let ephemeralStart: number | undefined;
  try {
    ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    // not Linux: any free port will do
  }
  if (ephemeralStart !== undefined && ephemeralStart > 21_000) {
    for (const port of ports) assert.ok(port >= 20_000 && port < ephemeralStart, `port ${port} outside [20000, ${ephemeralStart})`);
  }
  // Released: each can be listened on again.
  for (const port of ports) {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  }
});
