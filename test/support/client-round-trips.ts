// One round trip per client family for the security tests: produce three records (`<prefix>-1..3`)
// with the client's own connection settings, then read them back in a consumer group. The Python
// clients take their settings as JSON (confluent-kafka-python: librdkafka's keys;
// kafka-python: its keyword arguments); @platformatic/kafka takes its options object.
import assert from 'node:assert/strict';
import './polyfills.js';
import { Consumer, type ConsumerOptions, Producer } from '@platformatic/kafka';
import { stringDeserializers, stringSerializers } from '@platformatic/kafka';
import { PYTHON, type ProcessResult, runProcess } from './process.js';

const CONFLUENT = `
import json, sys
from confluent_kafka import Producer, Consumer
topic, prefix, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
producer = Producer(dict(settings, **{'message.timeout.ms': 10000}))
for n in range(1, 4):
    producer.produce(topic, value=f'{prefix}-{n}'.encode())
if producer.flush(15) != 0:
    sys.exit('not delivered')
consumer = Consumer(dict(settings, **{'group.id': topic + '-group', 'auto.offset.reset': 'earliest'}))
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
import json, sys
from kafka import KafkaProducer, KafkaConsumer
topic, prefix, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
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
 * and fail with `refused` ones (no certificate, a wrong password).
 */
export async function checkPythonClient(client: 'confluent-kafka-python' | 'kafka-python', topic: string, prefix: string, accepted: Record<string, unknown>, refused: Record<string, unknown>): Promise<void> {
  const served = await pythonRoundTrip(client, topic, prefix, accepted);
  assert.equal(served.code, 0, served.stderr);
  assert.deepEqual(served.stdout.trim().split('\n'), [1, 2, 3].map((n) => `${prefix}-${n}`));
  const failed = await pythonRoundTrip(client, `${topic}-refused`, prefix, refused);
  assert.notEqual(failed.code, 0, `${client} was served with settings it should be refused with: ${failed.stdout}`);
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
