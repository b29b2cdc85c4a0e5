// Emits the TypeScript for the messages of one generated file: interfaces covering every
// version, straight-line decode/encode functions per version (identical versions share one),
// and the exported dispatchers that pick a function by version from a table.
import {
  defaultsToNull,
  inRange,
  isEverNullable,
  isNullableAt,
  isRequired,
  isTaggedAt,
  structHasRecords,
  versionList,
  type FieldModel,
  type FieldType,
  type MessageModel,
  type PrimitiveName,
  type StructModel,
} from './schema-model.js';

const NUMBER_TYPES = new Set<PrimitiveName>(['int8', 'int16', 'int32', 'uint16', 'uint32', 'float64']);

const READ_FIXED: Partial<Record<PrimitiveName, string>> = {
  int8: 'readInt8', int16: 'readInt16', int32: 'readInt32', int64: 'readInt64', uint16: 'readUInt16',
  uint32: 'readUInt32', float64: 'readFloat64', bool: 'readBoolean', uuid: 'readUuid',
};
const WRITE_FIXED: Partial<Record<PrimitiveName, string>> = {
  int8: 'writeInt8', int16: 'writeInt16', int32: 'writeInt32', int64: 'writeInt64', uint16: 'writeUInt16',
  uint32: 'writeUInt32', float64: 'writeFloat64', bool: 'writeBoolean', uuid: 'writeUuid',
};

/** Per-version code context: the version and whether it uses compact encodings and tag buffers. */
interface VersionContext {
  readonly version: number;
  readonly flexible: boolean;
}

/** Collects the functions of one file, sharing a function between versions with identical bodies. */
class FileEmitter {
  readonly functions: string[] = [];
  private readonly bodies = new Map<string, string>();
  private readonly memo = new Map<string, string>();
  readonly defaultFactories = new Set<StructModel>();
  readonly isDefaultChecks = new Set<StructModel>();
  readonly supportImports = new Set<string>();
  usesEncodableRecords = false;

  constructor(private readonly message: MessageModel) {}

  /** The name of the decoder for `struct` at this version, emitting it on first use. */
  decoder(struct: StructModel, context: VersionContext): string {
    return this.named('decode', struct, context, () => this.decoderBody(struct, context));
  }

  encoder(struct: StructModel, context: VersionContext): string {
    return this.named('encode', struct, context, () => this.encoderBody(struct, context));
  }

  private named(kind: string, struct: StructModel, context: VersionContext, body: () => string): string {
    const key = `${kind}:${struct.typeName}:${context.version}:${context.flexible}`;
    const known = this.memo.get(key);
    if (known !== undefined) return known;
    const text = body();
    const bodyKey = `${kind}:${struct.typeName}:${text}`;
    let name = this.bodies.get(bodyKey);
    if (name === undefined) {
      name = `${kind}${struct.typeName}V${context.version}`;
      this.bodies.set(bodyKey, name);
      this.functions.push(text.replace('$NAME', name));
    }
    this.memo.set(key, name);
    return name;
  }

  private decoderBody(struct: StructModel, context: VersionContext): string {
    const lines: string[] = [];
    const tagged: FieldModel[] = [];
    for (const field of struct.fields) {
      if (!inRange(field.versions, context.version)) continue;
      if (isTaggedAt(field, context.version)) {
        tagged.push(field);
        lines.push(`let ${local(field)}: ${this.fieldType(field, 'decode')} = ${this.defaultExpression(field)};`);
      } else {
        lines.push(...this.readField(field, field.type, context, local(field), struct));
      }
    }
    if (context.flexible) lines.push(...this.readTaggedFields(tagged, context, struct));
    const properties = struct.fields.map((field) =>
      inRange(field.versions, context.version) ? `${field.property}: ${local(field)},` : `${field.property}: ${this.defaultExpression(field)},`,
    );
    const returnLines = properties.length === 0 ? ['return {};'] : ['return {', ...indent(properties), '};'];
    const parameter = lines.some((line) => line.includes('reader')) ? 'reader' : '_reader';
    return [
      `function $NAME(${parameter}: Reader): ${struct.typeName} {`,
      ...indent([...lines, ...returnLines]),
      '}',
    ].join('\n');
  }

