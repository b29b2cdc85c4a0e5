// Chasing the leader: a fault of a partition leader, again and again, in a cluster of real
// processes (three combined `conveyor start` nodes, KRaft settings, test/support/cluster-processes.ts)
// while an idempotent kafkajs producer (acks=all, one send in flight per partition) writes every
// partition of a topic with replication factor 3 and min.insync.replicas=2, and a kafkajs consumer
// group reads it. Each round finds the broker leading the round's partition (Metadata) and, by
// turns, kills it with SIGKILL, stops it cleanly with SIGTERM (Kafka's controlled shutdown) or
// pauses it with SIGSTOP past its session timeout; it records the time from the fault to the next
// acknowledged write to that partition, restarts the broker (or SIGCONTs it) a short pause after
// another leader is elected and waits until every replica of every partition is back in the ISR
// before the next round (with only two replicas in the ISR, the next fault would leave one, and
// acks=all would rightly refuse writes). Each round also waits, within a bound, for the consumer to
// read a record written after the fault: it has to recover by itself.
//
// At the end the producer stops, every partition is read to its end from its current leader, and
// the queue checker (src/testing/queue-checker.ts) runs over everything: no acknowledged write lost,
// none duplicated (idempotence across leader changes), offsets and per-partition order consistent
// between acknowledgements, the consumer and the final read. The consumer must have seen every
// acknowledged record. A tampered copy of the history (one acknowledged record dropped from every
// read, one record read at a second offset) must fail the same checks, so they can fail. The
// controller may fence only the brokers the test killed, stopped or paused: a fencing of a running
// broker (read from the nodes' logs) fails the run.
//
// LEADER_KILLS=N (default 3, about a minute) sets the rounds; LEADER_KILL_FAULT=kill|clean|pause
// only that fault (default mixed: the three in turn); LEADER_KILL_SEED replays the choices
// (partitions, pauses, batch sizes; timing is not replayed); LEADER_KILL_LOGS=DIR keeps every
// node's whole output there; LEADER_KILL_CLIENT_LOG=1 prints kafkajs's warnings and errors (always
// printed when the run fails); LEADER_KILL_EARLY_RESTART=1 restarts the killed broker the pause
// after the kill rather than after the election, and then also accepts the restarted broker taking
// its leadership back without an election (reported per run); LEADER_KILL_IDLE_PARTITIONS=N adds
// an idle topic of N partitions with replication factor 3 (more ISR changes at every restart).
// Figures are printed, never asserted: the bounds below are liveness.
// First, before anything loads kafkajs: its consumer's worker queue, fixed (see the module).
import '../support/kafkajs-worker-queue.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { History, type HistoryEvent } from '../../src/testing/history.js';
import { anomaliesOf, checkQueueHistory, formatQueueReport } from '../../src/testing/queue-checker.js';
import { seededRandom } from '../../src/testing/workload.js';
import { ProcessCluster, medianAndMax } from '../support/cluster-processes.js';
import {
  FAST_FAILOVER_SETTINGS,
  type FinalRead,
  IdempotentProducer,
  RecordingConsumer,
  type SendRecord,
  createReplicatedTopic,
  notInSync,
  newestPartition,
  readFromLeaders,
  runningViews,
} from '../support/leader-kill-support.js';

const KILLS = Number(process.env.LEADER_KILLS ?? 3);
/**
 * What happens to the leader each round: 'kill' (kill -9, then a restart), 'clean' (SIGTERM: Kafka's
 * controlled shutdown, then a restart), 'pause' (SIGSTOP for longer than the session timeout, then
 * SIGCONT: the same process carries on, fenced meanwhile), or 'mixed' (the three in turn, the default).
 */
