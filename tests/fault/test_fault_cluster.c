/*
 * test_fault_cluster.c - a three-node RabbitMQ cluster started once on this
 * machine (tests/fault/cluster.sh), quorum queues, and the services given
 * every node in AMQP_URL ("amqp://…a…,amqp://…b…,amqp://…c…"), so every
 * connection starts on node a. Two phases on the one cluster (booting its
 * nodes is most of the time), each ending with the whole ledger checked:
 *
 *   quorum    node b, which the services are not connected to, stops under
 *             load: the queues keep their majority on a and c, writes keep
 *             being accepted and the flow goes on; b starts again.
 *   failover  node a, the services' node, stops under load and stays down:
 *             they lose their connections, move to the next node, declare
 *             their topology and consume there. The time until every
 *             context handles events again is reported.
 *
 * Nothing is lost or done twice in either (the ledger).
 */
#include "cluster.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUORUM_DOWN_MS     3000  /* node b's outage beyond its own stop and start */
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
    scenario_setup("cluster", env, NULL);
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

/*
 * Phase 1: node b stops (and, soaking, again and again); the queues keep
 * their majority on a and c. Writes keep being accepted, every context
 * keeps handling events, and after b is back everything is published and
 * handled once.
 */
static void phase_quorum(void)
{
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before node b stops");
    int outages = fault_soak() > 1 ? fault_soak() / 2 : 1;
    for (int i = 0; i < outages; i++) {
        int64_t t0 = testlib_now_ms();
        cluster_run("stop-node", "b", NULL, 0);
        long bookings0 = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED);
        scenario_note("cluster node b stopped (the quorum queues kept their majority on a and c)");
        int64_t flowing = scenario_wait_flowing(FAILOVER_RESUME_MS, "while node b is down");
        scenario_hold(QUORUM_DOWN_MS);
        long bookings = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED) - bookings0;
        cluster_run("start-node", "b", NULL, 0);
        scenario_note("node b started again after %.1f s; meanwhile %ld bookings accepted and "
                      "every context handled events (after %.1f s)",
                      (double)(testlib_now_ms() - t0) / 1000.0, bookings, (double)flowing / 1000.0);
        if (bookings < 10)
            fail_msg("writes were not kept accepted while node b was down: %ld bookings in %d ms",
                     bookings, QUORUM_DOWN_MS);
        load_wait_bookings(scenario.load, load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED),
                           20, 30000, "bookings after node b came back");
    }
}

/*
 * Phase 2: node a, the first of AMQP_URL and so the services' node, stops
 * under load and stays down: the services move to b and c, nothing is lost
 * or doubled, and the time to resume is reported.
 */
static void phase_failover(void)
{
    load_wait_bookings(scenario.load, load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED), 20,
                       20000, "bookings before node a stops");
    scenario_wait_flowing(20000, "before node a stops");

    long bookings0 = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED);
    int64_t t0 = testlib_now_ms();
    cluster_run("stop-node", "a", NULL, 0);
    int64_t stopped = testlib_now_ms() - t0;
    int64_t resumed = scenario_wait_flowing(FAILOVER_RESUME_MS, "after node a stopped");
    char queues[4096];
    cluster_run("queues", "b", queues, sizeof(queues));
    printf("fault[cluster]: the queues as node b sees them (name, type, leader, members, "
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
}

static void test_quorum_queues_ride_out_a_node_and_services_fail_over_from_theirs(void **state)
{
    (void)state;
    if (!cluster_started()) {
        printf("fault[cluster]: skipped (FAULT_QUORUM=0)\n");
        skip();
    }
    /* The services declared quorum queues (with x-delivery-limit) on the cluster. */
    cluster_expect_quorum_queues();
    load_start(scenario.load);
    phase_quorum();
    scenario_check("quorum");
    phase_failover();
    /* Node a stays down: the ledger's reads fail over too. */
    scenario_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_quorum_queues_ride_out_a_node_and_services_fail_over_from_theirs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
