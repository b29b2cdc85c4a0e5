// The configuration every connector has besides its own keys: Kafka Connect's ConnectorConfig,
// SourceConnectorConfig and SinkConnectorConfig (names, defaults, groups as Kafka's), used to
// parse a connector's properties and to report them in /config/validate.
import { type ConnectConfigKey, ConnectConfigDef, Validators } from '../api/config.js';

const COMMON = 'Common';
const TRANSFORMS = 'Transforms';
const PREDICATES = 'Predicates';
const ERROR_HANDLING = 'Error Handling';

const key = (definition: Omit<ConnectConfigKey, 'group'> & { group?: string }): ConnectConfigKey => ({ group: COMMON, ...definition });

export const connectorConfigDef = new ConnectConfigDef()
  .define(key({ name: 'name', type: 'string', importance: 'HIGH', orderInGroup: 1, width: 'MEDIUM', displayName: 'Connector name', validator: Validators.nonEmptyString(), documentation: 'Globally unique name to use for this connector.' }))
  .define(key({ name: 'connector.class', type: 'string', importance: 'HIGH', orderInGroup: 2, width: 'LONG', displayName: 'Connector class', documentation: 'Name or alias of the class for this connector.' }))
  .define(key({ name: 'tasks.max', type: 'int', defaultValue: 1, importance: 'HIGH', orderInGroup: 3, width: 'SHORT', displayName: 'Tasks max', validator: Validators.atLeast(1), documentation: 'Maximum number of tasks to use for this connector.' }))
  .define(key({ name: 'key.converter', type: 'class', defaultValue: null, importance: 'LOW', orderInGroup: 4, width: 'SHORT', displayName: 'Key converter class', documentation: 'Converter class for keys; the worker\'s when unset.' }))
  .define(key({ name: 'value.converter', type: 'class', defaultValue: null, importance: 'LOW', orderInGroup: 5, width: 'SHORT', displayName: 'Value converter class', documentation: 'Converter class for values; the worker\'s when unset.' }))
  .define(key({ name: 'header.converter', type: 'class', defaultValue: null, importance: 'LOW', orderInGroup: 6, width: 'SHORT', displayName: 'Header converter class', documentation: 'Converter class for header values; the worker\'s when unset.' }))
  .define(key({ name: 'config.action.reload', type: 'string', defaultValue: 'restart', importance: 'LOW', orderInGroup: 7, width: 'MEDIUM', displayName: 'Reload Action', validator: Validators.oneOf('none', 'restart'), documentation: 'What to do when external configuration providers change a value.' }))
  .define(key({ name: 'transforms', type: 'list', defaultValue: [], importance: 'LOW', group: TRANSFORMS, orderInGroup: 1, width: 'LONG', displayName: 'Transforms', documentation: 'Aliases for the transformations to be applied to records.' }))
  .define(key({ name: 'predicates', type: 'list', defaultValue: [], importance: 'LOW', group: PREDICATES, orderInGroup: 1, width: 'LONG', displayName: 'Predicates', documentation: 'Aliases for the predicates used by transformations.' }))
  .define(key({ name: 'errors.retry.timeout', type: 'long', defaultValue: 0, importance: 'MEDIUM', group: ERROR_HANDLING, orderInGroup: 1, width: 'MEDIUM', displayName: 'Retry Timeout for Errors', documentation: 'How long a failed operation is retried, in ms; 0 no retries, -1 forever.' }))
  .define(key({ name: 'errors.retry.delay.max.ms', type: 'long', defaultValue: 60_000, importance: 'MEDIUM', group: ERROR_HANDLING, orderInGroup: 2, width: 'MEDIUM', displayName: 'Maximum Delay Between Retries for Errors', documentation: 'The longest wait between retries.' }))
  .define(key({ name: 'errors.tolerance', type: 'string', defaultValue: 'none', importance: 'MEDIUM', group: ERROR_HANDLING, orderInGroup: 3, width: 'SHORT', displayName: 'Error Tolerance', validator: Validators.oneOf('none', 'all'), documentation: 'none: an error fails the task; all: problem records are skipped.' }))
  .define(key({ name: 'errors.log.enable', type: 'boolean', defaultValue: false, importance: 'MEDIUM', group: ERROR_HANDLING, orderInGroup: 4, width: 'SHORT', displayName: 'Log Errors', documentation: 'Log each error and its record\'s position.' }))
  .define(key({ name: 'errors.log.include.messages', type: 'boolean', defaultValue: false, importance: 'MEDIUM', group: ERROR_HANDLING, orderInGroup: 5, width: 'SHORT', displayName: 'Log Error Details', documentation: 'Include the failed record in the error log.' }));

