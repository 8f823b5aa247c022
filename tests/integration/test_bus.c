/*
 * test_bus.c - struct bus against the real RabbitMQ of AMQP_URL: confirmed
 * publishing, returns of unroutable messages, idempotent topology, a clear
 * error for a conflicting queue type, dead-lettering, a consumer cancelled
 * by a queue deletion, heartbeats of an idle publisher, and a consumer and a
 * publisher riding out a broker stop and start (through INFRA_SH), and
 * fail-over to the next node of a list when one refuses a connection or
 * nacks a publish (a queue the broker makes refuse everything by a policy,
 * set with "$INFRA_SH rabbitmqctl").
 *
 * Every test uses its own context name (testlib_unique_name) and deletes its
 * queues; the exchanges are the real ones (integration.events and
 * integration.dead-letter), which every test run shares harmlessly.
 */
#include "testlib.h"

#include "common/bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 5000

static const char *amqp_url;

static struct bus_config base_config(void)
{
    struct bus_config cfg = {.url = amqp_url, .heartbeat_s = 10, .prefetch = 100};
    return cfg;
}

static struct bus *connect_bus(const struct bus_config *cfg)
{
    struct bus *bus = bus_new(cfg);
    assert_non_null(bus);
    struct err err = {0};
    if (bus_connect(bus, &err) != 0)
        fail_msg("connect: %s", err.msg);
    assert_true(bus_connected(bus));
    return bus;
}

static struct bus *publisher(void)
{
    struct bus_config cfg = base_config();
    cfg.confirms = 1;
    cfg.connection_name = "test_bus publisher";
    return connect_bus(&cfg);
}

static struct bus *consumer_of(const char *queue)
{
    struct bus_config cfg = base_config();
    struct bus *bus = connect_bus(&cfg);
    struct err err = {0};
    if (bus_consume(bus, queue, &err) != 0)
        fail_msg("consume '%s': %s", queue, err.msg);
    return bus;
}

static void declare(struct bus *bus, const char *context, const char *key)
{
    struct err err = {0};
    const char *keys[] = {key};
    if (bus_declare_topology(bus, context, keys, key ? 1 : 0, &err) != 0)
        fail_msg("declare '%s': %s", context, err.msg);
}

/* Deletes the context's two queues on a fresh connection (the given bus may be broken). */
static void delete_queues(const char *context)
{
    struct bus_config cfg = base_config();
    struct bus *bus = connect_bus(&cfg);
    char q[BUS_ROUTING_KEY_LEN];
    struct err err = {0};
    snprintf(q, sizeof(q), "%s.events", context);
    assert_int_equal(bus_delete_queue(bus, q, &err), 0);
    snprintf(q, sizeof(q), "%s.dead-letter", context);
    assert_int_equal(bus_delete_queue(bus, q, &err), 0);
    bus_free(bus);
}

static struct bus_message event(const char *key, const char *id, const char *body)
{
    struct bus_message m = {
        .routing_key = key,
        .body = body,
        .len = strlen(body),
        .message_id = id,
        .type = key,
        .correlation_id = "corr-1",
        .app_id = "test",
        .timestamp = 1700000000,
        .mandatory = 1,
    };
    return m;
}

/* Waits up to WAIT_MS for one delivery; fails the test on timeout or error. */
static void next_or_fail(struct bus *bus, struct bus_delivery *d)
{
    struct err err = {0};
    int rc = bus_next(bus, d, WAIT_MS, &err);
    if (rc != 1)
        fail_msg("bus_next gave %d: %s", rc, err.msg);
}

/* ---------------------------------------------------------------- publish and consume */

#define N_MESSAGES 1000
#define WINDOW     256

struct tally {
    int acked, nacked, returned;
};

static void count_outcome(void *ctx, uint64_t seq, enum bus_outcome outcome)
{
    (void)seq;
    struct tally *t = ctx;
    if (outcome == BUS_ACKED)
        t->acked++;
    else if (outcome == BUS_NACKED)
        t->nacked++;
    else
        t->returned++;
}