type Fault = 'kill' | 'clean' | 'pause';
const FAULT_MODE = process.env.LEADER_KILL_FAULT ?? 'mixed';
if (!['kill', 'clean', 'pause', 'mixed'].includes(FAULT_MODE)) throw new Error(`LEADER_KILL_FAULT must be kill, clean, pause or mixed, not ${FAULT_MODE}`);
const FAULTS: readonly Fault[] = FAULT_MODE === 'mixed' ? ['kill', 'clean', 'pause'] : [FAULT_MODE as Fault];
const faultOf = (round: number): Fault => FAULTS[(round - 1) % FAULTS.length]!;
const FAULT_NAMES: Record<Fault, string> = { kill: 'kill -9', clean: 'clean shutdown', pause: 'SIGSTOP pause' };
const SEED = Number(process.env.LEADER_KILL_SEED ?? Date.now() % 1_000_000);
const TOPIC = 'chased';
const PARTITIONS = 3;
const GROUP = 'leader-kill-readers';
/** Short timeouts, so a kill costs a few seconds: the leader is fenced after the session timeout. */
const SETTINGS = FAST_FAILOVER_SETTINGS;
/** How long a paused leader stays stopped: past the session timeout, so it is fenced and loses its leadership. */
const PAUSE_MS = 4_500;
/** Between the election that follows a kill and the restart of the killed broker: 300-800 ms, drawn from the seed. */
const RESTART_PAUSE_MS = [300, 800] as const;
/** LEADER_KILL_EARLY_RESTART=1: restart the pause after the kill itself, without waiting for the election. */
const EARLY_RESTART = process.env.LEADER_KILL_EARLY_RESTART === '1';
/** LEADER_KILL_IDLE_PARTITIONS=N: also a topic of N partitions (RF 3) that nobody writes, so every restart makes each leader propose N/3 ISR changes. */
const IDLE_PARTITIONS = Number(process.env.LEADER_KILL_IDLE_PARTITIONS ?? 0);
/** Liveness bounds (not targets): a run that misses one fails. */
const NEW_LEADER_BOUND_MS = 30_000;
const ACK_BOUND_MS = 30_000;
const IN_SYNC_BOUND_MS = 60_000;
const CONSUMER_BOUND_MS = 60_000;
const FINAL_CONSUME_BOUND_MS = 60_000;
/** Writes keep flowing this long at least between the full ISR and the next kill. */
const STEADY_MS = 500;

interface KillRecord {
  round: number;
  fault: Fault;
  partition: number;
  killed: number;
  oldEpoch: number;
  /** The killed node was also the active controller (Metadata's controller id). */
  wasController: boolean;
  /** Partitions the killed node led when it died. */
  led: number[];
  killedAt: number;
  /** Date.now() at the kill and once the restarted node was ready: node logs carry wall-clock times. */
  killedWall: number;
  readyWall?: number;
  newLeader?: number;
  newEpoch?: number;
  /** No election: the restarted broker registered before it was fenced and leads again in the same epoch (early restarts only). */
  reclaimed?: boolean;
  /** Kill -> a survivor's Metadata names another leader for the round's partition. */
  electedMs?: number;
  /** Kill -> the first acknowledgement received for the round's partition (may be of a send that was in flight). */
  firstAckMs?: number;
  /** Kill -> the acknowledgement of the first send to the round's partition started after the kill. */
  nextAckMs?: number;
  /** Restart of the killed node (after the pause) to its ready line. */
  restartMs?: number;
  /** Kill -> every replica of every partition in the ISR on every node's Metadata. */
  inSyncMs?: number;
  /** Kill -> the consumer read a record of the round's partition that was sent after the kill. */
  consumerMs?: number;
}

interface RunResult {
  kills: KillRecord[];
  history: History;
  sends: SendRecord[];
  consumer: RecordingConsumer;
  finalReads: FinalRead[];
  errorLines: string[];
  durationMs: number;
}

function since(start: number): number {
  return performance.now() - start;
}

async function within<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, intervalMs = 25): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await delay(intervalMs);
  }
}

/** kafkajs's warnings and errors (with its timestamps): printed when a run fails, or always with LEADER_KILL_CLIENT_LOG=1. */
const clientLines: string[] = [];
const clientLog = (line: string) => {
  if (clientLines.length < 5_000) clientLines.push(line);
};

/** Waits (bounded) until notInSync says nothing; `trace` hears every change of the reason, with its time. */
async function waitInSync(cluster: ProcessCluster, what: string, trace?: (line: string) => void): Promise<void> {
  let reason: string | undefined = 'not asked yet';
  const start = performance.now();
  await within(what, IN_SYNC_BOUND_MS, async () => {
    const now = notInSync(cluster, await runningViews(cluster, TOPIC), PARTITIONS);
    if (now !== reason && now !== undefined) trace?.(`+${Math.round(since(start))} ms: ${now}`);
    reason = now;
    return now === undefined ? true : undefined;
  }, 50).catch((error: unknown) => {
    throw new Error(`${String(error)} (last seen: ${reason})`);
  });
}

