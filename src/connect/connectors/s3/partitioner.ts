// Confluent's storage partitioners: which directory (the "encoded partition") a record's object
// goes to. DefaultPartitioner: partition=<kafka partition>. FieldPartitioner: <field>=<value> for
// each of partition.field.name. TimeBasedPartitioner (and its Daily and Hourly presets): the
// record's time, rounded down to partition.duration.ms in the configured zone, formatted with a
// Joda-Time path.format. The time comes from a timestamp extractor: the Kafka record timestamp,
// a field of the value, or the wall clock.
import { ConnectConfigException } from '../../api/config.js';
import { DataException, type SinkRecord, Struct } from '../../api/data.js';
import type { PartitionerSettings, TimestampExtractorName } from './config.js';

export interface Partitioner {
  /** The record's directory below <topics.dir>/<topic>/, with `delim` between levels. */
  encodePartition(record: SinkRecord): string;
  /** The record's time for rotate.interval.ms: the extractor's for time-based partitioners, else the record timestamp. */
  rotationTime(record: SinkRecord): number;
}

export function createPartitioner(settings: PartitionerSettings, delim: string, now: () => number = Date.now): Partitioner {
  switch (settings.kind) {
    case 'default':
      return { encodePartition: (record) => `partition=${record.kafkaPartition}`, rotationTime: recordTimestamp };
    case 'field':
      return {
        encodePartition: (record) => settings.fields.map((field) => `${field}=${fieldText(record, field)}`).join(delim),
        rotationTime: recordTimestamp,
      };
    case 'time': {
      const format = compilePathFormat(settings.pathFormat, settings.locale, settings.timeZone);
      const extract = timestampExtractor(settings.extractor, settings.timestampField, now);
      return {
        encodePartition: (record) => format(floorInZone(extract(record), settings.durationMs, settings.timeZone)),
        rotationTime: extract,
      };
    }
  }
}

function recordTimestamp(record: SinkRecord): number {
  if (record.timestamp === null || record.timestamp < 0) throw new DataException(`record ${describe(record)} has no timestamp`);
  return record.timestamp;
}

export function timestampExtractor(name: TimestampExtractorName, field: string, now: () => number): (record: SinkRecord) => number {
  if (name === 'Wallclock') return () => now();
  if (name === 'Record') return recordTimestamp;
  return (record) => {
    const value = valueAt(record, field);
    if (value instanceof Date) return value.getTime();
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    if (typeof value === 'bigint') return Number(value);
    if (typeof value === 'string') {
      const parsed = /^-?\d+$/.test(value) ? Number(value) : Date.parse(value);
      if (Number.isFinite(parsed)) return parsed;
    }
    throw new DataException(`timestamp.field '${field}' of record ${describe(record)} is not a time (${value === null || value === undefined ? 'null' : typeof value})`);
  };
}

/** The value of a (dotted) field of a record's value: a Struct or a schemaless object or Map. */
function valueAt(record: SinkRecord, path: string): unknown {
  let current: unknown = record.value;
  for (const name of path.split('.')) {
    if (current === null || current === undefined) return current;
    if (current instanceof Struct) {
      if (!current.schema.fields!.some((field) => field.name === name)) throw new DataException(`record ${describe(record)} has no field '${path}'`);
      current = current.get(name);
    } else if (current instanceof Map) {
      current = current.get(name);
    } else if (current !== null && typeof current === 'object' && !Array.isArray(current) && !Buffer.isBuffer(current)) {
      current = (current as Record<string, unknown>)[name];
    } else {
      throw new DataException(`record ${describe(record)} has no field '${path}': its value is not a struct or map`);
    }
  }
  return current;
}

function fieldText(record: SinkRecord, path: string): string {
  const value = valueAt(record, path);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  throw new DataException(`partition field '${path}' of record ${describe(record)} must be a string, number or boolean, not ${value === null || value === undefined ? 'null' : typeof value}`);
}

function describe(record: SinkRecord): string {
  return `${record.topic}-${record.kafkaPartition} offset ${record.kafkaOffset}`;
}

interface ZoneParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const zoneFormats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock fields of an instant in a zone. */
function partsInZone(epochMs: number, timeZone: string): ZoneParts {
  let format = zoneFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short' });
    zoneFormats.set(timeZone, format);
  }
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(new Date(epochMs))) parts[part.type] = part.value;
  const year = Number(parts.year);
  return {
    year: parts.era === 'BC' || parts.era === 'B' ? 1 - year : year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
  };
}

