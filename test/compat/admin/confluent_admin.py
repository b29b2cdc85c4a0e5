# confluent-kafka-python AdminClient against Conveyor: create_topics with configs and
# validate_only, describe_configs (topic and broker), alter_configs, create_partitions, and an
# INVALID_CONFIG refusal. Prints one JSON object with what it observed; the Node test checks it.
import json
import sys

from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic

bootstrap, node_id = sys.argv[1], sys.argv[2]
admin = AdminClient({"bootstrap.servers": bootstrap})
out = {}

dry = admin.create_topics([NewTopic("py-dry", 1, 1, config={"retention.ms": "1000"})], validate_only=True)
dry["py-dry"].result(timeout=15)
out["dry_run_created"] = "py-dry" in admin.list_topics(timeout=15).topics

created = admin.create_topics([NewTopic("py-configs", 2, 1, config={"cleanup.policy": "compact"})])
created["py-configs"].result(timeout=15)

topic = ConfigResource(ConfigResource.Type.TOPIC, "py-configs")
entries = admin.describe_configs([topic])[topic].result(timeout=15)
out["cleanup_policy"] = entries["cleanup.policy"].value
out["cleanup_policy_source"] = int(entries["cleanup.policy"].source)
out["retention_ms_is_default"] = entries["retention.ms"].is_default

altered = ConfigResource(ConfigResource.Type.TOPIC, "py-configs", set_config={"retention.ms": "3600000"})
admin.alter_configs([altered])[altered].result(timeout=15)
entries = admin.describe_configs([topic])[topic].result(timeout=15)
out["retention_ms_after_alter"] = entries["retention.ms"].value
out["cleanup_policy_after_alter"] = entries["cleanup.policy"].value

bad = ConfigResource(ConfigResource.Type.TOPIC, "py-configs", set_config={"retention.ms": "soon"})
try:
    admin.alter_configs([bad])[bad].result(timeout=15)
    out["bad_value_error"] = None
except Exception as error:  # KafkaException carrying a KafkaError
    out["bad_value_error"] = str(error)

broker = ConfigResource(ConfigResource.Type.BROKER, node_id)
broker_entries = admin.describe_configs([broker])[broker].result(timeout=15)
out["broker_num_partitions"] = broker_entries["num.partitions"].value
# Kafka can change listeners per broker at run time (not read-only); log.dirs it cannot.
out["broker_listeners_read_only"] = broker_entries["listeners"].is_read_only
out["broker_log_dirs_read_only"] = broker_entries["log.dirs"].is_read_only

admin.create_partitions([NewPartitions("py-configs", 4)])["py-configs"].result(timeout=15)
out["partitions_after_create_partitions"] = len(admin.list_topics("py-configs", timeout=15).topics["py-configs"].partitions)

print(json.dumps(out))
