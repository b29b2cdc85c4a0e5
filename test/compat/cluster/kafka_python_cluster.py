"""kafka-python driver for the cluster scenario (cluster-scenario.ts).

Usage: /usr/bin/python3 kafka_python_cluster.py <command>, with one JSON document on stdin; prints one
JSON document. Commands: metadata, describe_cluster, list_topics, partitions, create, delete, produce,
consume. Each client is bootstrapped at the one broker it is given.
"""
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.client_async import KafkaClient

TIMEOUT_MS = 15000


def admin(bootstrap):
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS)


def metadata(req):
    """The cluster as KafkaClient (the producers' and consumers' client) reads it from Metadata."""
    views = []
    for bootstrap in req['bootstraps']:
        client = KafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_MS)
        try:
            future = client.cluster.request_update()
            client.poll(future=future, timeout_ms=TIMEOUT_MS)
            if not future.is_done or future.failed():
                raise RuntimeError('metadata update from %s: %r' % (bootstrap, future.exception))
            brokers = [{'nodeId': b.nodeId, 'host': b.host, 'port': b.port} for b in client.cluster.brokers()]
            controller = client.cluster.controller
            views.append({'brokers': brokers, 'controllerId': -1 if controller is None else controller.nodeId})
        finally:
            client.close()
    return views


def describe_cluster(req):
    views = []
    for bootstrap in req['bootstraps']:
        client = admin(bootstrap)
        try:
            described = client.describe_cluster()
        finally:
            client.close()
        views.append({
            'brokers': [{'nodeId': b['node_id'], 'host': b['host'], 'port': b['port']} for b in described['brokers']],
            'controllerId': described['controller_id'],
            'clusterId': described['cluster_id'],
        })
    return views


def list_topics(req):
    client = admin(req['bootstrap'])
    try:
        return sorted(client.list_topics())
    finally:
        client.close()


def partitions(req):
    client = admin(req['bootstrap'])
    try:
        [topic] = client.describe_topics([req['topic']])
    finally:
        client.close()
    if topic['error_code'] != 0:
        raise RuntimeError('describe_topics(%s): error %d' % (req['topic'], topic['error_code']))
    return sorted(({
        'partition': p['partition'],
        'errorCode': p['error_code'],
        'leader': p['leader'],
        'replicas': p['replicas'],
        'isr': p['isr'],
        'offlineReplicas': p['offline_replicas'],
    } for p in topic['partitions']), key=lambda p: p['partition'])


def create(req):
    client = admin(req['bootstrap'])
    try:
        response = client.create_topics([NewTopic(req['topic'], req['partitions'], 1)], timeout_ms=TIMEOUT_MS)
    finally:
        client.close()
    errors = [list(e) for e in response.topic_errors if e[1] != 0]
    if errors:
        raise RuntimeError('create_topics errors: %r' % errors)
    return {'created': req['topic']}


def delete(req):
    client = admin(req['bootstrap'])
    try:
        response = client.delete_topics([req['topic']], timeout_ms=TIMEOUT_MS)
    finally:
        client.close()
    errors = [list(e) for e in response.topic_error_codes if e[1] != 0]
    if errors:
        raise RuntimeError('delete_topics errors: %r' % errors)
    return {'deleted': req['topic']}


def produce(req):
    producer = KafkaProducer(bootstrap_servers=req['bootstrap'], acks='all', retries=3, request_timeout_ms=TIMEOUT_MS)
    futures = [producer.send(req['topic'], value=r['value'].encode('utf8'), partition=r['partition']) for r in req['records']]
    producer.flush(30)
    failures = []
    for future in futures:
        try:
            future.get(timeout=30)
        except Exception as error:  # every failed send is reported, not only the first
            failures.append(repr(error))
    producer.close(10)
    if failures:
        raise RuntimeError('sends failed: %r' % failures[:5])
    return {'delivered': len(futures)}


def consume(req):
    consumer = KafkaConsumer(bootstrap_servers=req['bootstrap'], group_id=None, enable_auto_commit=False, request_timeout_ms=TIMEOUT_MS + 1000)
    try:
        assigned = [TopicPartition(req['topic'], p) for p in req['partitions']]
        consumer.assign(assigned)
        consumer.seek_to_beginning(*assigned)
        ends = consumer.end_offsets(assigned)
        records = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(consumer.position(tp) < ends[tp] for tp in assigned):
            for tp, messages in consumer.poll(timeout_ms=200).items():
                records.extend({'partition': m.partition, 'offset': m.offset, 'value': m.value.decode('utf8')} for m in messages)
        if any(consumer.position(tp) < ends[tp] for tp in assigned):
            raise RuntimeError('positions %r short of end offsets %r' % ([consumer.position(tp) for tp in assigned], [ends[tp] for tp in assigned]))
    finally:
        consumer.close()
    return sorted(records, key=lambda r: (r['partition'], r['offset']))


COMMANDS = {
    'metadata': metadata, 'describe_cluster': describe_cluster, 'list_topics': list_topics, 'partitions': partitions,
    'create': create, 'delete': delete, 'produce': produce, 'consume': consume,
}

if __name__ == '__main__':
    request = json.load(sys.stdin)
    json.dump(COMMANDS[sys.argv[1]](request), sys.stdout)
