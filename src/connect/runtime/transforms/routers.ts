// The topic routers: RegexRouter renames a record's topic when the whole topic matches `regex`,
// to Matcher.replaceFirst(replacement) ($1 and ${name} refer to groups); TimestampRouter renames
// it to topic.format with ${topic} and ${timestamp} (the record's timestamp written with the
// SimpleDateFormat pattern timestamp.format, in UTC) replaced.
import { ConnectConfigDef, type ConnectValidator, type ParsedConfig } from '../../api/config.js';
import { type ConnectRecord, DataException } from '../../api/data.js';
import { JavaPattern } from './java-regex.js';
import { SimpleDateFormat } from './simple-date-format.js';
import { BaseTransformation, invalidValue } from './util.js';

/** RegexValidator: the value must compile as a (Java) regular expression. */
export const validRegex: ConnectValidator = (name, value) => {
  if (typeof value !== 'string') return undefined;
  try {
    new JavaPattern(value);
    return undefined;
  } catch (error) {
    return invalidValue(name, value, `Invalid regex: ${(error as Error).message}`);
  }
};

const REGEX_ROUTER_CONFIG = new ConnectConfigDef()
  .define({ name: 'regex', type: 'string', importance: 'HIGH', documentation: 'Regular expression to use for matching.', validator: validRegex })
  .define({ name: 'replacement', type: 'string', importance: 'HIGH', documentation: 'Replacement string.' });

export class RegexRouter extends BaseTransformation {
  static readonly CONFIG_DEF = REGEX_ROUTER_CONFIG;
  private regex = new JavaPattern('');
  private replacement = '';

  config(): ConnectConfigDef {
    return REGEX_ROUTER_CONFIG;
  }

  protected setup(config: ParsedConfig): void {
    this.regex = new JavaPattern(config.string('regex'));
    this.replacement = config.string('replacement');
  }

  apply<R extends ConnectRecord>(record: R): R {
    if (!this.regex.matches(record.topic)) return record;
    return { ...record, topic: this.regex.replaceFirst(record.topic, this.replacement) };
  }
}

/** A SimpleDateFormat pattern Java would accept. */
const validDateFormat: ConnectValidator = (name, value) => {
  if (typeof value !== 'string') return undefined;
  try {
    new SimpleDateFormat(value);
    return undefined;
  } catch (error) {
    return invalidValue(name, value, (error as Error).message);
  }
};

const TIMESTAMP_ROUTER_CONFIG = new ConnectConfigDef()
  .define({
    name: 'topic.format',
    type: 'string',
    defaultValue: '${topic}-${timestamp}',
    importance: 'HIGH',
    documentation: 'Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively.',
  })
  .define({
    name: 'timestamp.format',
    type: 'string',
    defaultValue: 'yyyyMMdd',
    importance: 'HIGH',
    documentation: 'Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>.',
    validator: validDateFormat,
  });

export class TimestampRouter extends BaseTransformation {
  static readonly CONFIG_DEF = TIMESTAMP_ROUTER_CONFIG;
  private topicFormat = '';
  private timestampFormat = new SimpleDateFormat('yyyyMMdd');

  config(): ConnectConfigDef {
    return TIMESTAMP_ROUTER_CONFIG;
  }

  protected setup(config: ParsedConfig): void {
    this.topicFormat = config.string('topic.format');
    this.timestampFormat = new SimpleDateFormat(config.string('timestamp.format'));
  }

  apply<R extends ConnectRecord>(record: R): R {
    if (record.timestamp === null) {
      throw new DataException(`Timestamp missing on record: topic=${record.topic}, partition=${record.kafkaPartition}`);
    }
    const timestamp = this.timestampFormat.format(record.timestamp);
    const topic = this.topicFormat.split('${topic}').join(record.topic).split('${timestamp}').join(timestamp);
    return { ...record, topic };
  }
}
