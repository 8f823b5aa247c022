/*
 * test_db.c - the database layer against a real PostgreSQL (DATABASE_URL):
 * parameters, results, transactions, error mapping, LISTEN/NOTIFY, and
 * surviving a lost connection and a server restart (INFRA_SH).
 *
 * Tables live in a schema unique to the run, dropped at the end; temporary
 * tables are used where a single session suffices.
 */
#include "common/db.h"

#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *url;
static char schema[64]; /* this run's schema, for tables two sessions share */

/* Fails the test with the database's message when rc is negative; returns rc. */
static int expect_ok_at(int rc, const struct err *err, const char *call, int line)
{
    if (rc < 0)
        fail_msg("line %d: %s: %s [%s] (%s)", line, call, err->msg, err->sqlstate, err_name(rc));
    return rc;
}
#define expect_ok(call, err) expect_ok_at((call), &(err), #call, __LINE__)

static struct db *connect_db(void)
{
    struct db *db = db_new(url);
    assert_non_null(db);
    db_set_application_name(db, "integration.db");
    struct err err = {0};
    expect_ok(db_connect(db, &err), err);
    assert_true(db_connected(db));
    return db;
}

static int exec0(struct db *db, const char *sql, struct err *err)
{
    return db_exec(db, sql, 0, NULL, NULL, NULL, err);
}

/* Runs sql, once more if the first try met a lost connection (the caller's job, by design). */
static int exec_retry_once(struct db *db, const char *sql, int n, const char *const *params,
                           struct err *err)
{
    int rc = db_exec(db, sql, n, params, NULL, NULL, err);
    if (rc == ERR_TRANSIENT)
        rc = db_exec(db, sql, n, params, NULL, NULL, err);
    return rc;
}

static long long count_rows(struct db *db, const char *sql)
{
    struct err err = {0};
    char out[32];
    assert_int_equal(expect_ok(db_exec_value(db, sql, 0, NULL, out, sizeof(out), &err), err), 1);
    return strtoll(out, NULL, 10);
}

static int group_setup(void **state)
{
    (void)state;
    url = testlib_require_env("DATABASE_URL");
    testlib_unique_name(schema, sizeof(schema), "dbtest");
    struct db *db = connect_db();
    struct err err = {0};
    char sql[128];
    snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
    expect_ok(exec0(db, sql, &err), err);
    db_free(db);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    char sql[128];
    snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE", schema);
    expect_ok(exec0(db, sql, &err), err);
    db_free(db);
    return 0;
}

/* ---- statements ------------------------------------------------------------------ */

static const char *const nasty[] = {
    "'; DROP TABLE rt; --", "O'Brien \"quoted\" \\ back $1 %s", "", "line\nbreak\ttab", "東京 café",
};
#define NNASTY (sizeof(nasty) / sizeof(nasty[0]))

static int check_round_trip_row(void *ctx, const struct db_row *row, struct err *err)
{
    int *seen = ctx;
    int64_t id;
    assert_int_equal(db_row_ncols(row), 3);
    assert_int_equal(db_row_int64(row, 0, &id), 0);
    assert_true(id >= 0 && id < (int64_t)NNASTY);
    assert_string_equal(db_row_text(row, 1), nasty[id]);
    assert_true(db_row_is_null(row, 2));
    assert_null(db_row_text(row, 2));
    assert_int_equal(db_row_int64(row, 1, &id), ERR_INTERNAL); /* text is not a number */
    assert_int_equal(db_row_int64(row, 2, &id), ERR_INTERNAL); /* NULL is not a number */
    assert_null(db_row_text(row, 3));                          /* no such column */
    char small[2];
    assert_int_equal(db_row_copy_text(row, 2, small, sizeof(small)), 0); /* NULL copies as "" */
    assert_string_equal(small, "");
    (void)err;
    (*seen)++;
    return 0;
}

static void test_parameters_round_trip_verbatim_including_null(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    expect_ok(exec0(db, "CREATE TEMP TABLE rt (id int PRIMARY KEY, a text, b text)", &err), err);
    for (size_t i = 0; i < NNASTY; i++) {
        char id[16];
        snprintf(id, sizeof(id), "%zu", i);
        const char *params[] = {id, nasty[i], NULL};
        int rc = db_exec(db, "INSERT INTO rt (id, a, b) VALUES ($1, $2, $3)", 3, params, NULL, NULL,
                         &err);
        assert_int_equal(expect_ok(rc, err), 1);
    }
    int seen = 0;
    int rc = db_exec(db, "SELECT id, a, b FROM rt ORDER BY id", 0, NULL, check_round_trip_row,
                     &seen, &err);
    assert_int_equal(expect_ok(rc, err), (int)NNASTY);
    assert_int_equal(seen, (int)NNASTY);

    /* Affected rows for UPDATE/DELETE, returned rows for RETURNING. */
    const char *from[] = {"2"};
    assert_int_equal(db_exec(db, "UPDATE rt SET b = 'x' WHERE id >= $1", 1, from, NULL, NULL, &err),
                     3);
    assert_int_equal(
        db_exec(db, "DELETE FROM rt WHERE id >= $1 RETURNING id", 1, from, NULL, NULL, &err), 3);
    assert_int_equal(db_exec(db, "DELETE FROM rt WHERE false", 0, NULL, NULL, NULL, &err), 0);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM rt"), 2);
    db_free(db);
}

