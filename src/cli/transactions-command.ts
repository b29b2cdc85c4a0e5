// `conveyor transactions`: Kafka's kafka-transactions tool for Conveyor: list the transactional
// ids the broker coordinates (state, producer id), describe one (producer epoch, timeout, start
// time, partitions of the open transaction), and describe the producers a partition keeps state for
// (describe-producers). Talks to the broker over the Kafka protocol.
import type { Command } from 'commander';
import { errorName } from '../base/error-codes.js';
import { commandConfigOption, integerOption, table, withAdmin, withConnection } from './output.js';
import { DescribeTransactionsApi, ListTransactionsApi } from '../protocol/messages/index.js';

interface CommonOptions {
  bootstrapServer: string;
  commandConfig?: string;
  json?: boolean;
}

function print(options: CommonOptions, json: unknown, text: string): void {
  process.stdout.write(options.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
}

async function listTransactions(options: CommonOptions): Promise<void> {
  const response = await withConnection(options, (connection) => connection.send(ListTransactionsApi, 1, { stateFilters: [], producerIdFilters: [], durationFilter: -1n }));
  if (response.errorCode !== 0) throw new Error(`listing transactions: ${errorName(response.errorCode)}`);
  const listed = response.transactionStates.map((state) => ({ transactionalId: state.transactionalId, producerId: Number(state.producerId), state: state.transactionState }));
  const rows = [['TransactionalId', 'ProducerId', 'TransactionState'], ...listed.map((entry) => [entry.transactionalId, entry.producerId, entry.state])];
  print(options, listed, table(rows));
}

async function describeTransaction(transactionalId: string, options: CommonOptions): Promise<void> {
  const response = await withConnection(options, (connection) => connection.send(DescribeTransactionsApi, 0, { transactionalIds: [transactionalId] }));
  const state = response.transactionStates[0];
  if (!state || state.errorCode !== 0) throw new Error(`describing ${transactionalId}: ${errorName(state?.errorCode ?? -1)}`);
  const described = {
    transactionalId,
    producerId: Number(state.producerId),
    producerEpoch: state.producerEpoch,
    state: state.transactionState,
    transactionTimeoutMs: state.transactionTimeoutMs,
    transactionStartTimeMs: Number(state.transactionStartTimeMs),
    partitions: state.topics.flatMap((topic) => topic.partitions.map((partition) => `${topic.topic}-${partition}`)),
  };
  const rows = [
    ['TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'TransactionTimeoutMs', 'TransactionStartTime', 'TopicPartitions'],
    [
      described.transactionalId,
      described.producerId,
      described.producerEpoch,
      described.state,
      described.transactionTimeoutMs,
      described.transactionStartTimeMs < 0 ? 'None' : new Date(described.transactionStartTimeMs).toISOString(),
      described.partitions.join(',') || 'None',
    ],
  ];
  print(options, described, table(rows));
}

interface DescribeProducersOptions extends CommonOptions {
  topic: string;
  partition: string;
  brokerId?: string;
}

async function describeProducers(options: DescribeProducersOptions): Promise<void> {
  const partition = integerOption('--partition', options.partition)!;
  const brokerId = integerOption('--broker-id', options.brokerId);
  const producers = await withAdmin(options, (admin) => admin.describeProducers(options.topic, partition, brokerId));
  const rows = [
    ['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'],
    ...producers.map((producer) => [
      producer.producerId,
      producer.producerEpoch,
      producer.coordinatorEpoch,
      producer.lastSequence,
      producer.lastTimestamp,
      producer.currentTransactionStartOffset < 0 ? 'None' : producer.currentTransactionStartOffset,
    ]),
  ];
  print(options, producers, table(rows));
}

export function registerTransactionsCommand(program: Command): void {
  const transactions = program.command('transactions').description('list and describe transactions');
  const common = (command: Command) => commandConfigOption(command.option('--bootstrap-server <host:port>', 'a broker to talk to', 'localhost:9092')).option('--json', 'print JSON');
  common(transactions.command('list').description('list the transactional ids, their producer ids and states')).action((options: CommonOptions) => listTransactions(options));
  common(transactions.command('describe <transactionalId>').description('producer, state, timeout and partitions of a transaction')).action((transactionalId: string, options: CommonOptions) =>
    describeTransaction(transactionalId, options),
  );
  common(transactions.command('describe-producers').description('the active producers of a topic partition: ids, epochs, sequences, open transactions'))
    .requiredOption('--topic <topic>', 'topic name')
    .requiredOption('--partition <partition>', 'partition number')
    .option('--broker-id <id>', 'ask the replica on this broker instead of the leader')
    .action((options: DescribeProducersOptions) => describeProducers(options));
}
