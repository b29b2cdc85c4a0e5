# Transactions with confluent-kafka-python 1.7 (librdkafka 2.0.2: InitProducerId v1-4,
# AddPartitionsToTxn v0, AddOffsetsToTxn v0, TxnOffsetCommit up to v3, EndTxn v1): one scenario
# per command, reading a JSON document on stdin and printing one on stdout. The document's optional
# `settings` (security.protocol, sasl.*, ssl.*) go to every client the command makes.
import json
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

SETTINGS = {}


def producer(bootstrap, transactional_id):
    p = Producer({**SETTINGS, 'bootstrap.servers': bootstrap, 'transactional.id': transactional_id, 'transaction.timeout.ms': 30000, 'linger.ms': 5})
    p.init_transactions(15)
    return p


def send(p, topic, values, partitions):
    for index, value in enumerate(values):
        p.produce(topic, value=value.encode(), key=str(index).encode(), partition=index % partitions)
    p.flush(15)


def read_committed(bootstrap, topic, partitions, group, expected):
    consumer = Consumer({**SETTINGS, 'bootstrap.servers': bootstrap, 'group.id': group, 'isolation.level': 'read_committed',
                         'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
    consumer.assign([TopicPartition(topic, partition, 0) for partition in range(partitions)])
    values, idle = [], 0
    while idle < 10:
        message = consumer.poll(0.3)
        if message is None:
            idle = idle + 1 if len(values) >= expected else 0 if idle > 100 else idle + 0.05
            continue
        if message.error():
            continue
        values.append(message.value().decode())
    consumer.close()
    return sorted(values)


def commit_abort(request):
    bootstrap, topic = request['bootstrap'], request['topic']
    p = producer(bootstrap, 'py-commit-abort')
    p.begin_transaction()
    send(p, topic, ['committed-%d' % n for n in range(4)], 2)
    p.commit_transaction(15)
    p.begin_transaction()
    send(p, topic, ['aborted-%d' % n for n in range(4)], 2)
    p.abort_transaction(15)
    p.begin_transaction()
    send(p, topic, ['committed-4'], 2)
    p.commit_transaction(15)
    return {'values': read_committed(bootstrap, topic, 2, 'py-reader', 5)}


def fencing(request):
    bootstrap, topic = request['bootstrap'], request['topic']
    first = producer(bootstrap, 'py-fenced')
    first.begin_transaction()
    send(first, topic, ['from-first'], 1)
    second = producer(bootstrap, 'py-fenced')
    fenced = None
    try:
        first.commit_transaction(10)
    except KafkaException as error:
        fenced = error.args[0].name() if error.args else str(error)
    second.begin_transaction()
    send(second, topic, ['from-second'], 1)
    second.commit_transaction(15)
    return {'fencedError': fenced, 'values': read_committed(bootstrap, topic, 1, 'py-fence-reader', 1)}


def send_offsets(request):
    bootstrap, topic = request['bootstrap'], request['topic']
    p = producer(bootstrap, 'py-offsets')
    consumer = Consumer({**SETTINGS, 'bootstrap.servers': bootstrap, 'group.id': 'py-copier', 'enable.auto.commit': False})
    metadata = consumer.consumer_group_metadata()
    p.begin_transaction()
    p.send_offsets_to_transaction([TopicPartition(topic, 0, 7)], metadata, 15)
    p.abort_transaction(15)
    after_abort = consumer.committed([TopicPartition(topic, 0)], 10)[0].offset
    p.begin_transaction()
    send(p, topic, ['with-offsets'], 1)
    p.send_offsets_to_transaction([TopicPartition(topic, 0, 42)], metadata, 15)
    p.commit_transaction(15)
    after_commit = consumer.committed([TopicPartition(topic, 0)], 10)[0].offset
    consumer.close()
    return {'afterAbort': after_abort, 'afterCommit': after_commit}


def main():
    request = json.load(sys.stdin)
    SETTINGS.update(request.get('settings', {}))
    commands = {'commit-abort': commit_abort, 'fencing': fencing, 'send-offsets': send_offsets}
    print(json.dumps(commands[sys.argv[1]](request)))


main()
