// The S3 sink's partitioners and settings: directories of the default, field and time-based
// partitioners (time zones, rounding, extractors), and configuration errors that name the key.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogicalNames, SchemaBuilder, Schemas, type SinkRecord, Struct } from '../../api/data.js';
import { s3SinkSettings } from './config.js';
import { compilePathFormat, createPartitioner, floorInZone, nextBoundary } from './partitioner.js';

const base = { 's3.bucket.name': 'b', 'flush.size': '10', 'format.class': 'json' };

function record(value: unknown, timestamp: number | null = 0, partition = 2): SinkRecord {
  return {
    topic: 't', kafkaPartition: partition, kafkaOffset: 7, keySchema: null, key: null, valueSchema: null, value, timestamp, headers: [],
    timestampType: 'CreateTime', originalTopic: 't', originalKafkaPartition: partition, originalKafkaOffset: 7,
  };
}

const partitionerOf = (props: Record<string, string>, now = () => 0) => {
  const settings = s3SinkSettings({ ...base, ...props });
  return createPartitioner(settings.partitioner, settings.directoryDelim, now);
};

describe('S3 sink partitioners', () => {
  it('DefaultPartitioner: partition=<kafka partition>', () => {
    assert.equal(partitionerOf({}).encodePartition(record({ a: 1 })), 'partition=2');
  });

  it('FieldPartitioner: <field>=<value> of structs, maps and nested fields, in order', () => {
    const inner = SchemaBuilder.struct().field('zone', Schemas.STRING).build();
    const schema = SchemaBuilder.struct().field('region', Schemas.STRING).field('n', Schemas.INT64).field('loc', inner).build();
    const struct = new Struct(schema).put('region', 'eu').put('n', 5n).put('loc', new Struct(inner).put('zone', 'z1'));
    const partitioner = partitionerOf({ 'partitioner.class': 'io.confluent.connect.storage.partitioner.FieldPartitioner', 'partition.field.name': 'region,n,loc.zone' });
    assert.equal(partitioner.encodePartition(record(struct)), 'region=eu/n=5/loc.zone=z1');
    assert.equal(partitioner.encodePartition(record({ region: 'us', n: 1, loc: { zone: 'z2' } })), 'region=us/n=1/loc.zone=z2');
    assert.throws(() => partitioner.encodePartition(record({ region: 'us', n: 1 })), /partition field 'loc.zone' of record t-2 offset 7/);
    assert.throws(() => partitioner.encodePartition(record('text')), /has no field 'region': its value is not a struct or map/);
  });

  it('TimeBasedPartitioner: the record time rounded down in the zone, formatted by path.format', () => {
    const hourly = { 'partitioner.class': 'TimeBasedPartitioner', 'path.format': "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", 'partition.duration.ms': '3600000', locale: 'en-US', timezone: 'UTC', 'timestamp.extractor': 'Record' };
    const at = Date.UTC(2024, 1, 29, 23, 59, 59, 999);
    assert.equal(partitionerOf(hourly).encodePartition(record(null, at)), 'year=2024/month=02/day=29/hour=23');
    // 23:59 UTC is 05:29 the next day in Kolkata (+05:30): hours there start at :00 local time.
    assert.equal(partitionerOf({ ...hourly, timezone: 'Asia/Kolkata' }).encodePartition(record(null, at)), 'year=2024/month=03/day=01/hour=05');
    const daily = partitionerOf({ 'partitioner.class': 'DailyPartitioner', timezone: 'America/New_York', 'timestamp.extractor': 'Record' });
    assert.equal(daily.encodePartition(record(null, at)), 'year=2024/month=02/day=29');
    // Wallclock and RecordField (a Timestamp, epoch millis, an ISO string).
    assert.equal(partitionerOf({ ...hourly, 'timestamp.extractor': 'Wallclock' }, () => Date.UTC(2020, 0, 1, 5)).encodePartition(record(null)), 'year=2020/month=01/day=01/hour=05');
    const field = partitionerOf({ ...hourly, 'timestamp.extractor': 'RecordField', 'timestamp.field': 'meta.at' });
    const schema = SchemaBuilder.struct().field('meta', SchemaBuilder.struct().field('at', SchemaBuilder.int64().name(LogicalNames.TIMESTAMP).build()).build()).build();
    const meta = new Struct(schema.fields![0]!.schema).put('at', new Date(Date.UTC(2021, 5, 6, 7)));
    assert.equal(field.encodePartition(record(new Struct(schema).put('meta', meta))), 'year=2021/month=06/day=06/hour=07');
    assert.equal(field.encodePartition(record({ meta: { at: Date.UTC(2022, 2, 3, 4) } })), 'year=2022/month=03/day=03/hour=04');
    assert.equal(field.encodePartition(record({ meta: { at: '2023-04-05T06:07:08Z' } })), 'year=2023/month=04/day=05/hour=06');
    assert.throws(() => field.encodePartition(record({ meta: { at: true } })), /timestamp.field 'meta.at' of record t-2 offset 7 is not a time/);
    assert.throws(() => partitionerOf(hourly).encodePartition(record(null, null)), /has no timestamp/);
  });

  it('path.format letters, month names and quotes; rounding and schedule boundaries across zones', () => {
    const format = compilePathFormat("yy-M-d'T'H:mm:ss.SSS MMM MMMM '''x'''", 'de-DE', 'UTC');
    assert.equal(format(Date.UTC(2024, 2, 5, 7, 8, 9, 45)), "24-3-5T7:08:09.045 Mär März 'x'");
    assert.throws(() => compilePathFormat("'year'=YYYY/QQ", 'en-US', 'UTC'), /path.format: the pattern letter 'Q' is not supported/);
    assert.throws(() => compilePathFormat("'year=YYYY", 'en-US', 'UTC'), /path.format: unterminated quote/);
    const day = 86_400_000;
    assert.equal(floorInZone(Date.UTC(2024, 1, 29, 3), day, 'America/New_York'), Date.UTC(2024, 1, 28, 5), 'midnight in New York is 05:00 UTC in winter');
    assert.equal(floorInZone(Date.UTC(2024, 6, 1, 3), day, 'America/New_York'), Date.UTC(2024, 5, 30, 4), 'and 04:00 UTC in summer');
    assert.equal(nextBoundary(Date.UTC(2024, 1, 29, 12, 34), 3_600_000, 'UTC'), Date.UTC(2024, 1, 29, 13));
    assert.equal(nextBoundary(Date.UTC(2024, 1, 29, 12, 34), 3_600_000, 'Asia/Kolkata'), Date.UTC(2024, 1, 29, 12, 30) + 3_600_000);
  });

  it('bad settings fail with a message naming the key', () => {
    const bad = (props: Record<string, string | undefined>, pattern: RegExp) => {
      const props2 = Object.fromEntries(Object.entries({ ...base, ...props }).filter(([, value]) => value !== undefined)) as Record<string, string>;
      assert.throws(() => createPartitioner(s3SinkSettings(props2).partitioner, '/'), pattern);
    };
    bad({ 's3.bucket.name': undefined }, /Missing required configuration "s3.bucket.name"/);
    bad({ 'flush.size': '0' }, /Invalid value 0 for configuration flush.size: Value must be at least 1/);
    bad({ 'flush.size': undefined }, /Missing required configuration "flush.size"/);
    bad({ 'format.class': 'io.confluent.connect.s3.format.avro.AvroFormat' }, /Invalid value io.confluent.connect.s3.format.avro.AvroFormat for configuration format.class: must be one of json, io.confluent.connect.s3.format.json.JsonFormat, parquet/);
    bad({ 'partitioner.class': 'Nope' }, /configuration partitioner.class/);
    bad({ 'partitioner.class': 'FieldPartitioner' }, /FieldPartitioner needs partition.field.name/);
    bad({ 'partitioner.class': 'TimeBasedPartitioner', 'partition.duration.ms': '1000', timezone: 'UTC' }, /TimeBasedPartitioner needs path.format/);
    bad({ 'partitioner.class': 'TimeBasedPartitioner', 'path.format': 'YYYY', timezone: 'UTC' }, /needs partition.duration.ms/);
    bad({ 'partitioner.class': 'TimeBasedPartitioner', 'path.format': 'YYYY', 'partition.duration.ms': '1000' }, /needs timezone/);
    bad({ timezone: 'Mars/Olympus' }, /Invalid value Mars\/Olympus for configuration timezone/);
    bad({ 'partitioner.class': 'HourlyPartitioner', timezone: 'UTC', 'path.format': 'x', 'timestamp.extractor': 'Kafka' }, /Invalid value Kafka for configuration timestamp.extractor/);
    bad({ 's3.part.size': '1000' }, /Invalid value 1000 for configuration s3.part.size: Value must be no less than 5242880/);
    bad({ 'aws.access.key.id': 'id' }, /aws.secret.access.key must be set together with aws.access.key.id/);
    bad({ 'store.url': 'ftp://x' }, /configuration store.url: the URL must be http/);
    bad({ 'parquet.codec': 'lzo' }, /Invalid value lzo for configuration parquet.codec/);
    bad({ 'rotate.interval.ms': '0' }, /configuration rotate.interval.ms: must be -1 \(off\) or a positive number/);
  });
});
