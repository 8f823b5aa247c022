/*
 * relay.h - the outbox relay: a thread of every service that publishes the
 * context's outbox rows to RabbitMQ (SPEC §4).
 *
 * It wakes on the outbox's NOTIFY, and at least every RELAY_SWEEP_MS (a
 * missed notification costs at most that), claims due rows in batches with
 * a lease (outbox_claim), publishes the batch with publisher confirms and the
 * mandatory flag through one window of outstanding confirms, and marks the
 * acked rows published in one statement. A nack, a return or a lost
 * connection leaves rows pending with a backoff (outbox_mark_retry).
 * While the broker is unreachable it claims nothing, so an outage costs no
 * attempts. It also refreshes the outbox gauges and, one instance at a time,
 * deletes rows past RETENTION_HOURS.
 *
 * The relay has its own database connection and its own AMQP connection.
 */
#ifndef COMMON_RELAY_H
#define COMMON_RELAY_H

#include "common/bus.h"
#include "common/err.h"

#include <stdbool.h>

#define RELAY_SWEEP_MS           1000 /* safety sweep when no NOTIFY came */
#define RELAY_CONFIRM_TIMEOUT_MS 5000 /* longest wait for a batch's confirms */
#define RELAY_LEASE_DEFAULT_MS   3000 /* LEASE_MS: renewed every third of it while a batch waits */
#define RELAY_MAX_ATTEMPTS       25 /* failed publishes before a row is 'failed' (needs a human) */
#define RELAY_HOUSEKEEPING_MS    5000   /* gauges refresh */
#define RELAY_RETENTION_EVERY_MS 600000 /* retention pass */

struct relay_hooks {
    /* Called after a batch was published and before it is marked (tests kill the process here). */
    void (*after_publish)(void *app, size_t published);
};

struct relay_config {
    const char *context;  /* schema and NOTIFY channel */
    const char *instance; /* lease owner */
    const char *database_url;
    struct bus_config bus;           /* confirms are forced on */
    const char *const *binding_keys; /* the context's subscriptions, declared with the topology */
    size_t nbinding_keys;
    int batch;         /* rows per claim, ≤ OUTBOX_BATCH_MAX */
    int retry_base_ms; /* backoff of a failed publish */
    int retry_max_ms;
    int retention_hours;
    int lease_ms; /* a claimed row is ours this long (LEASE_MS), renewed while its batch waits */
    void *app;
    const struct relay_hooks *hooks; /* may be NULL */
};

struct relay;

/* Starts the relay thread. Returns it, or NULL with err set. cfg is copied (strings too). */
struct relay *relay_start(const struct relay_config *cfg, struct err *err);

/*
 * Stops the thread: the batch in flight finishes (its confirms are awaited),
 * leases are released, connections closed; frees relay. NULL is a no-op.
 */
void relay_stop(struct relay *relay);

/* Whether the last attempts to reach the database and the broker succeeded. */
bool relay_db_up(const struct relay *relay);
bool relay_bus_up(const struct relay *relay);

#endif
