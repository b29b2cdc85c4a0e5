// PKCS#12 trust stores made by openssl in each of its encodings (OpenSSL 3's default PBES2 with
// AES-256 and an HMAC-SHA256 MAC; unencrypted certificates; PKCS#12's own 3DES scheme; AES-128 with
// a SHA-1 MAC; a SHA-512 MAC; -legacy's RC2): the certificates come back as they went in, a wrong
// password and RC2 are told apart, and damaged files (random bytes, truncation) are refused with
// a Pkcs12Error, never another exception.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { seededRandom } from '../testing/workload.js';
import { Pkcs12Error, pkcs12Certificates } from './pkcs12.js';

const noOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'openssl is not installed';
  }
})();

const ENCODINGS: Readonly<Record<string, string[]>> = {
  default: [],
  unencrypted: ['-certpbe', 'NONE'],
  'pbe-sha1-3des': ['-certpbe', 'PBE-SHA1-3DES'],
  'aes-128, sha1 mac': ['-certpbe', 'AES-128-CBC', '-macalg', 'sha1'],
  'sha512 mac': ['-certpbe', 'AES-256-CBC', '-macalg', 'sha512'],
};

describe('pkcs12Certificates', { skip: noOpenssl }, () => {
  let dir: string;
  let fingerprints: string[];
  const store = (name: string) => readFileSync(join(dir, `${name}.p12`));

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'conveyor-pkcs12-'));
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    for (const name of ['one', 'two']) run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`);
    const pems = ['one', 'two'].map((name) => readFileSync(join(dir, `${name}.pem`), 'utf8'));
    fingerprints = pems.map((pem) => new X509Certificate(pem).fingerprint256);
    const both = join(dir, 'both.pem');
    execFileSync('sh', ['-c', `cat one.pem two.pem > ${both}`], { cwd: dir });
    for (const [name, options] of Object.entries(ENCODINGS)) run('pkcs12', '-export', '-nokeys', '-in', both, '-out', `${name}.p12`, '-passout', 'pass:trust-secret', ...options);
    run('pkcs12', '-export', '-nokeys', '-in', both, '-out', 'legacy.p12', '-passout', 'pass:trust-secret', '-legacy');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of Object.keys(ENCODINGS)) {
    it(`reads both certificates of a ${name} store`, () => {
      const certificates = pkcs12Certificates(store(name), 'trust-secret');
      assert.deepEqual(certificates.map((pem) => new X509Certificate(pem).fingerprint256), fingerprints);
    });
  }

  it('tells a wrong password from RC2 and from a missing password', () => {
    assert.throws(() => pkcs12Certificates(store('default'), 'wrong'), /integrity check fails: a wrong password/);
    assert.throws(() => pkcs12Certificates(store('legacy'), 'trust-secret'), /RC2/);
    assert.throws(() => pkcs12Certificates(store('default'), null), /certificates are encrypted: set the trust store password/);
    // Without a password the integrity check is skipped and unencrypted certificates are read, as Kafka reads them.
    assert.equal(pkcs12Certificates(store('unencrypted'), null).length, 2);
  });

  it('refuses damaged files with a Pkcs12Error (random bytes changed, truncated), never another error', () => {
    const random = seededRandom(20_261_205);
    let refused = 0;
    for (let round = 0; round < 600; round++) {
      const name = Object.keys(ENCODINGS)[round % Object.keys(ENCODINGS).length]!;
      const bytes = Buffer.from(store(name));
      const damaged = round % 4 === 0 ? bytes.subarray(0, Math.floor(random() * bytes.length)) : bytes;
      if (round % 4 !== 0) for (let flips = 1 + Math.floor(random() * 3); flips > 0; flips--) damaged[Math.floor(random() * damaged.length)] = Math.floor(random() * 256);
      try {
        pkcs12Certificates(damaged, 'trust-secret');
      } catch (error) {
        assert.ok(error instanceof Pkcs12Error, `round ${round} (${name}): ${(error as Error).stack}`);
        refused++;
      }
    }
    // Most damage is caught by the MAC or the structure; a byte changed outside both may still read.
    assert.ok(refused > 500, `${refused} of 600 damaged files refused`);
  });
});
