// The converter registry: Kafka's class names and aliases give configured converters (keys vs
// values, header converters), unknown names are refused by name, and the plugin list matches
// Kafka's /connector-plugins entries for converters and header converters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Schemas } from '../../api/data.js';
import { converterPluginConfig, converterPlugins, createConverter, createHeaderConverter, JsonConverter, SimpleHeaderConverter, StringConverter } from './index.js';

describe('createConverter', () => {
  it('accepts the full class name, the simple name and the pruned alias', () => {
    for (const name of ['org.apache.kafka.connect.json.JsonConverter', 'JsonConverter', 'Json', ' JsonConverter ']) {
      assert.ok(createConverter(name, {}, false) instanceof JsonConverter, name);
    }
    assert.ok(createConverter('org.apache.kafka.connect.storage.StringConverter', {}, true) instanceof StringConverter);
  });

  it('knows every Kafka converter', () => {
    const names = [
      'org.apache.kafka.connect.storage.StringConverter', 'org.apache.kafka.connect.json.JsonConverter',
      'org.apache.kafka.connect.converters.ByteArrayConverter', 'org.apache.kafka.connect.converters.IntegerConverter',
      'org.apache.kafka.connect.converters.LongConverter', 'org.apache.kafka.connect.converters.ShortConverter',
      'org.apache.kafka.connect.converters.FloatConverter', 'org.apache.kafka.connect.converters.DoubleConverter',
      'org.apache.kafka.connect.converters.BooleanConverter',
    ];
    for (const name of names) {
      const converter = createConverter(name, {}, false);
      assert.equal(typeof converter.toConnectData, 'function', name);
    }
  });

  it('passes the props on, configured for keys or values', () => {
    const plain = createConverter('JsonConverter', { 'schemas.enable': 'false' }, true);
    assert.equal(plain.fromConnectData('t', [], Schemas.INT32, 5)?.toString(), '5');
    assert.throws(() => createConverter('JsonConverter', { 'decimal.format': 'HEX' }, false), /decimal.format/);
  });

  it('refuses an unknown class by name, and SimpleHeaderConverter as a key or value converter', () => {
    assert.throws(() => createConverter('com.example.AvroConverter', {}, false), /com\.example\.AvroConverter.*available converters are: .*JsonConverter/);
    assert.throws(() => createConverter('org.apache.kafka.connect.storage.SimpleHeaderConverter', {}, false), /implements Converter and which name matches org\.apache\.kafka\.connect\.storage\.SimpleHeaderConverter/);
  });
});

describe('createHeaderConverter', () => {
  it('gives SimpleHeaderConverter (also by alias) and the converters that double as header converters', () => {
    for (const name of ['org.apache.kafka.connect.storage.SimpleHeaderConverter', 'SimpleHeaderConverter', 'Simple']) {
      assert.ok(createHeaderConverter(name, {}) instanceof SimpleHeaderConverter, name);
    }
    const json = createHeaderConverter('org.apache.kafka.connect.json.JsonConverter', { 'schemas.enable': 'false' });
    assert.equal(json.fromConnectHeader('t', 'h', Schemas.STRING, 'x')?.toString(), '"x"');
    const bytes = createHeaderConverter('ByteArrayConverter', {});
    assert.deepEqual(bytes.toConnectHeader('t', 'h', Buffer.from([1])), { schema: Schemas.OPTIONAL_BYTES, value: Buffer.from([1]) });
  });

  it('refuses an unknown class by name', () => {
    assert.throws(() => createHeaderConverter('NoSuchConverter', {}), /NoSuchConverter.*available header converters are/);
  });
});

describe('converterPlugins', () => {
  it('lists each converter as a converter and as a header converter, SimpleHeaderConverter only as the latter', () => {
    const converters = converterPlugins.filter((plugin) => plugin.type === 'converter').map((plugin) => plugin.class);
    const headerConverters = converterPlugins.filter((plugin) => plugin.type === 'header_converter').map((plugin) => plugin.class);
    assert.ok(converters.includes('org.apache.kafka.connect.json.JsonConverter'));
    assert.ok(!converters.includes('org.apache.kafka.connect.storage.SimpleHeaderConverter'));
    assert.ok(headerConverters.includes('org.apache.kafka.connect.storage.SimpleHeaderConverter'));
    assert.ok(headerConverters.includes('org.apache.kafka.connect.storage.StringConverter'));
    assert.equal(converters.length, 9);
    assert.equal(headerConverters.length, 10);
    for (const plugin of converterPlugins) assert.match(plugin.version, /^\d+\.\d+\.\d+$/);
  });

  it('each has a configuration definition', () => {
    assert.deepEqual(converterPluginConfig('JsonConverter')?.keys().map((key) => key.name), ['converter.type', 'schemas.enable', 'schemas.cache.size', 'decimal.format', 'replace.null.with.default']);
    assert.deepEqual(converterPluginConfig('StringConverter')?.keys().map((key) => key.name), ['converter.type', 'converter.encoding']);
    assert.equal(converterPluginConfig('Nope'), undefined);
  });
});
