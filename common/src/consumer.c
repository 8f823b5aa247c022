/*
 * consumer.c - the consumer thread: deliveries in, exactly-once effects out
 * (see consumer.h and the invariants I1-I4 in inbox.h).
 *
 * The thread alternates between the broker (bus_next, 200 ms at most, which
 * also services heartbeats) and two sweeps of the database every
 * CONSUMER_SWEEP_MS: failed messages whose retry is due, and dead messages
 * whose copy has not reached <context>.dead-letter yet. Every path ends in
 * exactly one of: ack (done, a duplicate, or the database owns it now) or
 * reject with requeue (the database was unreachable: nothing was decided).
 */
#include "common/consumer.h"

#include "link_state.h"
#include "steady.h"

#include "common/db.h"
#include "common/dead_letter.h"
#include "common/envelope.h"
#include "common/inbox.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/otlp.h"
#include "common/outbox.h"
#include "common/trace.h"
#include "common/uuid7.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CONSUMER_NAME_MAX             64
#define CONSUMER_SWEEP_MS             250 /* how often due retries and dead letters are looked for */
#define CONSUMER_SWEEP_BATCH          16  /* keeps a sweep well inside the heartbeat interval */
#define CONSUMER_NEXT_TIMEOUT_MS      200
#define CONSUMER_DEAD_LETTER_LEASE_MS 30000
#define CONSUMER_PUBLISH_TIMEOUT_MS   5000
#define CONSUMER_REQUEUE_PAUSE_MS     500 /* after giving a message back because the database is away */
#define CONSUMER_BATCH_MAX            32 /* deliveries at hand handled in one transaction, at most */

enum delivery_outcome {
    DELIVERY_ACK,
    DELIVERY_REQUEUE,
};

struct item;
struct consumer;
static void open_breaker(struct consumer *c);

/* run_handler's answer when the inbox row was finished by someone else meanwhile. */
#define HANDLED_ELSEWHERE 1

struct consumer {
    struct consumer_config cfg;
    char context[CONSUMER_NAME_MAX];
    char instance[CONSUMER_NAME_MAX];
    char queue[CONSUMER_NAME_MAX + 8];
    char *database_url;
    const char **binding_keys; /* the subscribed types, borrowed from the contracts */

    pthread_t thread;
    atomic_bool stopping;
    struct link_state db_link;
    struct link_state bus_link;
    bool consuming;

    struct db *db;       /* handler transactions and failure records: synchronous commits */
    struct db *start_db; /* start records and leases: asynchronous commits (I3) */
    struct bus *bus;     /* consuming */
    struct bus *dl_bus;  /* publishing dead letters, with confirms */
    int64_t last_sweep_ms;
    uint32_t rng;
    int transient_streak;            /* handler failures in a row, each transient (breaker) */
    int breaker_pause_ms;            /* the next pause when the breaker opens */
    _Atomic int64_t paused_until_ms; /* breaker open until this monotonic time; 0 = closed */
    struct metrics_gauge *breaker_gauge;
    struct item *items; /* CONSUMER_BATCH_MAX deliveries in hand */
    size_t batch_max;   /* min(CONSUMER_BATCH_MAX, prefetch) */

    struct metrics_counter *duplicates;
    struct metrics_counter *dead_poison;
    struct metrics_counter *dead_failed;
    struct metrics_histogram *handler_seconds;
    struct metrics_histogram *critical_seconds;
};

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t next_random(struct consumer *c)
{
    uint32_t x = c->rng; /* xorshift32: jitter needs spread, not secrecy */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return c->rng = x;
}

static void count(const char *name, const char *help, const char *type)
{
    char labels[METRICS_LABELS_MAX];
    metrics_label(labels, sizeof(labels), "type", type);
    metrics_counter_inc(metrics_counter(name, help, labels));
}

/*
 * The database link goes down only for an outage (db_error_is_outage): a
 * statement the server refused says nothing about the link, and taking it
 * down would keep the consumer off its queue and /health at 503 for as long
 * as one bad message keeps coming back (SPEC §4, Poison).
 */
static void set_db_state(struct consumer *c, bool up, const struct err *err)
{
    if (!up && !db_error_is_outage(err))
        return;
    if (!up && link_failed(&c->db_link, steady_now_ms()))
        log_warn("consumer cannot reach the database (retrying): %s", err->msg);
    else if (up && link_ok(&c->db_link))
        log_info("consumer reached the database");
}

const struct subscription *subscription_find(const struct subscription *subs, size_t n,
                                             const char *type)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(subs[i].event->type, type) == 0)
            return &subs[i];
    return NULL;
}

const struct outbox_origin *handler_origin(struct handler_ctx *hc)
{
    hc->origin = (struct outbox_origin){hc->db, hc->ev->correlation_id, hc->ev->id};
    return &hc->origin;
}

int handler_decode(struct handler_ctx *hc, void *data, size_t size, struct err *err)
{
    /*
     * Every path to a handler has validated the data against hc->event: a delivery
     * in prepare() or check_event(), a stored retry in sweep_retries().
     */
    return contract_decode_valid(hc->event, hc->ev->data, data, size, err);
}

int handler_publish(struct handler_ctx *hc, const struct contract_event *ev, const void *data,
                    size_t size, struct err *err)
{
    return outbox_publish(handler_origin(hc), ev, data, size, NULL, err);
}

/* ---- dead letters ----------------------------------------------------------- */

static int ensure_dl_bus(struct consumer *c, struct err *err)
{
    if (bus_connected(c->dl_bus))
        return 0;
    int rc = bus_connect(c->dl_bus, err);
    if (rc)
        bus_disconnect(c->dl_bus);
    return rc;
}

/*
 * Publishes one copy to the dead-letter exchange, routed to
 * <context>.dead-letter, with the headers that say why (SPEC §3), and waits
 * for the broker's confirm.
 */
