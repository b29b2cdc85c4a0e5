// A SCRAM client for tests (RFC 5802): the messages a client sends, so tests can drive the broker's
// exchange step by step, replay or cut a message, and check the server's signature.
import { randomBytes } from 'node:crypto';
import { type ScramMechanism, digest, hmac, saltedPassword, xor } from '../../src/base/scram.js';

export class ScramClient {
  readonly clientFirstBare: string;
  #serverSignature: Buffer | undefined;

  constructor(
    private readonly mechanism: ScramMechanism,
    username: string,
    private readonly password: string,
    readonly nonce = randomBytes(18).toString('base64'),
    private readonly gs2Header = 'n,,',
  ) {
    this.clientFirstBare = `n=${username.replaceAll('=', '=3D').replaceAll(',', '=2C')},r=${nonce}`;
  }

  clientFirst(): Buffer {
    return Buffer.from(this.gs2Header + this.clientFirstBare);
  }

  /**
   * The client-final message answering `serverFirst`; `passwordOverride` makes a wrong proof, and
   * `echo` changes the nonce sent back (librdkafka before 2.6.1 puts its own nonce in front).
   */
  clientFinal(serverFirst: Buffer, passwordOverride?: string, echo: (combined: string) => string = (combined) => combined): Buffer {
    const text = serverFirst.toString('utf8');
    const fields = new Map(text.split(',').map((part) => [part[0]!, part.slice(2)]));
    const salted = saltedPassword(this.mechanism, passwordOverride ?? this.password, Buffer.from(fields.get('s')!, 'base64'), Number(fields.get('i')));
    const withoutProof = `c=${Buffer.from(this.gs2Header).toString('base64')},r=${echo(fields.get('r')!)}`;
    const authMessage = `${this.clientFirstBare},${text},${withoutProof}`;
    const clientKey = hmac(this.mechanism, salted, 'Client Key');
    const proof = xor(clientKey, hmac(this.mechanism, digest(this.mechanism, clientKey), authMessage));
    this.#serverSignature = hmac(this.mechanism, hmac(this.mechanism, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
  }

  /** Whether the server-final message carries the signature only the holder of the server key can make. */
  verifiesServer(serverFinal: Buffer): boolean {
    return this.#serverSignature !== undefined && serverFinal.toString('utf8') === `v=${this.#serverSignature.toString('base64')}`;
  }
}
