// The TLS options of a server or a client from Kafka's ssl.* settings, shared by the broker's
// listeners (src/broker/network/tls-listener.ts) and Connect's https REST listeners: the key and
// certificate chain from a PEM or PKCS12 key store (a file, or PEM in the configuration), the
// certificates a peer must be signed by (PEM, or a PKCS12 trust store read by pkcs12.ts), the TLS
// versions and cipher suites. Files are read through the caller's `readFile` (this module touches
// no file system), and the result is tried at once, so a bad file or password fails naming its key.
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from './config-def.js';
import { Pkcs12Error, pkcs12Certificates } from './pkcs12.js';

/** Cipher suites resolved to OpenSSL names, and whether TLS 1.2 and TLS 1.3 each keep one. */
export interface ResolvedCipherSuites {
  readonly ciphers: string;
  readonly tls12: boolean;
  readonly tls13: boolean;
}

/** Kafka's ssl.* key and trust store settings, as a broker listener or a Connect REST listener has them. */
export interface TlsStoreSettings {
  readonly keystoreType: string;
  readonly keystoreLocation: string | null;
  readonly keystorePassword: string | null;
  readonly keyPassword: string | null;
  readonly keystoreCertificateChain: string | null;
  readonly keystoreKey: string | null;
  readonly truststoreType: string;
  readonly truststoreLocation: string | null;
  readonly truststorePassword: string | null;
  readonly truststoreCertificates: string | null;
  readonly enabledProtocols: readonly string[];
  /** ssl.cipher.suites resolved; null: every suite the runtime offers. */
  readonly cipherSuites: ResolvedCipherSuites | null;
  /** The key each setting came from, for messages naming it (a prefixed key, or ssl.*). */
  readonly keyNames: Readonly<Record<string, string>>;
}

export type ReadFile = (path: string) => Promise<Buffer>;

export type TlsStoreOptions = Pick<SecureContextOptions, 'cert' | 'key' | 'pfx' | 'passphrase' | 'ca' | 'minVersion' | 'maxVersion' | 'ciphers'>;

/** The versions, suites and stores of `settings` for `where` (e.g. "listener SSL"), checked by building a context. */
export async function tlsStoreOptions(where: string, settings: TlsStoreSettings, readFile: ReadFile): Promise<TlsStoreOptions> {
  const options: TlsStoreOptions = { ...versions(settings), ...(await storeOptions(where, settings, readFile)) };
  try {
    createSecureContext(options);
  } catch (error) {
    const key = settings.keystoreCertificateChain !== null ? 'ssl.keystore.key' : 'ssl.keystore.location';
    throw new ConfigError(settings.keyNames[key] ?? key, `${where}: the key store cannot be used: ${(error as Error).message}`);
  }
  return options;
}

/**
 * ssl.enabled.protocols as the lowest and highest version, narrowed to the versions ssl.cipher.suites
 * leaves a suite for (the configuration checked that one is left), and the suites themselves.
 */
function versions(settings: TlsStoreSettings): Pick<TlsStoreOptions, 'minVersion' | 'maxVersion' | 'ciphers'> {
  const suites = settings.cipherSuites;
  const tls12 = settings.enabledProtocols.includes('TLSv1.2') && (suites === null || suites.tls12);
  const tls13 = settings.enabledProtocols.includes('TLSv1.3') && (suites === null || suites.tls13);
  return {
    minVersion: tls12 ? 'TLSv1.2' : 'TLSv1.3',
    maxVersion: tls13 ? 'TLSv1.3' : 'TLSv1.2',
    ...(suites === null ? {} : { ciphers: suites.ciphers }),
  };
}

/** The key and certificate chain (PEM inline or in a file, or PKCS12) and the certificates trusted. */
async function storeOptions(where: string, settings: TlsStoreSettings, readFile: ReadFile): Promise<Pick<TlsStoreOptions, 'cert' | 'key' | 'pfx' | 'passphrase' | 'ca'>> {
  const keyName = (key: string) => settings.keyNames[key] ?? key;
  const fileOf = async (key: string, path: string): Promise<Buffer> => {
    try {
      return await readFile(path);
    } catch (error) {
      throw new ConfigError(keyName(key), `${where}: cannot read ${path}: ${(error as Error).message}`);
    }
  };
  const options: Pick<TlsStoreOptions, 'cert' | 'key' | 'pfx' | 'passphrase' | 'ca'> = {};
  if (settings.keystoreCertificateChain !== null && settings.keystoreKey !== null) {
    Object.assign(options, { cert: settings.keystoreCertificateChain, key: settings.keystoreKey, passphrase: settings.keyPassword ?? undefined });
  } else if (settings.keystoreType === 'PKCS12') {
    Object.assign(options, { pfx: await fileOf('ssl.keystore.location', settings.keystoreLocation!), passphrase: settings.keystorePassword ?? undefined });
  } else if (settings.keystoreLocation !== null) {
    // A PEM key store file holds the private key and the certificate chain together.
    const pem = await fileOf('ssl.keystore.location', settings.keystoreLocation);
    Object.assign(options, { cert: pem, key: pem, passphrase: settings.keyPassword ?? settings.keystorePassword ?? undefined });
  }
  if (settings.truststoreCertificates !== null) options.ca = settings.truststoreCertificates;
  else if (settings.truststoreLocation !== null && settings.truststoreType === 'PKCS12') {
    const file = await fileOf('ssl.truststore.location', settings.truststoreLocation);
    try {
      options.ca = pkcs12Certificates(file, settings.truststorePassword);
    } catch (error) {
      if (!(error instanceof Pkcs12Error)) throw error;
      throw new ConfigError(keyName('ssl.truststore.location'), `${where}: the PKCS12 trust store ${settings.truststoreLocation} cannot be read: ${error.message}`);
    }
  } else if (settings.truststoreLocation !== null) options.ca = await fileOf('ssl.truststore.location', settings.truststoreLocation);
  return options;
}
