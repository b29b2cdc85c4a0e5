// Runs the share-group (KIP-932) test consumer, test/clients/share-consumer/share-consumer: a C
// program on librdkafka 2.15's share consumer API (no JS binding exposes it), built by
// scripts/install-librdkafka-client.sh. It prints one JSON object per line for each event; this
// module spawns it, parses those lines into records, acknowledgement results and errors, and stops
// it gracefully (SIGTERM: it closes the consumer, which sends pending acks and leaves the group) or
// abruptly (SIGKILL: records stay acquired until their locks time out). Tests skip while the binary
// is absent (shareConsumerAvailable), as they do for the librdkafka addon.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ShareHistory } from '../../src/testing/share-checker.js';
import { LIBRDKAFKA_CLIENT_DIR, LIBRDKAFKA_INSTALL } from './librdkafka.js';

export const SHARE_CONSUMER_BINARY = fileURLToPath(new URL('../clients/share-consumer/share-consumer', import.meta.url));
const SHARE_CONSUMER_SOURCE = `${SHARE_CONSUMER_BINARY}.c`;
/** Where the install script builds librdkafka.so; the program links it (its run path points there too). */
export const SHARE_CONSUMER_LIBRARY_DIR = join(LIBRDKAFKA_CLIENT_DIR, 'node_modules/@confluentinc/kafka-javascript/deps/librdkafka/src');

export type ShareAckType = 'accept' | 'release' | 'reject';

/** Explicit mode: records whose value starts with prefix get type, while their delivery count is at most maxDeliveryCount (any when unset). */
export interface ShareAckRuleEntry {
  type: ShareAckType;
  prefix: string;
  maxDeliveryCount?: number;
}

/**
 * Explicit mode's rule. 'accept': accept every record. 'none': acknowledge nothing and stop polling
 * after the first batch, like a consumer that hangs or dies with records in flight. Entries: the
 * first whose prefix matches decides; records matching none are accepted.
 */
export type ShareAckRule = 'accept' | 'none' | readonly ShareAckRuleEntry[];

export interface ShareConsumerOptions {
  bootstrap: string;
  groupId: string;
  topics: readonly string[];
  mode?: 'implicit' | 'explicit';
  /** Explicit mode only (the program refuses it in implicit mode). */
  ackRule?: ShareAckRule;
  /**
   * After each non-empty batch: 'sync' (explicit mode's default) waits for the broker's answer to
   * this batch's acks before polling again; 'async' sends them without waiting; 'none' (implicit
   * mode's default) leaves them to ride on the next poll's ShareFetch.
   */
  commit?: 'sync' | 'async' | 'none';
  /** Stop (and close) once this many records were seen. */
  maxRecords?: number;
  /** Stop (and close) after this long; the harness kills the process 30 s later if it has not exited. */
  timeoutMs?: number;
  pollMs?: number;
  commitTimeoutMs?: number;
  /** librdkafka debug contexts (e.g. 'cgrp,fetch,protocol'); its logs go to the process's stderr. */
  debug?: string;
  clientId?: string;
  /** Further librdkafka properties (e.g. 'max.poll.records', 'fetch.wait.max.ms'). */
  config?: Readonly<Record<string, string | number | boolean>>;
}

export interface ShareRecord {
  topic: string;
  partition: number;
  offset: number;
  deliveryCount: number;
  /** Bytes as latin1 characters (the program escapes every byte outside printable ASCII as \u00XX). */
  key: string | null;
  value: string | null;
  /** The type the program acknowledged it with (explicit mode); null in implicit mode or with rule 'none'. */
  ack: ShareAckType | null;
  /** Set when rd_kafka_share_acknowledge_type refused the ack. */
  ackError?: string;
}

/**
 * One partition's acknowledgement outcome. 'callback': from the acknowledgement commit callback,
 * with every offset the acks covered (librdkafka gives no per-offset type: join with the records'
 * ack). 'commit_sync': the same partition's result as rd_kafka_share_commit_sync returned it.
 */
export interface ShareAckResult {
  source: 'callback' | 'commit_sync';
  topic: string;
  partition: number;
  offsets?: number[];
  /** librdkafka's error name: 'NO_ERROR' when the broker accepted the acks. */
  error: string;
}

