/*
 * e2e_harness.h - drives the six context executables for the end-to-end
 * tests: clean schemas and queues, migrations, the six processes started on
 * free ports and stopped with SIGTERM (a graceful stop that must exit 0 is
 * part of the contract), HTTP calls through libcurl, bounded polls, and
 * count queries across every schema (the test, like the operations tool, is
 * the one reader of all of them).
 *
 * Not a context: it only uses what users and operators see (HTTP, the
 * outbox/inbox tables of SPEC §4, the queues of SPEC §3). Every wait is
 * bounded and fails with a line naming what it waited for; nothing sleeps
 * where it can poll.
 */
#ifndef E2E_HARNESS_H
#define E2E_HARNESS_H

#include "testlib.h"

#include "common/err.h"
#include "common/uuid7.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The six contexts, in SPEC §1 order (port 8081 .. 8086). */
enum e2e_ctx {
    E2E_SERVICECATALOG,
    E2E_USERMANAGEMENT,
    E2E_BOOKING,
    E2E_INVENTORY,
    E2E_PAYMENT,
    E2E_NOTIFICATION,
    E2E_NCTX
};

#define E2E_CID_LEN 129           /* an X-Correlation-ID: up to 128 characters */
#define E2E_ID_LEN  UUID7_STR_LEN /* a UUID in text form */
#define E2E_WAIT_MS 20000         /* default bound of one wait for the choreography */

/* The context's canonical name ("booking"): executable, schema, queue prefix. */
const char *e2e_ctx_name(enum e2e_ctx c);

/* ------------------------------------------------------------------ lifecycle */

/*
 * Drops the six schemas and deletes their queues (<c>.events, <c>.dead-letter),
 * migrates all six, then starts every executable on a free port with the test
 * environment (fast retries, short leases, LOG_LEVEL=warn or $E2E_LOG_LEVEL)
 * plus extra_env ("NAME=value" strings, NULL-terminated, may be NULL), and
 * waits (30 s at most) until each answers GET /health with 200. Fails the
 * test, after stopping whatever it started, when anything goes wrong.
 */
void e2e_setup(const char *const *extra_env);

/*
 * Checks that the system settled (e2e_settled_problem), stops every running
 * service with SIGTERM (SIGKILL after 20 s) and checks that each exited 0,
 * then frees what setup made. Fails with every problem found, after cleaning up.
 */
void e2e_teardown(void);

/* Stops one service with SIGTERM, reaps it and fails unless it exited 0 within 20 s. */
void e2e_stop(enum e2e_ctx c);

/* Starts one stopped service again (new free port, same environment) and waits for its /health. */
void e2e_start(enum e2e_ctx c);

/*
 * Deletes the six contexts' queues (<c>.events, <c>.dead-letter) on the broker
 * at amqp_url, so the next service to start declares them with its own
 * arguments. Returns 0, or an error code with err set.
 */
int e2e_delete_context_queues(const char *amqp_url, struct err *err);

/* The HTTP port of a running service (chosen by e2e_setup or e2e_start). */
int e2e_port(enum e2e_ctx c);

/* The broker URL (AMQP_URL) the services use. */
const char *e2e_amqp_url(void);

/* -------------------------------------------------------------------- HTTP */

/* How one HTTP exchange ended. */
enum e2e_http_result {
    E2E_HTTP_ANSWERED,    /* a status came back (*status) */
    E2E_HTTP_UNAVAILABLE, /* the connection was refused: nothing was sent */
    E2E_HTTP_NO_REPLY, /* sent, or perhaps sent, but no answer (timeout, reset): outcome unknown */
};

/*
 * One HTTP exchange with 127.0.0.1:port, without failing the test (safe in
 * any thread: each call uses its own curl handle). body may be NULL (no body;
 * a POST then sends an empty one); correlation_id NULL sends no
 * X-Correlation-ID. *status gets the HTTP status; *text_out (may be NULL) the
 * body when answered (free it); resp_cid (may be NULL, size E2E_CID_LEN) the
 * X-Correlation-ID of the reply ("" when absent); errbuf (may be NULL, size
 * 256) a line saying why when not answered.
 */
enum e2e_http_result e2e_http_port(int port, const char *method, const char *path, const char *body,
                                   size_t body_len, const char *correlation_id, long timeout_ms,
                                   long *status, char **text_out, char *resp_cid, char *errbuf);

/*
 * One HTTP exchange with a service, without failing the test (safe in any
 * thread: each call uses its own curl handle). body may be NULL (no body);
 * body_len is its length. correlation_id NULL sends no X-Correlation-ID.
 * *status gets the HTTP status; *json_out (may be NULL) a new reference to
 * the parsed reply or NULL when it was not JSON; resp_cid (may be NULL, size
 * E2E_CID_LEN) the X-Correlation-ID of the reply ("" when absent). Returns 0,
 * or -1 with a line in errbuf (size 256) when the exchange failed.
 */
int e2e_http(const char *method, enum e2e_ctx c, const char *path, const char *body,
             size_t body_len, const char *correlation_id, long *status, json_t **json_out,
             char *resp_cid, char *errbuf);

