/*
 * A share-group (KIP-932) consumer for Conveyor's tests, on librdkafka's share consumer C API
 * (librdkafka 2.15, built by scripts/install-librdkafka-client.sh; no JS binding exposes this API).
 * It subscribes, polls batches, acknowledges them per a rule and prints one JSON object per line on
 * stdout (flushed at once) for every event; test/support/share-consumer.ts spawns it and reads them.
 *
 * Events: started, record, ack (source "callback": per-partition outcome with the offsets, from the
 * acknowledgement commit callback; source "commit_sync": per-partition outcome of one
 * rd_kafka_share_commit_sync call), error, holding, stopping, closed. See README.md beside it.
 *
 * Exit status: 0 after a clean stop (max records, timeout, SIGTERM/SIGINT), 1 after a fatal error
 * or a failure to create or subscribe the consumer, 2 on bad arguments.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rdkafka.h"

#define MAX_RULES 16
#define MAX_CONFIGS 32

typedef enum { ACK_ACCEPT = 1, ACK_RELEASE = 2, ACK_REJECT = 3 } ack_type_t;

/* One explicit-mode rule: records whose value starts with prefix get type, while their delivery
 * count is at most max_delivery (0: any count). The first matching rule wins; no match: accept. */
typedef struct {
        ack_type_t type;
        const char *prefix;
        int max_delivery;
} ack_rule_t;

typedef enum { COMMIT_NONE, COMMIT_SYNC, COMMIT_ASYNC } commit_mode_t;

typedef struct {
        const char *bootstrap;
        const char *group;
        const char *topics;
        int explicit_mode;
        int never_ack; /* ack rule "none": hold the first batch unacknowledged */
        ack_rule_t rules[MAX_RULES];
        int rule_count;
        commit_mode_t commit;
        int commit_given;
        long max_records; /* 0: no limit */
        long timeout_ms;  /* 0: no limit */
        int commit_timeout_ms;
        int poll_ms;
        const char *debug;
        const char *client_id;
        const char *configs[MAX_CONFIGS]; /* "key=value" */
        int config_count;
} options_t;

static volatile sig_atomic_t stop_signal = 0;

/* Set by the log callback (a librdkafka thread) when the coordinator does not offer
 * ShareGroupHeartbeat v1; the poll loop reports it. librdkafka itself only logs this (at debug
 * level, context cgrp) and re-queries the coordinator forever, which a test would see as silence. */
static volatile sig_atomic_t heartbeat_unsupported = 0;
static int user_debug = 0;
#define UNSUPPORTED_TEXT "ShareGroupHeartbeatRequest not supported by broker"

static void on_signal(int sig) {
        stop_signal = sig;
}

/* librdkafka's logs go to stderr as with its default logger: all of them when --debug was given,
 * else only levels below debug (cgrp debugging is always on, for the check above). */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        if (strstr(buf, UNSUPPORTED_TEXT) != NULL)
                heartbeat_unsupported = 1;
        if (user_debug || level < 7)
                fprintf(stderr, "%%%d|%s|%s| %s\n", level, fac, rk != NULL ? rd_kafka_name(rk) : "", buf);
}

/* ---- JSON output. Only the application thread prints (the acknowledgement callback runs inside
 * share_poll, commit_sync and close on this thread), so lines never interleave. ---- */

static void json_string(const char *s, size_t len) {
        size_t i;
        putchar('"');
        for (i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\') {
                        putchar('\\');
                        putchar(c);
                } else if (c == '\n') {
                        fputs("\\n", stdout);
                } else if (c == '\r') {
                        fputs("\\r", stdout);
                } else if (c == '\t') {
                        fputs("\\t", stdout);
                } else if (c < 0x20 || c >= 0x7f) {
                        /* Bytes above ASCII become U+0080..U+00FF, so the reader gets the exact
                         * bytes back as latin1 (the output stays valid UTF-8 JSON). */
                        printf("\\u%04x", c);
                } else {
                        putchar(c);
                }
        }
        putchar('"');
}