/* Runs once per queue type: *state is "classic" or "quorum". */
static void test_thousand_confirmed_publishes_arrive_intact(void **state)
{
    char ctx[64], key[128], queue[128];
    testlib_unique_name(ctx, sizeof(ctx), "tbus");
    snprintf(key, sizeof(key), "%s.thing.happened", ctx);
    snprintf(queue, sizeof(queue), "%s.events", ctx);
    struct bus_config cfg = base_config();
    cfg.confirms = 1;
    cfg.queue_type = *state;
    struct bus *pub = connect_bus(&cfg);
    declare(pub, ctx, key);

    struct tally tally = {0};
    struct err err = {0};
    uint64_t last_seq = 0;
    for (int i = 0; i < N_MESSAGES; i++) {
        while (bus_inflight(pub) >= WINDOW)
            if (bus_wait_confirms(pub, WAIT_MS, count_outcome, &tally, &err) != 0)
                fail_msg("wait: %s", err.msg);
        char id[128], corr[32], body[32], note[32];
        snprintf(id, sizeof(id), "%s-%d", ctx, i);
        snprintf(corr, sizeof(corr), "corr-%d", i);
        snprintf(body, sizeof(body), "{\"i\":%d}", i);
        snprintf(note, sizeof(note), "note %d", i);
        struct bus_header headers[] = {
            {.key = "x-attempt", .int_value = i, .is_int = 1},
            {.key = "x-note", .value = note},
        };
        struct bus_message m = event(key, id, body);
        m.correlation_id = corr;
        m.app_id = ctx;
        m.headers = headers;
        m.nheaders = 2;
        uint64_t seq;
        if (bus_publish(pub, &m, &seq, &err) != 0)
            fail_msg("publish %d: %s", i, err.msg);
        assert_int_equal(seq, last_seq + 1); /* one per publish, from 1 */
        last_seq = seq;
    }
    if (bus_wait_confirms(pub, WAIT_MS, count_outcome, &tally, &err) != 0)
        fail_msg("final wait: %s", err.msg);
    assert_int_equal(bus_inflight(pub), 0);
    assert_int_equal(tally.acked, N_MESSAGES);
    assert_int_equal(tally.nacked + tally.returned, 0);

    struct bus *sub = consumer_of(queue);
    static char seen[N_MESSAGES];
    memset(seen, 0, sizeof(seen));
    for (int n = 0; n < N_MESSAGES; n++) {
        struct bus_delivery d;
        next_or_fail(sub, &d);
        int i = -1;
        char expect[128];
        assert_int_equal(sscanf(d.body, "{\"i\":%d}", &i), 1);
        assert_true(i >= 0 && i < N_MESSAGES);
        assert_false(seen[i]);
        seen[i] = 1;
        snprintf(expect, sizeof(expect), "{\"i\":%d}", i);
        assert_int_equal(d.len, strlen(expect));
        assert_string_equal(d.body, expect);
        snprintf(expect, sizeof(expect), "%s-%d", ctx, i);
        assert_string_equal(d.message_id, expect);
        snprintf(expect, sizeof(expect), "corr-%d", i);
        assert_string_equal(d.correlation_id, expect);
        assert_string_equal(d.type, key);
        assert_string_equal(d.routing_key, key);
        assert_string_equal(d.exchange, "integration.events");
        assert_string_equal(d.app_id, ctx);
        assert_string_equal(d.content_type, "application/cloudevents+json");
        assert_int_equal(d.delivery_mode, 2);
        assert_int_equal(d.timestamp, 1700000000);
        assert_int_equal(d.redelivered, 0);
        assert_int_equal(d.death_count, 0);
        const struct bus_delivery_header *h = bus_delivery_header(&d, "x-attempt");
        assert_non_null(h);
        assert_true(h->is_int);
        assert_int_equal(h->int_value, i);
        h = bus_delivery_header(&d, "x-note");
        assert_non_null(h);
        snprintf(expect, sizeof(expect), "note %d", i);
        assert_string_equal(h->value, expect);
        /* Ack in batches of 50 with multiple, as a consumer with a window would. */
        if (n % 50 == 49 && bus_ack(sub, d.tag, /* multiple = */ 1, &err) != 0)
            fail_msg("ack: %s", err.msg);
        bus_delivery_release(&d);
    }
    struct bus_delivery d;
    assert_int_equal(bus_next(sub, &d, 200, &err), 0); /* nothing left, nothing twice */
    bus_delivery_release(&d);

    bus_free(sub);
    bus_free(pub);
    delete_queues(ctx);
}