export interface ShareConsumerError {
  /** Where it came from: poll, commit_sync, commit_async, coordinator, record, subscribe, create, config, usage, output… */
  source: string;
  /** librdkafka's error name, e.g. '_UNSUPPORTED_FEATURE', 'TOPIC_AUTHORIZATION_FAILED'. */
  code: string;
  message: string;
  fatal: boolean;
  retriable: boolean;
  topic?: string;
  partition?: number;
  offset?: number;
}

export type ShareConsumerEvent =
  | { event: 'started'; group: string; topics: string; mode: string; librdkafka: string }
  | ({ event: 'record' } & ShareRecord)
  | ({ event: 'ack' } & ShareAckResult)
  | ({ event: 'error' } & ShareConsumerError)
  | { event: 'holding'; records: number }
  | { event: 'stopping'; reason: string; records: number }
  | { event: 'closed'; error: string | null; message?: string };

/** Accumulates the program's stdout; pure, so it can be tested on canned output. */
export class ShareConsumerOutput {
  readonly events: ShareConsumerEvent[] = [];
  readonly records: ShareRecord[] = [];
  readonly acks: ShareAckResult[] = [];
  readonly errors: ShareConsumerError[] = [];
  startedInfo: { librdkafka: string; mode: string } | undefined;
  /** Why the poll loop ended: max_records, timeout, sigterm, sigint or fatal. */
  stopReason: string | undefined;
  /** Set once the consumer closed: its close error's name, or null. */
  closeError: string | null | undefined;
  private pending = '';

  /** Feeds a chunk of stdout; returns the events completed by it. */
  push(chunk: string): ShareConsumerEvent[] {
    this.pending += chunk;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    return lines.filter((line) => line.trim() !== '').map((line) => this.add(parseShareConsumerLine(line)));
  }

  /** Parses what is left after the process ended (a last line without a newline). */
  end(): ShareConsumerEvent[] {
    const rest = this.pending;
    this.pending = '';
    return rest.trim() === '' ? [] : [this.add(parseShareConsumerLine(rest))];
  }

  get closed(): boolean {
    return this.closeError !== undefined;
  }

  private add(event: ShareConsumerEvent): ShareConsumerEvent {
    this.events.push(event);
    switch (event.event) {
      case 'started':
        this.startedInfo = { librdkafka: event.librdkafka, mode: event.mode };
        break;
      case 'record': {
        const { event: _kind, ...record } = event;
        this.records.push(record);
        break;
      }
      case 'ack': {
        const { event: _kind, ...ack } = event;
        this.acks.push(ack);
        break;
      }
      case 'error': {
        const { event: _kind, ...error } = event;
        this.errors.push(error);
        break;
      }
      case 'stopping':
        this.stopReason = event.reason;
        break;
      case 'closed':
        this.closeError = event.error;
        break;
      case 'holding':
        break;
    }
    return event;
  }
}

/** One offset's acknowledgement as the broker answered it (from the acknowledgement commit callback). */
export interface SettledAck {
  topic: string;
  partition: number;
  offset: number;
  /**
   * The type this program acknowledged the offset's latest delivery with ('accept' for implicit
   * mode's automatic accept), or 'gap' for an acked offset it never received as a record.
   */
  type: ShareAckType | 'gap';
  /** 'NO_ERROR' when the broker accepted it. */
  error: string;
}

/**
 * Joins the callback's per-partition offsets with the records' ack types, in output order: each
 * callback settles the latest delivery of each of its offsets (a released record delivered again
 * is settled again by a later callback).
 */
export function settledAcks(events: readonly ShareConsumerEvent[]): SettledAck[] {
  const settled: SettledAck[] = [];
  walkShareEvents(events, () => {}, (ack) => settled.push(ack));
  return settled;
}

