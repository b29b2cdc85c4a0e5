// A seeded fuzzer for Kafka request frames: seed frames (captured from real clients in
// test/protocol/golden, and valid requests built with the generated codecs for every API and
// version the broker serves), mutations aimed at the wire format (sizes, int16/int32 lengths,
// varints, compact arrays, tagged fields, record batch fields), an in-process decoder check (with an
// optional bound on the reader operations a frame may take), and a live driver that fires frames
// at a broker over several connections, each with its own seeded generator, while a healthy client
// keeps checking that the broker still serves. A frame the broker neither answers nor refuses is
// excused only for a reason Kafka has (legitimateHold); otherwise it is reported as unanswered.
// Used by test/fuzz/*.test.ts and bench/fuzz.ts.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { loadMessages, versionList } from '../../scripts/codegen/schema-model.js';
import { handlers } from '../../src/broker/handlers/registry.js';
import { decodeRequestHeader } from '../../src/protocol/headers.js';
import { type AnyApiDescriptor, ApiKey, FetchApi, type FetchRequest, ProduceApi, type ProduceRequest, apis } from '../../src/protocol/messages/index.js';
import { ProtocolError } from '../../src/protocol/primitives/protocol-error.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { BatchField, rewriteCrc } from '../../src/protocol/records/batch-header.js';
import { buildRecordBatchSync } from '../../src/protocol/records/record-batch.js';
import { seededRandom } from '../../src/testing/workload.js';
import { SampleBuilder } from '../protocol/sample-values.js';
import { healthyRoundTrip, openSocket } from '../support/fault-network.js';
import { encodeRequestFrame } from '../support/raw-client.js';

export const FUZZ_TOPIC = 'fuzz';
const PROJECT_DIR = fileURLToPath(new URL('../../', import.meta.url));
const GOLDEN_DIR = join(PROJECT_DIR, 'test/protocol/golden');

export interface SeedFrame {
  /** Where the frame came from, for reproducing a failure. */
  label: string;
  /** A whole frame: 4-byte size, request header, body. */
  frame: Buffer;
  /** Where a record batch starts inside `frame` (Produce seeds), or -1. */
  batchPosition: number;
  batchLength: number;
}

/**
 * APIs left out of the live fuzz: a mutated CreateTopics or CreatePartitions can legitimately ask
 * for tens of thousands of partitions, which a broker must create; they are decoder-fuzzed and
 * their validation is tested directly (test/fuzz/hostile-input.test.ts).
 */
const NOT_LIVE = new Set<number>([ApiKey.CreateTopics, ApiKey.CreatePartitions]);

/** Frames captured from real clients (kafkajs, kcat, kafka-python, platformatic). */
function goldenFrames(): SeedFrame[] {
  const seeds: SeedFrame[] = [];
  for (const name of readdirSync(GOLDEN_DIR).filter((file) => file.endsWith('.hex')).sort()) {
    const bytes = Buffer.from(readFileSync(join(GOLDEN_DIR, name), 'utf8').replace(/\s+/g, ''), 'hex');
    let position = 0;
    while (position + 4 <= bytes.length) {
      const size = bytes.readInt32BE(position);
      if (size < 0 || position + 4 + size > bytes.length) break;
      seeds.push({ label: `golden ${name}@${position}`, frame: bytes.subarray(position, position + 4 + size), batchPosition: -1, batchLength: 0 });
      position += 4 + size;
    }
  }
  return seeds;
}

/** Valid requests from the schema model's sample values, for every served API and version. */
function sampleFrames(live: boolean): SeedFrame[] {
  const messages = loadMessages(join(PROJECT_DIR, 'schemas')).filter((message) => message.kind === 'request');
  const seeds: SeedFrame[] = [];
  for (const handler of handlers) {
    const api = handler.api as AnyApiDescriptor;
    if (live && NOT_LIVE.has(api.apiKey)) continue;
    const model = messages.find((message) => message.apiKey === api.apiKey);
    if (!model) continue;
    for (const version of versionList(model.validVersions)) {
      if (version < handler.minVersion || version > handler.maxVersion) continue;
      const body = new SampleBuilder('values').struct(model.root, version);
      seeds.push({ label: `sample ${api.name} v${version}`, frame: encodeRequestFrame(api, version, 0, body as never), batchPosition: -1, batchLength: 0 });
    }
  }
  return seeds;
}

