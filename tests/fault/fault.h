/*
 * fault.h - the fault suite's fixture: the six services as processes the
 * test may SIGKILL, restart and double, on top of the e2e harness.
 *
 * fault_setup() lets the e2e harness do what it does for every end-to-end
 * test (fresh schemas and queues, migrations, the six executables started
 * and healthy), then takes the six processes over: it reads each one's
 * environment from /proc, stops it with SIGTERM through the harness (which
 * checks it exits 0) and starts the same executable with the same
 * environment as a child of its own, which it may then kill -9, restart or
 * run twice. Nothing here changes the harness; everything the suite needs
 * beyond it lives in tests/fault/.
 *
 * Not thread-safe, except fault_http() and fault_port(), which the load
 * generator's thread calls while the main thread kills and restarts.
 * Every wait is bounded and fails naming what it waited for.
 */
#ifndef FAULT_H
#define FAULT_H

#include "e2e_harness.h"

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#define FAULT_INSTANCES_MAX 2     /* instances per context: the scale-out scenario runs two */
#define FAULT_HEALTH_MS     30000 /* a started instance answers /health 200 within this */
#define FAULT_STOP_MS       20000 /* SIGTERM to exit 0, before SIGKILL */
#define FAULT_QUIET_MS      90000 /* bound of the wait for the system to go quiet */

/*
 * The retry policy of the suite's instances (they win over the harness's
 * RETRY_* settings): a budget of ~15-25 s of retries, so an event whose
 * prerequisite is delayed by an outage is retried until it arrives, never
 * dead-lettered for the outage alone.
 */
#define FAULT_RETRY_ENV "RETRY_BASE_MS=200", "RETRY_MAX_MS=2000", "RETRY_MAX_ATTEMPTS=15"

/* ------------------------------------------------------------------ lifecycle */

/*
 * Starts a scenario: e2e_setup(extra_env), then takes the six services over
 * (see above) with FAULT_RETRY_ENV, then extra_env (which may set its own
 * retry policy), applied on top of the harness's environment, each instance logging to
 * $FAULT_OUT_DIR/<scenario>/<instance>.log. scenario names the reports.
 * Fails the test when anything goes wrong.
 */
void fault_setup(const char *scenario, const char *const *extra_env);

/*
 * Ends a scenario: stops every instance still running with SIGTERM (each
 * must exit 0 within FAULT_STOP_MS), then e2e_teardown(). Fails naming
 * every instance that did not stop cleanly. Safe after a failed setup.
 */
void fault_teardown(void);

/* The scenario's name, as given to fault_setup ("" outside a scenario). */
const char *fault_scenario(void);

/* Where the scenario's logs and report go: $FAULT_OUT_DIR/<scenario> (created by setup). */
const char *fault_out_dir(void);

/*
 * The soak factor: 1, or $FAULT_SOAK_FACTOR (default 10) when FAULT_SOAK=1.
 * Scenarios multiply their load durations by it.
 */
int fault_soak(void);

/* ------------------------------------------------------------------ instances */

/*
 * SIGKILLs instance `slot` (0 = the first) of c and reaps it. Its counters
 * (/metrics) are read just before, so the suite's totals keep them.
 */
void fault_kill(enum e2e_ctx c, int slot);

/*
 * Freezes (SIGSTOP) or thaws (SIGCONT) instance `slot` of c: frozen, it holds
 * whatever it had (leases, transactions) and answers nothing. fault_kill may
 * kill a frozen instance (its counters since they were last read are lost).
 */
void fault_freeze(enum e2e_ctx c, int slot, bool frozen);

/* Starts instance `slot` of c (again): same environment, a new port; waits for /health 200. */
void fault_start(enum e2e_ctx c, int slot);

/* Stops instance `slot` of c with SIGTERM; fails unless it exits 0 within FAULT_STOP_MS. */
void fault_stop(enum e2e_ctx c, int slot);

/* True while instance `slot` of c runs. */
bool fault_running(enum e2e_ctx c, int slot);

/*
 * The HTTP port of a running instance of c, rotating among them (safe from
 * any thread); 0 when none runs.
 */