/* ---------------------------------------------------------------- returns */

#define OUTCOMES_MAX 3

/* The outcome of each of a window's messages by sequence number; -1 until settled. */
struct outcomes {
    uint64_t seq[OUTCOMES_MAX];
    int outcome[OUTCOMES_MAX];
};

static void note_outcome(void *ctx, uint64_t seq, enum bus_outcome outcome)
{
    struct outcomes *o = ctx;
    for (int i = 0; i < OUTCOMES_MAX; i++)
        if (o->seq[i] == seq)
            o->outcome[i] = (int)outcome;
}

static void test_publish_to_unbound_key_is_reported_as_returned(void **state)
{
    (void)state;
    char ctx[64], bound[128], unbound[128];
    testlib_unique_name(ctx, sizeof(ctx), "tbus");
    snprintf(bound, sizeof(bound), "%s.is.bound", ctx);
    snprintf(unbound, sizeof(unbound), "%s.nobody.listens", ctx);
    struct bus *pub = publisher();
    declare(pub, ctx, bound);
    struct err err = {0};

    /* One at a time: a distinct code, not a silent success. */
    struct bus_message lost = event(unbound, "lost-1", "{}");
    assert_int_equal(bus_publish_sync(pub, &lost, WAIT_MS, &err), ERR_UNPROCESSABLE);
    assert_non_null(strstr(err.msg, "NO_ROUTE"));
    assert_non_null(strstr(err.msg, unbound));
    assert_true(bus_connected(pub));

    /* In a window: the returned one is told apart from its acked neighbour. */
    struct bus_message lost2 = event(unbound, "lost-2", "{}");
    struct bus_message kept = event(bound, "kept-1", "{}");
    struct outcomes o = {{0, 0, 0}, {-1, -1, -1}};
    assert_int_equal(bus_publish(pub, &lost2, &o.seq[0], &err), 0);
    assert_int_equal(bus_publish(pub, &kept, &o.seq[1], &err), 0);
    assert_int_equal(bus_wait_confirms(pub, WAIT_MS, note_outcome, &o, &err), 0);
    assert_int_equal(o.outcome[0], BUS_RETURNED);
    assert_int_equal(o.outcome[1], BUS_ACKED);

    /* The bus is still good for the next message. */
    struct bus_message next = event(bound, "kept-2", "{}");
    if (bus_publish_sync(pub, &next, WAIT_MS, &err) != 0)
        fail_msg("publish after a return: %s", err.msg);

    bus_free(pub);
    delete_queues(ctx);
}

/* ---------------------------------------------------------------- topology */