static void json_cstring(const char *s) {
        if (s == NULL)
                fputs("null", stdout);
        else
                json_string(s, strlen(s));
}

static void json_bytes(const void *p, size_t len) {
        if (p == NULL)
                fputs("null", stdout);
        else
                json_string((const char *)p, len);
}

static void line_end(void) {
        fputs("}\n", stdout);
        fflush(stdout);
}

static void emit_error(const char *source, rd_kafka_resp_err_t code, const char *message, int fatal, int retriable) {
        fputs("{\"event\":\"error\",\"source\":", stdout);
        json_cstring(source);
        fputs(",\"code\":", stdout);
        json_cstring(rd_kafka_err2name(code));
        printf(",\"code_number\":%d,\"message\":", (int)code);
        json_cstring(message);
        printf(",\"fatal\":%s,\"retriable\":%s", fatal ? "true" : "false", retriable ? "true" : "false");
        line_end();
}

/* Prints an rd_kafka_error_t and frees it; returns whether it was fatal. */
static int emit_error_object(const char *source, rd_kafka_error_t *error) {
        int fatal = rd_kafka_error_is_fatal(error);
        emit_error(source, rd_kafka_error_code(error), rd_kafka_error_string(error), fatal, rd_kafka_error_is_retriable(error));
        rd_kafka_error_destroy(error);
        return fatal;
}

