/*
 * testlib.c - fixtures shared by integration and e2e tests (see testlib.h).
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *testlib_require_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run integration tests through ./tests/run.sh\n", name);
        exit(1);
    }
    return v;
}

int testlib_infra(const char *action, const char *component)
{
    const char *sh = testlib_require_env("INFRA_SH");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' %s %s >&2", sh, action, component);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void testlib_unique_name(char *out, size_t outlen, const char *prefix)
{
    static int seq;
    snprintf(out, outlen, "%s_%ld_%d", prefix, (long)getpid(), ++seq);
}

int64_t testlib_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void testlib_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}
