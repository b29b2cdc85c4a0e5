// `conveyor certs create DIR`: a local certificate authority and certificates signed by it, for a
// developer's TLS setup (never for production): the broker's certificate for localhost, 127.0.0.1,
// ::1 and any --host given, and a client certificate (CN from --client). Written as PEM files,
// with the broker's key and chain also as one PEM key store file, and the server.properties lines
// and client settings that use them printed. Keys come from node:crypto (RSA 2048); node-forge
// builds and signs the X.509 certificates (node:crypto can read certificates but not make them).
// The files holding private keys are readable by their owner only.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import forge from 'node-forge';
import { ToolError } from '../client/cluster-client.js';

interface CreateOptions {
  host: string[];
  client: string;
  days: string;
}

interface Issued {
  certificate: forge.pki.Certificate;
  keyPem: string;
}

export function registerCertsCommand(program: Command): void {
  const certs = program.command('certs').description('certificates for trying TLS locally (a development CA, never for production)');
  certs
    .command('create')
    .argument('<dir>', 'where the files go (created if missing; existing files of the same names are replaced)')
    .description('make a local CA, a broker certificate and a client certificate signed by it, and print the settings that use them')
    .option('--host <name>', 'a further host name or address for the broker certificate (repeatable)', (value: string, previous: string[]) => [...previous, value], [])
    .option('--client <name>', "the client certificate's common name (its principal: User:CN=<name>)", 'client')
    .option('--days <n>', 'how long the certificates are valid', '365')
    .action(async (dir: string, options: CreateOptions) => {
      const days = Number(options.days);
      if (!Number.isInteger(days) || days < 1 || days > 3650) throw new ToolError(`--days: '${options.days}' is not a whole number of days from 1 to 3650`);
      const out = resolve(dir);
      await mkdir(out, { recursive: true });
      const ca = issue({ commonName: 'Conveyor development CA', days });
      const broker = issue({ commonName: 'localhost', days, issuer: ca, hosts: ['localhost', '127.0.0.1', '::1', ...options.host] });
      const client = issue({ commonName: options.client, days, issuer: ca, clientOnly: true });
      const pem = (issued: Issued) => forge.pki.certificateToPem(issued.certificate);
      const files: [string, string, boolean][] = [
        ['ca.pem', pem(ca), false],
        ['ca.key', ca.keyPem, true],
        ['broker.pem', pem(broker) + pem(ca), false],
        ['broker.key', broker.keyPem, true],
        ['broker-keystore.pem', broker.keyPem + pem(broker) + pem(ca), true],
        ['client.pem', pem(client) + pem(ca), false],
        ['client.key', client.keyPem, true],
      ];
      for (const [name, content, secret] of files) await writeFile(join(out, name), content, { mode: secret ? 0o600 : 0o644 });
      process.stdout.write(
        [
          `wrote ${files.map(([name]) => name).join(', ')} to ${out}`,
          '',
          '# server.properties: an SSL listener beside the plaintext one',
          'listeners=PLAINTEXT://localhost:9092,SSL://localhost:9093',
          'ssl.keystore.type=PEM',
          `ssl.keystore.location=${join(out, 'broker-keystore.pem')}`,
          'ssl.truststore.type=PEM',
          `ssl.truststore.location=${join(out, 'ca.pem')}`,
          '# ssl.client.auth=required   (clients must then present client.pem)',
          '',
          '# clients (librdkafka, Java): security.protocol=SSL',
          `#   ssl.ca.location=${join(out, 'ca.pem')}  ssl.certificate.location=${join(out, 'client.pem')}  ssl.key.location=${join(out, 'client.key')}`,
          `# kafkajs: ssl: { ca: [readFileSync('${join(out, 'ca.pem')}')], cert: readFileSync('${join(out, 'client.pem')}'), key: readFileSync('${join(out, 'client.key')}') }`,
          '',
        ].join('\n'),
      );
    });
}

/** A key pair and a certificate for it: self-signed for a CA (no issuer), else signed by `issuer`. */
function issue(subject: { commonName: string; days: number; issuer?: Issued; hosts?: string[]; clientOnly?: boolean }): Issued {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKey);
  // A positive serial number of 16 random bytes (the top bit cleared).
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  certificate.serialNumber = serial.toString('hex');
  const now = new Date();
  certificate.validity.notBefore = new Date(now.getTime() - 60_000);
  certificate.validity.notAfter = new Date(now.getTime() + subject.days * 86_400_000);
  const name = [{ name: 'commonName', value: subject.commonName }, { name: 'organizationName', value: 'Conveyor development' }];
  certificate.setSubject(name);
  certificate.setIssuer(subject.issuer ? subject.issuer.certificate.subject.attributes : name);
  const extensions: object[] = subject.issuer
    ? [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', clientAuth: true, serverAuth: subject.clientOnly !== true },
      ]
    : [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ];
  if (subject.hosts) extensions.push({ name: 'subjectAltName', altNames: subject.hosts.map((host) => (isIP(host) ? { type: 7, ip: host } : { type: 2, value: host })) });
  extensions.push({ name: 'subjectKeyIdentifier' });
  certificate.setExtensions(extensions);
  const signerKey = forge.pki.privateKeyFromPem(subject.issuer ? subject.issuer.keyPem : privateKey);
  certificate.sign(signerKey, forge.md.sha256.create());
  return { certificate, keyPem: privateKey };
}
