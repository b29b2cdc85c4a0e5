"""confluent-kafka-python (librdkafka) driver for the compatibility suite.

Usage: /usr/bin/python3 driver.py <command>, with one JSON document on stdin; prints one JSON document.
Commands: create, partitions, produce, consume, offsets. Bytes travel as base64.
"""
import base64
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def b64(data):
    return None if data is None else base64.b64encode(data).decode('ascii')


def unb64(text):
    return base64.b64decode(text)


class LogCollector:
    """Collects librdkafka's log lines (a logging.Logger stand-in) to check which requests it sent."""

    def __init__(self):
        self.lines = []

    def log(self, level, fmt, *args):
        self.lines.append(fmt % args if args else fmt)

    # librdkafka calls the level-named methods through the logging.Logger interface.
    def debug(self, fmt, *args):
        self.log(7, fmt, *args)

    info = warning = error = critical = debug


def create(req):
    admin = AdminClient({'bootstrap.servers': req['bootstrap']})
    futures = admin.create_topics([NewTopic(t, num_partitions=req['partitions'], replication_factor=1) for t in req['topics']],
                                  operation_timeout=10, request_timeout=15)
    for topic, future in futures.items():
        future.result(timeout=20)
    return {'created': sorted(futures.keys())}


def partitions(req):
    admin = AdminClient({'bootstrap.servers': req['bootstrap']})
    metadata = admin.list_topics(topic=req['topic'], timeout=15)
    topic = metadata.topics[req['topic']]
    if topic.error is not None:
        raise RuntimeError('list_topics error: %s' % topic.error)
    return {'partitions': len(topic.partitions), 'cluster_id': metadata.cluster_id, 'controller_id': metadata.controller_id}


def produce(req):
    producer = Producer({
        'bootstrap.servers': req['bootstrap'],
        'compression.type': req['codec'],
        'linger.ms': 5,
        'acks': 'all',
        'enable.idempotence': False,
    })
    failures = []
    delivered = [0]

    def on_delivery(err, msg):
        if err is not None:
            failures.append(str(err))
        else:
            delivered[0] += 1

    for record in req['records']:
        kwargs = dict(
            topic=req['topic'],
            key=unb64(record['key']),
            value=unb64(record['value']),
            partition=record['partition'],
            timestamp=record['timestamp'],
            headers=[(k, unb64(v)) for k, v in record['headers']],
            on_delivery=on_delivery,
        )
        while True:
            try:
                producer.produce(**kwargs)
                break
            except BufferError:
                # Local queue full: serve delivery reports, then retry this record.
                producer.poll(0.05)
        producer.poll(0)
    remaining = producer.flush(60)
    return {'delivered': delivered[0], 'failures': failures[:10], 'undelivered': remaining}


def consume(req):
    logs = LogCollector()
    consumer = Consumer({
        'bootstrap.servers': req['bootstrap'],
        # Required by the API; with assign() and no commits no coordinator should ever be asked.
        'group.id': 'conveyor-compat-unused',
        'enable.auto.commit': False,
        'enable.auto.offset.store': False,
        'enable.partition.eof': True,
        'debug': 'cgrp,protocol,feature',
    }, logger=logs)
    topic = req['topic']
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(req['partitions'])])
    records = []
    at_end = set()
    deadline = time.monotonic() + req.get('timeout', 60)
    errors = []
    while len(at_end) < req['partitions'] and time.monotonic() < deadline:
        for msg in consumer.consume(num_messages=1000, timeout=0.5):
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                else:
                    errors.append(str(err))
                continue
            at_end.discard(msg.partition())
            records.append({
                'partition': msg.partition(),
                'offset': msg.offset(),
                'key': b64(msg.key()),
                'value': b64(msg.value()),
                'headers': [[k, b64(v)] for k, v in (msg.headers() or [])],
                'timestamp': msg.timestamp()[1],
            })
    consumer.close()
    group_requests = ('JoinGroupRequest', 'SyncGroupRequest', 'HeartbeatRequest', 'OffsetCommitRequest', 'LeaveGroupRequest')
    sent = [line for line in logs.lines if 'Sent ' in line]
    return {
        'records': records,
        'complete': len(at_end) == req['partitions'],
        'errors': errors[:10],
        # assign() without commits must never join a group or commit offsets.
        'group_requests_sent': [line for line in sent if any(name in line for name in group_requests)][:10],
        # librdkafka 2.0.2 looks up the coordinator whenever group.id is set and the broker
        # advertises FindCoordinator (feature BrokerGroupCoordinator), even with assign() only.
        'find_coordinator_sent': sum(1 for line in sent if 'FindCoordinatorRequest' in line),
        'find_coordinator_advertised': any('ApiKey FindCoordinator' in line for line in logs.lines),
        # Proves the debug log was captured, so the empty lists above mean something.
        'fetch_request_lines': sum(1 for line in sent if 'FetchRequest' in line),
    }


def offsets(req):
    consumer = Consumer({'bootstrap.servers': req['bootstrap'], 'group.id': 'conveyor-compat-unused', 'enable.auto.commit': False})
    topic = req['topic']
    earliest, latest = [], []
    for p in range(req['partitions']):
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=15, cached=False)
        earliest.append(low)
        latest.append(high)
    by_time = []
    for query in req['queries']:
        answer = consumer.offsets_for_times([TopicPartition(topic, query['partition'], query['timestamp'])], timeout=15)
        if answer[0].error is not None:
            raise RuntimeError('offsets_for_times error: %s' % answer[0].error)
        by_time.append(answer[0].offset)
    consumer.close()
    return {'earliest': earliest, 'latest': latest, 'byTimestamp': by_time}


COMMANDS = {'create': create, 'partitions': partitions, 'produce': produce, 'consume': consume, 'offsets': offsets}

if __name__ == '__main__':
    request = json.load(sys.stdin)
    json.dump(COMMANDS[sys.argv[1]](request), sys.stdout)
