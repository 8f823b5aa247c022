/*
 * test_migrate.c - the migrations runner against a real PostgreSQL, with the
 * fixture trees in $MIGRATIONS_TEST_DIR (see its README.md). Each test applies
 * a fixture to a schema named uniquely for the run and drops it at the end.
 * Invariants (1)-(3) are those of common/migrate.h.
 */
#include "common/migrate.h"

#include "testlib.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *url;
static const char *fixtures;

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
    struct err err = {0};
    expect_ok(db_connect(db, &err), err);
    return db;
}

static void fixture(char *out, size_t outlen, const char *name)
{
    snprintf(out, outlen, "%s/%s", fixtures, name);
}

/* A query's single value as text ("" for no row). */
static void value(struct db *db, const char *sql, char *out, size_t outlen)
{
    struct err err = {0};
    expect_ok(db_exec_value(db, sql, 0, NULL, out, outlen, &err), err);
}

static long long count(struct db *db, const char *schema, const char *table)
{
    char sql[256], out[32];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.%s", schema, table);
    value(db, sql, out, sizeof(out));
    return strtoll(out, NULL, 10);
}

static bool table_exists(struct db *db, const char *schema, const char *table)
{
    char qualified[128], out[8];
    snprintf(qualified, sizeof(qualified), "%s.%s", schema, table);
    const char *params[] = {qualified};
    struct err err = {0};
    expect_ok(
        db_exec_value(db, "SELECT to_regclass($1) IS NOT NULL", 1, params, out, sizeof(out), &err),
        err);
    return strcmp(out, "t") == 0;
}

static void drop_schema(struct db *db, const char *schema)
{
    char sql[128];
    struct err err = {0};
    snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
    expect_ok(db_exec(db, sql, 0, NULL, NULL, NULL, &err), err);
}

/* Everything the good fixture leaves behind, as one string, to compare two runs. */
static void snapshot(struct db *db, const char *schema, char *out, size_t outlen)
{
    char sql[512];
    snprintf(sql, sizeof(sql),
             "SELECT (SELECT string_agg(concat_ws(':', version, name, checksum, applied_at), ','"
             "                          ORDER BY version) FROM %s.schema_migrations)"
             " || '|' || (SELECT string_agg(id || '=' || name, ',' ORDER BY id) FROM %s.item)"
             " || '|' || (SELECT count(*) FROM %s.seed_log)",
             schema, schema, schema);
    value(db, sql, out, outlen);
}

/* ---- files on disk ------------------------------------------------------------------- */

static void write_file(const char *path, const char *text, const char *mode)
{
    FILE *f = fopen(path, mode);
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb");
    assert_non_null(in);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, in);
    assert_true(feof(in));
    fclose(in);
    buf[n] = '\0';
    write_file(to, buf, "wb");
}

/* Removes a directory and the entries directly in it (files and symlinks). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_applying_twice_applies_all_then_nothing_and_changes_nothing(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    char schema[64], dir[512], before[2048], after[2048];
    testlib_unique_name(schema, sizeof(schema), "mig");
    fixture(dir, sizeof(dir), "good");

    int applied = -1;
    expect_ok(migrate_dir(db, dir, schema, &applied, &err), err);
    assert_int_equal(applied, 3);
    snapshot(db, schema, before, sizeof(before));
    assert_non_null(strstr(before, "1=first,2=it's quoted; DROP TABLE item; --|1"));

    expect_ok(migrate_dir(db, dir, schema, &applied, &err), err);
    assert_int_equal(applied, 0);
    snapshot(db, schema, after, sizeof(after));
    assert_string_equal(before, after);
    drop_schema(db, schema);
    db_free(db);
}

/* A child process: waits for the start signal, migrates on its own connection, exits with the
 * count. */
static void run_child(int start_fd, const char *dir, const char *schema)
{
    char c;
    while (read(start_fd, &c, 1) > 0) /* returns 0 when the parent closes its end */
        ;
    struct db *db = db_new(url);
    struct err err = {0};
    int applied = 0;
    int rc = db ? db_connect(db, &err) : ERR_NOMEM;
    if (rc == 0)
        rc = migrate_dir(db, dir, schema, &applied, &err);
    if (rc < 0)
        fprintf(stderr, "child %ld: %s\n", (long)getpid(), err.msg);
    db_free(db);
    _exit(rc < 0 ? 100 : applied);
}

