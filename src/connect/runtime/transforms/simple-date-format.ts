// Java's java.text.SimpleDateFormat, in UTC and the US locale, as TimestampRouter's
// timestamp.format and TimestampConverter's format use it (Kafka sets UTC on both). Pattern letters
// follow Java's: G y Y M L w W D d F E u a H k K h m s S z Z X, text in single quotes, '' for a
// quote; any other ASCII letter is refused as Java refuses it. Parsing is lenient as Java's
// default: numbers may overflow into the next unit (month 13 is January of the next year), a
// numeric field followed directly by another takes exactly its count of digits ("yyyyMMdd"), and
// text after the last field is ignored.

type Token = { readonly kind: 'literal'; readonly text: string } | { readonly kind: 'field'; readonly letter: string; readonly count: number };

const PATTERN_LETTERS = 'GyYMLwWDdFEuaHkKhmsSzZX';
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const DAY_MS = 86_400_000;

export class SimpleDateFormat {
  private readonly tokens: Token[];

  /** Throws an Error with Java's message for an illegal pattern letter or an unterminated quote. */
  constructor(readonly pattern: string) {
    this.tokens = compile(pattern);
  }

  format(date: Date | number): string {
    const time = typeof date === 'number' ? date : date.getTime();
    return this.tokens.map((token) => (token.kind === 'literal' ? token.text : formatField(token.letter, token.count, new Date(time)))).join('');
  }

  /** Parses from the start of `text` (trailing text is ignored); throws `Unparseable date: "<text>"`. */
  parse(text: string): Date {
    const parsed = parseFields(this.tokens, text);
    if (!parsed) throw new Error(`Unparseable date: "${text}"`);
    return parsed;
  }
}

function compile(pattern: string): Token[] {
  const tokens: Token[] = [];
  let literal = '';
  const flushLiteral = () => {
    if (literal) tokens.push({ kind: 'literal', text: literal });
    literal = '';
  };
  for (let index = 0; index < pattern.length; ) {
    const char = pattern[index]!;
    if (char === "'") {
      const [text, next] = readQuoted(pattern, index);
      literal += text;
      index = next;
    } else if (/[A-Za-z]/.test(char)) {
      if (!PATTERN_LETTERS.includes(char)) throw new Error(`Illegal pattern character '${char}'`);
      let count = 1;
      while (pattern[index + count] === char) count++;
      flushLiteral();
      tokens.push({ kind: 'field', letter: char, count });
      index += count;
    } else {
      literal += char;
      index++;
    }
  }
  flushLiteral();
  return tokens;
}

/** The text of a quoted run starting at `start` (a quote) and the index after it. */
function readQuoted(pattern: string, start: number): [string, number] {
  if (pattern[start + 1] === "'") return ["'", start + 2];
  let text = '';
  for (let index = start + 1; index < pattern.length; index++) {
    if (pattern[index] !== "'") {
      text += pattern[index];
    } else if (pattern[index + 1] === "'") {
      text += "'";
      index++;
    } else {
      return [text, index + 1];
    }
  }
  throw new Error('Unterminated quote');
}

const pad = (value: number, count: number): string => String(value).padStart(count, '0');

function formatField(letter: string, count: number, date: Date): string {
  const year = date.getUTCFullYear();
  const hour = date.getUTCHours();
  switch (letter) {
    case 'G': return year > 0 ? 'AD' : 'BC';
    case 'y': return formatYear(year > 0 ? year : 1 - year, count);
    case 'Y': return formatYear(weekYear(date), count);
    case 'M':
    case 'L': return formatText(MONTHS[date.getUTCMonth()]!, count, date.getUTCMonth() + 1);
    case 'w': return pad(weekOfYear(date), count);
    case 'W': return pad(weekOfMonth(date), count);
    case 'D': return pad(dayOfYear(date), count);
    case 'd': return pad(date.getUTCDate(), count);
    case 'F': return pad(Math.floor((date.getUTCDate() - 1) / 7) + 1, count);
    case 'E': return count >= 4 ? DAYS[date.getUTCDay()]! : DAYS[date.getUTCDay()]!.slice(0, 3);
    case 'u': return pad(date.getUTCDay() === 0 ? 7 : date.getUTCDay(), count);
    case 'a': return hour < 12 ? 'AM' : 'PM';
    case 'H': return pad(hour, count);
    case 'k': return pad(hour === 0 ? 24 : hour, count);
    case 'K': return pad(hour % 12, count);
    case 'h': return pad(hour % 12 === 0 ? 12 : hour % 12, count);
    case 'm': return pad(date.getUTCMinutes(), count);
    case 's': return pad(date.getUTCSeconds(), count);
    case 'S': return pad(date.getUTCMilliseconds(), count);
    case 'z': return count >= 4 ? 'Coordinated Universal Time' : 'UTC';
    case 'Z': return '+0000';
    default: return 'Z'; // X: ISO 8601 zone, always UTC here
  }
}