static void test_topology_declaration_is_idempotent_and_dead_letters_per_context(void **state)
{
    (void)state;
    char ctx[64], ctx2[64], key[128], queue[128], dead[128];
    testlib_unique_name(ctx, sizeof(ctx), "tbus");
    testlib_unique_name(ctx2, sizeof(ctx2), "tbus");
    snprintf(key, sizeof(key), "%s.order.placed", ctx);
    snprintf(queue, sizeof(queue), "%s.events", ctx);
    snprintf(dead, sizeof(dead), "%s.dead-letter", ctx);
    struct bus *pub = publisher();
    declare(pub, ctx, key);
    declare(pub, ctx, key);  /* again: same result, no error */
    declare(pub, ctx2, key); /* a second context binds the same event type */
    declare(pub, ctx2, NULL);
    assert_true(bus_connected(pub));

    /* Both contexts' queues receive the event. */
    struct err err = {0};
    struct bus_message m = event(key, "poison-1", "not json");
    if (bus_publish_sync(pub, &m, WAIT_MS, &err) != 0)
        fail_msg("publish: %s", err.msg);
    char queue2[128];
    snprintf(queue2, sizeof(queue2), "%s.events", ctx2);
    struct bus *sub2 = consumer_of(queue2);
    struct bus_delivery d;
    next_or_fail(sub2, &d);
    assert_string_equal(d.message_id, "poison-1");
    assert_int_equal(bus_ack(sub2, d.tag, 0, &err), 0);
    bus_delivery_release(&d);

    /* A reject without requeue lands in this context's dead-letter queue, keyed by context. */
    struct bus *sub = consumer_of(queue);
    next_or_fail(sub, &d);
    assert_string_equal(d.message_id, "poison-1");
    assert_int_equal(bus_reject(sub, d.tag, /* requeue = */ 0, &err), 0);
    bus_delivery_release(&d);
    struct bus *dl = consumer_of(dead);
    next_or_fail(dl, &d);
    assert_string_equal(d.message_id, "poison-1");
    assert_string_equal(d.body, "not json");
    assert_string_equal(d.routing_key, ctx);
    assert_int_equal(d.death_count, 1);
    assert_int_equal(bus_ack(dl, d.tag, 0, &err), 0);
    bus_delivery_release(&d);

    bus_free(dl);
    bus_free(sub);
    bus_free(sub2);
    bus_free(pub);
    delete_queues(ctx);
    delete_queues(ctx2);
}

static void test_conflicting_queue_type_is_a_clear_error(void **state)
{
    (void)state;
    char ctx[64], queue[128];
    testlib_unique_name(ctx, sizeof(ctx), "tbus");
    snprintf(queue, sizeof(queue), "%s.events", ctx);
    struct bus_config classic = base_config();
    struct bus *a = connect_bus(&classic);
    declare(a, ctx, NULL);

    struct bus_config quorum = base_config();
    quorum.queue_type = "quorum";
    quorum.delivery_limit = 5;
    struct bus *b = connect_bus(&quorum);
    struct err err = {0};
    assert_int_equal(bus_declare_topology(b, ctx, NULL, 0, &err), ERR_INTERNAL);
    assert_non_null(strstr(err.msg, queue));
    assert_non_null(strstr(err.msg, "differ"));
    assert_non_null(strstr(err.msg, "x-queue-type"));
    assert_false(bus_connected(b)); /* the broker closed the channel */
    assert_int_equal(bus_connect(b, &err), 0);

    /* Quorum queues (with x-delivery-limit) declare idempotently too. */
    char qctx[64];
    testlib_unique_name(qctx, sizeof(qctx), "tbus");
    declare(b, qctx, NULL);
    declare(b, qctx, NULL);

    bus_free(b);
    bus_free(a);
    delete_queues(ctx);
    delete_queues(qctx);
}

static void test_deleting_the_queue_cancels_the_consumer(void **state)
{
    (void)state;
    char ctx[64], queue[128];
    testlib_unique_name(ctx, sizeof(ctx), "tbus");
    snprintf(queue, sizeof(queue), "%s.events", ctx);
    struct bus *pub = publisher();
    declare(pub, ctx, NULL);
    struct bus *sub = consumer_of(queue);
    struct err err = {0};
    assert_int_equal(bus_delete_queue(pub, queue, &err), 0);
    struct bus_delivery d;
    assert_int_equal(bus_next(sub, &d, WAIT_MS, &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "cancelled"));
    assert_false(bus_connected(sub));
    bus_free(sub);
    bus_free(pub);
    delete_queues(ctx);
}

/* ---------------------------------------------------------------- heartbeats */

