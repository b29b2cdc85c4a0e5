# Drives confluent-kafka-python (librdkafka) or kafka-python through the capture scenario:
# create a topic, produce three records to partition 0, consume them in a group and commit, and
# (confluent only) one transaction. Reads the scenario as JSON from argv[3]; exits non-zero when
# the client reports an error or does not get its records back, so a capture never saves frames
# of a run the client did not accept.
import json
import sys
import time


def confluent(bootstrap, s):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({'bootstrap.servers': bootstrap})
    futures = admin.create_topics([NewTopic(s['topic'], s['partitions'], s['replicationFactor'])], operation_timeout=s['createTimeoutMs'] / 1000.0, request_timeout=15)
    futures[s['topic']].result(15)

    # Metadata first and a long linger, so the three records leave in one request (with the
    # leader still unknown, librdkafka 2.0.2 sometimes sent the first record on its own).
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'request.timeout.ms': s['produceTimeoutMs'], 'linger.ms': 500})
    producer.list_topics(s['topic'], timeout=10)
    errors = []
    for record in s['records']:
        producer.produce(s['topic'], key=record['key'].encode(), value=record['value'].encode(), partition=0,
                         headers=[(k, v.encode()) for k, v in record['headers']],
                         on_delivery=lambda err, msg: errors.append(err) if err else None)
    if producer.flush(15) != 0 or errors:
        raise SystemExit('produce failed: %r' % errors)

    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': s['groupId'], 'auto.offset.reset': 'earliest',
                         'enable.auto.commit': False, 'session.timeout.ms': s['sessionTimeoutMs'],
                         'max.poll.interval.ms': s['rebalanceTimeoutMs']})
    consumer.subscribe([s['topic']])
    received = poll_values(lambda: consumer.poll(0.2), len(s['records']))
    consumer.commit(offsets=[TopicPartition(s['topic'], 0, len(s['records']))], asynchronous=False)
    consumer.close()
    check(received, s)

    txn = Producer({'bootstrap.servers': bootstrap, 'transactional.id': s['transactionalId'],
                    'transaction.timeout.ms': s['transactionTimeoutMs'], 'linger.ms': 5})
    txn.init_transactions(15)
    txn.begin_transaction()
    txn.produce(s['topic'], key=s['transactionRecord']['key'].encode(), value=s['transactionRecord']['value'].encode(), partition=1)
    txn.commit_transaction(15)


def poll_values(poll, expected):
    received, deadline = [], time.time() + 30
    while len(received) < expected and time.time() < deadline:
        message = poll()
        if message is None or message.error():
            continue
        received.append(message.value().decode())
    return received


def check(received, s):
    wanted = [record['value'] for record in s['records']]
    if received != wanted:
        raise SystemExit('consumed %r, expected %r' % (received, wanted))


def kafka_python(bootstrap, s):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import NewTopic
    from kafka.structs import OffsetAndMetadata
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='golden-kafka-python')
    admin.create_topics([NewTopic(s['topic'], s['partitions'], s['replicationFactor'])], timeout_ms=s['createTimeoutMs'])
    admin.close()

    producer = KafkaProducer(bootstrap_servers=bootstrap, client_id='golden-kafka-python', acks='all',
                             request_timeout_ms=s['produceTimeoutMs'], linger_ms=500)
    producer.partitions_for(s['topic'])
    futures = [producer.send(s['topic'], key=r['key'].encode(), value=r['value'].encode(), partition=0,
                             headers=[(k, v.encode()) for k, v in r['headers']]) for r in s['records']]
    producer.flush(15)
    for future in futures:
        future.get(15)
    producer.close()

    consumer = KafkaConsumer(s['topic'], bootstrap_servers=bootstrap, client_id='golden-kafka-python', group_id=s['groupId'],
                             auto_offset_reset='earliest', enable_auto_commit=False, session_timeout_ms=s['sessionTimeoutMs'],
                             max_poll_interval_ms=s['rebalanceTimeoutMs'],
                             request_timeout_ms=s['sessionTimeoutMs'] + 5000)
    received, deadline = [], time.time() + 30
    while len(received) < len(s['records']) and time.time() < deadline:
        for records in consumer.poll(200).values():
            received.extend(record.value.decode() for record in records)
    consumer.commit({TopicPartition(s['topic'], 0): OffsetAndMetadata(len(s['records']), '')})
    consumer.close()
    check(received, s)


if __name__ == '__main__':
    mode, bootstrap, scenario = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    {'confluent': confluent, 'kafka-python': kafka_python}[mode](bootstrap, scenario)
    print('ok')
