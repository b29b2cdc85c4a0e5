// The handshake fuzzer: seeded exchanges of SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER; over
// SaslAuthenticate and as raw frames after a v0 handshake) and TLS client hellos, each exchange
// possibly damaged at one step, fired at a live broker over TCP. A SASL exchange is a script of
// frames in which a later frame may depend on an earlier answer (SCRAM's client-final answers the
// server-first it got), so the fuzz reaches past the first message. A damage is either a frame
// mutation (frame-fuzzer.ts's mutate: sizes, lengths, versions, random bytes) or a token mutation
// re-encoded in a well-formed frame, which is what reaches the mechanisms' own parsers.
// Used by test/fuzz/handshake-fuzz.test.ts.
import { type Socket, connect, createServer } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { scramMechanismByName } from '../../src/base/scram.js';
import { decodeRequestHeader, responseHeaderVersion } from '../../src/protocol/headers.js';
import { MetadataApi, SaslAuthenticateApi, SaslHandshakeApi } from '../../src/protocol/messages/index.js';
import { Reader } from '../../src/protocol/primitives/reader.js';
import { seededRandom } from '../../src/testing/workload.js';
import { encodeRequestFrame } from '../support/raw-client.js';
import { ScramClient } from '../support/scram-client.js';
import { mutate } from './frame-fuzzer.js';

export interface HandshakeCredentials {
  readonly user: string;
  readonly password: string;
  /** An unsecured JWT for `user` the broker's OAUTHBEARER validator accepts. */
  readonly token: string;
}

/** What happened to one frame: an answer (its bytes after the size prefix), the connection closed, or nothing in time. */
type FrameOutcome = { kind: 'answer'; body: Buffer; slow: boolean } | { kind: 'closed'; slow: boolean } | { kind: 'unanswered' };

const SLOW_MS = 2_000;

/** One raw connection that sends a frame and waits for one size-prefixed answer or the close. */
class RawLane {
  private buffered = Buffer.alloc(0);
  private waiting: ((outcome: 'data' | 'closed') => void) | undefined;
  private isClosed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      this.settle('data');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.isClosed = true;
      this.settle('closed');
    });
  }

  static open(port: number): Promise<RawLane> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new RawLane(socket)));
      socket.once('error', reject);
    });
  }

  async exchange(frame: Buffer, patienceMs: number): Promise<FrameOutcome> {
    const startedAt = performance.now();
    if (!this.isClosed) this.socket.write(frame);
    const deadline = startedAt + patienceMs;
    for (;;) {
      const answer = this.takeFrame();
      const slow = performance.now() - startedAt > SLOW_MS;
      if (answer !== undefined) return { kind: 'answer', body: answer, slow };
      if (this.isClosed) return { kind: 'closed', slow };
      const left = deadline - performance.now();
      if (left <= 0) return { kind: 'unanswered' };
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private takeFrame(): Buffer | undefined {
    if (this.buffered.length < 4) return undefined;
    const size = this.buffered.readInt32BE(0);
    if (this.buffered.length < 4 + size) return undefined;
    const body = this.buffered.subarray(4, 4 + size);
    this.buffered = this.buffered.subarray(4 + size);
    return body;
  }

  private settle(outcome: 'data' | 'closed'): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.(outcome);
  }
}

/** A step's frame: built from the answers so far (SCRAM's client-final needs the server-first). */
interface Step {
  readonly label: string;
  /** The frame; `raw` frames (after a v0 handshake) carry a token and no request header. */
  build(answers: readonly Buffer[]): { frame: Buffer; token?: Buffer; raw?: boolean; api?: 'authenticate' | 'handshake' | 'metadata' };
}

interface Script {
  readonly label: string;
  readonly steps: readonly Step[];
  /** Whether the exchange, undamaged, authenticates (its last step is then a Metadata request, answered). */
  readonly succeeds: boolean;
  /** For PLAIN and SCRAM: whether the token a damaged step sent could still carry the right credentials. */
  readonly genuine?: (token: Buffer, stepIndex: number, answers: readonly Buffer[]) => boolean;
}

function handshake(mechanism: string, version: number): Step {
  return { label: `SaslHandshake v${version} ${mechanism}`, build: () => ({ frame: encodeRequestFrame(SaslHandshakeApi, version, 1, { mechanism }), api: 'handshake' }) };
}

function authenticate(label: string, version: number, token: (answers: readonly Buffer[]) => Buffer): Step {
  return {
    label: `SaslAuthenticate v${version} ${label}`,
    build: (answers) => {
      const authBytes = token(answers);
      return { frame: encodeRequestFrame(SaslAuthenticateApi, version, 2, { authBytes }), token: authBytes, api: 'authenticate' };
    },
  };
}