static int publish_dead_letter(struct consumer *c, const char *id, const char *body, size_t len,
                               long long body_size, const char *routing_key, const char *reason,
                               int attempts, int poison, struct err *err)
{
    int rc = ensure_dl_bus(c, err);
    if (rc)
        return rc;
    char fresh_id[UUID7_STR_LEN];
    if (!id || !*id) {
        uuid7_generate(fresh_id);
        id = fresh_id;
    }
    char reason_clip[BUS_HEADER_VALUE_LEN], key_clip[BUS_HEADER_VALUE_LEN];
    log_sanitize_utf8(reason_clip, sizeof(reason_clip), reason);
    log_sanitize_utf8(key_clip, sizeof(key_clip), routing_key);
    const struct bus_header headers[] = {
        {.key = "x-error", .value = reason_clip},
        {.key = "x-attempts", .int_value = attempts, .is_int = 1},
        {.key = "x-original-routing-key", .value = key_clip},
        {.key = "x-consumer", .value = c->context},
        {.key = "x-poison", .int_value = poison, .is_int = 1},
        {.key = "x-body-size",
         .int_value = body_size,
         .is_int = 1}, /* above len: the copy was cut */
    };
    struct bus_message m = {
        .exchange = c->cfg.bus.dead_letter_exchange,
        .routing_key = c->context,
        .body = body,
        .len = len,
        .message_id = id,
        .app_id = c->context,
        .timestamp = (int64_t)time(NULL),
        .headers = headers,
        .nheaders = sizeof(headers) / sizeof(headers[0]),
        .mandatory = 1,
    };
    rc = bus_publish_sync(c->dl_bus, &m, CONSUMER_PUBLISH_TIMEOUT_MS, err);
    if (rc && !bus_connected(c->dl_bus))
        bus_disconnect(c->dl_bus);
    return rc;
}

