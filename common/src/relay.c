/*
 * relay.c - the outbox relay thread (see relay.h for what it promises).
 *
 * One pass: claim ≤ batch due rows → publish them all (one window of
 * outstanding confirms, never one round trip per message) → wait for the
 * confirms → mark the acked rows published in one UPDATE, the others pending
 * with a backoff in another. A row is marked published only after its ack
 * (O2); a crash anywhere in the pass leaves the rows pending or leased, and a
 * lease that runs out makes them due again (O3), so nothing is lost. While
 * the pass waits for confirms it renews its leases (wait_confirms), so a
 * lease need only outlast the gap between two renewals, not the wait. The
 * price is a possible second publish, which the consumers' inbox absorbs.
 */
#include "common/relay.h"

#include "handoff.h"
#include "link_state.h"
#include "steady.h"

#include "common/db.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/otlp.h"
#include "common/inbox.h"
#include "common/outbox.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RELAY_NAME_MAX 64

struct relay {
    struct relay_config cfg; /* strings point into the copies below */
    char context[RELAY_NAME_MAX];
    char instance[RELAY_NAME_MAX];
    char *database_url;
    char **binding_keys;

    pthread_t thread;
    atomic_bool stopping;
    struct link_state db_link;
    struct link_state bus_link;

    struct db *db;
    struct bus *bus;
    struct outbox_row rows[OUTBOX_BATCH_MAX];
    enum bus_outcome outcome[OUTBOX_BATCH_MAX]; /* per row of the batch in flight */
    uint64_t first_seq;                         /* sequence number of rows[0] */
    struct handoff *handoff; /* rows this process commits come here (ADR 0011); NULL: none */
    bool read_table;         /* rows may wait in the table: claim on the next pass */
    bool take_own;           /* ... including those leased to us (first pass, after a failure) */
    bool handed_last;        /* the last batch came from the queue */
    /* Ids a claim took back from our own leases: their queued copies are dropped for a lease. */
    char taken_back[OUTBOX_BATCH_MAX][UUID7_STR_LEN];
    size_t ntaken_back;
    int64_t taken_back_ms;
    int64_t last_claim_ms;
    int64_t last_housekeeping_ms;
    int64_t last_retention_ms;

    struct metrics_gauge *pending_gauge;
    struct metrics_gauge *oldest_gauge;
    struct metrics_counter *publish_failures;
    struct metrics_counter *handoffs;
};

static void on_confirm(void *ctx, uint64_t seq, enum bus_outcome outcome)
{
    struct relay *r = ctx;
    uint64_t i = seq - r->first_seq;
    if (seq >= r->first_seq && i < OUTBOX_BATCH_MAX)
        r->outcome[i] = outcome;
}

static void count_published(const char *type)
{
    char labels[METRICS_LABELS_MAX];
    metrics_label(labels, sizeof(labels), "type", type);
    metrics_counter_inc(metrics_counter("events_published_total",
                                        "integration events the broker confirmed", labels));
}

/* Connects and declares the topology (before anything is published). */
static int ensure_bus(struct relay *r)
{
    if (bus_connected(r->bus))
        return 0;
    struct err err;
    err_clear(&err);
    if (bus_connect(r->bus, &err) == 0 &&
        bus_declare_topology(r->bus, r->context, (const char *const *)r->binding_keys,
                             r->cfg.nbinding_keys, &err) == 0) {
        if (link_ok(&r->bus_link))
            log_info("relay connected to %s", bus_url_masked(r->bus));
        return 0;
    }
    if (link_failed(&r->bus_link, steady_now_ms()))
        log_warn("relay cannot reach the broker (retrying): %s", err.msg);
    bus_disconnect(r->bus);
    steady_nap(&r->stopping, bus_backoff_ms(r->bus));
    return -1;
}

static void set_db_state(struct relay *r, bool up, const struct err *err)
{
    if (!up && link_failed(&r->db_link, steady_now_ms()))
        log_warn("relay cannot reach the database (retrying): %s", err->msg);
    else if (up && link_ok(&r->db_link))
        log_info("relay reached the database");
}

