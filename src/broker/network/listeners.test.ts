import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultListeners, parseListeners } from './listeners.js';

describe('parseListeners', () => {
  it('parses the default', () => {
    assert.deepEqual(parseListeners(defaultListeners), [{ name: 'PLAINTEXT', host: 'localhost', port: 9092 }]);
  });

  it('parses several listeners, empty hosts, bracketed IPv6 and upper-cases names', () => {
    assert.deepEqual(parseListeners(' PLAINTEXT://:9092 , internal://[::1]:9093,EXTERNAL://10.0.0.5:0,LOCAL://0.0.0.0:0'), [
      { name: 'PLAINTEXT', host: '', port: 9092 },
      { name: 'INTERNAL', host: '::1', port: 9093 },
      { name: 'EXTERNAL', host: '10.0.0.5', port: 0 },
      { name: 'LOCAL', host: '0.0.0.0', port: 0 },
    ]);
  });

  const invalid: Array<[string, RegExp]> = [
    ['', /no listener given/],
    [' , ', /no listener given/],
    ['localhost:9092', /not of the form NAME:\/\/host:port/],
    ['PLAINTEXT://localhost', /not of the form/],
    ['PLAINTEXT://localhost:port', /not of the form/],
    ['PLAINTEXT://::1:9092', /not of the form/],
    ['PLAINTEXT://localhost:-1', /not of the form/],
    ['PLAINTEXT://localhost:65536', /port 65536 .* not between 0 and 65535/],
    ['A://:9092,a://:9093', /listener name A appears twice/],
    ['A://:9092,B://localhost:9092', /listeners A and B both use port 9092/],
  ];
  for (const [value, message] of invalid) {
    it(`rejects '${value}' naming the key`, () => {
      assert.throws(() => parseListeners(value), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /^listeners: /);
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it('allows several listeners on port 0', () => {
    assert.equal(parseListeners('A://localhost:0,B://localhost:0').length, 2);
  });
});
