/*
 * test_bus.c - the pure parts of the bus: AMQP URL parsing and masking, queue
 * arguments, the publisher-confirm window, backoff, and configuration errors
 * that bus_connect reports before touching the network.
 */
#include "bus_internal.h"

#include "common/bus.h"
#include "common/log.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- URL */

struct url_case {
    const char *url;
    int tls;
    const char *user, *password, *host;
    int port;
    const char *vhost;
};

static void test_url_parses_every_part_with_defaults(void **state)
{
    (void)state;
    static const struct url_case cases[] = {
        {"amqp://u:p@h:1/v", 0, "u", "p", "h", 1, "v"},
        {"amqp://u:p@h/v", 0, "u", "p", "h", 5672, "v"},
        {"amqps://u:p@h/v", 1, "u", "p", "h", 5671, "v"},
        {"amqps://u:p@h:5999/v", 1, "u", "p", "h", 5999, "v"},
        {"AMQP://u:p@h/v", 0, "u", "p", "h", 5672, "v"},
        {"amqp://u:p@h:5672/%2f", 0, "u", "p", "h", 5672, "/"},
        {"amqp://u:p@h:5672/%2Fprod", 0, "u", "p", "h", 5672, "/prod"},
        {"amqp://u:p@h:5672", 0, "u", "p", "h", 5672, "/"},
        {"amqp://h", 0, "guest", "guest", "h", 5672, "/"},
        {"amqp://", 0, "guest", "guest", "localhost", 5672, "/"},
        {"amqp://u@h/v", 0, "u", "guest", "h", 5672, "v"},
        {"amqp://u:@h/v", 0, "u", "", "h", 5672, "v"},
        {"amqp://us%65r:p%40ss%3Aw@h/v", 0, "user", "p@ss:w", "h", 5672, "v"},
        {"amqp://events:events@127.0.0.1:55672/events", 0, "events", "events", "127.0.0.1", 55672,
         "events"},
        {"amqp://u:p@[::1]:5673/v", 0, "u", "p", "::1", 5673, "v"},
        {"amqp://u:p@[fe80::1]/v", 0, "u", "p", "fe80::1", 5672, "v"},
        /* The user info ends at the last '@' (WHATWG URL), so an unencoded '@' works. */
        {"amqp://user:p@ss@host/vhost", 0, "user", "p@ss", "host", 5672, "vhost"},
        {"amqp://us@er:p@ss:w@host:1/v", 0, "us@er", "p@ss:w", "host", 1, "v"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct url_case *c = &cases[i];
        struct bus_url u;
        struct err err = {0};
        if (bus_url_parse(c->url, &u, &err) != 0)
            fail_msg("'%s' rejected: %s", c->url, err.msg);
        assert_int_equal(u.tls, c->tls);
        assert_string_equal(u.user, c->user);
        assert_string_equal(u.password, c->password);
        assert_string_equal(u.host, c->host);
        assert_int_equal(u.port, c->port);
        assert_string_equal(u.vhost, c->vhost);
    }
}

static void test_url_rejects_bad_input_without_showing_the_password(void **state)
{
    (void)state;
    static char overlong[BUS_URL_MAX + 50], long_user[400], long_vhost[400];
    snprintf(overlong, sizeof(overlong), "amqp://u:s3cret@h/%0*d", BUS_URL_MAX, 0);
    snprintf(long_user, sizeof(long_user), "amqp://%0300d:s3cret@h/v", 0);
    snprintf(long_vhost, sizeof(long_vhost), "amqp://u:s3cret@h/%0300d", 0);
    const char *bad[] = {
        NULL,
        "",
        "http://u:s3cret@h/v",
        "u:s3cret@h/v",
        "amqp:/u:s3cret@h/v",
        "amqp://u:s3cret@h:0/v",
        "amqp://u:s3cret@h:65536/v",
        "amqp://u:s3cret@h:123456/v",
        "amqp://u:s3cret@h:x/v",
        "amqp://u:s3cret@h:/v",
        "amqp://u:s3cret@h:-1/v",
        "amqp://u:s3cret@h/",
        "amqp://u:s3cret@h/a/b",
        "amqp://u:s3cret@h/v?heartbeat=5",
        "amqp://u:s3cret@h/v#frag",
        "amqp://u:s3cret@h/%zz",
        "amqp://u:s3cret@h/%2",
        "amqp://u:s3cret@h/v%00",
        "amqp://u:s3%2cret%@h/v",
        "amqp://u:s3cret@h h/v",
        "amqp://u:s3cret",
        "amqp://u:s3/cret@h/v",
        "amqp://u:s3cret@[::1/v",
        "amqp://u:s3cret@[::1]x/v",
        overlong,
        long_user,
        long_vhost,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bus_url u;
        struct err err = {0};
        int rc = bus_url_parse(bad[i], &u, &err);
        if (rc != ERR_INVALID)
            fail_msg("'%s' gave %d, not ERR_INVALID", bad[i] ? bad[i] : "(null)", rc);
        assert_true(err.msg[0] != '\0');
        if (strstr(err.msg, "s3cr"))
            fail_msg("message for '%s' shows the password: %s", bad[i], err.msg);
    }
}

static void test_url_description_masks_the_password(void **state)
{
    (void)state;
    struct bus_url u;
    char out[BUS_URL_MAX];
    assert_int_equal(bus_url_parse("amqps://events:s3cret@mq.example:5671/%2f", &u, NULL), 0);
    bus_url_describe(&u, out, sizeof(out));
    assert_string_equal(out, "amqps://events:***@mq.example:5671/%2f");

    assert_int_equal(bus_url_parse("amqp://u:p@[::1]:5673/events", &u, NULL), 0);
    bus_url_describe(&u, out, sizeof(out));
    assert_string_equal(out, "amqp://u:***@[::1]:5673/events");

    /* A password holding '@', raw or percent-encoded, and a user needing encoding. */
    static const char *const hostile[] = {"amqp://u:s3c@ret@h/v", "amqp://u:s3c%40ret%3A@h/v",
                                          "amqp://a%40b%3Ac%2F%FF:s3cret@h/v"};
    for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
        assert_int_equal(bus_url_parse(hostile[i], &u, NULL), 0);
        bus_url_describe(&u, out, sizeof(out));
        if (strstr(out, "s3c") || strstr(out, "ret"))
            fail_msg("'%s' described as '%s'", hostile[i], out);
        assert_non_null(strstr(out, ":***@h:5672/v"));
    }
    /* The user is re-encoded, so the description parses back to the same user. */
    assert_string_equal(out, "amqp://a%40b%3ac%2f%ff:***@h:5672/v");
    struct bus_url back;
    assert_int_equal(bus_url_parse(out, &back, NULL), 0);
    assert_string_equal(back.user, "a@b:c/\xff");

    /* The bus shows the same through bus_url_masked, even before connecting. */
    struct bus_config cfg = {.url = "amqp://events:s3cret@127.0.0.1:5672/events"};
    struct bus *bus = bus_new(&cfg);
    assert_non_null(bus);
    assert_string_equal(bus_url_masked(bus), "amqp://events:***@127.0.0.1:5672/events");
    bus_free(bus);
}