/*
 * Waits up to RELAY_CONFIRM_TIMEOUT_MS for the confirms of the batch (its n
 * rows), in slices of a third of the lease, and renews the batch's leases
 * after each slice that ends with confirms outstanding: rows wait on a slow
 * or frozen broker as long as they must and stay ours (O3), so LEASE_MS can
 * be short (a killed relay's rows move soon) without another relay
 * publishing a batch still in flight. A renewal that fails (the database is
 * out) costs at most a second publish, which the inboxes absorb.
 */
static int wait_confirms(struct relay *r, size_t n, struct err *err)
{
    const char *ids[OUTBOX_BATCH_MAX];
    for (size_t i = 0; i < n; i++)
        ids[i] = r->rows[i].id;
    int slice = r->cfg.lease_ms / 3 > 0 ? r->cfg.lease_ms / 3 : 1;
    int64_t deadline = steady_now_ms() + RELAY_CONFIRM_TIMEOUT_MS;
    for (;;) {
        int64_t left = deadline - steady_now_ms();
        int rc = bus_wait_confirms(r->bus, left < slice ? (int)(left > 0 ? left : 0) : slice,
                                   on_confirm, r, err);
        if (rc == 0 || !bus_connected(r->bus) || left <= slice)
            return rc;
        struct err rerr;
        err_clear(&rerr);
        if (outbox_renew_leases(r->db, r->instance, ids, n, r->cfg.lease_ms, &rerr) < 0)
            set_db_state(r, false, &rerr);
        err_clear(err); /* a slice's timeout is no reason for a row the next slice settles */
    }
}

/*
 * Drops from the n handed-over rows in r->rows those a take-back claim
 * published already (committed as it ran, queued after it). Returns the rows left.
 */
static size_t skip_taken_back(struct relay *r, size_t n)
{
    if (r->ntaken_back == 0)
        return n;
    if (steady_now_ms() - r->taken_back_ms > r->cfg.lease_ms) {
        r->ntaken_back = 0; /* any copy of them has gone stale by now */
        return n;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool taken = false;
        for (size_t k = 0; k < r->ntaken_back && !taken; k++)
            taken = strcmp(r->rows[i].id, r->taken_back[k]) == 0;
        if (taken)
            outbox_rows_release(&r->rows[i], 1);
        else
            r->rows[kept++] = r->rows[i];
    }
    return kept;
}

/* Up to a batch of what our own process handed over (0 when it runs no relay slot). */
static size_t take_handed(struct relay *r)
{
    if (!r->handoff)
        return 0;
    size_t n =
        skip_taken_back(r, handoff_take(r->handoff, r->rows, (size_t)r->cfg.batch, &r->read_table));
    metrics_counter_add(r->handoffs, n);
    return n;
}

/*
 * Fills r->rows with the next batch: what this process's own transactions
 * handed over (already leased to us: no statement at all), else, when the
 * table may hold more (another process's NOTIFY, the sweep, a row the queue
 * had no room for, a failure), a claim. Returns the rows or -1 (database).
 */
static int next_batch(struct relay *r, struct err *err)
{
    if (steady_now_ms() - r->last_claim_ms >= RELAY_SWEEP_MS)
        r->read_table = true; /* due retries, expired leases: busy or not */
    /* The table's turn comes after a handed-over batch: a busy queue never starves it. */
    bool table_first = r->read_table && r->handed_last;
    size_t n = table_first ? 0 : take_handed(r);
    r->handed_last = n > 0;
    if (n > 0 || !r->read_table)
        return (int)n;
    if (outbox_claim(r->db, r->instance, r->cfg.batch, r->cfg.lease_ms, r->take_own, r->rows, &n,
                     err) != 0) {
        set_db_state(r, false, err);
        return -1;
    }
    set_db_state(r, true, NULL);
    /* A row we took back may be queued too (committed as we claimed): publish it once. */
    if (r->take_own && n > 0) {
        for (size_t i = 0; i < n; i++)
            memcpy(r->taken_back[i], r->rows[i].id, sizeof(r->taken_back[i]));
        r->ntaken_back = n;
        r->taken_back_ms = steady_now_ms();
    }
    r->take_own = false;
    r->read_table = n >= (size_t)r->cfg.batch;
    r->last_claim_ms = steady_now_ms();
    /*
     * The table had nothing: the queue's turn at once. A row queued before
     * this pass had its wake-up spent on it, and would otherwise wait for the
     * next one (the next commit, or the sweep).
     */
    if (n == 0 && table_first)
        n = take_handed(r);
    r->handed_last = false;
    return (int)n;
}