int fault_port(enum e2e_ctx c);

/*
 * Waits until every running instance answers GET /health with status want
 * and, when dependency is not NULL, with checks.<dependency> = state (e.g.
 * 503 with "broker": "down"); fails after timeout_ms naming the instances
 * that did not.
 */
void fault_wait_health(long want, const char *dependency, const char *state, int timeout_ms);

/* ----------------------------------------------------------------------- HTTP */

/* How one HTTP exchange ended, for the load generator's bookkeeping (e2e_http_port's). */
enum fault_http_result {
    FAULT_HTTP_ANSWERED = E2E_HTTP_ANSWERED,       /* a status came back (*status) */
    FAULT_HTTP_UNAVAILABLE = E2E_HTTP_UNAVAILABLE, /* no instance runs, or the connection was
                                                      refused: nothing was sent */
    FAULT_HTTP_NO_REPLY = E2E_HTTP_NO_REPLY,       /* sent, but no answer (timeout, reset):
                                                      the outcome is unknown */
};

/*
 * One HTTP exchange with a running instance of c (safe in any thread). body
 * may be NULL; correlation_id NULL sends none. *status gets the status (0
 * without one); *json_out (may be NULL) a new reference to the parsed reply
 * or NULL. errbuf (256 bytes, may be NULL) says what failed.
 */
enum fault_http_result fault_http(enum e2e_ctx c, const char *method, const char *path,
                                  const char *body, const char *correlation_id, long *status,
                                  json_t **json_out, char *errbuf);

/* ----------------------------------------------------------------- metrics */

/*
 * The sum of a Prometheus counter over every instance of every context:
 * those running now (read from GET /metrics) plus what killed and stopped
 * instances had counted when last read. name is the sample's name with its
 * labels, as printed: "events_duplicates_total",
 * "events_dead_lettered_total{reason=\"poison\"}". A lower bound when an
 * instance was killed between two reads.
 */
long long fault_metric_total(const char *name);

/* The counter name (as for fault_metric_total) of one running instance; -1 when it does not run. */
long long fault_instance_metric(enum e2e_ctx c, int slot, const char *name);

/* ----------------------------------------------------------------- broker */

/* The broker URL the scenario's services use (AMQP_URL at setup time). */
const char *fault_amqp_url(void);

/*
 * Publishes body to the events exchange with routing key rk, persistent,
 * mandatory, with message_id / type / correlation_id / app_id (each may be
 * NULL), and waits for the broker's confirm. Fails the test when the broker
 * refuses it or nothing is bound to rk. Keeps one connection open across
 * calls (closed by fault_teardown).
 */
void fault_publish(const char *rk, const char *body, size_t len, const char *message_id,
                   const char *type, const char *correlation_id, const char *app_id);

/* ---------------------------------------------------------- infrastructure */

/*
 * Runs "$INFRA_SH <action> <component>" (tests/run.sh exports INFRA_SH and
 * the settings of its private servers); fails unless it exits 0.
 */
void fault_infra(const char *action, const char *component);

/*
 * The pid of the private RabbitMQ node: $FAULT_BROKER_PID, else the one in
 * $LOCAL_DIR/rabbitmq/rabbitmq.pid (tests/run.sh's node); 0 when neither
 * says (a scenario that needs it then skips itself).
 */
pid_t fault_broker_pid(void);

/*
 * Freezes (SIGSTOP) or thaws (SIGCONT) the broker, fault_broker_pid(): it
 * stops answering without closing a connection. The first freeze registers
 * the thaw with fault_on_cleanup, so no test leaves it frozen.
 */
void fault_freeze_broker(bool frozen);

/* ------------------------------------------------------------------ report */

/*
 * Prints one line "fault[<scenario>]: …" on stdout and appends it to
 * <out dir>/report.txt.
 */
void fault_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Registers a command run by fault_teardown, at exit and on SIGTERM/SIGINT
 * (e.g. stopping a RabbitMQ cluster the scenario started): argv is copied,
 * NULL-terminated. One at a time; NULL clears it.
 */
void fault_on_cleanup(const char *const *argv);

#endif