  private readTaggedFields(tagged: FieldModel[], context: VersionContext, struct: StructModel): string[] {
    if (tagged.length === 0) return ['reader.skipTaggedFields();'];
    const cases = tagged
      .slice()
      .sort((left, right) => left.tag! - right.tag!)
      .flatMap((field) => [
        `case ${field.tag}: {`,
        ...indent([...this.readField(field, field.type, context, 'tagged', struct), `${local(field)} = tagged;`, 'break;']),
        '}',
      ]);
    return [
      'for (let tagCount = reader.readUnsignedVarInt(); tagCount > 0; tagCount--) {',
      ...indent([
        'const tag = reader.readUnsignedVarInt();',
        'const fieldEnd = reader.beginTaggedField();',
        'switch (tag) {',
        ...indent(cases),
        '}',
        'reader.endTaggedField(fieldEnd);',
      ]),
      '}',
    ];
  }

  /** Statements that declare `target` and read the field's value into it. */
  private readField(field: FieldModel, type: FieldType, context: VersionContext, target: string, struct: StructModel): string[] {
    const nullable = isNullableAt(field, context.version);
    if (type.kind === 'array') return this.readArray(field, type.element, context, target, nullable, struct);
    return [`const ${target} = ${this.readValue(field, type, context, nullable)};`];
  }

  private readArray(field: FieldModel, element: FieldType, context: VersionContext, target: string, nullable: boolean, struct: StructModel): string[] {
    const count = `${target}Count`;
    const lengthCall = context.flexible ? 'reader.readCompactArrayLength()' : 'reader.readArrayLength()';
    const elementType = this.elementType(element, 'decode');
    const loop = `for (let index = 0; index < ${count}; index++) ${target}.push(${this.readValue(field, element, context, false)});`;
    if (nullable) {
      return [
        `const ${count} = ${lengthCall};`,
        `let ${target}: ${elementType}[] | null = null;`,
        `if (${count} !== null) {`,
        ...indent([`${target} = [];`, loop]),
        '}',
      ];
    }
    this.supportImports.add('nullField');
    return [
      `const ${count} = ${lengthCall};`,
      `if (${count} === null) throw nullField('${struct.typeName}.${field.property}');`,
      `const ${target}: ${elementType}[] = [];`,
      loop,
    ];
  }

  private readValue(field: FieldModel, type: FieldType, context: VersionContext, nullable: boolean): string {
    if (type.kind === 'struct') {
      const decode = `${this.decoder(type.struct, context)}(reader)`;
      return nullable ? `(reader.readInt8() < 0 ? null : ${decode})` : decode;
    }
    if (type.kind === 'array') throw new Error(`nested arrays are not supported (${field.name})`);
    const fixed = READ_FIXED[type.name];
    if (fixed !== undefined) return `reader.${fixed}()`;
    const compact = context.flexible ? 'Compact' : '';
    if (type.name === 'records') return `reader.read${compact}Records()`;
    const kind = type.name === 'string' ? 'String' : 'Bytes';
    return `reader.read${compact}${nullable ? 'Nullable' : ''}${kind}()`;
  }

  private encoderBody(struct: StructModel, context: VersionContext): string {
    const lines: string[] = [];
    const tagged: FieldModel[] = [];
    for (const field of struct.fields) {
      if (!inRange(field.versions, context.version)) continue;
      if (isTaggedAt(field, context.version)) tagged.push(field);
      else lines.push(...this.writeField(field, field.type, context, this.valueWithDefault(field), struct));
    }
    if (context.flexible) lines.push(...this.writeTaggedFields(tagged, context, struct));
    const usesValue = lines.some((line) => line.includes('value.'));
    const parameter = `${usesValue ? 'value' : '_value'}: ${this.structRef(struct, 'encode')}`;
    return [`function $NAME(writer: Writer, ${parameter}): void {`, ...indent(lines), '}'].join('\n');
  }

  private writeTaggedFields(tagged: FieldModel[], context: VersionContext, struct: StructModel): string[] {
    if (tagged.length === 0) return ['writer.writeEmptyTaggedFields();'];
    const sorted = tagged.slice().sort((left, right) => left.tag! - right.tag!);
    const lines = ['let tagCount = 0;'];
    // An undefined tagged field is its default, which Kafka never writes, so skip the fallback.
    for (const field of sorted) {
      lines.push(`const ${local(field)} = value.${field.property};`);
      lines.push(`const ${local(field)}Present = ${local(field)} !== undefined && (${this.differsFromDefault(field, local(field))});`);
      lines.push(`if (${local(field)}Present) tagCount++;`);
    }
    lines.push('writer.writeUnsignedVarInt(tagCount);');
    for (const field of sorted) {
      lines.push(`if (${local(field)}Present) {`);
      lines.push(
        ...indent([
          `const mark = writer.beginTaggedField(${field.tag});`,
          ...this.writeField(field, field.type, context, local(field), struct),
          'writer.endTaggedField(mark);',
        ]),
      );
      lines.push('}');
    }
    return lines;
  }

