// One KafkaStreams instance of the exactly-once campaign (eos-campaign.ts), in its own process so
// the campaign can SIGKILL it: exactly_once_v2, a per-key count (groupByKey().count() into the
// default persistent store, LevelDB), each new count sent to the output topic as a Long. The
// session timeout is short (3 s), so a killed instance's partitions are taken over within seconds;
// its open transaction is aborted after the transaction timeout the campaign passes. Prints `state <STATE>` on each state change and
// `counted <n>` every 1000 counts; on ERROR it prints the error and exits 3 (the campaign restarts
// it and reports the error); on SIGTERM it closes cleanly (commit, checkpoints, leave) and exits 0.
// Arguments: bootstrap servers, application id, input topic, output topic, state directory,
// commit.interval.ms, producer.transaction.timeout.ms.
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { Consumed, Materialized, Produced, Serdes, StreamsBuilder, type Topology } from '../../../src/streams/index.js';
import { KafkaStreams } from '../../../src/streams/runtime/index.js';

const [bootstrap, applicationId, input, output, stateDir, commitIntervalMs, transactionTimeoutMs] = process.argv.slice(2) as [string, string, string, string, string, string, string];

/** The count per key, as Kafka Streams' examples write it; `onCount` sees each count on its way out. */
function countingTopology(onCount: () => void): Topology {
  const builder = new StreamsBuilder();
  builder
    .stream(input, Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .count(undefined, Materialized.as('campaign-counts'))
    .toStream()
    .peek(onCount)
    .to(output, Produced.with(Serdes.String(), Serdes.Long()));
  return builder.build();
}

let counted = 0;
const streams = new KafkaStreams(countingTopology(() => {
  if (++counted % 1000 === 0) process.stdout.write(`counted ${counted}\n`);
}), {
  'application.id': applicationId,
  'bootstrap.servers': bootstrap,
  'state.dir': stateDir,
  'processing.guarantee': 'exactly_once_v2',
  'commit.interval.ms': Number(commitIntervalMs),
  'producer.transaction.timeout.ms': Number(transactionTimeoutMs),
  'consumer.session.timeout.ms': 3000,
  'consumer.heartbeat.interval.ms': 200,
  'consumer.max.poll.interval.ms': 15_000,
  'default.key.serde': Serdes.String(),
  'default.value.serde': Serdes.String(),
}, { connect: connectTcp });

streams.setStateListener((state) => {
  process.stdout.write(`state ${state}\n`);
  if (state === 'ERROR') {
    process.stdout.write(`error ${String(streams.error?.stack ?? streams.error).replace(/\n/g, ' | ')}\n`);
    process.exit(3);
  }
});

process.once('SIGTERM', () => {
  void streams.close().finally(() => process.exit(streams.error ? 3 : 0));
});

await streams.start();