function rawToken(label: string, token: (answers: readonly Buffer[]) => Buffer): Step {
  return {
    label: `raw ${label}`,
    build: (answers) => {
      const bytes = token(answers);
      const frame = Buffer.alloc(4 + bytes.length);
      frame.writeInt32BE(bytes.length, 0);
      bytes.copy(frame, 4);
      return { frame, token: bytes, raw: true };
    },
  };
}

const metadata: Step = {
  label: 'Metadata v12',
  build: () => ({ frame: encodeRequestFrame(MetadataApi, 12, 3, { topics: [], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false }), api: 'metadata' }),
};

/** The auth bytes a successful SaslAuthenticate answer (v `version`, after the size prefix) carries; undefined otherwise. */
export function authBytesOf(body: Buffer, version: number): Buffer | undefined {
  try {
    // The response header: the correlation id, and an empty tagged-field section from v2 on.
    const headerBytes = responseHeaderVersion(SaslAuthenticateApi.apiKey, version) >= 1 ? 5 : 4;
    const response = SaslAuthenticateApi.decodeResponse(new Reader(body.subarray(headerBytes)), version);
    return response.errorCode === 0 ? response.authBytes : undefined;
  } catch {
    return undefined;
  }
}

/** A SCRAM server-first answer, from SaslAuthenticate (v `version`) or a raw frame. */
function serverFirstOf(answer: Buffer | undefined, version: number | 'raw'): Buffer {
  if (answer === undefined) return Buffer.from('r=,s=,i=1');
  return (version === 'raw' ? answer : authBytesOf(answer, version)) ?? Buffer.from('r=,s=,i=1');
}

/** The attributes of a SCRAM client-final message (c, r, p), for telling a harmless damage from a forged one. */
function finalAttributes(token: Buffer): Map<string, string> {
  return new Map(token.toString('latin1').split(',').map((part) => [part.slice(0, 2), part.slice(2)]));
}

/** The scripts the SASL lanes draw from: each mechanism over each path, right and wrong credentials. */
export function saslScripts(credentials: HandshakeCredentials): Script[] {
  const scripts: Script[] = [];
  const plainToken = (password: string) => Buffer.from(`\u0000${credentials.user}\u0000${password}`);
  const plainGenuine = (token: Buffer) => token.toString('utf8') === plainToken(credentials.password).toString('utf8') || token.toString('utf8') === `${credentials.user}\u0000${credentials.user}\u0000${credentials.password}`;
  for (const right of [true, false]) {
    const password = right ? credentials.password : `${credentials.password}-wrong`;
    for (const version of [0, 1, 2]) {
      scripts.push({
        label: `PLAIN ${right ? 'right' : 'wrong'} password, SaslAuthenticate v${version}`,
        steps: [handshake('PLAIN', 1), authenticate('PLAIN', version, () => plainToken(password)), ...(right ? [metadata] : [])],
        succeeds: right,
        genuine: plainGenuine,
      });
    }
    scripts.push({ label: `PLAIN ${right ? 'right' : 'wrong'} password, raw after v0`, steps: [handshake('PLAIN', 0), rawToken('PLAIN', () => plainToken(password)), ...(right ? [metadata] : [])], succeeds: right, genuine: plainGenuine });
    for (const mechanismName of ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const) {
      const mechanism = scramMechanismByName(mechanismName)!;
      for (const path of [2, 'raw'] as const) {
        let client: ScramClient | undefined;
        const first = () => {
          client = new ScramClient(mechanism, credentials.user, credentials.password);
          return client.clientFirst();
        };
        const final = (answers: readonly Buffer[]) => client!.clientFinal(serverFirstOf(answers[1], path), right ? undefined : 'guessed');
        const steps = path === 'raw' ? [handshake(mechanismName, 0), rawToken(`${mechanismName} client-first`, first), rawToken(`${mechanismName} client-final`, final)] : [handshake(mechanismName, 1), authenticate(`${mechanismName} client-first`, path, first), authenticate(`${mechanismName} client-final`, path, final)];
        scripts.push({
          label: `${mechanismName} ${right ? 'right' : 'wrong'} password, ${path === 'raw' ? 'raw after v0' : 'SaslAuthenticate v2'}`,
          steps: right ? [...steps, metadata] : steps,
          succeeds: right,
          // A damaged client-first can only keep the user and nonce; a damaged client-final must keep the proof and the combined nonce.
          genuine: (token, stepIndex, answers) => {
            if (stepIndex === 1) return token.toString('latin1').includes(`n=${credentials.user},r=${client!.nonce}`);
            const expected = finalAttributes(client!.clientFinal(serverFirstOf(answers[1], path)));
            const sent = finalAttributes(token);
            return sent.get('r=') === expected.get('r=') && Buffer.from(sent.get('p=') ?? '', 'base64').equals(Buffer.from(expected.get('p=')!, 'base64'));
          },
        });
      }
    }
  }
  const oauth = (token: string) => Buffer.from(`n,,\u0001auth=Bearer ${token}\u0001\u0001`);
  scripts.push({ label: 'OAUTHBEARER unsecured token', steps: [handshake('OAUTHBEARER', 1), authenticate('OAUTHBEARER', 2, () => oauth(credentials.token)), metadata], succeeds: true });
  scripts.push({ label: 'OAUTHBEARER not a token', steps: [handshake('OAUTHBEARER', 1), authenticate('OAUTHBEARER', 2, () => oauth('not.a.jwt')), authenticate('OAUTHBEARER %x01', 2, () => Buffer.from([1]))], succeeds: false });
  // Before authentication: a request other than the handshake, an unknown mechanism, a TLS hello.
  scripts.push({ label: 'Metadata before authentication', steps: [metadata], succeeds: false });
  scripts.push({ label: 'unknown mechanism', steps: [handshake('GSSAPI', 1)], succeeds: false });
  return scripts;
}