/** Calls back, in output order, for each record delivered and each acknowledgement the broker answered. */
function walkShareEvents(events: readonly ShareConsumerEvent[], onRecord: (record: ShareRecord) => void, onSettled: (ack: SettledAck) => void): void {
  const pending = new Map<string, ShareAckType>();
  for (const event of events) {
    if (event.event === 'record') {
      // A record the program did not acknowledge (implicit mode) is accepted by the next poll or close.
      pending.set(`${event.topic}\0${event.partition}\0${event.offset}`, event.ack ?? 'accept');
      onRecord(event);
    } else if (event.event === 'ack' && event.source === 'callback') {
      for (const offset of event.offsets ?? []) {
        const key = `${event.topic}\0${event.partition}\0${offset}`;
        onSettled({ topic: event.topic, partition: event.partition, offset, type: pending.get(key) ?? 'gap', error: event.error });
        pending.delete(key);
      }
    }
  }
}

/**
 * Adds what one consumer saw to a share-group history (src/testing/share-checker.ts), in its output
 * order: its deliveries, and its acknowledgements with the broker's answer (NO_ERROR: applied).
 */
export function addToShareHistory(history: ShareHistory, consumer: string, events: readonly ShareConsumerEvent[]): void {
  walkShareEvents(
    events,
    (record) => history.deliver({ consumer, topic: record.topic, partition: record.partition, offset: record.offset, value: record.value, deliveryCount: record.deliveryCount }),
    (ack) => history.ack({ consumer, topic: ack.topic, partition: ack.partition, offset: ack.offset, type: ack.type, outcome: ack.error === 'NO_ERROR' ? 'ok' : 'fail', error: ack.error }),
  );
}

type Json = Record<string, unknown>;

/**
 * Turns one output line into an event, with camelCase fields. A line that is not one of the
 * program's events becomes an error event (source 'output'), so a broken program fails tests loudly
 * instead of being skipped over.
 */
export function parseShareConsumerLine(line: string): ShareConsumerEvent {
  let json: Json;
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    json = parsed as Json;
  } catch {
    return outputError(`not a JSON object: ${line.slice(0, 200)}`);
  }
  try {
    return toEvent(json);
  } catch (error) {
    return outputError(`${(error as Error).message}: ${line.slice(0, 200)}`);
  }
}

function outputError(message: string): ShareConsumerEvent {
  return { event: 'error', source: 'output', code: 'BAD_OUTPUT', message, fatal: false, retriable: false };
}

function toEvent(json: Json): ShareConsumerEvent {
  switch (json.event) {
    case 'started':
      return { event: 'started', group: str(json, 'group'), topics: str(json, 'topics'), mode: str(json, 'mode'), librdkafka: str(json, 'librdkafka') };
    case 'record': {
      const record: ShareRecord = {
        topic: str(json, 'topic'),
        partition: int(json, 'partition'),
        offset: int(json, 'offset'),
        deliveryCount: int(json, 'delivery_count'),
        key: nullableStr(json, 'key'),
        value: nullableStr(json, 'value'),
        ack: ackType(json.ack),
      };
      if (json.ack_error !== undefined) record.ackError = str(json, 'ack_error');
      return { event: 'record', ...record };
    }
    case 'record_error':
      return {
        event: 'error',
        source: 'record',
        code: str(json, 'code'),
        message: str(json, 'message'),
        fatal: false,
        retriable: false,
        topic: str(json, 'topic'),
        partition: int(json, 'partition'),
        offset: int(json, 'offset'),
      };
    case 'ack': {
      const source = json.source;
      if (source !== 'callback' && source !== 'commit_sync') throw new Error(`unknown ack source ${String(source)}`);
      const ack: ShareAckResult = { source, topic: str(json, 'topic'), partition: int(json, 'partition'), error: str(json, 'error') };
      if (json.offsets !== undefined) {
        if (!Array.isArray(json.offsets) || !json.offsets.every((offset) => Number.isInteger(offset))) throw new Error('offsets is not a list of integers');
        ack.offsets = json.offsets as number[];
      }
      return { event: 'ack', ...ack };
    }
    case 'error':
      return {
        event: 'error',
        source: str(json, 'source'),
        code: str(json, 'code'),
        message: typeof json.message === 'string' ? json.message : '',
        fatal: json.fatal === true,
        retriable: json.retriable === true,
      };
    case 'holding':
      return { event: 'holding', records: int(json, 'records') };
    case 'stopping':
      return { event: 'stopping', reason: str(json, 'reason'), records: int(json, 'records') };
    case 'closed': {
      const closed: ShareConsumerEvent = { event: 'closed', error: nullableStr(json, 'error') };
      if (typeof json.message === 'string') closed.message = json.message;
      return closed;
    }
    default:
      throw new Error(`unknown event ${String(json.event)}`);
  }
}