async function runScenario(cluster: ProcessCluster, kills: KillRecord[], logsDir: string, log: (line: string) => void): Promise<RunResult> {
  const started = performance.now();
  const random = seededRandom(SEED);
  const history = new History();
  /** Nodes stopped with SIGSTOP: not asked for Metadata (each ask would wait out its timeout). */
  const paused = new Set<number>();
  await createReplicatedTopic(cluster, cluster.nodeIds[1]!, TOPIC, PARTITIONS, 3, { 'min.insync.replicas': '2' });
  if (IDLE_PARTITIONS > 0) await createReplicatedTopic(cluster, cluster.nodeIds[0]!, 'idle', IDLE_PARTITIONS, 3, {});
  await waitInSync(cluster, 'every partition led with a full ISR on every node');
  const producer = await IdempotentProducer.start(history, { bootstrapServers: cluster.bootstrapServers, process: 'producer', topic: TOPIC, partitions: PARTITIONS, maxRecordsPerSend: 5, paceMs: 2, random, clientLog });
  const consumer = await RecordingConsumer.start(history, { bootstrapServers: cluster.bootstrapServers, process: 'consumer', groupId: GROUP, topic: TOPIC, clientLog });
  try {
    const warmup = performance.now();
    await within('acknowledged writes on every partition and the consumer reading', 60_000, () =>
      Array.from({ length: PARTITIONS }, (_, partition) => partition).every((partition) => producer.acknowledgedSince(partition, warmup).length > 0) && consumer.polled.length > 0 ? true : undefined,
    );
    for (let round = 1; round <= KILLS; round++) {
      const partition = Math.floor(random() * PARTITIONS);
      const views = await runningViews(cluster, TOPIC);
      assert.equal(notInSync(cluster, views, PARTITIONS), undefined, `round ${round}: the ISR is full before the kill`);
      const target = newestPartition(views, partition)!;
      const killed = target.leader;
      const led = Array.from({ length: PARTITIONS }, (_, index) => index).filter((index) => newestPartition(views, index)?.leader === killed);
      const fault = faultOf(round);
      const record: KillRecord = { round, fault, partition, killed, oldEpoch: target.leaderEpoch, wasController: views.some((view) => view.controller === killed), led, killedAt: performance.now(), killedWall: Date.now() };
      kills.push(record);
      log(`round ${round}: ${FAULT_NAMES[fault]} of node ${killed} at ${new Date().toISOString()}`);
      history.fault(`round ${round}: ${FAULT_NAMES[fault]} of node ${killed}, leader of ${TOPIC}-${partition} in epoch ${target.leaderEpoch} (leads ${led.join(',')})`);
      record.killedAt = performance.now();
      record.killedWall = Date.now();
      if (fault === 'pause') {
        process.kill(cluster.pid(killed)!, 'SIGSTOP');
        paused.add(killed);
      }
      else await cluster.kill(killed, fault === 'kill' ? 'SIGKILL' : 'SIGTERM');
      const pause = RESTART_PAUSE_MS[0] + Math.floor(random() * (RESTART_PAUSE_MS[1] - RESTART_PAUSE_MS[0]));
      let restartedAt: number | undefined;
      const elected = within(`round ${round}: a new leader of ${TOPIC}-${partition}`, NEW_LEADER_BOUND_MS, async () => {
        const newest = newestPartition(await runningViews(cluster, TOPIC, paused), partition);
        if (newest === undefined || newest.leader < 0) return undefined;
        // With an early restart the new incarnation may register before the controller fenced the
        // old one: no election, and the restarted broker leads again in the same epoch.
        const reclaimed = restartedAt !== undefined && newest.leader === killed && newest.leaderEpoch === record.oldEpoch && cluster.isRunning(killed);
        if (!reclaimed && (newest.leaderEpoch <= record.oldEpoch || newest.leader === killed)) return undefined;
        record.reclaimed = reclaimed;
        record.newLeader = newest.leader;
        record.newEpoch = newest.leaderEpoch;
        record.electedMs = since(record.killedAt);
        return true;
      });
      const acknowledged = within(`round ${round}: an acknowledged write to ${TOPIC}-${partition} after the kill`, ACK_BOUND_MS, () => {
        if (record.firstAckMs === undefined) {
          const first = producer.sends.filter((send) => send.partition === partition && send.outcome === 'ok' && send.doneAt > record.killedAt).sort((a, b) => a.doneAt - b.doneAt)[0];
          if (first !== undefined) record.firstAckMs = first.doneAt - record.killedAt;
        }
        const next = producer.acknowledgedSince(partition, record.killedAt)[0];
        if (next === undefined) return undefined;
        record.nextAckMs = next.doneAt - record.killedAt;
        return true;
      });
      const restarted = (async () => {
        // Only once another leader is elected (unless LEADER_KILL_EARLY_RESTART=1): a new
        // incarnation registering as soon as the old session expires can beat the controller's
        // fencing sweep, and then no election happens at all (the partition waits for the restarted
        // broker to lead it again in the same epoch, as on Kafka without KIP-966), which is not the
        // failover this test chases.
        if (!EARLY_RESTART) await elected.catch(() => {});
        if (fault === 'pause') {
          // The same process carries on: it finds itself fenced and registers again.
          await delay(Math.max(0, PAUSE_MS - since(record.killedAt)));
          const resumeAt = performance.now();
          process.kill(cluster.pid(killed)!, 'SIGCONT');
          paused.delete(killed);
          restartedAt = performance.now();
          record.readyWall = Date.now();
          record.restartMs = restartedAt - resumeAt;
          return;
        }
        await delay(pause);
        const restartAt = performance.now();
        await cluster.restart(killed);
        restartedAt = performance.now();
        record.readyWall = Date.now();
        record.restartMs = restartedAt - restartAt;
      })();
      // All three end before any failure is reported, so no restart is left in flight.
      const outcomes = await Promise.allSettled([elected, acknowledged, restarted]);
      for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
      await waitInSync(cluster, `round ${round}: node ${killed} back in the ISR of every partition`, (line) => log(`round ${round}: ${line}`));
      record.inSyncMs = since(record.killedAt);
      await within(`round ${round}: the consumer reading ${TOPIC}-${partition} past the kill`, CONSUMER_BOUND_MS, () => {
        const read = consumer.polled.find((polled) => polled.partition === partition && polled.at > record.killedAt && (producer.sendOf(polled.value)?.sentAt ?? -1) > record.killedAt);
        if (read === undefined) return undefined;
        record.consumerMs = read.at - record.killedAt;
        return true;
      });
      const steady = performance.now();
      await delay(STEADY_MS);
      await within(`round ${round}: acknowledged writes on every partition after the ISR is full`, ACK_BOUND_MS, () =>
        Array.from({ length: PARTITIONS }, (_, index) => index).every((index) => producer.acknowledgedSince(index, steady).length > 0) ? true : undefined,
      );
      log(
        `kill ${round}: node ${killed} (led ${led.join(',')}${record.wasController ? ', active controller' : ''}) -> ${TOPIC}-${partition} led by node ${record.newLeader} epoch ${record.newEpoch} at ${Math.round(record.electedMs!)} ms; ` +
          `next ack ${Math.round(record.nextAckMs!)} ms (first ack ${Math.round(record.firstAckMs ?? Number.NaN)} ms); restart ${Math.round(record.restartMs!)} ms; full ISR at ${Math.round(record.inSyncMs!)} ms; consumer past the kill at ${Math.round(record.consumerMs!)} ms` +
          ` (group joins at ${consumer.joins.filter((join) => join.at > record.killedAt).map((join) => `+${Math.round(join.at - record.killedAt)}`).join(', ') || 'none'} ms)`,
      );
    }
  } finally {
    await producer.stop().catch((error: unknown) => log(`stopping the producer: ${String(error)}`));
  }
  const acknowledged = producer.sends.filter((send) => send.outcome === 'ok').flatMap((send) => send.values);
  await within('the consumer to read every acknowledged record', FINAL_CONSUME_BOUND_MS, () => (acknowledged.every((value) => consumer.seen.has(value)) ? true : undefined), 100).catch((error: unknown) =>
    log(`${String(error)}: ${acknowledged.filter((value) => !consumer.seen.has(value)).length} unseen`),
  );
  await consumer.stop();
  const mustCover = new Map<number, number>();
  for (const send of producer.sends) if (send.outcome === 'ok') mustCover.set(send.partition, Math.max(mustCover.get(send.partition) ?? -1, send.baseOffset! + send.values.length - 1));
  const finalReads = await readFromLeaders(history, cluster, TOPIC, PARTITIONS, 'final-reader', mustCover);
  const errorLines = nodeLogLines(cluster, logsDir).filter(({ line }) => / ERROR /.test(line)).map(({ node, line }) => `node ${node}: ${line}`);
  return { kills, history, sends: producer.sends, consumer, finalReads, errorLines, durationMs: since(started) };
}

