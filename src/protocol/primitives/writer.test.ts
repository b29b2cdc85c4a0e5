// Writer: bytes match the Reader's expectations, the buffer grows and is reusable, and large
// payloads are referenced as chunks rather than copied.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtocolError } from './protocol-error.js';
import { Reader } from './reader.js';
import { Writer, ZERO_COPY_THRESHOLD_BYTES } from './writer.js';

describe('Writer', () => {
  it('writes every primitive so that the Reader reads it back', () => {
    const writer = new Writer(16);
    writer.writeInt8(-2);
    writer.writeInt16(-300);
    writer.writeInt32(-70000);
    writer.writeUInt16(65535);
    writer.writeUInt32(4294967295);
    writer.writeInt64(-(2n ** 62n));
    writer.writeFloat64(-0.25);
    writer.writeBoolean(true);
    writer.writeUnsignedVarInt(300);
    writer.writeVarInt(-65);
    writer.writeVarLong(2 ** 40);
    writer.writeUuid('AAECAwQFBgcICQoLDA0ODw');
    writer.writeString('topic');
    writer.writeNullableString(null);
    writer.writeCompactString('ünïcode and a longer string that exceeds the short-string fast path, surely');
    writer.writeCompactNullableString(null);
    writer.writeBytes(Buffer.from([1, 2]));
    writer.writeNullableBytes(null);
    writer.writeCompactBytes(Buffer.from([3]));
    writer.writeCompactNullableBytes(null);
    writer.writeArrayLength(null);
    writer.writeCompactArrayLength(0);
    writer.writeEmptyTaggedFields();
    const reader = new Reader(writer.toBuffer());
    assert.equal(reader.readInt8(), -2);
    assert.equal(reader.readInt16(), -300);
    assert.equal(reader.readInt32(), -70000);
    assert.equal(reader.readUInt16(), 65535);
    assert.equal(reader.readUInt32(), 4294967295);
    assert.equal(reader.readInt64(), -(2n ** 62n));
    assert.equal(reader.readFloat64(), -0.25);
    assert.equal(reader.readBoolean(), true);
    assert.equal(reader.readUnsignedVarInt(), 300);
    assert.equal(reader.readVarInt(), -65);
    assert.equal(reader.readVarLong(), 2 ** 40);
    assert.equal(reader.readUuid(), 'AAECAwQFBgcICQoLDA0ODw');
    assert.equal(reader.readString(), 'topic');
    assert.equal(reader.readNullableString(), null);
    assert.equal(reader.readCompactString(), 'ünïcode and a longer string that exceeds the short-string fast path, surely');
    assert.equal(reader.readCompactNullableString(), null);
    assert.deepEqual(reader.readBytes(), Buffer.from([1, 2]));
    assert.equal(reader.readNullableBytes(), null);
    assert.deepEqual(reader.readCompactBytes(), Buffer.from([3]));
    assert.equal(reader.readCompactNullableBytes(), null);
    assert.equal(reader.readArrayLength(), null);
    assert.equal(reader.readCompactArrayLength(), 0);
    reader.skipTaggedFields();
    assert.equal(reader.remaining, 0);
  });

  it('references large record batches instead of copying them', () => {
    const large = Buffer.alloc(ZERO_COPY_THRESHOLD_BYTES, 7);
    const small = Buffer.from([1, 2, 3]);
    const writer = new Writer();
    writer.writeInt32(42);
    writer.writeRecords([large, small, large]);
    writer.writeInt8(9);
    const chunks = writer.finish();
    assert.equal(writer.length, 4 + 4 + large.length * 2 + small.length + 1);
    assert.equal(chunks.filter((chunk) => chunk === large).length, 2);
    const reader = new Reader(Buffer.concat(chunks));
    assert.equal(reader.readInt32(), 42);
    assert.deepEqual(reader.readRecords(), Buffer.concat([large, small, large]));
    assert.equal(reader.readInt8(), 9);
  });

  it('keeps chunks handed out intact while the buffer grows', () => {
    const writer = new Writer(16);
    writer.writeString('before');
    writer.writeCompactRecords(Buffer.alloc(ZERO_COPY_THRESHOLD_BYTES, 1));
    for (let index = 0; index < 1000; index++) writer.writeInt32(index);
    const reader = new Reader(writer.toBuffer());
    assert.equal(reader.readString(), 'before');
    assert.equal(reader.readCompactRecords()?.length, ZERO_COPY_THRESHOLD_BYTES);
    for (let index = 0; index < 1000; index++) assert.equal(reader.readInt32(), index);
  });

  it('prefixes tagged fields with their size, even across a buffer growth', () => {
    const writer = new Writer(16);
    writer.writeInt8(1);
    const mark = writer.beginTaggedField(5);
    for (let index = 0; index < 100; index++) writer.writeInt32(index);
    writer.endTaggedField(mark);
    const reader = new Reader(writer.toBuffer());
    assert.equal(reader.readInt8(), 1);
    assert.equal(reader.readUnsignedVarInt(), 5);
    assert.equal(reader.readUnsignedVarInt(), 400);
    for (let index = 0; index < 100; index++) assert.equal(reader.readInt32(), index);
  });

  it('is reusable after reset and patches a reserved size', () => {
    const writer = new Writer();
    writer.writeString('first message');
    writer.reset();
    writer.writeInt32(0);
    writer.writeInt16(7);
    writer.patchInt32(0, writer.length - 4);
    assert.deepEqual(writer.toBuffer(), Buffer.from([0, 0, 0, 2, 0, 7]));
  });

  it('refuses malformed uuids and over-long INT16 strings', () => {
    assert.throws(() => new Writer().writeUuid('not-a-uuid'), ProtocolError);
    assert.throws(() => new Writer().writeString('x'.repeat(0x8000)), ProtocolError);
  });
});

describe('Writer int64', () => {
  it('round trips the edges of the fast and slow paths', () => {
    const values = [0n, -1n, 1n, 2n ** 31n, -(2n ** 31n), 2n ** 32n, 2n ** 53n - 1n, -(2n ** 53n) + 1n, 2n ** 53n, 2n ** 63n - 1n, -(2n ** 63n), 0x1234_5678_9abc_def0n];
    const writer = new Writer(8);
    for (const value of values) writer.writeInt64(value);
    const bytes = writer.toBuffer();
    values.forEach((value, index) => assert.equal(bytes.readBigInt64BE(index * 8), value));
    const reader = new Reader(bytes);
    for (const value of values) assert.equal(reader.readInt64(), value);
  });

  it('writes INT16 and INT32 with two-complement wrapping', () => {
    const writer = new Writer();
    writer.writeInt16(-2);
    writer.writeInt32(-2);
    writer.writeInt32(0x7fffffff);
    assert.deepEqual(writer.toBuffer(), Buffer.from('fffefffffffe7fffffff', 'hex'));
  });
});