/* The AMQP properties and headers of d as a JSON object (new text, or NULL when out of memory). */
static char *delivery_headers_json(const struct bus_delivery *d)
{
    json_t *o = json_object(), *h = json_object();
    char text[BUS_HEADER_VALUE_LEN];
#define PROP(name, value)                                                                          \
    do {                                                                                           \
        log_sanitize_utf8(text, sizeof(text), value);                                              \
        json_object_set_new(o, name, json_string(text));                                           \
    } while (0)
    PROP("exchange", d->exchange);
    PROP("message_id", d->message_id);
    PROP("type", d->type);
    PROP("correlation_id", d->correlation_id);
    PROP("app_id", d->app_id);
    PROP("content_type", d->content_type);
#undef PROP
    json_object_set_new(o, "delivery_mode", json_integer(d->delivery_mode));
    json_object_set_new(o, "timestamp", json_integer(d->timestamp));
    json_object_set_new(o, "redelivered", json_boolean(d->redelivered));
    for (size_t i = 0; i < d->nheaders; i++) {
        char key[BUS_HEADER_KEY_LEN];
        log_sanitize_utf8(key, sizeof(key), d->headers[i].key);
        log_sanitize_utf8(text, sizeof(text), d->headers[i].value);
        json_object_set_new(h, key,
                            d->headers[i].is_int ? json_integer(d->headers[i].int_value)
                                                 : json_string(text));
    }
    json_object_set_new(o, "headers", h);
    char *out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

/*
 * Poison is never retried and never enters the inbox: recorded in the
 * dead_letter table (D1: committed before the ack, so a crash in between
 * brings back a letter already recorded), then acked. Its copy reaches
 * <context>.dead-letter from the record (sweep_dead_letters), so a body too
 * large to republish, or a broker refusing the copy, still leaves the queue.
 * ev is the envelope when the body had a readable one, else NULL.
 */
static enum delivery_outcome poison(struct consumer *c, const struct bus_delivery *d,
                                    const struct envelope *ev, const char *reason)
{
    struct log_fields f = {.event_id = d->message_id,
                           .type = d->routing_key,
                           .correlation_id = d->correlation_id,
                           .error = "poison"};
    struct err err;
    err_clear(&err);
    char *headers = delivery_headers_json(d);
    struct dead_letter dl = {
        .message_id = d->message_id,
        .routing_key = d->routing_key,
        .type = ev && *ev->type ? ev->type : NULL,
        .correlation_id = ev && *ev->correlation_id ? ev->correlation_id : NULL,
        .headers_json = headers,
        .body = d->body,
        .len = d->len,
        .reason = reason,
    };
    int rc = dead_letter_record(c->db, &dl, &err);
    free(headers);
    if (rc < 0) {
        set_db_state(c, false, &err);
        log_write(LOG_LEVEL_WARN, &f, "poison message kept in the queue: recording it failed: %s",
                  err.msg);
        return DELIVERY_REQUEUE;
    }
    if (rc == 1) {
        metrics_counter_inc(c->dead_poison);
        log_write(LOG_LEVEL_WARN, &f, "poison message dead-lettered: %s", reason);
    } else {
        log_write(LOG_LEVEL_INFO, &f, "poison message delivered again, recorded already");
    }
    return DELIVERY_ACK;
}

/* Sends the copies of recorded poison that have not reached the dead-letter queue yet (D3). */
static void sweep_poison_copies(struct consumer *c)
{
    struct dead_letter_copy rows[CONSUMER_SWEEP_BATCH];
    size_t n = 0;
    struct err err;
    err_clear(&err);
    if (dead_letter_claim_copies(c->start_db, CONSUMER_SWEEP_BATCH, CONSUMER_DEAD_LETTER_LEASE_MS,
                                 rows, &n, &err) != 0) {
        set_db_state(c, false, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (publish_dead_letter(c, rows[i].message_id, rows[i].body, rows[i].len, rows[i].body_size,
                                rows[i].routing_key, rows[i].reason, rows[i].attempts, 1,
                                &err) != 0) {
            log_warn("copy of dead letter %lld not published yet (retried in %d s): %s",
                     (long long)rows[i].id, CONSUMER_DEAD_LETTER_LEASE_MS / 1000, err.msg);
            break; /* the rest keep their lease and come back later */
        }
        if (dead_letter_mark_copied(c->db, rows[i].id, &err) != 0)
            log_warn("copy of dead letter %lld published but not recorded (it may be published "
                     "twice): %s",
                     (long long)rows[i].id, err.msg);
    }
    dead_letter_copies_release(rows, n);
}

/* Sends the copies of dead messages that have not reached the dead-letter queue yet. */
static void sweep_dead_letters(struct consumer *c)
{
    /* rabbitmq-c answers heartbeats only inside its calls: keep the idle publisher alive. */
    struct err hb;
    if (bus_connected(c->dl_bus) && bus_wait_confirms(c->dl_bus, 0, NULL, NULL, &hb) != 0 &&
        !bus_connected(c->dl_bus))
        bus_disconnect(c->dl_bus);

    struct inbox_row rows[CONSUMER_SWEEP_BATCH];
    size_t n = 0;
    struct err err;
    err_clear(&err);
    if (inbox_claim_dead_letters(c->start_db, c->context, CONSUMER_SWEEP_BATCH,
                                 CONSUMER_DEAD_LETTER_LEASE_MS, rows, &n, &err) != 0) {
        set_db_state(c, false, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(rows[i].payload);
        if (publish_dead_letter(c, rows[i].id, rows[i].payload, len, (long long)len, rows[i].type,
                                rows[i].last_error ? rows[i].last_error : "dead", rows[i].attempts,
                                0, &err) != 0) {
            log_warn("dead letter '%s' not published yet (retried in %d s): %s", rows[i].id,
                     CONSUMER_DEAD_LETTER_LEASE_MS / 1000, err.msg);
            break; /* the rest keep their lease and come back later */
        }
        if (inbox_mark_dead_lettered(c->db, rows[i].id, c->context, &err) != 0)
            log_warn("dead letter '%s' published but not recorded (it may be published twice): %s",
                     rows[i].id, err.msg);
    }
    inbox_rows_release(rows, n);
    sweep_poison_copies(c);
}

/* ---- handling ----------------------------------------------------------------- */

/*
 * One delivery's part of a handler transaction (I1, I2): claim the inbox row,
 * run the handler, mark processed. A first delivery (expected == NULL) claims
 * by inserting the row as processed (inbox_claim_first); a redelivery or a
 * retry locks the row it recorded and expects in that status. Returns 0,
 * HANDLED_ELSEWHERE when the event was handled by another transaction
 * meanwhile (nothing written), or a negative code with err filled (the
 * caller rolls back).
 */
static int handle_in_transaction(struct consumer *c, const struct subscription *sub,
                                 const struct envelope *ev, const char *payload,
                                 const char *expected, int attempt, struct err *err)
{
    int rc = expected ? inbox_lock(c->db, ev->id, c->context, expected, err)
                      : inbox_claim_first(c->db, ev, payload, c->context, err);
    if (rc <= 0)
        return rc < 0 ? rc : HANDLED_ELSEWHERE;
    /*
     * The handling is a span of the event's trace: what the handler writes
     * continues it. A delivery's span is made by prepare() and current here;
     * a retry from the database makes its own.
     */
    bool own_span = trace_current() == NULL;
    struct trace_context span;
    if (own_span)
        trace_begin(ev->traceparent, &span);
    struct handler_ctx hc = {.db = c->db,
                             .ev = ev,
                             .event = sub->event,
                             .context = c->context,
                             .app = c->cfg.app,
                             .attempt = attempt};
    rc = sub->handler(&hc, err);
    if (own_span)
        trace_set_current(NULL);
    if (rc > 0)
        rc = err_set(err, ERR_INTERNAL, "handler returned %d, not an error code", rc);
    if (rc == 0 && expected)
        rc = inbox_mark_processed(c->db, ev->id, c->context, err);
    return rc;
}

/* The checks prepare() makes of a delivery's event, for consumer_handle_one. */
static const struct subscription *check_event(const struct envelope *ev,
                                              const struct subscription *subs, size_t nsubs,
                                              struct err *err)
{
    const struct subscription *sub = subscription_find(subs, nsubs, ev->type);
    if (!sub)
        err_set(err, ERR_INVALID, "unknown event type '%s'", ev->type);
    else if (ev->version != sub->event->version)
        err_set(err, ERR_INVALID, "unknown version %d of '%s'", ev->version, ev->type);
    else if (strcmp(envelope_context(ev), sub->event->publisher) != 0)
        err_set(err, ERR_INVALID, "source '%s' does not publish '%s'", ev->source, ev->type);
    else if (contract_validate(sub->event, ev->data, err) == 0)
        return sub;
    return NULL;
}

int consumer_handle_one(struct db *db, const char *context, const struct subscription *subs,
                        size_t nsubs, void *app, const char *body, size_t len, struct err *err)
{
    struct envelope ev;
    envelope_init(&ev);
    int rc = envelope_parse(&ev, body, len, err);
    const struct subscription *sub = rc ? NULL : check_event(&ev, subs, nsubs, err);
    if (rc == 0 && !sub)
        rc = err->code;
    struct consumer c = {0}; /* what handle_in_transaction reads: db, context, app */
    c.db = db;
    c.cfg.app = app;
    snprintf(c.context, sizeof(c.context), "%s", context);
    if (sub && (rc = db_begin(db, err)) == 0) {
        rc = handle_in_transaction(&c, sub, &ev, body, NULL, 1, err);
        if (rc == 0)
            rc = db_commit(db, err);
        else
            db_rollback(db);
    }
    envelope_release(&ev);
    return rc == HANDLED_ELSEWHERE ? CONSUMER_DUPLICATE : rc;
}

static void observe_handled(struct consumer *c, const struct envelope *ev, int64_t t0)
{
    metrics_histogram_observe(c->handler_seconds, (double)(steady_now_ms() - t0) / 1000.0);
    long long sent_us = envelope_time_parse_us(ev->time);
    if (sent_us > 0)
        metrics_histogram_observe(c->critical_seconds, wall_seconds() - (double)sent_us / 1e6);
}

/*
 * One delivery in a transaction of its own: begin, handle_in_transaction,
 * commit (or roll back). Returns as handle_in_transaction.
 */
static int run_handler(struct consumer *c, const struct subscription *sub,
                       const struct envelope *ev, const char *payload, const char *expected,
                       int attempt, struct err *err)
{
    int64_t t0 = steady_now_ms();
    int rc = db_begin(c->db, err);
    if (rc)
        return rc;
    rc = handle_in_transaction(c, sub, ev, payload, expected, attempt, err);
    if (rc == 0)
        rc = db_commit(c->db, err);
    else
        db_rollback(c->db);
    if (rc == 0)
        observe_handled(c, ev, t0);
    return rc;
}

/*
 * True when the database refused a statement because of what the message
 * holds (a number jsonb cannot store, a text it cannot take, a limit), as
 * opposed to an outage or a statement-level transient failure (a deadlock),
 * which are tried again: that message can only be poison.
 */
static bool refused_content(const struct err *err)
{
    return !db_error_is_outage(err) && err->code != ERR_TRANSIENT && err->code != ERR_NOMEM;
}

/*
 * Records the outcome of a handler run that did not succeed: a retry from the
 * database after a backoff (I4), or dead. Returns 0 when recorded (ack), or
 * a negative code with *err filled when the database did not take it.
 */
static int settle_failure(struct consumer *c, const struct envelope *ev, const char *payload,
                          int attempts, int code, const char *message, struct err *out)
{
    struct err err;
    err_clear(&err);
    char reason[INBOX_ERROR_MAX];
    snprintf(reason, sizeof(reason), "%s: %s", err_name(code), message);
    enum err_disposition d = err_disposition(code);
    int rc;
    if (d == ERR_RETRY && !retry_exhausted(&c->cfg.retry, attempts)) {
        int64_t delay = retry_delay_ms(&c->cfg.retry, attempts, next_random(c));
        rc = inbox_mark_failed(c->db, ev, payload, c->context, attempts, reason, delay, &err);
        if (rc == 0) {
            count("events_retried_total", "handler failures scheduled for another attempt",
                  ev->type);
            log_warn_ev(ev, "attempt %d failed, retry in %lld ms: %s", attempts, (long long)delay,
                        reason);
        }
    } else {
        char why[INBOX_ERROR_MAX + 64]; /* inbox_mark_dead clips it to INBOX_ERROR_MAX */
        if (d == ERR_RETRY)
            snprintf(why, sizeof(why), "gave up after %d attempts: %s", attempts, reason);
        else
            snprintf(why, sizeof(why), "%s", reason);
        rc = inbox_mark_dead(c->db, ev, payload, c->context, attempts, why, &err);
        if (rc == 0) {
            metrics_counter_inc(c->dead_failed);
            log_error_ev(ev, "dead-lettered: %s", why);
        }
    }
    if (rc) {
        set_db_state(c, false, &err);
        if (!refused_content(&err))
            log_warn_ev(ev, "could not record the failure (the message will come back): %s",
                        err.msg);
    }
    if (out)
        *out = err;
    return rc;
}

/*
 * After a database step failed for a delivery: an outage or a transient
 * refusal gives the message back (nothing was decided); a refusal of its
 * content makes it poison, so it can never wedge the consumer.
 */
static enum delivery_outcome database_refused(struct consumer *c, const struct bus_delivery *d,
                                              const struct envelope *ev, const struct err *err)
{
    if (!refused_content(err))
        return DELIVERY_REQUEUE;
    char reason[ERR_MSG_MAX + 64];
    snprintf(reason, sizeof(reason), "the database refused the message: %s", err->msg);
    return poison(c, d, ev, reason);
}

/*
 * One delivery of a batch, from bus_next to its ack. The consumer takes
 * whatever deliveries are already at hand (up to CONSUMER_BATCH_MAX, never
 * waiting for more), checks each (prepare), runs the runnable ones in one
 * transaction, each under its own savepoint (run_batch), and acks each after
 * the commit (finish). One commit and one WAL flush then carry many
 * deliveries, and a hot row takes many updates per commit; a delivery that
 * fails is rolled back to its savepoint and settled alone (SPEC §4, Inbox).
 */
struct item {
    struct bus_delivery d;
    struct envelope ev;
    const struct subscription *sub;
    const char *expected; /* NULL: a first delivery; "processing": a redelivery */
    int attempts;
    bool run; /* runs in the batch transaction; otherwise out is decided */
    int rc;   /* after the run: 0, HANDLED_ELSEWHERE or a negative code in err */
    struct err err;
    int64_t t0;
    enum delivery_outcome out;
    struct trace_context span; /* its handling, a child of the event's traceparent */
    int64_t span_start_ns;
};

/*
 * Checks one delivery: poison is recorded, a redelivery's start is counted
 * (I3), a duplicate or an exhausted message is settled. Leaves it->run true
 * when the handler is to run, else it->out holds the decision.
 */
static void prepare(struct consumer *c, struct item *it)
{
    struct bus_delivery *d = &it->d;
    struct envelope *ev = &it->ev;
    envelope_init(ev);
    struct err err;
    err_clear(&err);
    it->run = false;
    it->out = DELIVERY_ACK;
    const struct subscription *sub = NULL;
    char reason[ERR_MSG_MAX + 2 * ENVELOPE_TYPE_MAX + 64];

    if (envelope_parse(ev, d->body, d->len, &err) != 0) {
        it->out = poison(c, d, NULL, err.msg);
        return;
    }
    trace_begin(ev->traceparent, &it->span); /* log lines from here on carry its trace */
    it->span_start_ns = otlp_now_ns();
    if (!(sub = subscription_find(c->cfg.subscriptions, c->cfg.nsubscriptions, ev->type))) {
        snprintf(reason, sizeof(reason), "unknown event type '%s'", ev->type);
        it->out = poison(c, d, ev, reason);
        return;
    }
    if (ev->version != sub->event->version) {
        snprintf(reason, sizeof(reason), "unknown version %d of '%s' (this consumer knows %d)",
                 ev->version, ev->type, sub->event->version);
        it->out = poison(c, d, ev, reason);
        return;
    }
    /*
     * The broker's permissions check the routing key (a context may publish
     * only its own), not the body: a body must be what its routing key says,
     * from the context that publishes that type, or any context could speak
     * for another (a payment.payment.succeeded body under its own key). A
     * message put straight into our queue through the default exchange (an
     * operator's re-injection: context users have no write permission on it)
     * carries the queue's name as its key instead.
     */
    bool reinjected = d->exchange[0] == '\0' && strcmp(d->routing_key, c->queue) == 0;
    if (!reinjected && strcmp(d->routing_key, ev->type) != 0) {
        char key[ENVELOPE_TYPE_MAX + 1];
        log_sanitize_utf8(key, sizeof(key), d->routing_key);
        snprintf(reason, sizeof(reason), "routing key '%s' is not the event's type '%s'", key,
                 ev->type);
        it->out = poison(c, d, ev, reason);
        return;
    }
    if (strcmp(envelope_context(ev), sub->event->publisher) != 0) {
        snprintf(reason, sizeof(reason),
                 "source '%s' does not publish '%s' (its publisher is '%s')", ev->source, ev->type,
                 sub->event->publisher);
        it->out = poison(c, d, ev, reason);
        return;
    }
    if (contract_validate(sub->event, ev->data, &err) != 0) {
        snprintf(reason, sizeof(reason), "data breaks the contract of '%s': %s", ev->type, err.msg);
        it->out = poison(c, d, ev, reason);
        return;
    }

    /*
     * A first delivery runs at once: its start needs no record of its own
     * (inbox_claim_first). A redelivery may be the one that killed us, so its
     * start is recorded, committed, before the handler runs again (I3).
     */
    it->attempts = 1;
    it->expected = NULL;
    int start = d->redelivered ? inbox_record_start(c->start_db, ev, d->body, c->context,
                                                    c->cfg.retry.max_attempts, &it->attempts, &err)
                               : INBOX_RUN;
    if (d->redelivered)
        it->expected = "processing";
    if (start < 0) {
        set_db_state(c, false, &err);
        it->out = database_refused(c, d, ev, &err);
        return;
    }
    if (start == INBOX_DUPLICATE) {
        metrics_counter_inc(c->duplicates);
        log_debug_ev(ev, "duplicate delivery ignored");
        return;
    }
    if (start == INBOX_EXHAUSTED) {
        /* Started too often without finishing: it kills us (I3). Do not run it again. */
        snprintf(reason, sizeof(reason),
                 "handler started %d times without finishing (the process died)", it->attempts - 1);
        if (settle_failure(c, ev, d->body, it->attempts - 1, ERR_INTERNAL, reason, &err) != 0)
            it->out = database_refused(c, d, ev, &err);
        return;
    }
    it->sub = sub;
    it->run = true;
}

/* A failure that says only that another transaction held what this one needed. */
static bool contended(const struct err *err)
{
    return err->code == ERR_TRANSIENT &&
           (strcmp(err->sqlstate, "40P01") == 0 || strcmp(err->sqlstate, "40001") == 0 ||
            strcmp(err->sqlstate, "55P03") == 0);
}

/* After the run (and its commit): the outcome of one runnable delivery. */
static void finish(struct consumer *c, struct item *it)
{
    trace_set_current(&it->span);
    if (it->rc == 0 || it->rc == HANDLED_ELSEWHERE)
        set_db_state(c, true, NULL);
    /* The breaker counts what says "a dependency is out": transient handler failures in a row. */
    if (it->rc == 0)
        c->transient_streak = 0;
    else if (it->rc == ERR_TRANSIENT && !contended(&it->err) && !db_error_is_outage(&it->err))
        c->transient_streak++;
    if (it->rc == 0) {
        if (it->t0 >= 0) /* -1: run_handler observed it */
            observe_handled(c, &it->ev, it->t0);
        count("events_consumed_total", "integration events handled (committed)", it->ev.type);
        log_debug_ev(&it->ev, "handled");
        if (c->cfg.hooks && c->cfg.hooks->after_commit)
            c->cfg.hooks->after_commit(c->cfg.app, &it->ev);
    } else if (it->rc == HANDLED_ELSEWHERE) {
        metrics_counter_inc(c->duplicates);
    } else if (settle_failure(c, &it->ev, it->d.body, it->attempts, it->rc, it->err.msg,
                              &it->err) != 0) {
        it->out = database_refused(c, &it->d, &it->ev, &it->err);
    }
    otlp_consumer_span(&it->span, it->span_start_ns, c->queue, it->ev.type, it->ev.id,
                       it->rc == 0 || it->rc == HANDLED_ELSEWHERE);
    trace_set_current(NULL);
}

/* One runnable delivery in a transaction of its own, as its own trace span. */
static void run_alone(struct consumer *c, struct item *it)
{
    it->t0 = steady_now_ms();
    err_clear(&it->err);
    trace_set_current(&it->span);
    it->rc = run_handler(c, it->sub, &it->ev, it->d.body, it->expected, it->attempts, &it->err);
    trace_set_current(NULL);
    if (it->rc == 0)
        it->t0 = -1; /* observed by run_handler */
}

/*
 * After the batch committed: a delivery that lost a deadlock or a
 * serialization conflict to another transaction (its batch held rows in
 * another order) is run again at once, alone, instead of waiting a retry
 * backoff: the conflict was the batch's, not the message's.
 */
static void rerun_contended(struct consumer *c, struct item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].run && items[i].rc < 0 && contended(&items[i].err)) {
            run_alone(c, &items[i]);
        }
}

/* Every runnable delivery of the batch fails with err (the transaction is gone). */
static void fail_all(struct item *items, size_t n, const struct err *err)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].run) {
            items[i].rc = err->code ? err->code : ERR_INTERNAL;
            items[i].err = *err;
        }
}

