/*
 * cluster.h - a RabbitMQ cluster of two or three nodes on this machine for
 * the scenario that needs one (fault.cluster), driven through
 * tests/fault/cluster.sh. One cluster per process; its nodes are "a", "b"
 * and "c". Not a production setup (docs/fault-suite.md says how to run the
 * scenarios against a real one).
 */
#ifndef FAULT_CLUSTER_H
#define FAULT_CLUSTER_H

#include <stddef.h>

/*
 * Starts a cluster of nodes (2 or 3) under LOCAL_DIR (or /tmp) and registers
 * its stop with fault_on_cleanup, so it is stopped whatever happens. Fails
 * the test when it cannot.
 */
void cluster_start(int nodes);

/* True once cluster_start has been called in this process (the cluster may be stopping). */
int cluster_started(void);

/*
 * Runs "cluster.sh action DIR [node]" (stop-node, start-node, queues) and
 * fails the test unless it exits 0. Its output goes into out (may be NULL:
 * then it is printed).
 */
void cluster_run(const char *action, const char *node, char *out, size_t outlen);

/* The AMQP URL of node ('a', 'b' or 'c') as cluster.sh recorded it; fails the test without one. */
void cluster_url(char node, char *out, size_t outlen);

/* Fails the test unless every context's <context>.events queue is a quorum queue. */
void cluster_expect_quorum_queues(void);

#endif