static int stop_at_first_row(void *ctx, const struct db_row *row, struct err *err)
{
    (void)row;
    (*(int *)ctx)++;
    return err_set(err, ERR_CONFLICT, "stopped by the callback");
}

static void test_row_callback_error_stops_and_is_returned(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    int calls = 0;
    int rc = db_exec(db, "SELECT generate_series(1, 5)", 0, NULL, stop_at_first_row, &calls, &err);
    assert_int_equal(rc, ERR_CONFLICT);
    assert_int_equal(calls, 1);
    assert_string_equal(err.msg, "stopped by the callback");
    assert_int_equal(count_rows(db, "SELECT 7"), 7); /* the connection is fine */
    db_free(db);
}

static void test_two_statements_in_one_exec_are_refused(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    int rc = exec0(db, "CREATE TEMP TABLE two1 (id int); CREATE TEMP TABLE two2 (id int)", &err);
    assert_int_equal(rc, ERR_INTERNAL);
    assert_string_equal(err.sqlstate, "42601");
    assert_int_equal(count_rows(db, "SELECT count(*) FROM pg_class WHERE relname = 'two1'"), 0);
    db_free(db);
}

static void test_exec_value_reads_one_value_and_refuses_more(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    char out[8];
    assert_int_equal(db_exec_value(db, "SELECT 42", 0, NULL, out, sizeof(out), &err), 1);
    assert_string_equal(out, "42");
    assert_int_equal(db_exec_value(db, "SELECT 1 WHERE false", 0, NULL, out, sizeof(out), &err), 0);
    assert_string_equal(out, "");
    assert_int_equal(
        db_exec_value(db, "SELECT generate_series(1, 2)", 0, NULL, out, sizeof(out), &err),
        ERR_INTERNAL);
    assert_int_equal(db_exec_value(db, "SELECT repeat('x', 8)", 0, NULL, out, sizeof(out), &err),
                     ERR_INTERNAL);
    db_free(db);
}

/* ---- errors ------------------------------------------------------------------------ */