/*
 * Runs the runnable deliveries of items in one transaction, each under a
 * savepoint: a failing one is rolled back to it and the others go on. When
 * the transaction itself fails, every one of them fails with that error
 * (an outage gives them back; anything else is retried one by one).
 */
static void run_batch(struct consumer *c, struct item *items, size_t n)
{
    size_t nrun = 0;
    for (size_t i = 0; i < n; i++)
        nrun += items[i].run;
    if (nrun == 1) { /* alone: no savepoint needed */
        for (size_t i = 0; i < n; i++)
            if (items[i].run) {
                run_alone(c, &items[i]);
            }
        return;
    }
    if (nrun == 0)
        return;
    struct err err;
    err_clear(&err);
    if (db_begin(c->db, &err) != 0) {
        fail_all(items, n, &err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct item *it = &items[i];
        if (!it->run)
            continue;
        it->t0 = steady_now_ms();
        err_clear(&it->err);
        if (db_savepoint(c->db, &err) < 0)
            goto failed;
        trace_set_current(&it->span);
        it->rc = handle_in_transaction(c, it->sub, &it->ev, it->d.body, it->expected, it->attempts,
                                       &it->err);
        trace_set_current(NULL);
        if (it->rc < 0 && db_rollback_to_savepoint(c->db, &err) < 0)
            goto failed;
    }
    if (db_commit(c->db, &err) == 0) {
        rerun_contended(c, items, n);
        return;
    }
    if (!db_error_is_outage(&err)) {
        /* Not an outage, yet the commit failed: take them one by one, each decides alone. */
        for (size_t i = 0; i < n; i++)
            if (items[i].run) {
                run_alone(c, &items[i]);
            }
        return;
    }
    fail_all(items, n, &err);
    return;
failed:
    db_rollback(c->db);
    fail_all(items, n, &err);
}

static void handle_batch(struct consumer *c, struct item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        prepare(c, &items[i]);
        trace_set_current(NULL);
    }
    run_batch(c, items, n);
    for (size_t i = 0; i < n; i++)
        if (items[i].run)
            finish(c, &items[i]);
}

