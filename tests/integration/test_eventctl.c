/*
 * test_eventctl.c - the operations tool against a real PostgreSQL: the
 * eventctl binary (its path is EVENTCTL_BIN) is run as people run it, and its
 * exit status, stdout and stderr are checked.
 *
 * The booking, inventory and payment schemas are dropped and migrated afresh
 * from migrations/ (EVENTCTL_MIGRATIONS), the other three contexts' schemas
 * are dropped, and each test writes the outbox and inbox rows it needs
 * through tests/lib/ops_fixtures.h: a small booking saga under a correlation
 * id unique to the test.
 * The schemas are dropped at the end; e2e tests migrate their own.
 */
#include "ops_fixtures.h"
#include "testlib.h"

#include "common/bus.h"
#include "common/db.h"
#include "common/migrate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Migrated afresh for the test; the other contexts' schemas are dropped, so nothing else shows. */
static const char *const scratch[] = {"booking", "inventory", "payment"};
static const char *const absent[] = {"servicecatalog", "usermanagement", "notification"};
#define NSCRATCH (sizeof(scratch) / sizeof(scratch[0]))
#define NABSENT  (sizeof(absent) / sizeof(absent[0]))

/* The saga's events (ops_fixtures_saga): created → reserved → succeeded, and E4 unpublished. */
#define E1         OPS_FIXTURES_E1
#define E2         OPS_FIXTURES_E2
#define E3         OPS_FIXTURES_E3
#define E4         OPS_FIXTURES_E4
#define UNKNOWN_ID "01900000-0000-7000-8000-00000000dead"

static struct db *db;
static char corr[64], corr2[64]; /* this test's correlation ids */

/* ---- running eventctl ------------------------------------------------------- */

struct run {
    int status; /* exit status, or -1 when it did not exit normally */
    char out[16384];
    char err[4096];
};

static void read_all(int fd, char *buf, size_t len)
{
    size_t n = 0;
    ssize_t r;
    lseek(fd, 0, SEEK_SET);
    while (n + 1 < len && (r = read(fd, buf + n, len - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(fd);
}

/* Runs eventctl with args (NULL-terminated) and captures what it printed. */
static void eventctl(struct run *r, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)EVENTCTL_BIN;
    for (; *args && argc < 31; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;

    char out_path[] = "/tmp/eventctl_out_XXXXXX", err_path[] = "/tmp/eventctl_err_XXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    assert_true(out_fd >= 0 && err_fd >= 0);
    unlink(out_path);
    unlink(err_path);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* No terminal: a question eventctl asks reads end of file (not confirmed). */
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(out_fd, 1);
        dup2(err_fd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    read_all(out_fd, r->out, sizeof(r->out));
    read_all(err_fd, r->err, sizeof(r->err));
}

#define EVENTCTL(r, ...) eventctl((r), (const char *const[]){__VA_ARGS__, NULL})

static void expect_exit(const struct run *r, int status)
{
    if (r->status != status)
        fail_msg("eventctl exited %d, expected %d\n--- stdout\n%s--- stderr\n%s", r->status, status,
                 r->out, r->err);
}

/* The line of text holding needle, copied into line; fails the test when none does. */
static const char *line_with(const char *text, const char *needle, char *line, size_t len)
{
    const char *hit = strstr(text, needle);
    if (!hit)
        fail_msg("no line with '%s' in:\n%s", needle, text);
    const char *start = hit;
    while (start > text && start[-1] != '\n')
        start--;
    size_t n = strcspn(start, "\n");
    snprintf(line, len, "%.*s", (int)n, start);
    return start;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static int group_setup(void **state)
{
    (void)state;
    db = db_new(testlib_require_env("DATABASE_URL"));
    struct err err = {0};
    if (!db || db_connect(db, &err) < 0) {
        fprintf(stderr, "cannot connect: %s\n", err.msg);
        return -1;
    }
    for (size_t i = 0; i < NABSENT; i++) {
        char drop[128];
        snprintf(drop, sizeof(drop), "DROP SCHEMA IF EXISTS %s CASCADE", absent[i]);
        if (db_exec(db, drop, 0, NULL, NULL, NULL, &err) < 0) {
            fprintf(stderr, "cannot drop schema '%s': %s\n", absent[i], err.msg);
            return -1;
        }
    }
    for (size_t i = 0; i < NSCRATCH; i++) {
        char drop[128];
        snprintf(drop, sizeof(drop), "DROP SCHEMA IF EXISTS %s CASCADE", scratch[i]);
        if (db_exec(db, drop, 0, NULL, NULL, NULL, &err) < 0 ||
            migrate_context(db, EVENTCTL_MIGRATIONS, scratch[i], NULL, &err) < 0) {
            fprintf(stderr, "cannot set up schema '%s': %s\n", scratch[i], err.msg);
            return -1;
        }
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    struct err err = {0};
    for (size_t i = 0; i < NSCRATCH; i++) {
        char drop[128];
        snprintf(drop, sizeof(drop), "DROP SCHEMA IF EXISTS %s CASCADE", scratch[i]);
        (void)db_exec(db, drop, 0, NULL, NULL, NULL, &err);
    }
    db_free(db);
    return 0;
}

/* Each test starts from empty tables, the saga in a fresh correlation id. */
static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < NSCRATCH; i++)
        ops_fixtures_truncate(db, scratch[i]);
    testlib_unique_name(corr, sizeof(corr), "corr");
    testlib_unique_name(corr2, sizeof(corr2), "corr");
    ops_fixtures_saga(db, corr, corr2);
    return 0;
}

/* ---- messages -------------------------------------------------------------------- */

static void test_messages_lists_outbox_and_inbox_rows_newest_first(void **state)
{
    (void)state;
    struct run r;
    EVENTCTL(&r, "messages", "--limit", "100");
    expect_exit(&r, 0);
    /* The header, then the eight rows by time, newest first. */
    /* One row per line, as eventctl prints them. */
    /* clang-format off */
    static const char *const order[] = {
        "2026-01-01T10:00:00.040Z  booking         outbox  -               failed      booking.booking.created",
        "2026-01-01T10:00:00.035Z  inventory       inbox   inventory       dead        payment.payment.succeeded",
        "2026-01-01T10:00:00.030Z  payment         outbox  -               published   payment.payment.succeeded",
        "2026-01-01T10:00:00.018Z  payment         inbox   payment         processed   inventory.stock.reserved",
        "2026-01-01T10:00:00.014Z  inventory       outbox  -               published   inventory.stock.reserved",
        "2026-01-01T10:00:00.008Z  inventory       inbox   inventory       processed   booking.booking.created",
        "2026-01-01T10:00:00.007Z  payment         inbox   payment         processed   booking.booking.created",
        "2026-01-01T10:00:00.000Z  booking         outbox  -               published   booking.booking.created",
    };
    /* clang-format on */
    assert_int_equal(count_lines(r.out), 1 + 8);
    const char *at = strchr(r.out, '\n') + 1;
    char line[1024];
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (strncmp(at, order[i], strlen(order[i])) != 0)
            fail_msg("row %zu is not '%s' in:\n%s", i + 1, order[i], r.out);
        at = strchr(at, '\n') + 1;
    }
    line_with(r.out, "failed      booking.booking.created", line, sizeof(line));
    assert_non_null(strstr(line, E4 "  "));
    assert_non_null(strstr(line, corr2));
    assert_non_null(strstr(line, "      10  unroutable: no queue bound"));
    line_with(r.out, "dead", line, sizeof(line));
    assert_non_null(strstr(line, "       5  handler failed: stock row locked"));

    /* Filters: one context, one status, one type. */
    EVENTCTL(&r, "messages", "--context", "payment", "--status", "processed");
    expect_exit(&r, 0);
    assert_int_equal(count_lines(r.out), 1 + 2);
    assert_null(strstr(r.out, "outbox"));
    EVENTCTL(&r, "messages", "--type=inventory.stock.reserved");
    expect_exit(&r, 0);
    assert_int_equal(count_lines(r.out), 1 + 2);
    EVENTCTL(&r, "messages", "--limit", "1");
    expect_exit(&r, 0);
    assert_int_equal(count_lines(r.out), 1 + 1);
    assert_non_null(strstr(r.out, E4));
}

static void test_messages_json_prints_one_object_per_line(void **state)
{
    (void)state;
    struct run r;
    EVENTCTL(&r, "messages", "--json", "--status", "dead");
    expect_exit(&r, 0);
    assert_int_equal(count_lines(r.out), 1);
    json_error_t jerr;
    json_t *o = json_loads(r.out, 0, &jerr);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "context")), "inventory");
    assert_string_equal(json_string_value(json_object_get(o, "table")), "inbox");
    assert_string_equal(json_string_value(json_object_get(o, "consumer")), "inventory");
    assert_string_equal(json_string_value(json_object_get(o, "id")), E3);
    assert_string_equal(json_string_value(json_object_get(o, "correlation_id")), corr);
    assert_int_equal(json_integer_value(json_object_get(o, "attempts")), 5);
    assert_string_equal(json_string_value(json_object_get(o, "time")), "2026-01-01T10:00:00.035Z");
    json_decref(o);
}