  private writeField(field: FieldModel, type: FieldType, context: VersionContext, value: string, struct: StructModel): string[] {
    const nullable = isNullableAt(field, context.version);
    const mayBeNull = isEverNullable(field) && !nullable;
    if (type.kind === 'array') {
      const name = `${local(field)}Array`;
      const lengthCall = context.flexible ? 'writeCompactArrayLength' : 'writeArrayLength';
      const loop = [`for (const item of ${name}) ${this.writeValue(field, type.element, context, 'item', false).join(' ')}`];
      if (nullable) {
        return [
          `const ${name} = ${value};`,
          `if (${name} === null) writer.${lengthCall}(null);`,
          'else {',
          ...indent([`writer.${lengthCall}(${name}.length);`, ...loop]),
          '}',
        ];
      }
      return [`const ${name} = ${this.nonNull(value, mayBeNull, struct, field)};`, `writer.${lengthCall}(${name}.length);`, ...loop];
    }
    if (type.kind === 'struct' && nullable) {
      const name = `${local(field)}Struct`;
      return [
        `const ${name} = ${value};`,
        `if (${name} === null) writer.writeInt8(-1);`,
        'else {',
        ...indent(['writer.writeInt8(1);', ...this.writeValue(field, type, context, name, false)]),
        '}',
      ];
    }
    const isRecords = type.kind === 'primitive' && type.name === 'records';
    return this.writeValue(field, type, context, isRecords ? value : this.nonNull(value, mayBeNull, struct, field), nullable);
  }

  private nonNull(value: string, mayBeNull: boolean, struct: StructModel, field: FieldModel): string {
    if (!mayBeNull) return value;
    this.supportImports.add('nonNull');
    return `nonNull(${value}, '${struct.typeName}.${field.property}')`;
  }

  private writeValue(field: FieldModel, type: FieldType, context: VersionContext, value: string, nullable: boolean): string[] {
    if (type.kind === 'struct') return [`${this.encoder(type.struct, context)}(writer, ${value});`];
    if (type.kind === 'array') throw new Error(`nested arrays are not supported (${field.name})`);
    const fixed = WRITE_FIXED[type.name];
    if (fixed !== undefined) return [`writer.${fixed}(${value});`];
    const compact = context.flexible ? 'Compact' : '';
    if (type.name === 'records') return [`writer.write${compact}Records(${value});`];
    const kind = type.name === 'string' ? 'String' : 'Bytes';
    return [`writer.write${compact}${nullable ? 'Nullable' : ''}${kind}(${value});`];
  }

  /** `value.x`, falling back to the schema default when the caller left the property undefined. */
  private valueWithDefault(field: FieldModel): string {
    const access = `value.${field.property}`;
    const fallback = this.defaultExpression(field);
    if (isEverNullable(field) && !defaultsToNull(field)) return `${access} === undefined ? ${fallback} : ${access}`;
    return `${access} ?? ${fallback}`;
  }

  /** Whether a tagged field must be written: Kafka omits tagged fields equal to their default. */
  differsFromDefault(field: FieldModel, value: string): string {
    const type = field.type;
    if (defaultsToNull(field)) return `${value} !== null`;
    const orNull = isEverNullable(field) ? `${value} === null || ` : '';
    if (type.kind === 'array') return `${orNull}${value}.length > 0`;
    if (type.kind === 'struct') {
      this.isDefaultChecks.add(type.struct);
      return `${orNull}!isDefault${type.struct.typeName}(${value})`;
    }
    if (type.name === 'bytes') return `${orNull}${value}.length > 0`;
    return `${value} !== ${this.defaultExpression(field)}`;
  }

  defaultExpression(field: FieldModel): string {
    const type = field.type;
    if (defaultsToNull(field)) return 'null';
    if (type.kind === 'array') return '[]';
    if (type.kind === 'struct') {
      this.defaultFactories.add(type.struct);
      return `default${type.struct.typeName}()`;
    }
    return primitiveDefault(type.name, field.defaultText);
  }