export interface SaslFuzzStats {
  exchanges: number;
  damaged: number;
  authenticated: number;
  refused: number;
  closes: number;
  slow: number;
  unanswered: string[];
  /** Broken promises: an undamaged exchange with the wrong outcome, a damaged one authenticating with other credentials. */
  violations: string[];
}

/** Damages a token: random bytes, truncation, extension, an attribute's separator, or empty. */
function mutateToken(token: Buffer, random: () => number): { token: Buffer; mutation: string } {
  const copy = Buffer.from(token);
  const choice = Math.floor(random() * 6);
  if (choice === 0 && copy.length > 0) {
    const flips = 1 + Math.floor(random() * 3);
    for (let index = 0; index < flips; index += 1) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
    return { token: copy, mutation: `token: ${flips} random bytes` };
  }
  if (choice === 1) {
    const length = Math.floor(random() * copy.length);
    return { token: copy.subarray(0, length), mutation: `token truncated to ${length}` };
  }
  if (choice === 2) return { token: Buffer.concat([copy, Buffer.from(Array.from({ length: 1 + Math.floor(random() * 64) }, () => Math.floor(random() * 256)))]), mutation: 'token extended' };
  if (choice === 3) {
    const separators = [0x2c, 0x3d, 0x00, 0x01];
    for (let index = 0; index < copy.length; index += 1) if (separators.includes(copy[index]!) && random() < 0.3) copy[index] = separators[Math.floor(random() * separators.length)]!;
    return { token: copy, mutation: 'token separators shuffled' };
  }
  if (choice === 4) return { token: Buffer.alloc(0), mutation: 'token empty' };
  return { token: Buffer.concat([copy, copy]), mutation: 'token doubled' };
}

/** The token a SaslAuthenticate frame carries, decoded as the broker would (undefined when it no longer decodes as one). */
function tokenOf(frame: Buffer): Buffer | undefined {
  try {
    const reader = new Reader(frame.subarray(4));
    const header = decodeRequestHeader(reader);
    if (header.apiKey !== SaslAuthenticateApi.apiKey) return undefined;
    return SaslAuthenticateApi.decodeRequest(reader, header.apiVersion).authBytes;
  } catch {
    return undefined;
  }
}

/** Whether a step's answer lets the exchange go on: a handshake or SaslAuthenticate without error, or a raw frame. */
function accepted(body: Buffer, built: ReturnType<Step['build']>): boolean {
  if (built.raw) return true;
  const version = built.frame.readInt16BE(6);
  if (built.api === 'authenticate') return authBytesOf(body, version) !== undefined;
  return body.length >= 6 && body.readInt16BE(4) === 0;
}

interface ExchangeResult {
  outcome: 'authenticated' | 'refused' | 'closed' | 'unanswered';
  /** What went wrong, for the report: the unanswered frame, or a damaged exchange that authenticated. */
  problem?: string;
  slow: number;
}

/**
 * Runs one exchange of `script` on a new connection, damaging step `damagedStep` (none if -1) with
 * `random`: every frame must be answered or the connection closed within `patienceMs`.
 */
