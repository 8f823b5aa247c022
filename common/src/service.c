/*
 * service.c - service_main: the named start-up phases, the wait for a signal
 * and the drain (see service.h). Everything a context has in common with the
 * others lives here, so a context's main.c is one line.
 */
#include "common/service.h"

#include "common/consumer.h"
#include "common/db.h"
#include "common/heartbeat.h"
#include "common/log.h"
#include "common/otlp.h"
#include "common/relay.h"
#include "http_internal.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SERVICE_NAME_MAX 64

static struct config_common common_config;
static const struct service_def *running;
static char instance_id[SERVICE_NAME_MAX];

static struct relay *relay;
static struct heartbeat *heartbeat; /* NULL when it could not start: the service runs without */
static struct consumer *consumers[CONFIG_CONSUMERS_MAX]; /* CONSUMERS is at most this */
static int nconsumers;

const char *service_instance(void)
{
    return instance_id;
}

/* OUTBOX_NOTIFY=after_commit (ADR 0006). */
static bool notify_after_commit(void)
{
    return strcmp(common_config.outbox_notify, "after_commit") == 0;
}

/* One database connection per HTTP thread, made on its first request. */
static void *thread_db_new(void *app)
{
    (void)app;
    struct db *db = db_new(common_config.database_url);
    if (!db)
        return NULL;
    db_set_schema(db, running->name);
    db_set_notify_after_commit(db, notify_after_commit());
    char name[2 * SERVICE_NAME_MAX];
    snprintf(name, sizeof(name), "%s http", instance_id);
    db_set_application_name(db, name);
    return db;
}

static void thread_db_free(void *ctx, void *app)
{
    (void)app;
    db_free(ctx);
}

static int health(void *app, json_t *checks)
{
    (void)app;
    bool db_up = relay_db_up(relay), bus_up = relay_bus_up(relay), paused = false;
    for (int i = 0; i < nconsumers; i++) {
        db_up = db_up && consumer_db_up(consumers[i]);
        bus_up = bus_up && consumer_bus_up(consumers[i]);
        paused = paused || consumer_paused(consumers[i]);
    }
    json_object_set_new(checks, "database", json_string(db_up ? "up" : "down"));
    json_object_set_new(checks, "broker", json_string(bus_up ? "up" : "down"));
    /* A paused consumer (its breaker is open) is degraded, not down: the service still serves. */
    if (nconsumers > 0)
        json_object_set_new(checks, "consumer", json_string(paused ? "paused" : "running"));
    return db_up && bus_up;
}

static struct bus_config bus_config(void)
{
    return (struct bus_config){
        .url = common_config.amqp_url,
        .exchange = common_config.events_exchange,
        .dead_letter_exchange = common_config.dead_letter_exchange,
        .queue_type = common_config.amqp_queue_type,
        .prefetch = common_config.prefetch,
        .heartbeat_s = common_config.amqp_heartbeat_s,
        .tls_ca_file = common_config.amqp_ca_file,
        .tls_cert_file = common_config.amqp_cert_file,
        .tls_key_file = common_config.amqp_key_file,
    };
}

/*
 * A descriptor whose tables and counts disagree would run a service without
 * its routes or queue bindings, silently: refuse it before anything starts.
 */
static int check_descriptor(const struct service_def *def, struct err *err)
{
    if (!def->name || !*def->name)
        return err_set(err, ERR_INVALID, "service descriptor without a name");
    if (!def->routes != !def->nroutes)
        return err_set(err, ERR_INVALID, "service '%s': routes table and nroutes (%zu) disagree",
                       def->name, def->nroutes);
    if (!def->subscriptions != !def->nsubscriptions)
        return err_set(err, ERR_INVALID,
                       "service '%s': subscriptions table and nsubscriptions (%zu) disagree",
                       def->name, def->nsubscriptions);
    for (size_t i = 0; i < def->nsubscriptions; i++)
        if (!def->subscriptions[i].event || !def->subscriptions[i].handler)
            return err_set(err, ERR_INVALID, "service '%s': subscription %zu is empty", def->name,
                           i);
    if (!def->config_keys != !def->nconfig_keys || (def->nconfig_keys && !def->config))
        return err_set(err, ERR_INVALID,
                       "service '%s': config keys, count and destination disagree", def->name);
    if (def->tick && def->tick_ms <= 0)
        return err_set(err, ERR_INVALID, "service '%s': a tick needs tick_ms > 0", def->name);
    return 0;
}

