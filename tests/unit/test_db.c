/*
 * test_db.c - the parts of db and migrate that need no server: the SQLSTATE
 * table, name rules, migration file names, ordering and checksum, and what a
 * db handle does when the server cannot be reached (a unix socket in a
 * directory that does not exist: no network involved).
 */
#include "common/db.h"
#include "common/log.h"
#include "common/migrate.h"

#include "migrate_internal.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UNREACHABLE "host=/nonexistent/db-test-socket-dir dbname=none user=none connect_timeout=1"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- SQLSTATE -> error kind ---------------------------------------------------- */

static void test_sqlstates_map_to_what_the_caller_must_do(void **state)
{
    (void)state;
    static const struct {
        const char *sqlstate;
        int code;
    } cases[] = {
        {"08000", ERR_TRANSIENT},     /* connection_exception */
        {"08006", ERR_TRANSIENT},     /* connection_failure */
        {"08P01", ERR_TRANSIENT},     /* protocol_violation */
        {"57P01", ERR_TRANSIENT},     /* admin_shutdown */
        {"57P02", ERR_TRANSIENT},     /* crash_shutdown */
        {"57P03", ERR_TRANSIENT},     /* cannot_connect_now */
        {"57014", ERR_TRANSIENT},     /* query_canceled (statement_timeout) */
        {"53000", ERR_TRANSIENT},     /* insufficient_resources */
        {"53100", ERR_TRANSIENT},     /* disk_full */
        {"53300", ERR_TRANSIENT},     /* too_many_connections */
        {"40001", ERR_TRANSIENT},     /* serialization_failure */
        {"40P01", ERR_TRANSIENT},     /* deadlock_detected */
        {"55P03", ERR_TRANSIENT},     /* lock_not_available */
        {"25P03", ERR_TRANSIENT},     /* idle_in_transaction_session_timeout */
        {"23505", ERR_CONFLICT},      /* unique_violation */
        {"23P01", ERR_CONFLICT},      /* exclusion_violation */
        {"23502", ERR_UNPROCESSABLE}, /* not_null_violation */
        {"23503", ERR_UNPROCESSABLE}, /* foreign_key_violation */
        {"23514", ERR_UNPROCESSABLE}, /* check_violation */
        {"23000", ERR_UNPROCESSABLE}, /* integrity_constraint_violation */
        {"22P02", ERR_INVALID},       /* invalid_text_representation */
        {"22001", ERR_INVALID},       /* string_data_right_truncation */
        {"22012", ERR_INVALID},       /* division_by_zero */
        {"22003", ERR_INVALID},       /* numeric_value_out_of_range */
        {"42601", ERR_INTERNAL},      /* syntax_error: a bug */
        {"42P01", ERR_INTERNAL},      /* undefined_table: a missing migration */
        {"25P02", ERR_INTERNAL},      /* in_failed_sql_transaction: a bug */
        {"40002", ERR_INTERNAL},      /* other class 40 states stay internal */
        {"57000", ERR_INTERNAL},      /* other class 57 states stay internal */
        {"55000", ERR_INTERNAL},      /* object_not_in_prerequisite_state */
        {"XX000", ERR_INTERNAL},      /* internal_error */
        {"00000", ERR_INTERNAL},      /* successful_completion is no error kind */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = db_error_code(cases[i].sqlstate);
        if (got != cases[i].code)
            fail_msg("sqlstate %s: got %s, want %s", cases[i].sqlstate, err_name(got),
                     err_name(cases[i].code));
    }
}

static void test_missing_or_malformed_sqlstate_is_internal(void **state)
{
    (void)state;
    assert_int_equal(db_error_code(NULL), ERR_INTERNAL);
    assert_int_equal(db_error_code(""), ERR_INTERNAL);
    assert_int_equal(db_error_code("2350"), ERR_INTERNAL);
    assert_int_equal(db_error_code("235050"), ERR_INTERNAL);
    assert_int_equal(db_error_code("08"), ERR_INTERNAL);
}

/* ---- names ------------------------------------------------------------------------- */