async function runExchange(port: number, script: Script, damagedStep: number, random: () => number, patienceMs: number): Promise<ExchangeResult> {
  const lane = await RawLane.open(port);
  const answers: Buffer[] = [];
  const result: ExchangeResult = { outcome: 'refused', slow: 0 };
  let damage = '';
  let damagedToken: Buffer | undefined;
  try {
    for (let stepIndex = 0; stepIndex < script.steps.length; stepIndex += 1) {
      const step = script.steps[stepIndex]!;
      let built = step.build(answers);
      if (stepIndex === damagedStep) {
        if (built.raw || (built.token !== undefined && random() < 0.5)) {
          const mutated = mutateToken(built.token!, random);
          damage = `${step.label}: ${mutated.mutation}`;
          built = built.raw ? rawToken(step.label, () => mutated.token).build(answers) : { ...built, frame: reencode(built.frame, mutated.token) };
        } else {
          const mutated = mutate({ label: step.label, frame: built.frame, batchPosition: -1, batchLength: 0 }, random);
          damage = mutated.mutation;
          built = { ...built, frame: mutated.frame };
        }
        if (built.token !== undefined) damagedToken = built.raw ? built.frame.subarray(4) : (tokenOf(built.frame) ?? Buffer.alloc(0));
      }
      const answer = await lane.exchange(built.frame, patienceMs);
      if (answer.kind === 'unanswered') {
        return { outcome: 'unanswered', slow: result.slow, problem: `${script.label}, step ${stepIndex} (${step.label})${damage ? `, damaged: ${damage}` : ''}; frame ${built.frame.toString('hex').slice(0, 400)}` };
      }
      if (answer.slow) result.slow += 1;
      if (answer.kind === 'closed') {
        result.outcome = 'closed';
        break;
      }
      answers.push(answer.body);
      if (built.api === 'metadata') result.outcome = 'authenticated';
      else if (!accepted(answer.body, built)) break;
    }
  } finally {
    lane.close();
  }
  // A damaged token the broker authenticated must still have carried the right credentials.
  if (result.outcome === 'authenticated' && damagedToken !== undefined && script.genuine && !script.genuine(damagedToken, damagedStep, answers)) {
    result.problem = `${script.label}: authenticated after ${damage}`;
  }
  return result;
}

/**
 * Runs `exchanges` SASL exchanges over `lanes` connections at a time against `port`. Each exchange
 * is a script drawn by the lane's own generator; with probability 2/3 one of its steps is damaged.
 */
export async function fuzzSasl(options: { port: number; exchanges: number; lanes: number; seed: number; credentials: HandshakeCredentials; patienceMs?: number; onExchange?: () => Promise<void> }): Promise<SaslFuzzStats> {
  const stats: SaslFuzzStats = { exchanges: 0, damaged: 0, authenticated: 0, refused: 0, closes: 0, slow: 0, unanswered: [], violations: [] };
  const runLane = async (laneIndex: number) => {
    const random = seededRandom(options.seed + laneIndex * 7919);
    const scripts = saslScripts(options.credentials);
    const share = Math.floor(options.exchanges / options.lanes) + (laneIndex < options.exchanges % options.lanes ? 1 : 0);
    for (let done = 0; done < share && stats.unanswered.length === 0; done += 1) {
      const script = scripts[Math.floor(random() * scripts.length)]!;
      const damagedStep = random() < 2 / 3 ? Math.floor(random() * script.steps.length) : -1;
      const { outcome, problem, slow } = await runExchange(options.port, script, damagedStep, random, options.patienceMs ?? 20_000);
      stats.exchanges += 1;
      stats.slow += slow;
      if (damagedStep >= 0) stats.damaged += 1;
      if (outcome === 'unanswered') stats.unanswered.push(problem!);
      else if (problem !== undefined) stats.violations.push(problem);
      if (outcome === 'authenticated') stats.authenticated += 1;
      else if (outcome === 'closed') stats.closes += 1;
      else if (outcome === 'refused') stats.refused += 1;
      // Undamaged, an exchange ends as its script says: authenticated and served, or not.
      if (damagedStep < 0 && outcome !== 'unanswered' && (outcome === 'authenticated') !== script.succeeds) stats.violations.push(`${script.label}: undamaged, ended ${outcome}`);
      await options.onExchange?.();
    }
  };
  await Promise.all(Array.from({ length: options.lanes }, (_, index) => runLane(index)));
  return stats;
}