static void test_constraint_and_data_errors_map_to_their_kind(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    expect_ok(
        exec0(db, "CREATE TEMP TABLE u (id int PRIMARY KEY, n int NOT NULL CHECK (n > 0))", &err),
        err);
    static const struct {
        const char *id, *n;
        int code;
        const char *sqlstate;
    } cases[] = {
        {"1", "1", 1, ""},
        {"1", "1", ERR_CONFLICT, "23505"},
        {"2", NULL, ERR_UNPROCESSABLE, "23502"},
        {"3", "-1", ERR_UNPROCESSABLE, "23514"},
        {"x", "1", ERR_INVALID, "22P02"},
        {"99999999999", "1", ERR_INVALID, "22003"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *params[] = {cases[i].id, cases[i].n};
        err.sqlstate[0] = '\0';
        int rc = db_exec(db, "INSERT INTO u (id, n) VALUES ($1, $2)", 2, params, NULL, NULL, &err);
        if (rc != cases[i].code || (rc < 0 && strcmp(err.sqlstate, cases[i].sqlstate) != 0))
            fail_msg("case %zu: got %d [%s] %s", i, rc, err.sqlstate, err.msg);
    }
    /* The message is PostgreSQL's primary message, on one line. */
    const char *dup[] = {"1", "1"};
    db_exec(db, "INSERT INTO u (id, n) VALUES ($1, $2)", 2, dup, NULL, NULL, &err);
    assert_non_null(strstr(err.msg, "duplicate key value violates unique constraint"));
    assert_null(strchr(err.msg, '\n'));
    db_free(db);
}

static void test_serialization_failure_is_transient(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    struct err err = {0};
    char sql[256];
    snprintf(sql, sizeof(sql), "CREATE TABLE %s.ws (k int)", schema);
    expect_ok(exec0(a, sql, &err), err);

    /* Write skew: each reads what the other writes. */
    char read1[128], read2[128], ins1[128], ins2[128];
    snprintf(read1, sizeof(read1), "SELECT count(*) FROM %s.ws WHERE k = 1", schema);
    snprintf(read2, sizeof(read2), "SELECT count(*) FROM %s.ws WHERE k = 2", schema);
    snprintf(ins1, sizeof(ins1), "INSERT INTO %s.ws VALUES (1)", schema);
    snprintf(ins2, sizeof(ins2), "INSERT INTO %s.ws VALUES (2)", schema);
    expect_ok(db_begin_isolation(a, DB_SERIALIZABLE, &err), err);
    expect_ok(db_begin_isolation(b, DB_SERIALIZABLE, &err), err);
    expect_ok(exec0(a, read1, &err), err);
    expect_ok(exec0(b, read2, &err), err);
    expect_ok(exec0(a, ins2, &err), err);
    int rc = exec0(b, ins1, &err);
    expect_ok(db_commit(a, &err), err);
    if (rc >= 0)
        rc = db_commit(b, &err);
    db_rollback(b);
    assert_int_equal(rc, ERR_TRANSIENT);
    assert_string_equal(err.sqlstate, "40001");
    assert_false(db_in_transaction(b));
    db_free(a);
    db_free(b);
}

/* ---- transactions ---------------------------------------------------------------------- */

static void test_rollback_leaves_nothing_and_commit_keeps(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    expect_ok(exec0(db, "CREATE TEMP TABLE tx (id int)", &err), err);

    expect_ok(db_begin(db, &err), err);
    assert_true(db_in_transaction(db));
    assert_int_equal(db_begin(db, &err), ERR_INTERNAL); /* no nesting */
    expect_ok(exec0(db, "INSERT INTO tx VALUES (1)", &err), err);
    db_rollback(db);
    assert_false(db_in_transaction(db));
    assert_int_equal(count_rows(db, "SELECT count(*) FROM tx"), 0);

    expect_ok(db_begin(db, &err), err);
    expect_ok(exec0(db, "INSERT INTO tx VALUES (1)", &err), err);
    expect_ok(db_commit(db, &err), err);
    assert_false(db_in_transaction(db));
    db_rollback(db); /* nothing open: a no-op */
    assert_int_equal(count_rows(db, "SELECT count(*) FROM tx"), 1);
    db_free(db);
}

static void test_commit_of_a_failed_transaction_is_reported(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    expect_ok(db_begin(db, &err), err);
    assert_int_equal(exec0(db, "SELECT 1 / 0", &err), ERR_INVALID);
    assert_string_equal(err.sqlstate, "22012");
    assert_int_equal(exec0(db, "SELECT 1", &err), ERR_INTERNAL); /* 25P02: transaction aborted */
    assert_int_equal(db_commit(db, &err), ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "rolled back"));
    assert_false(db_in_transaction(db));
    assert_int_equal(count_rows(db, "SELECT 3"), 3);
    db_free(db);
}

static void test_script_runs_statements_and_reports_the_failing_line(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    expect_ok(db_exec_script(db,
                             "CREATE TEMP TABLE sc (id int);\nINSERT INTO sc VALUES (1);\n"
                             "INSERT INTO sc VALUES (2);",
                             &err),
              err);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM sc"), 2);
    expect_ok(db_exec_script(db, "-- nothing but a comment\n", &err), err);

    assert_int_equal(db_exec_script(db, "SELECT 1;\n-- 'é'\nSELEC 2;", &err), ERR_INTERNAL);
    assert_string_equal(err.sqlstate, "42601");
    assert_non_null(strstr(err.msg, "syntax error"));
    assert_non_null(strstr(err.msg, "(line 3)"));

    /* A script may not end the caller's transaction. */
    expect_ok(db_begin(db, &err), err);
    assert_int_equal(db_exec_script(db, "INSERT INTO sc VALUES (3); COMMIT", &err), ERR_INVALID);
    db_rollback(db);
    assert_int_equal(count_rows(db, "SELECT 5"), 5);
    db_free(db);
}

/* ---- losing the connection ------------------------------------------------------------- */

/* Terminates the backend pid from killer and waits until it is gone. */
static void kill_pid(struct db *killer, const char *pid)
{
    struct err err = {0};
    const char *params[] = {pid};
    char ok[8];
    int rc = db_exec_value(killer, "SELECT pg_terminate_backend($1::int, 5000)", 1, params, ok,
                           sizeof(ok), &err);
    assert_int_equal(expect_ok(rc, err), 1);
    assert_string_equal(ok, "t");
}

static void backend_pid(struct db *db, char *pid, size_t len)
{
    struct err err = {0};
    assert_int_equal(db_exec_value(db, "SELECT pg_backend_pid()", 0, NULL, pid, len, &err), 1);
}

/*
 * Terminates victim's backend from killer and waits until it is gone. It asks
 * victim for its pid first: in a transaction that statement sends the BEGIN.
 */
static void kill_backend(struct db *killer, struct db *victim)
{
    char pid[32];
    backend_pid(victim, pid, sizeof(pid));
    kill_pid(killer, pid);
}

static void test_idle_connection_killed_is_replaced_before_the_next_statement(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    kill_backend(b, a);
    /* The server's goodbye is already in the socket: read before sending, so nothing fails. */
    assert_int_equal(count_rows(a, "SELECT 11"), 11);
    db_free(a);
    db_free(b);
}