static void test_two_processes_at_once_apply_each_file_once(void **state)
{
    (void)state;
    char schema[64], dir[512];
    testlib_unique_name(schema, sizeof(schema), "mig");
    fixture(dir, sizeof(dir), "good");

    int start[2];
    assert_int_equal(pipe(start), 0);
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(start[1]);
            run_child(start[0], dir, schema);
        }
    }
    close(start[0]);
    close(start[1]); /* both start now */

    int total = 0;
    for (int i = 0; i < 2; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        int applied = WEXITSTATUS(status);
        assert_true(applied == 0 || applied == 3); /* one did it all, the other found it done */
        total += applied;
    }
    assert_int_equal(total, 3);

    struct db *db = connect_db();
    assert_int_equal(count(db, schema, "schema_migrations"), 3);
    assert_int_equal(count(db, schema, "seed_log"), 1);
    drop_schema(db, schema);
    db_free(db);
}

static void test_broken_file_fails_loudly_and_leaves_nothing_of_itself(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    char schema[64], dir[512];
    testlib_unique_name(schema, sizeof(schema), "mig");
    fixture(dir, sizeof(dir), "broken");

    int applied = -1;
    int rc = migrate_dir(db, dir, schema, &applied, &err);
    assert_int_equal(rc, ERR_INTERNAL);
    assert_int_equal(applied, 1);
    assert_string_equal(err.sqlstate, "42601");
    assert_non_null(strstr(err.msg, "0002_broken.sql"));
    assert_non_null(strstr(err.msg, "syntax error"));
    assert_non_null(strstr(err.msg, "(line 3)"));

    assert_true(table_exists(db, schema, "base"));
    assert_false(table_exists(db, schema, "half_done"));
    assert_false(table_exists(db, schema, "after_broken")); /* stopped at the failure */
    assert_int_equal(count(db, schema, "schema_migrations"), 1);
    assert_false(db_in_transaction(db));
    drop_schema(db, schema);
    db_free(db);
}

static void test_file_failing_halfway_is_rolled_back_entirely(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    char schema[64], dir[512];
    testlib_unique_name(schema, sizeof(schema), "mig");
    fixture(dir, sizeof(dir), "failing");

    for (int run = 0; run < 2; run++) { /* failing again changes nothing either */
        int applied = -1;
        int rc = migrate_dir(db, dir, schema, &applied, &err);
        assert_int_equal(rc, ERR_INVALID);
        assert_int_equal(applied, run == 0 ? 1 : 0);
        assert_string_equal(err.sqlstate, "22012");
        assert_non_null(strstr(err.msg, "0002_fails_halfway.sql"));
        assert_non_null(strstr(err.msg, "division by zero"));
        assert_false(table_exists(db, schema, "half_done")); /* its first statement had run */
        assert_false(table_exists(db, schema, "after_broken"));
        assert_int_equal(count(db, schema, "schema_migrations"), 1);
    }
    drop_schema(db, schema);
    db_free(db);
}

static void test_changed_or_missing_applied_file_is_reported(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    char schema[64], good[512], tmp[] = "/tmp/migrate_test_XXXXXX";
    testlib_unique_name(schema, sizeof(schema), "mig");
    fixture(good, sizeof(good), "good");
    assert_non_null(mkdtemp(tmp));
    static const char *const files[] = {"0001_create_items.sql", "0002_seed_items.sql",
                                        "0003_index_items.sql"};
    char from[1024], to[1024];
    for (int i = 0; i < 3; i++) {
        snprintf(from, sizeof(from), "%s/%s", good, files[i]);
        snprintf(to, sizeof(to), "%s/%s", tmp, files[i]);
        copy_file(from, to);
    }
    int applied = -1;
    expect_ok(migrate_dir(db, tmp, schema, &applied, &err), err);
    assert_int_equal(applied, 3);

    /* Edit an applied file and add a new one: nothing is applied, the edit is named. */
    char seed[1024], extra[1024];
    snprintf(seed, sizeof(seed), "%s/0002_seed_items.sql", tmp);
    snprintf(extra, sizeof(extra), "%s/0004_more.sql", tmp);
    write_file(seed, "-- an innocent-looking comment\n", "a");
    write_file(extra, "CREATE TABLE more (id int);\n", "w");
    assert_int_equal(migrate_dir(db, tmp, schema, &applied, &err), ERR_CONFLICT);
    assert_int_equal(applied, 0);
    assert_non_null(strstr(err.msg, "0002_seed_items.sql' changed after it was applied"));
    assert_false(table_exists(db, schema, "more"));

    /* Restore it, delete another applied file: reported too. */
    snprintf(from, sizeof(from), "%s/0002_seed_items.sql", good);
    copy_file(from, seed);
    snprintf(to, sizeof(to), "%s/0003_index_items.sql", tmp);
    assert_int_equal(unlink(to), 0);
    assert_int_equal(migrate_dir(db, tmp, schema, &applied, &err), ERR_CONFLICT);
    assert_non_null(strstr(err.msg, "0003_index_items.sql' was applied but is missing"));
    assert_false(table_exists(db, schema, "more"));

    remove_dir(tmp);
    drop_schema(db, schema);
    db_free(db);
}