function str(json: Json, field: string): string {
  const value = json[field];
  if (typeof value !== 'string') throw new Error(`${field} is not a string`);
  return value;
}

function nullableStr(json: Json, field: string): string | null {
  return json[field] === null ? null : str(json, field);
}

function int(json: Json, field: string): number {
  const value = json[field];
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`${field} is not an integer`);
  return value;
}

function ackType(value: unknown): ShareAckType | null {
  if (value === null || value === 'accept' || value === 'release' || value === 'reject') return value;
  throw new Error(`ack is ${String(value)}`);
}

/** The program's command line for these options. */
export function shareConsumerArgs(options: ShareConsumerOptions): string[] {
  if (options.topics.length === 0 || options.topics.some((topic) => topic === '' || topic.includes(','))) {
    throw new Error(`topics must be non-empty names without commas: ${JSON.stringify(options.topics)}`);
  }
  const args = ['--bootstrap', options.bootstrap, '--group', options.groupId, '--topics', options.topics.join(','), '--mode', options.mode ?? 'implicit'];
  if (options.ackRule !== undefined) args.push('--ack', ackRuleText(options.ackRule));
  if (options.commit !== undefined) args.push('--commit', options.commit);
  const numbers: [string, number | undefined][] = [
    ['--max-records', options.maxRecords],
    ['--timeout-ms', options.timeoutMs],
    ['--poll-ms', options.pollMs],
    ['--commit-timeout-ms', options.commitTimeoutMs],
  ];
  for (const [flag, value] of numbers) {
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < 0) throw new Error(`${flag} needs a non-negative integer, not ${value}`);
    args.push(flag, String(value));
  }
  if (options.debug !== undefined) args.push('--debug', options.debug);
  if (options.clientId !== undefined) args.push('--client-id', options.clientId);
  for (const [key, value] of Object.entries(options.config ?? {})) args.push('--config', `${key}=${String(value)}`);
  return args;
}

function ackRuleText(rule: ShareAckRule): string {
  if (typeof rule === 'string') return rule;
  if (rule.length === 0) return 'accept';
  return rule
    .map(({ type, prefix, maxDeliveryCount }) => {
      // The program splits entries on ',' and reads a delivery-count limit after the last '@'.
      if (prefix.includes(',') || prefix.includes('@')) throw new Error(`ack rule prefixes cannot contain ',' or '@': ${prefix}`);
      if (maxDeliveryCount !== undefined && (!Number.isInteger(maxDeliveryCount) || maxDeliveryCount < 1)) {
        throw new Error(`maxDeliveryCount must be a positive integer, not ${maxDeliveryCount}`);
      }
      return `${type}:${prefix}${maxDeliveryCount === undefined ? '' : `@${maxDeliveryCount}`}`;
    })
    .join(',');
}

export interface ShareConsumerAvailability {
  available: boolean;
  /** Why not, with how to build it. */
  reason?: string;
}

/** Whether the program is built and not older than its source; never throws. */
export function shareConsumerAvailable(): ShareConsumerAvailability {
  const rebuild = `run ${LIBRDKAFKA_INSTALL}`;
  try {
    accessSync(SHARE_CONSUMER_BINARY, constants.X_OK);
  } catch {
    return { available: false, reason: `share consumer not built (test/clients/share-consumer/share-consumer): ${rebuild}` };
  }
  try {
    if (statSync(SHARE_CONSUMER_SOURCE).mtimeMs > statSync(SHARE_CONSUMER_BINARY).mtimeMs) {
      return { available: false, reason: `share consumer is older than share-consumer.c: ${rebuild}` };
    }
  } catch {
    // the source is absent (an installed copy without it): the binary is what there is
  }
  return { available: true };
}

export interface ShareConsumerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Whether the program reported closing its consumer (false after SIGKILL or a crash). */
  closed: boolean;
  stopReason: string | undefined;
}

