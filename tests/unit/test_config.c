/* test_config.c - tables → defaults, environment, flags, bounds, help. */
#include "common/config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

struct payment_config {
    int limit_cents;
};

static const struct config_key payment_keys[] = {
    {"PAYMENT_LIMIT_CENTS", "--payment-limit-cents", CONFIG_INT, "100000", 1, 100000000, NULL, 0,
     offsetof(struct payment_config, limit_cents), "amounts above this are declined"},
};

static struct config_common common;
static struct payment_config payment;

static const struct config_scope scopes[] = {
    {"common", config_common_keys, 0, &common},
    {"payment", payment_keys, 1, &payment},
};

static struct config_scope scope_list[2];

static int reset(void **state)
{
    (void)state;
    memset(&common, 0, sizeof(common));
    memset(&payment, 0, sizeof(payment));
    memcpy(scope_list, scopes, sizeof(scopes));
    scope_list[0].nkeys = config_common_nkeys;
    for (size_t i = 0; i < config_common_nkeys; i++)
        unsetenv(config_common_keys[i].name);
    unsetenv("PAYMENT_LIMIT_CENTS");
    return 0;
}

static int load(int argc, char **argv, struct err *e)
{
    return config_load(scope_list, 2, argc, argv, e);
}

static void test_defaults_match_the_spec(void **state)
{
    (void)state;
    struct err e;
    char *argv[] = {"payment", NULL};
    assert_int_equal(load(1, argv, &e), 0);
    assert_string_equal(common.events_exchange, "integration.events");
    assert_string_equal(common.amqp_queue_type, "classic");
    assert_int_equal(common.retry_max_attempts, 5);
    assert_int_equal(common.retry_base_ms, 1000);
    assert_int_equal(common.retry_max_ms, 60000);
    assert_int_equal(common.retention_hours, 168);
    assert_int_equal(payment.limit_cents, 100000);
}

static void test_flag_beats_environment_beats_default(void **state)
{
    (void)state;
    struct err e;
    setenv("PREFETCH", "7", 1);
    setenv("LOG_LEVEL", "debug", 1);
    char *argv[] = {"payment", "--prefetch=9", "--payment-limit-cents", "500", NULL};
    assert_int_equal(load(4, argv, &e), 0);
    assert_int_equal(common.prefetch, 9);
    assert_string_equal(common.log_level, "debug");
    assert_int_equal(payment.limit_cents, 500);
}

static void test_invalid_values_give_one_clear_line(void **state)
{
    (void)state;
    struct err e;
    setenv("PREFETCH", "lots", 1);
    char *argv[] = {"payment", NULL};
    assert_int_equal(load(1, argv, &e), ERR_INVALID);
    assert_string_equal(e.msg, "invalid PREFETCH (--prefetch) from the environment: 'lots' is not "
                               "an integer in [1, 65535]");
    assert_null(strchr(e.msg, '\n'));
    unsetenv("PREFETCH");

    char *argv2[] = {"payment", "--amqp-queue-type=stream", NULL};
    assert_int_equal(load(2, argv2, &e), ERR_INVALID);
    assert_string_equal(e.msg, "invalid AMQP_QUEUE_TYPE (--amqp-queue-type) from the command line: "
                               "'stream' is not one of classic|quorum");

    char *argv3[] = {"payment", "--payment-limit-cents=0", NULL};
    assert_int_equal(load(2, argv3, &e), ERR_INVALID);
    char *argv4[] = {"payment", "--http-port=99999999999999999999", NULL};
    assert_int_equal(load(2, argv4, &e), ERR_INVALID);
    char *argv5[] = {"payment", "--no-such-flag=1", NULL};
    assert_int_equal(load(2, argv5, &e), ERR_INVALID);
    assert_string_equal(e.msg, "unknown option '--no-such-flag' (see --help)");
    char *argv6[] = {"payment", "--prefetch", NULL};
    assert_int_equal(load(2, argv6, &e), ERR_INVALID);
    char *argv7[] = {"payment", "positional", NULL};
    assert_int_equal(load(2, argv7, &e), ERR_INVALID);
}

static void test_help_lists_every_key_of_every_scope(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_print_help(f, "/x/payment", scope_list, 2);
    fclose(f);
    for (size_t i = 0; i < config_common_nkeys; i++) {
        assert_non_null(strstr(text, config_common_keys[i].name));
        assert_non_null(strstr(text, config_common_keys[i].flag));
    }
    assert_non_null(strstr(text, "PAYMENT_LIMIT_CENTS"));
    assert_null(strstr(text, "events:events@")); /* default URLs are shown masked */
    free(text);
}

static void test_describe_masks_secrets(void **state)
{
    (void)state;
    struct err e;
    setenv("DATABASE_URL", "postgresql://u:topsecret@h/db", 1);
    char *argv[] = {"payment", NULL};
    assert_int_equal(load(1, argv, &e), 0);
    char out[2048];
    config_describe(scope_list, 2, out, sizeof(out));
    assert_null(strstr(out, "topsecret"));
    assert_non_null(strstr(out, "DATABASE_URL=postgresql://u:***@h/db"));
    assert_non_null(strstr(out, "PAYMENT_LIMIT_CENTS=100000"));

    /* Hostile forms: a quoted keyword password (read by libpq, so written back in its
     * order) and an AMQP password holding '@'. */
    setenv("DATABASE_URL", "host=h password = 't0p s3cret' user=u", 1);
    setenv("AMQP_URL", "amqp://u:t0p@s3cret@mq/v", 1);
    assert_int_equal(load(1, argv, &e), 0);
    config_describe(scope_list, 2, out, sizeof(out));
    assert_null(strstr(out, "t0p"));
    assert_null(strstr(out, "s3cret"));
    assert_non_null(strstr(out, "DATABASE_URL=user=u password=*** host=h "));
    assert_non_null(strstr(out, "AMQP_URL=amqp://u:***@mq/v "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults_match_the_spec, reset),
        cmocka_unit_test_setup(test_flag_beats_environment_beats_default, reset),
        cmocka_unit_test_setup(test_invalid_values_give_one_clear_line, reset),
        cmocka_unit_test_setup(test_help_lists_every_key_of_every_scope, reset),
        cmocka_unit_test_setup(test_describe_masks_secrets, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