static void test_connection_lost_during_a_statement_fails_once_then_reconnects(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    /* The backend ends itself in the middle of the statement: the answer never comes. */
    int rc = exec0(db, "SELECT pg_terminate_backend(pg_backend_pid())", &err);
    assert_int_equal(rc, ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "connection lost"));
    assert_false(db_connected(db));
    assert_int_equal(count_rows(db, "SELECT 14"),
                     14); /* not re-sent: a new statement, a new connection */
    assert_true(db_connected(db));
    db_free(db);
}

static void test_connection_lost_inside_a_transaction_is_not_replaced_until_rollback(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    struct err err = {0};
    expect_ok(db_begin(a, &err), err);
    kill_backend(b, a);
    /* A fresh connection would run these outside the caller's transaction: refuse. */
    assert_int_equal(exec0(a, "SELECT 1", &err), ERR_TRANSIENT);
    assert_int_equal(exec0(a, "SELECT 1", &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "inside a transaction"));
    assert_true(db_in_transaction(a));
    db_rollback(a);
    assert_false(db_in_transaction(a));
    assert_int_equal(count_rows(a, "SELECT 12"), 12);

    /* Same for a COMMIT: reported, the transaction is over, the next call works. */
    expect_ok(db_begin(a, &err), err);
    kill_backend(b, a);
    assert_int_equal(db_commit(a, &err), ERR_TRANSIENT);
    assert_false(db_in_transaction(a));
    assert_int_equal(count_rows(a, "SELECT 13"), 13);
    db_free(a);
    db_free(b);
}

static long long prepared_count(struct db *db, const char *statement)
{
    struct err err = {0};
    char out[32];
    const char *params[] = {statement};
    int rc = db_exec_value(db, "SELECT count(*) FROM pg_prepared_statements WHERE statement = $1",
                           1, params, out, sizeof(out), &err);
    assert_int_equal(expect_ok(rc, err), 1);
    return strtoll(out, NULL, 10);
}

/* ---- lazy BEGIN: it goes with the transaction's first statement ------------------------- */

static void test_begin_goes_with_the_first_statement_in_one_round_trip(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    struct err err = {0};
    char sql[160], count[160];
    snprintf(sql, sizeof(sql), "CREATE TABLE %s.lazy (id int)", schema);
    expect_ok(exec0(a, sql, &err), err);
    snprintf(sql, sizeof(sql), "INSERT INTO %s.lazy VALUES ($1)", schema);
    snprintf(count, sizeof(count), "SELECT count(*) FROM %s.lazy", schema);
    const char *one[] = {"1"}, *two[] = {"2"};
    expect_ok(db_write(a, sql, 1, one, &err), err); /* prepared from now on */

    /* BEGIN + INSERT, INSERT, COMMIT: three round trips, not four. */
    uint64_t before = db_round_trips(a);
    expect_ok(db_begin(a, &err), err);
    assert_true(db_in_transaction(a));
    assert_int_equal(db_round_trips(a), before); /* db_begin sends nothing */
    expect_ok(db_write(a, sql, 1, two, &err), err);
    expect_ok(db_write(a, sql, 1, two, &err), err);
    assert_int_equal(count_rows(b, count), 1); /* the BEGIN was there: nothing visible yet */
    expect_ok(db_commit(a, &err), err);
    assert_int_equal(db_round_trips(a) - before, 3);
    assert_int_equal(count_rows(b, count), 3);

    /* A text new on the connection: BEGIN, PREPARE and the statement still in one. */
    before = db_round_trips(a);
    expect_ok(db_begin(a, &err), err);
    assert_int_equal(count_rows(a, "SELECT 1 + 41"), 42);
    db_rollback(a);
    assert_int_equal(db_round_trips(a) - before, 2);         /* with the ROLLBACK */
    assert_int_equal(prepared_count(a, "SELECT 1 + 41"), 1); /* and kept for later */

    /* Rolled back, the first statement's write is gone with the rest. */
    expect_ok(db_begin(a, &err), err);
    expect_ok(db_write(a, sql, 1, two, &err), err);
    db_rollback(a);
    assert_int_equal(count_rows(b, count), 3);

    /*
     * Seen from the server: the transaction starts (now()) when its first
     * statement arrives, not when db_begin returned a while before.
     */
    expect_ok(db_begin(a, &err), err);
    testlib_sleep_ms(300);
    char gap[8];
    int rc = db_exec_value(a, "SELECT statement_timestamp() - now() < interval '250 ms'", 0, NULL,
                           gap, sizeof(gap), &err);
    assert_int_equal(expect_ok(rc, err), 1);
    assert_string_equal(gap, "t");
    expect_ok(db_commit(a, &err), err);
    db_free(a);
    db_free(b);
}