/*
 * One pass: the next batch, published. Returns the number of rows (so the
 * caller loops at once while batches come back full), or -1 after a failure.
 */
static int relay_pass(struct relay *r)
{
    struct err err;
    err_clear(&err);
    int got = next_batch(r, &err);
    if (got <= 0)
        return got;
    size_t n = (size_t)got;

    /* Publish the whole batch, then collect its confirms. */
    size_t sent = 0;
    int64_t start_ns = otlp_now_ns();
    for (size_t i = 0; i < n; i++) {
        r->outcome[i] = BUS_NACKED; /* until the broker says otherwise */
        /* SPEC §2: traceparent also travels as an AMQP header, for tools that read only those. */
        const struct bus_header trace_header = {.key = "traceparent",
                                                .value = r->rows[i].traceparent};
        struct bus_message m = {
            .routing_key = r->rows[i].type,
            .body = r->rows[i].payload,
            .len = r->rows[i].payload_len,
            .message_id = r->rows[i].id,
            .type = r->rows[i].type,
            .correlation_id = r->rows[i].correlation_id,
            .app_id = r->context,
            .timestamp = (int64_t)time(NULL),
            .headers = r->rows[i].traceparent[0] ? &trace_header : NULL,
            .nheaders = r->rows[i].traceparent[0] ? 1 : 0,
            .mandatory = 1,
        };
        uint64_t seq = 0;
        if (bus_publish(r->bus, &m, &seq, &err) != 0)
            break;
        if (i == 0)
            r->first_seq = seq;
        sent++;
    }
    if (sent > 0 && wait_confirms(r, n, &err) != 0 && !bus_connected(r->bus) &&
        link_failed(&r->bus_link, steady_now_ms()))
        log_warn("relay lost the broker: %s", err.msg);
    if (r->cfg.hooks && r->cfg.hooks->after_publish)
        r->cfg.hooks->after_publish(r->cfg.app, sent);

    /* Acked rows are published (O2); every other row goes back with a backoff. */
    const char *acked[OUTBOX_BATCH_MAX], *failed[OUTBOX_BATCH_MAX];
    size_t nacked = 0, nfailed = 0, nreturned = 0;
    for (size_t i = 0; i < n; i++) {
        otlp_producer_span(r->rows[i].traceparent, start_ns, r->cfg.bus.exchange, r->rows[i].type,
                           r->rows[i].id, i < sent && r->outcome[i] == BUS_ACKED);
        if (i < sent && r->outcome[i] == BUS_ACKED) {
            acked[nacked++] = r->rows[i].id;
            count_published(r->rows[i].type);
        } else {
            failed[nfailed++] = r->rows[i].id;
            nreturned += i < sent && r->outcome[i] == BUS_RETURNED;
        }
    }
    char reason[OUTBOX_ERROR_MAX];
    if (nreturned)
        snprintf(reason, sizeof(reason), "unroutable: no queue is bound to the event type");
    else
        snprintf(reason, sizeof(reason), "not confirmed by the broker: %s",
                 err.msg[0] ? err.msg : "nacked");
    struct err merr;
    err_clear(&merr);
    int rc = outbox_mark_published(r->db, acked, nacked, &merr);
    if (rc == 0 && nfailed) {
        rc = outbox_mark_retry(r->db, failed, nfailed, reason, r->cfg.retry_base_ms,
                               r->cfg.retry_max_ms, RELAY_MAX_ATTEMPTS, &merr);
        metrics_counter_add(r->publish_failures, nfailed);
        log_warn("relay could not publish %zu of %zu events (first '%s'): %s", nfailed, n,
                 failed[0], reason);
    }
    if (rc != 0) {
        /* The leases run out and the rows are published again: duplicates, never a loss. */
        log_warn("relay could not record a batch of %zu: %s", n, merr.msg);
        set_db_state(r, false, &merr);
        r->take_own = r->read_table = true; /* the batch is still leased to us */
    }
    outbox_rows_release(r->rows, n);
    return rc == 0 ? (int)n : -1;
}