/* ---- trace ----------------------------------------------------------------------- */

/* Leading spaces of the line holding needle. */
static int indent_of(const char *text, const char *needle)
{
    char line[1024];
    line_with(text, needle, line, sizeof(line));
    return (int)strspn(line, " ");
}

static void test_trace_shows_the_causal_chain_as_a_tree(void **state)
{
    (void)state;
    struct run r;
    EVENTCTL(&r, "trace", corr);
    expect_exit(&r, 0);
    char line[1024];
    line_with(r.out, "correlation id", line, sizeof(line));
    assert_non_null(strstr(line, "3 events, 4 deliveries, 1 not processed"));

    /* Order: E1, its deliveries by finish time, E2 under inventory's (which published it), ... */
    const char *e1 = line_with(r.out, "booking.booking.created", line, sizeof(line));
    assert_non_null(strstr(line, "2026-01-01T10:00:00.000Z  booking"));
    assert_non_null(strstr(line, E1 "  caused by request-1"));
    const char *pay1 =
        line_with(r.out, "-> payment         processed   attempts 1", line, sizeof(line));
    assert_non_null(strstr(line, "processed 2026-01-01T10:00:00.012Z  12.0 ms"));
    const char *inv1 =
        line_with(r.out, "-> inventory       processed   attempts 1", line, sizeof(line));
    assert_non_null(strstr(line, "15.0 ms"));
    const char *e2 = line_with(r.out, "inventory.stock.reserved", line, sizeof(line));
    assert_non_null(strstr(line, E2 "  caused by " E1));
    const char *pay2 = line_with(r.out, "attempts 2", line, sizeof(line));
    assert_non_null(strstr(line, "17.0 ms"));
    const char *e3 = line_with(r.out, "payment.payment.succeeded", line, sizeof(line));
    const char *dead = line_with(r.out, "dead", line, sizeof(line));
    assert_non_null(strstr(line, "-> inventory       dead        attempts 5  processed -  -"));
    assert_non_null(strstr(line, "error 'handler failed: stock row locked'"));
    assert_true(e1 < pay1 && pay1 < inv1 && inv1 < e2 && e2 < pay2 && pay2 < e3 && e3 < dead);
    assert_null(strstr(r.out, E4));

    /* Each generation one step deeper, deliveries half a step. */
    assert_int_equal(indent_of(r.out, "booking.booking.created"), 0);
    assert_int_equal(indent_of(r.out, "-> payment         processed   attempts 1"), 2);
    assert_int_equal(indent_of(r.out, "-> inventory       processed"), 2);
    assert_int_equal(indent_of(r.out, "inventory.stock.reserved"), 4);
    assert_int_equal(indent_of(r.out, "attempts 2"), 6);
    assert_int_equal(indent_of(r.out, "payment.payment.succeeded"), 8);
    assert_int_equal(indent_of(r.out, "attempts 5"), 10);

    /* Inventory's inbox row of E1 purged: E2 still hangs under inventory, flagged. */
    ops_fixtures_exec(db, "DELETE FROM inventory.inbox WHERE id = $1", 1, (const char *[]){E1});
    EVENTCTL(&r, "trace", corr);
    expect_exit(&r, 0);
    const char *gone = line_with(r.out, "no inbox row", line, sizeof(line));
    assert_non_null(strstr(line, "  -> inventory       (no inbox row: purged or never recorded)"));
    assert_true(gone < strstr(r.out, "inventory.stock.reserved"));
    assert_int_equal(indent_of(r.out, "inventory.stock.reserved"), 4);

    /* E4 was never published: it has no delivery, and its outbox status says why. */
    EVENTCTL(&r, "trace", corr2);
    expect_exit(&r, 0);
    line_with(r.out, E4, line, sizeof(line));
    assert_non_null(strstr(line, "caused by request-2  (outbox: failed)"));
    assert_non_null(strstr(r.out, "\n  -> (no consumer has recorded it)\n"));
}