/* ---------------------------------------------------------------- a cluster's nodes */

static void test_url_list_gives_each_node_of_a_cluster(void **state)
{
    (void)state;
    struct bus_url nodes[BUS_NODES_MAX];
    size_t n = 99;
    /* One URL is one node, parsed as bus_url_parse would (a ',' in its vhost included). */
    assert_int_equal(bus_url_list_parse("amqp://u:p@h:5673/a,b", nodes, BUS_NODES_MAX, &n, NULL),
                     0);
    assert_int_equal(n, 1);
    assert_string_equal(nodes[0].vhost, "a,b");
    /* Three nodes, spaces after the commas, schemes mixed and in any case, own credentials. */
    assert_int_equal(bus_url_list_parse("amqp://u1:p%2c1@rabbit-1:5672/v, AMQPS://u2:p2@rabbit-2/v"
                                        ",amqp://[::1]:5674/%2f",
                                        nodes, BUS_NODES_MAX, &n, NULL),
                     0);
    assert_int_equal(n, 3);
    assert_string_equal(nodes[0].host, "rabbit-1");
    assert_string_equal(nodes[0].password, "p,1");
    assert_int_equal(nodes[1].tls, 1);
    assert_int_equal(nodes[1].port, 5671);
    assert_string_equal(nodes[1].user, "u2");
    assert_string_equal(nodes[2].host, "::1");
    assert_int_equal(nodes[2].port, 5674);
    assert_string_equal(nodes[2].vhost, "/");
    /* A comma not followed by a scheme stays in its node: here, in the password. */
    assert_int_equal(bus_url_list_parse("amqp://u:a,b@h/v", nodes, BUS_NODES_MAX, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(nodes[0].password, "a,b");
}

static void test_url_list_names_the_bad_node_without_its_password(void **state)
{
    (void)state;
    static const struct {
        const char *urls;
        const char *msg;
    } bad[] = {
        {"amqp://u:s3cret@h1/v,amqp://u:s3cret@h2:99999/v",
         "AMQP URL node 2: the port is not a number in [1, 65535]"},
        {"amqp://u:s3cret@h1/v,amqp://u:s3cret@h2/", "AMQP URL node 2: the path '/' names the "
                                                     "empty vhost; write '/%2f' for the vhost '/'"},
        {"amqp://u:s3cret@h1:1/", "AMQP URL: the path '/' names the empty vhost; write '/%2f' for "
                                  "the vhost '/'"},
        /* libpq's way of listing hosts is refused, saying how to list nodes. */
        {"amqp://u:s3cret@h1:5672,h2:5672/v", "AMQP URL: ',' in the host (list the nodes of a "
                                              "cluster as whole URLs: amqp://...,amqp://...)"},
        {"amqp://u:s3cret@h1,h2/v", "AMQP URL: ',' in the host (list the nodes of a cluster as "
                                    "whole URLs: amqp://...,amqp://...)"},
        {",amqp://u:s3cret@h/v", "AMQP URL node 1 is empty"},
        {"amqp://u:s3cret@h/v,amqp://h/v,ftp://h", NULL},
        {"", "AMQP URL is empty"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bus_url nodes[BUS_NODES_MAX];
        size_t n = 99;
        struct err err = {0};
        int rc = bus_url_list_parse(bad[i].urls, nodes, BUS_NODES_MAX, &n, &err);
        if (rc != ERR_INVALID)
            fail_msg("'%s' gave %d, not ERR_INVALID", bad[i].urls, rc);
        assert_int_equal(n, 0);
        if (strstr(err.msg, "s3cr"))
            fail_msg("message for '%s' shows the password: %s", bad[i].urls, err.msg);
        if (bad[i].msg)
            assert_string_equal(err.msg, bad[i].msg);
        else
            assert_true(err.msg[0] != '\0');
    }
    /* At most BUS_NODES_MAX nodes. */
    char many[BUS_URL_MAX];
    size_t len = 0;
    for (int i = 0; i <= BUS_NODES_MAX; i++)
        len += (size_t)snprintf(many + len, sizeof(many) - len, "%samqp://h%d/v", i ? "," : "", i);
    struct bus_url nodes[BUS_NODES_MAX];
    size_t n;
    struct err err = {0};
    assert_int_equal(bus_url_list_parse(many, nodes, BUS_NODES_MAX, &n, &err), ERR_INVALID);
    assert_string_equal(err.msg, "AMQP URL lists more than 8 nodes");
}

static void test_bus_masks_every_node_and_says_which_is_used(void **state)
{
    (void)state;
    struct bus_config cfg = {.url = "amqp://a:s3cret1@n1:5672/v,amqp://b:s3cret2@n2:5673/v"};
    struct bus *bus = bus_new(&cfg);
    assert_non_null(bus);
    assert_string_equal(bus_url_masked(bus), "amqp://a:***@n1:5672/v (node 1 of 2)");
    bus_free(bus);
    /* What a service logs its configuration with: every node's password hidden. */
    char out[256];
    log_mask_url("amqp://a:s3cret1@n1:5672/v,amqp://b:s3cret2@n2:5673/v", out, sizeof(out));
    assert_string_equal(out, "amqp://a:***@n1:5672/v,amqp://b:***@n2:5673/v");
    log_mask_url("amqp://a:s3cret1@n1/v, amqps://b:s3c@ret2@n2/v,amqp://n3", out, sizeof(out));
    assert_string_equal(out, "amqp://a:***@n1/v, amqps://b:***@n2/v,amqp://n3");
}

/* ---------------------------------------------------------------- queue arguments */

static const struct bus_queue_arg *find_arg(const struct bus_queue_args *a, const char *key)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->items[i].key, key) == 0)
            return &a->items[i];
    return NULL;
}

