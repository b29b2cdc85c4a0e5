// A TLS listener's server options from Kafka's ssl.* settings (SslSettings, resolved per listener
// by the broker config): the key and trust stores, TLS versions and suites as src/base/tls-stores.ts
// builds them, and ssl.client.auth. Read and checked once at start, so a bad file or password fails
// the start with a message naming the key, not the first client's handshake.
import { readFile } from 'node:fs/promises';
import type { TlsOptions, TLSSocket } from 'node:tls';
import { tlsStoreOptions } from '../../base/tls-stores.js';
import type { TlsClientOptions } from '../../client/byte-stream.js';
import type { SslSettings } from '../broker-config.js';
import { ANONYMOUS, distinguishedName, type SslPrincipalMapper } from './ssl-principal.js';

/** How long a client has to finish its TLS handshake (Node's own default is 120 s). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * The principal of a TLS connection: from the client certificate the handshake verified (Kafka's
 * default principal builder, mapped by ssl.principal.mapping.rules), else User:ANONYMOUS. Throws
 * for a name no rule applies to: the connection is refused, as Kafka fails its authentication.
 */
export function tlsPrincipal(socket: TLSSocket, mapper: SslPrincipalMapper): string {
  const certificate = socket.authorized ? socket.getPeerX509Certificate() : undefined;
  return certificate === undefined ? ANONYMOUS : `User:${mapper.map(distinguishedName(certificate))}`;
}

export async function tlsServerOptions(listener: string, ssl: SslSettings): Promise<TlsOptions> {
  return {
    ...(await tlsStoreOptions(`listener ${listener}`, ssl, readFile)),
    requestCert: ssl.clientAuth !== 'none',
    rejectUnauthorized: ssl.clientAuth === 'required',
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
  };
}

/**
 * The options this node connects to another node's `listener` with, from this node's own
 * settings for that listener, as Kafka's inter-broker and controller clients take theirs: the
 * trust store checks the peer's certificate (its host name too, unless
 * ssl.endpoint.identification.algorithm is empty), and the key store is presented when the peer
 * asks for a client certificate.
 */
export async function tlsClientOptions(listener: string, ssl: SslSettings): Promise<TlsClientOptions> {
  const options: TlsClientOptions = { ...(await tlsStoreOptions(`listener ${listener}`, ssl, readFile)), rejectUnauthorized: true };
  if (ssl.endpointIdentification === '') options.checkServerIdentity = () => undefined;
  return options;
}
