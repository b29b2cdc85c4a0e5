"""confluent-kafka-python (librdkafka) driver for the cluster scenario (cluster-scenario.ts).

Usage: /usr/bin/python3 confluent_cluster.py <command>, with one JSON document on stdin; prints one
JSON document. Commands: capabilities, metadata, describe_cluster, list_topics, partitions, create,
delete, produce, consume. Each client is bootstrapped at the one broker it is given.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT_S = 15


def admin(bootstrap):
    return AdminClient({'bootstrap.servers': bootstrap})


def capabilities(req):
    # AdminClient.describe_cluster (DescribeCluster) came with confluent-kafka-python 2.3.
    return {'describe_cluster': hasattr(AdminClient, 'describe_cluster')}


def metadata(req):
    """list_topics: librdkafka's Metadata request, answered by the bootstrap broker."""
    views = []
    for bootstrap in req['bootstraps']:
        cluster = admin(bootstrap).list_topics(timeout=TIMEOUT_S)
        views.append({
            'brokers': [{'nodeId': b.id, 'host': b.host, 'port': b.port} for b in cluster.brokers.values()],
            'controllerId': cluster.controller_id,
            'clusterId': cluster.cluster_id,
        })
    return views


def describe_cluster(req):
    views = []
    for bootstrap in req['bootstraps']:
        client = admin(bootstrap)  # kept referenced until its future resolves (a dropped handle is destroyed)
        described = client.describe_cluster(request_timeout=TIMEOUT_S).result(timeout=TIMEOUT_S)
        views.append({
            'brokers': [{'nodeId': n.id, 'host': n.host, 'port': n.port} for n in described.nodes],
            'controllerId': described.controller.id if described.controller is not None else -1,
            'clusterId': described.cluster_id,
        })
    return views


def list_topics(req):
    return sorted(admin(req['bootstrap']).list_topics(timeout=TIMEOUT_S).topics.keys())


def partitions(req):
    topic = admin(req['bootstrap']).list_topics(topic=req['topic'], timeout=TIMEOUT_S).topics[req['topic']]
    if topic.error is not None:
        raise RuntimeError('list_topics(%s): %s' % (req['topic'], topic.error))
    return sorted(({
        'partition': p.id,
        'errorCode': 0 if p.error is None else p.error.code(),
        'leader': p.leader,
        'replicas': list(p.replicas),
        'isr': list(p.isrs),
    } for p in topic.partitions.values()), key=lambda p: p['partition'])


def create(req):
    client = admin(req['bootstrap'])
    futures = client.create_topics([NewTopic(req['topic'], num_partitions=req['partitions'], replication_factor=1)],
                                   operation_timeout=10, request_timeout=TIMEOUT_S)
    for future in futures.values():
        future.result(timeout=20)
    return {'created': req['topic']}


def delete(req):
    client = admin(req['bootstrap'])
    futures = client.delete_topics([req['topic']], operation_timeout=10, request_timeout=TIMEOUT_S)
    for future in futures.values():
        future.result(timeout=20)
    return {'deleted': req['topic']}


def produce(req):
    producer = Producer({'bootstrap.servers': req['bootstrap'], 'acks': 'all', 'linger.ms': 5, 'message.timeout.ms': 20000})
    failures = []
    delivered = [0]

    def on_delivery(err, msg):
        if err is not None:
            failures.append('%s/%d: %s' % (msg.topic(), msg.partition(), err))
        else:
            delivered[0] += 1

    for record in req['records']:
        producer.produce(req['topic'], value=record['value'].encode('utf8'), partition=record['partition'], on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(30)
    if failures or remaining:
        raise RuntimeError('deliveries failed: %r, %d undelivered' % (failures[:5], remaining))
    return {'delivered': delivered[0]}


def consume(req):
    consumer = Consumer({
        'bootstrap.servers': req['bootstrap'],
        # Required by the API; with assign() and no commits the group is never joined.
        'group.id': 'conveyor-cluster-unused',
        'enable.auto.commit': False,
        'enable.partition.eof': True,
    })
    wanted = set(req['partitions'])
    consumer.assign([TopicPartition(req['topic'], p, OFFSET_BEGINNING) for p in wanted])
    records, at_end, errors = [], set(), []
    deadline = time.monotonic() + 30
    while at_end != wanted and time.monotonic() < deadline:
        for msg in consumer.consume(num_messages=500, timeout=0.2):
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    at_end.add(msg.partition())
                else:
                    errors.append(str(err))
                continue
            at_end.discard(msg.partition())
            records.append({'partition': msg.partition(), 'offset': msg.offset(), 'value': msg.value().decode('utf8')})
    consumer.close()
    if at_end != wanted:
        raise RuntimeError('partitions %r never reached their end; errors %r' % (sorted(wanted - at_end), errors[:5]))
    return sorted(records, key=lambda r: (r['partition'], r['offset']))


COMMANDS = {
    'capabilities': capabilities, 'metadata': metadata, 'describe_cluster': describe_cluster, 'list_topics': list_topics,
    'partitions': partitions, 'create': create, 'delete': delete, 'produce': produce, 'consume': consume,
}

if __name__ == '__main__':
    request = json.load(sys.stdin)
    json.dump(COMMANDS[sys.argv[1]](request), sys.stdout)