export interface ShareConsumerProcess {
  readonly pid: number;
  readonly output: ShareConsumerOutput;
  readonly records: readonly ShareRecord[];
  readonly acks: readonly ShareAckResult[];
  readonly errors: readonly ShareConsumerError[];
  readonly events: readonly ShareConsumerEvent[];
  /** Every offset whose acknowledgement the broker answered so far, with the type given (see settledAcks). */
  settledAcks(): SettledAck[];
  /** librdkafka's log lines (warnings, and debug output when asked for). */
  stderr(): string;
  /** Settles when the process has exited and its output has been read. */
  readonly exited: Promise<ShareConsumerExit>;
  /** Resolves once predicate holds (checked after each event and stderr chunk); rejects on timeout or exit first. */
  waitFor(predicate: (consumer: ShareConsumerProcess) => boolean, timeoutMs: number, what: string): Promise<void>;
  waitForRecords(count: number, timeoutMs: number): Promise<void>;
  /** SIGTERM: the program leaves its loop, closes the consumer (sending pending acks, leaving the group) and exits; SIGKILL after graceMs. */
  stop(graceMs?: number): Promise<ShareConsumerExit>;
  /** SIGKILL: no acks sent, no leave; the broker must notice the member and its records' locks expire. */
  kill(): Promise<ShareConsumerExit>;
}

const STDERR_LIMIT = 4 * 1024 * 1024;
const KILL_GUARD_MS = 30_000;
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** A test process that dies must not leave consumers behind: each is killed by its own pid. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  });
}

/** Spawns the program; throws when it is not built (check shareConsumerAvailable first). */
export function startShareConsumer(options: ShareConsumerOptions): ShareConsumerProcess {
  const availability = shareConsumerAvailable();
  if (!availability.available) throw new Error(availability.reason);
  const args = shareConsumerArgs(options);
  const libraryPath = [SHARE_CONSUMER_LIBRARY_DIR, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const child = spawn(SHARE_CONSUMER_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LD_LIBRARY_PATH: libraryPath } });
  if (child.pid === undefined) throw new Error(`could not start ${SHARE_CONSUMER_BINARY}`);
  installExitHook();
  running.add(child);
  const pid = child.pid;
  const output = new ShareConsumerOutput();
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  let stderr = '';
  let hasExited = false;
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    if (output.push(chunk).length > 0) notify();
  });
  child.stderr.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-STDERR_LIMIT);
    notify(); // a waitFor may watch librdkafka's logs
  });
  const guard = options.timeoutMs === undefined ? undefined : setTimeout(() => signal('SIGKILL'), options.timeoutMs + KILL_GUARD_MS);
  guard?.unref();
  const exited = new Promise<ShareConsumerExit>((resolve, reject) => {
    child.on('error', reject);
    // 'close' comes after stdout has ended, so every line has been parsed by then.
    child.on('close', (code, exitSignal) => {
      hasExited = true;
      running.delete(child);
      if (guard !== undefined) clearTimeout(guard);
      output.end();
      resolve({ code, signal: exitSignal, closed: output.closed, stopReason: output.stopReason });
      notify();
    });
  });

  function signal(name: NodeJS.Signals): void {
    if (hasExited) return;
    try {
      process.kill(pid, name);
    } catch {
      // it has just exited
    }
  }

  const consumer: ShareConsumerProcess = {
    pid,
    output,
    records: output.records,
    acks: output.acks,
    errors: output.errors,
    events: output.events,
    settledAcks: () => settledAcks(output.events),
    stderr: () => stderr,
    exited,
    waitFor(predicate, timeoutMs, what) {
      return new Promise<void>((resolve, reject) => {
        const finish = (error?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const describe = () => `${output.records.length} records, errors: ${JSON.stringify(output.errors.slice(-3))}`;
        const check = () => {
          if (predicate(consumer)) finish();
          else if (hasExited) finish(new Error(`share consumer exited before ${what} (${describe()})`));
        };
        const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${describe()})`)), timeoutMs);
        listeners.add(check);
        check();
      });
    },
    waitForRecords(count, timeoutMs) {
      return consumer.waitFor(() => output.records.length >= count, timeoutMs, `${count} records`);
    },
    async stop(graceMs = 30_000) {
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      signal('SIGKILL');
      return exited;
    },
  };
  return consumer;
}
