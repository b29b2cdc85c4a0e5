import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConnectConfigException } from '../../api/config.js';
import type { SinkRecord, SourceRecord } from '../../api/data.js';
import { buildTransformChain, predicateConfigDef, predicatePlugins, transformConfigDef, transformPlugins, connectorTransformsConfigDef } from './index.js';

const T = 'org.apache.kafka.connect.transforms';
const source = (over: Partial<SourceRecord> = {}): SourceRecord => ({
  topic: 'orders', kafkaPartition: null, keySchema: null, key: null, valueSchema: null, value: { id: 1 }, timestamp: 1_700_000_000_000, headers: [],
  sourcePartition: { file: 'f' }, sourceOffset: { line: 9 }, ...over,
});
const sink = (over: Partial<SinkRecord> = {}): SinkRecord => ({
  topic: 'orders', kafkaPartition: 2, keySchema: null, key: null, valueSchema: null, value: { id: 1 }, timestamp: null, headers: [],
  kafkaOffset: 7, timestampType: 'CreateTime', originalTopic: 'orders', originalKafkaPartition: 2, originalKafkaOffset: 7, ...over,
});

/** Expects buildTransformChain to refuse `props` with a ConnectConfigException naming `key`. */
function refuses(props: Record<string, string>, key: string, message: RegExp): void {
  assert.throws(
    () => buildTransformChain(props),
    (error: Error) => {
      assert.ok(error instanceof ConnectConfigException, `a ConnectConfigException, not ${error}`);
      assert.equal(error.key, key);
      assert.match(error.message, message);
      assert.ok(error.message.includes(key), `the message names ${key}: ${error.message}`);
      return true;
    },
  );
}