static void
test_first_statement_failing_reports_its_own_error_and_aborts_the_transaction(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    expect_ok(exec0(db, "CREATE TEMP TABLE first_fails (id int PRIMARY KEY)", &err), err);
    const char *insert = "INSERT INTO first_fails VALUES ($1)";
    const char *one[] = {"1"};
    expect_ok(db_write(db, insert, 1, one, &err), err);

    /* Failing when it runs: the unique violation, as when sent alone. */
    expect_ok(db_begin(db, &err), err);
    assert_int_equal(db_write(db, insert, 1, one, &err), ERR_CONFLICT);
    assert_string_equal(err.sqlstate, "23505");
    assert_non_null(strstr(err.msg, "duplicate key value violates unique constraint"));
    assert_true(db_connected(db));
    assert_int_equal(exec0(db, "SELECT 1", &err), ERR_INTERNAL); /* 25P02: it was in the tx */
    assert_string_equal(err.sqlstate, "25P02");
    assert_int_equal(db_commit(db, &err), ERR_INTERNAL);
    assert_non_null(strstr(err.msg, "rolled back"));

    /* Failing when prepared (a text new on the connection): the same, and not kept. */
    expect_ok(db_begin(db, &err), err);
    assert_int_equal(exec0(db, "SELECT * FROM not_yet_there", &err), ERR_INTERNAL);
    assert_string_equal(err.sqlstate, "42P01");
    assert_int_equal(exec0(db, "SELECT 2", &err), ERR_INTERNAL);
    assert_string_equal(err.sqlstate, "25P02");
    db_rollback(db);
    assert_false(db_in_transaction(db));
    expect_ok(exec0(db, "CREATE TEMP TABLE not_yet_there (id int)", &err), err);
    expect_ok(db_begin(db, &err), err);
    assert_int_equal(expect_ok(exec0(db, "SELECT * FROM not_yet_there", &err), err), 0);
    expect_ok(db_commit(db, &err), err);
    assert_int_equal(prepared_count(db, "SELECT * FROM not_yet_there"), 1);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM first_fails"), 1);
    db_free(db);
}

static void
test_a_transaction_that_sent_nothing_commits_and_rolls_back_without_a_round_trip(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    struct err err = {0};
    uint64_t before = db_round_trips(a);
    expect_ok(db_begin(a, &err), err);
    expect_ok(db_commit(a, &err), err);
    assert_false(db_in_transaction(a));
    expect_ok(db_begin_isolation(a, DB_SERIALIZABLE, &err), err);
    db_rollback(a);
    assert_false(db_in_transaction(a));
    assert_int_equal(db_round_trips(a), before);

    /* Seen from the server: with its connection gone meanwhile, the commit still succeeds. */
    char pid[32];
    backend_pid(a, pid, sizeof(pid));
    expect_ok(db_begin(a, &err), err);
    kill_pid(b, pid);
    expect_ok(db_commit(a, &err), err);
    assert_int_equal(count_rows(a, "SELECT 21"), 21); /* and the next call reconnects */
    db_free(a);
    db_free(b);
}

static void test_connection_lost_before_the_first_statement_is_replaced_transparently(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    struct err err = {0};
    char sql[160], count[160], pid[32];
    snprintf(sql, sizeof(sql), "CREATE TABLE %s.replaced (id int)", schema);
    expect_ok(exec0(a, sql, &err), err);
    snprintf(sql, sizeof(sql), "INSERT INTO %s.replaced VALUES (1)", schema);
    snprintf(count, sizeof(count), "SELECT count(*) FROM %s.replaced", schema);

    /* Nothing of the transaction was sent: it starts on the new connection. */
    backend_pid(a, pid, sizeof(pid));
    expect_ok(db_begin(a, &err), err);
    kill_pid(b, pid);
    expect_ok(exec0(a, sql, &err), err);
    char now_pid[32];
    backend_pid(a, now_pid, sizeof(now_pid));
    assert_string_not_equal(now_pid, pid);
    assert_int_equal(count_rows(b, count), 0); /* in the transaction, not autocommitted */
    expect_ok(exec0(a, sql, &err), err);
    expect_ok(db_commit(a, &err), err);
    assert_int_equal(count_rows(b, count), 2);

    /* Lost while its BEGIN is on the way: reported like a statement's loss, then refused. */
    expect_ok(db_begin(a, &err), err);
    assert_int_equal(exec0(a, "SELECT pg_terminate_backend(pg_backend_pid())", &err),
                     ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "connection lost"));
    assert_false(db_connected(a));
    assert_int_equal(exec0(a, sql, &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "inside a transaction"));
    assert_int_equal(db_commit(a, &err), ERR_TRANSIENT);
    assert_false(db_in_transaction(a));
    assert_int_equal(count_rows(b, count), 2);
    assert_int_equal(count_rows(a, "SELECT 22"), 22);
    db_free(a);
    db_free(b);
}