/** How far the zone's wall clock is ahead of UTC at this instant, in milliseconds. */
export function zoneOffsetMs(epochMs: number, timeZone: string): number {
  const parts = partsInZone(epochMs, timeZone);
  const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - (epochMs - (((epochMs % 1000) + 1000) % 1000));
}

/**
 * The instant rounded down to a multiple of `durationMs` of the zone's wall clock (a day starts at
 * local midnight), as Confluent's TimeBasedPartitioner does.
 */
export function floorInZone(epochMs: number, durationMs: number, timeZone: string): number {
  const offset = zoneOffsetMs(epochMs, timeZone);
  const local = epochMs + offset;
  const flooredLocal = Math.floor(local / durationMs) * durationMs;
  // The offset at the rounded time may differ (a daylight-saving change in between).
  const candidate = flooredLocal - offset;
  const offsetThen = zoneOffsetMs(candidate, timeZone);
  return flooredLocal - offsetThen;
}

/** The next multiple of `intervalMs` of the zone's wall clock after `now` (rotate.schedule.interval.ms). */
export function nextBoundary(now: number, intervalMs: number, timeZone: string): number {
  const offset = zoneOffsetMs(now, timeZone);
  return (Math.floor((now + offset) / intervalMs) + 1) * intervalMs - offset;
}

type Piece = (epochMs: number, parts: ZoneParts) => string;

/**
 * Compiles a Joda-Time pattern into a formatter of instants in `timeZone`. Letters: y and Y (year),
 * M (month; MMM and MMMM its name in `locale`), d (day), H (hour 0-23), m, s, S (milliseconds);
 * 'quoted' text is literal ('' is a quote); other characters are literal. A letter outside these
 * is refused, so a typo shows up when the connector starts rather than as odd directory names.
 */
export function compilePathFormat(pattern: string, locale: string, timeZone: string): (epochMs: number) => string {
  const pieces: Piece[] = [];
  let index = 0;
  const literal = (text: string): Piece => () => text;
  while (index < pattern.length) {
    const char = pattern[index]!;
    if (char === "'") {
      const end = pattern.indexOf("'", index + 1);
      if (end === -1) throw new ConnectConfigException('path.format', `Invalid value ${pattern} for configuration path.format: unterminated quote`);
      pieces.push(literal(end === index + 1 ? "'" : pattern.slice(index + 1, end)));
      index = end + 1;
      continue;
    }
    if (!/[A-Za-z]/.test(char)) {
      pieces.push(literal(char));
      index++;
      continue;
    }
    let run = 1;
    while (pattern[index + run] === char) run++;
    index += run;
    const pad = (value: number) => String(value).padStart(run, '0');
    switch (char) {
      case 'y':
      case 'Y':
        // Joda prints a two-letter year as its last two digits.
        pieces.push(run === 2 ? (_ms, parts) => String(parts.year % 100).padStart(2, '0') : (_ms, parts) => pad(parts.year));
        break;
      case 'M':
        if (run >= 3) {
          const names = new Intl.DateTimeFormat(locale, { month: run === 3 ? 'short' : 'long', timeZone: 'UTC' });
          pieces.push((_ms, parts) => names.format(Date.UTC(2000, parts.month - 1, 15)));
        } else {
          pieces.push((_ms, parts) => pad(parts.month));
        }
        break;
      case 'd':
        pieces.push((_ms, parts) => pad(parts.day));
        break;
      case 'H':
        pieces.push((_ms, parts) => pad(parts.hour));
        break;
      case 'm':
        pieces.push((_ms, parts) => pad(parts.minute));
        break;
      case 's':
        pieces.push((_ms, parts) => pad(parts.second));
        break;
      case 'S':
        pieces.push((ms) => String(((ms % 1000) + 1000) % 1000).padStart(3, '0').slice(0, run).padEnd(run, '0'));
        break;
      default:
        throw new ConnectConfigException('path.format', `Invalid value ${pattern} for configuration path.format: the pattern letter '${char}' is not supported (use y, M, d, H, m, s, S and 'quoted' text)`);
    }
  }
  return (epochMs) => {
    const parts = partsInZone(epochMs, timeZone);
    return pieces.map((piece) => piece(epochMs, parts)).join('');
  };
}
