// The client side of SASL, as Kafka's clients run it on every new connection to a SASL_PLAINTEXT
// or SASL_SSL listener before anything else: ApiVersions (to learn the SASL versions the broker
// serves), SaslHandshake v1 naming the mechanism, then the mechanism's tokens in SaslAuthenticate
// requests (v2, or the highest the broker serves).
//
// PLAIN (RFC 4616) sends one token, NUL username NUL password. SCRAM-SHA-256 and SCRAM-SHA-512
// (RFC 5802, RFC 7677) take two round trips: client-first (user name, client nonce), the server's
// nonce, salt and iterations, client-final with the proof, and the server's signature, which is
// checked here, so a server that does not hold the user's server key cannot pretend to have
// authenticated the client. Kafka's conventions: the gs2 header `n,,` (no channel binding, no
// authorization id), at least 4096 iterations, user names with `=` and `,` escaped.
//
// saslConnector wraps a Connector: the exchange runs on the new stream through a framing core of
// its own, and the stream is then handed over, authenticated, to whoever asked for it, so every
// connection a tool opens (KafkaConnection, ClusterClient, PipelinedConnection) authenticates
// without knowing about SASL. Nothing here logs or puts a password or a proof in a message.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../base/clock.js';
import { ErrorCode, errorName } from '../base/error-codes.js';
import { type ScramMechanism, SCRAM_MIN_ITERATIONS, digest, hmac, saltedPassword, scramMechanismByName, xor } from '../base/scram.js';
import { type ApiDescriptor, ApiKey, ApiVersionsApi, SaslAuthenticateApi, SaslHandshakeApi } from '../protocol/messages/index.js';
import type { ByteStream, ByteStreamListener, Connector } from './byte-stream.js';
import { FramedConnection } from './framed-connection.js';
import { timerClock } from './timer-clock.js';

export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanismName = (typeof SASL_MECHANISMS)[number];

/** Who a connection authenticates as, and how (sasl.mechanism and sasl.jaas.config's username and password). */
export interface SaslCredentials {
  mechanism: SaslMechanismName;
  username: string;
  password: string;
}

/**
 * A connection could be opened but not secured: authentication refused, a mechanism the listener
 * does not enable, a server that failed to prove itself, a TLS handshake that failed. The message
 * is for the person running the tool.
 */
export class ConnectionSecurityError extends Error {
  override name = 'ConnectionSecurityError';
}

/** Sends one request on the connection being authenticated. */
// biome-ignore lint/suspicious/noExplicitAny: requests are encoded and responses decoded only.
export type SaslSend = <Request, Response>(api: ApiDescriptor<any, Response, Request, any>, version: number, request: Request) => Promise<Response>;

/** The SCRAM client's messages (RFC 5802): client-first, client-final, and the check of server-final. */
export class ScramClientExchange {
  readonly #mechanism: ScramMechanism;
  readonly #password: string;
  readonly #clientNonce: string;
  readonly #clientFirstBare: string;
  #serverSignature: Buffer | undefined;

  constructor(mechanism: ScramMechanism, username: string, password: string, clientNonce = randomBytes(24).toString('base64url')) {
    this.#mechanism = mechanism;
    this.#password = password;
    this.#clientNonce = clientNonce;
    this.#clientFirstBare = `n=${username.replaceAll('=', '=3D').replaceAll(',', '=2C')},r=${clientNonce}`;
  }

  clientFirst(): Buffer {
    return Buffer.from(`n,,${this.#clientFirstBare}`, 'utf8');
  }

