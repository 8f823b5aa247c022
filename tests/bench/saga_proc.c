/*
 * saga_proc.c - see saga_proc.h. /proc/<pid>/stat is read past the last
 * ')' because the command name in parentheses may itself hold spaces or
 * parentheses.
 */
#include "saga_proc.h"

#include "testlib.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t saga_proc_start(const char *bin, char *const envp[], const char *log_path)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    int in = open("/dev/null", O_RDONLY);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (in < 0 || log < 0)
        _exit(127);
    dup2(in, STDIN_FILENO);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    execve(bin, (char *const[]){(char *)bin, NULL}, envp);
    _exit(127);
}

int saga_proc_stop(pid_t pid, int timeout_ms, char *how, size_t howlen)
{
    int status = 0;
    kill(pid, SIGTERM);
    int64_t deadline = testlib_now_ms() + timeout_ms;
    pid_t got;
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 && testlib_now_ms() < deadline)
        testlib_sleep_ms(20);
    if (got == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        testlib_describe_status(status, how, howlen);
        strncat(how, " (killed: no exit within the drain time)", howlen - strlen(how) - 1);
        return status;
    }
    testlib_describe_status(status, how, howlen);
    return status;
}

/* Fields of /proc/<pid>/stat after the command name: ppid and the four CPU times in ticks. */
struct stat_line {
    pid_t ppid;
    unsigned long long utime, stime, cutime, cstime;
};

static int read_stat(pid_t pid, struct stat_line *out)
{
    char path[64], line[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof(line) - 1, f);
    fclose(f);
    line[n] = '\0';
    const char *p = strrchr(line, ')');
    if (!p || strlen(p) < 4)
        return -1;
    /* After ") ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime cutime cstime, i.e. ppid is field 1 (counting state as 0) and the times 11..14. */
    unsigned long long v[15] = {0};
    char *q = (char *)p + 3, *end = NULL;
    for (int i = 1; i < 15; i++, q = end) {
        v[i] = strtoull(q, &end, 10);
        if (end == q)
            return -1;
    }
    out->ppid = (pid_t)v[1];
    out->utime = v[11];
    out->stime = v[12];
    out->cutime = v[13];
    out->cstime = v[14];
    return 0;
}

double saga_proc_tree_cpu_s(pid_t root)
{
    struct stat_line st;
    if (read_stat(root, &st) != 0)
        return -1;
    unsigned long long ticks = st.utime + st.stime + st.cutime + st.cstime;
    /* Every living descendant: walk /proc until a pass adds no new member. */
    pid_t tree[4096];
    int n = 0;
    tree[n++] = root;
    DIR *d = opendir("/proc");
    for (int grew = 1; d && grew;) {
        grew = 0;
        rewinddir(d);
        struct dirent *e;
        while ((e = readdir(d)) && n < (int)(sizeof(tree) / sizeof(tree[0]))) {
            pid_t pid = (pid_t)strtol(e->d_name, NULL, 10);
            if (pid <= 0 || read_stat(pid, &st) != 0)
                continue;
            int parent_in = 0, self_in = 0;
            for (int i = 0; i < n; i++) {
                parent_in |= tree[i] == st.ppid;
                self_in |= tree[i] == pid;
            }
            if (parent_in && !self_in) {
                tree[n++] = pid;
                ticks += st.utime + st.stime + st.cutime + st.cstime;
                grew = 1;
            }
        }
    }
    if (d)
        closedir(d);
    return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

long saga_proc_status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, field, n) == 0)
            kb = strtol(line + n, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

pid_t saga_proc_pidfile(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[32], *end = NULL;
    long pid = -1;
    if (f && fgets(line, sizeof(line), f)) {
        pid = strtol(line, &end, 10);
        if (end == line || pid <= 0)
            pid = -1;
    }
    if (f)
        fclose(f);
    return (pid_t)pid;
}
