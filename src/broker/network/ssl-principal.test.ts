import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SslPrincipalMapper } from './ssl-principal.js';

test('ssl.principal.mapping.rules: the first rule matching the whole name applies, with its groups and case flag', () => {
  const mapper = SslPrincipalMapper.parse('RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/, RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, DEFAULT');
  assert.equal(mapper.map('CN=kafka-client,OU=ServiceUsers,O=Example'), 'kafka-client');
  assert.equal(mapper.map('CN=Duke,OU=JavaSoft,O=Sun Microsystems,L=Santa Clara,ST=CA,C=US'), 'duke@javasoft');
  assert.equal(mapper.map('OU=Ops,cn=alice.smith,O=Example'), 'ALICE.SMITH');
  assert.equal(mapper.map('O=Example'), 'O=Example', 'DEFAULT: unchanged');
});

test('a name no rule applies to is refused; DEFAULT alone keeps every name; an escaped slash is part of the pattern', () => {
  const strict = SslPrincipalMapper.parse('RULE:^CN=([a-z]+)$/$1/');
  assert.equal(strict.map('CN=bob'), 'bob');
  assert.throws(() => strict.map('CN=bob,O=x'), /no rule of ssl.principal.mapping.rules applies to 'CN=bob,O=x'/);
  assert.equal(SslPrincipalMapper.parse('DEFAULT').map('CN=a,O=b'), 'CN=a,O=b');
  assert.equal(SslPrincipalMapper.parse('RULE:^CN=(.*)\\/x$/$1/').map('CN=a/x'), 'a');
});

test('malformed rules are refused with the part that is wrong', () => {
  assert.throws(() => SslPrincipalMapper.parse('RULE:^CN=(.*)$/$1'), /ends before its closing/);
  assert.throws(() => SslPrincipalMapper.parse('RULES:x/y/'), /is not RULE:pattern\/replacement\/\[LU\] or DEFAULT/);
  assert.throws(() => SslPrincipalMapper.parse('RULE:(unclosed/$1/'), /is not a regular expression/);
  assert.throws(() => SslPrincipalMapper.parse(' , '), /no rule given/);
});