static void test_trace_mermaid_prints_a_sequence_diagram(void **state)
{
    (void)state;
    struct run r;
    EVENTCTL(&r, "trace", "--mermaid", corr);
    expect_exit(&r, 0);
    assert_string_equal(r.out,
                        "sequenceDiagram\n"
                        "    participant booking\n"
                        "    participant payment\n"
                        "    participant inventory\n"
                        "    booking->>payment: booking.booking.created (12.0 ms)\n"
                        "    booking->>inventory: booking.booking.created (15.0 ms)\n"
                        "    inventory->>payment: inventory.stock.reserved (17.0 ms)\n"
                        "    payment-xinventory: payment.payment.succeeded (dead, attempts 5)\n");
    EVENTCTL(&r, "trace", corr2, "--mermaid");
    expect_exit(&r, 0);
    assert_string_equal(r.out,
                        "sequenceDiagram\n"
                        "    participant booking\n"
                        "    Note over booking: booking.booking.created (no delivery recorded)\n");
}

static void test_trace_of_an_unknown_correlation_id_fails(void **state)
{
    (void)state;
    struct run r;
    EVENTCTL(&r, "trace", "no-such-correlation");
    expect_exit(&r, 1);
    assert_string_equal(r.err,
                        "eventctl trace: no events with correlation id 'no-such-correlation'\n");
    assert_string_equal(r.out, "");
}

/* ---- requeue --------------------------------------------------------------------- */

static void test_requeue_sends_a_dead_inbox_message_back_as_failed(void **state)
{
    (void)state;
    struct run r;
    EVENTCTL(&r, "requeue", E3);
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "inventory: inbox message '" E3 "' requeued"));
    char v[128];
    ops_fixtures_value(db,
                       "SELECT status || ' ' || attempts || ' ' || requeued || ' ' ||"
                       "       (next_attempt_at <= clock_timestamp())"
                       "  FROM inventory.inbox WHERE id = $1",
                       1, (const char *[]){E3}, v, sizeof(v));
    assert_string_equal(v, "failed 0 1 true");

    /* It is not dead any more: a second requeue finds nothing. */
    EVENTCTL(&r, "requeue", E3);
    expect_exit(&r, 1);
    assert_string_equal(r.err, "eventctl requeue: no dead or failed message '" E3 "'\n");
}

static void test_requeue_sends_a_failed_outbox_row_back_to_pending(void **state)
{
    (void)state;
    struct run r;
    EVENTCTL(&r, "requeue", E4, "--context", "booking");
    expect_exit(&r, 0);
    assert_string_equal(r.out, "booking: outbox message '" E4 "' requeued (failed -> pending)\n");
    char v[64];
    ops_fixtures_value(db,
                       "SELECT status || ' ' || attempts || ' ' ||"
                       "       (next_attempt_at <= clock_timestamp())"
                       "  FROM booking.outbox WHERE id = $1",
                       1, (const char *[]){E4}, v, sizeof(v));
    assert_string_equal(v, "pending 0 true");
    EVENTCTL(&r, "requeue", E4);
    expect_exit(&r, 1);
}

static void test_requeue_refuses_what_is_not_dead_or_failed(void **state)
{
    (void)state;
    struct run r;
    EVENTCTL(&r, "requeue", UNKNOWN_ID);
    expect_exit(&r, 1);
    assert_string_equal(r.err, "eventctl requeue: no dead or failed message '" UNKNOWN_ID "'\n");
    /* A processed message is not requeued either, nor a dead one looked for elsewhere. */
    EVENTCTL(&r, "requeue", E1);
    expect_exit(&r, 1);
    EVENTCTL(&r, "requeue", E3, "--context", "payment");
    expect_exit(&r, 1);
    EVENTCTL(&r, "requeue", "not-a-uuid");
    expect_exit(&r, 2);
    assert_non_null(strstr(r.err, "invalid message id 'not-a-uuid'"));
}

/* ---- purge ----------------------------------------------------------------------- */

