// StringConverter, ByteArrayConverter and the fixed-width number converters: Kafka's bytes
// (UTF-8 and the other encodings; big-endian numbers), the schemas they read with, null both ways,
// and their refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataException, SchemaBuilder, Schemas, Struct } from '../../api/data.js';
import { ByteArrayConverter } from './byte-array-converter.js';
import { BooleanConverter, DoubleConverter, FloatConverter, IntegerConverter, LongConverter, ShortConverter } from './number-converters.js';
import { StringConverter } from './string-converter.js';

function stringConverter(encoding?: string): StringConverter {
  const converter = new StringConverter();
  converter.configure(encoding === undefined ? {} : { 'converter.encoding': encoding }, false);
  return converter;
}

describe('StringConverter', () => {
  it('writes UTF-8 by default and reads an optional string', () => {
    const converter = stringConverter();
    assert.deepEqual(converter.fromConnectData('t', [], Schemas.STRING, 'héllo'), Buffer.from('héllo', 'utf8'));
    assert.deepEqual(converter.toConnectData('t', [], Buffer.from('héllo', 'utf8')), { schema: Schemas.OPTIONAL_STRING, value: 'héllo' });
  });

  it('writes other values by their string form', () => {
    const converter = stringConverter();
    assert.equal(converter.fromConnectData('t', [], Schemas.INT64, 42n)?.toString(), '42');
    assert.equal(converter.fromConnectData('t', [], null, 1.5)?.toString(), '1.5');
    assert.equal(converter.fromConnectData('t', [], null, true)?.toString(), 'true');
  });

  it('keeps null both ways', () => {
    const converter = stringConverter();
    assert.equal(converter.fromConnectData('t', [], Schemas.OPTIONAL_STRING, null), null);
    assert.deepEqual(converter.toConnectData('t', [], null), { schema: Schemas.OPTIONAL_STRING, value: null });
  });

  it('honours converter.encoding with Java charset names', () => {
    const cases: [string, string, number[]][] = [
      ['UTF-16BE', 'Aé', [0x00, 0x41, 0x00, 0xe9]],
      ['utf-16le', 'Aé', [0x41, 0x00, 0xe9, 0x00]],
      ['UTF-16', 'A', [0xfe, 0xff, 0x00, 0x41]],
      ['ISO-8859-1', 'Aé€', [0x41, 0xe9, 0x3f]],
      ['US-ASCII', 'Aé', [0x41, 0x3f]],
    ];
    for (const [encoding, text, bytes] of cases) {
      const converter = stringConverter(encoding);
      assert.deepEqual([...converter.fromConnectData('t', [], null, text)!], bytes, encoding);
    }
    assert.equal(stringConverter('UTF-16').toConnectData('t', [], Buffer.from([0xff, 0xfe, 0x41, 0x00])).value, 'A');
    assert.equal(stringConverter('UTF-16BE').toConnectData('t', [], Buffer.from([0x00, 0xe9])).value, 'é');
    assert.equal(stringConverter('US-ASCII').toConnectData('t', [], Buffer.from([0x41, 0xe9])).value, 'A\ufffd');
  });

  it('refuses an unknown encoding when configured', () => {
    assert.throws(() => stringConverter('EBCDIC'), /converter.encoding.*Unsupported encoding EBCDIC|Unsupported encoding EBCDIC/);
  });

  it('works as a header converter', () => {
    const converter = new StringConverter();
    converter.configure({});
    assert.equal(converter.fromConnectHeader('t', 'h', null, 'v')?.toString(), 'v');
    assert.deepEqual(converter.toConnectHeader('t', 'h', Buffer.from('v')), { schema: Schemas.OPTIONAL_STRING, value: 'v' });
  });
});