/* Runs the retries whose time has come, from the stored payload (I4). */
static void sweep_retries(struct consumer *c)
{
    struct inbox_row rows[CONSUMER_SWEEP_BATCH];
    size_t n = 0;
    struct err err;
    err_clear(&err);
    int lease = c->cfg.lease_ms > 0 ? c->cfg.lease_ms : 30000;
    /* Never claim (and count a start of) more retries than may fail before the breaker opens. */
    int max = CONSUMER_SWEEP_BATCH;
    if (c->cfg.breaker_threshold > 0 && c->cfg.breaker_threshold - c->transient_streak < max)
        max = c->cfg.breaker_threshold - c->transient_streak > 0
                  ? c->cfg.breaker_threshold - c->transient_streak
                  : 1;
    if (inbox_claim_due(c->start_db, c->context, max, lease, rows, &n, &err) != 0) {
        set_db_state(c, false, &err);
        return;
    }
    set_db_state(c, true, NULL);
    for (size_t i = 0; i < n && !atomic_load(&c->stopping); i++) {
        struct envelope ev;
        envelope_init(&ev);
        const struct subscription *sub = NULL;
        char reason[INBOX_ERROR_MAX + 64];
        if (envelope_parse(&ev, rows[i].payload, strlen(rows[i].payload), &err) != 0 ||
            !(sub = subscription_find(c->cfg.subscriptions, c->cfg.nsubscriptions, ev.type))) {
            snprintf(reason, sizeof(reason), "stored event '%.36s' has no handler any more",
                     rows[i].id);
            err_clear(&err);
            if (inbox_mark_unhandled_dead(c->db, rows[i].id, c->context, reason, &err) != 0)
                log_warn("could not mark '%s' dead: %s", rows[i].id, err.msg);
            else
                log_error("dead-lettered: %s", reason);
        } else if (rows[i].attempts > c->cfg.retry.max_attempts) {
            snprintf(reason, sizeof(reason),
                     "retry started %d times without finishing; last error: %s",
                     rows[i].attempts - 1, rows[i].last_error ? rows[i].last_error : "none");
            settle_failure(c, &ev, rows[i].payload, rows[i].attempts - 1, ERR_INTERNAL, reason,
                           NULL);
        } else if (contract_validate(sub->event, ev.data, &err) != 0) {
            /* Stored data is validated as a delivery's is (an operator may have edited it). */
            snprintf(reason, sizeof(reason), "data breaks the contract of '%s': %s", ev.type,
                     err.msg);
            settle_failure(c, &ev, rows[i].payload, rows[i].attempts, ERR_INVALID, reason, NULL);
        } else {
            int rc = run_handler(c, sub, &ev, rows[i].payload, "failed", rows[i].attempts, &err);
            if (rc == 0) {
                c->transient_streak = 0;
                count("events_consumed_total", "integration events handled (committed)", ev.type);
                log_info_ev(&ev, "handled on attempt %d", rows[i].attempts);
            } else if (rc != HANDLED_ELSEWHERE) {
                if (rc == ERR_TRANSIENT && !contended(&err) && !db_error_is_outage(&err))
                    c->transient_streak++;
                settle_failure(c, &ev, rows[i].payload, rows[i].attempts, rc, err.msg, NULL);
                if (c->cfg.breaker_threshold > 0 && c->transient_streak >= c->cfg.breaker_threshold)
                    open_breaker(c);
            }
        }
        envelope_release(&ev);
    }
    inbox_rows_release(rows, n);
}