static void expect_isolation(struct db *db, enum db_isolation level, const char *sql,
                             const char *want)
{
    struct err err = {0};
    char out[32];
    expect_ok(db_begin_isolation(db, level, &err), err);
    assert_int_equal(expect_ok(db_exec_value(db, sql, 0, NULL, out, sizeof(out), &err), err), 1);
    assert_string_equal(out, want);
    expect_ok(db_commit(db, &err), err);
}

static void test_isolation_level_applies_from_the_first_statement(void **state)
{
    (void)state;
    struct db *db = connect_db();
    /* Each twice: sent with a PREPARE the first time, by name the second. */
    for (int i = 0; i < 2; i++) {
        expect_isolation(db, DB_REPEATABLE_READ, "SHOW transaction_isolation", "repeatable read");
        expect_isolation(db, DB_SERIALIZABLE, "SHOW transaction_isolation", "serializable");
        expect_isolation(db, DB_READ_COMMITTED, "SHOW transaction_isolation", "read committed");
    }
    expect_isolation(db, DB_SERIALIZABLE, "SELECT current_setting('transaction_isolation')",
                     "serializable");
    db_free(db);
}

static void test_a_script_as_the_first_statement_runs_inside_the_transaction(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    expect_ok(exec0(db, "CREATE TEMP TABLE scripted (id int)", &err), err);
    expect_ok(db_begin(db, &err), err);
    expect_ok(db_exec_script(
                  db, "INSERT INTO scripted VALUES (1);\nINSERT INTO scripted VALUES (2);", &err),
              err);
    db_rollback(db);
    assert_int_equal(count_rows(db, "SELECT count(*) FROM scripted"), 0);
    db_free(db);
}

static void
test_statements_are_prepared_once_per_connection_and_again_after_a_reconnect(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    struct err err = {0};
    const char *sql = "SELECT $1::int + 1";
    const char *params[] = {"41"};
    char out[32];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(expect_ok(db_exec_value(a, sql, 1, params, out, sizeof(out), &err), err),
                         1);
        assert_string_equal(out, "42");
    }
    assert_int_equal(prepared_count(a, sql), 1);
    assert_int_equal(prepared_count(b, sql), 0); /* a connection's own */
    /* Planned afresh each run: a generic plan made on an empty table outlives its growth. */
    assert_int_equal(
        expect_ok(db_exec_value(a, "SHOW plan_cache_mode", 0, NULL, out, sizeof(out), &err), err),
        1);
    assert_string_equal(out, "force_custom_plan");

    kill_backend(b, a);
    assert_int_equal(expect_ok(db_exec_value(a, sql, 1, params, out, sizeof(out), &err), err), 1);
    assert_int_equal(prepared_count(a, sql), 1); /* prepared again on the new connection */

    /* Past the bound, texts still run, sent unnamed. */
    char text[DB_PREPARED_MAX + 8][32];
    for (int i = 0; i < DB_PREPARED_MAX + 8; i++) {
        snprintf(text[i], sizeof(text[i]), "SELECT %d", i);
        assert_int_equal(count_rows(a, text[i]), i);
    }
    assert_true(count_rows(a, "SELECT count(*) FROM pg_prepared_statements") <= DB_PREPARED_MAX);
    db_free(a);
    db_free(b);
}

static void test_a_prepared_statement_whose_table_changed_fails_once_then_runs(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    expect_ok(exec0(db, "CREATE TEMP TABLE reshaped (a int)", &err), err);
    expect_ok(exec0(db, "INSERT INTO reshaped VALUES (1)", &err), err);
    assert_int_equal(expect_ok(exec0(db, "SELECT * FROM reshaped", &err), err), 1);
    expect_ok(exec0(db, "ALTER TABLE reshaped ADD COLUMN b int", &err), err);
    /* PostgreSQL refuses a prepared statement whose result columns changed: forgotten, re-prepared. */
    assert_true(exec0(db, "SELECT * FROM reshaped", &err) < 0);
    assert_string_equal(err.sqlstate, "0A000");
    assert_int_equal(expect_ok(exec0(db, "SELECT * FROM reshaped", &err), err), 1);
    db_free(db);
}

static void expect_current_schema(struct db *db, const char *want)
{
    struct err err = {0};
    char out[64];
    int rc = db_exec_value(db, "SELECT current_schema()", 0, NULL, out, sizeof(out), &err);
    assert_int_equal(expect_ok(rc, err), 1);
    assert_string_equal(out, want);
}

static void test_schema_is_the_search_path_after_every_connect(void **state)
{
    (void)state;
    struct db *a = db_new(url), *b = connect_db();
    struct err err = {0};
    db_set_schema(a, schema);
    expect_current_schema(a, schema); /* connected on demand, with the schema */
    expect_ok(exec0(a, "CREATE TABLE unqualified (id int)", &err), err);
    kill_backend(b, a);
    expect_current_schema(a, schema); /* reconnected, with the schema again */
    assert_int_equal(count_rows(a, "SELECT count(*) FROM unqualified"), 0);
    db_free(a);
    db_free(b);
}