describe('ByteArrayConverter', () => {
  const converter = new ByteArrayConverter();
  converter.configure({}, false);

  it('passes bytes through', () => {
    const bytes = Buffer.from([1, 2, 3]);
    assert.equal(converter.fromConnectData('t', [], Schemas.BYTES, bytes), bytes);
    assert.deepEqual(converter.fromConnectData('t', [], null, new Uint8Array([4, 5])), Buffer.from([4, 5]));
    assert.deepEqual(converter.toConnectData('t', [], bytes), { schema: Schemas.OPTIONAL_BYTES, value: bytes });
  });

  it('keeps null both ways', () => {
    assert.equal(converter.fromConnectData('t', [], Schemas.OPTIONAL_BYTES, null), null);
    assert.deepEqual(converter.toConnectData('t', [], null), { schema: Schemas.OPTIONAL_BYTES, value: null });
  });

  it('refuses other schemas and values', () => {
    assert.throws(() => converter.fromConnectData('t', [], Schemas.STRING, Buffer.alloc(1)), { name: 'DataException', message: 'Invalid schema type for ByteArrayConverter: STRING' });
    assert.throws(() => converter.fromConnectData('t', [], null, 'text'), { message: 'ByteArrayConverter is not compatible with objects of type string' });
  });
});

describe('number converters', () => {
  const cases = [
    { name: 'ShortConverter', create: () => new ShortConverter(), schema: Schemas.OPTIONAL_INT16, value: -2 as unknown, bytes: [0xff, 0xfe] },
    { name: 'IntegerConverter', create: () => new IntegerConverter(), schema: Schemas.OPTIONAL_INT32, value: 0x01020304, bytes: [1, 2, 3, 4] },
    { name: 'LongConverter', create: () => new LongConverter(), schema: Schemas.OPTIONAL_INT64, value: -9223372036854775807n, bytes: [0x80, 0, 0, 0, 0, 0, 0, 1] },
    { name: 'FloatConverter', create: () => new FloatConverter(), schema: Schemas.OPTIONAL_FLOAT32, value: 1.5, bytes: [0x3f, 0xc0, 0, 0] },
    { name: 'DoubleConverter', create: () => new DoubleConverter(), schema: Schemas.OPTIONAL_FLOAT64, value: -2, bytes: [0xc0, 0, 0, 0, 0, 0, 0, 0] },
    { name: 'BooleanConverter', create: () => new BooleanConverter(), schema: Schemas.OPTIONAL_BOOLEAN, value: true, bytes: [1] },
  ];
  for (const { name, create, schema, value, bytes } of cases) {
    describe(name, () => {
      const converter = create();
      converter.configure({}, true);
      it('writes big-endian bytes and reads them back with its optional schema', () => {
        assert.deepEqual([...converter.fromConnectData('t', [], schema, value)!], bytes);
        assert.deepEqual(converter.toConnectData('t', [], Buffer.from(bytes)), { schema, value });
      });
      it('keeps null both ways', () => {
        assert.equal(converter.fromConnectData('t', [], schema, null), null);
        assert.deepEqual(converter.toConnectData('t', [], null), { schema, value: null });
      });
      it('refuses bytes of the wrong length and values of the wrong type', () => {
        assert.throws(() => converter.toConnectData('t', [], Buffer.alloc(bytes.length + 1)), (error: unknown) => error instanceof DataException && /^Failed to deserialize \w+: Size of data received by \w+Deserializer is not \d$/.test(error.message));
        assert.throws(() => converter.fromConnectData('t', [], null, 'text'), DataException);
      });
    });
  }

  it('LongConverter takes whole numbers too; IntegerConverter refuses what does not fit', () => {
    const long = new LongConverter();
    long.configure({}, false);
    assert.deepEqual([...long.fromConnectData('t', [], null, 258)!], [0, 0, 0, 0, 0, 0, 1, 2]);
    const integer = new IntegerConverter();
    integer.configure({}, false);
    assert.throws(() => integer.fromConnectData('t', [], null, 2 ** 31), { message: 'Failed to serialize to integer: 2147483648 is out of range' });
    assert.throws(() => integer.fromConnectData('t', [], null, 1.5), { message: 'Failed to serialize to integer: was number 1.5, not an integer' });
  });

  it('BooleanConverter refuses a byte other than 0 or 1, and a non-boolean schema', () => {
    const converter = new BooleanConverter();
    converter.configure({}, false);
    assert.throws(() => converter.toConnectData('t', [], Buffer.from([0xff])), { message: 'Failed to deserialize boolean: Unexpected byte received by BooleanDeserializer: -1' });
    assert.throws(() => converter.fromConnectData('t', [], Schemas.INT8, true), { message: 'Invalid schema type for BooleanConverter: INT8' });
    const struct = new Struct(SchemaBuilder.struct().build());
    assert.throws(() => converter.fromConnectData('t', [], null, struct), /not compatible with objects of type Struct/);
  });
});
