// A tool's client security settings from Kafka's client keys, as in the properties file Kafka's
// tools take with --command-config: security.protocol (PLAINTEXT, SSL, SASL_PLAINTEXT,
// SASL_SSL); sasl.mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with the user in sasl.jaas.config
// (PlainLoginModule or ScramLoginModule, `username="..." password="..."`); the certificates to
// trust and a client certificate as PEM (ssl.truststore.* and ssl.keystore.* with type PEM, a file
// or the PEM text itself), ssl.key.password, ssl.endpoint.identification.algorithm and
// ssl.enabled.protocols. Sans-IO: files are named here, read by the caller (src/node).
//
// A value this cannot honour is refused with a ConfigError naming the key, never ignored: a
// security setting silently dropped would connect with less security than asked for. So is an
// ssl.*, sasl.* or security.* key this does not know, except those that only tune a JVM (key
// manager algorithms, providers, Kerberos settings) and change nothing here. Other keys (client.id,
// request.timeout.ms...) are ignored, as Kafka's tools ignore keys they do not use. No message
// quotes a password or a JAAS text.
import { ConfigError } from '../base/config-def.js';
import { SASL_MECHANISMS, type SaslCredentials, type SaslMechanismName } from './sasl-client.js';

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

/** PEM text, or a file holding it (read by the caller), and the key that named it. */
export type PemSource = { key: string; file: string } | { key: string; pem: string };

export interface ClientSslSettings {
  /** The certificates that may sign the broker's; undefined: the system's trusted CAs. */
  truststore: PemSource | undefined;
  /** Set when the trust store file is PKCS12 (ssl.truststore.type=PKCS12): its password, or null without one. */
  truststorePkcs12?: { password: string | null };
  /** A client certificate: one PEM with the key and the chain, or the two apart; undefined: none. */
  keystore: { file: PemSource & { file: string } } | { certificateChain: PemSource; key: PemSource } | undefined;
  /** The private key's password (ssl.key.password), for an encrypted PEM key. */
  keyPassword: string | undefined;
  /** Whether the broker's certificate must name the host connected to (ssl.endpoint.identification.algorithm=https). */
  endpointIdentification: boolean;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  maxVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface ClientSecuritySettings {
  securityProtocol: SecurityProtocol;
  /** For SASL_PLAINTEXT and SASL_SSL. */
  sasl: SaslCredentials | undefined;
  /** For SSL and SASL_SSL. */
  ssl: ClientSslSettings | undefined;
}

const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';
const SCRAM_LOGIN_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule';
const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;

/** The keys read here. */
const KNOWN_KEYS = new Set([
  'security.protocol',
  'sasl.mechanism',
  'sasl.jaas.config',
  'ssl.truststore.type',
  'ssl.truststore.location',
  'ssl.truststore.certificates',
  'ssl.truststore.password',
  'ssl.keystore.type',
  'ssl.keystore.location',
  'ssl.keystore.certificate.chain',
  'ssl.keystore.key',
  'ssl.keystore.password',
  'ssl.key.password',
  'ssl.endpoint.identification.algorithm',
  'ssl.enabled.protocols',
  'ssl.protocol',
]);

/** Security keys of Kafka's clients that tune the JVM or Kerberos only: accepted and ignored. */
const JVM_ONLY_KEYS = new Set([
  'ssl.keymanager.algorithm',
  'ssl.trustmanager.algorithm',
  'ssl.secure.random.implementation',
  'ssl.provider',
  'security.providers',
  'sasl.kerberos.service.name',
  'sasl.kerberos.kinit.cmd',
  'sasl.kerberos.min.time.before.relogin',
  'sasl.kerberos.ticket.renew.jitter',
  'sasl.kerberos.ticket.renew.window.factor',
]);

/**
 * Parses Java properties text as java.util.Properties does: `key=value`, `key: value` or
 * `key value` lines, `#` and `!` comments, a line ending in an odd number of backslashes continued
 * on the next (whose leading white space is dropped), and the escapes \t \n \r \f \uXXXX and
 * \<char>. Values are trimmed, as Kafka's ConfigDef trims them.
 */
export function parseJavaProperties(text: string): Map<string, string> {
  const result = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  const isBlank = (character: string | undefined) => character === ' ' || character === '\t' || character === '\f';
  const continues = (line: string) => (/\\+$/.exec(line)?.[0].length ?? 0) % 2 === 1;
  for (let index = 0; index < lines.length; index++) {
    let line = lines[index]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    while (continues(line)) {
      line = line.slice(0, -1);
      if (index + 1 >= lines.length) break;
      line += lines[++index]!.replace(/^[ \t\f]+/, '');
    }
    let keyEnd = 0;
    while (keyEnd < line.length) {
      const character = line[keyEnd]!;
      if (character === '\\') keyEnd += 2;
      else if (character === '=' || character === ':' || isBlank(character)) break;
      else keyEnd++;
    }
    keyEnd = Math.min(keyEnd, line.length);
    let valueStart = keyEnd;
    while (isBlank(line[valueStart])) valueStart++;
    if (line[valueStart] === '=' || line[valueStart] === ':') valueStart++;
    while (isBlank(line[valueStart])) valueStart++;
    const key = unescapeProperty(line.slice(0, keyEnd));
    if (key !== '') result.set(key, unescapeProperty(line.slice(valueStart)).trim());
  }
  return result;
}

function unescapeProperty(text: string): string {
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/gs, (_, escaped: string) => {
    if (escaped.length === 5) return String.fromCharCode(Number.parseInt(escaped.slice(1), 16));
    return { t: '\t', n: '\n', r: '\r', f: '\f' }[escaped] ?? escaped;
  });
}