static void test_classic_events_queue_dead_letters_to_its_context(void **state)
{
    (void)state;
    struct bus_queue_options opt = {
        .dead_letter_exchange = "integration.dead-letter",
        .dead_letter_routing_key = "booking",
        .delivery_limit = 20,
    };
    struct bus_queue_args a;
    assert_int_equal(bus_queue_args_build("classic", &opt, &a, NULL), 0);
    assert_int_equal(a.n, 3);
    assert_string_equal(find_arg(&a, "x-queue-type")->str, "classic");
    assert_string_equal(find_arg(&a, "x-dead-letter-exchange")->str, "integration.dead-letter");
    assert_string_equal(find_arg(&a, "x-dead-letter-routing-key")->str, "booking");
    assert_null(find_arg(&a, "x-delivery-limit")); /* classic queues have no delivery limit */
}

static void test_quorum_events_queue_sets_the_delivery_limit_explicitly(void **state)
{
    (void)state;
    struct bus_queue_options opt = {
        .dead_letter_exchange = "integration.dead-letter",
        .dead_letter_routing_key = "booking",
        .delivery_limit = 7,
    };
    struct bus_queue_args a;
    assert_int_equal(bus_queue_args_build("quorum", &opt, &a, NULL), 0);
    assert_int_equal(a.n, 4);
    assert_string_equal(find_arg(&a, "x-queue-type")->str, "quorum");
    assert_string_equal(find_arg(&a, "x-dead-letter-exchange")->str, "integration.dead-letter");
    const struct bus_queue_arg *limit = find_arg(&a, "x-delivery-limit");
    assert_non_null(limit);
    assert_int_equal(limit->kind, BUS_ARG_INT);
    assert_int_equal(limit->num, 7);
}