function formatYear(year: number, count: number): string {
  return count === 2 ? pad(year % 100, 2) : pad(year, count);
}

/** Full name for 4+ letters, short for 3, else the number padded to the count. */
function formatText(name: string, count: number, number: number): string {
  if (count >= 4) return name;
  if (count === 3) return name.slice(0, 3);
  return pad(number, count);
}

function dayOfYear(date: Date): number {
  return Math.floor((date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
}

/** US weeks: they start on Sunday, and week 1 is the one holding January 1st. */
function weekOfYear(date: Date): number {
  const weekStart = date.getTime() - date.getUTCDay() * DAY_MS;
  const nextJanuary = utcDate(date.getUTCFullYear() + 1, 0, 1);
  if (weekStart + 6 * DAY_MS >= nextJanuary) return 1;
  const januaryWeekday = new Date(utcDate(date.getUTCFullYear(), 0, 1)).getUTCDay();
  return Math.floor((dayOfYear(date) - 1 + januaryWeekday) / 7) + 1;
}

function weekYear(date: Date): number {
  return date.getUTCMonth() === 11 && weekOfYear(date) === 1 ? date.getUTCFullYear() + 1 : date.getUTCFullYear();
}

function weekOfMonth(date: Date): number {
  const firstWeekday = new Date(utcDate(date.getUTCFullYear(), date.getUTCMonth(), 1)).getUTCDay();
  return Math.floor((date.getUTCDate() - 1 + firstWeekday) / 7) + 1;
}

/** Milliseconds of a UTC date; lenient (month 12 is next January) and right for years 0-99. */
function utcDate(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millis = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime();
}

interface Fields {
  year: number;
  yearDigits: number;
  bc: boolean;
  month: number;
  day: number;
  dayOfYear: number | null;
  hour: number;
  pm: boolean | null;
  hourOf12: boolean;
  minute: number;
  second: number;
  millis: number;
  offsetMinutes: number;
}

const NUMERIC = new Set(['y', 'Y', 'w', 'W', 'D', 'd', 'F', 'u', 'H', 'k', 'K', 'h', 'm', 's', 'S']);
const isNumeric = (token: Token | undefined): boolean =>
  token?.kind === 'field' && (NUMERIC.has(token.letter) || ((token.letter === 'M' || token.letter === 'L') && token.count <= 2));

function parseFields(tokens: readonly Token[], text: string): Date | null {
  const fields: Fields = {
    year: 1970, yearDigits: 0, bc: false, month: 0, day: 1, dayOfYear: null,
    hour: 0, pm: null, hourOf12: false, minute: 0, second: 0, millis: 0, offsetMinutes: 0,
  };
  let position = 0;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index]!;
    if (token.kind === 'literal') {
      if (!text.startsWith(token.text, position)) return null;
      position += token.text.length;
      continue;
    }
    const next = isNumeric(token) ? readNumber(text, position, isNumeric(tokens[index + 1]) ? token.count : 0) : readText(token, text, position, fields);
    if (next === null) return null;
    if (typeof next === 'number') {
      position = next;
      continue;
    }
    setNumber(fields, token, next.value, next.end - position);
    position = next.end;
  }
  return new Date(toMillis(fields));
}

/** Digits from `start`: exactly `width` of them when width > 0, else as many as there are. */
function readNumber(text: string, start: number, width: number): { value: number; end: number } | null {
  let end = start;
  while (end < text.length && /[0-9]/.test(text[end]!) && (width === 0 || end - start < width)) end++;
  if (end === start || (width > 0 && end - start < width)) return null;
  return { value: Number(text.slice(start, end)), end };
}