static void test_idle_publisher_keeps_its_connection_by_polling_confirms(void **state)
{
    (void)state;
    struct bus_config cfg = base_config();
    cfg.confirms = 1;
    cfg.heartbeat_s = 1; /* the broker closes a connection silent for about 2 s */
    struct bus *pub = connect_bus(&cfg);
    struct err err = {0};
    for (int64_t end = testlib_now_ms() + 3500; testlib_now_ms() < end;) {
        testlib_sleep_ms(300);
        if (bus_wait_confirms(pub, 0, NULL, NULL, &err) != 0)
            fail_msg("poll: %s", err.msg);
    }
    struct bus_message m = event("nowhere", "hb-1", "{}");
    m.exchange = ""; /* the default exchange: acked even when nothing is routed */
    m.mandatory = 0;
    if (bus_publish_sync(pub, &m, WAIT_MS, &err) != 0)
        fail_msg("publish after 3.5 s idle: %s", err.msg);
    bus_free(pub);
}

/* ---------------------------------------------------------------- fail-over */

static void test_a_node_that_refuses_moves_the_bus_to_the_next_node(void **state)
{
    (void)state;
    char ctx[64], key[128], urls[2048];
    testlib_unique_name(ctx, sizeof(ctx), "tbus");
    snprintf(key, sizeof(key), "%s.thing.happened", ctx);
    /* The first node is a free port nobody listens on: refused at once. */
    snprintf(urls, sizeof(urls), "amqp://events:s3cret@127.0.0.1:%d/events,%s", testlib_free_port(),
             amqp_url);
    struct bus_config cfg = base_config();
    cfg.url = urls;
    cfg.confirms = 1;
    struct bus *bus = bus_new(&cfg);
    assert_non_null(bus);
    assert_non_null(strstr(bus_url_masked(bus), "(node 1 of 2)"));
    struct err err = {0};
    assert_int_equal(bus_connect(bus, &err), ERR_TRANSIENT);
    assert_null(strstr(err.msg, "s3cret"));
    /* The next attempt is the next node, without waiting for the first to come back. */
    assert_non_null(strstr(bus_url_masked(bus), "(node 2 of 2)"));
    if (bus_connect(bus, &err) != 0)
        fail_msg("connect to node 2: %s", err.msg);
    declare(bus, ctx, key);
    struct bus_message m = event(key, "over-1", "{\"n\":1}");
    assert_int_equal(bus_publish_sync(bus, &m, WAIT_MS, &err), 0);
    /* A polite disconnect is not a failure: the bus stays on the node that works. */
    bus_disconnect(bus);
    assert_non_null(strstr(bus_url_masked(bus), "(node 2 of 2)"));
    if (bus_connect(bus, &err) != 0)
        fail_msg("connect again to node 2: %s", err.msg);
    bus_free(bus);
    delete_queues(ctx);
}

/* ---------------------------------------------------------------- a node that nacks */

/*
 * Runs "$INFRA_SH rabbitmqctl ARGS" (deploy/local/infra.sh reaches the
 * harness's node with its cookie); fails the test unless it exits 0.
 */
static void rabbitmqctl(const char *args)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' rabbitmqctl %s >&2", testlib_require_env("INFRA_SH"), args);
    if (system(cmd) != 0)
        fail_msg("rabbitmqctl %s failed", args);
}

/*
 * Makes the broker nack every message routed to queue "<ctx>.full": a
 * policy of max-length 0 with overflow reject-publish, set before the queue
 * is declared (so it holds from the first publish on), the queue bound to
 * the events exchange with key. Undo with refusing_queue_drop.
 */
static void refusing_queue(struct bus *admin, const char *ctx, const char *key)
{
    char args[512], queue[BUS_ROUTING_KEY_LEN];
    snprintf(args, sizeof(args),
             "set_policy -p events --apply-to queues '%s-refuse' '^%s\\.full$' "
             "'{\"max-length\":0,\"overflow\":\"reject-publish\"}'",
             ctx, ctx);
    rabbitmqctl(args);
    snprintf(queue, sizeof(queue), "%s.full", ctx);
    struct err err = {0};
    if (bus_declare_queue(admin, queue, NULL, &err) != 0 ||
        bus_bind_queue(admin, queue, "integration.events", key, &err) != 0)
        fail_msg("declare '%s': %s", queue, err.msg);
}

