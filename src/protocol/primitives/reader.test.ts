// Reader: primitives decode as Kafka defines them, and malformed lengths and counts fail with
// ProtocolError before anything is allocated.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from './protocol-error.js';
import { Reader } from './reader.js';

const hex = (text: string): Buffer => Buffer.from(text.replaceAll(' ', ''), 'hex');

describe('Reader', () => {
  it('reads fixed-width integers big-endian', () => {
    const reader = new Reader(hex('ff 7fff ffffffff fffe 80000000 ffffffffffffffff 3ff8000000000000 01 00'));
    assert.equal(reader.readInt8(), -1);
    assert.equal(reader.readInt16(), 32767);
    assert.equal(reader.readInt32(), -1);
    assert.equal(reader.readUInt16(), 65534);
    assert.equal(reader.readUInt32(), 2147483648);
    assert.equal(reader.readInt64(), -1n);
    assert.equal(reader.readFloat64(), 1.5);
    assert.equal(reader.readBoolean(), true);
    assert.equal(reader.readBoolean(), false);
    assert.equal(reader.remaining, 0);
  });

  it('reads strings, nullable strings and their compact forms as UTF-8', () => {
    const reader = new Reader(hex('0003 616263 ffff 0000 04 c3a962 00 01'));
    assert.equal(reader.readString(), 'abc');
    assert.equal(reader.readNullableString(), null);
    assert.equal(reader.readString(), '');
    assert.equal(reader.readCompactString(), 'éb');
    assert.equal(reader.readCompactNullableString(), null);
    assert.equal(reader.readCompactString(), '');
  });

  it('returns bytes and records as views of the input, not copies', () => {
    const input = hex('00000002 abcd ffffffff 03 0102 00');
    const reader = new Reader(input);
    const bytes = reader.readBytes();
    assert.deepEqual(bytes, hex('abcd'));
    assert.equal(bytes.buffer, input.buffer);
    assert.equal(reader.readRecords(), null);
    assert.deepEqual(reader.readCompactRecords(), hex('0102'));
    assert.equal(reader.readCompactNullableBytes(), null);
  });

  it('reads uuids as 22-character base64url', () => {
    assert.equal(new Reader(Buffer.alloc(16)).readUuid(), 'AAAAAAAAAAAAAAAAAAAAAA');
    const bytes = hex('0123456789abcdef0123456789abcdef');
    assert.equal(new Reader(bytes).readUuid(), bytes.toString('base64url'));
  });

  it('reads array lengths: -1 and compact 0 are null', () => {
    const reader = new Reader(hex('ffffffff 00 00000001 02 aa'));
    assert.equal(reader.readArrayLength(), null);
    assert.equal(reader.readCompactArrayLength(), null);
    assert.equal(reader.readArrayLength(), 1);
    assert.equal(reader.readCompactArrayLength(), 1);
  });

  it('refuses counts and lengths larger than what remains', () => {
    const cases: [string, (reader: Reader) => unknown][] = [
      ['7fffffff', (reader) => reader.readArrayLength()],
      ['ffffffff0f', (reader) => reader.readCompactArrayLength()],
      ['00000005 0102', (reader) => reader.readBytes()],
      ['0005 41', (reader) => reader.readString()],
      ['fffe', (reader) => reader.readNullableString()],
      ['fffffffe', (reader) => reader.readNullableBytes()],
      ['ffff', (reader) => reader.readString()],
      ['00', (reader) => reader.readCompactString()],
      ['0102', (reader) => reader.readInt32()],
      ['01', (reader) => reader.readUuid()],
      ['ffffffffff', (reader) => reader.readUnsignedVarInt()],
      ['05 01 05 00', (reader) => reader.skipTaggedFields()],
    ];
    for (const [input, read] of cases) {
      assert.throws(() => read(new Reader(hex(input))), ProtocolError, input);
    }
  });

  it('respects the end bound', () => {
    const reader = new Reader(hex('0000000100000002'), 0, 4);
    assert.equal(reader.readInt32(), 1);
    assert.throws(() => reader.readInt32(), ProtocolError);
    assert.throws(() => new Reader(Buffer.alloc(2), 0, 3), ProtocolError);
    assert.throws(() => reader.skip(-1), ProtocolError);
  });

  it('skips tag buffers and bounds known tagged fields', () => {
    const reader = new Reader(hex('02 00 01 aa 05 02 bbcc 7f'));
    reader.skipTaggedFields();
    assert.equal(reader.readInt8(), 0x7f);
    const tagged = new Reader(hex('03 010203 ff'));
    const fieldEnd = tagged.beginTaggedField();
    assert.equal(tagged.readInt8(), 1);
    tagged.endTaggedField(fieldEnd);
    assert.equal(tagged.readInt8(), -1);
    const overrun = new Reader(hex('01 0000'));
    const end = overrun.beginTaggedField();
    overrun.readInt16();
    assert.throws(() => overrun.endTaggedField(end), ProtocolError);
  });

  it('reads zig-zag varints and varlongs', () => {
    const reader = new Reader(hex('01 02 03 feffffff0f'));
    assert.equal(reader.readVarInt(), -1);
    assert.equal(reader.readVarInt(), 1);
    assert.equal(reader.readVarLong(), -2);
    assert.equal(reader.readUnsignedVarInt(), 0xfffffffe);
  });
});
