/*
 * test_fault_quorum.c - AMQP_QUEUE_TYPE=quorum on a two-node RabbitMQ
 * cluster started on this machine (tests/fault/cluster.sh); the services
 * talk to node a. In the middle of the flow node b stops: with two nodes a
 * quorum queue has lost its majority, so the broker confirms nothing and
 * delivers nothing until b is back, while the services keep accepting
 * writes into their outboxes. Then b starts again and everything written is
 * published and handled once.
 */
#include "cluster.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUORUM_DOWN_MS 3000 /* node b's outage beyond its own stop and start */

static char saved_amqp_url[1024];

static int setup(void **state)
{
    (void)state;
    const char *enabled = getenv("FAULT_QUORUM");
    if (enabled && strcmp(enabled, "0") == 0)
        return 0; /* the test skips itself */
    cluster_start(2);
    char url[1024];
    cluster_url('a', url, sizeof(url));
    snprintf(saved_amqp_url, sizeof(saved_amqp_url), "%s", testlib_require_env("AMQP_URL"));
    setenv("AMQP_URL", url, 1);
    static const char *const env[] = {"AMQP_QUEUE_TYPE=quorum", NULL};
    scenario_setup("quorum", env, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!scenario.load && !cluster_started())
        return 0;        /* skipped */
    scenario_teardown(); /* also stops the cluster (the registered cleanup) */
    setenv("AMQP_URL", saved_amqp_url, 1);
    return 0;
}

static void test_quorum_queues_on_two_nodes_ride_out_losing_one(void **state)
{
    (void)state;
    if (!cluster_started()) {
        printf("fault[quorum]: skipped (FAULT_QUORUM=0)\n");
        skip();
    }
    /* The services declared quorum queues (with x-delivery-limit) on the cluster. */
    cluster_expect_quorum_queues();
    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before node b stops");
    /* b by default: the services stay connected to a while the queues lose their majority. */
    const char *node = getenv("FAULT_QUORUM_NODE");
    node = node && strcmp(node, "a") == 0 ? "a" : "b";
    int outages = fault_soak() > 1 ? fault_soak() / 2 : 1;
    for (int i = 0; i < outages; i++) {
        int64_t t0 = testlib_now_ms();
        cluster_run("stop-node", node, NULL, 0);
        long bookings0 = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED);
        scenario_note("cluster node %s stopped (the quorum queues lost their majority)", node);
        scenario_hold(QUORUM_DOWN_MS);
        long bookings = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED) - bookings0;
        cluster_run("start-node", node, NULL, 0);
        scenario_note("node %s started again after %.1f s; meanwhile %ld bookings accepted", node,
                      (double)(testlib_now_ms() - t0) / 1000.0, bookings);
        if (bookings < 10)
            fail_msg("writes were not kept accepted while node %s was down: %ld bookings in %d ms",
                     node, bookings, QUORUM_DOWN_MS);
        load_wait_bookings(scenario.load, load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED),
                           20, 30000, "bookings after node b came back");
    }
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_quorum_queues_on_two_nodes_ride_out_losing_one, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