export const sinkConnectorConfigDef = connectorConfigDef.merge(new ConnectConfigDef()
  .define(key({ name: 'topics', type: 'list', defaultValue: [], importance: 'HIGH', orderInGroup: 4, width: 'LONG', displayName: 'Topics', documentation: 'Topics to consume, comma-separated.' }))
  .define(key({ name: 'topics.regex', type: 'string', defaultValue: '', importance: 'HIGH', orderInGroup: 4, width: 'LONG', displayName: 'Topics regex', documentation: 'A regular expression for the topics to consume.' }))
  .define(key({ name: 'errors.deadletterqueue.topic.name', type: 'string', defaultValue: '', importance: 'MEDIUM', group: ERROR_HANDLING, orderInGroup: 6, width: 'MEDIUM', displayName: 'Dead Letter Queue Topic Name', documentation: 'The topic failed records go to; empty: none.' }))
  .define(key({ name: 'errors.deadletterqueue.topic.replication.factor', type: 'short', defaultValue: 3, importance: 'MEDIUM', group: ERROR_HANDLING, orderInGroup: 7, width: 'MEDIUM', displayName: 'Dead Letter Queue Topic Replication Factor', documentation: 'Replication factor of the dead letter queue topic when it is created.' }))
  .define(key({ name: 'errors.deadletterqueue.context.headers.enable', type: 'boolean', defaultValue: false, importance: 'MEDIUM', group: ERROR_HANDLING, orderInGroup: 8, width: 'MEDIUM', displayName: 'Enable Error Context Headers', documentation: 'Add __connect.errors.* headers to records sent to the dead letter queue.' })));

export const sourceConnectorConfigDef = connectorConfigDef.merge(new ConnectConfigDef()
  .define(key({ name: 'topic.creation.groups', type: 'list', defaultValue: [], importance: 'LOW', group: 'Topic Creation', orderInGroup: 1, width: 'LONG', displayName: 'Topic Creation Groups', documentation: 'Groups of configurations for topics the connector creates.' }))
  .define(key({ name: 'exactly.once.support', type: 'string', defaultValue: 'requested', importance: 'MEDIUM', group: 'Exactly Once Support', orderInGroup: 1, width: 'SHORT', displayName: 'Exactly once support', validator: Validators.oneOf('requested', 'required'), documentation: 'required: refuse the connector unless it can run exactly once.' }))
  .define(key({ name: 'transaction.boundary', type: 'string', defaultValue: 'poll', importance: 'MEDIUM', group: 'Exactly Once Support', orderInGroup: 2, width: 'SHORT', displayName: 'Transaction Boundary', validator: Validators.oneOf('poll', 'interval', 'connector'), documentation: 'Where transactions end: after each poll, every interval, or where the connector says.' }))
  .define(key({ name: 'transaction.boundary.interval.ms', type: 'long', defaultValue: null, importance: 'LOW', group: 'Exactly Once Support', orderInGroup: 3, width: 'SHORT', displayName: 'Transaction boundary interval', documentation: 'The interval for transaction.boundary=interval; the worker\'s offset.flush.interval.ms when unset.' }))
  .define(key({ name: 'offsets.storage.topic', type: 'string', defaultValue: null, importance: 'LOW', group: 'Exactly Once Support', orderInGroup: 4, width: 'LONG', displayName: 'Offsets topic', documentation: 'A separate offsets topic for this connector.' })));

/** Errors in the sink's topic settings that Kafka reports under `topics` / `topics.regex`. */
export function sinkTopicErrors(props: Readonly<Record<string, string>>): Map<string, string> {
  const errors = new Map<string, string>();
  const topics = (props.topics ?? '').split(',').map((topic) => topic.trim()).filter(Boolean);
  const regex = (props['topics.regex'] ?? '').trim();
  if (topics.length > 0 && regex !== '') {
    const both = 'topics and topics.regex are mutually exclusive options, but both are set.';
    errors.set('topics', both);
    errors.set('topics.regex', both);
  } else if (topics.length === 0 && regex === '') {
    const neither = 'Must configure one of topics or topics.regex';
    errors.set('topics', neither);
    errors.set('topics.regex', neither);
  }
  const dlq = (props['errors.deadletterqueue.topic.name'] ?? '').trim();
  if (dlq !== '' && topics.includes(dlq)) errors.set('topics', `The DLQ topic '${dlq}' may not be included in the list of topics ('topics=${props.topics}') to be consumed.`);
  if (regex !== '') {
    try {
      new RegExp(regex);
    } catch (error) {
      errors.set('topics.regex', `Invalid value ${regex} for configuration topics.regex: ${(error as Error).message}`);
    }
  }
  return errors;
}