function setNumber(fields: Fields, token: Token & { kind: 'field' }, value: number, digits: number): void {
  switch (token.letter) {
    case 'y':
    case 'Y': fields.year = value; fields.yearDigits = token.count <= 2 ? digits : 0; break;
    case 'M':
    case 'L': fields.month = value - 1; break;
    case 'd': fields.day = value; break;
    case 'D': fields.dayOfYear = value; break;
    case 'H': fields.hour = value; break;
    case 'k': fields.hour = value === 24 ? 0 : value; break;
    case 'K': fields.hour = value; fields.hourOf12 = true; break;
    case 'h': fields.hour = value === 12 ? 0 : value; fields.hourOf12 = true; break;
    case 'm': fields.minute = value; break;
    case 's': fields.second = value; break;
    case 'S': fields.millis = value; break;
    default: break; // w, W, F, u: read but not used to place the date
  }
}

/** Reads a text field (names, AM/PM, era, zone) into `fields`; returns the position after it. */
function readText(token: Token & { kind: 'field' }, text: string, start: number, fields: Fields): number | null {
  const rest = text.slice(start);
  switch (token.letter) {
    case 'M':
    case 'L': {
      const found = matchName(rest, MONTHS);
      if (!found) return null;
      fields.month = found.index;
      return start + found.length;
    }
    case 'E': {
      const found = matchName(rest, DAYS);
      return found ? start + found.length : null;
    }
    case 'a': {
      const found = matchName(rest, ['AM', 'PM']);
      if (!found) return null;
      fields.pm = found.index === 1;
      return start + found.length;
    }
    case 'G': {
      const found = matchName(rest, ['AD', 'BC']);
      if (!found) return null;
      fields.bc = found.index === 1;
      return start + found.length;
    }
    default: {
      const zone = readZone(rest);
      if (!zone) return null;
      fields.offsetMinutes = zone.offsetMinutes;
      return start + zone.length;
    }
  }
}

/** A full or three-letter name at the start of `text`, case-insensitive, longest first. */
function matchName(text: string, names: readonly string[]): { index: number; length: number } | null {
  const lower = text.toLowerCase();
  for (const length of ['full', 'short'] as const) {
    for (let index = 0; index < names.length; index++) {
      const name = length === 'full' ? names[index]! : names[index]!.slice(0, 3);
      if (lower.startsWith(name.toLowerCase())) return { index, length: name.length };
    }
  }
  return null;
}

/** Z, UTC, GMT, GMT+hh:mm, +hh:mm, +hhmm or +hh. */
function readZone(text: string): { offsetMinutes: number; length: number } | null {
  if (text.startsWith('Z')) return { offsetMinutes: 0, length: 1 };
  const named = /^(UTC|GMT)/i.exec(text);
  const prefix = named ? named[0].length : 0;
  const offset = /^([+-])(\d{2}):?(\d{2})?/.exec(text.slice(prefix));
  if (!offset) return named ? { offsetMinutes: 0, length: prefix } : null;
  const minutes = Number(offset[2]) * 60 + Number(offset[3] ?? 0);
  return { offsetMinutes: offset[1] === '-' ? -minutes : minutes, length: prefix + offset[0].length };
}

function toMillis(fields: Fields): number {
  let year = fields.year;
  if (fields.yearDigits === 2) year = twoDigitYear(year);
  if (fields.bc) year = 1 - year;
  let hour = fields.hour;
  if (fields.hourOf12 && fields.pm) hour += 12;
  const local =
    fields.dayOfYear !== null
      ? utcDate(year, 0, fields.dayOfYear, hour, fields.minute, fields.second, fields.millis)
      : utcDate(year, fields.month, fields.day, hour, fields.minute, fields.second, fields.millis);
  return local - fields.offsetMinutes * 60_000;
}

/** Java's two-digit years: within 80 years before and 20 after now. */
function twoDigitYear(twoDigits: number): number {
  const now = new Date();
  const start = now.getUTCFullYear() - 80;
  let year = Math.floor(start / 100) * 100 + twoDigits;
  if (year < start) year += 100;
  return year;
}
