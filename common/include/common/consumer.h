/*
 * consumer.h - handlers, subscriptions and the consumer thread that runs
 * them with exactly-once effect (SPEC §4; invariants I1-I4 in inbox.h).
 *
 * A context lists what it consumes in a static const table:
 *
 *   const struct subscription booking_subscriptions[] = {
 *       {&INVENTORY_STOCK_RESERVED, on_inventory_stock_reserved},
 *       ...
 *   };
 *
 * For each delivery the consumer: parses the envelope and checks it against
 * the subscription's contract (anything wrong is poison: straight to the
 * dead letters with the reason); records the start in the inbox (I3); opens
 * a transaction, locks the inbox row, runs the handler, marks the row
 * processed, commits (I1, I2); then acks. A handler error rolls back and
 * err_disposition() decides: retry later from the database (I4), or dead.
 *
 * What a handler sees and must do is in handler.h.
 */
#ifndef COMMON_CONSUMER_H
#define COMMON_CONSUMER_H

#include "common/bus.h"
#include "common/contract.h"
#include "common/err.h"
#include "common/handler.h"
#include "common/outbox.h"
#include "common/retry.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct db;
struct envelope;

/* Test seams (may be NULL): tests kill the process at the worst moments. */
struct consumer_hooks {
    /* After the handler transaction committed, before the broker ack. */
    void (*after_commit)(void *app, const struct envelope *ev);
};

struct consumer_config {
    const char *context; /* queue <context>.events; inbox consumer name; schema */
    const char *instance;
    const char *database_url;
    struct bus_config bus; /* for consuming; a second connection with confirms
                                 publishes dead letters */
    const struct subscription *subscriptions;
    size_t nsubscriptions;
    struct retry_policy retry;
    int lease_ms;             /* a retry in progress is ours this long; 0 = 30000 */
    bool notify_after_commit; /* handlers' outbox writes wake the relay after commit (ADR 0006) */
    int breaker_threshold; /* consecutive transient handler failures that pause consuming; 0 = never */
    int breaker_pause_max_ms; /* the pause doubles from 1 s up to this; 0 = 30000 */
    void *app;
    const struct consumer_hooks *hooks;
};

struct consumer;

/* Starts the consumer thread. Returns it, or NULL with err set. cfg is copied. */
struct consumer *consumer_start(const struct consumer_config *cfg, struct err *err);

/*
 * Stops taking deliveries, finishes the one in hand (commit and ack, or
 * nothing), closes its connections (unacked prefetched messages go back to
 * the queue) and frees consumer. NULL is a no-op.
 */
void consumer_stop(struct consumer *consumer);

bool consumer_db_up(const struct consumer *consumer);
bool consumer_bus_up(const struct consumer *consumer);

/*
 * True while the circuit breaker keeps this consumer off its queue: its
 * handlers failed transiently breaker_threshold times in a row (a dependency
 * is out), so it stops taking deliveries and running retries for a pause
 * that doubles up to breaker_pause_max_ms, then tries again (half-open: the
 * next batch decides) — messages wait in the queue instead of spending their
 * retry budget (issue 16: NServiceBus' rate limiting, Wolverine's breaker).
 */
bool consumer_paused(const struct consumer *consumer);

/* consumer_handle_one's answer when the inbox already had the event. */
#define CONSUMER_DUPLICATE 1

/*
 * Handles one event (body: CloudEvent JSON, len bytes) the way the consumer
 * handles a first delivery, without a broker: the checks a delivery gets
 * (envelope, subscription, version, publisher, contract; where a delivery
 * would be poison this answers ERR_INVALID), then one transaction on db that
 * claims the inbox row, runs the handler of subs (its outbox writes join the
 * transaction) and commits; a handler error rolls it back and is returned.
 * Retries, dead letters and acks are not part of it. db's search_path is the
 * context's schema and no transaction is open. Returns 0, CONSUMER_DUPLICATE
 * (nothing run: no second effect), or a negative code with err filled. For
 * tests: the handler test harness (tests/lib/handler_test.h) runs on it.
 */
int consumer_handle_one(struct db *db, const char *context, const struct subscription *subs,
                        size_t nsubs, void *app, const char *body, size_t len, struct err *err);

/* The subscription for type in subs, or NULL. */
const struct subscription *subscription_find(const struct subscription *subs, size_t n,
                                             const char *type);

#endif