  /** The client-final message answering `serverFirst`; throws ConnectionSecurityError for a server-first this client must not answer. */
  clientFinal(serverFirst: Buffer): Buffer {
    const text = serverFirst.toString('utf8');
    const fields = scramAttributes(text);
    const error = fields.get('e');
    if (error !== undefined) throw new ConnectionSecurityError(`the server refused the SCRAM exchange: ${error}`);
    if (fields.has('m')) throw new ConnectionSecurityError('the server-first SCRAM message has the reserved m attribute');
    const nonce = fields.get('r');
    const salt = fields.get('s');
    const iterationsText = fields.get('i');
    if (nonce === undefined || salt === undefined || iterationsText === undefined || !/^\d+$/.test(iterationsText)) {
      throw new ConnectionSecurityError('malformed server-first SCRAM message');
    }
    if (!nonce.startsWith(this.#clientNonce) || nonce.length === this.#clientNonce.length) {
      throw new ConnectionSecurityError('invalid server nonce: it does not extend the client nonce');
    }
    const iterations = Number(iterationsText);
    if (iterations < SCRAM_MIN_ITERATIONS) {
      throw new ConnectionSecurityError(`requested iterations ${iterations} is less than the minimum ${SCRAM_MIN_ITERATIONS} for ${this.#mechanism.name}`);
    }
    const salted = saltedPassword(this.#mechanism, this.#password, Buffer.from(salt, 'base64'), iterations);
    const withoutProof = `c=${Buffer.from('n,,').toString('base64')},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${text},${withoutProof}`;
    const clientKey = hmac(this.#mechanism, salted, 'Client Key');
    const proof = xor(clientKey, hmac(this.#mechanism, digest(this.#mechanism, clientKey), authMessage));
    this.#serverSignature = hmac(this.#mechanism, hmac(this.#mechanism, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Checks the server-final message: the server's signature proves it holds the user's server key. */
  verifyServerFinal(serverFinal: Buffer): void {
    const fields = scramAttributes(serverFinal.toString('utf8'));
    const error = fields.get('e');
    if (error !== undefined) throw new ConnectionSecurityError(`the server refused the SCRAM proof: ${error}`);
    const signature = Buffer.from(fields.get('v') ?? '', 'base64');
    const expected = this.#serverSignature;
    if (expected === undefined || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new ConnectionSecurityError('invalid server signature in the server-final SCRAM message: the server does not hold this user\'s SCRAM credential');
    }
  }
}

/** A SCRAM message's `k=value` attributes (the first of each key). */
function scramAttributes(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of text.split(',')) {
    const match = /^([A-Za-z])=(.*)$/s.exec(part);
    if (match && !fields.has(match[1]!)) fields.set(match[1]!, match[2]!);
  }
  return fields;
}

const HANDSHAKE_VERSION = 1;
const AUTHENTICATE_MAX_VERSION = 2;

/**
 * Authenticates the connection `send` writes to as `credentials`; `peer` names it in messages.
 * Rejects with ConnectionSecurityError when the broker refuses (or cannot run) the exchange, and
 * with the transport's error when the connection breaks.
 */
export async function authenticate(send: SaslSend, credentials: SaslCredentials, peer: string): Promise<void> {
  const versions = await send(ApiVersionsApi, 3, { clientSoftwareName: 'conveyor-cli', clientSoftwareVersion: '0.1.0' });
  if (versions.errorCode !== ErrorCode.NONE) throw new ConnectionSecurityError(`ApiVersions to ${peer}: ${errorName(versions.errorCode)}`);
  const served = (apiKey: number) => versions.apiKeys.find((key) => key.apiKey === apiKey);
  const handshakeVersions = served(ApiKey.SaslHandshake);
  const authenticateVersions = served(ApiKey.SaslAuthenticate);
  if (!handshakeVersions || handshakeVersions.maxVersion < HANDSHAKE_VERSION || !authenticateVersions) {
    throw new ConnectionSecurityError(`the broker at ${peer} does not serve SaslHandshake v1 and SaslAuthenticate, so it cannot authenticate this client`);
  }
  const authenticateVersion = Math.min(AUTHENTICATE_MAX_VERSION, authenticateVersions.maxVersion);

  const handshake = await send(SaslHandshakeApi, HANDSHAKE_VERSION, { mechanism: credentials.mechanism });
  if (handshake.errorCode === ErrorCode.UNSUPPORTED_SASL_MECHANISM) {
    const enabled = handshake.mechanisms.length > 0 ? handshake.mechanisms.join(', ') : 'none';
    throw new ConnectionSecurityError(`the listener at ${peer} does not enable SASL mechanism ${credentials.mechanism} (sasl.mechanism); it enables ${enabled}`);
  }
  if (handshake.errorCode === ErrorCode.ILLEGAL_SASL_STATE) {
    throw new ConnectionSecurityError(`the listener at ${peer} does not take SASL authentication (SaslHandshake: ILLEGAL_SASL_STATE): is security.protocol right for it?`);
  }
  if (handshake.errorCode !== ErrorCode.NONE) throw new ConnectionSecurityError(`SaslHandshake to ${peer}: ${errorName(handshake.errorCode)}`);

  const step = async (token: Buffer): Promise<Buffer> => {
    const response = await send(SaslAuthenticateApi, authenticateVersion, { authBytes: token });
    if (response.errorCode !== ErrorCode.NONE) {
      const reason = response.errorMessage ?? errorName(response.errorCode);
      throw new ConnectionSecurityError(`SASL authentication as '${credentials.username}' with ${credentials.mechanism} at ${peer} failed: ${reason}`);
    }
    return response.authBytes;
  };
  if (credentials.mechanism === 'PLAIN') {
    await step(Buffer.from(`\0${credentials.username}\0${credentials.password}`, 'utf8'));
    return;
  }
  const scram = new ScramClientExchange(scramMechanismByName(credentials.mechanism)!, credentials.username, credentials.password);
  const serverFirst = await step(scram.clientFirst());
  const serverFinal = await step(scram.clientFinal(serverFirst));
  scram.verifyServerFinal(serverFinal);
}

export interface SaslConnectorOptions {
  /** The client id of the exchange's requests. */
  clientId?: string;
  /** The clock of the exchange's deadlines; real timers unless given. */
  clock?: Clock;
}

/**
 * A Connector whose streams are authenticated as `credentials` before they are returned: the
 * exchange must finish within the connect deadline as well. A stream whose authentication fails
 * is closed and the connect rejects.
 */
export function saslConnector(connect: Connector, credentials: SaslCredentials, options: SaslConnectorOptions = {}): Connector {
  return async (address, timeoutMs, tls) => {
    const started = (options.clock ?? timerClock).monotonicMs();
    const stream = new HandOverStream(await connect(address, timeoutMs, tls));
    const remainingMs = Math.max(1, timeoutMs - ((options.clock ?? timerClock).monotonicMs() - started));
    const exchange = new FramedConnection(stream, { clock: options.clock ?? timerClock, clientId: options.clientId ?? 'conveyor-cli' });
    try {
      await authenticate((api, version, request) => exchange.send(api, version, request, remainingMs), credentials, address);
    } catch (error) {
      exchange.close();
      throw error;
    }
    // Every response has arrived: the framing core holds no bytes, and the stream is the next owner's.
    stream.release();
    return stream;
  };
}

/**
 * A stream whose listener can change: the authentication's framing core listens first, then
 * whoever the connector returns the stream to. Bytes or a close arriving between the two wait for
 * the next listener.
 */
class HandOverStream implements ByteStream {
  #listener: ByteStreamListener | undefined;
  readonly #waiting: Buffer[] = [];
  #closed: { error: Error | undefined } | undefined;

  constructor(private readonly inner: ByteStream) {
    inner.listen({
      data: (chunk) => {
        if (this.#listener) this.#listener.data(chunk);
        else this.#waiting.push(chunk);
      },
      closed: (error) => {
        if (this.#listener) this.#listener.closed(error);
        else this.#closed = { error };
      },
    });
  }

  listen(listener: ByteStreamListener): void {
    this.#listener = listener;
    for (const chunk of this.#waiting.splice(0)) listener.data(chunk);
    if (this.#closed) listener.closed(this.#closed.error);
  }

  /** Detaches the current listener without closing anything. */
  release(): void {
    this.#listener = undefined;
  }

  write(chunks: readonly Buffer[], written?: (error?: Error) => void): void {
    this.inner.write(chunks, written);
  }

  end(): void {
    this.inner.end();
  }

  destroy(error?: Error): void {
    this.inner.destroy(error);
  }
}