static void test_context_names_are_lowercase_identifiers_of_at_most_31_bytes(void **state)
{
    (void)state;
    assert_true(migrate_name_valid("booking"));
    assert_true(migrate_name_valid("user_management2"));
    assert_true(migrate_name_valid("a"));
    assert_true(migrate_name_valid("abcdefghijklmnopqrstuvwxyz01234"));   /* 31 */
    assert_false(migrate_name_valid("abcdefghijklmnopqrstuvwxyz012345")); /* 32 */
    assert_false(migrate_name_valid(""));
    assert_false(migrate_name_valid(NULL));
    assert_false(migrate_name_valid("_booking"));
    assert_false(migrate_name_valid("1booking"));
    assert_false(migrate_name_valid("Booking"));
    assert_false(migrate_name_valid("book-ing"));
    assert_false(migrate_name_valid("book\"ing"));
    assert_false(migrate_name_valid("booking; drop schema x"));
}

static void test_invalid_channel_is_refused_before_connecting(void **state)
{
    (void)state;
    struct db *db = db_new(UNREACHABLE);
    assert_non_null(db);
    struct err err = {0};
    static const char *const bad[] = {"",         "Outbox",      "9outbox", "out-box",
                                      "out\"box", "a; NOTIFY x", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(db_listen(db, bad[i], &err), ERR_INVALID);
    char longest[DB_CHANNEL_MAX + 2];
    memset(longest, 'a', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    assert_int_equal(db_listen(db, longest, &err), ERR_INVALID);
    assert_false(db_connected(db));
    db_free(db);
}

static void test_invalid_schema_fails_every_connect_before_touching_the_network(void **state)
{
    (void)state;
    struct db *db = db_new(UNREACHABLE);
    struct err err = {0};
    static const char *const bad[] = {"Booking", "book-ing", "a\"b", "1booking", NULL};
    for (int i = 0; bad[i]; i++) {
        db_set_schema(db, bad[i]);
        assert_int_equal(db_connect(db, &err), ERR_INVALID);
        assert_int_equal(db_exec(db, "SELECT 1", 0, NULL, NULL, NULL, &err), ERR_INVALID);
    }
    char longest[80];
    memset(longest, 'a', sizeof(longest) - 1);
    longest[sizeof(longest) - 1] = '\0';
    db_set_schema(db, longest);
    assert_int_equal(db_connect(db, &err), ERR_INVALID);
    db_set_schema(db, "booking"); /* valid: now it is the unreachable server that fails */
    assert_int_equal(db_connect(db, &err), ERR_TRANSIENT);
    db_free(db);
}

/* ---- migration files ----------------------------------------------------------------- */

static void test_migration_file_names_are_classified(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int rc;
        int version;
    } cases[] = {
        {"0001_schema.sql", 1, 1},
        {"0042_outbox_inbox.sql", 1, 42},
        {"9999_a.sql", 1, 9999},
        {"0003_add_2_columns.sql", 1, 3},
        {"README.md", 0, 0},
        {"0001_schema.sql~", 0, 0},
        {".0001_schema.sql.swp", 0, 0},
        {"notes", 0, 0},
        {"1_schema.sql", ERR_INVALID, 0},
        {"00001_schema.sql", ERR_INVALID, 0},
        {"0001-schema.sql", ERR_INVALID, 0},
        {"0001_.sql", ERR_INVALID, 0},
        {"0001_Schema.sql", ERR_INVALID, 0},
        {"0001_sche ma.sql", ERR_INVALID, 0},
        {"0001_schema.SQL", ERR_INVALID, 0},
        {"abcd_schema.sql", ERR_INVALID, 0},
        {".sql", ERR_INVALID, 0},
        {"schema.sql", ERR_INVALID, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct err err = {0};
        int version = -1;
        int rc = migrate_parse_name(cases[i].name, &version, &err);
        if (rc != cases[i].rc)
            fail_msg("'%s': got %d, want %d", cases[i].name, rc, cases[i].rc);
        if (rc == 1 && version != cases[i].version)
            fail_msg("'%s': version %d, want %d", cases[i].name, version, cases[i].version);
        if (rc < 0 && !strstr(err.msg, cases[i].name))
            fail_msg("'%s': message '%s' does not name the file", cases[i].name, err.msg);
    }
}

static void test_too_long_migration_name_is_an_error(void **state)
{
    (void)state;
    char name[MIGRATE_NAME_MAX + 8];
    memset(name, 'a', sizeof(name));
    memcpy(name, "0001_", 5);
    strcpy(name + sizeof(name) - 5, ".sql");
    int version;
    assert_int_equal(migrate_parse_name(name, &version, NULL), ERR_INVALID);
}

static void test_migrations_are_ordered_by_number(void **state)
{
    (void)state;
    struct migrate_file files[] = {
        {.version = 10, .name = "0010_c.sql"},
        {.version = 2, .name = "0002_b.sql"},
        {.version = 1, .name = "0001_a.sql"},
    };
    struct err err = {0};
    assert_int_equal(migrate_sort(files, 3, &err), 0);
    assert_string_equal(files[0].name, "0001_a.sql");
    assert_string_equal(files[1].name, "0002_b.sql");
    assert_string_equal(files[2].name, "0010_c.sql");
    assert_int_equal(migrate_sort(files, 0, &err), 0);
}

static void test_two_migrations_with_one_number_are_an_error(void **state)
{
    (void)state;
    struct migrate_file files[] = {
        {.version = 2, .name = "0002_b.sql"},
        {.version = 1, .name = "0001_a.sql"},
        {.version = 2, .name = "0002_a.sql"},
    };
    struct err err = {0};
    assert_int_equal(migrate_sort(files, 3, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "'0002_a.sql' and '0002_b.sql'"));
}

static void test_checksum_is_fnv1a_64_in_hex(void **state)
{
    (void)state;
    char sum[MIGRATE_CHECKSUM_LEN + 1];
    migrate_checksum("", 0, sum);
    assert_string_equal(sum, "cbf29ce484222325");
    migrate_checksum("a", 1, sum);
    assert_string_equal(sum, "af63dc4c8601ec8c");
    migrate_checksum("foobar", 6, sum);
    assert_string_equal(sum, "85944171f73967e8");
}

/* ---- a handle without a server -------------------------------------------------------- */

static void test_conninfo_is_masked_for_logs(void **state)
{
    (void)state;
    struct db *db = db_new("postgresql://events:s3cret@127.0.0.1:5432/events");
    assert_non_null(db);
    assert_null(strstr(db_conninfo_masked(db), "s3cret"));
    assert_non_null(strstr(db_conninfo_masked(db), "127.0.0.1:5432/events"));
    db_free(db);
    db_free(NULL);
    assert_null(db_new(NULL));
}

/* One masked text against one case of unit/data/secrets.json. */
static void check_masked(const char *masker, const json_t *c, const char *masked)
{
    const char *text = json_string_value(json_object_get(c, "text"));
    size_t i;
    const json_t *piece;
    json_array_foreach(json_object_get(c, "secret"), i, piece)
    {
        if (strstr(masked, json_string_value(piece)))
            fail_msg("%s('%s') shows '%s': %s", masker, text, json_string_value(piece), masked);
    }
    json_array_foreach(json_object_get(c, "keep"), i, piece)
    {
        if (!strstr(masked, json_string_value(piece)))
            fail_msg("%s('%s') lost '%s': %s", masker, text, json_string_value(piece), masked);
    }
    if (!strstr(masked, "***"))
        fail_msg("%s('%s') shows no mask: %s", masker, text, masked);
}

static void test_every_hostile_form_of_a_password_is_masked(void **state)
{
    (void)state;
    const char *dir = getenv("UNIT_DATA_DIR");
    char path[1024];
    snprintf(path, sizeof(path), "%s/secrets.json", dir ? dir : "tests/unit/data");
    json_error_t je;
    json_t *table = json_load_file(path, 0, &je);
    if (!table)
        fail_msg("cannot read %s: %s", path, je.text);
    size_t i;
    const json_t *c;
    json_array_foreach(json_object_get(table, "cases"), i, c)
    {
        const char *text = json_string_value(json_object_get(c, "text"));
        char out[DB_MASKED_MAX(256)];
        assert_true(strlen(text) <= 256);
        log_mask_url(text, out, sizeof(out));
        check_masked("log_mask_url", c, out);
        db_mask_conninfo(text, out, sizeof(out));
        check_masked("db_mask_conninfo", c, out);
        struct db *db = db_new(text);
        assert_non_null(db);
        check_masked("db_conninfo_masked", c, db_conninfo_masked(db));
        db_free(db);
    }
    json_decref(table);
}

static void test_keyword_conninfo_is_masked_from_libpqs_own_reading(void **state)
{
    (void)state;
    char out[DB_MASKED_MAX(128)];
    /* Quoting and escapes as libpq reads them, written back so that libpq reads the same. */
    db_mask_conninfo("host=h password = 'it\\'s' dbname='my db' user=o\\'k", out, sizeof(out));
    assert_string_equal(out, "user='o\\'k' password=*** dbname='my db' host=h");
    /* A plain database name and a URI keep their shape. */
    db_mask_conninfo("events", out, sizeof(out));
    assert_string_equal(out, "events");
    db_mask_conninfo("postgresql://u:s3cret@h:5432/db?password=x&sslmode=require", out,
                     sizeof(out));
    assert_string_equal(out, "postgresql://u:***@h:5432/db?password=***&sslmode=require");
    /* Too small a buffer truncates and stays terminated. */
    db_mask_conninfo("host=h password=s3cret", out, 8);
    assert_int_equal(strlen(out), 7);
    assert_null(strstr(out, "s3"));
}

static void test_malformed_url_is_invalid_and_its_password_stays_out_of_the_message(void **state)
{
    (void)state;
    /* The last three would reach libpq, whose connect error quotes the port or host it read. */
    static const char *const bad[] = {
        "postgresql://events:s3cret%zz@127.0.0.1/events",  "host=127.0.0.1 password=s3cret port",
        "postgresql://events:s3cret@127.0.0.1:54x/events", "postgresql://events:s3cret",
        "postgresql://events:s3/cret@127.0.0.1/events",    NULL};
    for (int i = 0; bad[i]; i++) {
        struct db *db = db_new(bad[i]);
        assert_non_null(db);
        struct err err = {0};
        assert_int_equal(db_connect(db, &err), ERR_INVALID);
        assert_non_null(strstr(err.msg, "malformed database URL"));
        assert_null(strstr(err.msg, "s3cret"));
        assert_int_equal(db_exec(db, "SELECT 1", 0, NULL, NULL, NULL, &err), ERR_INVALID);
        db_free(db);
    }
}

/* libpq ends the user info at the first '@' and would quote "ret@127.0.0.1" as the host. */
static void test_password_holding_an_at_sign_stays_out_of_the_connect_error(void **state)
{
    (void)state;
    struct db *db = db_new("postgresql://u:s3c@ret@127.0.0.1:1/db?connect_timeout=1");
    assert_non_null(db);
    struct err err = {0};
    assert_int_equal(db_connect(db, &err), ERR_TRANSIENT);
    if (strstr(err.msg, "s3c") || strstr(err.msg, "ret@"))
        fail_msg("the connect error shows the password: %s", err.msg);
    /* The host libpq read is the one after the last '@'. */
    assert_non_null(strstr(err.msg, "127.0.0.1"));
    assert_string_equal(db_conninfo_masked(db),
                        "postgresql://u:***@127.0.0.1:1/db?connect_timeout=1");
    db_free(db);
}

static void test_unreachable_database_is_transient_and_backs_off(void **state)
{
    (void)state;
    struct db *db = db_new(UNREACHABLE);
    assert_non_null(db);
    struct err err = {0};
    assert_int_equal(db_connect(db, &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "cannot connect"));
    assert_false(db_connected(db));

    /* Right after a failed attempt no new one is made: the call fails at once. */
    assert_int_equal(db_exec(db, "SELECT 1", 0, NULL, NULL, NULL, &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "next connection attempt in"));
    assert_string_equal(err.sqlstate, "");

    /* Once the pause is over the next call tries again (and fails again). */
    struct timespec pause = {0, (DB_RECONNECT_MIN_MS + 20) * 1000000L};
    nanosleep(&pause, NULL);
    assert_int_equal(db_exec(db, "SELECT 1", 0, NULL, NULL, NULL, &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "cannot connect"));
    db_free(db);
}

static void test_wait_notify_on_unreachable_database_waits_instead_of_spinning(void **state)
{
    (void)state;
    struct db *db = db_new(UNREACHABLE);
    struct err err = {0};
    int64_t start = now_ms();
    assert_int_equal(db_wait_notify(db, 60, &err), ERR_TRANSIENT);
    assert_int_equal(db_wait_notify(db, 60, &err), ERR_TRANSIENT);
    int64_t took = now_ms() - start;
    assert_true(took >= 90); /* the second waited for the reconnect time, not 0 ms */
    assert_true(took < 1000);
    db_free(db);
}

static void test_transaction_misuse_is_internal_and_rollback_is_always_safe(void **state)
{
    (void)state;
    struct db *db = db_new(UNREACHABLE);
    struct err err = {0};
    assert_false(db_in_transaction(db));
    assert_int_equal(db_commit(db, &err), ERR_INTERNAL);
    db_rollback(db); /* nothing open: a no-op */
    db_rollback(NULL);
    assert_int_equal(db_exec(db, "SELECT 1", -1, NULL, NULL, NULL, &err), ERR_INTERNAL);
    assert_int_equal(db_exec(db, "SELECT $1", 1, NULL, NULL, NULL, &err), ERR_INTERNAL);
    assert_int_equal(db_exec(db, NULL, 0, NULL, NULL, NULL, &err), ERR_INTERNAL);
    char out[8];
    assert_int_equal(db_exec_value(db, "SELECT 1", 0, NULL, out, 0, &err), ERR_INTERNAL);
    db_free(db);
}

/* db_begin sends nothing: the server's absence shows at the first statement, as ERR_TRANSIENT. */
static void test_begin_sends_nothing_and_the_first_statement_meets_the_outage(void **state)
{
    (void)state;
    struct db *db = db_new(UNREACHABLE);
    struct err err = {0};
    assert_int_equal(db_begin(db, &err), 0);
    assert_true(db_in_transaction(db));
    assert_int_equal(db_begin(db, &err), ERR_INTERNAL); /* still no nesting */
    assert_int_equal(db_exec(db, "SELECT 1", 0, NULL, NULL, NULL, &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "cannot connect"));
    assert_true(db_error_is_outage(&err));
    assert_true(db_in_transaction(db));
    db_rollback(db);
    assert_false(db_in_transaction(db));
    assert_int_equal(db_begin(db, &err), 0); /* nothing sent, so committing needs no server */
    assert_int_equal(db_commit(db, &err), 0);
    assert_int_equal(db_round_trips(db), 0);
    db_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlstates_map_to_what_the_caller_must_do),
        cmocka_unit_test(test_missing_or_malformed_sqlstate_is_internal),
        cmocka_unit_test(test_context_names_are_lowercase_identifiers_of_at_most_31_bytes),
        cmocka_unit_test(test_invalid_channel_is_refused_before_connecting),
        cmocka_unit_test(test_invalid_schema_fails_every_connect_before_touching_the_network),
        cmocka_unit_test(test_migration_file_names_are_classified),
        cmocka_unit_test(test_too_long_migration_name_is_an_error),
        cmocka_unit_test(test_migrations_are_ordered_by_number),
        cmocka_unit_test(test_two_migrations_with_one_number_are_an_error),
        cmocka_unit_test(test_checksum_is_fnv1a_64_in_hex),
        cmocka_unit_test(test_conninfo_is_masked_for_logs),
        cmocka_unit_test(test_every_hostile_form_of_a_password_is_masked),
        cmocka_unit_test(test_keyword_conninfo_is_masked_from_libpqs_own_reading),
        cmocka_unit_test(test_malformed_url_is_invalid_and_its_password_stays_out_of_the_message),
        cmocka_unit_test(test_password_holding_an_at_sign_stays_out_of_the_connect_error),
        cmocka_unit_test(test_unreachable_database_is_transient_and_backs_off),
        cmocka_unit_test(test_wait_notify_on_unreachable_database_waits_instead_of_spinning),
        cmocka_unit_test(test_transaction_misuse_is_internal_and_rollback_is_always_safe),
        cmocka_unit_test(test_begin_sends_nothing_and_the_first_statement_meets_the_outage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