/* ---- the tick: a context's periodic job (service_tick_fn) ------------------ */

struct service_ticker {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    struct db *db;
    const struct service_def *def;
};

static struct service_ticker ticker;

/* Waits ms or until ticker_stop; returns true when stopped. */
static bool ticker_sleep(int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&ticker.lock);
    int rc = 0;
    while (!ticker.stop && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&ticker.wake, &ticker.lock, &until);
    bool stopped = ticker.stop;
    pthread_mutex_unlock(&ticker.lock);
    return stopped;
}

/*
 * One transaction per pass: begin, the job, commit. A failure (database
 * down, a job error) is rolled back and the next tick tries again, so a job
 * must be safe to repeat (it works on what is due). Logged when the tick
 * starts failing and when it recovers, not at every pass of an outage.
 */
static void *ticker_run(void *arg)
{
    (void)arg;
    bool failing = false;
    while (!ticker_sleep(ticker.def->tick_ms)) {
        struct err err;
        err_clear(&err);
        int rc = db_begin(ticker.db, &err);
        if (rc == 0)
            rc = ticker.def->tick(ticker.db, ticker.def->app, &err);
        if (rc == 0)
            rc = db_commit(ticker.db, &err);
        else
            db_rollback(ticker.db);
        if (rc != 0 && !failing)
            log_warn("tick failed, retried every %d ms: %s", ticker.def->tick_ms, err.msg);
        else if (rc == 0 && failing)
            log_info("tick recovered");
        failing = rc != 0;
    }
    return NULL;
}

static int ticker_start(const struct service_def *def, struct err *err)
{
    if (!def->tick)
        return 0;
    ticker.def = def;
    ticker.stop = false;
    if (!(ticker.db = db_new(common_config.database_url)))
        return err_set(err, ERR_NOMEM, "cannot create the tick's database connection");
    db_set_schema(ticker.db, def->name);
    db_set_notify_after_commit(ticker.db, notify_after_commit());
    char name[2 * SERVICE_NAME_MAX];
    snprintf(name, sizeof(name), "%s tick", instance_id);
    db_set_application_name(ticker.db, name);
    pthread_mutex_init(&ticker.lock, NULL);
    pthread_cond_init(&ticker.wake, NULL);
    if (pthread_create(&ticker.thread, NULL, ticker_run, NULL) != 0) {
        db_free(ticker.db);
        ticker.db = NULL;
        return err_set(err, ERR_INTERNAL, "cannot start the tick thread");
    }
    return 0;
}

/* Ends the tick after the pass in hand (its transaction commits or rolls back first). */
static void ticker_stop(void)
{
    if (!ticker.db)
        return;
    pthread_mutex_lock(&ticker.lock);
    ticker.stop = true;
    pthread_cond_signal(&ticker.wake);
    pthread_mutex_unlock(&ticker.lock);
    pthread_join(ticker.thread, NULL);
    pthread_cond_destroy(&ticker.wake);
    pthread_mutex_destroy(&ticker.lock);
    db_free(ticker.db);
    ticker.db = NULL;
}

/* ---- the phases of service_main, in the order it runs them ------------------- */

/*
 * What the phases share: set by one, read by the later ones and the drain.
 * One per process, like the globals above.
 */
struct service_run {
    const struct service_def *def;
    struct config_scope scopes[2];
    size_t nscopes;
    sigset_t stop_signals;
    const char **binding_keys; /* the subscribed types: the relay binds the queue to them */
    struct http_server *http;
};

/*
 * Phase config: tables → values. Returns -1 to go on, else the exit status:
 * SERVICE_EXIT_OK after --help, SERVICE_EXIT_CONFIG (one line on stderr)
 * when a value is invalid.
 */