static void test_purge_deletes_only_dead_rows_older_than_the_duration(void **state)
{
    (void)state;
    /* E3 died on 2026-01-01; one more died ten days ago, one an hour ago, per schema. */
    ops_fixtures_exec(db,
                      "INSERT INTO payment.inbox (id, consumer, type, correlation_id, causation_id,"
                      "                           payload, created_at, status, attempts)"
                      " VALUES ($1, 'payment', 't', $3, 'x', '{}',"
                      "         clock_timestamp() - interval '10 days', 'dead', 5),"
                      "        ($2, 'payment', 't', $3, 'x', '{}',"
                      "         clock_timestamp() - interval '1 hour', 'dead', 5)",
                      3,
                      (const char *[]){"01900000-0000-7000-8000-0000000000a1",
                                       "01900000-0000-7000-8000-0000000000a2", corr});
    /* Dead long ago, but its dead-letter copy went out yesterday: one day old. */
    ops_fixtures_exec(db,
                      "UPDATE inventory.inbox SET dead_lettered_at = clock_timestamp() - interval"
                      " '1 day' WHERE id = $1",
                      1, (const char *[]){E3});

    struct run r;
    EVENTCTL(&r, "purge", "--dead", "--older-than", "7d");
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "booking         0 dead inbox rows deleted\n"));
    assert_non_null(strstr(r.out, "inventory       0 dead inbox rows deleted\n"));
    assert_non_null(strstr(r.out, "payment         1 dead inbox row deleted\n"));
    assert_non_null(strstr(r.out, "total           1 dead inbox row deleted (older than 7d)\n"));

    EVENTCTL(&r, "purge", "--dead", "--older-than", "12h", "--context", "inventory");
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "inventory       1 dead inbox row deleted\n"));
    assert_null(strstr(r.out, "payment "));

    char v[64];
    ops_fixtures_value(
        db,
        "SELECT (SELECT count(*) FROM payment.inbox WHERE status = 'dead') || ' ' ||"
        "       (SELECT count(*) FROM inventory.inbox WHERE status = 'dead') || ' ' ||"
        "       (SELECT count(*) FROM payment.inbox)",
        0, NULL, v, sizeof(v));
    assert_string_equal(v, "1 0 3"); /* the young dead row stays, and every processed row */
}

static void test_purge_refuses_without_both_flags(void **state)
{
    (void)state;
    struct run r;
    EVENTCTL(&r, "purge", "--dead");
    expect_exit(&r, 2);
    EVENTCTL(&r, "purge", "--older-than", "7d");
    expect_exit(&r, 2);
    EVENTCTL(&r, "purge");
    expect_exit(&r, 2);
    assert_non_null(strstr(r.err, "refusing to purge without both --dead and --older-than"));
    EVENTCTL(&r, "purge", "--dead", "--older-than", "7 days");
    expect_exit(&r, 2);
    char v[16];
    ops_fixtures_value(db, "SELECT count(*) FROM inventory.inbox WHERE status = 'dead'", 0, NULL, v,
                       sizeof(v));
    assert_string_equal(v, "1");
}

/* ---- failures, requeue --group, edit, export, purge by id or group ---------------- */

#define D1 "01900000-0000-7000-8000-0000000000d1"
#define D2 "01900000-0000-7000-8000-0000000000d2"
#define D3 "01900000-0000-7000-8000-0000000000d3"
/* Messages of one cause differing in a quoted id, a bare number and a bare UUID. */
#define NOT_ARRIVED(b, n, u)                                                                       \
    "gave up after 5 attempts: transient: payment intent for booking '" b "' has not arrived "     \
    "yet after " n " ms (request " u ")"
#define POISON_BODY   "\xff\xfe{not json at all"
#define POISON_REASON "body is not JSON: '[' or '{' expected near 'not' in the event's body 'x'"

/* Three dead messages of one cause in payment (NOT_ARRIVED), and poison in booking. */
static void failures_fixture(void)
{
    ops_fixtures_dead(db, "payment", D1, corr, "booking.booking.created",
                      NOT_ARRIVED("b-1", "3", "01900000-0000-7000-8000-00000000aaa1"));
    ops_fixtures_dead(db, "payment", D2, corr, "booking.booking.created",
                      NOT_ARRIVED("b-22", "17", "01900000-0000-7000-8000-00000000bbb2"));
    ops_fixtures_dead(db, "payment", D3, corr2, "booking.booking.created",
                      NOT_ARRIVED("b-333", "250", "01900000-0000-7000-8000-00000000ccc3"));
    ops_fixtures_poison(db, "booking", "m-1", "inventory.stock.reserved", POISON_BODY,
                        strlen(POISON_BODY), POISON_REASON);
}

/* The group of "eventctl failures --json" of context and kind (a copy); its id into out. */
static json_t *failures_group(const char *context, const char *kind, char *out, size_t len)
{
    struct run r;
    EVENTCTL(&r, "failures", "--json");
    expect_exit(&r, 0);
    json_error_t jerr;
    json_t *root = json_loads(r.out, 0, &jerr);
    if (!root)
        fail_msg("failures --json is not JSON: %s\n%s", jerr.text, r.out);
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(root, "groups"), i, g)
    {
        if (strcmp(json_string_value(json_object_get(g, "context")), context) == 0 &&
            strcmp(json_string_value(json_object_get(g, "kind")), kind) == 0) {
            snprintf(out, len, "%s", json_string_value(json_object_get(g, "group")));
            json_t *copy = json_deep_copy(g);
            json_decref(root);
            return copy;
        }
    }
    json_decref(root);
    fail_msg("no %s group of '%s' in:\n%s", kind, context, r.out);
    return NULL;
}

/* The id eventctl gives the one dead letter of booking: "booking:<n>". */
static void letter_id(char *out, size_t len)
{
    char n[24];
    ops_fixtures_value(db, "SELECT id FROM booking.dead_letter", 0, NULL, n, sizeof(n));
    snprintf(out, len, "booking:%s", n);
}