static void test_dead_letter_and_retry_queue_arguments(void **state)
{
    (void)state;
    struct bus_queue_args a;
    assert_int_equal(bus_queue_args_build("quorum", NULL, &a, NULL), 0);
    assert_int_equal(a.n, 1); /* the dead-letter queue: its type only */

    struct bus_queue_options retry = {
        .dead_letter_exchange = "",
        .dead_letter_routing_key = "booking.events",
        .message_ttl_ms = 5000,
    };
    assert_int_equal(bus_queue_args_build("classic", &retry, &a, NULL), 0);
    assert_int_equal(a.n, 4);
    assert_string_equal(find_arg(&a, "x-dead-letter-exchange")->str, "");
    assert_int_equal(find_arg(&a, "x-message-ttl")->num, 5000);
}

static void test_queue_arguments_reject_bad_options(void **state)
{
    (void)state;
    struct bus_queue_args a;
    struct err err = {0};
    assert_int_equal(bus_queue_args_build("lazy", NULL, &a, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "lazy"));
    assert_int_equal(bus_queue_args_build(NULL, NULL, &a, &err), ERR_INVALID);
    struct bus_queue_options key_only = {.dead_letter_routing_key = "booking"};
    assert_int_equal(bus_queue_args_build("classic", &key_only, &a, &err), ERR_INVALID);
    struct bus_queue_options negative = {.message_ttl_ms = -1};
    assert_int_equal(bus_queue_args_build("classic", &negative, &a, &err), ERR_INVALID);
}

