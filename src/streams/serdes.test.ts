import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Serdes, serdeByName, SerializationError } from './serdes.js';

const hex = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes).toString('hex'));

describe('Serdes', () => {
  it('writes numbers as Kafka does: Long 8 bytes, Integer 4, Double IEEE 754, all big-endian', () => {
    assert.equal(hex(Serdes.Long().serialize('t', 1)), '0000000000000001');
    assert.equal(hex(Serdes.Long().serialize('t', -2)), 'fffffffffffffffe');
    assert.equal(hex(Serdes.Integer().serialize('t', 258)), '00000102');
    assert.equal(hex(Serdes.Double().serialize('t', 1.5)), '3ff8000000000000');
    assert.equal(hex(Serdes.BigLong().serialize('t', 2n ** 63n - 1n)), '7fffffffffffffff');
    assert.equal(Serdes.Long().deserialize('t', Uint8Array.from([0, 0, 0, 0, 0, 0, 1, 0])), 256);
    assert.equal(Serdes.Integer().deserialize('t', Uint8Array.from([0xff, 0xff, 0xff, 0xff])), -1);
    assert.equal(Serdes.BigLong().deserialize('t', Uint8Array.from([0x80, 0, 0, 0, 0, 0, 0, 0])), -(2n ** 63n));
  });

  it('refuses values that do not fit and bytes of the wrong width', () => {
    assert.throws(() => Serdes.Integer().serialize('t', 2 ** 31), SerializationError);
    assert.throws(() => Serdes.Long().serialize('t', 0.5), SerializationError);
    assert.throws(() => Serdes.Long().deserialize('t', new Uint8Array(4)), SerializationError);
    assert.throws(() => Serdes.Long().deserialize('t', Uint8Array.from([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), /BigLong/);
  });

  it('round-trips strings as UTF-8 and JSON as its text, and keeps null as null', () => {
    assert.equal(hex(Serdes.String().serialize('t', 'é')), 'c3a9');
    assert.equal(Serdes.String().deserialize('t', Uint8Array.from([0xc3, 0xa9])), 'é');
    const json = Serdes.JSON<{ a: number[] }>();
    assert.deepEqual(json.deserialize('t', json.serialize('t', { a: [1, 2] })), { a: [1, 2] });
    assert.equal(Buffer.from(json.serialize('t', { a: [1] })!).toString(), '{"a":[1]}');
    for (const serde of [Serdes.String(), Serdes.Long(), Serdes.JSON(), Serdes.ByteArray()]) {
      assert.equal(serde.serialize('t', null), null);
      assert.equal(serde.deserialize('t', null), null);
    }
  });

  it('finds serdes by Kafka class name or short name', () => {
    assert.equal(serdeByName('org.apache.kafka.common.serialization.Serdes$StringSerde'), Serdes.String());
    assert.equal(serdeByName('long'), Serdes.Long());
    assert.equal(serdeByName('nope'), undefined);
  });
});
