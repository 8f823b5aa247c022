/*
 * service.h - the skeleton every executable runs.
 *
 * A context describes itself once, in its service.c, as a static const
 * struct service_def (name, config keys, routes, subscriptions, the events it
 * publishes), and its main.c is one call: service_main(argc, argv, &def).
 * service_main runs named phases (static phase_*() in service.c), in this
 * order:
 *
 *   config    tables → values; invalid: one stderr line, exit 2
 *   log       level and fields of every line; logs the settings in effect
 *   signals   SIGTERM/SIGINT blocked in every thread, SIGPIPE ignored
 *   traces    the OTLP exporter (off unless an endpoint is set)
 *   relay     outbox → broker; declares the topology
 *   consumers CONSUMERS threads handling the subscriptions (none without)
 *   tick      the context's periodic job, if any
 *   heartbeat this instance's row in <context>.heartbeat every 2 s (a warning without)
 *   http      the API, /health, /metrics; logs "ready"
 *   wait      until SIGTERM/SIGINT
 *   drain     in reverse: http stopped, the tick finishes its pass, the
 *             heartbeat stops, each consumer finishes the message in hand,
 *             the relay finishes its batch and hands back its leases, the
 *             exporter flushes → exit 0
 *
 * A phase that fails to start skips to drain (exit 1); traces failing exits 2.
 *
 * Database and broker are reached in the background with backoff, so a
 * service starts (and answers /health with 503) while either is down.
 */
#ifndef COMMON_SERVICE_H
#define COMMON_SERVICE_H

#include "common/config.h"
#include "common/contract.h"
#include "common/handler.h"
#include "common/http.h"

#include <stddef.h>

struct consumer_hooks; /* consumer.h */
struct db;
struct relay_hooks; /* relay.h */

/*
 * A periodic job of a context (e.g. booking expiring overdue bookings): one
 * thread with its own connection (search_path = the context's schema) calls
 * it every tick_ms, each call inside its own transaction that the thread
 * begins and commits; a failure is logged, rolled back and the job runs again
 * at the next tick. The job may publish through the outbox (the relay is
 * woken as for any other write) and must not begin or commit itself.
 * Returns 0 or a negative err code with err filled.
 */
typedef int (*service_tick_fn)(struct db *db, void *app, struct err *err);

enum service_exit {
    SERVICE_EXIT_OK = 0,      /* stopped by a signal after draining */
    SERVICE_EXIT_FAILURE = 1, /* could not start (e.g. the HTTP port is taken) */
    SERVICE_EXIT_CONFIG = 2,  /* invalid configuration (one line on stderr) */
};

struct service_def {
    const char *name; /* the context: schema, queue, routing-key prefix, log field */
    int http_port;    /* default HTTP port (SPEC §1) */
    const struct config_key *config_keys; /* the context's own keys, may be NULL */
    size_t nconfig_keys;
    void *config; /* where its keys are written */
    const struct http_route *routes;
    size_t nroutes;
    const struct subscription *subscriptions;
    size_t nsubscriptions;
    const struct contract_event *const *publishes; /* NULL-terminated; for the catalog */
    void *app; /* handed to routes (via service_app) and handlers */
    const struct consumer_hooks *consumer_hooks; /* test seams; NULL in the contexts */
    const struct relay_hooks *relay_hooks;
    service_tick_fn tick; /* periodic job, NULL when none (see service_tick_fn) */
    int tick_ms;          /* its period; > 0 when tick is set */
};

/*
 * The tables of context c as every context names them (STYLE.md 3.2), for its
 * descriptor: c_routes (routes.h) and c_subscriptions (handlers.h), each
 * declared with its size, and c_contract_events (contract/c_contract.h).
 *   const struct service_def inventory_service = {
 *       .name = "inventory", .http_port = 8084, SERVICE_TABLES(inventory)};
 */
#define SERVICE_TABLES(c)                                                                          \
    .routes = c##_routes, .nroutes = sizeof(c##_routes) / sizeof(c##_routes[0]),                   \
    .subscriptions = c##_subscriptions,                                                            \
    .nsubscriptions = sizeof(c##_subscriptions) / sizeof(c##_subscriptions[0]),                    \
    .publishes = c##_contract_events

/* Runs the service until SIGTERM/SIGINT. Returns an enum service_exit. */
int service_main(int argc, char **argv, const struct service_def *def);

/* The running service's instance id (INSTANCE_ID, else "<name>-<pid>"; valid during service_main). */
const char *service_instance(void);

#endif
