// `conveyor transactions`: Kafka's kafka-transactions tool for Conveyor: list the transactional
// ids the broker coordinates (state, producer id) and describe one (producer epoch, timeout, start
// time, partitions of the open transaction). Talks to the broker over the Kafka protocol.
import type { Command } from 'commander';
import { errorName } from '../base/error-codes.js';
import { table, withConnection } from './output.js';
import { DescribeTransactionsApi, ListTransactionsApi } from '../protocol/messages/index.js';

interface CommonOptions {
  bootstrapServer: string;
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

export function registerTransactionsCommand(program: Command): void {
  const transactions = program.command('transactions').description('list and describe transactions');
  const common = (command: Command) => command.option('--bootstrap-server <host:port>', 'a broker to talk to', 'localhost:9092').option('--json', 'print JSON');
  common(transactions.command('list').description('list the transactional ids, their producer ids and states')).action((options: CommonOptions) => listTransactions(options));
  common(transactions.command('describe <transactionalId>').description('producer, state, timeout and partitions of a transaction')).action((transactionalId: string, options: CommonOptions) =>
    describeTransaction(transactionalId, options),
  );
}
