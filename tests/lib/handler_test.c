/*
 * handler_test.c - the handler test harness (see handler_test.h). It runs on
 * consumer_handle_one, the consumer's own path minus the broker, so what a
 * test sees is what production does: same checks, same inbox claim, same
 * transaction around handler and outbox.
 */
#include "handler_test.h"

#include "testlib.h"

#include "common/config.h"
#include "common/consumer.h"
#include "common/db.h"
#include "common/envelope.h"
#include "common/migrate.h"
#include "common/outbox.h"
#include "common/trace.h"
#include "common/uuid7.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDLER_TEST_SCHEMA_MAX 64

struct handler_test {
    const struct service_def *def;
    char schema[HANDLER_TEST_SCHEMA_MAX];
    struct db *db;
    char *body;                  /* the last body delivered */
    char sent_id[UUID7_STR_LEN]; /* its id */
    char error[ERR_MSG_MAX];
    json_t *published; /* the CloudEvents the last delivery published */
};

static void require(int rc, const struct err *err, const char *what)
{
    if (rc < 0)
        fail_msg("handler_test: %s: %s", what, err->msg);
}

static struct db *connect_to(const char *schema)
{
    struct db *db = db_new(testlib_require_env("DATABASE_URL"));
    if (!db)
        fail_msg("handler_test: out of memory");
    db_set_application_name(db, "handler_test");
    if (schema)
        db_set_schema(db, schema);
    struct err err;
    err_clear(&err);
    require(db_connect(db, &err), &err, "connect");
    return db;
}

/* The context's own config keys get their defaults (and the environment's values). */
static void load_config(const struct service_def *def)
{
    if (!def->nconfig_keys)
        return;
    struct config_scope scope = {def->name, def->config_keys, def->nconfig_keys, def->config};
    char program[] = "handler_test";
    char *argv[] = {program, NULL};
    struct err err;
    err_clear(&err);
    require(config_load(&scope, 1, 1, argv, &err), &err, "config");
}

struct handler_test *handler_test_start_in(const struct service_def *def, const char *dir)
{
    struct handler_test *t = calloc(1, sizeof(*t));
    if (!t)
        fail_msg("handler_test: out of memory");
    t->def = def;
    testlib_unique_name(t->schema, sizeof(t->schema), def->name);
    struct db *admin = connect_to(NULL);
    struct err err;
    err_clear(&err);
    require(migrate_dir(admin, dir, t->schema, NULL, &err), &err, "migrate");
    db_free(admin);
    t->db = connect_to(t->schema);
    load_config(def);
    t->published = json_array();
    return t;
}

struct handler_test *handler_test_start(const struct service_def *def)
{
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/%s", HANDLER_TEST_MIGRATIONS, def->name);
    return handler_test_start_in(def, dir);
}

void handler_test_stop(struct handler_test *t)
{
    if (!t)
        return;
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", t->schema);
    struct err err;
    err_clear(&err);
    require(db_exec(t->db, sql, 0, NULL, NULL, NULL, &err), &err, "drop schema");
    db_free(t->db);
    json_decref(t->published);
    free(t->body);
    free(t);
}

int64_t handler_test_count(struct handler_test *t, const char *sql, const char *p1)
{
    const char *params[] = {p1};
    char value[32] = "";
    struct err err;
    err_clear(&err);
    require(db_exec_value(t->db, sql, p1 ? 1 : 0, p1 ? params : NULL, value, sizeof(value), &err),
            &err, sql);
    return strtoll(value, NULL, 10);
}

static int collect(void *ctx, const struct db_row *row, struct err *err)
{
    json_error_t je;
    json_t *ev = json_loads(db_row_text(row, 0), 0, &je);
    if (!ev || json_array_append_new((json_t *)ctx, ev))
        return err_set(err, ERR_NOMEM, "cannot keep a published event");
    return 0;
}

#define CAUSED_BY "SELECT payload::text FROM outbox WHERE causation_id = $1 ORDER BY id"

/*
 * Reads what the last delivery published (rows caused by it, past the
 * caused_before an earlier delivery of the same event wrote; ids are v7, so
 * newer rows sort last), and checks it was published the way handlers must.
 */
