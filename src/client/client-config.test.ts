import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError } from '../base/config-def.js';
import { clientSecuritySettings, normalizePem, parseJaasConfig, parseJavaProperties } from './client-config.js';

const PLAIN_JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";';
const SCRAM_JAAS = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="carol" password="carol-secret";';

function settings(text: string) {
  return clientSecuritySettings(parseJavaProperties(text), 'client.properties');
}

/** Asserts `text` is refused with a ConfigError naming `key`, whose message never shows `secret`. */
function refused(text: string, key: string, message: RegExp, secret = 'admin-secret'): void {
  assert.throws(
    () => settings(text),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
      assert.equal(error.key, key);
      assert.match(error.message, message);
      assert.match(error.message, /client\.properties/);
      assert.ok(!error.message.includes(secret), 'the message does not show the password');
      return true;
    },
  );
}

describe('command config: Java properties', () => {
  it('reads key=value, key: value and key value lines, comments, continuations and escapes as java.util.Properties does', () => {
    const properties = parseJavaProperties(
      [
        '# a comment \\',
        '! another',
        'a=1',
        '  b : two words  ',
        'c three',
        'd==x',
        'long=first \\',
        '    second \\\\',
        'next=after an escaped backslash',
        'e\\=key=with escaped separator',
        'tab=a\\tb\\u0041',
        'empty=',
        'crlf=yes\r',
      ].join('\n'),
    );
    assert.deepEqual(Object.fromEntries(properties), {
      a: '1',
      b: 'two words',
      c: 'three',
      d: '=x',
      long: 'first second \\',
      next: 'after an escaped backslash',
      'e=key': 'with escaped separator',
      tab: 'a\tbA',
      empty: '',
      crlf: 'yes',
    });
  });

  it('parses a JAAS entry with quoted, escaped and bare values; says where it fails, never what', () => {
    const [module] = parseJaasConfig('org.apache.kafka.common.security.plain.PlainLoginModule  REQUIRED\n username="a\\"b" password=bare serviceName="x y";');
    assert.deepEqual({ ...module, options: Object.fromEntries(module!.options) }, {
      loginModule: 'org.apache.kafka.common.security.plain.PlainLoginModule',
      flag: 'required',
      options: { username: 'a"b', password: 'bare', serviceName: 'x y' },
    });
    assert.equal(parseJaasConfig(`${PLAIN_JAAS} ${SCRAM_JAAS}`).length, 2);
    assert.throws(() => parseJaasConfig('org.apache.kafka.common.security.plain.PlainLoginModule required password="hunter2"'), (error: Error) => /does not end with ;/.test(error.message) && !error.message.includes('hunter2'));
    assert.throws(() => parseJaasConfig('Module mandatory;'), /control flag/);
  });
});

