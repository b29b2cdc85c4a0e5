// The Kafka clients the HTTP API talks to the cluster through: one ClusterClient per identity.
// Without HTTP credentials a request runs as clientConfig's own identity (its sasl.jaas.config
// user, or none); with `Authorization: Basic`, on a SASL listener (security.protocol SASL_*), as
// that user, with clientConfig's sasl.mechanism, so the brokers' ACLs apply to the HTTP user as
// to any Kafka client. Clients are cached per user and password (at most MAX_CLIENTS, the least
// recently used closed first; idle ones closed after IDLE_MS). TLS settings (ssl.*) are read by
// src/node/client-security.ts, which takes a properties file: the map is written to a private
// temporary file for it and the file removed at once.
import { createHash } from 'node:crypto';
import { ConfigError } from '../../base/config-def.js';
import { AdminClient } from '../../client/admin-client.js';
import type { Connector, TlsClientOptions } from '../../client/byte-stream.js';
import type { ClientSecuritySettings } from '../../client/client-config.js';
import { ClusterClient, ToolError } from '../../client/cluster-client.js';
import { ConnectionSecurityError, SASL_MECHANISMS, type SaslMechanismName } from '../../client/sasl-client.js';
import { clientSecurityFrom, securedConnector } from '../../node/client-security.js';
import { connectTcp } from '../../node/tcp-byte-stream.js';
import { KafkaAuthenticationError, RestError } from './errors.js';

const MAX_CLIENTS = 64;
const IDLE_MS = 5 * 60_000;
const CLIENT_ID = 'conveyor-rest-proxy';

/** HTTP Basic credentials of a request. */
export interface BasicCredentials {
  username: string;
  password: string;
}

/** A client of one identity, and whether its connections were refused authentication. */
export class IdentityClient {
  readonly cluster: ClusterClient;
  readonly admin: AdminClient;
  lastUsed = Date.now();
  /** The message of the last refused authentication, to tell it from other connection failures. */
  securityFailure: string | undefined;

  constructor(connect: Connector, bootstrap: string, readonly httpUser: boolean) {
    this.cluster = new ClusterClient(this.watching(connect), bootstrap, CLIENT_ID);
    this.admin = new AdminClient(this.cluster);
  }

  /** Runs `action`, turning a refused authentication into a 401 (an HTTP user's) or a 500. */
  async run<T>(action: (client: IdentityClient) => Promise<T>): Promise<T> {
    this.lastUsed = Date.now();
    try {
      return await action(this);
    } catch (error) {
      throw this.explain(error);
    }
  }

  explain(error: unknown): unknown {
    if (this.securityFailure !== undefined && error instanceof ToolError && error.message === this.securityFailure) {
      return this.httpUser ? new KafkaAuthenticationError(error.message) : new RestError(500, error.message, 50002);
    }
    return error;
  }

  close(): void {
    this.cluster.close();
  }

  private watching(connect: Connector): Connector {
    return async (address, timeoutMs, tls) => {
      try {
        return await connect(address, timeoutMs, tls);
      } catch (error) {
        if (error instanceof ConnectionSecurityError) this.securityFailure = error.message;
        throw error;
      }
    };
  }
}

interface Security {
  settings: ClientSecuritySettings;
  tls: TlsClientOptions | undefined;
  /** The SASL mechanism HTTP users authenticate with; undefined when the listener is not SASL. */
  mechanism: SaslMechanismName | undefined;
  /** Whether clientConfig names an identity of its own (sasl.jaas.config) for requests without credentials. */
  hasOwnIdentity: boolean;
}

export class ClientPool {
  private readonly byUser = new Map<string, IdentityClient>();
  private readonly defaultClient: IdentityClient | undefined;
  private readonly sweeper: NodeJS.Timeout;

  private constructor(
    private readonly bootstrap: string,
    private readonly security: Security,
  ) {
    if (!security.mechanism || security.hasOwnIdentity) this.defaultClient = new IdentityClient(securedConnector(security.settings, security.tls, connectTcp), bootstrap, false);
    this.sweeper = setInterval(() => this.closeIdle(), Math.min(IDLE_MS, 60_000));
    this.sweeper.unref();
  }

  static async create(clientConfig: ReadonlyMap<string, string>): Promise<ClientPool> {
    const bootstrap = clientConfig.get('bootstrap.servers')?.split(',').map((address) => address.trim()).filter(Boolean).join(',');
    if (!bootstrap) throw new ConfigError('bootstrap.servers', 'the HTTP API needs a broker to talk to');
    return new ClientPool(bootstrap, await readSecurity(clientConfig));
  }

