// What each client is asked to do while the capture tool records its frames, and therefore what
// the golden tests expect to find in them. These are inputs to the clients, written by hand: they
// do not come from the schema model that generated the codecs.

export type ClientName = 'kafkajs' | 'platformatic' | 'confluent' | 'kcat' | 'kafka-python';

export interface Scenario {
  readonly client: ClientName;
  /** Created with CreateTopics where the client has an admin API (kcat: by the capture tool, not captured). */
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** The CreateTopics timeout the client was given, where it takes one. */
  readonly createTimeoutMs?: number;
  /** Produced to partition 0 in one request, in this order. */
  readonly records: readonly { key: string; value: string; headers: readonly [string, string][] }[];
  readonly acks: number;
  /** The produce timeout the client is configured with (its request or ack timeout setting). */
  readonly produceTimeoutMs: number;
  /** Consumer group, joined by a subscribing consumer that commits offset `records.length` on partition 0. */
  readonly groupId?: string;
  readonly sessionTimeoutMs?: number;
  readonly rebalanceTimeoutMs?: number;
  /** Transactional producer: InitProducerId, one record to partition 1, EndTxn commit. */
  readonly transactionalId?: string;
  readonly transactionTimeoutMs?: number;
  readonly transactionRecord?: { key: string; value: string };
  /** Idempotent producer without transactions (kcat): InitProducerId with a null transactional id. */
  readonly idempotent?: boolean;
}

/** kcat sets one header (-H) for every record it produces, so its records share one. */
function records(client: string, sharedHeader = false): Scenario['records'] {
  return [0, 1, 2].map((index) => ({
    key: `key-${index}`,
    value: `${client} value ${index}`,
    headers: [['trace', sharedHeader ? client : `${client}-${index}`]] as [string, string][],
  }));
}

export const SCENARIOS: Record<ClientName, Scenario> = {
  kafkajs: {
    client: 'kafkajs',
    topic: 'golden-kafkajs',
    partitions: 3,
    replicationFactor: 1,
    createTimeoutMs: 5000,
    records: records('kafkajs'),
    acks: -1,
    produceTimeoutMs: 7000,
    groupId: 'golden-kafkajs-group',
    sessionTimeoutMs: 10000,
    rebalanceTimeoutMs: 12000,
    transactionalId: 'golden-kafkajs-txn',
    transactionTimeoutMs: 20000,
    transactionRecord: { key: 'txn-key', value: 'kafkajs in a transaction' },
  },
  platformatic: {
    client: 'platformatic',
    topic: 'golden-platformatic',
    partitions: 3,
    replicationFactor: 1,
    records: records('platformatic'),
    acks: -1,
    produceTimeoutMs: 7000,
    groupId: 'golden-platformatic-group',
    sessionTimeoutMs: 10000,
    rebalanceTimeoutMs: 12000,
    transactionalId: 'golden-platformatic-txn',
    // platformatic sends its client-wide `timeout` option as the transaction timeout.
    transactionTimeoutMs: 7000,
    transactionRecord: { key: 'txn-key', value: 'platformatic in a transaction' },
  },
  confluent: {
    client: 'confluent',
    topic: 'golden-confluent',
    partitions: 3,
    replicationFactor: 1,
    createTimeoutMs: 9000,
    records: records('confluent'),
    acks: -1,
    produceTimeoutMs: 7000,
    groupId: 'golden-confluent-group',
    sessionTimeoutMs: 10000,
    rebalanceTimeoutMs: 12000,
    transactionalId: 'golden-confluent-txn',
    transactionTimeoutMs: 20000,
    transactionRecord: { key: 'txn-key', value: 'confluent in a transaction' },
  },
  kcat: {
    client: 'kcat',
    // kcat has no admin API: the topic is created by the capture tool before kcat runs.
    topic: 'golden-kcat',
    partitions: 3,
    replicationFactor: 1,
    records: records('kcat', true),
    acks: -1,
    produceTimeoutMs: 7000,
    groupId: 'golden-kcat-group',
    sessionTimeoutMs: 10000,
    rebalanceTimeoutMs: 12000,
    idempotent: true,
  },
  'kafka-python': {
    client: 'kafka-python',
    topic: 'golden-kafka-python',
    partitions: 3,
    replicationFactor: 1,
    createTimeoutMs: 10000,
    records: records('kafka-python'),
    acks: -1,
    produceTimeoutMs: 7000,
    groupId: 'golden-kafka-python-group',
    sessionTimeoutMs: 10000,
    rebalanceTimeoutMs: 12000,
  },
};
