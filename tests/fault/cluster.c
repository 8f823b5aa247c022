/*
 * cluster.c - see cluster.h. The shell script does the work; this file
 * only runs it, reads what it recorded and checks what the services declared.
 */
#include "cluster.h"

#include "fault.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FAULT_CLUSTER_SH
#error "FAULT_CLUSTER_SH must name tests/fault/cluster.sh"
#endif

static char cluster_dir[PATH_MAX];

int cluster_started(void)
{
    return cluster_dir[0] != '\0';
}

void cluster_run(const char *action, const char *node, char *out, size_t outlen)
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

void cluster_start(int nodes)
{
    const char *local = getenv("LOCAL_DIR");
    snprintf(cluster_dir, sizeof(cluster_dir), "%s/fault-cluster-%ld",
             local && *local ? local : "/tmp", (long)getpid());
    const char *const stop[] = {FAULT_CLUSTER_SH, "stop", cluster_dir, NULL};
    fault_on_cleanup(stop); /* from here on, whatever happens, the cluster is stopped */
    char size[4];
    snprintf(size, sizeof(size), "%d", nodes);
    cluster_run("start", size, NULL, 0);
}

void cluster_url(char node, char *out, size_t outlen)
{
    char path[PATH_MAX + 16], line[1024], key[16];
    snprintf(path, sizeof(path), "%s/cluster.env", cluster_dir);
    snprintf(key, sizeof(key), "AMQP_URL_%c=", node - 'a' + 'A');
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cluster.sh start wrote no %s", path);
    out[0] = '\0';
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, strlen(key)) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(out, outlen, "%s", line + strlen(key));
        }
    fclose(f);
    if (!out[0])
        fail_msg("no %s in %s", key, path);
}

void cluster_expect_quorum_queues(void)
{
    char queues[4096];
    cluster_run("queues", NULL, queues, sizeof(queues));
    for (int c = 0; c < E2E_NCTX; c++) {
        char want[96];
        snprintf(want, sizeof(want), "%s.events\tquorum", e2e_ctx_name(c));
        if (!strstr(queues, want))
            fail_msg("queue %s.events is not a quorum queue on the cluster: %s", e2e_ctx_name(c),
                     queues);
    }
}