/* ---- the thread ------------------------------------------------------------------ */

static int ensure_consuming(struct consumer *c)
{
    if (c->consuming && bus_connected(c->bus))
        return 0;
    struct err err;
    err_clear(&err);
    c->consuming = false;
    if (bus_connect(c->bus, &err) == 0 &&
        bus_declare_topology(c->bus, c->context, c->binding_keys, c->cfg.nsubscriptions, &err) ==
            0 &&
        bus_consume(c->bus, c->queue, &err) == 0) {
        c->consuming = true;
        link_ok(&c->bus_link);
        log_info("consuming '%s' (%zu event types)", c->queue, c->cfg.nsubscriptions);
        return 0;
    }
    if (link_failed(&c->bus_link, steady_now_ms()))
        log_warn("consumer cannot reach the broker (retrying): %s", err.msg);
    bus_disconnect(c->bus);
    return -1;
}

/*
 * The breaker opens: off the queue (the deliveries we were given but had not
 * taken go back, unstarted) and no retries from the database until the pause
 * is over; then the next batch is the probe. Each opening doubles the pause.
 */
static void open_breaker(struct consumer *c)
{
    int pause = c->breaker_pause_ms;
    int max = c->cfg.breaker_pause_max_ms > 0 ? c->cfg.breaker_pause_max_ms : 30000;
    c->breaker_pause_ms = pause * 2 < max ? pause * 2 : max;
    atomic_store(&c->paused_until_ms, steady_now_ms() + pause);
    c->transient_streak = 0;
    c->consuming = false;
    bus_disconnect(c->bus);
    metrics_gauge_set(c->breaker_gauge, 1);
    log_warn("consumer paused for %d ms: %d handler failures in a row said a dependency is out",
             pause, c->cfg.breaker_threshold);
}