/** The seed batches' timestamp: fixed, so the seed frames (and a seed's replay) never depend on the clock. */
const SEED_BATCH_TIMESTAMP = Date.UTC(2026, 0, 1);

/** Produce and Fetch requests aimed at FUZZ_TOPIC, so mutations reach the append and read paths. */
function targetedFrames(): SeedFrame[] {
  const seeds: SeedFrame[] = [];
  const produce = apis[ApiKey.Produce]!;
  for (let version = 3; version <= produce.maxVersion; version += 1) {
    const batch = buildRecordBatchSync([{ key: Buffer.from('k'), value: Buffer.from(`fuzz seed v${version}`), headers: [{ key: 'h', value: Buffer.from('v') }] }, { value: Buffer.from('second') }], { baseTimestamp: SEED_BATCH_TIMESTAMP });
    const frame = encodeRequestFrame(ProduceApi, version, 0, { transactionalId: null, acks: 1, timeoutMs: 1_000, topicData: [{ name: FUZZ_TOPIC, partitionData: [{ index: 0, records: batch }] }] });
    seeds.push({ label: `produce v${version}`, frame, batchPosition: frame.indexOf(batch), batchLength: batch.length });
  }
  for (let version = 4; version <= 17; version += 1) {
    const frame = encodeRequestFrame(FetchApi, version, 0, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1024 * 1024,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: FUZZ_TOPIC, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 65536 }] }],
      forgottenTopicsData: [],
      rackId: '',
    });
    seeds.push({ label: `fetch v${version}`, frame, batchPosition: -1, batchLength: 0 });
  }
  return seeds;
}

export function seedFrames(options: { live: boolean }): SeedFrame[] {
  return [...goldenFrames(), ...sampleFrames(options.live), ...targetedFrames()];
}

const INT32_EDGES = [0, -1, 1, 0x7fffffff, -0x80000000, 0x7fff, 0x10000, -2];
const INT16_EDGES = [0, -1, 1, 0x7fff, -0x8000, 0xff];
/** Varints that are huge, negative once zigzagged, or never end (six continuation bytes). */
const BAD_VARINTS = [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0x01]), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x08]), Buffer.from([0xfe, 0xff, 0xff, 0xff, 0x0f])];
/** The first bytes after the size prefix a mutation may touch: api key, version, correlation id stay put. */
const HEADER_FIXED_BYTES = 12;

export interface Mutated {
  frame: Buffer;
  mutation: string;
}

type Mutator = (seed: SeedFrame, body: Buffer, random: () => number) => string;

function pick<T>(items: readonly T[], random: () => number): T {
  return items[Math.floor(random() * items.length)]!;
}

function positionIn(body: Buffer, random: () => number, from = HEADER_FIXED_BYTES): number {
  return body.length <= from ? body.length - 1 : from + Math.floor(random() * (body.length - from));
}

const MUTATORS: readonly Mutator[] = [
  (_seed, body, random) => {
    const flips = 1 + Math.floor(random() * 4);
    for (let index = 0; index < flips; index += 1) body[positionIn(body, random)] = Math.floor(random() * 256);
    return `${flips} random bytes`;
  },
  (_seed, body, random) => {
    const position = positionIn(body, random);
    if (position + 4 > body.length) return 'int32 edge (no room)';
    const value = pick(INT32_EDGES, random);
    body.writeInt32BE(value, position);
    return `int32 ${value} at ${position}`;
  },
  (_seed, body, random) => {
    const position = positionIn(body, random);
    if (position + 2 > body.length) return 'int16 edge (no room)';
    const value = pick(INT16_EDGES, random);
    body.writeInt16BE(value, position);
    return `int16 ${value} at ${position}`;
  },
  (_seed, body, random) => {
    const varint = pick(BAD_VARINTS, random);
    const position = positionIn(body, random);
    varint.copy(body, position, 0, Math.min(varint.length, body.length - position));
    return `varint ${varint.toString('hex')} at ${position}`;
  },
  (_seed, body, random) => {
    body.writeInt16BE(Math.floor(random() * 20), 2);
    return `version ${body.readInt16BE(2)}`;
  },
  (seed, body, random) => {
    if (seed.batchPosition < 0) return 'batch field (no batch)';
    return mutateBatch(body, seed.batchPosition - 4, seed.batchLength, random);
  },
];