static void emit_usage_error(const char *fmt, ...) {
        char text[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        fputs("{\"event\":\"error\",\"source\":\"usage\",\"code\":\"USAGE\",\"message\":", stdout);
        json_cstring(text);
        fputs(",\"fatal\":true,\"retriable\":false", stdout);
        line_end();
        fprintf(stderr, "share-consumer: %s\n", text);
}

/* ---- Arguments ---- */

static int parse_rules(options_t *o, const char *text) {
        char *copy, *entry, *save = NULL;
        if (strcmp(text, "none") == 0) {
                o->never_ack = 1;
                return 0;
        }
        if (strcmp(text, "accept") == 0)
                return 0;
        copy = strdup(text); /* kept for the process lifetime: rules point into it */
        for (entry = strtok_r(copy, ",", &save); entry != NULL; entry = strtok_r(NULL, ",", &save)) {
                ack_rule_t *rule;
                char *colon = strchr(entry, ':');
                char *at;
                if (o->rule_count == MAX_RULES || colon == NULL) {
                        emit_usage_error("bad ack rule \"%s\": expected accept, none or TYPE:PREFIX[@N],...", entry);
                        return -1;
                }
                *colon = '\0';
                rule = &o->rules[o->rule_count++];
                if (strcmp(entry, "accept") == 0)
                        rule->type = ACK_ACCEPT;
                else if (strcmp(entry, "release") == 0)
                        rule->type = ACK_RELEASE;
                else if (strcmp(entry, "reject") == 0)
                        rule->type = ACK_REJECT;
                else {
                        emit_usage_error("bad ack type \"%s\": accept, release or reject", entry);
                        return -1;
                }
                rule->prefix = colon + 1;
                rule->max_delivery = 0;
                if ((at = strrchr(colon + 1, '@')) != NULL) {
                        *at = '\0';
                        rule->max_delivery = atoi(at + 1);
                        if (rule->max_delivery <= 0) {
                                emit_usage_error("bad delivery count after @ in ack rule");
                                return -1;
                        }
                }
        }
        return 0;
}

static void usage(void) {
        fputs("usage: share-consumer --bootstrap HOST:PORT --group ID --topics T1[,T2...]\n"
              "  [--mode implicit|explicit] [--ack accept|none|TYPE:PREFIX[@N],...]\n"
              "  [--commit sync|async|none] [--max-records N] [--timeout-ms N]\n"
              "  [--commit-timeout-ms N] [--poll-ms N] [--debug CONTEXTS] [--client-id ID]\n"
              "  [--config KEY=VALUE]...\n",
              stderr);
}

static long parse_number(const char *name, const char *value) {
        char *end;
        long n;
        errno = 0;
        n = strtol(value, &end, 10);
        if (errno != 0 || *end != '\0' || n < 0) {
                emit_usage_error("%s needs a non-negative integer, not \"%s\"", name, value);
                exit(2);
        }
        return n;
}

static int parse_args(options_t *o, int argc, char **argv) {
        int i;
        const char *ack = "accept";
        int ack_given = 0;
        memset(o, 0, sizeof *o);
        o->commit_timeout_ms = 10000;
        o->poll_ms = 100;
        for (i = 1; i < argc; i++) {
                const char *name = argv[i];
                const char *value;
                if (i + 1 >= argc) {
                        emit_usage_error("%s needs a value", name);
                        return -1;
                }
                value = argv[++i];
                if (strcmp(name, "--bootstrap") == 0)
                        o->bootstrap = value;
                else if (strcmp(name, "--group") == 0)
                        o->group = value;
                else if (strcmp(name, "--topics") == 0)
                        o->topics = value;
                else if (strcmp(name, "--mode") == 0) {
                        if (strcmp(value, "explicit") == 0)
                                o->explicit_mode = 1;
                        else if (strcmp(value, "implicit") != 0) {
                                emit_usage_error("--mode is implicit or explicit, not \"%s\"", value);
                                return -1;
                        }
                } else if (strcmp(name, "--ack") == 0) {
                        ack = value;
                        ack_given = 1;
                } else if (strcmp(name, "--commit") == 0) {
                        o->commit_given = 1;
                        if (strcmp(value, "sync") == 0)
                                o->commit = COMMIT_SYNC;
                        else if (strcmp(value, "async") == 0)
                                o->commit = COMMIT_ASYNC;
                        else if (strcmp(value, "none") == 0)
                                o->commit = COMMIT_NONE;
                        else {
                                emit_usage_error("--commit is sync, async or none, not \"%s\"", value);
                                return -1;
                        }
                } else if (strcmp(name, "--max-records") == 0)
                        o->max_records = parse_number(name, value);
                else if (strcmp(name, "--timeout-ms") == 0)
                        o->timeout_ms = parse_number(name, value);
                else if (strcmp(name, "--commit-timeout-ms") == 0)
                        o->commit_timeout_ms = (int)parse_number(name, value);
                else if (strcmp(name, "--poll-ms") == 0)
                        o->poll_ms = (int)parse_number(name, value);
                else if (strcmp(name, "--debug") == 0)
                        o->debug = value;
                else if (strcmp(name, "--client-id") == 0)
                        o->client_id = value;
                else if (strcmp(name, "--config") == 0) {
                        if (o->config_count == MAX_CONFIGS || strchr(value, '=') == NULL) {
                                emit_usage_error("--config takes KEY=VALUE (at most %d)", MAX_CONFIGS);
                                return -1;
                        }
                        o->configs[o->config_count++] = value;
                } else {
                        emit_usage_error("unknown argument %s", name);
                        return -1;
                }
        }
        if (o->bootstrap == NULL || o->group == NULL || o->topics == NULL) {
                emit_usage_error("--bootstrap, --group and --topics are required");
                return -1;
        }
        if (ack_given && !o->explicit_mode) {
                emit_usage_error("--ack applies to --mode explicit only");
                return -1;
        }
        /* Explicit mode commits synchronously after each batch by default: commit_sync returns only
         * once the broker answered, so every ack the program made is settled (and reported through
         * the callback, with its offsets) before the next poll. */
        if (!o->commit_given)
                o->commit = o->explicit_mode ? COMMIT_SYNC : COMMIT_NONE;
        return parse_rules(o, ack);
}

/* ---- Consumer ---- */

static long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int set_config(rd_kafka_conf_t *conf, const char *key, const char *value) {
        char errstr[512];
        if (rd_kafka_conf_set(conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
                emit_error("config", RD_KAFKA_RESP_ERR__INVALID_ARG, errstr, 1, 0);
                return -1;
        }
        return 0;
}

/* The acknowledgement commit callback: one call per partition whose acks the broker answered (or
 * that failed locally), with the acknowledged offsets. It runs on this thread inside share_poll,
 * commit_sync, commit_async and consumer_close. */
static void on_ack_commit(rd_kafka_share_t *rkshare, rd_kafka_share_partition_offsets_list_t *partitions, rd_kafka_resp_err_t err, void *opaque) {
        size_t i, j, count = rd_kafka_share_partition_offsets_list_count(partitions);
        (void)rkshare;
        (void)opaque;
        for (i = 0; i < count; i++) {
                const rd_kafka_share_partition_offsets_t *entry = rd_kafka_share_partition_offsets_list_get(partitions, i);
                const rd_kafka_topic_partition_t *tp = rd_kafka_share_partition_offsets_partition(entry);
                const int64_t *offsets = rd_kafka_share_partition_offsets_offsets(entry);
                size_t n = rd_kafka_share_partition_offsets_offsets_cnt(entry);
                fputs("{\"event\":\"ack\",\"source\":\"callback\",\"topic\":", stdout);
                json_cstring(tp->topic);
                printf(",\"partition\":%d,\"offsets\":[", (int)tp->partition);
                for (j = 0; j < n; j++)
                        printf("%s%lld", j == 0 ? "" : ",", (long long)offsets[j]);
                fputs("],\"error\":", stdout);
                json_cstring(rd_kafka_err2name(err));
                line_end();
        }
}

static ack_type_t choose_ack(const options_t *o, const rd_kafka_message_t *m, int delivery_count) {
        int i;
        for (i = 0; i < o->rule_count; i++) {
                const ack_rule_t *rule = &o->rules[i];
                size_t plen = strlen(rule->prefix);
                if (m->payload == NULL || m->len < plen || memcmp(m->payload, rule->prefix, plen) != 0)
                        continue;
                if (rule->max_delivery > 0 && delivery_count > rule->max_delivery)
                        continue;
                return rule->type;
        }
        return ACK_ACCEPT;
}

static const char *ack_name(ack_type_t type) {
        return type == ACK_RELEASE ? "release" : type == ACK_REJECT ? "reject" : "accept";
}

/* Prints one record (or per-record error) and acknowledges it in explicit mode. */
static void handle_record(rd_kafka_share_t *rks, const options_t *o, const rd_kafka_message_t *m) {
        const char *topic = m->rkt != NULL ? rd_kafka_topic_name(m->rkt) : NULL;
        int delivery_count = rd_kafka_message_delivery_count(m);
        const char *ack = NULL;
        rd_kafka_resp_err_t ack_err = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (o->explicit_mode && !o->never_ack) {
                ack_type_t type = choose_ack(o, m, delivery_count);
                ack = ack_name(type);
                ack_err = rd_kafka_share_acknowledge_type(rks, m, (rd_kafka_share_AcknowledgeType_t)type);
        }
        fputs(m->err ? "{\"event\":\"record_error\",\"topic\":" : "{\"event\":\"record\",\"topic\":", stdout);
        json_cstring(topic);
        printf(",\"partition\":%d,\"offset\":%lld,\"delivery_count\":%d", (int)m->partition, (long long)m->offset, delivery_count);
        if (m->err) {
                fputs(",\"code\":", stdout);
                json_cstring(rd_kafka_err2name(m->err));
                fputs(",\"message\":", stdout);
                json_cstring(rd_kafka_message_errstr(m));
        } else {
                fputs(",\"key\":", stdout);
                json_bytes(m->key, m->key_len);
                fputs(",\"value\":", stdout);
                json_bytes(m->payload, m->len);
        }
        fputs(",\"ack\":", stdout);
        json_cstring(ack);
        if (ack_err) {
                fputs(",\"ack_error\":", stdout);
                json_cstring(rd_kafka_err2name(ack_err));
        }
        line_end();
}

/* Sends this batch's acks and waits for the broker's answer; prints each partition's outcome. */
static int commit_sync(rd_kafka_share_t *rks, const options_t *o) {
        rd_kafka_topic_partition_list_t *results = NULL;
        rd_kafka_error_t *error = rd_kafka_share_commit_sync(rks, o->commit_timeout_ms, &results);
        int fatal = 0, i;
        if (error != NULL)
                fatal = emit_error_object("commit_sync", error);
        if (results != NULL) {
                for (i = 0; i < results->cnt; i++) {
                        fputs("{\"event\":\"ack\",\"source\":\"commit_sync\",\"topic\":", stdout);
                        json_cstring(results->elems[i].topic);
                        printf(",\"partition\":%d,\"error\":", (int)results->elems[i].partition);
                        json_cstring(rd_kafka_err2name(results->elems[i].err));
                        line_end();
                }
                rd_kafka_topic_partition_list_destroy(results);
        }
        return fatal;
}

static rd_kafka_share_t *create_consumer(const options_t *o) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_share_t *rks;
        char debug[256];
        int i;
        snprintf(debug, sizeof debug, "%s%scgrp", o->debug ? o->debug : "", o->debug ? "," : "");
        user_debug = o->debug != NULL;
        rd_kafka_conf_set_log_cb(conf, on_log);
        if (set_config(conf, "bootstrap.servers", o->bootstrap) || set_config(conf, "group.id", o->group) ||
            set_config(conf, "share.acknowledgement.mode", o->explicit_mode ? "explicit" : "implicit") ||
            (o->client_id && set_config(conf, "client.id", o->client_id)) || set_config(conf, "debug", debug)) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        for (i = 0; i < o->config_count; i++) {
                char key[256];
                const char *eq = strchr(o->configs[i], '=');
                snprintf(key, sizeof key, "%.*s", (int)(eq - o->configs[i]), o->configs[i]);
                if (set_config(conf, key, eq + 1)) {
                        rd_kafka_conf_destroy(conf);
                        return NULL;
                }
        }
        rks = rd_kafka_share_consumer_new(conf, errstr, sizeof errstr);
        if (rks == NULL) {
                rd_kafka_conf_destroy(conf);
                emit_error("create", RD_KAFKA_RESP_ERR__INVALID_ARG, errstr, 1, 0);
        }
        return rks;
}

static int subscribe(rd_kafka_share_t *rks, const char *topics) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(4);
        char *copy = strdup(topics), *name, *save = NULL;
        rd_kafka_resp_err_t err;
        for (name = strtok_r(copy, ",", &save); name != NULL; name = strtok_r(NULL, ",", &save))
                rd_kafka_topic_partition_list_add(list, name, RD_KAFKA_PARTITION_UA);
        free(copy);
        err = rd_kafka_share_subscribe(rks, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (err) {
                emit_error("subscribe", err, rd_kafka_err2str(err), 1, 0);
                return -1;
        }
        return 0;
}

static void emit_stopping(const char *reason, long records) {
        fputs("{\"event\":\"stopping\",\"reason\":", stdout);
        json_cstring(reason);
        printf(",\"records\":%ld", records);
        line_end();
}

/* Polls until max records, the deadline, a signal or a fatal error. Returns the stop reason. */
static const char *consume(rd_kafka_share_t *rks, const options_t *o, long *records, int *fatal) {
        long deadline = o->timeout_ms > 0 ? now_ms() + o->timeout_ms : 0;
        int holding = 0;
        for (;;) {
                rd_kafka_messages_t *batch = NULL;
                rd_kafka_error_t *error;
                size_t i, count;
                if (stop_signal)
                        return stop_signal == SIGINT ? "sigint" : "sigterm";
                if (o->max_records > 0 && *records >= o->max_records)
                        return "max_records";
                if (deadline && now_ms() >= deadline)
                        return "timeout";
                if (heartbeat_unsupported) {
                        emit_error("coordinator", RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, UNSUPPORTED_TEXT, 1, 0);
                        *fatal = 1;
                        return "fatal";
                }
                if (holding) {
                        /* Ack rule "none": records stay acquired and unacknowledged (the next poll
                         * would fail with __STATE); librdkafka's own threads keep heartbeating. */
                        usleep(o->poll_ms * 1000);
                        continue;
                }
                error = rd_kafka_share_poll(rks, o->poll_ms, &batch);
                if (error != NULL) {
                        if (emit_error_object("poll", error)) {
                                *fatal = 1;
                                return "fatal";
                        }
                        continue;
                }
                count = rd_kafka_messages_count(batch);
                for (i = 0; i < count; i++) {
                        const rd_kafka_message_t *m = rd_kafka_messages_get(batch, i);
                        handle_record(rks, o, m);
                        if (!m->err)
                                (*records)++;
                }
                rd_kafka_messages_destroy(batch);
                if (count == 0)
                        continue;
                if (o->never_ack) {
                        fputs("{\"event\":\"holding\"", stdout);
                        printf(",\"records\":%ld", *records);
                        line_end();
                        holding = 1;
                } else if (o->commit == COMMIT_SYNC) {
                        if (commit_sync(rks, o)) {
                                *fatal = 1;
                                return "fatal";
                        }
                } else if (o->commit == COMMIT_ASYNC) {
                        error = rd_kafka_share_commit_async(rks);
                        if (error != NULL && emit_error_object("commit_async", error)) {
                                *fatal = 1;
                                return "fatal";
                        }
                }
        }
}

int main(int argc, char **argv) {
        options_t o;
        rd_kafka_share_t *rks;
        rd_kafka_error_t *error;
        struct sigaction sa;
        long records = 0;
        int fatal = 0;
        const char *reason;

        if (argc == 2 && strcmp(argv[1], "--escape-self-test") == 0) {
                /* For the harness's test: every byte value through the JSON escaper, which real
                 * records exercise only once the broker serves share groups. */
                char bytes[256];
                int i;
                for (i = 0; i < 256; i++)
                        bytes[i] = (char)i;
                fputs("{\"event\":\"escape_self_test\",\"value\":", stdout);
                json_bytes(bytes, sizeof bytes);
                fputs(",\"null\":", stdout);
                json_bytes(NULL, 0);
                line_end();
                return 0;
        }
        if (parse_args(&o, argc, argv) != 0) {
                usage();
                return 2;
        }
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        if ((rks = create_consumer(&o)) == NULL)
                return 1;
        error = rd_kafka_share_set_acknowledgement_commit_cb(rks, on_ack_commit, NULL);
        if (error != NULL)
                emit_error_object("set_acknowledgement_commit_cb", error);
        if (subscribe(rks, o.topics) != 0) {
                error = rd_kafka_share_destroy(rks);
                if (error != NULL)
                        emit_error_object("destroy", error);
                return 1;
        }
        fputs("{\"event\":\"started\",\"group\":", stdout);
        json_cstring(o.group);
        fputs(",\"topics\":", stdout);
        json_cstring(o.topics);
        printf(",\"mode\":\"%s\",\"librdkafka\":", o.explicit_mode ? "explicit" : "implicit");
        json_cstring(rd_kafka_version_str());
        line_end();

        reason = consume(rks, &o, &records, &fatal);
        emit_stopping(reason, records);

        /* Close sends pending acks (implicit mode: the last batch's), leaves the share sessions and
         * the group; the callback reports those acks from inside it. */
        error = rd_kafka_share_consumer_close(rks);
        fputs("{\"event\":\"closed\",\"error\":", stdout);
        if (error != NULL) {
                json_cstring(rd_kafka_err2name(rd_kafka_error_code(error)));
                fputs(",\"message\":", stdout);
                json_cstring(rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
        } else {
                fputs("null", stdout);
        }
        line_end();
        error = rd_kafka_share_destroy(rks);
        if (error != NULL)
                emit_error_object("destroy", error);
        return fatal ? 1 : 0;
}