/*
 * Deletes published outbox rows and processed inbox rows older than
 * RETENTION_HOURS, in batches, one instance of the context at a time (a
 * transaction-scoped advisory lock; the others skip the pass). Dead and
 * failed rows stay until requeued or purged. Returns rows deleted or an error.
 */
static int retention_pass(struct relay *r, struct err *err)
{
    enum { BATCH = 1000, MAX_BATCHES = 100 };
    char key[RELAY_NAME_MAX + 16];
    snprintf(key, sizeof(key), "%s:retention", r->context);
    const char *params[] = {key};
    int total = 0;
    for (int round = 0; round < MAX_BATCHES; round++) {
        int rc = db_begin(r->db, err);
        if (rc)
            return rc;
        char got[8];
        rc = db_exec_value(r->db, "SELECT pg_try_advisory_xact_lock(hashtext($1))", 1, params, got,
                           sizeof(got), err);
        if (rc < 0 || got[0] != 't') {
            db_rollback(r->db);
            return rc < 0 ? rc : total; /* another instance is at it */
        }
        int a = outbox_purge_published(r->db, r->cfg.retention_hours, BATCH, err);
        int b = a < 0 ? a : inbox_purge_processed(r->db, r->cfg.retention_hours, BATCH, err);
        if (b < 0) {
            db_rollback(r->db);
            return b;
        }
        if ((rc = db_commit(r->db, err)) != 0)
            return rc;
        total += a + b;
        if (a < BATCH && b < BATCH)
            break;
    }
    return total;
}

static void housekeeping(struct relay *r)
{
    int64_t now = steady_now_ms();
    if (now - r->last_housekeeping_ms < RELAY_HOUSEKEEPING_MS)
        return;
    r->last_housekeeping_ms = now;
    struct err err;
    err_clear(&err);
    int64_t pending = 0;
    double oldest = 0;
    if (outbox_stats(r->db, &pending, &oldest, &err) == 0) {
        metrics_gauge_set(r->pending_gauge, (double)pending);
        metrics_gauge_set(r->oldest_gauge, oldest);
    }
    if (now - r->last_retention_ms < RELAY_RETENTION_EVERY_MS && r->last_retention_ms != 0)
        return;
    r->last_retention_ms = now;
    int deleted = retention_pass(r, &err);
    if (deleted < 0)
        log_warn("retention pass failed: %s", err.msg);
    else if (deleted > 0)
        log_info("retention deleted %d outbox and inbox rows older than %d hours", deleted,
                 r->cfg.retention_hours);
}

static void *relay_main(void *arg)
{
    struct relay *r = arg;
    struct err err;
    err_clear(&err);
    char channel[RELAY_NAME_MAX + 8];
    outbox_channel(r->context, channel, sizeof(channel));
    bool listening = false;
    while (!atomic_load(&r->stopping)) {
        /* Once LISTENing, the connection LISTENs again by itself after every reconnect. */
        if (!listening && db_listen(r->db, channel, &err) != 0) {
            set_db_state(r, false, &err);
            steady_nap(&r->stopping, 500);
            continue;
        }
        listening = true;
        if (ensure_bus(r) != 0)
            continue;
        /* rabbitmq-c answers heartbeats only inside its calls: keep an idle connection alive. */
        if (bus_wait_confirms(r->bus, 0, NULL, NULL, &err) != 0 && !bus_connected(r->bus)) {
            if (link_failed(&r->bus_link, steady_now_ms()))
                log_warn("relay lost the broker: %s", err.msg);
            continue;
        }
        int n = relay_pass(r);
        if (n < 0) {
            steady_nap(&r->stopping, 200);
            continue;
        }
        housekeeping(r);
        /*
         * After any batch, look again before waiting: rows queued while it was
         * out spent their wake-up on the pass that took it. Without a claim
         * due, that look costs no statement.
         */
        if (n > 0)
            continue;
        int w = db_wait_notify(r->db, RELAY_SWEEP_MS, &err);
        if (w < 0)
            set_db_state(r, false, &err);
        /* Woken only by our own process: what it wrote is queued, the table can wait. */
        if (w != 1 || db_woken_remotely(r->db))
            r->read_table = true;
    }
    /* Rows committed from now on keep their lease until it runs out (or our next start). */
    handoff_detach(r->handoff);
    r->handoff = NULL;
    /* Graceful stop: nothing is in flight between passes; hand our leases back. */
    if (outbox_release_leases(r->db, r->instance, &err) != 0)
        log_warn("relay could not release its leases (they expire by themselves): %s", err.msg);
    bus_disconnect(r->bus);
    return NULL;
}