describe('command config: security settings', () => {
  it('is PLAINTEXT with nothing set, and ignores keys that are not security settings', () => {
    assert.deepEqual(settings('client.id=tool\nrequest.timeout.ms=5000\n'), { securityProtocol: 'PLAINTEXT', sasl: undefined, ssl: undefined });
  });

  it('takes SASL_PLAINTEXT with PLAIN or SCRAM, the JAAS entry continued over lines', () => {
    const plain = settings(`security.protocol=sasl_plaintext\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n    username="admin" \\\n    password="admin-secret";\n`);
    assert.deepEqual(plain, { securityProtocol: 'SASL_PLAINTEXT', sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' }, ssl: undefined });
    const scram = settings(`security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config=${SCRAM_JAAS}\n`);
    assert.deepEqual(scram.sasl, { mechanism: 'SCRAM-SHA-512', username: 'carol', password: 'carol-secret' });
  });

  it('takes SASL_SSL and SSL with a PEM trust store and key store, host name checks on unless the algorithm is empty', () => {
    const ssl = settings(`security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=${SCRAM_JAAS}\nssl.truststore.type=PEM\nssl.truststore.location=/etc/ca.pem\nssl.keystore.type=PEM\nssl.keystore.location=/etc/client.pem\nssl.key.password=kp\nssl.enabled.protocols=TLSv1.3\nssl.keymanager.algorithm=SunX509\n`);
    assert.equal(ssl.securityProtocol, 'SASL_SSL');
    assert.deepEqual(ssl.ssl, {
      truststore: { key: 'ssl.truststore.location', file: '/etc/ca.pem' },
      keystore: { file: { key: 'ssl.keystore.location', file: '/etc/client.pem' } },
      keyPassword: 'kp',
      endpointIdentification: true,
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
    });
    const noCheck = settings('security.protocol=SSL\nssl.endpoint.identification.algorithm=\n');
    assert.deepEqual(noCheck.ssl?.truststore, undefined);
    assert.equal(noCheck.ssl?.endpointIdentification, false);
    assert.equal(noCheck.sasl, undefined);
  });

  it('refuses a bad or unsupported value naming its key, and never shows the password', () => {
    const sasl = (extra: string) => `security.protocol=SASL_PLAINTEXT\n${extra}`;
    refused('security.protocol=SASL_FOO\n', 'security.protocol', /'SASL_FOO' is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL/);
    refused(sasl(`sasl.jaas.config=${PLAIN_JAAS}\n`), 'sasl.mechanism', /GSSAPI \(the default when none is set\) is not supported/);
    refused(sasl(`sasl.mechanism=OAUTHBEARER\nsasl.jaas.config=${PLAIN_JAAS}\n`), 'sasl.mechanism', /'OAUTHBEARER' is not supported: use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512/);
    refused(sasl('sasl.mechanism=PLAIN\n'), 'sasl.jaas.config', /is needed for SASL/);
    refused(sasl('sasl.mechanism=PLAIN\nsasl.jaas.config=com.sun.security.auth.module.Krb5LoginModule required password="admin-secret";\n'), 'sasl.jaas.config', /Krb5LoginModule is not supported/);
    refused(sasl(`sasl.mechanism=PLAIN\nsasl.jaas.config=${PLAIN_JAAS} ${PLAIN_JAAS}\n`), 'sasl.jaas.config', /holds 2 login modules/);
    refused(sasl('sasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin";\n'), 'sasl.jaas.config', /needs username="..." and password="..."/);
    refused(sasl('sasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="t" password="admin-secret" tokenauth=true;\n'), 'sasl.jaas.config', /tokenauth/);
    refused(sasl('sasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required password="admin-secret"\n'), 'sasl.jaas.config', /does not end with ;/);
    refused('security.protocol=SSL\nssl.truststore.location=/etc/truststore.jks\n', 'ssl.truststore.type', /JKS \(the default when none is set\) cannot be read/);
    refused('security.protocol=SSL\nssl.keystore.type=PKCS12\nssl.keystore.location=/etc/client.p12\n', 'ssl.keystore.type', /PKCS12 cannot be read/);
    refused('security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=/a\nssl.truststore.password=admin-secret\n', 'ssl.truststore.password', /has no password/);
    refused('security.protocol=SSL\nssl.keystore.type=PEM\nssl.keystore.location=/a\nssl.keystore.password=admin-secret\n', 'ssl.keystore.password', /ssl\.key\.password/);
    refused('security.protocol=SSL\nssl.keystore.type=PEM\nssl.keystore.key=x\n', 'ssl.keystore.certificate.chain', /is needed with ssl\.keystore\.key/);
    refused('security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.certificates=not a certificate\n', 'ssl.truststore.certificates', /holds no PEM block/);
    refused('security.protocol=SSL\nssl.endpoint.identification.algorithm=ldap\n', 'ssl.endpoint.identification.algorithm', /'ldap' is not supported/);
    refused('security.protocol=SSL\nssl.enabled.protocols=TLSv1.3,TLSv1.1\n', 'ssl.enabled.protocols', /'TLSv1\.1' is not supported/);
    refused('security.protocol=SSL\nssl.engine.factory.class=com.example.Factory\n', 'ssl.engine.factory.class', /is not supported by conveyor's tools/);
    refused('sasl.login.callback.handler.class=com.example.Handler\n', 'sasl.login.callback.handler.class', /is not supported/);
    // A value a protocol does not use is still checked, as far as it can be on its own.
    refused('security.protocol=PLAINTEXT\nsasl.mechanism=GSSAPI\n', 'sasl.mechanism', /'GSSAPI' is not supported/);
  });

  it('turns PEM written on one line (a properties value continued over lines) back into PEM Node reads', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const oneLine = pem.replace(/\n/g, ' ');
    assert.throws(() => createPrivateKey(oneLine));
    const properties = parseJavaProperties(`ssl.keystore.key=${pem.trim().split('\n').join(' \\\n  ')}\n`);
    const normalized = normalizePem(properties.get('ssl.keystore.key')!, 'ssl.keystore.key');
    assert.equal(normalized, pem);
    assert.equal(createPrivateKey(normalized).asymmetricKeyType, 'ec');
    const inline = settings(`security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.certificates=${oneLine}${oneLine}\n`);
    assert.deepEqual(inline.ssl?.truststore, { key: 'ssl.truststore.certificates', pem: `${pem}${pem}` });
  });
});