static void refusing_queue_drop(const char *ctx)
{
    char args[256], queue[BUS_ROUTING_KEY_LEN];
    snprintf(args, sizeof(args), "clear_policy -p events '%s-refuse'", ctx);
    rabbitmqctl(args);
    struct bus_config cfg = base_config();
    struct bus *bus = connect_bus(&cfg);
    struct err err = {0};
    snprintf(queue, sizeof(queue), "%s.full", ctx);
    assert_int_equal(bus_delete_queue(bus, queue, &err), 0);
    bus_free(bus);
    delete_queues(ctx);
}

/* Messages ready in queue, by a passive declare on a fresh connection. */
static long long queue_depth(const char *queue)
{
    struct bus_config cfg = base_config();
    struct bus *bus = connect_bus(&cfg);
    long long n = -1;
    struct err err = {0};
    if (bus_queue_inspect(bus, queue, &n, NULL, &err) != 0)
        fail_msg("inspect '%s': %s", queue, err.msg);
    bus_free(bus);
    return n;
}

/*
 * AMQP_URL lists the harness's node twice, so "the next node" is reachable
 * and tells by its number: a nack in a window is reported for that message
 * alone (its neighbours acked), nothing of it reaches the queue, and once
 * the window is settled the bus has left the node (disconnected, the next
 * connect goes to node 2). bus_publish_sync reports the nack as
 * ERR_TRANSIENT and leaves too, round the list.
 */
static void test_a_node_that_nacks_is_left_for_the_next_one(void **state)
{
    (void)state;
    char ctx[64], ok[128], refused[128], urls[2048], q[BUS_ROUTING_KEY_LEN];
    testlib_unique_name(ctx, sizeof(ctx), "tbus");
    snprintf(ok, sizeof(ok), "%s.is.taken", ctx);
    snprintf(refused, sizeof(refused), "%s.is.refused", ctx);
    struct bus *admin = publisher();
    declare(admin, ctx, ok);
    refusing_queue(admin, ctx, refused);
    bus_free(admin);

    snprintf(urls, sizeof(urls), "%s,%s", amqp_url, amqp_url);
    struct bus_config cfg = base_config();
    cfg.url = urls;
    cfg.confirms = 1;
    struct bus *bus = connect_bus(&cfg);
    assert_non_null(strstr(bus_url_masked(bus), "(node 1 of 2)"));

    /* A window of three: only the refused one is nacked, and the bus moves on once all settle. */
    struct err err = {0};
    struct bus_message m0 = event(ok, "taken-1", "{\"n\":1}");
    struct bus_message m1 = event(refused, "refused-1", "{\"n\":2}");
    struct bus_message m2 = event(ok, "taken-2", "{\"n\":3}");
    struct outcomes o = {{0, 0, 0}, {-1, -1, -1}};
    assert_int_equal(bus_publish(bus, &m0, &o.seq[0], &err), 0);
    assert_int_equal(bus_publish(bus, &m1, &o.seq[1], &err), 0);
    assert_int_equal(bus_publish(bus, &m2, &o.seq[2], &err), 0);
    if (bus_wait_confirms(bus, WAIT_MS, note_outcome, &o, &err) != 0)
        fail_msg("wait for confirms: %s", err.msg);
    assert_int_equal(o.outcome[0], BUS_ACKED);
    assert_int_equal(o.outcome[1], BUS_NACKED);
    assert_int_equal(o.outcome[2], BUS_ACKED);
    assert_int_equal(bus_inflight(bus), 0);
    assert_false(bus_connected(bus));
    assert_non_null(strstr(bus_url_masked(bus), "(node 2 of 2)"));
    snprintf(q, sizeof(q), "%s.full", ctx);
    assert_int_equal(queue_depth(q), 0);
    snprintf(q, sizeof(q), "%s.events", ctx);
    assert_int_equal(queue_depth(q), 2);

    /* One at a time: the nack is ERR_TRANSIENT naming the message, and the bus moves on again. */
    if (bus_connect(bus, &err) != 0)
        fail_msg("connect to node 2: %s", err.msg);
    struct bus_message m3 = event(refused, "refused-2", "{\"n\":4}");
    assert_int_equal(bus_publish_sync(bus, &m3, WAIT_MS, &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "nacked"));
    assert_non_null(strstr(err.msg, "refused-2"));
    assert_false(bus_connected(bus));
    assert_non_null(strstr(bus_url_masked(bus), "(node 1 of 2)"));

    /* The node it lands on takes what is routable. */
    if (bus_connect(bus, &err) != 0)
        fail_msg("connect to node 1: %s", err.msg);
    struct bus_message m4 = event(ok, "taken-3", "{\"n\":5}");
    if (bus_publish_sync(bus, &m4, WAIT_MS, &err) != 0)
        fail_msg("publish after leaving a nacking node: %s", err.msg);
    assert_true(bus_connected(bus));
    snprintf(q, sizeof(q), "%s.full", ctx);
    assert_int_equal(queue_depth(q), 0);
    snprintf(q, sizeof(q), "%s.events", ctx);
    assert_int_equal(queue_depth(q), 3);
    bus_free(bus);
    refusing_queue_drop(ctx);
}

