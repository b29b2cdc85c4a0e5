// Emits the two index modules: messages/index.ts (ApiKey, typed API descriptors, the table by
// api key) and messages/records/index.ts (the data records and metadata record types).
import { inRange, type MessageModel } from './schema-model.js';

export interface ApiPair {
  readonly name: string;
  readonly file: string;
  readonly request: MessageModel;
  readonly response: MessageModel;
  readonly requestHasRecords: boolean;
  readonly responseHasRecords: boolean;
}

export interface RecordFile {
  readonly file: string;
  readonly message: MessageModel;
}

export function firstFlexibleVersion(message: MessageModel): string {
  const { low, high } = message.flexibleVersions;
  return low <= high && low <= message.validVersions.high ? String(Math.max(low, message.validVersions.low)) : 'Infinity';
}

export function emitMessagesIndex(pairs: ApiPair[], header: string): string {
  const sorted = pairs.slice().sort((left, right) => left.request.apiKey! - right.request.apiKey!);
  const lines: string[] = [header];
  lines.push("import type { Reader } from '../primitives/reader.js';");
  lines.push("import type { EncodableRecords, Writer } from '../primitives/writer.js';");
  for (const pair of sorted) {
    const names = [pair.request.name, pair.response.name].flatMap((name) => [`decode${name}`, `encode${name}`, `type ${name}`]);
    lines.push(`import { ${names.join(', ')} } from './${pair.file}.js';`);
  }
  lines.push('');
  lines.push("export type { EncodableRecords } from '../primitives/writer.js';");
  lines.push("export { ZERO_UUID } from './codec-support.js';");
  for (const pair of sorted) {
    const names = [pair.request.name, pair.response.name].flatMap((name) => [`decode${name}`, `encode${name}`, `type ${name}`]);
    lines.push(`export { ${names.join(', ')} } from './${pair.file}.js';`);
  }
  lines.push('', 'export const ApiKey = {');
  for (const pair of sorted) lines.push(`  ${pair.name}: ${pair.request.apiKey},`);
  lines.push('} as const;', '', 'export type ApiKeyValue = (typeof ApiKey)[keyof typeof ApiKey];', '');
  lines.push(...versionRanges(sorted));
  lines.push(
    '/** One API: its version range and codecs. `RequestIn`/`ResponseIn` are what the encoders accept (records as chunks). */',
    'export interface ApiDescriptor<Request, Response, RequestIn = Request, ResponseIn = Response> {',
    '  readonly apiKey: number;',
    '  readonly name: string;',
    '  readonly minVersion: number;',
    '  readonly maxVersion: number;',
    '  /** The first version with compact encodings and tagged fields; Infinity when there is none. */',
    '  readonly firstFlexibleVersion: number;',
    '  decodeRequest(reader: Reader, version: number): Request;',
    '  encodeRequest(writer: Writer, version: number, message: RequestIn): void;',
    '  decodeResponse(reader: Reader, version: number): Response;',
    '  encodeResponse(writer: Writer, version: number, message: ResponseIn): void;',
    '}',
    '',
    'export type AnyApiDescriptor = ApiDescriptor<unknown, unknown>;',
    '',
  );
  for (const pair of sorted) lines.push(...descriptor(pair), '');
  lines.push('export interface ApiDescriptors {');
  for (const pair of sorted) lines.push(`  ${pair.request.apiKey}: typeof ${pair.name}Api;`);
  lines.push('}', '');
  const maxKey = Math.max(...sorted.map((pair) => pair.request.apiKey!));
  const byKey = new Map(sorted.map((pair) => [pair.request.apiKey!, `${pair.name}Api`]));
  const entries = Array.from({ length: maxKey + 1 }, (_, key) => `  ${byKey.get(key) ?? 'undefined'},`);
  lines.push('/** Every API by api key; holes are keys Kafka never assigned or retired. */');
  lines.push('export const apis: readonly (AnyApiDescriptor | undefined)[] = [', ...entries, '];', '');
  lines.push(
    '/** The descriptor of an API key: precisely typed for a literal key such as `ApiKey.Fetch`. */',
    'export function apiDescriptor<K extends keyof ApiDescriptors>(apiKey: K): ApiDescriptors[K];',
    'export function apiDescriptor(apiKey: number): AnyApiDescriptor | undefined;',
    'export function apiDescriptor(apiKey: number): AnyApiDescriptor | undefined {',
    '  return apis[apiKey];',
    '}',
    '',
  );
  return lines.join('\n');
}

