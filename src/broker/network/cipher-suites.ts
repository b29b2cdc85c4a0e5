// ssl.cipher.suites as Kafka takes it: the suites' standard (IANA) names, as Java's TLS names them
// (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384), turned into the OpenSSL names node:tls takes
// (ECDHE-RSA-AES256-GCM-SHA384). TLS 1.3 suites have one name in both (TLS_AES_256_GCM_SHA384).
// OpenSSL names are taken as they are, so a setting written for OpenSSL works too. Only suites the
// runtime's OpenSSL offers are accepted; anything else is refused by name.
import { getCiphers } from 'node:tls';

/** TLS 1.2 suites by their standard name: the ECDHE, DHE and RSA key exchanges with AES and ChaCha20. */
const OPENSSL_NAMES: Readonly<Record<string, string>> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
  TLS_DHE_RSA_WITH_AES_128_GCM_SHA256: 'DHE-RSA-AES128-GCM-SHA256',
  TLS_DHE_RSA_WITH_AES_256_GCM_SHA384: 'DHE-RSA-AES256-GCM-SHA384',
  TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'DHE-RSA-CHACHA20-POLY1305',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256: 'ECDHE-ECDSA-AES128-SHA256',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256: 'ECDHE-RSA-AES128-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384: 'ECDHE-ECDSA-AES256-SHA384',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384: 'ECDHE-RSA-AES256-SHA384',
  TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA: 'ECDHE-ECDSA-AES128-SHA',
  TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA: 'ECDHE-RSA-AES128-SHA',
  TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA: 'ECDHE-ECDSA-AES256-SHA',
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA: 'ECDHE-RSA-AES256-SHA',
  TLS_DHE_RSA_WITH_AES_128_CBC_SHA256: 'DHE-RSA-AES128-SHA256',
  TLS_DHE_RSA_WITH_AES_256_CBC_SHA256: 'DHE-RSA-AES256-SHA256',
  TLS_RSA_WITH_AES_128_GCM_SHA256: 'AES128-GCM-SHA256',
  TLS_RSA_WITH_AES_256_GCM_SHA384: 'AES256-GCM-SHA384',
  TLS_RSA_WITH_AES_128_CBC_SHA256: 'AES128-SHA256',
  TLS_RSA_WITH_AES_256_CBC_SHA256: 'AES256-SHA256',
  TLS_RSA_WITH_AES_128_CBC_SHA: 'AES128-SHA',
  TLS_RSA_WITH_AES_256_CBC_SHA: 'AES256-SHA',
};

export interface CipherSuites {
  /** The OpenSSL cipher list for node:tls's `ciphers` option. */
  readonly ciphers: string;
  /** Whether any TLS 1.3 suite is listed (else TLS 1.3 cannot be negotiated, as with Java's TLS). */
  readonly tls13: boolean;
  /** Whether any TLS 1.2 suite is listed. */
  readonly tls12: boolean;
}

/** The suites named in ssl.cipher.suites; throws naming the first one the runtime does not offer. */
export function resolveCipherSuites(names: readonly string[]): CipherSuites {
  const offered = new Set(getCiphers());
  const resolved = names.map((name) => {
    const openssl = OPENSSL_NAMES[name.toUpperCase()] ?? name;
    if (!offered.has(openssl.toLowerCase())) throw new Error(`cipher suite ${name} is not one this runtime's TLS offers (standard names such as TLS_AES_256_GCM_SHA384 or TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, or OpenSSL names)`);
    return /^tls_/i.test(openssl) ? openssl.toUpperCase() : openssl;
  });
  const tls13 = resolved.some((name) => name.startsWith('TLS_'));
  return { ciphers: resolved.join(':'), tls13, tls12: resolved.some((name) => !name.startsWith('TLS_')) };
}