static void collect_published(struct handler_test *t, int64_t outbox_before, int64_t caused_before,
                              const char *correlation, const char *traceparent)
{
    json_array_clear(t->published);
    const char *params[] = {t->sent_id};
    struct err err;
    err_clear(&err);
    if (t->sent_id[0])
        require(db_exec(t->db, CAUSED_BY, 1, params, collect, t->published, &err), &err,
                "read the outbox");
    for (int64_t i = 0; i < caused_before; i++)
        json_array_remove(t->published, 0);
    int64_t added = handler_test_count(t, "SELECT count(*) FROM outbox", NULL) - outbox_before;
    if (added != (int64_t)json_array_size(t->published))
        fail_msg("handler_test: %lld events published, %zu of them caused by '%s': publish through "
                 "handler_publish or handler_origin(hc)",
                 (long long)added, json_array_size(t->published), t->sent_id);
    size_t i;
    json_t *ev;
    json_array_foreach(t->published, i, ev)
    {
        const char *cid = json_string_value(json_object_get(ev, "correlationid"));
        if (!cid || strcmp(cid, correlation) != 0)
            fail_msg("handler_test: '%s' published with correlation id '%s', not '%s'",
                     json_string_value(json_object_get(ev, "type")), cid ? cid : "", correlation);
        /* "00-<trace id>-<span id>-<flags>": the same trace, a span of its own. */
        const char *tp = json_string_value(json_object_get(ev, "traceparent"));
        if (traceparent[0] &&
            (!tp || strncmp(tp, traceparent, 36) != 0 || strcmp(tp, traceparent) == 0))
            fail_msg("handler_test: '%s' published with traceparent '%s', not a new span of '%s'",
                     json_string_value(json_object_get(ev, "type")), tp ? tp : "", traceparent);
    }
}

int handler_test_deliver(struct handler_test *t, const char *body)
{
    char *copy = strdup(body);
    if (!copy)
        fail_msg("handler_test: out of memory");
    free(t->body);
    t->body = copy;
    struct envelope ev;
    envelope_init(&ev);
    struct err err;
    err_clear(&err);
    char correlation[ENVELOPE_REF_MAX] = "";
    char traceparent[TRACE_PARENT_LEN] = "";
    t->sent_id[0] = '\0';
    if (envelope_parse(&ev, body, strlen(body), &err) == 0) {
        snprintf(t->sent_id, sizeof(t->sent_id), "%s", ev.id);
        snprintf(correlation, sizeof(correlation), "%s", ev.correlation_id);
        snprintf(traceparent, sizeof(traceparent), "%s", ev.traceparent);
    }
    envelope_release(&ev);
    int64_t before = handler_test_count(t, "SELECT count(*) FROM outbox", NULL);
    int64_t caused_before =
        t->sent_id[0] ? handler_test_count(t, "SELECT count(*) FROM outbox WHERE causation_id = $1",
                                           t->sent_id)
                      : 0;
    err_clear(&err);
    int rc = consumer_handle_one(t->db, t->def->name, t->def->subscriptions, t->def->nsubscriptions,
                                 t->def->app, body, strlen(body), &err);
    snprintf(t->error, sizeof(t->error), "%s", rc < 0 ? err.msg : "");
    collect_published(t, before, caused_before, correlation, traceparent);
    return rc;
}

int handler_test_redeliver(struct handler_test *t)
{
    if (!t->body)
        fail_msg("handler_test: nothing delivered yet");
    char *body = strdup(t->body);
    if (!body)
        fail_msg("handler_test: out of memory");
    int rc = handler_test_deliver(t, body);
    free(body);
    return rc;
}

int handler_test_send(struct handler_test *t, const struct contract_event *ev, const void *data,
                      size_t size)
{
    struct err err;
    err_clear(&err);
    json_t *json = NULL;
    require(contract_encode(ev, data, size, &json, &err), &err, "encode");
    char correlation[UUID7_STR_LEN];
    uuid7_generate(correlation);
    struct envelope env;
    envelope_init(&env);
    require(
        envelope_build(&env, ev->publisher, ev->type, ev->version, json, correlation, NULL, &err),
        &err, "build the event");
    struct trace_context trace; /* as an HTTP request would start it */
    char traceparent[TRACE_PARENT_LEN];
    trace_start(&trace);
    trace_format(&trace, traceparent);
    require(envelope_set_traceparent(&env, traceparent, &err), &err, "set the traceparent");
    char *body = envelope_serialize(&env, &err);
    envelope_release(&env);
    if (!body)
        fail_msg("handler_test: serialize: %s", err.msg);
    int rc = handler_test_deliver(t, body);
    free(body);
    return rc;
}

const char *handler_test_error(const struct handler_test *t)
{
    return t->error;
}

const char *handler_test_sent_id(const struct handler_test *t)
{
    return t->sent_id;
}

size_t handler_test_published(const struct handler_test *t, const struct contract_event *ev)
{
    size_t n = 0, i;
    json_t *e;
    json_array_foreach(t->published, i, e)
    {
        if (!ev || strcmp(json_string_value(json_object_get(e, "type")), ev->type) == 0)
            n++;
    }
    return n;
}

void handler_test_take(const struct handler_test *t, const struct contract_event *ev, size_t i,
                       void *out, size_t size)
{
    size_t k;
    json_t *e;
    json_array_foreach(t->published, k, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "type")), ev->type) != 0)
            continue;
        if (i-- > 0)
            continue;
        struct err err;
        err_clear(&err);
        require(contract_decode(ev, json_object_get(e, "data"), out, size, &err), &err,
                "decode a published event");
        return;
    }
    fail_msg("handler_test: no '%s' published (%zu events in all)", ev->type,
             json_array_size(t->published));
}

struct db *handler_test_db(struct handler_test *t)
{
    return t->db;
}
