// One round trip per client family for the security tests: produce three records (`<prefix>-1..3`)
// with the client's own connection settings, then read them back in a consumer group. The Python
// clients take their settings as JSON (confluent-kafka-python: librdkafka's keys;
// kafka-python: its keyword arguments); @platformatic/kafka takes its options object.
//
// A failure says why on stderr, so a test can check a refusal is the one it expects:
// confluent-kafka-python stops at the first authentication error librdkafka reports (`refused: `
// and librdkafka's text, which carries the broker's error message) instead of waiting out its
// timeouts, and a record not delivered is a failure with its delivery error; kafka-python logs its
// own errors (a connection the broker closed during the SASL exchange among them) to stderr.
import assert from 'node:assert/strict';
import './polyfills.js';
import { Consumer, type ConsumerOptions, Producer } from '@platformatic/kafka';
import { stringDeserializers, stringSerializers } from '@platformatic/kafka';
import type { Kafka } from 'kafkajs';
import { PYTHON, type ProcessResult, runProcess } from './process.js';

const CONFLUENT = `
import json, os, sys
from confluent_kafka import Producer, Consumer, KafkaError
topic, prefix, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
def on_error(error):
    if error.code() == KafkaError._AUTHENTICATION:
        sys.stderr.write('refused: %s\\n' % error.str())
        sys.stderr.flush()
        os._exit(3)
failed = []
def on_delivery(error, message):
    if error is not None:
        failed.append(error.str())
producer = Producer(dict(settings, **{'message.timeout.ms': 10000, 'error_cb': on_error}))
for n in range(1, 4):
    producer.produce(topic, value=f'{prefix}-{n}'.encode(), on_delivery=on_delivery)
if producer.flush(15) != 0 or failed:
    sys.exit('not delivered: %s' % failed)
consumer = Consumer(dict(settings, **{'group.id': topic + '-group', 'auto.offset.reset': 'earliest', 'error_cb': on_error}))
consumer.subscribe([topic])
seen = []
while len(seen) < 3:
    message = consumer.poll(15)
    if message is None:
        sys.exit('read %d of 3' % len(seen))
    if message.error():
        continue
    seen.append(message.value().decode())
consumer.close()
print('\\n'.join(seen))
`;

const KAFKA_PYTHON = `
import json, logging, sys
from kafka import KafkaProducer, KafkaConsumer
logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
topic, prefix, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
# An OAUTHBEARER token arrives as text; kafka-python takes it from a provider object.
if 'sasl_oauth_token' in settings:
    class TokenProvider:
        def __init__(self, token):
            self._token = token
        def token(self):
            return self._token
    settings['sasl_oauth_token_provider'] = TokenProvider(settings.pop('sasl_oauth_token'))
producer = KafkaProducer(request_timeout_ms=10000, max_block_ms=10000, **settings)
for n in range(1, 4):
    producer.send(topic, f'{prefix}-{n}'.encode()).get(timeout=15)
producer.close()
consumer = KafkaConsumer(topic, group_id=topic + '-group', auto_offset_reset='earliest', consumer_timeout_ms=15000, **settings)
seen = []
for message in consumer:
    seen.append(message.value.decode())
    if len(seen) == 3:
        break
consumer.close()
print('\\n'.join(seen))
`;

/** Runs the round trip with a Python client; its stdout holds the values read, one per line. */
export function pythonRoundTrip(client: 'confluent-kafka-python' | 'kafka-python', topic: string, prefix: string, settings: Record<string, unknown>): Promise<ProcessResult> {
  return runProcess(PYTHON, ['-c', client === 'kafka-python' ? KAFKA_PYTHON : CONFLUENT, topic, prefix, JSON.stringify(settings)], { timeoutMs: 60_000 });
}

/**
 * The round trip with a Python client must read back its three records with `accepted` settings
 * and fail with `refused` ones (no certificate, a wrong password), on topic `<topic>-refused`; when
 * given, `refusal` must match the refused run's stderr (the reason it failed).
 */