/**
 * Every API's version range by api key, apart from its codecs: request headers need only these, so
 * a bundle of the broker keeps just the codecs of the APIs it serves or sends.
 */
function versionRanges(sorted: ApiPair[]): string[] {
  const maxKey = Math.max(...sorted.map((pair) => pair.request.apiKey!));
  const byKey = new Map(sorted.map((pair) => [pair.request.apiKey!, pair.request]));
  const entries = Array.from({ length: maxKey + 1 }, (_, key) => {
    const request = byKey.get(key);
    if (request === undefined) return '  undefined,';
    return `  { minVersion: ${request.validVersions.low}, maxVersion: ${request.validVersions.high}, firstFlexibleVersion: ${firstFlexibleVersion(request)} },`;
  });
  return [
    '/** An API\'s request versions: the range and the first flexible one (Infinity when there is none). */',
    'export interface ApiVersionRange {',
    '  readonly minVersion: number;',
    '  readonly maxVersion: number;',
    '  readonly firstFlexibleVersion: number;',
    '}',
    '',
    '/** The version range of every API by api key, without its codecs; holes are keys Kafka never assigned or retired. */',
    'export const apiVersionRanges: readonly (ApiVersionRange | undefined)[] = [',
    ...entries,
    '];',
    '',
  ];
}

function descriptor(pair: ApiPair): string[] {
  const request = pair.request.name;
  const response = pair.response.name;
  const requestIn = pair.requestHasRecords ? `${request}<EncodableRecords>` : request;
  const responseIn = pair.responseHasRecords ? `${response}<EncodableRecords>` : response;
  const typeArguments = [request, response, requestIn, responseIn];
  if (requestIn === request && responseIn === response) typeArguments.length = 2;
  return [
    `export const ${pair.name}Api: ApiDescriptor<${typeArguments.join(', ')}> = {`,
    `  apiKey: ${pair.request.apiKey},`,
    `  name: '${pair.name}',`,
    `  minVersion: ${pair.request.validVersions.low},`,
    `  maxVersion: ${pair.request.validVersions.high},`,
    `  firstFlexibleVersion: ${firstFlexibleVersion(pair.request)},`,
    `  decodeRequest: decode${request},`,
    `  encodeRequest: encode${request},`,
    `  decodeResponse: decode${response},`,
    `  encodeResponse: encode${response},`,
    '};',
  ];
}

export function emitRecordsIndex(records: RecordFile[], header: string): string {
  const lines: string[] = [header];
  for (const { file, message } of records) {
    lines.push(`export { decode${message.name}, encode${message.name}, type ${message.name} } from './${file}.js';`);
  }
  const metadata = records.filter(({ message }) => message.kind === 'metadata' && message.apiKey !== undefined);
  metadata.sort((left, right) => left.message.apiKey! - right.message.apiKey!);
  lines.push('', '/** The record type (api key) of each KRaft metadata record, as written in the metadata log. */');
  lines.push('export const MetadataRecordType = {');
  for (const { message } of metadata) lines.push(`  ${message.name}: ${message.apiKey},`);
  lines.push('} as const;', '');
  lines.push('/** Version ranges of each data record, for writers choosing a version and readers checking one. */');
  lines.push('export const recordVersions = {');
  for (const { message } of records) {
    const flexible = inRange(message.flexibleVersions, message.validVersions.high) ? firstFlexibleVersion(message) : 'Infinity';
    lines.push(
      `  ${message.name}: { minVersion: ${message.validVersions.low}, maxVersion: ${message.validVersions.high}, firstFlexibleVersion: ${flexible} },`,
    );
  }
  lines.push('} as const;', '');
  return lines.join('\n');
}