  /** The TypeScript type of a field, for interfaces ('declare'), decoders and encoders. */
  fieldType(field: FieldModel, mode: TypeMode): string {
    const base = field.type.kind === 'array' ? `${this.elementType(field.type.element, mode)}[]` : this.elementType(field.type, mode);
    const isRecords = field.type.kind === 'primitive' && field.type.name === 'records';
    return isEverNullable(field) && !isRecords ? `${base} | null` : base;
  }

  private elementType(type: FieldType, mode: TypeMode): string {
    if (type.kind === 'struct') return this.structRef(type.struct, mode);
    if (type.kind === 'array') throw new Error('nested arrays are not supported');
    if (type.name === 'records') {
      if (mode === 'declare') return 'R';
      if (mode === 'encode') this.usesEncodableRecords = true;
      return mode === 'encode' ? 'EncodableRecords' : 'Buffer | null';
    }
    return primitiveType(type.name);
  }

  structRef(struct: StructModel, mode: TypeMode): string {
    if (!structHasRecords(struct)) return struct.typeName;
    if (mode === 'declare') return `${struct.typeName}<R>`;
    if (mode === 'encode') {
      this.usesEncodableRecords = true;
      return `${struct.typeName}<EncodableRecords>`;
    }
    return struct.typeName;
  }

  interfaceFor(struct: StructModel): string {
    const generic = structHasRecords(struct) ? '<R extends EncodableRecords = Buffer | null>' : '';
    if (generic !== '') this.usesEncodableRecords = true;
    const lines = struct.fields.map((field) => {
      const optional = isRequired(field, struct) ? '' : '?';
      return `${field.property}${optional}: ${this.fieldType(field, 'declare')};`;
    });
    if (lines.length === 0) return `export interface ${struct.typeName}${generic} {}`;
    return [`export interface ${struct.typeName}${generic} {`, ...indent(lines), '}'].join('\n');
  }

  defaultFactory(struct: StructModel): string {
    const properties = struct.fields.map((field) => `${field.property}: ${this.defaultExpression(field)},`);
    return [
      `function default${struct.typeName}(): ${struct.typeName} {`,
      ...indent(properties.length === 0 ? ['return {};'] : ['return {', ...indent(properties), '};']),
      '}',
    ].join('\n');
  }

  isDefaultCheck(struct: StructModel): string {
    const lines = struct.fields.flatMap((field) => {
      const name = local(field);
      return [`const ${name} = value.${field.property};`, `if (${name} !== undefined && (${this.differsFromDefault(field, name)})) return false;`];
    });
    const parameter = `${lines.length > 0 ? 'value' : '_value'}: ${this.structRef(struct, 'encode')}`;
    return [`function isDefault${struct.typeName}(${parameter}): boolean {`, ...indent([...lines, 'return true;']), '}'].join('\n');
  }

  get fileMessage(): MessageModel {
    return this.message;
  }
}

type TypeMode = 'declare' | 'decode' | 'encode';

function local(field: FieldModel): string {
  return `$${field.property}`;
}

function indent(lines: string[]): string[] {
  return lines.map((line) => (line === '' ? line : `  ${line}`));
}

function primitiveType(name: PrimitiveName): string {
  if (NUMBER_TYPES.has(name)) return 'number';
  if (name === 'int64') return 'bigint';
  if (name === 'bool') return 'boolean';
  if (name === 'string' || name === 'uuid') return 'string';
  return 'Buffer';
}

function primitiveDefault(name: PrimitiveName, text: string | number | boolean | undefined): string {
  if (NUMBER_TYPES.has(name)) return text === undefined ? '0' : String(Number(text));
  if (name === 'int64') return text === undefined ? '0n' : `${BigInt(text as string | number)}n`;
  if (name === 'bool') return String(text === true || text === 'true');
  if (name === 'string') return JSON.stringify(text === undefined ? '' : String(text));
  if (name === 'uuid') return 'ZERO_UUID';
  if (name === 'bytes') return 'EMPTY_BYTES';
  return 'null';
}

