// Certificates for TLS tests, made by the openssl command in a temporary directory for each run,
// as a developer would: a local CA, a broker certificate for localhost and 127.0.0.1 signed by it
// (also as one PEM key store file and a PKCS12 one), a client certificate it signed (CN=alice),
// and a client certificate from another CA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  ca: string;
  brokerCert: string;
  brokerKey: string;
  clientCert: string;
  clientKey: string;
  /** The broker's key and certificate in one PEM file, and in a PKCS12 file (password `store-secret`). */
  brokerPemFile: string;
  brokerP12File: string;
  /** The test CA in a PKCS12 trust store (password trust-secret). */
  caP12File: string;
  caFile: string;
  /** The client's certificate and key as files (for clients that take paths: librdkafka, Python). */
  clientCertFile: string;
  clientKeyFile: string;
  /** Another CA, and a broker key store (one PEM file) signed by it: a renewed certificate. */
  otherCa: string;
  renewedBrokerPemFile: string;
  /** A client certificate from a CA the broker does not trust. */
  strangerCert: string;
  strangerKey: string;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'conveyor-tls-'));
  const ca = (name: string) => {
    openssl(dir, 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`);
  };
  const signed = (name: string, signer: string, subject: string, san?: string) => {
    openssl(dir, 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    if (san) writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', ...(san ? ['-extfile', `${name}.ext`] : []));
  };
  ca('test-ca');
  ca('other-ca');
  signed('broker', 'test-ca', '/CN=localhost', 'DNS:localhost,IP:127.0.0.1');
  signed('client', 'test-ca', '/CN=alice/O=conveyor-tests');
  signed('stranger', 'other-ca', '/CN=mallory');
  signed('renewed', 'other-ca', '/CN=localhost', 'DNS:localhost,IP:127.0.0.1');
  openssl(dir, 'pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-out', 'broker.p12', '-passout', 'pass:store-secret');
  // A trust store of certificates only (no key), as keytool -importcert makes one: the test CA.
  openssl(dir, 'pkcs12', '-export', '-nokeys', '-in', 'test-ca.pem', '-out', 'trust.p12', '-passout', 'pass:trust-secret');
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  writeFileSync(join(dir, 'broker-store.pem'), read('broker.key') + read('broker.pem'));
  writeFileSync(join(dir, 'renewed-store.pem'), read('renewed.key') + read('renewed.pem'));
  return {
    dir,
    ca: read('test-ca.pem'),
    brokerCert: read('broker.pem'),
    brokerKey: read('broker.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
    brokerPemFile: join(dir, 'broker-store.pem'),
    brokerP12File: join(dir, 'broker.p12'),
    caP12File: join(dir, 'trust.p12'),
    caFile: join(dir, 'test-ca.pem'),
    otherCa: read('other-ca.pem'),
    renewedBrokerPemFile: join(dir, 'renewed-store.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    strangerCert: read('stranger.pem'),
    strangerKey: read('stranger.key'),
  };
}

/** Why the certificates cannot be made here (openssl missing; `.ci/run` installs it), or false. */
export const noOpenssl = ((): string | false => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'the openssl command is not installed (Debian package openssl), so no test certificates can be made';
  }
})();