/* With one node there is nowhere to go: a nack is reported and the connection kept. */
static void test_a_single_node_that_nacks_is_kept(void **state)
{
    (void)state;
    char ctx[64], ok[128], refused[128], q[BUS_ROUTING_KEY_LEN];
    testlib_unique_name(ctx, sizeof(ctx), "tbus");
    snprintf(ok, sizeof(ok), "%s.is.taken", ctx);
    snprintf(refused, sizeof(refused), "%s.is.refused", ctx);
    struct bus *bus = publisher();
    declare(bus, ctx, ok);
    refusing_queue(bus, ctx, refused);

    struct err err = {0};
    struct bus_message m = event(refused, "refused-1", "{}");
    assert_int_equal(bus_publish_sync(bus, &m, WAIT_MS, &err), ERR_TRANSIENT);
    assert_non_null(strstr(err.msg, "nacked"));
    assert_true(bus_connected(bus));
    struct bus_message next = event(ok, "taken-1", "{}");
    if (bus_publish_sync(bus, &next, WAIT_MS, &err) != 0)
        fail_msg("publish after a nack: %s", err.msg);
    snprintf(q, sizeof(q), "%s.full", ctx);
    assert_int_equal(queue_depth(q), 0);
    snprintf(q, sizeof(q), "%s.events", ctx);
    assert_int_equal(queue_depth(q), 1);
    bus_free(bus);
    refusing_queue_drop(ctx);
}

/* ---------------------------------------------------------------- broker restart */

/* Reconnects with the bus's backoff for up to 60 s. */
static void reconnect(struct bus *bus)
{
    struct err err = {0};
    int64_t give_up = testlib_now_ms() + 60000;
    while (bus_connect(bus, &err) != 0) {
        assert_int_equal(err.code, ERR_TRANSIENT);
        if (testlib_now_ms() > give_up)
            fail_msg("no reconnect in 60 s: %s", err.msg);
        testlib_sleep_ms(bus_backoff_ms(bus));
    }
}

