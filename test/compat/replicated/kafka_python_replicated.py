"""kafka-python client for the replicated scenario (replicated-scenario.ts).

Usage: /usr/bin/python3 kafka_python_replicated.py BOOTSTRAP RECORDS_TOPIC GROUP_ID TRANSACTIONAL_ID
(or --capabilities, which prints what this kafka-python supports as JSON and exits).
Commands on stdin, one JSON line each ({"id", "command", ...}), answered with one JSON line
({"id", "result"} or {"id", "error"}): capabilities, refusal, produce, group_consume, committed,
transaction, read_committed, close. The clients are opened once and kept for the whole scenario: a
KafkaProducer (acks=all; idempotent where this kafka-python has enable_idempotence), a KafkaConsumer
in the group subscribed to RECORDS_TOPIC (auto-commit off; each record is committed synchronously
before it counts as read) and, where this kafka-python has transactions (2.1+), a transactional
KafkaProducer. kafka-python 2.0.2 has neither idempotence nor transactions: its producer runs with
retries=0, so a failed send is reported to the test, which resends it as a new value.
"""
import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

HAS_IDEMPOTENCE = 'enable_idempotence' in KafkaProducer.DEFAULT_CONFIG
HAS_TRANSACTIONS = 'transactional_id' in KafkaProducer.DEFAULT_CONFIG


def capabilities(req):
    import kafka
    return {'version': kafka.__version__, 'idempotence': HAS_IDEMPOTENCE, 'transactions': HAS_TRANSACTIONS}


if sys.argv[1] == '--capabilities':
    print(json.dumps(capabilities({})))
    sys.exit(0)

BOOTSTRAP, RECORDS, GROUP, TRANSACTIONAL_ID = sys.argv[1:5]
SERVERS = BOOTSTRAP.split(',')

if HAS_IDEMPOTENCE:
    producer = KafkaProducer(bootstrap_servers=SERVERS, acks='all', enable_idempotence=True, linger_ms=5)
else:
    producer = KafkaProducer(bootstrap_servers=SERVERS, acks='all', retries=0, max_in_flight_requests_per_connection=1, linger_ms=5, request_timeout_ms=5000)
transactional = None
if HAS_TRANSACTIONS:
    transactional = KafkaProducer(bootstrap_servers=SERVERS, acks='all', enable_idempotence=True, transactional_id=TRANSACTIONAL_ID)
    transactional.init_transactions()
consumer = KafkaConsumer(
    bootstrap_servers=SERVERS,
    group_id=GROUP,
    enable_auto_commit=False,
    auto_offset_reset='earliest',
    session_timeout_ms=6000,
    heartbeat_interval_ms=500,
)
consumer.subscribe([RECORDS])
readers = 0


def refusal(req):
    """What this kafka-python says when asked for a transactional and for an idempotent producer."""
    answers = []
    for option, value in (('transactional_id', TRANSACTIONAL_ID), ('enable_idempotence', True)):
        try:
            KafkaProducer(bootstrap_servers=SERVERS, **{option: value}).close()
            answers.append('%s accepted' % option)
        except Exception as error:
            answers.append('%s: %s: %s' % (option, type(error).__name__, error))
    return '; '.join(answers)


def produce(req):
    futures = [producer.send(req['topic'], value=r['value'].encode(), partition=r['partition']) for r in req['records']]
    producer.flush(60)
    acked, failed = [], []
    for record, future in zip(req['records'], futures):
        try:
            acked.append(dict(record, offset=future.get(timeout=30).offset))
        except Exception as error:
            failed.append(dict(record, error='%s: %s' % (type(error).__name__, error)))
    return {'acked': acked, 'failed': failed}


def group_consume(req):
    deadline = time.time() + req['timeoutMs'] / 1000.0
    read = []
    while len(read) < req['count'] and time.time() < deadline:
        batches = consumer.poll(timeout_ms=200, max_records=req['count'] - len(read))
        for tp, records in sorted(batches.items(), key=lambda item: item[0].partition):
            for record in records:
                # kafka-python's synchronous commit retries retriable errors by itself.
                consumer.commit({tp: OffsetAndMetadata(record.offset + 1, None)})
                read.append({'partition': tp.partition, 'offset': record.offset, 'value': record.value.decode()})
    return read


def committed(req):
    return [{'partition': p, 'offset': consumer.committed(TopicPartition(RECORDS, p))} for p in (0, 1, 2)]


def transaction(req):
    if transactional is None:
        raise RuntimeError('this kafka-python has no transactions')
    transactional.begin_transaction()
    for record in req['records']:
        transactional.send(req['topic'], value=record['value'].encode(), partition=record['partition'])
    if req['outcome'] == 'commit':
        transactional.commit_transaction()
    else:
        transactional.abort_transaction()
    return {}


def read_committed(req):
    global readers
    if not HAS_TRANSACTIONS:
        raise RuntimeError('this kafka-python has no read_committed isolation')
    readers += 1
    reader = KafkaConsumer(bootstrap_servers=SERVERS, group_id=None, enable_auto_commit=False, isolation_level='read_committed')
    try:
        partitions = [TopicPartition(req['topic'], int(p)) for p, _ in req['from']]
        reader.assign(partitions)
        for tp, (_, offset) in zip(partitions, req['from']):
            reader.seek(tp, offset)
        until = {(u['partition'], u['value']) for u in req['until']}
        deadline = time.time() + req['timeoutMs'] / 1000.0
        read = []
        while not until.issubset({(r['partition'], r['value']) for r in read}):
            if time.time() > deadline:
                raise RuntimeError('read_committed reader did not reach the sentinels; read %s' % read)
            for tp, records in reader.poll(timeout_ms=200).items():
                read.extend({'partition': tp.partition, 'offset': r.offset, 'value': r.value.decode()} for r in records)
        return read
    finally:
        reader.close()


def close(req):
    consumer.close()
    producer.close(10)
    if transactional is not None:
        transactional.close(10)
    return {}


COMMANDS = {'capabilities': capabilities, 'refusal': refusal, 'produce': produce, 'group_consume': group_consume, 'committed': committed,
            'transaction': transaction, 'read_committed': read_committed, 'close': close}

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
