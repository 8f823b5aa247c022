/*
 * saga_proc.h - the processes the saga benchmark measures: starting a
 * service as a child with its own environment and log file, stopping it
 * with SIGTERM, and reading what /proc says of a process: CPU time (of a
 * whole process tree, children that have exited included) and memory.
 */
#ifndef SAGA_PROC_H
#define SAGA_PROC_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Starts bin as a child process with exactly the environment envp (NULL-
 * terminated "NAME=value" strings), stdin from /dev/null and stdout and
 * stderr appended to log_path. Returns its pid, or -1.
 */
pid_t saga_proc_start(const char *bin, char *const envp[], const char *log_path);

/*
 * Sends SIGTERM to pid (a child) and reaps it, SIGKILL after timeout_ms.
 * Returns its wait status, and says how it ended in how ("exit 0").
 */
int saga_proc_stop(pid_t pid, int timeout_ms, char *how, size_t howlen);

/*
 * CPU seconds (user + system) used so far by pid and every process below
 * it, living or exited and reaped (their time is in their parent's
 * cutime/cstime), or -1 when pid does not exist. Differences between two
 * calls give a window's CPU time; a child that exited but is not reaped yet
 * is not counted until it is.
 */
double saga_proc_tree_cpu_s(pid_t pid);

/* A field of /proc/<pid>/status in kB ("VmRSS:", "RssAnon:"), or -1. */
long saga_proc_status_kb(pid_t pid, const char *field);

/* The first line of path read as a pid, or -1 (a pid file: postmaster.pid, rabbitmq.pid). */
pid_t saga_proc_pidfile(const char *path);

#endif