static int phase_config(struct service_run *run, int argc, char **argv)
{
    const struct service_def *def = run->def;
    struct err err;
    err_clear(&err);
    run->scopes[0] =
        (struct config_scope){"common", config_common_keys, config_common_nkeys, &common_config};
    run->scopes[1] =
        (struct config_scope){def->name, def->config_keys, def->nconfig_keys, def->config};
    run->nscopes = def->nconfig_keys ? 2 : 1;
    int rc = config_load(run->scopes, run->nscopes, argc, argv, &err);
    if (rc == CONFIG_HELP_SHOWN)
        return SERVICE_EXIT_OK;
    if (rc == 0 && !common_config.amqp_cert_file[0] != !common_config.amqp_key_file[0])
        rc = err_set(&err, ERR_INVALID,
                     "AMQP_CERT_FILE and AMQP_KEY_FILE go together: set both or neither");
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", def->name, err.msg);
        return SERVICE_EXIT_CONFIG;
    }
    if (!http_allowed_hosts_valid(common_config.http_allowed_hosts)) {
        fprintf(stderr,
                "%s: invalid HTTP_ALLOWED_HOSTS (--http-allowed-hosts): '%.64s' is not a "
                "comma-separated list of host names\n",
                def->name, common_config.http_allowed_hosts);
        return SERVICE_EXIT_CONFIG;
    }
    if (common_config.http_port == 0)
        common_config.http_port = def->http_port;
    if (common_config.instance_id[0])
        snprintf(instance_id, sizeof(instance_id), "%s", common_config.instance_id);
    else
        snprintf(instance_id, sizeof(instance_id), "%s-%ld", def->name, (long)getpid());
    return -1;
}

/* Phase log: the level, the fields of every line, and the settings in effect. */
static void phase_log(const struct service_run *run)
{
    enum log_level level = LOG_LEVEL_INFO;
    log_level_parse(common_config.log_level, &level);
    log_setup(run->def->name, instance_id, level);
    char described[2048];
    config_describe(run->scopes, run->nscopes, described, sizeof(described));
    log_info("starting: %s", described);
}

/*
 * Phase signals: SIGTERM and SIGINT blocked in every thread (they inherit the
 * mask, so this runs before any thread starts) and taken by sigwait in
 * phase_wait, so a handler never runs in the middle of a libpq or rabbitmq-c
 * call. A broken socket must not kill us: SIGPIPE ignored.
 */
