/*
 * harness.c - see harness.h.
 */
#include "harness.h"

#include "common/envelope.h"
#include "common/migrate.h"
#include "common/outbox.h"
#include "probe_contract.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEAD_LETTERS_MAX 256

static struct db *db;
static struct bus *publisher;
static struct bus *dl_reader;
static pid_t pids[HARNESS_SLOTS];
static struct harness_dead_letter dead[DEAD_LETTERS_MAX];
static int ndead;

static void check(int rc, const struct err *err, const char *what)
{
    if (rc < 0)
        fail_msg("%s: %s", what, err->msg);
}

void harness_setup(void)
{
    struct err err;
    err_clear(&err);
    ndead = 0;
    memset(pids, 0, sizeof(pids));
    db = db_new(testlib_require_env("DATABASE_URL"));
    assert_non_null(db);
    check(db_exec(db, "DROP SCHEMA IF EXISTS probe CASCADE", 0, NULL, NULL, NULL, &err), &err,
          "drop probe");
    check(migrate_context(db, PROBE_MIGRATIONS, "probe", NULL, &err), &err, "migrate probe");
    db_set_schema(db, "probe");
    db_free(db);
    db = db_new(testlib_require_env("DATABASE_URL"));
    db_set_schema(db, "probe");

    publisher =
        bus_new(&(struct bus_config){.url = testlib_require_env("AMQP_URL"), .confirms = 1});
    dl_reader =
        bus_new(&(struct bus_config){.url = testlib_require_env("AMQP_URL"), .prefetch = 256});
    check(bus_connect(publisher, &err), &err, "connect publisher");
    check(bus_delete_queue(publisher, "probe.events", &err), &err, "delete probe.events");
    check(bus_delete_queue(publisher, "probe.dead-letter", &err), &err, "delete probe.dead-letter");
    const char *keys[] = {"probe.item.created", "probe.item.handled"};
    check(bus_declare_topology(publisher, "probe", keys, 2, &err), &err, "declare probe topology");
    check(bus_connect(dl_reader, &err), &err, "connect dead-letter reader");
    check(bus_consume(dl_reader, "probe.dead-letter", &err), &err, "consume probe.dead-letter");
}

void harness_teardown(void)
{
    for (int i = 0; i < HARNESS_SLOTS; i++)
        if (pids[i] > 0)
            harness_kill(i, SIGKILL);
    bus_free(publisher);
    bus_free(dl_reader);
    db_free(db);
    publisher = dl_reader = NULL;
    db = NULL;
}

pid_t harness_spawn(int slot, const char *const *extra_env)
{
    assert_true(slot >= 0 && slot < HARNESS_SLOTS);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char instance[32];
        snprintf(instance, sizeof(instance), "probe-%d", slot);
        setenv("INSTANCE_ID", instance, 1);
        setenv("HTTP_PORT", "0", 1);
        setenv("RETRY_BASE_MS", "50", 1);
        setenv("RETRY_MAX_MS", "200", 1);
        setenv("RETRY_MAX_ATTEMPTS", "5", 1);
        setenv("LEASE_MS", "1500", 1);
        setenv("LOG_LEVEL", getenv("PROBE_LOG_LEVEL") ? getenv("PROBE_LOG_LEVEL") : "warn", 1);
        for (; extra_env && *extra_env; extra_env++) {
            char kv[256];
            snprintf(kv, sizeof(kv), "%s", *extra_env);
            char *eq = strchr(kv, '=');
            if (eq) {
                *eq = '\0';
                setenv(kv, eq + 1, 1);
            }
        }
        /* An abort() in the probe must not leave a core file behind. */
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        execl(PROBE_BIN, PROBE_BIN, (char *)NULL);
        _exit(127);
    }
    pids[slot] = pid;
    return pid;
}

void harness_kill(int slot, int sig)
{
    if (pids[slot] <= 0)
        return;
    kill(pids[slot], sig);
    for (int waited = 0; waited < 20000; waited += 20) {
        if (waitpid(pids[slot], NULL, WNOHANG) == pids[slot]) {
            pids[slot] = 0;
            return;
        }
        testlib_sleep_ms(20);
    }
    kill(pids[slot], SIGKILL);
    waitpid(pids[slot], NULL, 0);
    pids[slot] = 0;
}

bool harness_alive(int slot)
{
    if (pids[slot] <= 0)
        return false;
    if (waitpid(pids[slot], NULL, WNOHANG) == pids[slot]) {
        pids[slot] = 0;
        return false;
    }
    return true;
}