/** One login module of a JAAS configuration: its class, control flag and options. */
export interface JaasLoginModule {
  loginModule: string;
  flag: string;
  options: Map<string, string>;
}

/**
 * Parses a JAAS configuration as sasl.jaas.config holds it: `<LoginModule class> <flag>
 * name=value ... ;`, values quoted ("..." with backslash escapes) or bare. Errors say where, never
 * what (the text holds a password).
 */
export function parseJaasConfig(text: string, key = 'sasl.jaas.config', source?: string): JaasLoginModule[] {
  const modules: JaasLoginModule[] = [];
  let at = 0;
  const skipBlank = () => {
    while (at < text.length && /\s/.test(text[at]!)) at++;
  };
  const fail = (what: string): never => {
    throw new ConfigError(key, `cannot parse the JAAS configuration at character ${at}: ${what} (expected: <LoginModule class> required username="..." password="...";)${source === undefined ? '' : ` (in ${source})`}`);
  };
  const word = (): string => {
    const match = /[^\s=;"]+/y;
    match.lastIndex = at;
    const found = match.exec(text);
    if (!found) return fail('expected a name');
    at = match.lastIndex;
    return found[0];
  };
  const value = (): string => {
    if (text[at] !== '"') return word();
    let result = '';
    for (at++; at < text.length; at++) {
      const character = text[at]!;
      if (character === '"') {
        at++;
        return result;
      }
      if (character === '\\' && at + 1 < text.length) result += text[++at]!;
      else result += character;
    }
    return fail('a quoted value is not closed');
  };
  for (skipBlank(); at < text.length; skipBlank()) {
    const loginModule = word();
    skipBlank();
    const flag = word();
    if (!['required', 'requisite', 'sufficient', 'optional'].includes(flag.toLowerCase())) fail('the control flag must be required, requisite, sufficient or optional');
    const options = new Map<string, string>();
    for (skipBlank(); text[at] !== ';'; skipBlank()) {
      if (at >= text.length) fail('the login module entry does not end with ;');
      const name = word();
      skipBlank();
      if (text[at] !== '=') fail('expected = after an option name');
      at++;
      skipBlank();
      options.set(name, value());
    }
    at++;
    modules.push({ loginModule, flag: flag.toLowerCase(), options });
  }
  if (modules.length === 0) fail('no login module');
  return modules;
}

/**
 * The security settings of `properties` (a --command-config file's keys); `source` names the file
 * in messages. Throws ConfigError naming the key for a value that is bad or not supported.
 */
export function clientSecuritySettings(properties: ReadonlyMap<string, string>, source = 'the command config'): ClientSecuritySettings {
  const refuse = (key: string, message: string): never => {
    throw new ConfigError(key, `${message} (in ${source})`);
  };
  for (const key of properties.keys()) {
    if (/^(ssl|sasl|security)\./.test(key) && !KNOWN_KEYS.has(key) && !JVM_ONLY_KEYS.has(key)) {
      refuse(key, 'is not supported by conveyor\'s tools (supported: security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.*, ssl.keystore.* with type PEM, ssl.key.password, ssl.endpoint.identification.algorithm, ssl.enabled.protocols)');
    }
  }
  const get = (key: string): string | undefined => {
    const value = properties.get(key);
    return value === undefined || value === '' ? undefined : value;
  };

  const protocolText = get('security.protocol') ?? 'PLAINTEXT';
  const securityProtocol = SECURITY_PROTOCOLS.find((name) => name === protocolText.toUpperCase());
  if (securityProtocol === undefined) refuse('security.protocol', `'${protocolText}' is not one of ${SECURITY_PROTOCOLS.join(', ')}`);
  const usesSasl = securityProtocol === 'SASL_PLAINTEXT' || securityProtocol === 'SASL_SSL';
  const usesSsl = securityProtocol === 'SSL' || securityProtocol === 'SASL_SSL';

  // Every value given is checked, whether or not the protocol uses it.
  const sasl = saslSettings(get, refuse, usesSasl, source);
  const ssl = sslSettings(get, refuse, properties.get('ssl.endpoint.identification.algorithm'));
  return { securityProtocol: securityProtocol!, sasl: usesSasl ? sasl : undefined, ssl: usesSsl ? ssl : undefined };
}

type Get = (key: string) => string | undefined;
type Refuse = (key: string, message: string) => never;

function saslSettings(get: Get, refuse: Refuse, required: boolean, source: string): SaslCredentials | undefined {
  const mechanismText = get('sasl.mechanism');
  const jaas = get('sasl.jaas.config');
  // Kafka's default mechanism is GSSAPI (Kerberos), which conveyor's tools do not speak.
  const mechanismName = (mechanismText ?? 'GSSAPI').toUpperCase();
  const mechanism = SASL_MECHANISMS.find((name) => name === mechanismName) as SaslMechanismName | undefined;
  if (mechanism === undefined && (required || mechanismText !== undefined)) {
    refuse('sasl.mechanism', `${mechanismText === undefined ? 'GSSAPI (the default when none is set)' : `'${mechanismText}'`} is not supported: use ${SASL_MECHANISMS.join(', ')}`);
  }
  // Without SASL the JAAS text is not used (as in Kafka), only checked to parse.
  if (!required) {
    if (jaas !== undefined) parseJaasConfig(jaas, 'sasl.jaas.config', source);
    return undefined;
  }
  if (jaas === undefined) {
    return refuse('sasl.jaas.config', `is needed for SASL: ${mechanism === 'PLAIN' ? PLAIN_LOGIN_MODULE : SCRAM_LOGIN_MODULE} required username="..." password="...";`);
  }
  const modules = parseJaasConfig(jaas, 'sasl.jaas.config', source);
  if (modules.length !== 1) refuse('sasl.jaas.config', `holds ${modules.length} login modules; it must hold one`);
  const [module] = modules as [JaasLoginModule];
  if (module.loginModule !== PLAIN_LOGIN_MODULE && module.loginModule !== SCRAM_LOGIN_MODULE) {
    refuse('sasl.jaas.config', `login module ${module.loginModule} is not supported: use ${PLAIN_LOGIN_MODULE} or ${SCRAM_LOGIN_MODULE}`);
  }
  if ((module.options.get('tokenauth') ?? '').toLowerCase() === 'true') refuse('sasl.jaas.config', 'tokenauth=true (delegation tokens) is not supported');
  const username = module.options.get('username');
  const password = module.options.get('password');
  if (username === undefined || username === '' || password === undefined) {
    refuse('sasl.jaas.config', 'the login module needs username="..." and password="..."');
  }
  return { mechanism: mechanism!, username: username!, password: password! };
}

function sslSettings(get: Get, refuse: Refuse, algorithm: string | undefined): ClientSslSettings {
  const storeType = (key: string) => {
    const type = (get(key) ?? 'JKS').toUpperCase();
    return type;
  };
  const notPem = (key: string, type: string): never =>
    refuse(key, `${type}${type === 'JKS' ? ' (the default when none is set)' : ''} cannot be read by conveyor's tools: set ${key}=PEM and give PEM certificates`);

  let truststore: PemSource | undefined;
  let truststorePkcs12: { password: string | null } | undefined;
  const truststoreLocation = get('ssl.truststore.location');
  const truststoreCertificates = get('ssl.truststore.certificates');
  if (truststoreLocation !== undefined || truststoreCertificates !== undefined) {
    const type = storeType('ssl.truststore.type');
    if (truststoreLocation !== undefined && truststoreCertificates !== undefined) refuse('ssl.truststore.certificates', 'give either ssl.truststore.location or ssl.truststore.certificates, not both');
    // A PKCS12 trust store file is read by src/base/pkcs12.ts (its password optional, as in Kafka).
    if (type === 'PKCS12' && truststoreLocation !== undefined) truststorePkcs12 = { password: get('ssl.truststore.password') ?? null };
    else if (type !== 'PEM') notPem('ssl.truststore.type', type);
    else if (get('ssl.truststore.password') !== undefined) refuse('ssl.truststore.password', 'a PEM trust store has no password');
    truststore = truststoreCertificates !== undefined ? { key: 'ssl.truststore.certificates', pem: normalizePem(truststoreCertificates, 'ssl.truststore.certificates', refuse) } : { key: 'ssl.truststore.location', file: truststoreLocation! };
  } else if (get('ssl.truststore.password') !== undefined) {
    refuse('ssl.truststore.password', 'is set but no trust store is (ssl.truststore.location or ssl.truststore.certificates)');
  }

  let keystore: ClientSslSettings['keystore'];
  const keystoreLocation = get('ssl.keystore.location');
  const chain = get('ssl.keystore.certificate.chain');
  const key = get('ssl.keystore.key');
  if (keystoreLocation !== undefined || chain !== undefined || key !== undefined) {
    const type = storeType('ssl.keystore.type');
    if (type !== 'PEM') notPem('ssl.keystore.type', type);
    if (get('ssl.keystore.password') !== undefined) refuse('ssl.keystore.password', 'a PEM key store takes no store password; an encrypted key\'s password goes in ssl.key.password');
    if (keystoreLocation !== undefined) {
      if (chain !== undefined || key !== undefined) refuse('ssl.keystore.location', 'give either ssl.keystore.location or ssl.keystore.certificate.chain with ssl.keystore.key, not both');
      keystore = { file: { key: 'ssl.keystore.location', file: keystoreLocation } };
    } else {
      if (chain === undefined) refuse('ssl.keystore.certificate.chain', 'is needed with ssl.keystore.key');
      if (key === undefined) refuse('ssl.keystore.key', 'is needed with ssl.keystore.certificate.chain');
      keystore = {
        certificateChain: { key: 'ssl.keystore.certificate.chain', pem: normalizePem(chain!, 'ssl.keystore.certificate.chain', refuse) },
        key: { key: 'ssl.keystore.key', pem: normalizePem(key!, 'ssl.keystore.key', refuse) },
      };
    }
  } else if (get('ssl.keystore.password') !== undefined) {
    refuse('ssl.keystore.password', 'is set but no key store is (ssl.keystore.location, or ssl.keystore.certificate.chain and ssl.keystore.key)');
  }

  // Empty turns the host name check off, so here empty is not the same as unset.
  if (algorithm !== undefined && algorithm !== '' && algorithm.toLowerCase() !== 'https') {
    refuse('ssl.endpoint.identification.algorithm', `'${algorithm}' is not supported: https (check the broker's host name, the default) or empty (do not)`);
  }

  const protocols = (get('ssl.enabled.protocols') ?? TLS_VERSIONS.join(',')).split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const protocol of protocols) {
    if (!(TLS_VERSIONS as readonly string[]).includes(protocol)) refuse('ssl.enabled.protocols', `'${protocol}' is not supported: ${TLS_VERSIONS.join(', ')}`);
  }
  if (protocols.length === 0) refuse('ssl.enabled.protocols', 'names no protocol');
  const sslProtocol = get('ssl.protocol');
  if (sslProtocol !== undefined && !['TLS', 'TLSv1.2', 'TLSv1.3'].includes(sslProtocol)) refuse('ssl.protocol', `'${sslProtocol}' is not supported: TLSv1.3, TLSv1.2 or TLS`);

  return {
    truststore,
    ...(truststorePkcs12 === undefined ? {} : { truststorePkcs12 }),
    keystore,
    keyPassword: get('ssl.key.password'),
    endpointIdentification: algorithm === undefined || algorithm.toLowerCase() === 'https',
    minVersion: protocols.includes('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3',
    maxVersion: protocols.includes('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2',
  };
}

/**
 * PEM text as Node reads it. A properties value continued over lines arrives as one line (the
 * continuations' line breaks are gone), as Kafka accepts it: each block's base64 is taken whatever
 * its white space and written back in 64-character lines. Refuses text with no PEM block.
 */
export function normalizePem(text: string, key: string, refuse: Refuse = (name, message) => {
  throw new ConfigError(name, message);
}): string {
  const blocks: string[] = [];
  const pattern = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const label = match[1]!;
    const body = match[2]!;
    // An encrypted traditional key has headers (Proc-Type, DEK-Info) before its base64.
    const headers = [...body.matchAll(/([A-Za-z-]+):\s*([^\s]+)/g)].map(([, name, value]) => `${name}: ${value}`);
    const base64 = body.replace(/[A-Za-z-]+:\s*[^\s]+/g, '').replace(/\s+/g, '');
    const lines = base64.match(/.{1,64}/g) ?? [];
    blocks.push([`-----BEGIN ${label}-----`, ...headers, ...(headers.length > 0 ? [''] : []), ...lines, `-----END ${label}-----`].join('\n'));
  }
  if (blocks.length === 0) refuse(key, 'holds no PEM block (-----BEGIN ...-----)');
  return `${blocks.join('\n')}\n`;
}
