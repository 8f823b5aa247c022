/*
 * test_fault_quorum.c - AMQP_QUEUE_TYPE=quorum on a two-node RabbitMQ
 * cluster started on this machine (tests/fault/cluster.sh); the services
 * talk to node a. In the middle of the flow node b stops: with two nodes a
 * quorum queue has lost its majority, so the broker confirms nothing and
 * delivers nothing until b is back, while the services keep accepting
 * writes into their outboxes. Then b starts again and everything written is
 * published and handled once.
 */
#include "scenario.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FAULT_CLUSTER_SH
#error "FAULT_CLUSTER_SH must name tests/fault/cluster.sh"
#endif

#define QUORUM_DOWN_MS 3000 /* node b's outage beyond its own stop and start */

static char cluster_dir[PATH_MAX];
static char saved_amqp_url[1024];

/* Runs cluster.sh with action (and node); fails unless it exits 0. Its output is captured in out. */
static void cluster(const char *action, const char *node, char *out, size_t outlen)
{
    char cmd[PATH_MAX + 256];
    snprintf(cmd, sizeof(cmd), "'%s' %s '%s' %s 2>&1", FAULT_CLUSTER_SH, action, cluster_dir,
             node ? node : "");
    FILE *p = popen(cmd, "r");
    if (!p)
        fail_msg("cannot run %s", cmd);
    char buf[8192] = "";
    size_t n = fread(buf, 1, sizeof(buf) - 1, p);
    buf[n] = '\0';
    int rc = pclose(p);
    if (rc != 0)
        fail_msg("cluster.sh %s %s failed (%d): %s", action, node ? node : "", rc, buf);
    if (out)
        snprintf(out, outlen, "%s", buf);
    else if (buf[0])
        printf("%s", buf);
}

static void read_cluster_url(char *out, size_t outlen)
{
    char path[PATH_MAX + 16], line[1024];
    snprintf(path, sizeof(path), "%s/cluster.env", cluster_dir);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cluster.sh start wrote no %s", path);
    out[0] = '\0';
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "AMQP_URL_A=", 11) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(out, outlen, "%s", line + 11);
        }
    fclose(f);
    if (!out[0])
        fail_msg("no AMQP_URL_A in %s", path);
}

static int setup(void **state)
{
    (void)state;
    const char *enabled = getenv("FAULT_QUORUM");
    if (enabled && strcmp(enabled, "0") == 0)
        return 0; /* the test skips itself */
    const char *local = getenv("LOCAL_DIR");
    snprintf(cluster_dir, sizeof(cluster_dir), "%s/fault-cluster-%ld",
             local && *local ? local : "/tmp", (long)getpid());
    const char *const stop[] = {FAULT_CLUSTER_SH, "stop", cluster_dir, NULL};
    fault_on_cleanup(stop); /* from here on, whatever happens, the cluster is stopped */
    cluster("start", NULL, NULL, 0);
    char url[1024];
    read_cluster_url(url, sizeof(url));
    snprintf(saved_amqp_url, sizeof(saved_amqp_url), "%s", testlib_require_env("AMQP_URL"));
    setenv("AMQP_URL", url, 1);
    static const char *const env[] = {"AMQP_QUEUE_TYPE=quorum", NULL};
    scenario_setup("quorum", env, NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (!scenario.load && !cluster_dir[0])
        return 0; /* skipped */
    scenario_teardown(); /* also stops the cluster (the registered cleanup) */
    setenv("AMQP_URL", saved_amqp_url, 1);
    return 0;
}

static void test_quorum_queues_on_two_nodes_ride_out_losing_one(void **state)
{
    (void)state;
    if (!cluster_dir[0]) {
        printf("fault[quorum]: skipped (FAULT_QUORUM=0)\n");
        skip();
    }
    /* The services declared quorum queues (with x-delivery-limit) on the cluster. */
    char queues[4096];
    cluster("queues", NULL, queues, sizeof(queues));
    for (int c = 0; c < E2E_NCTX; c++) {
        char want[96];
        snprintf(want, sizeof(want), "%s.events\tquorum", e2e_ctx_name(c));
        if (!strstr(queues, want))
            fail_msg("queue %s.events is not a quorum queue on the cluster: %s", e2e_ctx_name(c),
                     queues);
    }
    load_start(scenario.load);
    load_wait_bookings(scenario.load, 0, 20, 20000, "bookings before node b stops");
    /* b by default: the services stay connected to a while the queues lose their majority. */
    const char *node = getenv("FAULT_QUORUM_NODE");
    node = node && strcmp(node, "a") == 0 ? "a" : "b";
    int outages = fault_soak() > 1 ? fault_soak() / 2 : 1;
    for (int i = 0; i < outages; i++) {
        int64_t t0 = testlib_now_ms();
        cluster("stop-node", node, NULL, 0);
        long bookings0 = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED);
        scenario_note("cluster node %s stopped (the quorum queues lost their majority)", node);
        scenario_hold(QUORUM_DOWN_MS);
        long bookings = load_count(scenario.load, LOAD_BOOKING, LOAD_ACCEPTED) - bookings0;
        cluster("start-node", node, NULL, 0);
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
