"""One consumer-group member driven by the Conveyor group compatibility tests.

Usage: group_member.py LIB BOOTSTRAP TOPIC GROUP ASSIGNORS SESSION_TIMEOUT_MS
LIB is kafka-python or confluent. Prints one JSON object per line on stdout:
{"event": "assigned", "partitions": [...]}, {"event": "records", "records": [[partition, offset], ...]}
(printed when the records are processed, before their offsets are committed: at-least-once, so a
member killed between the two never leaves a committed offset the test did not see processed),
{"event": "error", "error": "..."}.
A line "stop" on stdin closes the consumer cleanly (it leaves the group); SIGKILL does not.
"""
import json
import sys
import threading

LIB, BOOTSTRAP, TOPIC, GROUP, ASSIGNORS, SESSION_MS = sys.argv[1:7]
SESSION_MS = int(SESSION_MS)
stopping = threading.Event()


def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def watch_stdin():
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stopping.set()


def run_kafka_python():
    from kafka import KafkaConsumer, ConsumerRebalanceListener
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

    by_name = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            pass

        def on_partitions_assigned(self, assigned):
            emit({"event": "assigned", "partitions": sorted(tp.partition for tp in assigned)})

    consumer = KafkaConsumer(
        bootstrap_servers=BOOTSTRAP,
        group_id=GROUP,
        client_id="kafka-python-" + GROUP,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=SESSION_MS,
        heartbeat_interval_ms=500,
        max_poll_interval_ms=60000,
        partition_assignment_strategy=[by_name[name] for name in ASSIGNORS.split(",")],
    )
    consumer.subscribe([TOPIC], listener=Listener())
    try:
        while not stopping.is_set():
            batches = consumer.poll(timeout_ms=200)
            records = [[tp.partition, r.offset] for tp, rs in batches.items() for r in rs]
            if records:
                emit({"event": "records", "records": records})
                consumer.commit()
    except Exception as error:  # reported to the test, which decides
        emit({"event": "error", "error": type(error).__name__ + ": " + str(error)})
        stopping.wait(30)
    consumer.close()


def run_confluent():
    from confluent_kafka import Consumer

    def on_assign(consumer, partitions):
        emit({"event": "assigned", "partitions": sorted(tp.partition for tp in partitions)})

    def on_error(error):
        emit({"event": "error", "error": str(error)})

    consumer = Consumer({
        "bootstrap.servers": BOOTSTRAP,
        "group.id": GROUP,
        "client.id": "confluent-" + GROUP,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "session.timeout.ms": SESSION_MS,
        "heartbeat.interval.ms": 500,
        "partition.assignment.strategy": ASSIGNORS,
        "error_cb": on_error,
    })
    consumer.subscribe([TOPIC], on_assign=on_assign)
    while not stopping.is_set():
        messages = consumer.consume(num_messages=500, timeout=0.2)
        records = []
        for message in messages:
            if message.error():
                emit({"event": "error", "error": str(message.error())})
                continue
            records.append([message.partition(), message.offset()])
        if records:
            emit({"event": "records", "records": records})
            consumer.commit(asynchronous=False)
    consumer.close()


threading.Thread(target=watch_stdin, daemon=True).start()
emit({"event": "started"})
run_kafka_python() if LIB == "kafka-python" else run_confluent()
emit({"event": "closed"})
