// A KafkaStreams word count instance in its own process, for the SIGKILL test in
// kafka-streams.test.ts: exactly_once_v2, one-second transactions (so the kill lands inside one),
// and a line on stdout per 100 counts it sends, so the parent knows it is mid-stream.
// Arguments: bootstrap servers, application id, input topic, output topic, state directory, and
// optionally the store type (in_memory, the default here, or rocksDB: LevelDB) and the transaction
// timeout in ms (2000).
// SIGUSR2 arms a freeze: at its next count while its open transaction holds sent records, the
// instance prints `frozen` and blocks (no commit can follow), so a SIGKILL then lands inside that
// transaction for sure.
import { connectTcp } from '../../../src/node/tcp-byte-stream.js';
import { Serdes } from '../../../src/streams/index.js';
import { KafkaStreams } from '../../../src/streams/runtime/index.js';
import { wordCount } from './word-count-app.js';

const [bootstrap, applicationId, input, output, stateDir, storeType = 'in_memory', transactionTimeoutMs = '2000'] = process.argv.slice(2) as [string, string, string, string, string, string?, string?];
let counts = 0;
let freeze = false;
process.on('SIGUSR2', () => {
  freeze = true;
});
const streams: KafkaStreams = new KafkaStreams(wordCount(input, output, () => {
  if (++counts % 100 === 0) process.stdout.write(`counts ${counts}\n`);
  if (freeze && (streams as unknown as { inTransaction: boolean }).inTransaction) {
    process.stdout.write('frozen\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
  }
}), {
  'application.id': applicationId,
  'bootstrap.servers': bootstrap,
  'state.dir': stateDir,
  'processing.guarantee': 'exactly_once_v2',
  'commit.interval.ms': 1000,
  'producer.transaction.timeout.ms': Number(transactionTimeoutMs),
  'dsl.default.store.type': storeType,
  'consumer.session.timeout.ms': 3000,
  'consumer.heartbeat.interval.ms': 200,
  'consumer.max.poll.interval.ms': 10_000,
  'default.key.serde': Serdes.String(),
  'default.value.serde': Serdes.String(),
}, { connect: connectTcp });
streams.setStateListener((state) => process.stdout.write(`state ${state}\n`));
await streams.start();
