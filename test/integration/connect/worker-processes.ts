// Connect workers for the distributed tests: `conveyor connect distributed` processes from source
// (test/support/crash-cli-entry.ts through tsx), the worker properties every test's group shares,
// the REST calls and the create-with-retry that a cluster still electing its leader needs.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AdminClient, OffsetSpec } from '../../../src/client/admin-client.js';
import type { ClusterClient } from '../../../src/client/cluster-client.js';
import { Consumer } from '../../../src/client/consumer.js';
import { waitFor } from '../helpers.js';

const cliEntry = fileURLToPath(new URL('../../support/crash-cli-entry.ts', import.meta.url));

export interface WorkerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  readonly workerId: string;
  stderr: string;
}

export interface Status {
  connector: { state: string; worker_id: string; trace?: string };
  tasks: { id: number; state: string; worker_id: string; trace?: string }[];
}

/** Starts a worker process and waits for the line that names its id and REST URL. */
export async function startWorker(propertiesFile: string): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', cliEntry, 'connect', 'distributed', propertiesFile, '--log-level', 'info'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const worker = { child, url: '', workerId: '', stderr: '' };
  child.stderr!.on('data', (chunk: Buffer) => {
    worker.stderr += chunk.toString('utf8');
  });
  const match = await waitFor(() => /Connect worker (\S+) \(distributed\) in group \S+; REST API at (\S+)\./.exec(worker.stderr) ?? (child.exitCode !== null ? Promise.reject(new Error(`worker exited: ${worker.stderr}`)) : undefined), 'a worker to start', 30_000);
  return Object.assign(worker, { workerId: match[1]!, url: match[2]! });
}

/** Worker config of a group on one broker: internal topics of one replica, short timeouts. */
export function distributedWorkerConfig(bootstrapServers: string, group: string, sessionTimeoutMs: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'bootstrap.servers': bootstrapServers,
    'group.id': group,
    'config.storage.topic': `${group}-configs`,
    'offset.storage.topic': `${group}-offsets`,
    'status.storage.topic': `${group}-status`,
    'config.storage.replication.factor': '1',
    'offset.storage.replication.factor': '1',
    'status.storage.replication.factor': '1',
    'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'value.converter': 'org.apache.kafka.connect.storage.StringConverter',
    'offset.flush.interval.ms': '1000',
    'session.timeout.ms': String(sessionTimeoutMs),
    'heartbeat.interval.ms': '1000',
    // Lost work moves as soon as the group notices (Kafka's default holds it for 5 minutes).
    'scheduled.rebalance.max.delay.ms': '0',
    // The sink tasks' consumer group, too, drops a killed worker's member after this (Kafka's default: 45 s).
    'consumer.session.timeout.ms': String(sessionTimeoutMs),
    'consumer.heartbeat.interval.ms': '1000',
    listeners: 'http://127.0.0.1:0',
    ...extra,
  };
}

/** The same, as a worker.properties file's text. */
export function distributedWorkerProperties(bootstrapServers: string, group: string, sessionTimeoutMs: number, extra: Record<string, string> = {}): string {
  return `${Object.entries(distributedWorkerConfig(bootstrapServers, group, sessionTimeoutMs, extra)).map(([key, value]) => `${key}=${value}`).join('\n')}\n`;
}

export async function rest<T>(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T };
}

/** POST /connectors through `worker`, retried while the group has no leader yet (409). */
export async function createConnector(worker: WorkerProcess, body: unknown): Promise<void> {
  const answer = await waitFor(async () => {
    const result = await rest<{ message?: string }>(worker.url, 'POST', '/connectors', body);
    return result.status === 409 && /rebalance|leader/.test(result.body?.message ?? '') ? false : result;
  }, 'the cluster to accept a connector', 30_000);
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
}

/** Waits for every given worker process to exit after SIGTERM, and checks each stopped cleanly. */
export async function stopWorkers(workers: readonly WorkerProcess[]): Promise<void> {
  for (const worker of workers) worker.child.kill('SIGTERM');
  await Promise.all(workers.map((worker) => new Promise((resolve) => (worker.child.exitCode !== null ? resolve(undefined) : worker.child.once('exit', resolve)))));
  for (const worker of workers) assert.equal(worker.child.exitCode, 0, `a clean stop:\n${worker.stderr.slice(-2000)}`);
}

/**
 * Every committed record of a Connect config topic (read_committed, to its last stable offset), as
 * key and parsed JSON value. Its transaction markers take offsets no record has, so the end is
 * found by the reader's position, not by counting records.
 */
export async function committedConfigRecords(cluster: ClusterClient, topic: string): Promise<{ key: string; value: unknown }[]> {
  const admin = new AdminClient(cluster);
  const info = await admin.describeTopic(topic);
  const end = (await admin.listOffsets(info, OffsetSpec.latest, true)).get(0) ?? 0;
  const consumer = new Consumer(cluster, info, new Map([[0, 0]]), true);
  const records: { key: string; value: unknown }[] = [];
  await waitFor(async () => {
    for (const record of await consumer.poll(100)) records.push({ key: record.key?.toString('utf8') ?? '', value: record.value === null ? null : JSON.parse(record.value.toString('utf8')) });
    return (consumer.positions.get(0) ?? 0) >= end;
  }, `${topic} to be read to its last stable offset ${end}`, 15_000);
  return records;
}

/** Retries `action` while the group has no leader yet (409 naming a rebalance or the leader). */
export async function whenLed<T>(action: () => Promise<T>, what: string): Promise<T> {
  let last = '';
  const done = Symbol('done');
  const result = await waitFor(async () => {
    try {
      return { [done]: await action() };
    } catch (error) {
      if ((error as { status?: number }).status === 409 && /leader|rebalance/.test((error as Error).message)) {
        last = (error as Error).message;
        return false;
      }
      throw error;
    }
  }, what, 20_000).catch((error: Error) => {
    throw new Error(`${error.message} (last refusal: ${last})`);
  });
  return result[done] as T;
}
