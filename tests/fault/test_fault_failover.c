/*
 * test_fault_failover.c - broker fail-over: a three-node RabbitMQ cluster
 * started on this machine (tests/fault/cluster.sh), quorum queues, and the
 * services given all three nodes in AMQP_URL ("amqp://…a…,amqp://…b…,
 * amqp://…c…"), so every connection starts on node a. In the middle of the
 * flow node a stops: the services lose every connection, move to the next
 * node, declare their topology and consume there, while the queues keep
 * their majority on b and c. Nothing is lost or done twice (the ledger), and
 * the time until every context handles events again is reported.
 */
#include "cluster.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAILOVER_DOWN_MS   3000  /* load kept running on two nodes once the flow resumed */
#define FAILOVER_RESUME_MS 90000 /* bound on the time to resume */

static char saved_amqp_url[1024];

static int setup(void **state)
{
    (void)state;
    const char *enabled = getenv("FAULT_QUORUM");
    if (enabled && strcmp(enabled, "0") == 0)
        return 0; /* the test skips itself */
    cluster_start(3);
    char a[1024], b[1024], c[1024], urls[3200];
    cluster_url('a', a, sizeof(a));
    cluster_url('b', b, sizeof(b));
    cluster_url('c', c, sizeof(c));
    snprintf(urls, sizeof(urls), "%s,%s,%s", a, b, c);
    snprintf(saved_amqp_url, sizeof(saved_amqp_url), "%s", testlib_require_env("AMQP_URL"));
    setenv("AMQP_URL", urls, 1);
    static const char *const env[] = {"AMQP_QUEUE_TYPE=quorum", NULL};
    scenario_setup("failover", env, NULL);
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

static void test_services_fail_over_when_their_node_stops(void **state)
{
    (void)state;
    if (!cluster_started()) {
        printf("fault[failover]: skipped (FAULT_QUORUM=0)\n");
        skip();
    }
    cluster_expect_quorum_queues();
    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before node a stops");
    scenario_wait_flowing(20000, "before node a stops");

    /* Every connection is on node a, the first of the list: stopping it takes them all. */
    long bookings0 = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED);
    int64_t t0 = testlib_now_ms();
    cluster_run("stop-node", "a", NULL, 0);
    int64_t stopped = testlib_now_ms() - t0;
    int64_t resumed = scenario_wait_flowing(FAILOVER_RESUME_MS, "after node a stopped");
    char queues[4096];
    cluster_run("queues", "b", queues, sizeof(queues));
    printf("fault[failover]: the queues as node b sees them (name, type, leader, members, "
           "online):\n%s",
           queues);
    scenario_note("cluster node a (the services' node) stopped in %.1f s; every context handled "
                  "events again %.1f s after it was down, %.1f s after the stop began",
                  (double)stopped / 1000.0, (double)resumed / 1000.0,
                  (double)(stopped + resumed) / 1000.0);
    fault_report("time to resume after node a stopped: %.1f s (the stop itself %.1f s)",
                 (double)(stopped + resumed) / 1000.0, (double)stopped / 1000.0);
    scenario_hold(FAILOVER_DOWN_MS * (fault_soak() > 1 ? fault_soak() : 1));
    long bookings = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED) - bookings0;
    if (bookings < 20)
        fail_msg("bookings were not kept accepted across the fail-over: %ld", bookings);
    /* Node a stays down: the ledger's reads fail over too. */
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_services_fail_over_when_their_node_stops, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
