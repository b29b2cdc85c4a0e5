// A tool's connections as a --command-config file asks for them (Kafka's client keys, parsed and
// checked by src/client/client-config.ts): the file and the PEM files it names are read here, the
// TLS options built and tried at once (so a bad key, certificate or password fails naming its
// key before any connection), and the Connector returned opens TCP or TLS connections through
// connectTcp and authenticates each with SASL (src/client/sasl-client.ts) when asked to.
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../base/config-def.js';
import { pkcs12Certificates } from '../base/pkcs12.js';
import type { Connector, TlsClientOptions } from '../client/byte-stream.js';
import { type ClientSecuritySettings, type PemSource, clientSecuritySettings, normalizePem, parseJavaProperties } from '../client/client-config.js';
import { ConnectionSecurityError, saslConnector } from '../client/sasl-client.js';
import { connectTcp } from './tcp-byte-stream.js';

/** What a --command-config file sets up: the connector every connection of the tool goes through. */
export interface ClientSecurity {
  settings: ClientSecuritySettings;
  /** The TLS options, for SSL and SASL_SSL. */
  tls: TlsClientOptions | undefined;
  connect: Connector;
}

/** Reads and checks the --command-config file at `path`; ConfigError naming the key (or --command-config) when it cannot be used. */
export async function loadClientSecurity(path: string): Promise<ClientSecurity> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError('--command-config', `cannot read ${path}: ${(error as Error).message}`);
  }
  return clientSecurityFrom(parseJavaProperties(text), path);
}

/**
 * The connections Kafka's client keys among `properties` ask for (a Connect worker's own
 * configuration, say); `source` names them in messages. Over `connect` (TCP by default).
 */
export async function clientSecurityFrom(properties: ReadonlyMap<string, string>, source: string, connect: Connector = connectTcp): Promise<ClientSecurity> {
  const settings = clientSecuritySettings(properties, source);
  const tls = settings.ssl === undefined ? undefined : await tlsOptions(settings, source);
  return { settings, tls, connect: securedConnector(settings, tls, connect) };
}

/** Connections as `settings` say: TLS with `tls`, then SASL, over connectTcp. */
export function securedConnector(settings: ClientSecuritySettings, tls: TlsClientOptions | undefined, connect: Connector = connectTcp): Connector {
  const transport: Connector = tls === undefined ? connect : tlsConnector(connect, tls);
  return settings.sasl === undefined ? transport : saslConnector(transport, settings.sasl);
}

/** Socket errors that say nothing about TLS: the broker is not there. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EADDRNOTAVAIL', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN']);

function tlsConnector(connect: Connector, tls: TlsClientOptions): Connector {
  return async (address, timeoutMs) => {
    try {
      return await connect(address, timeoutMs, tls);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === undefined || SOCKET_ERRORS.has(code)) throw error;
      const hint = code === 'ECONNRESET' || code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'EPROTO' ? ' (is it an SSL or SASL_SSL listener? does it require a client certificate?)' : '';
      throw new ConnectionSecurityError(`TLS handshake with ${address} failed: ${(error as Error).message}${hint}`);
    }
  };
}

async function tlsOptions(settings: ClientSecuritySettings, source: string): Promise<TlsClientOptions> {
  const ssl = settings.ssl!;
  const pemOf = async (pem: PemSource): Promise<string> => {
    if ('pem' in pem) return pem.pem;
    let text: string;
    try {
      text = await readFile(pem.file, 'utf8');
    } catch (error) {
      throw new ConfigError(pem.key, `cannot read ${pem.file}: ${(error as Error).message} (in ${source})`);
    }
    return normalizePem(text, pem.key, (key, message) => {
      throw new ConfigError(key, `${pem.file} ${message} (in ${source})`);
    });
  };
  const options: TlsClientOptions = { rejectUnauthorized: true, minVersion: ssl.minVersion, maxVersion: ssl.maxVersion };
  if (!ssl.endpointIdentification) options.checkServerIdentity = () => undefined;
  if (ssl.truststore !== undefined && 'file' in ssl.truststore && ssl.truststorePkcs12 !== undefined) {
    const { file, key } = ssl.truststore;
    try {
      options.ca = pkcs12Certificates(await readFile(file), ssl.truststorePkcs12.password);
    } catch (error) {
      throw new ConfigError(key, `cannot read the PKCS12 trust store ${file}: ${(error as Error).message} (in ${source})`);
    }
  } else if (ssl.truststore !== undefined) {
    options.ca = await pemOf(ssl.truststore);
    try {
      createSecureContext({ ca: options.ca });
    } catch (error) {
      throw new ConfigError(ssl.truststore.key, `the trusted certificates cannot be used: ${(error as Error).message} (in ${source})`);
    }
  }
  if (ssl.keystore !== undefined) {
    let cert: string;
    let key: string;
    let keyName: string;
    if ('file' in ssl.keystore) {
      cert = key = await pemOf(ssl.keystore.file);
      keyName = ssl.keystore.file.key;
    } else {
      cert = await pemOf(ssl.keystore.certificateChain);
      key = await pemOf(ssl.keystore.key);
      keyName = ssl.keystore.key.key;
    }
    Object.assign(options, { cert, key, ...(ssl.keyPassword === undefined ? {} : { passphrase: ssl.keyPassword }) });
    try {
      createSecureContext({ cert, key, passphrase: ssl.keyPassword });
    } catch (error) {
      const message = (error as Error).message;
      const wrongPassword = /bad decrypt|bad password|passphrase/i.test(message);
      throw new ConfigError(wrongPassword ? 'ssl.key.password' : keyName, `the client certificate and key cannot be used: ${message} (in ${source})`);
    }
  }
  return options;
}