/* ---------------------------------------------------------------- confirm window */

#define MAX_SEEN 64

struct seen {
    size_t n;
    uint64_t seq[MAX_SEEN];
    enum bus_outcome outcome[MAX_SEEN];
};

static void record(void *ctx, uint64_t seq, enum bus_outcome outcome)
{
    struct seen *s = ctx;
    assert_true(s->n < MAX_SEEN);
    s->seq[s->n] = seq;
    s->outcome[s->n] = outcome;
    s->n++;
}

static void test_window_numbers_publishes_from_one_and_settles_multiple(void **state)
{
    (void)state;
    struct bus_window w;
    assert_int_equal(bus_window_init(&w, 8, NULL), 0);
    for (uint64_t i = 1; i <= 5; i++)
        assert_int_equal(bus_window_add(&w, "id"), i);
    struct seen s = {0};
    assert_int_equal(bus_window_settle(&w, 3, /* multiple = */ 1, 1, record, &s), 3);
    assert_int_equal(s.n, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(s.seq[i], i + 1);
        assert_int_equal(s.outcome[i], BUS_ACKED);
    }
    assert_int_equal(w.count, 2);
    assert_int_equal(bus_window_next_seq(&w), 6);
    /* A repeated or stale ack settles nothing twice. */
    assert_int_equal(bus_window_settle(&w, 3, 1, 1, record, &s), 0);
    assert_int_equal(bus_window_settle(&w, 2, 0, 1, record, &s), 0);
    assert_int_equal(s.n, 3);
    bus_window_release(&w);
}

static void test_window_single_acks_out_of_order_advance_the_head_once_contiguous(void **state)
{
    (void)state;
    struct bus_window w;
    assert_int_equal(bus_window_init(&w, 4, NULL), 0);
    for (int i = 0; i < 4; i++)
        bus_window_add(&w, "id");
    assert_int_equal(bus_window_add(&w, "full"), 0); /* full: refused */
    struct seen s = {0};
    assert_int_equal(bus_window_settle(&w, 3, 0, 1, record, &s), 1);
    assert_int_equal(bus_window_settle(&w, 2, 0, 0, record, &s), 1);
    assert_int_equal(w.count, 4); /* 1 still open: the head cannot move */
    assert_int_equal(bus_window_settle(&w, 1, 0, 1, record, &s), 1);
    assert_int_equal(w.count, 1);
    assert_int_equal(w.first_seq, 4);
    assert_int_equal(s.outcome[1], BUS_NACKED);
    /* The ring wraps: seq 5..7 reuse the freed slots. */
    assert_int_equal(bus_window_add(&w, "a"), 5);
    assert_int_equal(bus_window_add(&w, "b"), 6);
    assert_int_equal(bus_window_add(&w, "c"), 7);
    /* An ack beyond what was published is clamped when multiple, ignored when single. */
    assert_int_equal(bus_window_settle(&w, 99, 0, 1, record, &s), 0);
    assert_int_equal(bus_window_settle(&w, 99, 1, 1, record, &s), 4);
    assert_int_equal(w.count, 0);
    assert_int_equal(bus_window_next_seq(&w), 8);
    bus_window_release(&w);
}