/* ---- LISTEN/NOTIFY ---------------------------------------------------------------------- */

static void drain(struct db *db)
{
    struct err err = {0};
    while (db_wait_notify(db, 0, &err) == 1)
        ;
}

static void test_notify_wakes_the_listener_and_waiting_times_out_otherwise(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    struct err err = {0};
    char channel[64];
    testlib_unique_name(channel, sizeof(channel), "test.chan");
    expect_ok(db_listen(a, channel, &err), err);
    expect_ok(db_listen(a, channel, &err), err); /* twice is fine */
    drain(a);

    int64_t start = testlib_now_ms();
    assert_int_equal(db_wait_notify(a, 200, &err), 0);
    int64_t took = testlib_now_ms() - start;
    assert_true(took >= 190 && took < 1000);

    const char *params[] = {channel, "payload"};
    expect_ok(db_exec(b, "SELECT pg_notify($1, $2)", 2, params, NULL, NULL, &err), err);
    start = testlib_now_ms();
    assert_int_equal(expect_ok(db_wait_notify(a, 5000, &err), err), 1);
    assert_true(testlib_now_ms() - start < 1000);

    /* Several notifications are one wakeup. */
    expect_ok(db_exec(b, "SELECT pg_notify($1, $2)", 2, params, NULL, NULL, &err), err);
    expect_ok(db_exec(b, "SELECT pg_notify($1, 'other')", 1, params, NULL, NULL, &err), err);
    testlib_sleep_ms(50);
    assert_int_equal(db_wait_notify(a, 1000, &err), 1);
    assert_int_equal(db_wait_notify(a, 0, &err), 0);

    /* One that arrives while the listener runs a statement is not lost. */
    expect_ok(db_exec(b, "SELECT pg_notify($1, $2)", 2, params, NULL, NULL, &err), err);
    testlib_sleep_ms(50);
    assert_int_equal(count_rows(a, "SELECT 1"), 1);
    assert_int_equal(db_wait_notify(a, 0, &err), 1);

    assert_int_equal(db_listen(a, "Not-A-Channel", &err), ERR_INVALID);
    db_free(a);
    db_free(b);
}

/*
 * db_notify in both modes (ADR 0006): in the transaction or after its commit,
 * the listener wakes once the transaction has committed, never before it and
 * never for one rolled back.
 */
static void test_db_notify_wakes_the_listener_after_commit_only_in_both_modes(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    struct err err = {0};
    char channel[64];
    testlib_unique_name(channel, sizeof(channel), "notify_mode");
    expect_ok(db_listen(a, channel, &err), err);
    assert_int_equal(db_notify(b, channel, &err), ERR_INTERNAL); /* outside a transaction */
    for (int after = 0; after <= 1; after++) {
        db_set_notify_after_commit(b, after);
        assert_int_equal(db_notifies_after_commit(b), after);
        drain(a);

        expect_ok(db_begin(b, &err), err);
        expect_ok(db_notify(b, channel, &err), err);
        expect_ok(db_notify(b, channel, &err), err);       /* twice: one wake-up */
        assert_int_equal(db_wait_notify(a, 200, &err), 0); /* not before the commit */
        expect_ok(db_commit(b, &err), err);
        assert_int_equal(expect_ok(db_wait_notify(a, 5000, &err), err), 1);
        testlib_sleep_ms(50);
        assert_int_equal(db_wait_notify(a, 0, &err), 0);

        expect_ok(db_begin(b, &err), err);
        expect_ok(db_notify(b, channel, &err), err);
        db_rollback(b);
        assert_int_equal(db_wait_notify(a, 300, &err), 0); /* nothing for a rollback */

        /* A failed commit (PostgreSQL answers it with ROLLBACK) sends nothing either. */
        expect_ok(db_begin(b, &err), err);
        expect_ok(db_notify(b, channel, &err), err);
        assert_true(db_exec(b, "SELECT 1/0", 0, NULL, NULL, NULL, &err) < 0);
        assert_true(db_commit(b, &err) < 0);
        assert_int_equal(db_wait_notify(a, 300, &err), 0);
    }
    db_free(a);
    db_free(b);
}

/*
 * A listener in this process is woken directly after the commit and no
 * NOTIFY goes through the server (none of its database-wide notify lock,
 * ADR 0008); without one, the NOTIFY is sent as before. Connection c LISTENs
 * with a plain statement, like a listener in another process would: it is
 * not registered here, so it sees exactly what the server delivers.
 */
