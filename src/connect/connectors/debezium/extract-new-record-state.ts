// Debezium's ExtractNewRecordState transform (io.debezium.transforms.ExtractNewRecordState): turns
// a change event envelope into the row it leaves behind (`after`), for sinks and consumers that
// want rows, not change events. Deletes and tombstones follow delete.tombstone.handling.mode
// (Debezium 2.5+; the older delete.handling.mode and drop.tombstones are honoured when given):
//   tombstone (default)       a delete becomes a tombstone (key, null value); the source's tombstone is dropped
//   drop                      deletes and tombstones are dropped
//   rewrite                   a delete becomes its `before` row with __deleted=true; tombstones dropped
//   rewrite-with-tombstone    rewrite, and tombstones kept
// add.fields / add.headers copy envelope fields (op, ts_ms) or source fields (table, lsn,
// source.ts_ms) into the row as __<name> or into headers. Records that are not change events
// (heartbeats, records of other connectors) pass unchanged. Only connect/api is imported, so
// the worker's transform registry can list it as a built-in.
import { ConnectConfigDef, type ConnectValidator, Validators } from '../../api/config.js';
import type { Transformation } from '../../api/connector.js';
import { type ConnectHeader, type ConnectRecord, DataException, type Schema, SchemaBuilder, Schemas, Struct } from '../../api/data.js';

type DeleteMode = 'drop' | 'tombstone' | 'rewrite' | 'rewrite-with-tombstone';

const legacyDeleteMode: ConnectValidator = (name, value) =>
  value === null ? undefined : Validators.oneOf('drop', 'rewrite', 'none')(name, value);

const CONFIG_DEF = new ConnectConfigDef()
  .define({ name: 'delete.tombstone.handling.mode', type: 'string', defaultValue: null, importance: 'MEDIUM', validator: (name, value) => (value === null ? undefined : Validators.oneOf('drop', 'tombstone', 'rewrite', 'rewrite-with-tombstone')(name, value)), documentation: 'How delete events and tombstones are handled: drop, tombstone (the default), rewrite or rewrite-with-tombstone.' })
  .define({ name: 'delete.handling.mode', type: 'string', defaultValue: null, importance: 'LOW', validator: legacyDeleteMode, documentation: 'Deprecated: drop, rewrite or none (a delete becomes a record with a null value).' })
  .define({ name: 'drop.tombstones', type: 'boolean', defaultValue: null, importance: 'LOW', documentation: 'Deprecated: whether tombstones are dropped (true when only delete.handling.mode is given).' })
  .define({ name: 'add.fields', type: 'list', defaultValue: null, importance: 'LOW', documentation: 'Envelope or source fields to add to the row, as __<field> (source.ts_ms becomes __source_ts_ms).' })
  .define({ name: 'add.fields.prefix', type: 'string', defaultValue: '__', importance: 'LOW', documentation: 'The prefix of added field names.' })
  .define({ name: 'add.headers', type: 'list', defaultValue: null, importance: 'LOW', documentation: 'Envelope or source fields to add as headers, as __<field>.' })
  .define({ name: 'add.headers.prefix', type: 'string', defaultValue: '__', importance: 'LOW', documentation: 'The prefix of added header names.' });

/** Top-level envelope fields; any other name in add.fields is a field of `source`. */
const ENVELOPE_FIELDS = new Set(['op', 'ts_ms', 'ts_us', 'ts_ns', 'before', 'after', 'source', 'transaction']);

interface FieldReference {
  /** The outer struct ('' for the envelope itself) and the field in it. */
  readonly struct: string;
  readonly field: string;
  readonly name: string;
}

function reference(spec: string, prefix: string): FieldReference {
  const [first, second] = spec.split('.', 2) as [string, string | undefined];
  if (second !== undefined) return { struct: first, field: second, name: `${prefix}${first}_${second}` };
  return ENVELOPE_FIELDS.has(first) ? { struct: '', field: first, name: `${prefix}${first}` } : { struct: 'source', field: first, name: `${prefix}${first}` };
}

export class ExtractNewRecordState<R extends ConnectRecord = ConnectRecord> implements Transformation<R> {
  static readonly CONFIG_DEF = CONFIG_DEF;
  private deleteMode: DeleteMode = 'tombstone';
  /** Legacy delete.handling.mode=none: a delete becomes a record with a null value. */
  private deleteToNull = false;
  private dropTombstones = true;
  private fields: FieldReference[] = [];
  private headers: FieldReference[] = [];
  private readonly schemas = new WeakMap<Schema, Schema>();