/* POST json_text (any text, sent as is) and GET; fail the test when the exchange itself fails. */
/* Retry-After (seconds) of the last reply this thread received; 0 when it had none. */
extern _Thread_local long e2e_last_retry_after_s;

void e2e_post(enum e2e_ctx c, const char *path, const char *json_text, const char *correlation_id,
              long *status, json_t **json_out, char *resp_cid);
void e2e_get(enum e2e_ctx c, const char *path, const char *correlation_id, long *status,
             json_t **json_out, char *resp_cid);

/* A predicate over a GET's reply for e2e_poll (json may be NULL). */
typedef bool (*e2e_pred_fn)(long status, const json_t *json, const void *arg);

/*
 * GETs path every 50 ms until pred holds, at most timeout_ms. Returns a new
 * reference to the reply that satisfied it; fails naming `what` with the last
 * status and body otherwise.
 */
json_t *e2e_poll(enum e2e_ctx c, const char *path, e2e_pred_fn pred, const void *arg,
                 int timeout_ms, const char *what);

/* e2e_poll until the reply is 200 and its string member `field` equals value. */
json_t *e2e_poll_field(enum e2e_ctx c, const char *path, const char *field, const char *value,
                       int timeout_ms, const char *what);

/* e2e_poll until the reply has status `want` (e.g. 200 once a replica exists). */
json_t *e2e_poll_status(enum e2e_ctx c, const char *path, long want, int timeout_ms,
                        const char *what);

/* ----------------------------------------------------------------- JSON */

/* obj's string member key, or "<missing>" when absent or not a string (never NULL). */
const char *e2e_str(const json_t *obj, const char *key);

/* obj's integer member key, or INT64_MIN when absent or not an integer. */
int64_t e2e_int(const json_t *obj, const char *key);

/* Fails unless json is a SPEC error body {"error": error, "detail": <non-empty string>}. */
void e2e_assert_error_body(const json_t *json, const char *error, const char *what);

/*
 * The first element of array (borrowed) that is an object whose string member
 * key equals value, or NULL. A second pair (key2, value2) narrows it when key2
 * is not NULL.
 */
const json_t *e2e_find(const json_t *array, const char *key, const char *value, const char *key2,
                       const char *value2);

/* How many elements of array are objects whose string member key equals value. */
size_t e2e_count_matching(const json_t *array, const char *key, const char *value);

/* json as compact text for failure messages (static buffer, truncated; main thread only). */
const char *e2e_dump(const json_t *json);

/* ---------------------------------------------------------------- database */

/* Runs a query returning one value (up to two text parameters, NULL = unused); fails on error. */
void e2e_value(const char *sql, const char *p1, const char *p2, char *out, size_t outlen);

/* e2e_value read as an integer (a "SELECT count(*) …"). */
int64_t e2e_count(const char *sql, const char *p1, const char *p2);

/* Polls e2e_count every 50 ms until it equals want; fails naming `what` after timeout_ms. */
void e2e_wait_count(const char *sql, const char *p1, const char *p2, int64_t want, int timeout_ms,
                    const char *what);

/*
 * Every row of a query as a new JSON array of arrays of strings (SQL NULL is
 * JSON null); fails on error. Up to two text parameters, NULL = unused.
 */
json_t *e2e_rows(const char *sql, const char *p1, const char *p2);

/*
 * Waits until consumer's inbox holds a processed event of type whose data
 * member key equals value (the consumer has applied it), at most timeout_ms.
 * Fails naming what it waited for.
 */
void e2e_wait_handled(enum e2e_ctx consumer, const char *type, const char *key, const char *value,
                      int timeout_ms);

/*
 * NULL when the system has settled: within timeout_ms every outbox row of the
 * six schemas is 'published' and no inbox row is 'processing' or 'failed', and
 * no inbox row is 'dead'. Otherwise a static line describing what is not.
 */
const char *e2e_settled_problem(int timeout_ms);

/* ---------------------------------------------------------------- fixtures */

/* A unique, valid e-mail address such as "prefix_1234_5@example.com". */
void e2e_unique_email(char *out, size_t outlen, const char *prefix);

/* A new random UUID (v7) text, e.g. for an id nobody knows. */
void e2e_new_uuid(char out[E2E_ID_LEN]);

/* POST /users {email, name} → 201; copies the new id into id_out. */
void e2e_create_user(const char *email, const char *name, const char *correlation_id,
                     char id_out[E2E_ID_LEN]);

/*
 * POST /providers for owner_id, retried while it is 422 (servicecatalog's
 * replica may not know the owner yet), until 201 or E2E_WAIT_MS. The reply
 * (new reference) is returned; its id is copied into id_out.
 */
json_t *e2e_create_provider(const char *owner_id, const char *correlation_id,
                            char id_out[E2E_ID_LEN]);

/* POST /providers/{id}/offerings → 201; copies the new id into id_out. */
void e2e_create_offering(const char *provider_id, const char *name, long long price_cents,
                         long long capacity, const char *correlation_id, char id_out[E2E_ID_LEN]);

/*
 * Waits until booking and inventory both applied the offering's
 * servicecatalog.offering.published and GET /stock/{offering} answers 200.
 */
void e2e_wait_offering_known(const char *offering_id);

#endif