  /** The client for a request with these credentials (or none). */
  clientFor(credentials: BasicCredentials | undefined): IdentityClient {
    if (credentials === undefined || this.security.mechanism === undefined) {
      if (this.defaultClient) return this.defaultClient;
      throw new RestError(401, 'this API needs HTTP Basic credentials: the Kafka listener it talks to authenticates every client with SASL', 40101);
    }
    const key = `${credentials.username}\0${createHash('sha256').update(credentials.password).digest('hex')}`;
    let client = this.byUser.get(key);
    if (client) {
      // Map order is the recency order: move it to the end.
      this.byUser.delete(key);
    } else {
      client = this.openFor(credentials);
    }
    this.byUser.set(key, client);
    while (this.byUser.size > MAX_CLIENTS) {
      const [oldestKey, oldest] = this.byUser.entries().next().value!;
      this.byUser.delete(oldestKey);
      oldest.close();
    }
    return client;
  }

  /** A client of its own for a long-lived use (a record stream): the caller closes it. */
  dedicatedFor(credentials: BasicCredentials | undefined): IdentityClient {
    if (credentials === undefined || this.security.mechanism === undefined) {
      if (!this.defaultClient) throw new RestError(401, 'this API needs HTTP Basic credentials: the Kafka listener it talks to authenticates every client with SASL', 40101);
      return new IdentityClient(securedConnector(this.security.settings, this.security.tls, connectTcp), this.bootstrap, false);
    }
    return this.openFor(credentials);
  }

  /** Forgets a user's client whose authentication was refused, so a corrected password is tried afresh. */
  forget(client: IdentityClient): void {
    for (const [key, candidate] of this.byUser) {
      if (candidate === client) {
        this.byUser.delete(key);
        client.close();
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.defaultClient?.close();
    for (const client of this.byUser.values()) client.close();
    this.byUser.clear();
  }

  private openFor(credentials: BasicCredentials): IdentityClient {
    const settings: ClientSecuritySettings = { ...this.security.settings, sasl: { mechanism: this.security.mechanism!, username: credentials.username, password: credentials.password } };
    return new IdentityClient(securedConnector(settings, this.security.tls, connectTcp), this.bootstrap, true);
  }

  private closeIdle(): void {
    const now = Date.now();
    for (const [key, client] of this.byUser) {
      if (now - client.lastUsed > IDLE_MS) {
        this.byUser.delete(key);
        client.close();
      }
    }
  }
}

/** Parses `Authorization: Basic ...`; undefined without one, 401 when it cannot be read. */
export function basicCredentials(header: string | undefined): BasicCredentials | undefined {
  if (header === undefined) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) throw new RestError(401, 'the Authorization header must be Basic credentials (base64 of user:password)', 40101);
  const text = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  if (colon <= 0) throw new RestError(401, 'the Basic credentials must be user:password', 40101);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

async function readSecurity(clientConfig: ReadonlyMap<string, string>): Promise<Security> {
  const protocol = (clientConfig.get('security.protocol') ?? 'PLAINTEXT').toUpperCase();
  const sasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
  const hasOwnIdentity = sasl && (clientConfig.get('sasl.jaas.config') ?? '') !== '';
  // Without an identity of its own the API serves HTTP users only: the keys are checked as the
  // listener's transport alone (SASL_SSL as SSL), and each HTTP user brings the SASL identity.
  const keys = new Map([...clientConfig].filter(([key]) => key !== 'bootstrap.servers'));
  if (sasl && !hasOwnIdentity) {
    keys.set('security.protocol', protocol === 'SASL_SSL' ? 'SSL' : 'PLAINTEXT');
    keys.delete('sasl.mechanism');
  }
  // Parsed once; the TLS options built and tried now, so a bad trust store fails naming its key.
  const security = await clientSecurityFrom(keys, 'the HTTP API\'s clientConfig');
  let settings = security.settings;
  const tls: TlsClientOptions | undefined = security.tls;
  let mechanism: SaslMechanismName | undefined;
  if (sasl) {
    const name = (clientConfig.get('sasl.mechanism') || 'PLAIN').toUpperCase();
    mechanism = SASL_MECHANISMS.find((candidate) => candidate === name);
    if (mechanism === undefined) throw new ConfigError('sasl.mechanism', `'${name}' is not supported by the HTTP API: use ${SASL_MECHANISMS.join(', ')}`);
    if (!hasOwnIdentity) settings = { ...settings, securityProtocol: protocol as ClientSecuritySettings['securityProtocol'] };
  }
  return { settings, tls, mechanism, hasOwnIdentity };
}