bool relay_db_up(const struct relay *r)
{
    return link_is_up(&r->db_link);
}

bool relay_bus_up(const struct relay *r)
{
    return link_is_up(&r->bus_link);
}

static void relay_free(struct relay *r)
{
    if (!r)
        return;
    handoff_detach(r->handoff);
    bus_free(r->bus);
    db_free(r->db);
    for (size_t i = 0; r->binding_keys && i < r->cfg.nbinding_keys; i++)
        free(r->binding_keys[i]);
    free(r->binding_keys);
    free(r->database_url);
    free(r);
}

struct relay *relay_start(const struct relay_config *cfg, struct err *err)
{
    struct relay *r = calloc(1, sizeof(*r));
    if (!r) {
        err_set(err, ERR_NOMEM, "out of memory starting the relay");
        return NULL;
    }
    r->cfg = *cfg;
    snprintf(r->context, sizeof(r->context), "%s", cfg->context);
    snprintf(r->instance, sizeof(r->instance), "%s", cfg->instance);
    r->database_url = strdup(cfg->database_url);
    r->binding_keys = calloc(cfg->nbinding_keys + 1, sizeof(char *));
    if (!r->database_url || !r->binding_keys)
        goto nomem;
    for (size_t i = 0; i < cfg->nbinding_keys; i++)
        if (!(r->binding_keys[i] = strdup(cfg->binding_keys[i])))
            goto nomem;
    if (r->cfg.lease_ms <= 0)
        r->cfg.lease_ms = RELAY_LEASE_DEFAULT_MS;
    if (r->cfg.batch <= 0 || r->cfg.batch > OUTBOX_BATCH_MAX)
        r->cfg.batch = OUTBOX_BATCH_MAX;
    struct bus_config bc = cfg->bus;
    bc.confirms = 1;
    char name[2 * RELAY_NAME_MAX];
    snprintf(name, sizeof(name), "%s relay", r->instance);
    bc.connection_name = name;
    r->bus = bus_new(&bc);
    r->db = db_new(r->database_url);
    if (!r->bus || !r->db)
        goto nomem;
    db_set_schema(r->db, r->context);
    /*
     * Everything the relay writes may be lost in a database crash at the
     * price of a repeat: a lease (the row is claimed again), a published mark
     * (the event is published again; inboxes absorb it). So it does not wait
     * for the WAL flush, which takes two fsyncs off every batch.
     */
    db_set_async_commit(r->db, true);
    db_set_application_name(r->db, name);

    char labels[METRICS_LABELS_MAX];
    metrics_label(labels, sizeof(labels), "context", r->context);
    r->pending_gauge =
        metrics_gauge("outbox_pending", "outbox rows waiting to be published", labels);
    r->oldest_gauge = metrics_gauge("outbox_oldest_pending_seconds",
                                    "age of the oldest outbox row waiting to be published", labels);
    r->publish_failures =
        metrics_counter("events_publish_failures_total",
                        "publishes nacked, returned or unconfirmed (retried later)", labels);
    r->handoffs = metrics_counter(
        "outbox_handoffs_total",
        "events taken to publish as handed over by this process's own commits, without a claim",
        labels);
    /* The first pass reads the table and takes back what a previous run left leased to us. */
    r->read_table = r->take_own = true;
    r->handoff = handoff_attach(r->context, r->instance, r->cfg.lease_ms);

    if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
        err_set(err, ERR_INTERNAL, "cannot start the relay thread");
        relay_free(r);
        return NULL;
    }
    return r;
nomem:
    err_set(err, ERR_NOMEM, "out of memory starting the relay");
    relay_free(r);
    return NULL;
}

void relay_stop(struct relay *r)
{
    if (!r)
        return;
    atomic_store(&r->stopping, true);
    pthread_join(r->thread, NULL);
    relay_free(r);
}