static void phase_signals(struct service_run *run)
{
    sigemptyset(&run->stop_signals);
    sigaddset(&run->stop_signals, SIGTERM);
    sigaddset(&run->stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &run->stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Phase traces: the OTLP exporter, off unless OTEL_EXPORTER_OTLP_*ENDPOINT is set. */
static int phase_traces(const struct service_run *run, struct err *err)
{
    return otlp_start(run->def->name, err);
}

/* Phase relay: publishes what the outbox holds; declares the topology first. */
static int phase_relay(struct service_run *run, struct err *err)
{
    const struct service_def *def = run->def;
    run->binding_keys = calloc(def->nsubscriptions + 1, sizeof(char *));
    if (!run->binding_keys)
        return err_set(err, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < def->nsubscriptions; i++)
        run->binding_keys[i] = def->subscriptions[i].event->type;
    struct relay_config cfg = {
        .context = def->name,
        .instance = instance_id,
        .database_url = common_config.database_url,
        .bus = bus_config(),
        .binding_keys = run->binding_keys,
        .nbinding_keys = def->nsubscriptions,
        .retry_base_ms = common_config.retry_base_ms,
        .retry_max_ms = common_config.retry_max_ms,
        .retention_hours = common_config.retention_hours,
        .lease_ms = common_config.lease_ms,
        .app = def->app,
        .hooks = def->relay_hooks,
    };
    if (!(relay = relay_start(&cfg, err)))
        return err_wrap(err, "cannot start the relay");
    return 0;
}

/* Phase consumers: CONSUMERS threads handling what the context subscribes to (none without). */
static int phase_consumers(const struct service_run *run, struct err *err)
{
    const struct service_def *def = run->def;
    for (int i = 0; def->nsubscriptions > 0 && i < common_config.consumers; i++) {
        struct consumer_config cfg = {
            .context = def->name,
            .instance = instance_id,
            .database_url = common_config.database_url,
            .bus = bus_config(),
            .subscriptions = def->subscriptions,
            .nsubscriptions = def->nsubscriptions,
            .retry = {common_config.retry_max_attempts, common_config.retry_base_ms,
                      common_config.retry_max_ms},
            .lease_ms = common_config.lease_ms,
            .notify_after_commit = notify_after_commit(),
            .breaker_threshold = common_config.breaker_threshold,
            .breaker_pause_max_ms = common_config.breaker_pause_max_ms,
            .app = def->app,
            .hooks = def->consumer_hooks,
        };
        if (!(consumers[nconsumers] = consumer_start(&cfg, err)))
            return err_wrap(err, "cannot start consumer %d", i + 1);
        nconsumers++;
    }
    return 0;
}

/* Phase tick: the context's periodic job, if it has one (ticker_start). */
static int phase_tick(const struct service_run *run, struct err *err)
{
    return ticker_start(run->def, err);
}

/* Whether a consumer of this instance has paused itself (its breaker is open), for the heartbeat. */
static bool consumers_paused(void)
{
    for (int i = 0; i < nconsumers; i++)
        if (consumer_paused(consumers[i]))
            return true;
    return false;
}

/*
 * Phase heartbeat: this instance's row in <context>.heartbeat, for the
 * dashboard's Endpoints. Never fails the start: without it the service
 * works and the dashboard shows the instance silent.
 */
static int phase_heartbeat(const struct service_run *run)
{
    struct err err;
    err_clear(&err);
    if (!(heartbeat = heartbeat_start(common_config.database_url, run->def->name, instance_id,
                                      consumers_paused, &err)))
        log_warn("no heartbeat: %s", err.msg);
    return 0;
}

/* Phase http: the API, /health and /metrics; the service is ready once it listens. */
static int phase_http(struct service_run *run, struct err *err)
{
    const struct service_def *def = run->def;
    struct http_config cfg = {
        .port = common_config.http_port,
        .bind_address = common_config.http_address,
        .allowed_hosts = common_config.http_allowed_hosts,
        .client_connections = common_config.http_client_connections,
        .request_deadline_ms = common_config.http_request_deadline_ms,
        .routes = def->routes,
        .nroutes = def->nroutes,
        .app = def->app,
        .health = health,
        .thread_ctx_new = thread_db_new,
        .thread_ctx_free = thread_db_free,
    };
    if (!(run->http = http_start(&cfg, err)))
        return err->code;
    log_info("ready: http://127.0.0.1:%d, %zu routes, %zu subscriptions", http_port(run->http),
             def->nroutes, def->nsubscriptions);
    return 0;
}

/* Phase wait: until SIGTERM or SIGINT. */
static void phase_wait(const struct service_run *run)
{
    int sig = 0;
    sigwait(&run->stop_signals, &sig);
    log_info("stopping on %s: draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

/*
 * Phase drain: stops what the phases started, in reverse order (each stop
 * is a no-op for a phase that did not run): no new requests, the tick's pass
 * and the message in hand finish, the relay finishes its batch and hands
 * back its leases, and the exporter goes last, when no thread records spans.
 */
static void phase_drain(struct service_run *run)
{
    http_stop(run->http);
    run->http = NULL;
    ticker_stop();
    heartbeat_stop(heartbeat);
    heartbeat = NULL;
    for (int i = 0; i < nconsumers; i++)
        consumer_stop(consumers[i]);
    nconsumers = 0;
    relay_stop(relay);
    relay = NULL;
    otlp_stop();
    free(run->binding_keys);
    run->binding_keys = NULL;
}

int service_main(int argc, char **argv, const struct service_def *def)
{
    struct err err;
    err_clear(&err);
    if (check_descriptor(def, &err) != 0) {
        fprintf(stderr, "%s\n", err.msg);
        return SERVICE_EXIT_FAILURE;
    }
    running = def;
    struct service_run run = {.def = def};
    int status = phase_config(&run, argc, argv);
    if (status >= 0)
        return status;
    phase_log(&run);
    phase_signals(&run);
    if (phase_traces(&run, &err) != 0) {
        log_error("%s", err.msg);
        return SERVICE_EXIT_CONFIG;
    }
    status = SERVICE_EXIT_FAILURE;
    if (phase_relay(&run, &err) == 0 && phase_consumers(&run, &err) == 0 &&
        phase_tick(&run, &err) == 0 && phase_heartbeat(&run) == 0 && phase_http(&run, &err) == 0) {
        phase_wait(&run);
        status = SERVICE_EXIT_OK;
    } else {
        log_error("%s", err.msg);
    }
    phase_drain(&run);
    if (status == SERVICE_EXIT_OK)
        log_info("stopped");
    return status;
}