static void test_window_reports_a_returned_message_as_returned_not_acked(void **state)
{
    (void)state;
    struct bus_window w;
    assert_int_equal(bus_window_init(&w, 8, NULL), 0);
    bus_window_add(&w, "first");
    bus_window_add(&w, "lost");
    bus_window_add(&w, "third");
    assert_int_equal(bus_window_mark_returned(&w, "lost"), 1);
    assert_int_equal(bus_window_mark_returned(&w, "unknown"), 0);
    assert_int_equal(bus_window_mark_returned(&w, ""), 0);
    struct seen s = {0};
    assert_int_equal(bus_window_settle(&w, 3, 1, 1, record, &s), 3);
    assert_int_equal(s.outcome[0], BUS_ACKED);
    assert_int_equal(s.outcome[1], BUS_RETURNED);
    assert_int_equal(s.outcome[2], BUS_ACKED);
    bus_window_reset(&w, 1);
    assert_int_equal(bus_window_add(&w, "x"), 1);
    bus_window_release(&w);
    bus_window_release(&w); /* twice is harmless */
}

/* ---------------------------------------------------------------- backoff and config */

static void test_backoff_doubles_from_100ms_to_a_5s_cap_with_jitter(void **state)
{
    (void)state;
    struct bus_config cfg = {.url = "amqp://h/v"};
    struct bus *bus = bus_new(&cfg);
    assert_non_null(bus);
    int full = 100;
    for (int attempt = 1; attempt <= 12; attempt++) {
        int d = bus_backoff_ms(bus);
        if (d < full / 2 || d > full)
            fail_msg("attempt %d: %d ms not in [%d, %d]", attempt, d, full / 2, full);
        full = full * 2 > 5000 ? 5000 : full * 2;
    }
    bus_free(bus);
}