export async function checkPythonClient(client: 'confluent-kafka-python' | 'kafka-python', topic: string, prefix: string, accepted: Record<string, unknown>, refused: Record<string, unknown>, refusal?: RegExp): Promise<void> {
  const served = await pythonRoundTrip(client, topic, prefix, accepted);
  assert.equal(served.code, 0, served.stderr);
  assert.deepEqual(served.stdout.trim().split('\n'), [1, 2, 3].map((n) => `${prefix}-${n}`));
  const failed = await pythonRoundTrip(client, `${topic}-refused`, prefix, refused);
  assert.notEqual(failed.code, 0, `${client} was served with settings it should be refused with: ${failed.stdout}`);
  assert.equal(failed.stdout, '', `${client} read records with settings it should be refused with`);
  if (refusal) assert.match(failed.stderr, refusal);
}

/** The round trip with @platformatic/kafka; `connection` holds bootstrapBrokers and its tls or sasl options. */
export async function platformaticRoundTrip(topic: string, prefix: string, connection: Pick<ConsumerOptions<string, string, string, string>, 'bootstrapBrokers' | 'tls' | 'sasl'>): Promise<string[]> {
  const producer = new Producer({ clientId: prefix, ...connection, serializers: stringSerializers });
  try {
    await producer.send({ messages: [1, 2, 3].map((n) => ({ topic, value: `${prefix}-${n}` })) });
  } finally {
    await producer.close();
  }
  const consumer = new Consumer({ clientId: prefix, groupId: `${topic}-group`, ...connection, deserializers: stringDeserializers });
  const seen: string[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: 'earliest' });
    for await (const message of stream) {
      seen.push(message.value as string);
      if (seen.length === 3) break;
    }
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return seen;
}

/**
 * Every message in an error's chain, one a line: its causes, an AggregateError's errors, and what
 * the broker said (@platformatic/kafka keeps it in `serverErrorMessage` and `response.errorMessage`).
 */
export function errorChain(error: unknown): string {
  const lines: string[] = [];
  const visit = (value: unknown, depth: number): void => {
    if (!(value instanceof Error) || depth > 10) return;
    lines.push(`${value.name}: ${value.message}`);
    const { serverErrorMessage, response, errors } = value as { serverErrorMessage?: unknown; response?: { errorMessage?: unknown }; errors?: unknown };
    if (typeof serverErrorMessage === 'string') lines.push(serverErrorMessage);
    if (typeof response?.errorMessage === 'string') lines.push(response.errorMessage);
    if (Array.isArray(errors)) for (const inner of errors) visit(inner, depth + 1);
    visit(value.cause, depth + 1);
  };
  visit(error, 0);
  return lines.join('\n');
}

/**
 * Sends one record with @platformatic/kafka over `connection`, which must be refused (no retries);
 * returns the text of the error's chain, for the test to check why.
 */
export async function platformaticRefusal(topic: string, clientId: string, connection: Pick<ConsumerOptions<string, string, string, string>, 'bootstrapBrokers' | 'tls' | 'sasl'>): Promise<string> {
  const producer = new Producer({ clientId, ...connection, serializers: stringSerializers, retries: 0 });
  try {
    const error: unknown = await producer.send({ messages: [{ topic, value: 'refused' }] }).then(
      () => undefined,
      (failure: unknown) => failure ?? new Error('rejected without a reason'),
    );
    assert.ok(error !== undefined, `@platformatic/kafka (${clientId}) was served with settings it should be refused with`);
    return errorChain(error);
  } finally {
    await producer.close().catch(() => undefined);
  }
}

/**
 * kafkajs: produces `<label>-1` and `<label>-2` to `topic` (acks=all, creating it), then reads them
 * back in a consumer group; resolves with the values read, in order.
 */
export async function kafkajsRoundTrip(kafka: Kafka, topic: string, label: string): Promise<string[]> {
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: [{ value: `${label}-1` }, { value: `${label}-2` }] });
  } finally {
    await producer.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `${topic}-group` });
  await consumer.connect();
  try {
    const seen: string[] = [];
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen.length} of 2`)), 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push(String(message.value));
          if (seen.length === 2) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    return seen;
  } finally {
    await consumer.disconnect();
  }
}
