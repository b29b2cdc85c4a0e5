// Kafka's rules for topic names: legal characters, length, and the internal topics.

export const TOPIC_NAME_MAX_LENGTH = 249;
const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';
export const TRANSACTION_STATE_TOPIC = '__transaction_state';
export const SHARE_GROUP_STATE_TOPIC = '__share_group_state';
export const CLUSTER_METADATA_TOPIC = '__cluster_metadata';

export const internalTopics: ReadonlySet<string> = new Set([CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC, SHARE_GROUP_STATE_TOPIC]);

/** Why `name` is not a legal topic name, or undefined when it is. */
export function topicNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'topic name is empty';
  if (name === '.' || name === '..') return `topic name cannot be '${name}'`;
  if (name.length > TOPIC_NAME_MAX_LENGTH) return `topic name is longer than ${TOPIC_NAME_MAX_LENGTH} characters`;
  if (!LEGAL_TOPIC_NAME.test(name)) return `topic name '${name}' contains characters other than ASCII letters, digits, '.', '_' and '-'`;
  return undefined;
}
