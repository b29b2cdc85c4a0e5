// The server side of one SCRAM-SHA-256 or SCRAM-SHA-512 exchange (RFC 5802, RFC 7677), as Kafka
// runs it: client-first (gs2 header, user name, client nonce) → server-first (the nonce extended
// with the server's, the user's salt and iterations) → client-final (channel binding, nonce, proof)
// → server-final (the server's signature). The client proves it knows the salted password by a
// proof checked against the stored key; the server proves it holds the server key.
//
// Kafka's differences from the RFC are kept: no channel binding (`n` or `y` only), and the
// `tokenauth` extension (delegation tokens) is refused since Conveyor has none. One difference from
// Kafka 4: the client-final nonce of librdkafka before 2.6.1 (the client nonce, then the combined
// nonce) is accepted, so Debian 12's kcat and confluent-kafka-python can use SCRAM. An unknown user
// gets a salt and iteration count made up from a secret of this broker, so the exchange runs to
// the proof whether or not the user exists and a client cannot tell which names exist.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type ScramMechanism, SCRAM_MIN_ITERATIONS, digest, hmac, xor } from '../base/scram.js';
import type { ScramCredential } from '../metadata/metadata-image.js';

export type ScramStep =
  | { kind: 'continue'; response: Buffer }
  | { kind: 'done'; response: Buffer; username: string }
  /** `reason` is for the broker's log (never a password or a proof). */
  | { kind: 'failed'; reason: string; message?: string };

type Stage =
  | { kind: 'first' }
  | { kind: 'final'; username: string; gs2Header: string; clientFirstBare: string; serverFirst: string; clientNonce: string; nonce: string; credential: ScramCredential; known: boolean }
  | { kind: 'over' };

const NONCE_BYTES = 24;

/** Decodes a saslname (RFC 5802 5.1: `=2C` is `,` and `=3D` is `=`); undefined if malformed. */
export function decodeSaslName(name: string): string | undefined {
  if (/=(?!2C|3D)/.test(name)) return undefined;
  return name.replaceAll('=2C', ',').replaceAll('=3D', '=');
}

/** `key=value` attributes of a SCRAM message, in order; undefined if one is malformed. */
function attributes(message: string): [string, string][] | undefined {
  const parts: [string, string][] = [];
  for (const part of message.split(',')) {
    const match = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(part);
    if (!match) return undefined;
    parts.push([match[1]!, match[2]!]);
  }
  return parts;
}

export class ScramServerExchange {
  #stage: Stage = { kind: 'first' };

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly credentialOf: (username: string) => ScramCredential | undefined,
    /** A secret of this broker, for the made-up salts of unknown users. */
    private readonly secret: Buffer,
    /** The server's part of the nonce (random; a test may fix it). */
    private readonly serverNonce: () => string = () => randomBytes(NONCE_BYTES).toString('base64'),
  ) {}

  step(token: Buffer): ScramStep {
    const stage = this.#stage;
    this.#stage = { kind: 'over' };
    const message = token.toString('utf8');
    if (stage.kind === 'first') return this.#clientFirst(message);
    if (stage.kind === 'final') return this.#clientFinal(stage, message);
    return { kind: 'failed', reason: 'a message after the exchange ended' };
  }

  #clientFirst(message: string): ScramStep {
    // gs2-header = cbind-flag "," [ "a=" authzid ] ","; then the bare message.
    const header = /^([ny]),(a=[^,]*)?,/.exec(message);
    if (!header) return { kind: 'failed', reason: 'client-first message without a supported gs2 header (channel binding is not supported)' };
    const gs2Header = header[0];
    const clientFirstBare = message.slice(gs2Header.length);
    const parts = attributes(clientFirstBare);
    if (!parts || parts.length < 2 || parts[0]![0] !== 'n' || parts[1]![0] !== 'r' || parts[1]![1] === '') {
      return { kind: 'failed', reason: 'malformed client-first message' };
    }
    const extensions = parts.slice(2);
    if (extensions.some(([key]) => key === 'm')) return { kind: 'failed', reason: 'client-first message with the reserved m attribute' };
    if (extensions.some(([key, value]) => key === 'tokenauth' && value.toLowerCase() === 'true')) {
      return { kind: 'failed', reason: 'delegation token authentication (tokenauth) is not supported' };
    }
    const username = decodeSaslName(parts[0]![1]);
    if (username === undefined || username === '') return { kind: 'failed', reason: 'malformed user name' };
    const authorizationId = header[2] === undefined ? '' : decodeSaslName(header[2].slice(2));
    if (authorizationId !== '' && authorizationId !== username) {
      return { kind: 'failed', reason: 'authorization id differs', message: 'Authentication failed: Client requested an authorization id that is different from username' };
    }
    const stored = this.credentialOf(username);
    const credential = stored ?? this.#madeUp(username);
    const nonce = parts[1]![1] + this.serverNonce();
    const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.#stage = { kind: 'final', username, gs2Header, clientFirstBare, serverFirst, clientNonce: parts[1]![1], nonce, credential, known: stored !== undefined };
    return { kind: 'continue', response: Buffer.from(serverFirst, 'utf8') };
  }

  #clientFinal(stage: Extract<Stage, { kind: 'final' }>, message: string): ScramStep {
    const proofAt = message.lastIndexOf(',p=');
    const parts = proofAt < 0 ? undefined : attributes(message.slice(0, proofAt));
    if (!parts || parts.length < 2 || parts[0]![0] !== 'c' || parts[1]![0] !== 'r') return { kind: 'failed', reason: 'malformed client-final message' };
    if (Buffer.from(parts[0]![1], 'base64').toString('utf8') !== stage.gs2Header) return { kind: 'failed', reason: 'channel binding differs from the gs2 header' };
    // librdkafka before 2.6.1 sends its own nonce again in front of the combined one (its issue
    // #4895); that form is taken too: it still holds this exchange's server nonce, and the proof is
    // checked over the text as sent. Kafka 4 refuses it; Kafka 3.7.2-3.9 accepted any suffix match.
    const echoed = parts[1]![1];
    if (echoed !== stage.nonce && echoed !== stage.clientNonce + stage.nonce) return { kind: 'failed', reason: 'invalid nonce in the client-final message' };
    const proof = Buffer.from(message.slice(proofAt + 3), 'base64');
    const authMessage = `${stage.clientFirstBare},${stage.serverFirst},${message.slice(0, proofAt)}`;
    const { storedKey, serverKey } = stage.credential;
    if (proof.length !== storedKey.length) return { kind: 'failed', reason: 'malformed proof' };
    const clientKey = xor(proof, hmac(this.mechanism, storedKey, authMessage));
    if (!timingSafeEqual(digest(this.mechanism, clientKey), storedKey) || !stage.known) {
      return { kind: 'failed', reason: stage.known ? 'invalid proof (wrong password)' : 'unknown user' };
    }
    const serverSignature = hmac(this.mechanism, serverKey, authMessage);
    return { kind: 'done', response: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'), username: stage.username };
  }

  /** An unknown user's credential: a salt that stays the same for the name, keys no password matches. */
  #madeUp(username: string): ScramCredential {
    const seed = createHmac('sha256', this.secret).update(`${this.mechanism.name}\0${username}`).digest();
    return { salt: seed.subarray(0, 16), storedKey: randomBytes(this.mechanism.keyLength), serverKey: randomBytes(this.mechanism.keyLength), iterations: SCRAM_MIN_ITERATIONS };
  }
}
