// JSON text for JsonConverter: a reader that keeps every number's text (an int64 or a decimal
// must not pass through a double on its way in), and a writer with Jackson's output (compact, the
// same escapes, numbers exactly as given). The tree is what Kafka's JsonConverter works on
// (Jackson's JsonNode); node kinds carry Jackson's names for error messages.
//
// The reader is strict JSON with two allowances Kafka's deserializer makes too: numbers may have
// leading zeros, and a UTF-8 byte order mark is skipped. Nesting is limited to 1000 levels and a
// number to 1000 characters (Jackson's default limits), so hostile input cannot exhaust the stack.

export type JsonNode =
  | { readonly kind: 'null' }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'number'; readonly text: string }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'array'; readonly items: readonly JsonNode[] }
  | { readonly kind: 'object'; readonly fields: ReadonlyMap<string, JsonNode>; readonly source?: string };

export type JsonObject = Extract<JsonNode, { kind: 'object' }>;

export const JSON_NULL: JsonNode = Object.freeze({ kind: 'null' });
export const JSON_TRUE: JsonNode = Object.freeze({ kind: 'boolean', value: true });
export const JSON_FALSE: JsonNode = Object.freeze({ kind: 'boolean', value: false });

export const jsonNumber = (text: string): JsonNode => ({ kind: 'number', text });
export const jsonString = (value: string): JsonNode => ({ kind: 'string', value });
export const jsonArray = (items: readonly JsonNode[]): JsonNode => ({ kind: 'array', items });
export const jsonObject = (entries: Iterable<readonly [string, JsonNode]>): JsonObject => ({ kind: 'object', fields: new Map(entries) });

/** Jackson's JsonNodeType name of a node (MISSING for an absent one), for error messages. */
export function nodeTypeName(node: JsonNode | undefined): string {
  return node === undefined ? 'MISSING' : node.kind.toUpperCase();
}

/** Whether a number node is written as an integer (no fraction, no exponent): Jackson's isIntegralNumber. */
export function isIntegralText(text: string): boolean {
  return !/[.eE]/.test(text);
}

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
}

const MAX_DEPTH = 1000;
const MAX_NUMBER_LENGTH = 1000;
const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const PLAIN_STRING_RUN = /[^"\\\u0000-\u001f]*/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Parses UTF-8 JSON; undefined when the input is empty or only whitespace (Jackson's MissingNode). */
export function parseJsonBytes(bytes: Uint8Array): JsonNode | undefined {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new JsonSyntaxError('Invalid UTF-8 in JSON input');
  }
  return parseJson(text);
}

/** Parses JSON text; undefined when it is empty or only whitespace. */
export function parseJson(text: string): JsonNode | undefined {
  const reader = new Reader(text);
  reader.skipWhitespace();
  if (reader.atEnd()) return undefined;
  const node = reader.value(0);
  reader.skipWhitespace();
  if (!reader.atEnd()) reader.fail('Unexpected content after the JSON value');
  return node;
}

class Reader {
  private position = 0;

  constructor(private readonly text: string) {}

  atEnd(): boolean {
    return this.position >= this.text.length;
  }

  skipWhitespace(): void {
    while (this.position < this.text.length) {
      const code = this.text.charCodeAt(this.position);
      if (code !== 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) break;
      this.position++;
    }
  }

  fail(message: string): never {
    const found = this.atEnd() ? 'end of input' : `character ${JSON.stringify(this.text[this.position])}`;
    throw new JsonSyntaxError(`${message} at offset ${this.position} (found ${found})`);
  }

