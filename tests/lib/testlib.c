/*
 * testlib.c - fixtures shared by integration and e2e tests (see testlib.h).
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

int testlib_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

void testlib_describe_status(int status, char *out, size_t outlen)
{
    if (WIFEXITED(status))
        snprintf(out, outlen, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, outlen, "signal %d", WTERMSIG(status));
    else
        snprintf(out, outlen, "status %d", status);
}