static void test_failures_groups_dead_messages_by_cause_and_shows_poison(void **state)
{
    (void)state;
    failures_fixture();
    char g[16], pg[16], line[512];
    json_t *group = failures_group("payment", "dead", g, sizeof(g));
    assert_int_equal(json_integer_value(json_object_get(group, "count")), 3);
    assert_string_equal(json_string_value(json_object_get(group, "cause")),
                        "transient: payment intent for booking '?' has not arrived yet after # ms "
                        "(request #)");
    assert_string_equal(json_string_value(json_object_get(group, "type")),
                        "booking.booking.created");
    assert_true(json_is_true(json_object_get(group, "retryable")));
    json_decref(group);
    group = failures_group("booking", "poison", pg, sizeof(pg));
    assert_int_equal(json_integer_value(json_object_get(group, "count")), 1);
    assert_true(json_is_false(json_object_get(group, "retryable")));
    json_decref(group);

    struct run r;
    EVENTCTL(&r, "failures");
    expect_exit(&r, 0);
    /* The header, the poison, the saga's dead E3 and the payment group. */
    assert_int_equal(count_lines(r.out), 4);
    line_with(r.out, g, line, sizeof(line));
    assert_non_null(strstr(line, "payment "));
    assert_non_null(strstr(line, " dead "));
    assert_non_null(strstr(line, "     3  "));
    line_with(r.out, pg, line, sizeof(line));
    assert_non_null(strstr(line, " poison "));
    assert_non_null(strstr(
        line, "poison: body is not JSON: '?' or '?' expected near '?' in the event's body '?'"));

    /* The same group id in every run; --group lists its messages by id. */
    EVENTCTL(&r, "failures", "--group", g);
    expect_exit(&r, 0);
    assert_int_equal(count_lines(r.out), 4);
    line_with(r.out, D2, line, sizeof(line));
    assert_non_null(strstr(line, "'b-22'"));
    EVENTCTL(&r, "failures", "--context", "inventory");
    expect_exit(&r, 0);
    assert_int_equal(count_lines(r.out), 2);
    EVENTCTL(&r, "failures", "--group", "0000000000");
    expect_exit(&r, 1);
    assert_string_equal(r.err, "eventctl failures: no failure in group '0000000000' (see "
                               "eventctl failures)\n");
}

static const char count_sql[] =
    "SELECT count(*) FILTER (WHERE status = 'dead') || ' ' ||"
    "       count(*) FILTER (WHERE status = 'failed' AND requeued = 1 AND attempts = 0"
    "                          AND next_attempt_at <= clock_timestamp())"
    "  FROM payment.inbox WHERE id IN ($1, $2, $3)";

static void test_requeue_group_requeues_each_dead_message_once(void **state)
{
    (void)state;
    failures_fixture();
    char g[16], v[32];
    json_decref(failures_group("payment", "dead", g, sizeof(g)));

    /* It asks first; without a yes nothing changes. */
    struct run r;
    EVENTCTL(&r, "requeue", "--group", g);
    expect_exit(&r, 1);
    assert_non_null(strstr(r.err, "requeue 3 dead messages"));
    assert_non_null(strstr(r.err, "not confirmed: nothing changed"));
    ops_fixtures_value(db, count_sql, 3, (const char *[]){D1, D2, D3}, v, sizeof(v));
    assert_string_equal(v, "3 0");

    EVENTCTL(&r, "requeue", "--group", g, "--yes");
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "3 dead messages requeued"));
    /* Each once (requeued = 1), due now; the other groups untouched. */
    ops_fixtures_value(db, count_sql, 3, (const char *[]){D1, D2, D3}, v, sizeof(v));
    assert_string_equal(v, "0 3");
    ops_fixtures_value(db, "SELECT status FROM inventory.inbox WHERE id = $1", 1,
                       (const char *[]){E3}, v, sizeof(v));
    assert_string_equal(v, "dead");
    /* The group is gone: a second run finds nothing and requeues nothing twice. */
    EVENTCTL(&r, "requeue", "--group", g, "--yes");
    expect_exit(&r, 1);
    assert_non_null(strstr(r.err, "no failure matches"));
    ops_fixtures_value(db, "SELECT sum(requeued) FROM payment.inbox WHERE id IN ($1, $2, $3)", 3,
                       (const char *[]){D1, D2, D3}, v, sizeof(v));
    assert_string_equal(v, "3");
}

static void test_poison_is_exported_or_purged_never_requeued(void **state)
{
    (void)state;
    failures_fixture();
    char id[64], pg[16];
    letter_id(id, sizeof(id));
    json_decref(failures_group("booking", "poison", pg, sizeof(pg)));

    struct run r;
    EVENTCTL(&r, "requeue", id);
    expect_exit(&r, 1);
    assert_non_null(strstr(r.err, "is poison and cannot be requeued: it never entered the inbox"));
    EVENTCTL(&r, "requeue", "--group", pg, "--yes");
    expect_exit(&r, 1);
    assert_non_null(strstr(r.err, "cannot be requeued"));
    EVENTCTL(&r, "edit", id, "--data", "/dev/null");
    expect_exit(&r, 1);
    assert_non_null(strstr(r.err, "is poison and cannot be edited"));

    /* The raw bytes, as received (not even UTF-8). */
    EVENTCTL(&r, "export", id);
    expect_exit(&r, 0);
    assert_string_equal(r.out, POISON_BODY);

    /* --all requeues the dead messages and says the poison stays. */
    EVENTCTL(&r, "requeue", "--all", "--yes");
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "4 dead messages requeued (all); poison cannot be requeued"));

    EVENTCTL(&r, "purge", id, "--yes");
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "1 failure purged"));
    char v[16];
    ops_fixtures_value(db, "SELECT count(*) FROM booking.dead_letter", 0, NULL, v, sizeof(v));
    assert_string_equal(v, "0");
}

static void test_purge_by_group_deletes_that_group_only(void **state)
{
    (void)state;
    failures_fixture();
    char g[16], v[32];
    json_decref(failures_group("payment", "dead", g, sizeof(g)));
    struct run r;
    EVENTCTL(&r, "purge", "--group", g);
    expect_exit(&r, 1);
    assert_non_null(strstr(r.err, "purge 3 dead messages and 0 dead letters"));
    EVENTCTL(&r, "purge", "--group", g, "--yes");
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "3 failures purged"));
    ops_fixtures_value(
        db,
        "SELECT (SELECT count(*) FROM payment.inbox WHERE status = 'dead') || ' ' ||"
        "       (SELECT count(*) FROM inventory.inbox WHERE status = 'dead') || ' ' ||"
        "       (SELECT count(*) FROM booking.dead_letter)",
        0, NULL, v, sizeof(v));
    assert_string_equal(v, "0 1 1");
    EVENTCTL(&r, "purge", "--group", g, "--dead", "--older-than", "1d");
    expect_exit(&r, 2);
}