/* The pause is over: the next batch probes; one success closes the breaker for good. */
static bool breaker_holds(struct consumer *c)
{
    int64_t until = atomic_load(&c->paused_until_ms);
    if (until == 0)
        return false;
    if (steady_now_ms() < until)
        return true;
    atomic_store(&c->paused_until_ms, 0);
    metrics_gauge_set(c->breaker_gauge, 0);
    log_info("consumer resumes after its pause: the next deliveries probe the dependency");
    return false;
}

bool consumer_paused(const struct consumer *c)
{
    int64_t until = atomic_load(&c->paused_until_ms);
    return until != 0 && steady_now_ms() < until;
}

/*
 * Waits for a delivery, takes what else is already at hand (never waiting
 * for more), handles them as one batch and acks or gives back each.
 */
static void consume_some(struct consumer *c)
{
    struct err err;
    err_clear(&err);
    struct item *items = c->items;
    int got = bus_next(c->bus, &items[0].d, CONSUMER_NEXT_TIMEOUT_MS, &err);
    if (got < 0) {
        if (link_failed(&c->bus_link, steady_now_ms()))
            log_warn("consumer lost the broker: %s", err.msg);
        c->consuming = false;
        bus_disconnect(c->bus);
        return;
    }
    if (got == 0)
        return;
    size_t n = 1;
    bool lost = false;
    while (n < c->batch_max) {
        got = bus_next(c->bus, &items[n].d, 0, &err);
        if (got == 1)
            n++;
        else {
            lost =
                got < 0; /* handle what we hold: its acks fail, the inbox absorbs the redelivery */
            break;
        }
    }
    handle_batch(c, items, n);
    /*
     * A batch all acknowledged is settled with one "multiple" ack of its last
     * tag: every earlier delivery on this channel was settled by an earlier
     * batch, so it covers exactly these (one frame instead of n).
     */
    bool settled = !lost && n > 1;
    for (size_t i = 0; i < n && settled; i++)
        settled = items[i].out == DELIVERY_ACK;
    if (settled && bus_ack(c->bus, items[n - 1].d.tag, /* multiple = */ 1, &err) != 0)
        lost = true;
    bool requeued = false;
    for (size_t i = 0; i < n; i++) {
        struct item *it = &items[i];
        int rc = 0;
        if (lost)
            rc = -1;
        else if (!settled)
            rc = it->out == DELIVERY_ACK ? bus_ack(c->bus, it->d.tag, 0, &err)
                                         : bus_reject(c->bus, it->d.tag, 1, &err);
        requeued = requeued || it->out == DELIVERY_REQUEUE;
        if (rc != 0)
            lost = true; /* unacked messages come back: the inbox absorbs them */
        envelope_release(&it->ev);
        bus_delivery_release(&it->d);
    }
    if (c->cfg.breaker_threshold > 0 && c->transient_streak >= c->cfg.breaker_threshold) {
        open_breaker(c);
    } else if (lost) {
        c->consuming = false;
        bus_disconnect(c->bus);
    } else if (requeued && !link_is_up(&c->db_link)) {
        bus_disconnect(c->bus); /* prefetched messages go back once, not per retry */
        c->consuming = false;
    } else if (requeued) {
        steady_nap(&c->stopping, CONSUMER_REQUEUE_PAUSE_MS);
    }
}