/** Runs every script undamaged, one at a time: the labels of those that did not end as they must. */
export async function undamagedExchanges(port: number, credentials: HandshakeCredentials): Promise<string[]> {
  const wrong: string[] = [];
  for (const script of saslScripts(credentials)) {
    const { outcome } = await runExchange(port, script, -1, () => 0, 20_000);
    if ((outcome === 'authenticated') !== script.succeeds) wrong.push(`${script.label}: ${outcome}`);
  }
  return wrong;
}

/** A SaslAuthenticate frame with another token, its header (and so its version and correlation id) kept. */
function reencode(frame: Buffer, token: Buffer): Buffer {
  const version = frame.readInt16BE(6);
  const correlationId = frame.readInt32BE(8);
  return encodeRequestFrame(SaslAuthenticateApi, version, correlationId, { authBytes: token });
}

/** The first TLS record a real client sends (its ClientHello), captured from node:tls, for TLS 1.3 or 1.2. */
export async function captureClientHello(maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      let bytes = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        if (bytes.length >= 5 && bytes.length >= 5 + bytes.readUInt16BE(3)) {
          socket.destroy();
          server.close();
          resolve(bytes.subarray(0, 5 + bytes.readUInt16BE(3)));
        }
      });
      socket.on('error', () => {});
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      const client = connectTls({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, maxVersion });
      client.on('error', () => {});
    });
    server.on('error', reject);
  });
}

export interface TlsFuzzStats {
  hellos: number;
  /** The broker answered (a ServerHello or an alert) and closed, or went on with the handshake. */
  answered: number;
  closedSilently: number;
  /** Still open when the lane stopped waiting: the broker must close these by its handshake timeout. */
  pending: Socket[];
}

/** Damages a ClientHello record: bytes, its record or handshake length, versions, truncation, garbage after it. */
function mutateHello(hello: Buffer, random: () => number): Buffer {
  const copy = Buffer.from(hello);
  switch (Math.floor(random() * 7)) {
    case 0: {
      for (let flips = 1 + Math.floor(random() * 6); flips > 0; flips -= 1) copy[Math.floor(random() * copy.length)] = Math.floor(random() * 256);
      return copy;
    }
    case 1:
      copy.writeUInt16BE([0, 1, 0x4000, 0xffff, copy.length][Math.floor(random() * 5)]!, 3);
      return copy;
    case 2:
      copy.writeUIntBE([0, 1, 0xffffff, 0x4000][Math.floor(random() * 4)]!, 6, 3);
      return copy;
    case 3:
      copy.writeUInt16BE([0x0300, 0x0301, 0x0304, 0xffff, 0][Math.floor(random() * 5)]!, 9);
      return copy;
    case 4:
      return copy.subarray(0, Math.floor(random() * copy.length));
    case 5:
      return Buffer.concat([copy, Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256)))]);
    default:
      return Buffer.from(Array.from({ length: 1 + Math.floor(random() * 600) }, () => Math.floor(random() * 256)));
  }
}

/**
 * Sends `hellos` damaged (or plaintext, or garbage) first flights to the TLS listener at `port`, one
 * connection each, `lanes` at a time; each waits up to `waitMs` for the broker's answer or close.
 */
export async function fuzzTls(options: { port: number; hellos: number; lanes: number; seed: number; samples: readonly Buffer[]; plaintext: Buffer; waitMs?: number }): Promise<TlsFuzzStats> {
  const stats: TlsFuzzStats = { hellos: 0, answered: 0, closedSilently: 0, pending: [] };
  const waitMs = options.waitMs ?? 500;
  const runLane = async (laneIndex: number) => {
    const random = seededRandom(options.seed + laneIndex * 104_729);
    const share = Math.floor(options.hellos / options.lanes) + (laneIndex < options.hellos % options.lanes ? 1 : 0);
    for (let sent = 0; sent < share; sent += 1) {
      const pick = random();
      const flight = pick < 0.1 ? options.plaintext : mutateHello(options.samples[Math.floor(random() * options.samples.length)]!, random);
      const socket = await new Promise<Socket>((resolve, reject) => {
        const opened = connect({ host: '127.0.0.1', port: options.port });
        opened.once('connect', () => resolve(opened));
        opened.once('error', reject);
      });
      socket.on('error', () => {});
      let answered = false;
      socket.on('data', () => {
        answered = true;
      });
      const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
      socket.write(flight);
      const done = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), waitMs))]);
      stats.hellos += 1;
      if (answered) {
        stats.answered += 1;
        socket.destroy();
      } else if (done) stats.closedSilently += 1;
      else stats.pending.push(socket);
    }
  };
  await Promise.all(Array.from({ length: options.lanes }, (_, index) => runLane(index)));
  return stats;
}