/** Damage one field of the record batch inside a Produce frame (`start` is relative to the body). */
function mutateBatch(body: Buffer, start: number, length: number, random: () => number): string {
  const batch = body.subarray(start, start + length);
  const choice = Math.floor(random() * 7);
  switch (choice) {
    case 0:
      batch.writeInt32BE(batch.readInt32BE(BatchField.crc) ^ 1, BatchField.crc);
      return 'batch: wrong CRC';
    case 1:
      batch.writeInt32BE(pick(INT32_EDGES, random), BatchField.recordsCount);
      rewriteCrc(batch);
      return 'batch: records count';
    case 2:
      batch.writeInt32BE(pick(INT32_EDGES, random), BatchField.length);
      return 'batch: batch length';
    case 3:
      batch[BatchField.magic] = pick([0, 1, 3, 0xff], random);
      return `batch: magic ${batch[BatchField.magic]}`;
    case 4:
      batch.writeInt16BE(pick([0x20, 0x30, 0x07, 0x05, 0x06, -1], random), BatchField.attributes);
      rewriteCrc(batch);
      return `batch: attributes ${batch.readInt16BE(BatchField.attributes)}`;
    case 5:
      batch.writeInt32BE(pick(INT32_EDGES, random), BatchField.lastOffsetDelta);
      rewriteCrc(batch);
      return 'batch: last offset delta';
    default: {
      // A record's length varint: negative, huge or endless, with a CRC that matches.
      const varint = pick(BAD_VARINTS, random);
      varint.copy(batch, 61, 0, Math.min(varint.length, batch.length - 61));
      rewriteCrc(batch);
      return `batch: record length ${varint.toString('hex')}`;
    }
  }
}

/** Applies one or two mutations; the size prefix stays true (other tests cover lying sizes). */
export function mutate(seed: SeedFrame, random: () => number): Mutated {
  let body = Buffer.from(seed.frame.subarray(4));
  const steps: string[] = [];
  const count = 1 + Math.floor(random() * 2);
  for (let step = 0; step < count; step += 1) steps.push(pick(MUTATORS, random)(seed, body, random));
  const shape = random();
  if (shape < 0.1) {
    body = body.subarray(0, Math.max(8, Math.floor(random() * body.length)));
    steps.push(`truncated to ${body.length}`);
  } else if (shape < 0.15) {
    body = Buffer.concat([body, Buffer.from(Array.from({ length: Math.floor(random() * 32) }, () => Math.floor(random() * 256)))]);
    steps.push('extended');
  }
  const frame = Buffer.alloc(4 + body.length);
  frame.writeInt32BE(body.length, 0);
  body.copy(frame, 4);
  return { frame, mutation: `${seed.label}: ${steps.join(', ')}` };
}

export interface DecodeOutcome {
  decoded: number;
  protocolErrors: number;
  unknownApis: number;
  /** The most reader operations one frame took, and that count per byte of frame (with a work budget). */
  maxOperations?: number;
  maxOperationsPerByte?: number;
}

/** Thrown when a decode takes more reader operations than its budget: a decoder that loops. */
export class WorkBudgetExceeded extends Error {}

/**
 * A Reader that counts its operations (every method call, internal ones included) and throws
 * WorkBudgetExceeded past `budget`: a bound on a decoder's work that does not depend on the clock.
 */
export class WorkBoundedReader extends Reader {
  operations = 0;

  constructor(
    buffer: Buffer,
    readonly budget: number,
  ) {
    super(buffer);
  }

  tick(): void {
    this.operations += 1;
    if (this.operations > this.budget) throw new WorkBudgetExceeded(`decoding took more than ${this.budget} reader operations (position ${this.position} of ${this.end})`);
  }
}
for (const name of Object.getOwnPropertyNames(Reader.prototype)) {
  const method = Object.getOwnPropertyDescriptor(Reader.prototype, name)?.value as unknown;
  if (name === 'constructor' || typeof method !== 'function') continue;
  Object.defineProperty(WorkBoundedReader.prototype, name, {
    value(this: WorkBoundedReader, ...args: unknown[]) {
      this.tick();
      return (method as (...args: unknown[]) => unknown).apply(this, args);
    },
  });
}

