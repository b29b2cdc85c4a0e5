"""confluent-kafka-python (librdkafka) client for the replicated scenario (replicated-scenario.ts).

Usage: /usr/bin/python3 confluent_replicated.py BOOTSTRAP RECORDS_TOPIC GROUP_ID TRANSACTIONAL_ID
It opens its clients once and keeps them for the whole scenario: an idempotent Producer (acks=all),
a Consumer in the group subscribed to RECORDS_TOPIC (auto-commit off; each message is committed
synchronously before it counts as read) and a transactional Producer. It then answers one JSON
command per stdin line ({"id", "command", ...}) with one JSON line ({"id", "result"} or
{"id", "error"}): produce, group_consume, committed, transaction, read_committed, close.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

BOOTSTRAP, RECORDS, GROUP, TRANSACTIONAL_ID = sys.argv[1:5]

producer = Producer({'bootstrap.servers': BOOTSTRAP, 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 5})
transactional = Producer({'bootstrap.servers': BOOTSTRAP, 'transactional.id': TRANSACTIONAL_ID, 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 5})
transactional.init_transactions(30)
consumer = Consumer({
    'bootstrap.servers': BOOTSTRAP,
    'group.id': GROUP,
    'enable.auto.commit': False,
    'auto.offset.reset': 'earliest',
    'session.timeout.ms': 6000,
    'heartbeat.interval.ms': 500,
})
consumer.subscribe([RECORDS])
readers = 0


def produce(req):
    outcomes = [None] * len(req['records'])

    def delivered(index):
        def callback(err, msg):
            outcomes[index] = (err, msg.offset() if err is None else None)
        return callback

    for index, record in enumerate(req['records']):
        producer.produce(req['topic'], value=record['value'].encode(), partition=record['partition'], on_delivery=delivered(index))
        producer.poll(0)
    remaining = producer.flush(60)
    acked, failed = [], []
    for record, outcome in zip(req['records'], outcomes):
        if outcome is None:
            failed.append(dict(record, error='no delivery report within 60 s (%d still queued)' % remaining))
        elif outcome[0] is not None:
            failed.append(dict(record, error=str(outcome[0])))
        else:
            acked.append(dict(record, offset=outcome[1]))
    return {'acked': acked, 'failed': failed}


def commit(msg, deadline):
    """Commits the message's next offset, retrying librdkafka's retriable commit errors."""
    offsets = [TopicPartition(msg.topic(), msg.partition(), msg.offset() + 1)]
    while True:
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
            return
        except KafkaException as error:
            err = error.args[0]
            if not err.retriable() or time.time() > deadline:
                raise
            time.sleep(0.2)


def group_consume(req):
    deadline = time.time() + req['timeoutMs'] / 1000.0
    read = []
    while len(read) < req['count'] and time.time() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error() is not None:
            if msg.error().code() == KafkaError._PARTITION_EOF:
                continue
            raise KafkaException(msg.error())
        commit(msg, deadline + 10)
        read.append({'partition': msg.partition(), 'offset': msg.offset(), 'value': msg.value().decode()})
    return read


def committed(req):
    found = consumer.committed([TopicPartition(RECORDS, p) for p in (0, 1, 2)], timeout=15)
    return sorted(({'partition': tp.partition, 'offset': tp.offset} for tp in found), key=lambda entry: entry['partition'])


def transaction(req):
    transactional.begin_transaction()
    for record in req['records']:
        transactional.produce(req['topic'], value=record['value'].encode(), partition=record['partition'])
    if req['outcome'] == 'commit':
        transactional.commit_transaction(30)
    else:
        transactional.abort_transaction(30)
    return {}


def read_committed(req):
    global readers
    readers += 1
    reader = Consumer({'bootstrap.servers': BOOTSTRAP, 'group.id': '%s-reader-%d' % (GROUP, readers), 'isolation.level': 'read_committed', 'enable.auto.commit': False})
    try:
        reader.assign([TopicPartition(req['topic'], int(p), offset) for p, offset in req['from']])
        until = {(u['partition'], u['value']) for u in req['until']}
        deadline = time.time() + req['timeoutMs'] / 1000.0
        read = []
        while not until.issubset({(r['partition'], r['value']) for r in read}):
            if time.time() > deadline:
                raise RuntimeError('read_committed reader did not reach the sentinels; read %s' % read)
            msg = reader.poll(0.2)
            if msg is None or (msg.error() is not None and msg.error().code() == KafkaError._PARTITION_EOF):
                continue
            if msg.error() is not None:
                raise KafkaException(msg.error())
            read.append({'partition': msg.partition(), 'offset': msg.offset(), 'value': msg.value().decode()})
        return read
    finally:
        reader.close()


def close(req):
    consumer.close()
    producer.flush(10)
    transactional.flush(10)
    return {}


COMMANDS = {'produce': produce, 'group_consume': group_consume, 'committed': committed, 'transaction': transaction, 'read_committed': read_committed, 'close': close}

for line in sys.stdin:
    req = json.loads(line)
    try:
        reply = {'id': req['id'], 'result': COMMANDS[req['command']](req)}
    except Exception as error:  # reported to the test, which fails with it
        reply = {'id': req['id'], 'error': '%s: %s' % (type(error).__name__, error)}
    sys.stdout.write(json.dumps(reply) + '\n')
    sys.stdout.flush()
    if req['command'] == 'close':
        break