/* The new row replacing D1: "<status> <causation> <correlation> <data> <id = payload id>". */
static void edited_row(char *out, size_t len)
{
    ops_fixtures_value(db,
                       "SELECT status || ' ' || causation_id || ' ' || correlation_id || ' ' ||"
                       "       (payload->'data')::text || ' ' ||"
                       "       (payload->>'id' = id::text AND body::jsonb = payload"
                       "        AND payload->>'causationid' = causation_id"
                       "        AND next_attempt_at <= clock_timestamp() AND attempts = 0)"
                       "  FROM payment.inbox WHERE causation_id = $1",
                       1, (const char *[]){D1}, out, len);
}

static void test_edit_sends_a_new_message_caused_by_the_dead_one(void **state)
{
    (void)state;
    failures_fixture();
    char path[] = "/tmp/eventctl_data_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"amount\": 42}", 14), 14);
    close(fd);

    struct run r;
    EVENTCTL(&r, "edit", D1, "--data", path);
    unlink(path);
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "payment: dead message '" D1 "' replaced by '"));
    char v[512], expected[512];
    edited_row(v, sizeof(v));
    snprintf(expected, sizeof(expected), "failed %s %s {\"amount\": 42} true", D1, corr);
    assert_string_equal(v, expected);
    /* The dead row is replaced; a second edit finds nothing. */
    ops_fixtures_value(db, "SELECT count(*) FROM payment.inbox WHERE id = $1", 1,
                       (const char *[]){D1}, v, sizeof(v));
    assert_string_equal(v, "0");
    EVENTCTL(&r, "edit", D1, "--data", "/dev/null");
    expect_exit(&r, 1);

    /* Through $EDITOR: an editor that changes nothing sends nothing. */
    setenv("EDITOR", "true", 1);
    EVENTCTL(&r, "edit", D2);
    expect_exit(&r, 1);
    assert_non_null(strstr(r.err, "data unchanged: nothing sent"));
    setenv("EDITOR", "sed -i s/41/43/", 1);
    EVENTCTL(&r, "edit", D2);
    unsetenv("EDITOR");
    expect_exit(&r, 0);
    ops_fixtures_value(
        db, "SELECT payload->'data'->>'amount' FROM payment.inbox WHERE causation_id = $1", 1,
        (const char *[]){D2}, v, sizeof(v));
    assert_string_equal(v, "43");
}

/* ---- usage and failures ---------------------------------------------------------- */

static void test_bad_flags_are_one_line_and_exit_2(void **state)
{
    (void)state;
    static const char *const cases[][4] = {
        {"messages", "--bogus", NULL}, {"messages", "--status", "lost"},
        {"messages", "--limit", "0"},  {"messages", "--context", "billing"},
        {"trace", "--bogus", NULL},    {"trace", NULL, NULL},
        {"requeue", NULL, NULL},       {"catalog", "--bogus", NULL},
        {"config", "extra", NULL},     {"no-such-command", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct run r;
        eventctl(&r, cases[i]);
        expect_exit(&r, 2);
        assert_int_equal(count_lines(r.err), 1);
        assert_string_equal(r.out, "");
    }
    struct run r;
    EVENTCTL(&r, "--help");
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "usage: eventctl <command>"));
    EVENTCTL(&r, "trace", "--help");
    expect_exit(&r, 0);
    assert_non_null(strstr(r.out, "usage: eventctl trace <correlation-id>"));
}

/* A TCP port nobody listens on (bound, then closed). */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/*
 * The real payment service, from the directory of EVENTCTL_BIN, on this
 * test's database and broker with fast retries. Returns its pid.
 */