/** The reader operations a frame of `bytes` bytes may take to decode (or be refused): linear in its size. */
export function decodeBudget(bytes: number): number {
  return 64 + 8 * bytes;
}

/**
 * Decodes one frame the way the dispatcher does; anything but a ProtocolError is a bug. With
 * `bounded`, the decode runs on a WorkBoundedReader with decodeBudget(frame size) operations.
 */
export function decodeFrame(frame: Buffer, outcome: DecodeOutcome, bounded = false): void {
  const body = frame.subarray(4);
  if (body.length < 8) {
    outcome.protocolErrors += 1;
    return;
  }
  const api = apis[body.readInt16BE(0)];
  const version = body.readInt16BE(2);
  if (!api || version < api.minVersion || version > api.maxVersion) {
    outcome.unknownApis += 1;
    return;
  }
  const reader = bounded ? new WorkBoundedReader(body, decodeBudget(body.length)) : new Reader(body);
  try {
    decodeRequestHeader(reader);
    api.decodeRequest(reader, version);
    outcome.decoded += 1;
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error;
    outcome.protocolErrors += 1;
  } finally {
    if (reader instanceof WorkBoundedReader) {
      outcome.maxOperations = Math.max(outcome.maxOperations ?? 0, reader.operations);
      outcome.maxOperationsPerByte = Math.max(outcome.maxOperationsPerByte ?? 0, reader.operations / body.length);
    }
  }
}

/** The distinct error-level log messages, with connection-specific fields stripped. */
export function distinctErrors(lines: readonly { level: string; line: string }[]): string[] {
  const messages = lines.filter((entry) => entry.level === 'error').map((entry) => entry.line.replace(/ (connection|remote)=\S+/g, ''));
  return [...new Set(messages)];
}

/**
 * The frames one fuzz lane fires: mutations of `seeds` drawn from a generator of its own, seeded
 * with `seed` alone, so a lane's sequence depends on nothing another lane or the clock does.
 */
export function* mutatedFrames(seeds: readonly SeedFrame[], seed: number): Generator<Mutated, never> {
  const random = seededRandom(seed);
  for (;;) yield mutate(seeds[Math.floor(random() * seeds.length)]!, random);
}

/** The seed of lane `lane` in a run seeded `seed`: the lane's draw from the run's own generator, whatever the lane count. */
export function laneSeed(seed: number, lane: number): number {
  const random = seededRandom(seed);
  let draw = 0;
  for (let index = 0; index <= lane; index += 1) draw = random();
  return Math.floor(draw * 4294967296);
}

/** Why Kafka may leave a request unanswered, worked out from the request as the broker decodes it. */
export interface LegitimateHold {
  reason: 'produce acks=0' | 'fetch long poll' | 'join group' | 'sync group';
  /** How long Kafka may hold it (Fetch: MaxWaitMs); undefined when the answer may never come. */
  boundMs?: number;
}

/**
 * The frame's legitimate reason to stay unanswered, or undefined when the broker must answer it or
 * close the connection. Kafka leaves a request unanswered only when: Produce (v3+, record batches)
 * has acks=0 and its append succeeds (never answered); Fetch has MaxWaitMs > 0 and MinBytes > 0
 * (parked until MinBytes arrive or MaxWaitMs passes); JoinGroup waits for the join phase of the
 * rebalance (other members, rebalance timeout); SyncGroup waits for the leader's assignment. A
 * frame that does not decode, names an unserved API or version, or is any other request must be
 * answered or refused.
 */
