// The built-in predicates a transform's `predicate` may name: TopicNameMatches (the whole topic
// matches a Java regular expression), HasHeaderKey (some header has the name) and
// RecordIsTombstone (the value is null).
import { ConnectConfigDef, type ParsedConfig, Validators } from '../../api/config.js';
import type { Predicate } from '../../api/connector.js';
import type { ConnectRecord } from '../../api/data.js';
import { JavaPattern } from './java-regex.js';
import { validRegex } from './routers.js';
import { allOf } from './util.js';

/** What the built-in predicates share: configure parses with the predicate's ConfigDef. */
abstract class BasePredicate implements Predicate<ConnectRecord> {
  abstract config(): ConnectConfigDef;
  protected abstract setup(config: ParsedConfig): void;
  abstract test(record: ConnectRecord): boolean;

  configure(props: Readonly<Record<string, string>>): void {
    this.setup(this.config().parse(props));
  }

  close(): void {}
}

const TOPIC_NAME_MATCHES_CONFIG = new ConnectConfigDef().define({
  name: 'pattern',
  type: 'string',
  importance: 'MEDIUM',
  documentation: "A Java regular expression for matching against the name of a record's topic.",
  validator: allOf(Validators.nonEmptyString(), validRegex),
});

export class TopicNameMatches extends BasePredicate {
  static readonly CONFIG_DEF = TOPIC_NAME_MATCHES_CONFIG;
  private pattern = new JavaPattern('');

  config(): ConnectConfigDef {
    return TOPIC_NAME_MATCHES_CONFIG;
  }

  protected setup(config: ParsedConfig): void {
    this.pattern = new JavaPattern(config.string('pattern'));
  }

  test(record: ConnectRecord): boolean {
    return record.topic !== null && record.topic !== undefined && this.pattern.matches(record.topic);
  }
}

const HAS_HEADER_KEY_CONFIG = new ConnectConfigDef().define({
  name: 'name',
  type: 'string',
  importance: 'MEDIUM',
  documentation: 'The header name.',
  validator: Validators.nonEmptyString(),
});

export class HasHeaderKey extends BasePredicate {
  static readonly CONFIG_DEF = HAS_HEADER_KEY_CONFIG;
  private name = '';

  config(): ConnectConfigDef {
    return HAS_HEADER_KEY_CONFIG;
  }

  protected setup(config: ParsedConfig): void {
    this.name = config.string('name');
  }

  test(record: ConnectRecord): boolean {
    return record.headers.some((header) => header.key === this.name);
  }
}

const RECORD_IS_TOMBSTONE_CONFIG = new ConnectConfigDef();

export class RecordIsTombstone extends BasePredicate {
  static readonly CONFIG_DEF = RECORD_IS_TOMBSTONE_CONFIG;

  config(): ConnectConfigDef {
    return RECORD_IS_TOMBSTONE_CONFIG;
  }

  protected setup(): void {}

  test(record: ConnectRecord): boolean {
    return record.value === null || record.value === undefined;
  }
}