static void test_migrate_all_applies_every_context_directory(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    char first[64], second[64], good[512], root[] = "/tmp/migrate_root_XXXXXX", link[1024];
    testlib_unique_name(first, sizeof(first), "mig");
    testlib_unique_name(second, sizeof(second), "mig");
    fixture(good, sizeof(good), "good");
    assert_non_null(mkdtemp(root));
    /* Two contexts, plus entries that are not contexts and must be ignored. */
    const char *const entries[] = {first, second, "Not_A_Context", "9lives"};
    for (int i = 0; i < 4; i++) {
        snprintf(link, sizeof(link), "%s/%s", root, entries[i]);
        assert_int_equal(symlink(good, link), 0);
    }
    snprintf(link, sizeof(link), "%s/readme", root);
    write_file(link, "a file, not a directory\n", "w");

    int applied = -1;
    expect_ok(migrate_all(db, root, &applied, &err), err);
    assert_int_equal(applied, 6);
    assert_true(table_exists(db, first, "item"));
    assert_true(table_exists(db, second, "item"));
    expect_ok(migrate_all(db, root, &applied, &err), err);
    assert_int_equal(applied, 0);

    /* One context by name. */
    expect_ok(migrate_context(db, root, first, &applied, &err), err);
    assert_int_equal(applied, 0);
    assert_int_equal(migrate_context(db, root, "no_such_context", &applied, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "no_such_context"));
    assert_false(table_exists(db, "no_such_context", "schema_migrations"));

    remove_dir(root);
    drop_schema(db, first);
    drop_schema(db, second);
    db_free(db);
}

static void test_bad_schema_name_is_refused(void **state)
{
    (void)state;
    struct db *db = connect_db();
    struct err err = {0};
    char dir[512];
    fixture(dir, sizeof(dir), "good");
    int applied = -1;
    assert_int_equal(migrate_dir(db, dir, "Bad\"Name", &applied, &err), ERR_INVALID);
    assert_int_equal(applied, 0);
    assert_int_equal(migrate_context(db, fixtures, "x; DROP SCHEMA public", &applied, &err),
                     ERR_INVALID);
    expect_ok(db_begin(db, &err), err);
    assert_int_equal(migrate_dir(db, dir, "inside_tx", &applied, &err), ERR_INTERNAL);
    db_rollback(db);
    db_free(db);
}

static int group_setup(void **state)
{
    (void)state;
    url = testlib_require_env("DATABASE_URL");
    fixtures = testlib_require_env("MIGRATIONS_TEST_DIR");
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_applying_twice_applies_all_then_nothing_and_changes_nothing),
        cmocka_unit_test(test_two_processes_at_once_apply_each_file_once),
        cmocka_unit_test(test_broken_file_fails_loudly_and_leaves_nothing_of_itself),
        cmocka_unit_test(test_file_failing_halfway_is_rolled_back_entirely),
        cmocka_unit_test(test_changed_or_missing_applied_file_is_reported),
        cmocka_unit_test(test_migrate_all_applies_every_context_directory),
        cmocka_unit_test(test_bad_schema_name_is_refused),
    };
    return cmocka_run_group_tests(tests, group_setup, NULL);
}