export function legitimateHold(frame: Buffer): LegitimateHold | undefined {
  const body = frame.subarray(4);
  if (body.length < 8) return undefined;
  const apiKey = body.readInt16BE(0);
  const version = body.readInt16BE(2);
  const handler = handlers.find((candidate) => candidate.api.apiKey === apiKey);
  const api = apis[apiKey];
  if (!handler || !api || version < handler.minVersion || version > handler.maxVersion) return undefined;
  let request: unknown;
  try {
    const reader = new Reader(body);
    decodeRequestHeader(reader);
    request = api.decodeRequest(reader, version);
  } catch {
    return undefined;
  }
  switch (apiKey) {
    case ApiKey.Produce:
      return version >= 3 && (request as ProduceRequest).acks === 0 ? { reason: 'produce acks=0' } : undefined;
    case ApiKey.Fetch: {
      const fetch = request as FetchRequest;
      return fetch.maxWaitMs > 0 && fetch.minBytes > 0 ? { reason: 'fetch long poll', boundMs: fetch.maxWaitMs } : undefined;
    }
    case ApiKey.JoinGroup:
      return { reason: 'join group' };
    case ApiKey.SyncGroup:
      return { reason: 'sync group' };
    default:
      return undefined;
  }
}

export interface LiveStats {
  frames: number;
  responses: number;
  closes: number;
  /** Frames left unanswered for a reason Kafka allows (legitimateHold), by reason; their connection is dropped. */
  held: Record<string, number>;
  /** Frames answered or refused only after holdMs (slow, but not wrong). */
  slow: number;
  /** Frames neither answered nor refused within patienceMs with no legitimate reason: must stay empty. */
  unanswered: string[];
  healthChecks: number;
  healthMaxMs: number;
  rssPeakMiB: number;
  /** Protocol violations by the broker (a response to the wrong request): must stay empty. */
  violations: string[];
  /** A digest of every lane's frames, lane by lane: equal for two runs with the same seed, frames and lanes. */
  framesDigest: string;
}

export function heldTotal(stats: LiveStats): number {
  return Object.values(stats.held).reduce((sum, count) => sum + count, 0);
}

export interface LiveOptions {
  address: string;
  frames: number;
  lanes: number;
  /** Each lane draws its frames from mutatedFrames(seeds, laneSeed(seed, lane)). */
  seed: number;
  seeds: readonly SeedFrame[];
  /** How long a frame may go unanswered before it is examined (legitimateHold). */
  holdMs?: number;
  /**
   * How long a frame with no legitimate reason to be held (or one whose hold is bounded, plus its
   * bound) is waited for before it counts as unanswered: a deadline, generous for a loaded machine.
   */
  patienceMs?: number;
  /** Fetch long polls up to this MaxWaitMs are followed to their answer; longer ones count as held. */
  followPollsUpToMs?: number;
  /** Frames between two healthy-client checks. */
  healthEvery?: number;
  healthDeadlineMs?: number;
  onProgress?: (stats: LiveStats) => void;
}

type Outcome = { kind: 'response' | 'closed'; slow: boolean } | { kind: 'held'; reason: string } | { kind: 'unanswered' };

/** One connection of the live fuzzer: one frame at a time, answered, refused, legitimately held or unanswered. */
class Lane {
  private socket: Socket | undefined;
  private buffered = Buffer.alloc(0);
  private waiting: ((kind: 'response' | 'closed') => void) | undefined;
  private correlationId = 0;

  constructor(
    private readonly address: string,
    private readonly violations: string[],
  ) {}

  async fire(frame: Buffer, options: Required<Pick<LiveOptions, 'holdMs' | 'patienceMs' | 'followPollsUpToMs'>>): Promise<Outcome> {
    const socket = (this.socket ??= await this.open());
    this.correlationId = (this.correlationId + 1) & 0x7fffffff;
    if (frame.length >= 12) frame.writeInt32BE(this.correlationId, 8);
    const answered = new Promise<'response' | 'closed'>((resolve) => {
      this.waiting = resolve;
    });
    socket.write(frame);
    let outcome = await this.within(answered, options.holdMs);
    if (outcome === undefined) {
      const hold = legitimateHold(frame);
      if (hold !== undefined && (hold.boundMs === undefined || hold.boundMs > options.followPollsUpToMs)) {
        this.drop();
        return { kind: 'held', reason: hold.reason };
      }
      outcome = await this.within(answered, (hold?.boundMs ?? 0) + options.patienceMs);
      if (outcome === undefined) {
        this.drop();
        return { kind: 'unanswered' };
      }
      if (outcome !== 'response') this.drop();
      return { kind: outcome, slow: true };
    }
    if (outcome !== 'response') this.drop();
    return { kind: outcome, slow: false };
  }