/** Acknowledged records that `process` never polled, in history order. */
function unseenBy(events: readonly HistoryEvent[], process: string): { partition: number; offset: number | undefined; value: string }[] {
  const polled = new Set(events.flatMap((event) => (event.type === 'poll' && event.process === process ? [event.value] : [])));
  return events.flatMap((event) => (event.type === 'send' && event.outcome === 'ok' && !polled.has(event.value) ? [{ partition: event.partition, offset: event.offset, value: event.value }] : []));
}

/** Every line of every node's whole output (all incarnations), from the files ProcessCluster writes. */
function nodeLogLines(cluster: ProcessCluster, logsDir: string): { node: number; line: string }[] {
  return cluster.nodeIds.flatMap((node) => {
    const file = join(logsDir, `node-${node}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((line) => ({ node, line })) : [];
  });
}

const FENCE_LINE = /^(\S+Z) WARN +\[controller-channel\] fencing a broker whose session expired brokerId=(\d+)/;

/**
 * Fencings of a broker that was running: the active controller logs each broker it fences for an
 * expired session; a broker the test killed is fenced between its kill and its restart, any other
 * fencing is of a live broker whose heartbeats did not arrive in time.
 */
function liveBrokerFences(cluster: ProcessCluster, logsDir: string, kills: readonly KillRecord[]): string[] {
  return nodeLogLines(cluster, logsDir).flatMap(({ node, line }) => {
    const match = FENCE_LINE.exec(line);
    if (match === null) return [];
    const at = Date.parse(match[1]!);
    const broker = Number(match[2]);
    const down = kills.some((kill) => kill.killed === broker && at >= kill.killedWall && at <= (kill.readyWall ?? Number.POSITIVE_INFINITY));
    return down ? [] : [`node ${node} (controller): ${line}`];
  });
}

function ms(values: readonly number[]): string {
  const { median, max } = medianAndMax(values.filter((value) => Number.isFinite(value)));
  return `median ${Math.round(median)} ms, max ${Math.round(max)} ms`;
}

/** Kill -> the first acknowledgement of a send started after the kill, for every partition the killed node led. */
function ledPartitionsNextAck(result: RunResult): number[] {
  return result.kills.flatMap((kill) =>
    kill.led.map((partition) => {
      const next = result.sends.filter((send) => send.partition === partition && send.outcome === 'ok' && send.sentAt > kill.killedAt).sort((a, b) => a.doneAt - b.doneAt)[0];
      return next === undefined ? Number.NaN : next.doneAt - kill.killedAt;
    }),
  );
}

function summarize(result: RunResult): string {
  const { kills, sends, consumer } = result;
  const acknowledgedSends = sends.filter((send) => send.outcome === 'ok');
  const records = acknowledgedSends.reduce((total, send) => total + send.values.length, 0);
  const latencies = acknowledgedSends.map((send) => send.doneAt - send.sentAt);
  return [
    `${kills.length} faults of a partition leader (${FAULTS.map((fault) => `${kills.filter((kill) => kill.fault === fault).length} ${FAULT_NAMES[fault]}`).join(', ')}; LEADER_KILL_SEED=${SEED}), ${Math.round(result.durationMs / 1000)} s`,
    ...FAULTS.map((fault) => `${FAULT_NAMES[fault]} -> next acknowledged write to the partition (sent after it): ${ms(kills.filter((kill) => kill.fault === fault).map((kill) => kill.nextAckMs!))}`),
    `kill -> first acknowledgement received for the partition: ${ms(kills.map((kill) => kill.firstAckMs ?? Number.NaN))}`,
    `kill -> next acknowledged write, every partition the killed node led: ${ms(ledPartitionsNextAck(result))}`,
    `kill -> a new leader in a survivor's Metadata: ${ms(kills.filter((kill) => !kill.reclaimed).map((kill) => kill.electedMs!))}` +
      (EARLY_RESTART ? `; restarts ${RESTART_PAUSE_MS.join('-')} ms after the kill, ${kills.filter((kill) => kill.reclaimed).length} of ${kills.length} kills without an election (the restarted broker led again)` : ''),
    `restart of the killed node to ready: ${ms(kills.map((kill) => kill.restartMs!))}; kill -> full ISR again: ${ms(kills.map((kill) => kill.inSyncMs!))}`,
    `kill -> consumer reads a record sent after it: ${ms(kills.map((kill) => kill.consumerMs!))}`,
    `per fault (node/partition: elected, next ack, full ISR, consumer; ms): ${kills.map((kill) => `${kill.fault} ${kill.killed}/p${kill.partition}${kill.wasController ? '(ctl)' : ''}${kill.reclaimed ? '(no election)' : ''}: ${[kill.electedMs, kill.nextAckMs, kill.inSyncMs, kill.consumerMs].map((value) => Math.round(value ?? Number.NaN)).join('/')}`).join(', ')}`,
    `${records} records acknowledged in ${acknowledgedSends.length} sends (${sends.filter((send) => send.outcome !== 'ok').length} sends not acknowledged); send latency ${ms(latencies)}`,
    `consumer: ${consumer.polled.length} polls, ${consumer.seen.size} distinct values, ${consumer.joins.length} group joins, ${consumer.crashes.length} crashes${consumer.crashes.length > 0 ? ` (${consumer.crashes.slice(0, 3).map((crash) => crash.error).join(' | ')})` : ''}`,
    `final read: ${result.finalReads.map((read) => `p${read.partition} from node ${read.leader}: ${read.records} records, high watermark ${read.highWatermark}`).join('; ')}`,
    `ERROR lines in the nodes' logs: ${result.errorLines.length}${result.errorLines.length > 0 ? ` (${result.errorLines.slice(0, 3).join(' | ')})` : ''}`,
  ].join('\n# ');
}

describe(`${FAULTS.map((fault) => FAULT_NAMES[fault]).join(', ')} of partition leaders under an idempotent producer and a consumer group (${KILLS} rounds, LEADER_KILL_SEED=${SEED})`, { timeout: 120_000 + KILLS * 40_000 }, () => {
  let cluster: ProcessCluster | undefined;
  let result: RunResult | undefined;
  let runError: unknown;
  let logsDir = '';
  const kills: KillRecord[] = [];
  let liveFences: string[] = [];

  before(async () => {
    // Every node's whole output goes to files (LEADER_KILL_LOGS, or a temporary directory removed
    // at the end): the fencing check reads them, and a tail may have lost the lines it needs.
    logsDir = process.env.LEADER_KILL_LOGS ?? (await mkdtemp(join(tmpdir(), 'leader-kill-logs-')));
    cluster = await ProcessCluster.start({ nodes: 3, settings: SETTINGS, outputDir: logsDir });
    try {
      result = await runScenario(cluster, kills, logsDir, (line) => console.log(`# ${line}`));
      console.log(`# leader-kill figures: ${summarize(result)}`);
    } catch (error) {
      runError = error;
    }
    liveFences = liveBrokerFences(cluster, logsDir, kills);
    if (liveFences.length > 0) console.log(`# live brokers fenced: ${liveFences.length}\n# ${liveFences.slice(0, 10).join('\n# ')}`);
  });

  after(async () => {
    if (runError !== undefined && cluster !== undefined) {
      console.log(`# leader-kill failed (LEADER_KILL_SEED=${SEED}): ${String(runError)}`);
      for (const id of cluster.nodeIds) console.log(cluster.fullLog(id).slice(-6_000));
    }
    if (runError !== undefined || process.env.LEADER_KILL_CLIENT_LOG === '1') for (const line of clientLines.slice(-400)) console.log(`# kafkajs: ${line}`);
    await cluster?.stopAll();
    if (process.env.LEADER_KILL_LOGS === undefined && logsDir !== '') await rm(logsDir, { recursive: true, force: true });
  });

  it('fences no broker that is running (only the killed ones, for their expired sessions)', () => {
    // Checked even when the run failed: a live broker fenced shrinks every ISR it is in and moves
    // its leadership, which is how the run most likely failed.
    assert.deepEqual(liveFences, [], `the controller fenced ${liveFences.length} times a broker that was running`);
  });

  it('elects a new leader after every kill and acknowledges writes to the partition again', () => {
    if (runError !== undefined) throw runError;
    assert.ok(result !== undefined);
    assert.equal(result.kills.length, KILLS);
    for (const kill of result.kills) {
      assert.ok(kill.newLeader !== undefined && (kill.reclaimed || kill.newLeader !== kill.killed), `kill ${kill.round}: a new leader`);
      assert.ok(kill.nextAckMs !== undefined && kill.nextAckMs <= ACK_BOUND_MS, `kill ${kill.round}: a write acknowledged within ${ACK_BOUND_MS} ms`);
      assert.ok(kill.inSyncMs !== undefined, `kill ${kill.round}: node ${kill.killed} rejoined the ISR`);
    }
  });

  it('the idempotent producer never gave up on a send', () => {
    if (runError !== undefined) throw runError;
    assert.ok(result !== undefined);
    const failed = result.sends.filter((send) => send.outcome !== 'ok');
    assert.deepEqual(failed.map(({ partition, sequence, error }) => ({ partition, sequence, error })), [], 'sends kafkajs gave up on');
  });

  it('loses no acknowledged write, duplicates none and keeps every partition in order', (context) => {
    if (runError !== undefined) throw runError;
    assert.ok(result !== undefined);
    const check = checkQueueHistory(result.history, { finalReadComplete: true });
    context.diagnostic(formatQueueReport(check));
    assert.deepEqual(result.finalReads.flatMap((read) => read.corruptBatches), [], 'batches whose CRC failed on the wire');
    assert.ok(check.stats.acknowledged > 0, 'writes were acknowledged');
    assert.equal(check.valid, true, formatQueueReport(check));
  });

  it('the consumer group read every acknowledged record', () => {
    if (runError !== undefined) throw runError;
    assert.ok(result !== undefined);
    const unseen = unseenBy(result.history.events, 'consumer');
    assert.deepEqual(unseen.slice(0, 10), [], `${unseen.length} acknowledged records the consumer never read`);
    for (const kill of result.kills) assert.ok(kill.consumerMs !== undefined, `kill ${kill.round}: the consumer read past the kill`);
  });

  it('the checks catch a dropped acknowledged record and a duplicated one', () => {
    if (runError !== undefined) throw runError;
    assert.ok(result !== undefined);
    const events = result.history.events;
    const victim = events.find((event) => event.type === 'send' && event.outcome === 'ok' && event.offset !== undefined && event.offset > 10);
    assert.ok(victim !== undefined && victim.type === 'send');
    // The record is gone from every read: the checker must call it lost, and the consumer check must miss it.
    const dropped = events.filter((event) => !(event.type === 'poll' && event.value === victim.value));
    const lost = anomaliesOf(checkQueueHistory(dropped, { finalReadComplete: true }), 'lost-write');
    assert.deepEqual(
      lost.map(({ partition, offset, value }) => ({ partition, offset, value })),
      [{ partition: victim.partition, offset: victim.offset, value: victim.value }],
    );
    assert.deepEqual(unseenBy(dropped, 'consumer'), [{ partition: victim.partition, offset: victim.offset, value: victim.value }]);
    // The same record read again after the end of its partition (a retried batch written twice).
    const end = Math.max(...events.flatMap((event) => (event.type === 'poll' && event.partition === victim.partition ? [event.offset] : [])));
    const doubled = [...events, { type: 'poll' as const, process: 'final-reader', topic: victim.topic, partition: victim.partition, offset: end + 1, value: victim.value, isolation: 'read_uncommitted' as const }];
    const duplicates = anomaliesOf(checkQueueHistory(doubled, { finalReadComplete: true }), 'duplicate');
    assert.deepEqual(duplicates.map((duplicate) => duplicate.value), [victim.value]);
  });
});
