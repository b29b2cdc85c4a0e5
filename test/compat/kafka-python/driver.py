"""kafka-python 2.0.2 driver for the compatibility suite.

Usage: /usr/bin/python3 driver.py <command>, with one JSON document on stdin; prints one JSON document.
Commands: codecs, create, partitions, produce, consume, offsets. Bytes travel as base64.
"""
import base64
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka import codec as kafka_codec
from kafka.admin import NewTopic


def b64(data):
    return None if data is None else base64.b64encode(data).decode('ascii')


def codecs(req):
    """Which codecs kafka-python can use here: snappy, lz4 and zstd need optional modules (python3-snappy, python3-lz4, python3-zstandard)."""
    checks = {
        'none': (True, None),
        'gzip': (kafka_codec.has_gzip(), 'gzip module missing'),
        'snappy': (kafka_codec.has_snappy(), 'kafka.codec.has_snappy() is False: apt-get install python3-snappy'),
        'lz4': (kafka_codec.has_lz4(), 'kafka.codec.has_lz4() is False: apt-get install python3-lz4'),
        'zstd': (kafka_codec.has_zstd(), 'kafka.codec.has_zstd() is False: apt-get install python3-zstandard'),
    }
    return {name: (None if ok else reason) for name, (ok, reason) in checks.items()}


def create(req):
    admin = KafkaAdminClient(bootstrap_servers=req['bootstrap'], request_timeout_ms=20000)
    try:
        response = admin.create_topics([NewTopic(t, req['partitions'], 1) for t in req['topics']], timeout_ms=15000)
        errors = [list(e) for e in getattr(response, 'topic_errors', []) if e[1] != 0]
        if errors:
            raise RuntimeError('create_topics errors: %r' % errors)
    finally:
        admin.close()
    return {'created': req['topics']}


def partitions(req):
    consumer = KafkaConsumer(bootstrap_servers=req['bootstrap'], group_id=None, enable_auto_commit=False)
    try:
        deadline = time.monotonic() + 15
        found = consumer.partitions_for_topic(req['topic'])
        while found is None and time.monotonic() < deadline:
            time.sleep(0.05)  # metadata refresh is asynchronous; poll its result with a deadline
            found = consumer.partitions_for_topic(req['topic'])
        return {'partitions': len(found or [])}
    finally:
        consumer.close()


def produce(req):
    producer = KafkaProducer(
        bootstrap_servers=req['bootstrap'],
        compression_type=None if req['codec'] == 'none' else req['codec'],
        linger_ms=5,
        acks='all',
        retries=0,
    )
    futures = []
    for record in req['records']:
        futures.append(producer.send(
            req['topic'],
            key=base64.b64decode(record['key']),
            value=base64.b64decode(record['value']),
            partition=record['partition'],
            timestamp_ms=record['timestamp'],
            headers=[(k, base64.b64decode(v)) for k, v in record['headers']],
        ))
    producer.flush(60)
    failures = []
    delivered = 0
    for future in futures:
        try:
            future.get(timeout=30)
            delivered += 1
        except Exception as error:  # each failed send is reported back, not just the first
            if len(failures) < 10:
                failures.append(repr(error))
    producer.close(10)
    return {'delivered': delivered, 'failures': failures}


def consume(req):
    consumer = KafkaConsumer(
        bootstrap_servers=req['bootstrap'],
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset='earliest',
    )
    topic = req['topic']
    assigned = [TopicPartition(topic, p) for p in range(req['partitions'])]
    consumer.assign(assigned)
    consumer.seek_to_beginning(*assigned)
    ends = consumer.end_offsets(assigned)
    records = []
    deadline = time.monotonic() + req.get('timeout', 60)
    while time.monotonic() < deadline and any(consumer.position(tp) < ends[tp] for tp in assigned):
        for tp, messages in consumer.poll(timeout_ms=500, max_records=2000).items():
            for msg in messages:
                records.append({
                    'partition': msg.partition,
                    'offset': msg.offset,
                    'key': b64(msg.key),
                    'value': b64(msg.value),
                    'headers': [[k, b64(v)] for k, v in (msg.headers or [])],
                    'timestamp': msg.timestamp,
                })
    complete = all(consumer.position(tp) >= ends[tp] for tp in assigned)
    consumer.close()
    return {'records': records, 'complete': complete, 'ends': [ends[tp] for tp in assigned]}


def offsets(req):
    consumer = KafkaConsumer(bootstrap_servers=req['bootstrap'], group_id=None, enable_auto_commit=False)
    topic = req['topic']
    assigned = [TopicPartition(topic, p) for p in range(req['partitions'])]
    beginning = consumer.beginning_offsets(assigned)
    end = consumer.end_offsets(assigned)
    by_time = []
    for query in req['queries']:
        tp = TopicPartition(topic, query['partition'])
        answer = consumer.offsets_for_times({tp: query['timestamp']})[tp]
        by_time.append(None if answer is None else answer.offset)
    consumer.close()
    return {'earliest': [beginning[tp] for tp in assigned], 'latest': [end[tp] for tp in assigned], 'byTimestamp': by_time}


COMMANDS = {'codecs': codecs, 'create': create, 'partitions': partitions, 'produce': produce, 'consume': consume, 'offsets': offsets}

if __name__ == '__main__':
    request = json.load(sys.stdin)
    json.dump(COMMANDS[sys.argv[1]](request), sys.stdout)