static pid_t spawn_payment(void)
{
    char bin[512], port[16];
    snprintf(bin, sizeof(bin), "%s", EVENTCTL_BIN);
    char *slash = strrchr(bin, '/');
    assert_non_null(slash);
    snprintf(slash + 1, sizeof(bin) - (size_t)(slash + 1 - bin), "payment");
    /* Built by the whole build (tests/run.sh builds everything), not as our dependency. */
    if (access(bin, X_OK) != 0)
        fail_msg("no payment service at '%s': build every target first", bin);
    snprintf(port, sizeof(port), "%d", closed_port());
    const char *database = testlib_require_env("DATABASE_URL");
    const char *amqp = testlib_require_env("AMQP_URL");
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("DATABASE_URL", database, 1);
        setenv("AMQP_URL", amqp, 1);
        setenv("HTTP_PORT", port, 1);
        setenv("INSTANCE_ID", "payment-eventctl-test", 1);
        setenv("LOG_LEVEL", "warn", 1);
        setenv("RETRY_BASE_MS", "100", 1);
        setenv("RETRY_MAX_MS", "1000", 1);
        setenv("LEASE_MS", "3000", 1);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/*
 * Makes dead message id of payment a booking.booking.created event of
 * booking that payment can handle (booked by one user, one unit of one
 * offering, amount as given).
 */
static void make_booking_created(const char *id, const char *booking, const char *amount)
{
    ops_fixtures_exec(db,
                      "WITH ev AS (SELECT payload || jsonb_build_object('source', '/booking',"
                      "    'dataschema', 'urn:event:booking.booking.created:1', 'data',"
                      "    jsonb_build_object('booking_id', $2::text,"
                      "      'user_id', '01900000-0000-7000-8000-0000000000c1',"
                      "      'offering_id', '01900000-0000-7000-8000-0000000000c2',"
                      "      'quantity', 1, 'amount_cents', $3::bigint)) AS j"
                      "  FROM payment.inbox WHERE id = $1)"
                      " UPDATE payment.inbox SET payload = ev.j, body = ev.j::text FROM ev"
                      " WHERE id = $1",
                      3, (const char *[]){id, booking, amount});
}

/* Waits (20 s at most) until sql, with params, reads want. Returns the last value read. */
static const char *wait_value(const char *sql, int n, const char *const *params, const char *want,
                              char *out, size_t len)
{
    for (int waited = 0; waited < 20000; waited += 50) {
        ops_fixtures_value(db, sql, n, params, out, len);
        if (strcmp(out, want) == 0)
            break;
        testlib_sleep_ms(50);
    }
    return out;
}

static void test_requeued_group_is_processed_by_its_consumer_once_each(void **state)
{
    (void)state;
    failures_fixture();
    /* Make the three dead messages real booking.booking.created events payment can handle. */
    static const char *const ids[] = {D1, D2, D3};
    static const char *const bookings[] = {"01900000-0000-7000-8000-0000000000b1",
                                           "01900000-0000-7000-8000-0000000000b2",
                                           "01900000-0000-7000-8000-0000000000b3"};
    for (int i = 0; i < 3; i++)
        make_booking_created(ids[i], bookings[i], "1000");
    char g[16], v[64];
    json_decref(failures_group("payment", "dead", g, sizeof(g)));

    pid_t payment = spawn_payment();
    struct run r;
    EVENTCTL(&r, "requeue", "--group", g, "--yes");
    expect_exit(&r, 0);
    const char *done_sql = "SELECT count(*) FROM payment.inbox"
                           " WHERE id IN ($1, $2, $3) AND status = 'processed'";
    wait_value(done_sql, 3, ids, "3", v, sizeof(v));
    kill(payment, SIGTERM);
    int st;
    assert_int_equal(waitpid(payment, &st, 0), payment);
    if (strcmp(v, "3") != 0) {
        ops_fixtures_value(db,
                           "SELECT string_agg(status || ': ' || coalesce(last_error, ''), ' | ')"
                           "  FROM payment.inbox WHERE id IN ($1, $2, $3)",
                           3, ids, v, sizeof(v));
        fail_msg("payment did not process the requeued group within 20 s: %s", v);
    }
    /* One handler run each (attempt 1 after the requeue), one intent per booking. */
    ops_fixtures_value(db,
                       "SELECT (SELECT sum(attempts) FROM payment.inbox WHERE id IN ($1, $2, $3))"
                       "       || ' ' || (SELECT count(*) FROM payment.payments"
                       "                   WHERE booking_id IN ($4, $5, $6))",
                       6, (const char *[]){D1, D2, D3, bookings[0], bookings[1], bookings[2]}, v,
                       sizeof(v));
    assert_string_equal(v, "3 3");
}

static void test_an_edited_message_is_processed_by_its_consumer(void **state)
{
    (void)state;
    failures_fixture();
    /* Dead because its amount broke the contract; the operator fixes the amount. A booking of
     * its own: payments are not emptied between tests. */
    make_booking_created(D1, "01900000-0000-7000-8000-0000000000b9", "0");
    char path[] = "/tmp/eventctl_data_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char data[] = "{\"booking_id\": \"01900000-0000-7000-8000-0000000000b9\","
                               " \"user_id\": \"01900000-0000-7000-8000-0000000000c1\","
                               " \"offering_id\": \"01900000-0000-7000-8000-0000000000c2\","
                               " \"quantity\": 1, \"amount_cents\": 1000}";
    assert_int_equal(write(fd, data, sizeof(data) - 1), (ssize_t)(sizeof(data) - 1));
    close(fd);

    pid_t payment = spawn_payment();
    struct run r;
    EVENTCTL(&r, "edit", D1, "--data", path);
    unlink(path);
    expect_exit(&r, 0);
    char v[128];
    wait_value("SELECT status FROM payment.inbox WHERE causation_id = $1", 1, (const char *[]){D1},
               "processed", v, sizeof(v));
    kill(payment, SIGTERM);
    int st;
    assert_int_equal(waitpid(payment, &st, 0), payment);
    assert_string_equal(v, "processed");
    /* The intent was recorded once, by the new message, with the fixed amount. */
    ops_fixtures_value(db,
                       "SELECT p.amount_cents || ' ' || (p.intent_event_id = i.id)"
                       "  FROM payment.payments p JOIN payment.inbox i ON i.causation_id = $1"
                       " WHERE p.booking_id = '01900000-0000-7000-8000-0000000000b9'",
                       1, (const char *[]){D1}, v, sizeof(v));
    assert_string_equal(v, "1000 true");
}

/*
 * A stored retry is validated as a delivery is: an edit whose data breaks the
 * contract goes dead with that reason and never reaches the handler (which
 * decodes without validating again).
 */
static void test_an_edited_message_that_breaks_the_contract_goes_dead_with_its_reason(void **state)
{
    (void)state;
    failures_fixture();
    make_booking_created(D1, "01900000-0000-7000-8000-0000000000ba", "0");
    char path[] = "/tmp/eventctl_data_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char data[] = "{\"booking_id\": 7,"
                               " \"user_id\": \"01900000-0000-7000-8000-0000000000c1\","
                               " \"offering_id\": \"01900000-0000-7000-8000-0000000000c2\","
                               " \"quantity\": 1, \"amount_cents\": 1000}";
    assert_int_equal(write(fd, data, sizeof(data) - 1), (ssize_t)(sizeof(data) - 1));
    close(fd);

    pid_t payment = spawn_payment();
    struct run r;
    EVENTCTL(&r, "edit", D1, "--data", path);
    unlink(path);
    expect_exit(&r, 0);
    char v[512];
    wait_value("SELECT status FROM payment.inbox WHERE causation_id = $1", 1, (const char *[]){D1},
               "dead", v, sizeof(v));
    kill(payment, SIGTERM);
    int st;
    assert_int_equal(waitpid(payment, &st, 0), payment);
    assert_string_equal(v, "dead");
    ops_fixtures_value(db, "SELECT last_error FROM payment.inbox WHERE causation_id = $1", 1,
                       (const char *[]){D1}, v, sizeof(v));
    assert_non_null(strstr(v, "data breaks the contract of 'booking.booking.created'"));
    assert_non_null(strstr(v, "field 'booking_id' must be a string"));
}

static void test_poison_published_by_hand_appears_in_failures(void **state)
{
    (void)state;
    pid_t payment = spawn_payment();
    struct bus *bus =
        bus_new(&(struct bus_config){.url = testlib_require_env("AMQP_URL"), .confirms = 1});
    assert_non_null(bus);
    struct err err = {0};
    static const char body[] = "{\"specversion\": \"1.0\", not json";
    struct bus_message m = {.routing_key = "booking.booking.created",
                            .body = body,
                            .len = sizeof(body) - 1,
                            .message_id = "poison-by-hand-1",
                            .mandatory = 1};
    /* Unroutable until payment has bound its queue: try again for 20 s at most. */
    int rc = -1;
    for (int waited = 0; rc != 0 && waited < 20000; waited += 100) {
        rc = bus_connected(bus) || bus_connect(bus, &err) == 0
                 ? bus_publish_sync(bus, &m, 5000, &err)
                 : -1;
        if (rc != 0)
            testlib_sleep_ms(100);
    }
    bus_free(bus);
    if (rc != 0) {
        kill(payment, SIGKILL);
        waitpid(payment, NULL, 0);
        fail_msg("cannot publish the poison: %s", err.msg);
    }
    /* payment records it before its ack; eventctl reads it at once. */
    char g[16], v[32];
    wait_value("SELECT count(*) FROM payment.dead_letter", 0, NULL, "1", v, sizeof(v));
    kill(payment, SIGTERM);
    assert_int_equal(waitpid(payment, NULL, 0), payment);
    assert_string_equal(v, "1");
    json_t *group = failures_group("payment", "poison", g, sizeof(g));
    assert_int_equal(json_integer_value(json_object_get(group, "count")), 1);
    assert_true(json_is_false(json_object_get(group, "retryable")));
    json_decref(group);
    char id[64], line[512];
    ops_fixtures_value(db, "SELECT 'payment:' || id FROM payment.dead_letter", 0, NULL, id,
                       sizeof(id));
    struct run r;
    EVENTCTL(&r, "failures", "--group", g);
    expect_exit(&r, 0);
    line_with(r.out, id, line, sizeof(line));
    assert_non_null(strstr(line, " poison "));
    EVENTCTL(&r, "export", id);
    expect_exit(&r, 0);
    assert_string_equal(r.out, body);
}

static void test_unreachable_database_is_one_line_with_the_password_masked(void **state)
{
    (void)state;
    char url[128];
    snprintf(url, sizeof(url), "postgresql://events:s3cret-pw@127.0.0.1:%d/events", closed_port());
    static const char *const commands[] = {"messages", "trace", "requeue", "purge"};
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        struct run r;
        const char *args[8] = {commands[i], "--database-url", url};
        size_t n = 3;
        if (strcmp(commands[i], "trace") == 0)
            args[n++] = corr;
        else if (strcmp(commands[i], "requeue") == 0)
            args[n++] = E3;
        else if (strcmp(commands[i], "purge") == 0) {
            args[n++] = "--dead";
            args[n++] = "--older-than";
            args[n++] = "1d";
        }
        eventctl(&r, args);
        expect_exit(&r, 1);
        assert_int_equal(count_lines(r.err), 1);
        assert_null(strstr(r.err, "s3cret-pw"));
        assert_non_null(
            strstr(r.err, "cannot connect to database 'postgresql://events:***@127.0.0.1:"));
    }
}

int main(void)
{
    testlib_require_env("DATABASE_URL");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_messages_lists_outbox_and_inbox_rows_newest_first, setup),
        cmocka_unit_test_setup(test_messages_json_prints_one_object_per_line, setup),
        cmocka_unit_test_setup(test_trace_shows_the_causal_chain_as_a_tree, setup),
        cmocka_unit_test_setup(test_trace_mermaid_prints_a_sequence_diagram, setup),
        cmocka_unit_test_setup(test_trace_of_an_unknown_correlation_id_fails, setup),
        cmocka_unit_test_setup(test_requeue_sends_a_dead_inbox_message_back_as_failed, setup),
        cmocka_unit_test_setup(test_requeue_sends_a_failed_outbox_row_back_to_pending, setup),
        cmocka_unit_test_setup(test_requeue_refuses_what_is_not_dead_or_failed, setup),
        cmocka_unit_test_setup(test_purge_deletes_only_dead_rows_older_than_the_duration, setup),
        cmocka_unit_test_setup(test_purge_refuses_without_both_flags, setup),
        cmocka_unit_test_setup(test_failures_groups_dead_messages_by_cause_and_shows_poison, setup),
        cmocka_unit_test_setup(test_requeue_group_requeues_each_dead_message_once, setup),
        cmocka_unit_test_setup(test_poison_is_exported_or_purged_never_requeued, setup),
        cmocka_unit_test_setup(test_purge_by_group_deletes_that_group_only, setup),
        cmocka_unit_test_setup(test_edit_sends_a_new_message_caused_by_the_dead_one, setup),
        cmocka_unit_test_setup(test_requeued_group_is_processed_by_its_consumer_once_each, setup),
        cmocka_unit_test_setup(test_an_edited_message_is_processed_by_its_consumer, setup),
        cmocka_unit_test_setup(
            test_an_edited_message_that_breaks_the_contract_goes_dead_with_its_reason, setup),
        cmocka_unit_test_setup(test_poison_published_by_hand_appears_in_failures, setup),
        cmocka_unit_test_setup(test_bad_flags_are_one_line_and_exit_2, setup),
        cmocka_unit_test_setup(test_unreachable_database_is_one_line_with_the_password_masked,
                               setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