static void test_consumer_and_publisher_survive_a_broker_restart(void **state)
{
    (void)state;
    char ctx[64], key[128], queue[128];
    testlib_unique_name(ctx, sizeof(ctx), "tbus");
    snprintf(key, sizeof(key), "%s.thing.happened", ctx);
    snprintf(queue, sizeof(queue), "%s.events", ctx);
    struct bus *pub = publisher();
    declare(pub, ctx, key);
    struct bus *sub = consumer_of(queue);
    struct err err = {0};

    struct bus_message m1 = event(key, "before-1", "{\"n\":1}");
    struct bus_message m2 = event(key, "before-2", "{\"n\":2}");
    assert_int_equal(bus_publish_sync(pub, &m1, WAIT_MS, &err), 0);
    assert_int_equal(bus_publish_sync(pub, &m2, WAIT_MS, &err), 0);
    struct bus_delivery d;
    next_or_fail(sub, &d);
    assert_string_equal(d.message_id, "before-1");
    assert_int_equal(bus_ack(sub, d.tag, 0, &err), 0);
    bus_delivery_release(&d);
    next_or_fail(sub, &d); /* before-2: held unacked across the outage */
    assert_string_equal(d.message_id, "before-2");
    bus_delivery_release(&d);

    assert_int_equal(testlib_infra("stop", "rabbitmq"), 0);

    /* While the broker is away both sides see ERR_TRANSIENT, and nothing hangs. */
    assert_int_equal(bus_next(sub, &d, WAIT_MS, &err), ERR_TRANSIENT);
    assert_false(bus_connected(sub));
    struct bus_message m3 = event(key, "during-1", "{\"n\":3}");
    assert_int_equal(bus_publish_sync(pub, &m3, WAIT_MS, &err), ERR_TRANSIENT);
    assert_false(bus_connected(pub));
    int64_t t0 = testlib_now_ms();
    assert_int_equal(bus_connect(pub, &err), ERR_TRANSIENT);
    assert_true(testlib_now_ms() - t0 < BUS_CONNECT_TIMEOUT_MS + 1000);
    assert_null(strstr(err.msg, ":events@")); /* the password stays masked */

    assert_int_equal(testlib_infra("start", "rabbitmq"), 0);
    reconnect(pub);
    reconnect(sub);
    declare(pub, ctx, key); /* services redeclare at every connect: harmless */
    if (bus_consume(sub, queue, &err) != 0)
        fail_msg("consume again: %s", err.msg);

    /* The unacked message comes back, marked redelivered; new publishes flow again. */
    next_or_fail(sub, &d);
    assert_string_equal(d.message_id, "before-2");
    assert_int_equal(d.redelivered, 1);
    assert_int_equal(bus_ack(sub, d.tag, 0, &err), 0);
    bus_delivery_release(&d);
    if (bus_publish_sync(pub, &m3, WAIT_MS, &err) != 0)
        fail_msg("publish after restart: %s", err.msg);
    next_or_fail(sub, &d);
    assert_string_equal(d.message_id, "during-1");
    assert_int_equal(bus_ack(sub, d.tag, 0, &err), 0);
    bus_delivery_release(&d);

    bus_free(sub);
    bus_free(pub);
    delete_queues(ctx);
}

int main(void)
{
    amqp_url = testlib_require_env("AMQP_URL");
    testlib_require_env("INFRA_SH");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_thousand_confirmed_publishes_arrive_intact, "classic"),
        cmocka_unit_test_prestate(test_thousand_confirmed_publishes_arrive_intact, "quorum"),
        cmocka_unit_test(test_publish_to_unbound_key_is_reported_as_returned),
        cmocka_unit_test(test_topology_declaration_is_idempotent_and_dead_letters_per_context),
        cmocka_unit_test(test_conflicting_queue_type_is_a_clear_error),
        cmocka_unit_test(test_deleting_the_queue_cancels_the_consumer),
        cmocka_unit_test(test_idle_publisher_keeps_its_connection_by_polling_confirms),
        cmocka_unit_test(test_a_node_that_refuses_moves_the_bus_to_the_next_node),
        cmocka_unit_test(test_a_node_that_nacks_is_left_for_the_next_one),
        cmocka_unit_test(test_a_single_node_that_nacks_is_kept),
        cmocka_unit_test(test_consumer_and_publisher_survive_a_broker_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