  configure(props: Readonly<Record<string, string>>): void {
    const config = CONFIG_DEF.parse(props);
    const mode = config.optionalString('delete.tombstone.handling.mode');
    const legacy = config.optionalString('delete.handling.mode');
    const legacyDrop = config.originals['drop.tombstones'] === undefined ? null : config.boolean('drop.tombstones');
    if (mode !== null || (legacy === null && legacyDrop === null)) {
      this.deleteMode = (mode ?? 'tombstone').toLowerCase() as DeleteMode;
      this.dropTombstones = this.deleteMode !== 'rewrite-with-tombstone';
    } else {
      const legacyMode = (legacy ?? 'drop').toLowerCase();
      this.deleteMode = legacyMode === 'rewrite' ? 'rewrite' : 'drop';
      this.deleteToNull = legacyMode === 'none';
      this.dropTombstones = legacyDrop ?? true;
    }
    const fieldPrefix = config.string('add.fields.prefix');
    const headerPrefix = config.string('add.headers.prefix');
    this.fields = config.list('add.fields').map((spec) => reference(spec, fieldPrefix));
    this.headers = config.list('add.headers').map((spec) => reference(spec, headerPrefix));
  }

  apply(record: R): R | null {
    if (record.value === null || record.value === undefined) {
      // The source's tombstone: kept only where asked (a tombstone made from the delete replaces it).
      return this.dropTombstones || (this.deleteMode === 'tombstone' && !this.deleteToNull) ? null : record;
    }
    const schema = record.valueSchema;
    if (!(record.value instanceof Struct) || schema === null || !schema.name?.endsWith('.Envelope')) return record;
    const envelope = record.value;
    const op = envelope.get('op') as string;
    const headers = this.headers.length === 0 ? record.headers : [...record.headers, ...this.headers.map((ref) => this.header(envelope, ref))];
    if (op === 'd') {
      if (this.deleteToNull || this.deleteMode === 'tombstone') return { ...record, valueSchema: null, value: null, headers };
      if (this.deleteMode === 'drop') return null;
      const before = envelope.get('before') as Struct | null;
      if (before === null) return null;
      return { ...record, ...this.row(envelope, before, true), headers };
    }
    const after = envelope.get('after') as Struct | null;
    if (after === null) return { ...record, valueSchema: null, value: null, headers };
    return { ...record, ...this.row(envelope, after, false), headers };
  }

  /** The row with the added fields (and __deleted in the rewrite modes). */
  private row(envelope: Struct, row: Struct, deleted: boolean): { valueSchema: Schema; value: Struct } {
    const rewrite = this.deleteMode === 'rewrite' || this.deleteMode === 'rewrite-with-tombstone';
    if (this.fields.length === 0 && !rewrite) return { valueSchema: row.schema, value: row };
    const schema = this.rowSchema(envelope.schema, row.schema, rewrite);
    const value = new Struct(schema);
    for (const field of row.schema.fields!) value.put(field.name, row.get(field.name));
    for (const ref of this.fields) value.put(ref.name, this.read(envelope, ref));
    if (rewrite) value.put('__deleted', String(deleted));
    return { valueSchema: schema, value };
  }

  private rowSchema(envelopeSchema: Schema, rowSchema: Schema, rewrite: boolean): Schema {
    const cached = this.schemas.get(rowSchema);
    if (cached) return cached;
    const builder = SchemaBuilder.struct().optional();
    if (rowSchema.name) builder.name(rowSchema.name);
    if (rowSchema.version !== undefined) builder.version(rowSchema.version);
    for (const field of rowSchema.fields!) builder.field(field.name, field.schema);
    for (const ref of this.fields) builder.field(ref.name, optionalCopy(this.fieldSchema(envelopeSchema, ref)));
    if (rewrite) builder.field('__deleted', Schemas.OPTIONAL_STRING);
    const schema = builder.build();
    this.schemas.set(rowSchema, schema);
    return schema;
  }

  private fieldSchema(envelopeSchema: Schema, ref: FieldReference): Schema {
    const outer = ref.struct === '' ? envelopeSchema : envelopeSchema.fields!.find((field) => field.name === ref.struct)?.schema;
    const field = outer?.fields?.find((candidate) => candidate.name === ref.field);
    if (!field) throw new DataException(`ExtractNewRecordState: the change event has no field ${ref.struct === '' ? '' : `${ref.struct}.`}${ref.field}`);
    return field.schema;
  }

  private read(envelope: Struct, ref: FieldReference): unknown {
    if (ref.struct === '') return envelope.get(ref.field);
    const outer = envelope.get(ref.struct);
    return outer instanceof Struct ? outer.get(ref.field) : null;
  }

  private header(envelope: Struct, ref: FieldReference): ConnectHeader {
    return { key: ref.name, schema: optionalCopy(this.fieldSchema(envelope.schema, ref)), value: this.read(envelope, ref) };
  }

  config(): ConnectConfigDef {
    return CONFIG_DEF;
  }

  close(): void {}
}

function optionalCopy(schema: Schema): Schema {
  return schema.optional ? schema : SchemaBuilder.from(schema).optional().build();
}