static void test_db_notify_wakes_a_listener_of_this_process_without_a_server_notify(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db(), *c = connect_db();
    struct err err = {0};
    char channel[64], sql[96];
    testlib_unique_name(channel, sizeof(channel), "local_wake");
    snprintf(sql, sizeof(sql), "LISTEN \"%s\"", channel);
    expect_ok(exec0(c, sql, &err), err);
    expect_ok(db_listen(a, channel, &err), err);
    drain(a);
    drain(c);
    for (int after = 0; after <= 1; after++) {
        db_set_notify_after_commit(b, after);
        expect_ok(db_begin(b, &err), err);
        expect_ok(db_notify(b, channel, &err), err);
        assert_int_equal(db_wait_notify(a, 100, &err), 0); /* not before the commit */
        expect_ok(db_commit(b, &err), err);
        assert_int_equal(expect_ok(db_wait_notify(a, 1000, &err), err), 1);
        assert_int_equal(db_wait_notify(c, 300, &err), 0); /* nothing went through the server */
    }
    db_free(a); /* no listener in this process any more: the server's NOTIFY again */
    for (int after = 0; after <= 1; after++) {
        db_set_notify_after_commit(b, after);
        expect_ok(db_begin(b, &err), err);
        expect_ok(db_notify(b, channel, &err), err);
        expect_ok(db_commit(b, &err), err);
        assert_int_equal(expect_ok(db_wait_notify(c, 5000, &err), err), 1);
    }
    db_free(b);
    db_free(c);
}

static void test_database_layer_survives_a_postgres_restart(void **state)
{
    (void)state;
    struct db *a = connect_db(), *b = connect_db();
    struct err err = {0};
    char channel[64];
    testlib_unique_name(channel, sizeof(channel), "restart");
    expect_ok(db_listen(a, channel, &err), err);
    drain(a);
    assert_int_equal(count_rows(a, "SELECT 1"), 1);

    assert_int_equal(testlib_infra("restart", "postgres"), 0);

    /* At most one ERR_TRANSIENT, then success, on the same handle. */
    int rc = exec0(a, "SELECT 1", &err);
    if (rc < 0) {
        assert_int_equal(rc, ERR_TRANSIENT);
        rc = exec0(a, "SELECT 1", &err);
    }
    assert_int_equal(expect_ok(rc, err), 1);
    assert_true(db_connected(a));

    /* The reconnect is reported as one wakeup (notifications may have been missed)... */
    assert_int_equal(db_wait_notify(a, 0, &err), 1);
    assert_int_equal(db_wait_notify(a, 0, &err), 0);
    /* ...and the channel was LISTENed again. */
    const char *params[] = {channel, "after restart"};
    expect_ok(exec_retry_once(b, "SELECT pg_notify($1, $2)", 2, params, &err), err);
    assert_int_equal(expect_ok(db_wait_notify(a, 5000, &err), err), 1);
    db_free(a);
    db_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parameters_round_trip_verbatim_including_null),
        cmocka_unit_test(test_row_callback_error_stops_and_is_returned),
        cmocka_unit_test(test_two_statements_in_one_exec_are_refused),
        cmocka_unit_test(test_exec_value_reads_one_value_and_refuses_more),
        cmocka_unit_test(test_constraint_and_data_errors_map_to_their_kind),
        cmocka_unit_test(test_serialization_failure_is_transient),
        cmocka_unit_test(test_rollback_leaves_nothing_and_commit_keeps),
        cmocka_unit_test(test_commit_of_a_failed_transaction_is_reported),
        cmocka_unit_test(test_script_runs_statements_and_reports_the_failing_line),
        cmocka_unit_test(test_idle_connection_killed_is_replaced_before_the_next_statement),
        cmocka_unit_test(test_connection_lost_during_a_statement_fails_once_then_reconnects),
        cmocka_unit_test(test_connection_lost_inside_a_transaction_is_not_replaced_until_rollback),
        cmocka_unit_test(test_begin_goes_with_the_first_statement_in_one_round_trip),
        cmocka_unit_test(
            test_first_statement_failing_reports_its_own_error_and_aborts_the_transaction),
        cmocka_unit_test(
            test_a_transaction_that_sent_nothing_commits_and_rolls_back_without_a_round_trip),
        cmocka_unit_test(test_connection_lost_before_the_first_statement_is_replaced_transparently),
        cmocka_unit_test(test_isolation_level_applies_from_the_first_statement),
        cmocka_unit_test(test_a_script_as_the_first_statement_runs_inside_the_transaction),
        cmocka_unit_test(test_schema_is_the_search_path_after_every_connect),
        cmocka_unit_test(
            test_statements_are_prepared_once_per_connection_and_again_after_a_reconnect),
        cmocka_unit_test(test_a_prepared_statement_whose_table_changed_fails_once_then_runs),
        cmocka_unit_test(test_notify_wakes_the_listener_and_waiting_times_out_otherwise),
        cmocka_unit_test(test_db_notify_wakes_the_listener_after_commit_only_in_both_modes),
        cmocka_unit_test(test_db_notify_wakes_a_listener_of_this_process_without_a_server_notify),
        cmocka_unit_test(test_database_layer_survives_a_postgres_restart),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
