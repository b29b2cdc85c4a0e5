// A TLS listener's server options from Kafka's ssl.* settings (SslSettings, resolved per listener
// by the broker config): the broker's key and certificate chain from a PEM or PKCS12 key store
// (a file, or PEM in the configuration), the certificates client certificates must be signed by
// (PEM, or a PKCS12 trust store read by src/base/pkcs12.ts),
// ssl.client.auth, the TLS versions and ssl.cipher.suites. Read and checked once at start, so a
// bad file or password fails the start with a message naming the key, not the first client's
// handshake.
import { readFile } from 'node:fs/promises';
import { createSecureContext, type TlsOptions, type TLSSocket } from 'node:tls';
import { ConfigError } from '../../base/config-def.js';
import { Pkcs12Error, pkcs12Certificates } from '../../base/pkcs12.js';
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
  const options: TlsOptions = {
    ...versions(ssl),
    ...(await storeOptions(listener, ssl)),
    requestCert: ssl.clientAuth !== 'none',
    rejectUnauthorized: ssl.clientAuth === 'required',
    handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
  };
  check(listener, ssl, options);
  return options;
}

/**
 * The options this node connects to another node's `listener` with, from this node's own
 * settings for that listener, as Kafka's inter-broker and controller clients take theirs: the
 * trust store checks the peer's certificate (its host name too, unless
 * ssl.endpoint.identification.algorithm is empty), and the key store is presented when the peer
 * asks for a client certificate.
 */
export async function tlsClientOptions(listener: string, ssl: SslSettings): Promise<TlsClientOptions> {
  const options: TlsClientOptions = { ...versions(ssl), ...(await storeOptions(listener, ssl)), rejectUnauthorized: true };
  if (ssl.endpointIdentification === '') options.checkServerIdentity = () => undefined;
  check(listener, ssl, options);
  return options;
}

/**
 * ssl.enabled.protocols as the lowest and highest version, narrowed to the versions ssl.cipher.suites
 * leaves a suite for (the configuration checked that one is left), and the suites themselves.
 */
function versions(ssl: SslSettings): Pick<TlsOptions, 'minVersion' | 'maxVersion' | 'ciphers'> {
  const suites = ssl.cipherSuites;
  const tls12 = ssl.enabledProtocols.includes('TLSv1.2') && (suites === null || suites.tls12);
  const tls13 = ssl.enabledProtocols.includes('TLSv1.3') && (suites === null || suites.tls13);
  return {
    minVersion: tls12 ? 'TLSv1.2' : 'TLSv1.3',
    maxVersion: tls13 ? 'TLSv1.3' : 'TLSv1.2',
    ...(suites === null ? {} : { ciphers: suites.ciphers }),
  };
}

/** This node's key and certificate chain (PEM inline or in a file, or PKCS12) and the certificates it trusts. */
async function storeOptions(listener: string, ssl: SslSettings): Promise<Pick<TlsOptions, 'cert' | 'key' | 'pfx' | 'passphrase' | 'ca'>> {
  const fileOf = async (key: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (error) {
      throw new ConfigError(ssl.keyNames[key] ?? key, `listener ${listener}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const options: Pick<TlsOptions, 'cert' | 'key' | 'pfx' | 'passphrase' | 'ca'> = {};
  if (ssl.keystoreCertificateChain !== null && ssl.keystoreKey !== null) {
    Object.assign(options, { cert: ssl.keystoreCertificateChain, key: ssl.keystoreKey, passphrase: ssl.keyPassword ?? undefined });
  } else if (ssl.keystoreType === 'PKCS12') {
    Object.assign(options, { pfx: await fileOf('ssl.keystore.location', ssl.keystoreLocation!), passphrase: ssl.keystorePassword ?? undefined });
  } else {
    // A PEM key store file holds the private key and the certificate chain together.
    const pem = await fileOf('ssl.keystore.location', ssl.keystoreLocation!);
    Object.assign(options, { cert: pem, key: pem, passphrase: ssl.keyPassword ?? ssl.keystorePassword ?? undefined });
  }
  if (ssl.truststoreCertificates !== null) options.ca = ssl.truststoreCertificates;
  else if (ssl.truststoreLocation !== null && ssl.truststoreType === 'PKCS12') {
    const file = await fileOf('ssl.truststore.location', ssl.truststoreLocation);
    try {
      options.ca = pkcs12Certificates(file, ssl.truststorePassword);
    } catch (error) {
      if (!(error instanceof Pkcs12Error)) throw error;
      throw new ConfigError(ssl.keyNames['ssl.truststore.location'] ?? 'ssl.truststore.location', `listener ${listener}: the PKCS12 trust store ${ssl.truststoreLocation} cannot be read: ${error.message}`);
    }
  } else if (ssl.truststoreLocation !== null) options.ca = await fileOf('ssl.truststore.location', ssl.truststoreLocation);
  return options;
}

/** A context built now, so that a bad key store or password fails the start naming the key. */
function check(listener: string, ssl: SslSettings, options: TlsOptions | TlsClientOptions): void {
  try {
    createSecureContext(options);
  } catch (error) {
    const key = ssl.keystoreCertificateChain !== null ? 'ssl.keystore.key' : 'ssl.keystore.location';
    throw new ConfigError(ssl.keyNames[key] ?? key, `listener ${listener}: the key store cannot be used: ${(error as Error).message}`);
  }
}