bool harness_wait_exit(int slot, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        if (!harness_alive(slot))
            return true;
        testlib_sleep_ms(20);
    }
    return false;
}

struct db *harness_db(void)
{
    return db;
}

void harness_commit_item(const char *item, const char *behaviour, char id_out[UUID7_STR_LEN])
{
    struct err err;
    err_clear(&err);
    struct probe_item_created data = {0};
    snprintf(data.item, sizeof(data.item), "%s", item);
    snprintf(data.behaviour, sizeof(data.behaviour), "%s", behaviour ? behaviour : "");
    struct outbox_origin from = {db, NULL, NULL};
    check(db_begin(db, &err), &err, "begin");
    check(outbox_publish(&from, &PROBE_ITEM_CREATED, &data, sizeof(data), id_out, &err), &err,
          "outbox_publish");
    check(db_commit(db, &err), &err, "commit");
}

int harness_free_port(void)
{
    int port = testlib_free_port();
    assert_true(port > 0);
    return port;
}

int64_t harness_count(const char *sql, const char *p1)
{
    char out[32];
    harness_value(sql, p1, out, sizeof(out));
    return strtoll(out, NULL, 10);
}

void harness_value(const char *sql, const char *p1, char *out, size_t outlen)
{
    struct err err;
    err_clear(&err);
    const char *params[] = {p1};
    int rc = db_exec_value(db, sql, p1 ? 1 : 0, p1 ? params : NULL, out, outlen, &err);
    if (rc < 0) {
        /* One retry: the database may just have been restarted by the test. */
        rc = db_exec_value(db, sql, p1 ? 1 : 0, p1 ? params : NULL, out, outlen, &err);
    }
    check(rc, &err, sql);
}

int64_t harness_wait_count(const char *sql, const char *p1, int64_t want, int timeout_ms)
{
    int64_t n = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        n = harness_count(sql, p1);
        if (n == want)
            return n;
        testlib_sleep_ms(50);
    }
    return n;
}

void harness_publish_raw(const char *routing_key, const char *body, const char *message_id)
{
    struct err err;
    err_clear(&err);
    struct bus_message m = {
        .routing_key = routing_key,
        .body = body,
        .len = strlen(body),
        .message_id = message_id,
        .mandatory = 1,
    };
    if (!bus_connected(publisher))
        check(bus_connect(publisher, &err), &err, "reconnect publisher");
    check(bus_publish_sync(publisher, &m, 5000, &err), &err, "publish raw");
}

static void copy_header(const struct bus_delivery *d, const char *key, char *out, size_t outlen,
                        long long *int_out)
{
    const struct bus_delivery_header *h = bus_delivery_header(d, key);
    if (out)
        snprintf(out, outlen, "%s", h ? h->value : "");
    if (int_out)
        *int_out = h ? h->int_value : -1;
}

const struct harness_dead_letter *harness_dead_letters(int want, int timeout_ms, int *n)
{
    struct err err;
    err_clear(&err);
    int64_t deadline = testlib_now_ms() + timeout_ms;
    while (ndead < want && ndead < DEAD_LETTERS_MAX && testlib_now_ms() < deadline) {
        struct bus_delivery d;
        memset(&d, 0, sizeof(d));
        int got = bus_next(dl_reader, &d, 100, &err);
        check(got, &err, "read dead letters");
        if (got == 1) {
            struct harness_dead_letter *dl = &dead[ndead++];
            snprintf(dl->message_id, sizeof(dl->message_id), "%s", d.message_id);
            copy_header(&d, "x-error", dl->error, sizeof(dl->error), NULL);
            copy_header(&d, "x-original-routing-key", dl->original_routing_key,
                        sizeof(dl->original_routing_key), NULL);
            copy_header(&d, "x-attempts", NULL, 0, &dl->attempts);
            copy_header(&d, "x-poison", NULL, 0, &dl->poison);
            check(bus_ack(dl_reader, d.tag, 0, &err), &err, "ack dead letter");
            bus_delivery_release(&d);
        }
    }
    *n = ndead;
    return dead;
}

const struct harness_dead_letter *harness_dead_letter_find(const char *message_id)
{
    for (int i = 0; i < ndead; i++)
        if (strcmp(dead[i].message_id, message_id) == 0)
            return &dead[i];
    return NULL;
}