static void test_connect_reports_bad_configuration_as_invalid_without_network(void **state)
{
    (void)state;
    const struct bus_config bad[] = {
        {.url = "http://u:s3cret@h/v"},
        {.url = "amqp://u:s3cret@h/"},
        {.url = NULL},
        {.url = "amqp://u:s3cret@h/v", .queue_type = "lazy"},
        {.url = "amqp://u:s3cret@h/v", .prefetch = 70000},
        {.url = "amqp://u:s3cret@h/v", .heartbeat_s = -1},
        {.url = "amqp://u:s3cret@h/v", .delivery_limit = -2},
        {.url = "amqp://u:s3cret@h/v", .exchange = ""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bus *bus = bus_new(&bad[i]);
        assert_non_null(bus);
        struct err err = {0};
        assert_int_equal(bus_connect(bus, &err), ERR_INVALID);
        assert_false(bus_connected(bus));
        assert_null(strstr(err.msg, "s3cret"));
        bus_free(bus);
    }
}

static void test_calls_on_a_disconnected_bus_are_transient(void **state)
{
    (void)state;
    struct bus_config cfg = {.url = "amqp://u:s3cret@h/v", .confirms = 1};
    struct bus *bus = bus_new(&cfg);
    assert_non_null(bus);
    struct err err = {0};
    struct bus_message m = {.routing_key = "a.b.c", .body = "{}", .len = 2, .message_id = "1"};
    uint64_t seq = 99;
    assert_int_equal(bus_publish(bus, &m, &seq, &err), ERR_TRANSIENT);
    assert_int_equal(seq, 0);
    assert_null(strstr(err.msg, "s3cret"));
    assert_int_equal(bus_wait_confirms(bus, 10, NULL, NULL, &err), ERR_TRANSIENT);
    assert_int_equal(bus_ack(bus, 1, 0, &err), ERR_TRANSIENT);
    struct bus_delivery d;
    assert_int_equal(bus_next(bus, &d, 10, &err), ERR_TRANSIENT);
    bus_delivery_release(&d);
    assert_int_equal(bus_inflight(bus), 0);
    bus_disconnect(bus); /* harmless when not connected */
    bus_free(bus);
    bus_free(NULL);
}

static void test_publish_rejects_unbounded_or_unmatchable_messages(void **state)
{
    (void)state;
    struct bus_config cfg = {.url = "amqp://h/v", .confirms = 1};
    struct bus *bus = bus_new(&cfg);
    struct bus_config plain_cfg = {.url = "amqp://h/v"};
    struct bus *plain = bus_new(&plain_cfg);
    assert_non_null(bus);
    assert_non_null(plain);
    char long_id[BUS_ID_LEN + 1];
    memset(long_id, 'x', sizeof(long_id) - 1);
    long_id[sizeof(long_id) - 1] = '\0';
    struct bus_header headers[BUS_HEADERS_MAX + 1];
    for (size_t i = 0; i < BUS_HEADERS_MAX + 1; i++)
        headers[i] = (struct bus_header){.key = "k", .value = "v"};
    struct bus_header no_value = {.key = "k"};
    const struct bus_message bad[] = {
        {.routing_key = NULL, .body = "{}", .len = 2},
        {.routing_key = "", .body = "{}", .len = 2},
        {.routing_key = "a", .body = NULL, .len = 2},
        {.routing_key = "a", .body = "{}", .len = (size_t)BUS_BODY_MAX + 1},
        {.routing_key = "a", .body = "{}", .len = 2, .message_id = long_id},
        {.routing_key = "a", .body = "{}", .len = 2, .correlation_id = long_id},
        {.routing_key = "a",
         .body = "{}",
         .len = 2,
         .headers = headers,
         .nheaders = BUS_HEADERS_MAX + 1},
        {.routing_key = "a", .body = "{}", .len = 2, .headers = &no_value, .nheaders = 1},
        {.routing_key = "a", .body = "{}", .len = 2, .mandatory = 1}, /* no message_id */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err err = {0};
        if (bus_publish(bus, &bad[i], NULL, &err) != ERR_INVALID)
            fail_msg("message %zu accepted", i);
    }
    struct err err = {0};
    struct bus_message mandatory = {
        .routing_key = "a", .body = "{}", .len = 2, .message_id = "1", .mandatory = 1};
    assert_int_equal(bus_publish(plain, &mandatory, NULL, &err), ERR_INVALID);
    assert_non_null(strstr(err.msg, "confirms"));
    bus_free(plain);
    bus_free(bus);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_parses_every_part_with_defaults),
        cmocka_unit_test(test_url_rejects_bad_input_without_showing_the_password),
        cmocka_unit_test(test_url_description_masks_the_password),
        cmocka_unit_test(test_url_list_gives_each_node_of_a_cluster),
        cmocka_unit_test(test_url_list_names_the_bad_node_without_its_password),
        cmocka_unit_test(test_bus_masks_every_node_and_says_which_is_used),
        cmocka_unit_test(test_classic_events_queue_dead_letters_to_its_context),
        cmocka_unit_test(test_quorum_events_queue_sets_the_delivery_limit_explicitly),
        cmocka_unit_test(test_dead_letter_and_retry_queue_arguments),
        cmocka_unit_test(test_queue_arguments_reject_bad_options),
        cmocka_unit_test(test_window_numbers_publishes_from_one_and_settles_multiple),
        cmocka_unit_test(test_window_single_acks_out_of_order_advance_the_head_once_contiguous),
        cmocka_unit_test(test_window_reports_a_returned_message_as_returned_not_acked),
        cmocka_unit_test(test_backoff_doubles_from_100ms_to_a_5s_cap_with_jitter),
        cmocka_unit_test(test_connect_reports_bad_configuration_as_invalid_without_network),
        cmocka_unit_test(test_calls_on_a_disconnected_bus_are_transient),
        cmocka_unit_test(test_publish_rejects_unbounded_or_unmatchable_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