/** One file's messages: a request/response pair, or a single data record. */
export function emitCodecFile(messages: MessageModel[], header: string, importPrefix: string): string {
  resolveStructNames(messages);
  const parts: string[] = [];
  const interfaces: string[] = [];
  const dispatchers: string[] = [];
  const emitters = messages.map((message) => new FileEmitter(message));
  const shared = emitters[0]!;
  for (const emitter of emitters) {
    const message = emitter.fileMessage;
    for (const struct of [message.root, ...message.structs]) interfaces.push(shared.interfaceFor(struct));
    dispatchers.push(emitDispatchers(shared, message));
  }
  const helpers: string[] = [];
  const emittedDefaults = new Set<StructModel>();
  const emittedChecks = new Set<StructModel>();
  // Factories and checks may need further factories and checks, so loop until nothing new appears.
  for (let changed = true; changed; ) {
    changed = false;
    for (const struct of [...shared.defaultFactories]) {
      if (emittedDefaults.has(struct)) continue;
      emittedDefaults.add(struct);
      helpers.push(shared.defaultFactory(struct));
      changed = true;
    }
    for (const struct of [...shared.isDefaultChecks]) {
      if (emittedChecks.has(struct)) continue;
      emittedChecks.add(struct);
      helpers.push(shared.isDefaultCheck(struct));
      changed = true;
    }
  }
  const body = [...interfaces, ...dispatchers, ...shared.functions, ...helpers].join('\n\n');
  parts.push(header);
  parts.push(...imports(body, shared, importPrefix));
  parts.push('', body, '');
  return parts.join('\n');
}

function imports(body: string, emitter: FileEmitter, prefix: string): string[] {
  const lines = [
    `import { ProtocolError } from '${prefix}/primitives/protocol-error.js';`,
    `import type { Reader } from '${prefix}/primitives/reader.js';`,
  ];
  const writerTypes = ['Writer'];
  if (emitter.usesEncodableRecords || body.includes('EncodableRecords')) writerTypes.push('EncodableRecords');
  lines.push(`import type { ${writerTypes.join(', ')} } from '${prefix}/primitives/writer.js';`);
  const support = [...emitter.supportImports];
  for (const constant of ['ZERO_UUID', 'EMPTY_BYTES']) if (body.includes(constant)) support.push(constant);
  const supportPath = prefix === '..' ? './codec-support.js' : '../codec-support.js';
  if (support.length > 0) lines.push(`import { ${support.sort().join(', ')} } from '${supportPath}';`);
  return lines;
}

function emitDispatchers(emitter: FileEmitter, message: MessageModel): string {
  const versions = versionList(message.validVersions);
  const context = (version: number): VersionContext => ({ version, flexible: inRange(message.flexibleVersions, version) });
  const decoders = versions.map((version) => emitter.decoder(message.root, context(version)));
  const encoders = versions.map((version) => emitter.encoder(message.root, context(version)));
  const holes = Array.from({ length: message.validVersions.low }, () => 'undefined');
  const name = message.name;
  const constant = name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  const encodeType = emitter.structRef(message.root, 'encode');
  return [
    `const ${constant}_DECODERS: readonly (((reader: Reader) => ${name}) | undefined)[] = [${[...holes, ...decoders].join(', ')}];`,
    '',
    `const ${constant}_ENCODERS: readonly (((writer: Writer, value: ${encodeType}) => void) | undefined)[] = [${[...holes, ...encoders].join(', ')}];`,
    '',
    `export function decode${name}(reader: Reader, version: number): ${name} {`,
    `  const decode = ${constant}_DECODERS[version];`,
    `  if (decode === undefined) throw new ProtocolError(\`${name} version \${version} is not supported\`);`,
    '  return decode(reader);',
    '}',
    '',
    `export function encode${name}(writer: Writer, version: number, message: ${encodeType}): void {`,
    `  const encode = ${constant}_ENCODERS[version];`,
    `  if (encode === undefined) throw new ProtocolError(\`${name} version \${version} is not supported\`);`,
    '  encode(writer, message);',
    '}',
  ].join('\n');
}

/** Prefixes struct names with their message name where a request and response of one file share a name. */
function resolveStructNames(messages: MessageModel[]): void {
  const owners = new Map<string, number>();
  for (const message of messages) for (const struct of message.structs) owners.set(struct.name, (owners.get(struct.name) ?? 0) + 1);
  const rootNames = new Set(messages.map((message) => message.name));
  for (const message of messages) {
    for (const struct of message.structs) {
      if ((owners.get(struct.name) ?? 0) > 1) struct.typeName = `${message.name}${struct.name}`;
      if (rootNames.has(struct.typeName)) throw new Error(`struct ${struct.typeName} collides with a message name`);
    }
  }
}