static void *consumer_main(void *arg)
{
    struct consumer *c = arg;
    int64_t next_connect_ms = 0;
    while (!atomic_load(&c->stopping)) {
        int64_t now = steady_now_ms();
        /* While the database is away, deliveries could only be given back again and again
         * (each one counts against a quorum queue's x-delivery-limit): stay off the queue
         * until the sweep below reaches the database again. */
        bool db_up = link_is_up(&c->db_link);
        bool paused = breaker_holds(c);
        if (!c->consuming && db_up && !paused && now >= next_connect_ms && ensure_consuming(c) != 0)
            next_connect_ms = now + bus_backoff_ms(c->bus);
        if (c->consuming)
            consume_some(c);
        else
            steady_nap(&c->stopping, 100);
        now = steady_now_ms();
        if (now - c->last_sweep_ms >= CONSUMER_SWEEP_MS) {
            c->last_sweep_ms = now;
            if (!paused) /* retries would spend their budget on the dependency that is out */
                sweep_retries(c);
            sweep_dead_letters(c);
        }
    }
    /* Closing the channel hands unacked prefetched messages back to the queue. */
    bus_disconnect(c->bus);
    bus_disconnect(c->dl_bus);
    return NULL;
}

bool consumer_db_up(const struct consumer *c)
{
    return link_is_up(&c->db_link);
}

bool consumer_bus_up(const struct consumer *c)
{
    return link_is_up(&c->bus_link);
}

static void consumer_free(struct consumer *c)
{
    if (!c)
        return;
    bus_free(c->bus);
    bus_free(c->dl_bus);
    db_free(c->db);
    db_free(c->start_db);
    free(c->items);
    free(c->binding_keys);
    free(c->database_url);
    free(c);
}

struct consumer *consumer_start(const struct consumer_config *cfg, struct err *err)
{
    struct consumer *c = calloc(1, sizeof(*c));
    if (!c) {
        err_set(err, ERR_NOMEM, "out of memory starting the consumer");
        return NULL;
    }
    c->cfg = *cfg;
    snprintf(c->context, sizeof(c->context), "%s", cfg->context);
    snprintf(c->instance, sizeof(c->instance), "%s", cfg->instance);
    snprintf(c->queue, sizeof(c->queue), "%s.events", cfg->context);
    c->database_url = strdup(cfg->database_url);
    c->binding_keys = calloc(cfg->nsubscriptions + 1, sizeof(char *));
    c->batch_max = CONSUMER_BATCH_MAX;
    if (cfg->bus.prefetch > 0 && (size_t)cfg->bus.prefetch < c->batch_max)
        c->batch_max = (size_t)cfg->bus.prefetch;
    c->items = calloc(c->batch_max, sizeof(*c->items));
    if (!c->database_url || !c->binding_keys || !c->items)
        goto nomem;
    for (size_t i = 0; i < cfg->nsubscriptions; i++)
        c->binding_keys[i] = cfg->subscriptions[i].event->type;

    char name[2 * CONSUMER_NAME_MAX];
    struct bus_config bc = cfg->bus;
    bc.confirms = 0;
    snprintf(name, sizeof(name), "%s consumer", c->instance);
    bc.connection_name = name;
    c->bus = bus_new(&bc);
    bc.confirms = 1;
    snprintf(name, sizeof(name), "%s dead letters", c->instance);
    c->dl_bus = bus_new(&bc);
    c->db = db_new(c->database_url);
    c->start_db = db_new(c->database_url);
    if (!c->bus || !c->dl_bus || !c->db || !c->start_db)
        goto nomem;
    db_set_schema(c->db, c->context);
    db_set_schema(c->start_db, c->context);
    db_set_async_commit(c->start_db, true);
    db_set_notify_after_commit(c->db, cfg->notify_after_commit);
    snprintf(name, sizeof(name), "%s consumer", c->instance);
    db_set_application_name(c->db, name);
    snprintf(name, sizeof(name), "%s consumer starts", c->instance);
    db_set_application_name(c->start_db, name);
    c->rng = (uint32_t)steady_now_ms() ^ ((uint32_t)getpid() << 16) ^ 0x9e3779b9u;
    if (!c->rng)
        c->rng = 1;

    char labels[METRICS_LABELS_MAX];
    c->duplicates =
        metrics_counter("events_duplicates_total",
                        "deliveries of events already handled (absorbed by the inbox)", NULL);
    metrics_label(labels, sizeof(labels), "reason", "poison");
    c->dead_poison =
        metrics_counter("events_dead_lettered_total", "messages sent to the dead letters", labels);
    metrics_label(labels, sizeof(labels), "reason", "failed");
    c->dead_failed =
        metrics_counter("events_dead_lettered_total", "messages sent to the dead letters", labels);
    c->handler_seconds = metrics_histogram("handler_duration_seconds",
                                           "time of the handler transaction, begin to commit", NULL,
                                           METRICS_LATENCY_BUCKETS, METRICS_LATENCY_NBUCKETS);
    c->breaker_pause_ms = 1000;
    c->breaker_gauge = metrics_gauge(
        "consumer_paused", "1 while the circuit breaker keeps a consumer off its queue", NULL);
    c->critical_seconds = metrics_histogram(
        "event_critical_time_seconds", "from the event's time to the end of its handling", NULL,
        METRICS_LATENCY_BUCKETS, METRICS_LATENCY_NBUCKETS);

    if (pthread_create(&c->thread, NULL, consumer_main, c) != 0) {
        err_set(err, ERR_INTERNAL, "cannot start the consumer thread");
        consumer_free(c);
        return NULL;
    }
    return c;
nomem:
    err_set(err, ERR_NOMEM, "out of memory starting the consumer");
    consumer_free(c);
    return NULL;
}

void consumer_stop(struct consumer *c)
{
    if (!c)
        return;
    atomic_store(&c->stopping, true);
    pthread_join(c->thread, NULL);
    consumer_free(c);
}