  close(): void {
    this.drop();
  }

  /** `answered`, or undefined once `ms` pass first (a deadline, not a measurement). */
  private async within<T>(answered: Promise<T>, ms: number): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([answered, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async open(): Promise<Socket> {
    const socket = await openSocket(this.address);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      // Only the current connection's close answers the frame in flight; a dropped one's is late news.
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.settle('closed');
    });
    this.buffered = Buffer.alloc(0);
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
      const correlationId = this.buffered.readInt32BE(4);
      this.buffered = this.buffered.subarray(4 + this.buffered.readInt32BE(0));
      if (correlationId !== this.correlationId) this.violations.push(`response for correlation id ${correlationId}, expected ${this.correlationId}`);
      this.settle('response');
    }
  }

  private settle(kind: 'response' | 'closed'): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(kind);
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    this.waiting = undefined;
    socket?.destroy();
  }
}

/**
 * Fires `frames` mutated frames over `lanes` connections, checking a healthy client as it goes.
 * Lane i fires its share of the frames, drawn from mutatedFrames(seeds, laneSeed(seed, i)): the
 * same seed replays the same frames on every lane (how lanes interleave, and so what one lane's
 * frames find in the broker's state, still depends on timing).
 */
export async function fuzzLiveBroker(options: LiveOptions): Promise<LiveStats> {
  const stats: LiveStats = { frames: 0, responses: 0, closes: 0, held: {}, slow: 0, unanswered: [], healthChecks: 0, healthMaxMs: 0, rssPeakMiB: 0, violations: [], framesDigest: '' };
  const digests = Array.from({ length: options.lanes }, () => createHash('sha256'));
  const healthEvery = options.healthEvery ?? 250;
  const fireOptions = { holdMs: options.holdMs ?? 750, patienceMs: options.patienceMs ?? 20_000, followPollsUpToMs: options.followPollsUpToMs ?? 2_000 };
  let nextHealth = healthEvery;
  const runLane = async (index: number) => {
    const lane = new Lane(options.address, stats.violations);
    const share = Math.floor(options.frames / options.lanes) + (index < options.frames % options.lanes ? 1 : 0);
    const frames = mutatedFrames(options.seeds, laneSeed(options.seed, index));
    // An unanswered frame fails the run: stop there rather than wait out every later one.
    for (let fired = 0; fired < share && stats.unanswered.length === 0; fired += 1) {
      const { frame, mutation } = frames.next().value;
      const original = Buffer.from(frame);
      digests[index]!.update(original);
      stats.frames += 1;
      const outcome = await lane.fire(frame, fireOptions);
      if (outcome.kind === 'response') stats.responses += 1;
      else if (outcome.kind === 'closed') stats.closes += 1;
      else if (outcome.kind === 'held') stats.held[outcome.reason] = (stats.held[outcome.reason] ?? 0) + 1;
      else stats.unanswered.push(`lane ${index} frame ${fired}: ${mutation}; frame ${original.toString('hex')}`);
      if (outcome.kind !== 'held' && outcome.kind !== 'unanswered' && outcome.slow) stats.slow += 1;
      if (stats.frames >= nextHealth) {
        nextHealth += healthEvery;
        await checkHealth(options, stats);
      }
    }
    lane.close();
  };
  await Promise.all(Array.from({ length: options.lanes }, (_, index) => runLane(index)));
  const all = createHash('sha256');
  for (const digest of digests) all.update(digest.digest());
  stats.framesDigest = all.digest('hex').slice(0, 16);
  await checkHealth(options, stats);
  return stats;
}

async function checkHealth(options: LiveOptions, stats: LiveStats): Promise<void> {
  const latencyMs = await healthyRoundTrip(options.address, options.healthDeadlineMs ?? 5_000);
  stats.healthChecks += 1;
  stats.healthMaxMs = Math.max(stats.healthMaxMs, latencyMs);
  stats.rssPeakMiB = Math.max(stats.rssPeakMiB, process.memoryUsage().rss / (1024 * 1024));
  options.onProgress?.(stats);
}