  value(depth: number): JsonNode {
    if (depth > MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`);
    const char = this.text[this.position];
    switch (char) {
      case '{': return this.object(depth);
      case '[': return this.array(depth);
      case '"': return jsonString(this.string());
      case 't': return this.literal('true', JSON_TRUE);
      case 'f': return this.literal('false', JSON_FALSE);
      case 'n': return this.literal('null', JSON_NULL);
      default: return this.number();
    }
  }

  private literal(word: string, node: JsonNode): JsonNode {
    if (!this.text.startsWith(word, this.position)) this.fail('Unrecognized token');
    this.position += word.length;
    return node;
  }

  private number(): JsonNode {
    NUMBER.lastIndex = this.position;
    const match = NUMBER.exec(this.text);
    if (!match) this.fail('Unexpected character');
    if (match[0].length > MAX_NUMBER_LENGTH) this.fail(`Number longer than ${MAX_NUMBER_LENGTH} characters`);
    this.position += match[0].length;
    return jsonNumber(match[0]);
  }

  private string(): string {
    this.position++; // the opening quote
    let result = '';
    for (;;) {
      PLAIN_STRING_RUN.lastIndex = this.position;
      const run = PLAIN_STRING_RUN.exec(this.text)![0];
      result += run;
      this.position += run.length;
      const char = this.text[this.position];
      if (char === '"') {
        this.position++;
        return result;
      }
      if (char === undefined) this.fail('Unterminated string');
      if (char !== '\\') this.fail('Unescaped control character in string');
      result += this.escape();
    }
  }

  private escape(): string {
    const char = this.text[this.position + 1];
    if (char === 'u') {
      const hex = this.text.slice(this.position + 2, this.position + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('Invalid \\u escape');
      this.position += 6;
      return String.fromCharCode(parseInt(hex, 16));
    }
    const escaped = char === undefined ? undefined : ESCAPES[char];
    if (escaped === undefined) this.fail('Invalid escape in string');
    this.position += 2;
    return escaped;
  }

  private array(depth: number): JsonNode {
    this.position++;
    const items: JsonNode[] = [];
    this.skipWhitespace();
    if (this.text[this.position] === ']') {
      this.position++;
      return jsonArray(items);
    }
    for (;;) {
      this.skipWhitespace();
      items.push(this.value(depth + 1));
      this.skipWhitespace();
      const char = this.text[this.position++];
      if (char === ']') return jsonArray(items);
      if (char !== ',') {
        this.position--;
        this.fail("Expected ',' or ']' in an array");
      }
    }
  }

  /** An object, with its source text (a cheap slice) so that a schema can be looked up by it. */
  private object(depth: number): JsonNode {
    const start = this.position++;
    const fields = new Map<string, JsonNode>();
    this.skipWhitespace();
    if (this.text[this.position] === '}') {
      this.position++;
      return { kind: 'object', fields, source: this.text.slice(start, this.position) };
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.position] !== '"') this.fail('Expected a field name');
      const name = this.string();
      this.skipWhitespace();
      if (this.text[this.position] !== ':') this.fail("Expected ':' after a field name");
      this.position++;
      this.skipWhitespace();
      fields.set(name, this.value(depth + 1));
      this.skipWhitespace();
      const char = this.text[this.position++];
      if (char === '}') return { kind: 'object', fields, source: this.text.slice(start, this.position) };
      if (char !== ',') {
        this.position--;
        this.fail("Expected ',' or '}' in an object");
      }
    }
  }
}

/** Compact JSON text, as Jackson writes a tree. */
export function writeJson(node: JsonNode): string {
  switch (node.kind) {
    case 'null': return 'null';
    case 'boolean': return node.value ? 'true' : 'false';
    case 'number': return node.text;
    case 'string': return quoteJson(node.value);
    case 'array': return `[${node.items.map(writeJson).join(',')}]`;
    case 'object': {
      const parts: string[] = [];
      for (const [name, value] of node.fields) parts.push(`${quoteJson(name)}:${writeJson(value)}`);
      return `{${parts.join(',')}}`;
    }
  }
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
const SHORT_ESCAPES: Readonly<Record<number, string>> = { 0x22: '\\"', 0x5c: '\\\\', 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };

/** A JSON string literal with Jackson's escapes: \" \\ \b \t \n \f \r, other controls as \u00XX. */
export function quoteJson(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return `"${value}"`;
  let out = '"';
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    const short = SHORT_ESCAPES[code];
    if (short !== undefined) out += short;
    else if (code < 0x20) out += unicodeEscape(code);
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(value.charCodeAt(index + 1))) out += value[index]! + value[++index]!;
    else if (code >= 0xd800 && code <= 0xdfff) out += unicodeEscape(code); // a lone surrogate, kept rather than lost
    else out += value[index]!;
  }
  return `${out}"`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function unicodeEscape(code: number): string {
  return `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
}