describe('buildTransformChain', () => {
  it('applies the transforms in order, keeping the record kind’s fields', () => {
    const chain = buildTransformChain({
      name: 'c', 'connector.class': 'X',
      transforms: 'addTopic, route',
      'transforms.addTopic.type': `${T}.InsertField$Value`,
      'transforms.addTopic.topic.field': 'from',
      'transforms.route.type': 'RegexRouter',
      'transforms.route.regex': '(.*)',
      'transforms.route.replacement': 'copy-$1',
    });
    const out = chain.apply(source())!;
    assert.equal(out.topic, 'copy-orders');
    assert.deepEqual(out.value, { id: 1, from: 'orders' });
    assert.deepEqual([out.sourcePartition, out.sourceOffset], [{ file: 'f' }, { line: 9 }]);
    chain.close();
  });

  it('is a no-op without transforms', () => {
    const record = sink();
    assert.equal(buildTransformChain({}).apply(record), record);
  });

  it('applies a transform only where its predicate holds, or with negate where it does not', () => {
    const props = {
      transforms: 'dropTombstones,tag',
      'transforms.dropTombstones.type': `${T}.Filter`,
      'transforms.dropTombstones.predicate': 'isTombstone',
      'transforms.tag.type': `${T}.InsertHeader`,
      'transforms.tag.header': 'routed',
      'transforms.tag.value.literal': 'yes',
      'transforms.tag.predicate': 'isOrders',
      'transforms.tag.negate': 'true',
      predicates: 'isTombstone,isOrders',
      'predicates.isTombstone.type': `${T}.predicates.RecordIsTombstone`,
      'predicates.isOrders.type': 'TopicNameMatches',
      'predicates.isOrders.pattern': 'orders.*',
    };
    const chain = buildTransformChain(props);
    assert.equal(chain.apply(sink({ value: null })), null, 'a tombstone is filtered');
    assert.deepEqual(chain.apply(sink())!.headers, [], 'orders records are not tagged (negated predicate)');
    const other = chain.apply(sink({ topic: 'payments' }))!;
    assert.deepEqual(other.headers, [{ key: 'routed', schema: other.headers[0]!.schema, value: 'yes' }]);
    assert.equal(other.kafkaOffset, 7);
  });

  it('stops at a stage that drops the record', () => {
    const chain = buildTransformChain({ transforms: 'f,r', 'transforms.f.type': 'Filter', 'transforms.r.type': 'RegexRouter', 'transforms.r.regex': '.*', 'transforms.r.replacement': 'x' });
    assert.equal(chain.apply(sink()), null);
  });

  it('refuses bad configurations, naming the key', () => {
    refuses({ transforms: 'a' }, 'transforms.a.type', /Missing required configuration "transforms.a.type"/);
    refuses({ transforms: 'a', 'transforms.a.type': 'com.example.Nope' }, 'transforms.a.type', /Invalid value com.example.Nope for configuration transforms.a.type: Class com.example.Nope could not be found./);
    refuses({ transforms: 'a', 'transforms.a.type': `${T}.predicates.HasHeaderKey` }, 'transforms.a.type', /Not a Transformation/);
    refuses({ transforms: 'a,a', 'transforms.a.type': 'Filter' }, 'transforms', /Invalid value \[a, a\] for configuration transforms: Duplicate alias provided./);
    refuses({ transforms: 'a', 'transforms.a.type': `${T}.MaskField$Value` }, 'transforms.a.fields', /Missing required configuration "transforms.a.fields"/);
    refuses({ transforms: 'a', 'transforms.a.type': `${T}.Cast$Key`, 'transforms.a.spec': 'x:nope' }, 'transforms.a.spec', /Invalid type found in casting spec: nope/);
    refuses({ transforms: 'a', 'transforms.a.type': 'Filter', 'transforms.a.negate': 'true' }, 'transforms.a.type', /Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate'/);
    refuses({ transforms: 'a', 'transforms.a.type': 'Filter', 'transforms.a.predicate': 'p', 'transforms.a.negate': 'maybe', predicates: 'p', 'predicates.p.type': 'RecordIsTombstone' }, 'transforms.a.negate', /Invalid value maybe for configuration transforms.a.negate/);
    refuses({ transforms: 'a', 'transforms.a.type': 'Filter', 'transforms.a.predicate': 'p' }, 'transforms.a.predicate', /Predicate alias 'p' is not listed in 'predicates'/);
    refuses({ predicates: 'p', 'predicates.p.type': 'TopicNameMatches' }, 'predicates.p.pattern', /Missing required configuration "predicates.p.pattern"/);
    refuses({ predicates: 'p', 'predicates.p.type': 'Filter' }, 'predicates.p.type', /Not a Predicate/);
  });

  it('names the alias for problems that are not one key’s, and renames a transform’s own key errors', () => {
    refuses({ transforms: 'ins', 'transforms.ins.type': `${T}.InsertField$Value` }, 'transforms.ins', /Invalid configuration for transforms.ins \(org.apache.kafka.connect.transforms.InsertField\$Value\): No field insertion configured/);
    refuses({ transforms: 'ins', 'transforms.ins.type': `${T}.InsertField$Value`, 'transforms.ins.static.field': 's' }, 'transforms.ins.static.value', /configuration transforms.ins.static.value: No value specified for static field: s/);
  });
});

describe('plugin listing and config definitions', () => {
  it('lists every transform and predicate by Kafka class name', () => {
    const classes = transformPlugins.map((plugin) => plugin.class);
    for (const name of ['Cast', 'ExtractField', 'Flatten', 'HeaderFrom', 'HoistField', 'InsertField', 'MaskField', 'ReplaceField', 'SetSchemaMetadata', 'TimestampConverter']) {
      assert.ok(classes.includes(`${T}.${name}$Key`) && classes.includes(`${T}.${name}$Value`), name);
    }
    for (const name of ['DropHeaders', 'Filter', 'InsertHeader', 'RegexRouter', 'TimestampRouter', 'ValueToKey']) assert.ok(classes.includes(`${T}.${name}`), name);
    assert.ok(classes.includes('io.debezium.transforms.ExtractNewRecordState'), 'Debezium\'s, for the CDC connectors');
    assert.equal(transformPlugins.length, 27);
    assert.ok(transformPlugins.every((plugin) => plugin.type === 'transformation' && plugin.version !== ''));
    assert.deepEqual(predicatePlugins.map((plugin) => [plugin.class, plugin.type]), [
      [`${T}.predicates.HasHeaderKey`, 'predicate'],
      [`${T}.predicates.RecordIsTombstone`, 'predicate'],
      [`${T}.predicates.TopicNameMatches`, 'predicate'],
    ]);
  });

  it('looks up a class’s config definition, and the prefixed keys of a whole configuration', () => {
    assert.deepEqual(transformConfigDef(`${T}.RegexRouter`)!.keys().map((key) => key.name), ['regex', 'replacement']);
    assert.equal(transformConfigDef(`${T}.TimestampConverter$Value`)!.key('target.type')!.importance, 'HIGH');
    assert.equal(transformConfigDef('nope'), undefined);
    assert.deepEqual(predicateConfigDef('TopicNameMatches')!.keys().map((key) => key.name), ['pattern']);
    const def = connectorTransformsConfigDef({ transforms: 'r', 'transforms.r.type': 'RegexRouter', 'transforms.r.regex': '(' });
    assert.deepEqual(def.keys().map((key) => key.name), ['transforms', 'predicates', 'transforms.r.type', 'transforms.r.predicate', 'transforms.r.negate', 'transforms.r.regex', 'transforms.r.replacement']);
    assert.equal(def.key('transforms.r.regex')!.group, 'Transforms: r');
    const report = def.validate({ transforms: 'r', 'transforms.r.type': 'RegexRouter', 'transforms.r.regex': '(' });
    const errors = Object.fromEntries(report.filter((entry) => entry.errors.length > 0).map((entry) => [entry.name, entry.errors[0]]));
    assert.deepEqual(Object.keys(errors), ['transforms.r.regex', 'transforms.r.replacement']);
    assert.match(errors['transforms.r.regex']!, /^Invalid value \( for configuration transforms.r.regex: Invalid regex/);
  });
});
