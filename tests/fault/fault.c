/*
 * fault.c - see fault.h.
 *
 * The instances are children of the test process, started with
 * PR_SET_PDEATHSIG so they die with it, and killed by an atexit hook and by
 * a SIGTERM/SIGINT handler (tests/run.sh stops ctest's process group that
 * way on Ctrl-C), which also runs the registered cleanup command.
 */
#include "fault.h"

#include "common/bus.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FAULT_ENV_MAX     512
#define FAULT_POLL_MS     50
#define FAULT_CARRIED_MAX 64

struct instance {
    pid_t pid;       /* > 0 while it runs */
    bool frozen;     /* SIGSTOPped by fault_freeze: it answers nothing */
    atomic_int port; /* 0 until healthy and after it stops */
    int starts;
};

static char scenario[64];
static char out_root[PATH_MAX / 2];
static char out_dir[PATH_MAX];
static char amqp_url[1024];
static char bins[E2E_NCTX][PATH_MAX];
static char *tmpl[E2E_NCTX][FAULT_ENV_MAX]; /* the instances' environment, "KEY=value" (owned) */
static int ntmpl[E2E_NCTX];
static struct instance inst[E2E_NCTX][FAULT_INSTANCES_MAX];
static atomic_uint rotation[E2E_NCTX];
static struct bus *publisher;
static char *cleanup_argv[16];
static bool hooks_installed;

/* Counters of instances that are gone, by sample name (with labels). */
static struct {
    char name[160];
    long long value;
} carried[FAULT_CARRIED_MAX];
static int ncarried;

const char *fault_scenario(void)
{
    return scenario;
}

const char *fault_out_dir(void)
{
    return out_dir;
}

const char *fault_amqp_url(void)
{
    return amqp_url;
}

int fault_soak(void)
{
    const char *soak = getenv("FAULT_SOAK");
    if (!soak || strcmp(soak, "1") != 0)
        return 1;
    const char *f = getenv("FAULT_SOAK_FACTOR");
    int factor = f ? atoi(f) : 10;
    return factor >= 1 ? factor : 10;
}

/* ------------------------------------------------------------------ cleanup */

/* Runs the cleanup command and waits for it (async-signal-safe: fork, execve, waitpid). */
static void run_cleanup(void)
{
    if (!cleanup_argv[0])
        return;
    pid_t pid = fork();
    if (pid == 0) {
        execv(cleanup_argv[0], cleanup_argv);
        _exit(127);
    }
    if (pid > 0)
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
}

static void kill_instances_now(void)
{
    for (int c = 0; c < E2E_NCTX; c++)
        for (int s = 0; s < FAULT_INSTANCES_MAX; s++)
            if (inst[c][s].pid > 0) {
                kill(inst[c][s].pid, SIGKILL);
                waitpid(inst[c][s].pid, NULL, 0);
                inst[c][s].pid = 0;
            }
}

static void at_exit(void)
{
    kill_instances_now();
    run_cleanup();
}

static void on_stop_signal(int sig)
{
    kill_instances_now();
    run_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_hooks(void);

void fault_on_cleanup(const char *const *argv)
{
    install_hooks(); /* the command must run even if the scenario's setup fails before fault_setup */
    for (int i = 0; cleanup_argv[i]; i++) {
        free(cleanup_argv[i]);
        cleanup_argv[i] = NULL;
    }
    for (int i = 0; argv && argv[i] && i < 15; i++)
        cleanup_argv[i] = strdup(argv[i]);
}

static void install_hooks(void)
{
    if (hooks_installed)
        return;
    hooks_installed = true;
    atexit(at_exit);
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

/* ------------------------------------------------------------------ report */

static void mkdirs(const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

void fault_report(const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    printf("fault[%s]: %s\n", scenario, line);
    char path[PATH_MAX + 32];
    const char *files[] = {out_dir, out_root};
    for (int i = 0; i < 2; i++) {
        if (!files[i][0])
            continue;
        snprintf(path, sizeof(path), "%s/%s", files[i], i == 0 ? "report.txt" : "summary.txt");
        FILE *f = fopen(path, "a");
        if (f) {
            fprintf(f, "fault[%s]: %s\n", scenario, line);
            fclose(f);
        }
    }
}

/* ------------------------------------------------------------------ environment */

static void tmpl_clear(enum e2e_ctx c)
{
    for (int i = 0; i < ntmpl[c]; i++)
        free(tmpl[c][i]);
    ntmpl[c] = 0;
}

static size_t key_len(const char *entry)
{
    const char *eq = strchr(entry, '=');
    return eq ? (size_t)(eq - entry) : strlen(entry);
}

/* Adds entry to c's template, replacing an entry with the same key (the last one wins). */
static void tmpl_set(enum e2e_ctx c, const char *entry)
{
    size_t k = key_len(entry);
    for (int i = 0; i < ntmpl[c]; i++) {
        if (key_len(tmpl[c][i]) == k && strncmp(tmpl[c][i], entry, k) == 0) {
            free(tmpl[c][i]);
            memmove(&tmpl[c][i], &tmpl[c][i + 1], (size_t)(ntmpl[c] - i - 1) * sizeof(char *));
            ntmpl[c]--;
            break;
        }
    }
    if (ntmpl[c] < FAULT_ENV_MAX - 4)
        tmpl[c][ntmpl[c]++] = strdup(entry);
}

/* Finds the harness's process for c: a child of ours running the context's executable. */
static pid_t harness_child(enum e2e_ctx c)
{
    const char *name = e2e_ctx_name(c);
    pid_t found = 0;
    DIR *d = opendir("/proc");
    if (!d)
        fail_msg("cannot read /proc: %s", strerror(errno));
    struct dirent *e;
    while (!found && (e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        char path[64], stat[512] = "";
        snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(stat, 1, sizeof(stat) - 1, f);
        fclose(f);
        stat[n] = '\0';
        const char *close_paren = strrchr(stat, ')');
        char state;
        long ppid;
        if (!close_paren || sscanf(close_paren + 1, " %c %ld", &state, &ppid) != 2 ||
            ppid != (long)getpid() || state == 'Z')
            continue;
        char exe[PATH_MAX];
        snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
        ssize_t len = readlink(path, exe, sizeof(exe) - 1);
        if (len <= 0)
            continue;
        exe[len] = '\0';
        const char *base = strrchr(exe, '/');
        if (strcmp(base ? base + 1 : exe, name) == 0) {
            found = (pid_t)pid;
            snprintf(bins[c], sizeof(bins[c]), "%s", exe);
        }
    }
    closedir(d);
    return found;
}

/* Reads pid's environment into c's template (the last of duplicate keys wins, as intended). */
static void read_environ(enum e2e_ctx c, pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s ('%s'): %s", path, e2e_ctx_name(c), strerror(errno));
    char *buf = NULL;
    size_t cap = 0;
    ssize_t n;
    tmpl_clear(c);
    while ((n = getdelim(&buf, &cap, '\0', f)) > 0) {
        if (strncmp(buf, "HTTP_PORT=", 10) == 0 || strncmp(buf, "INSTANCE_ID=", 12) == 0)
            continue;
        tmpl_set(c, buf);
    }
    free(buf);
    fclose(f);
}

/* ------------------------------------------------------------------ HTTP */

/* One exchange with 127.0.0.1:port; *text_out (may be NULL) gets the body (free it). */
static enum fault_http_result http_port(int port, const char *method, const char *path,
                                        const char *body, const char *correlation_id,
                                        long timeout_ms, long *status, char **text_out,
                                        char *errbuf)
{
    if (port <= 0) {
        *status = 0;
        if (text_out)
            *text_out = NULL;
        if (errbuf)
            snprintf(errbuf, 256, "no instance running");
        return FAULT_HTTP_UNAVAILABLE;
    }
    return (enum fault_http_result)e2e_http_port(port, method, path, body, body ? strlen(body) : 0,
                                                 correlation_id, timeout_ms, status, text_out, NULL,
                                                 errbuf);
}

int fault_port(enum e2e_ctx c)
{
    unsigned start = atomic_fetch_add(&rotation[c], 1);
    for (int i = 0; i < FAULT_INSTANCES_MAX; i++) {
        int port = atomic_load(&inst[c][(start + (unsigned)i) % FAULT_INSTANCES_MAX].port);
        if (port > 0)
            return port;
    }
    return 0;
}

enum fault_http_result fault_http(enum e2e_ctx c, const char *method, const char *path,
                                  const char *body, const char *correlation_id, long *status,
                                  json_t **json_out, char *errbuf)
{
    char *text = NULL;
    enum fault_http_result r = http_port(fault_port(c), method, path, body, correlation_id, 10000,
                                         status, json_out ? &text : NULL, errbuf);
    if (json_out)
        *json_out = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
    free(text);
    return r;
}

/* ------------------------------------------------------------------ metrics */

/* The metric names whose values survive an instance (read before it is killed or stopped). */
static const char *const tracked[] = {
    "events_duplicates_total",
    "events_dead_lettered_total{reason=\"poison\"}",
    "events_dead_lettered_total{reason=\"failed\"}",
    "events_consumed_total",
    "events_published_total",
    "events_retried_total",
    "events_publish_failures_total",
};

/*
 * The sum of the samples of text that match name: exactly (name with
 * labels) or every label set of the metric (name without '{').
 */
static long long metric_in(const char *text, const char *name)
{
    long long sum = 0;
    size_t n = strlen(name);
    bool any_labels = !strchr(name, '{');
    for (const char *line = text; line && *line;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (*line == '#' || strncmp(line, name, n) != 0)
            continue;
        const char *rest = line + n;
        if (*rest == '{' && any_labels) {
            rest = strchr(rest, '}');
            if (!rest)
                continue;
            rest++;
        }
        if (*rest != ' ')
            continue;
        sum += (long long)strtod(rest + 1, NULL);
    }
    return sum;
}

static char *read_metrics(int port)
{
    long status;
    char *text = NULL;
    if (http_port(port, "GET", "/metrics", NULL, NULL, 5000, &status, &text, NULL) !=
            FAULT_HTTP_ANSWERED ||
        status != 200) {
        free(text);
        return NULL;
    }
    return text;
}

static void carry(const char *name, long long value)
{
    for (int i = 0; i < ncarried; i++)
        if (strcmp(carried[i].name, name) == 0) {
            carried[i].value += value;
            return;
        }
    if (ncarried < FAULT_CARRIED_MAX) {
        snprintf(carried[ncarried].name, sizeof(carried[0].name), "%s", name);
        carried[ncarried++].value = value;
    }
}

/* Keeps what an instance has counted, before it goes. */
static void carry_instance(enum e2e_ctx c, int slot)
{
    char *text = read_metrics(atomic_load(&inst[c][slot].port));
    if (!text)
        return;
    for (size_t i = 0; i < sizeof(tracked) / sizeof(tracked[0]); i++)
        carry(tracked[i], metric_in(text, tracked[i]));
    free(text);
}

long long fault_metric_total(const char *name)
{
    long long sum = 0;
    for (int i = 0; i < ncarried; i++)
        if (strcmp(carried[i].name, name) == 0)
            sum += carried[i].value;
    for (int c = 0; c < E2E_NCTX; c++)
        for (int s = 0; s < FAULT_INSTANCES_MAX; s++) {
            if (inst[c][s].pid <= 0)
                continue;
            char *text = read_metrics(atomic_load(&inst[c][s].port));
            if (text)
                sum += metric_in(text, name);
            free(text);
        }
    return sum;
}

long long fault_instance_metric(enum e2e_ctx c, int slot, const char *name)
{
    if (inst[c][slot].pid <= 0)
        return -1;
    char *text = read_metrics(atomic_load(&inst[c][slot].port));
    long long v = text ? metric_in(text, name) : -1;
    free(text);
    return v;
}

/* ------------------------------------------------------------------ processes */

static void instance_name(enum e2e_ctx c, int slot, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s-fault-%d", e2e_ctx_name(c), slot + 1);
}

/* Forks and execs instance slot of c on a new free port (not yet healthy: port stays 0). */
static int spawn(enum e2e_ctx c, int slot)
{
    char name[64], log_path[PATH_MAX + 80];
    instance_name(c, slot, name, sizeof(name));
    int port = testlib_free_port();
    if (port <= 0)
        fail_msg("no free TCP port for '%s'", name);
    static char own[2][128];
    snprintf(own[0], sizeof(own[0]), "HTTP_PORT=%d", port);
    snprintf(own[1], sizeof(own[1]), "INSTANCE_ID=%s", name);
    static const char *envp[FAULT_ENV_MAX + 4];
    int n = 0;
    for (int i = 0; i < ntmpl[c]; i++)
        envp[n++] = tmpl[c][i];
    envp[n++] = own[0];
    envp[n++] = own[1];
    envp[n] = NULL;

    snprintf(log_path, sizeof(log_path), "%s/%s.log", out_dir, name);
    int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
        fail_msg("cannot open '%s': %s", log_path, strerror(errno));
    if (inst[c][slot].starts > 0)
        dprintf(log_fd, "---- fault: start #%d of %s (port %d) ----\n", inst[c][slot].starts + 1,
                name, port);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork for '%s': %s", name, strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        signal(SIGPIPE, SIG_DFL);
        execve(bins[c], (char *const[]){bins[c], NULL}, (char *const *)envp);
        _exit(127);
    }
    close(log_fd);
    inst[c][slot].pid = pid;
    inst[c][slot].starts++;
    return port;
}

/* Waits until the instance answers /health 200, then publishes its port. */
static void wait_healthy(enum e2e_ctx c, int slot, int port)
{
    char name[64];
    instance_name(c, slot, name, sizeof(name));
    int64_t deadline = testlib_now_ms() + FAULT_HEALTH_MS;
    long status = 0;
    for (;;) {
        int st;
        if (waitpid(inst[c][slot].pid, &st, WNOHANG) == inst[c][slot].pid) {
            inst[c][slot].pid = 0;
            char how[64];
            testlib_describe_status(st, how, sizeof(how));
            fail_msg("'%s' died while starting (%s): read %s/%s.log", name, how, out_dir, name);
        }
        if (http_port(port, "GET", "/health", NULL, NULL, 2000, &status, NULL, NULL) ==
                FAULT_HTTP_ANSWERED &&
            status == 200)
            break;
        if (testlib_now_ms() > deadline)
            fail_msg("'%s' did not answer GET /health with 200 within %d ms (last status %ld): "
                     "read %s/%s.log",
                     name, FAULT_HEALTH_MS, status, out_dir, name);
        testlib_sleep_ms(FAULT_POLL_MS);
    }
    atomic_store(&inst[c][slot].port, port);
}

void fault_wait_health(long want, const char *dependency, const char *state, int timeout_ms)
{
    int64_t deadline = testlib_now_ms() + timeout_ms;
    for (;;) {
        char missing[1024] = "";
        for (int c = 0; c < E2E_NCTX; c++)
            for (int s = 0; s < FAULT_INSTANCES_MAX; s++) {
                int port = atomic_load(&inst[c][s].port);
                if (inst[c][s].pid <= 0 || port <= 0)
                    continue;
                long status = 0;
                char *text = NULL;
                http_port(port, "GET", "/health", NULL, NULL, 2000, &status, &text, NULL);
                json_t *json = text ? json_loads(text, 0, NULL) : NULL;
                const char *got =
                    dependency ? e2e_str(json_object_get(json, "checks"), dependency) : "";
                bool ok = status == want && (!dependency || strcmp(got, state) == 0);
                if (!ok) {
                    char name[64];
                    instance_name(c, s, name, sizeof(name));
                    snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
                             " %s (%ld %s)", name, status, text ? text : "no answer");
                }
                json_decref(json);
                free(text);
            }
        if (!missing[0])
            return;
        if (testlib_now_ms() > deadline)
            fail_msg("waited %d ms for GET /health to answer %ld%s%s%s%s everywhere; not yet:%s",
                     timeout_ms, want, dependency ? " with " : "", dependency ? dependency : "",
                     dependency ? " " : "", dependency ? state : "", missing);
        testlib_sleep_ms(FAULT_POLL_MS * 2);
    }
}

bool fault_running(enum e2e_ctx c, int slot)
{
    return inst[c][slot].pid > 0;
}

void fault_start(enum e2e_ctx c, int slot)
{
    if (inst[c][slot].pid > 0)
        fail_msg("fault_start: '%s' instance %d is already running", e2e_ctx_name(c), slot + 1);
    int port = spawn(c, slot);
    wait_healthy(c, slot, port);
}

void fault_kill(enum e2e_ctx c, int slot)
{
    struct instance *in = &inst[c][slot];
    if (in->pid <= 0)
        fail_msg("fault_kill: '%s' instance %d is not running", e2e_ctx_name(c), slot + 1);
    /* A frozen one would not answer: its counts since they were last read are lost. */
    if (!in->frozen)
        carry_instance(c, slot);
    atomic_store(&in->port, 0);
    kill(in->pid, SIGKILL);
    waitpid(in->pid, NULL, 0);
    in->pid = 0;
    in->frozen = false;
}

void fault_freeze(enum e2e_ctx c, int slot, bool frozen)
{
    struct instance *in = &inst[c][slot];
    if (in->pid <= 0)
        fail_msg("fault_freeze: '%s' instance %d is not running", e2e_ctx_name(c), slot + 1);
    kill(in->pid, frozen ? SIGSTOP : SIGCONT);
    in->frozen = frozen;
}

/*
 * SIGTERMs the instances marked in which (all at once), waits for each and
 * appends every one that did not exit 0 to problem.
 */
static void stop_instances(bool which[E2E_NCTX][FAULT_INSTANCES_MAX], char *problem, size_t plen)
{
    for (int c = 0; c < E2E_NCTX; c++)
        for (int s = 0; s < FAULT_INSTANCES_MAX; s++)
            if (which[c][s] && inst[c][s].pid > 0) {
                carry_instance(c, s);
                atomic_store(&inst[c][s].port, 0);
                kill(inst[c][s].pid, SIGTERM);
            }
    int64_t deadline = testlib_now_ms() + FAULT_STOP_MS;
    for (int c = 0; c < E2E_NCTX; c++)
        for (int s = 0; s < FAULT_INSTANCES_MAX; s++) {
            if (!which[c][s] || inst[c][s].pid <= 0)
                continue;
            char name[64], how[64];
            instance_name(c, s, name, sizeof(name));
            int status = 0;
            pid_t got;
            while ((got = waitpid(inst[c][s].pid, &status, WNOHANG)) == 0 &&
                   testlib_now_ms() < deadline)
                testlib_sleep_ms(20);
            if (got != inst[c][s].pid) {
                kill(inst[c][s].pid, SIGKILL);
                waitpid(inst[c][s].pid, NULL, 0);
                snprintf(problem + strlen(problem), plen - strlen(problem),
                         "'%s' did not exit within %d ms of SIGTERM (killed); ", name,
                         FAULT_STOP_MS);
            } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                testlib_describe_status(status, how, sizeof(how));
                snprintf(problem + strlen(problem), plen - strlen(problem),
                         "'%s' ended with %s on SIGTERM, expected exit 0 (read %s/%s.log); ", name,
                         how, out_dir, name);
            }
            inst[c][s].pid = 0;
        }
}

void fault_stop(enum e2e_ctx c, int slot)
{
    if (inst[c][slot].pid <= 0)
        fail_msg("fault_stop: '%s' instance %d is not running", e2e_ctx_name(c), slot + 1);
    bool which[E2E_NCTX][FAULT_INSTANCES_MAX] = {{false}};
    which[c][slot] = true;
    char problem[512] = "";
    stop_instances(which, problem, sizeof(problem));
    if (problem[0])
        fail_msg("stopping: %s", problem);
}

/* ------------------------------------------------------------------ lifecycle */

/*
 * Deletes the twelve queues the harness's instances declared (still empty:
 * nothing was written yet), so ours declare them with their own arguments
 * (a queue re-declared with other arguments, e.g. another type, is refused
 * by the broker).
 */
static void delete_queues(void)
{
    struct err err;
    err_clear(&err);
    if (e2e_delete_context_queues(amqp_url, &err) != 0)
        fail_msg("deleting the contexts' queues before taking the services over: %s", err.msg);
}

void fault_setup(const char *name, const char *const *extra_env)
{
    install_hooks();
    kill_instances_now(); /* a previous scenario whose teardown did not run */
    ncarried = 0;
    for (int c = 0; c < E2E_NCTX; c++)
        for (int s = 0; s < FAULT_INSTANCES_MAX; s++)
            inst[c][s].starts = 0;
    snprintf(scenario, sizeof(scenario), "%s", name);
    const char *root = getenv("FAULT_OUT_DIR");
    snprintf(out_root, sizeof(out_root), "%s", root && *root ? root : "fault-out");
    snprintf(out_dir, sizeof(out_dir), "%s/%s", out_root, name);
    mkdirs(out_dir);
    /* Fresh logs and report for this scenario. */
    char path[PATH_MAX + 80];
    snprintf(path, sizeof(path), "%s/report.txt", out_dir);
    unlink(path);
    for (int c = 0; c < E2E_NCTX; c++)
        for (int s = 0; s < FAULT_INSTANCES_MAX; s++) {
            char iname[64];
            instance_name(c, s, iname, sizeof(iname));
            snprintf(path, sizeof(path), "%s/%s.log", out_dir, iname);
            unlink(path);
        }
    snprintf(amqp_url, sizeof(amqp_url), "%s", testlib_require_env("AMQP_URL"));
    /* The harness's own instances live a second; their start-up warnings are noise here. */
    if (!getenv("E2E_LOG_LEVEL"))
        setenv("E2E_LOG_LEVEL", "error", 1);

    e2e_setup(extra_env);

    /* Take the six over: read their environment, stop them all at once, start ours. */
    pid_t hpid[E2E_NCTX];
    for (int c = 0; c < E2E_NCTX; c++) {
        hpid[c] = harness_child(c);
        if (hpid[c] <= 0)
            fail_msg("cannot find the e2e harness's '%s' process among our children",
                     e2e_ctx_name(c));
        read_environ(c, hpid[c]);
        static const char *const retry[] = {FAULT_RETRY_ENV};
        for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
            tmpl_set(c, retry[i]);
        /* After the retry policy: a scenario's own wins. */
        for (const char *const *e = extra_env; e && *e; e++)
            tmpl_set(c, *e);
        char level[64];
        const char *l = getenv("FAULT_LOG_LEVEL");
        snprintf(level, sizeof(level), "LOG_LEVEL=%s", l && *l ? l : "warn");
        tmpl_set(c, level);
    }
    for (int c = 0; c < E2E_NCTX; c++)
        kill(hpid[c], SIGTERM); /* they drain in parallel; e2e_stop reaps and checks exit 0 */
    for (int c = 0; c < E2E_NCTX; c++)
        e2e_stop(c);
    delete_queues();
    int ports[E2E_NCTX];
    for (int c = 0; c < E2E_NCTX; c++)
        ports[c] = spawn(c, 0);
    for (int c = 0; c < E2E_NCTX; c++)
        wait_healthy(c, 0, ports[c]);
}

void fault_teardown(void)
{
    char problem[4096] = "";
    bool all[E2E_NCTX][FAULT_INSTANCES_MAX];
    for (int c = 0; c < E2E_NCTX; c++)
        for (int s = 0; s < FAULT_INSTANCES_MAX; s++)
            all[c][s] = true;
    stop_instances(all, problem, sizeof(problem));
    bus_free(publisher);
    publisher = NULL;
    if (cleanup_argv[0]) {
        run_cleanup();
        fault_on_cleanup(NULL);
    }
    e2e_teardown();
    if (problem[0])
        fail_msg("teardown: %s", problem);
}

/* ------------------------------------------------------------------ broker */

void fault_publish(const char *rk, const char *body, size_t len, const char *message_id,
                   const char *type, const char *correlation_id, const char *app_id)
{
    struct err err;
    err_clear(&err);
    if (!publisher) {
        publisher = bus_new(&(struct bus_config){
            .url = amqp_url, .confirms = 1, .connection_name = "fault injector"});
        if (!publisher)
            fail_msg("bus_new failed");
    }
    struct bus_message m = {
        .routing_key = rk,
        .body = body,
        .len = len,
        .message_id = message_id,
        .type = type,
        .correlation_id = correlation_id,
        .app_id = app_id,
        .timestamp = (int64_t)time(NULL),
        .mandatory = 1,
    };
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        rc = bus_connect(publisher, &err);
        if (rc == 0)
            rc = bus_publish_sync(publisher, &m, 5000, &err);
        if (rc != ERR_TRANSIENT)
            break;
        bus_disconnect(publisher);
    }
    if (rc == ERR_UNPROCESSABLE)
        fail_msg("publishing '%s' (message %s): no queue is bound to it: %s", rk,
                 message_id ? message_id : "-", err.msg);
    if (rc)
        fail_msg("publishing '%s' (message %s): %s", rk, message_id ? message_id : "-", err.msg);
}

/* ------------------------------------------------------------------ infrastructure */

void fault_infra(const char *action, const char *component)
{
    testlib_require_env("INFRA_SH");
    int rc = testlib_infra(action, component);
    if (rc != 0)
        fail_msg("$INFRA_SH %s %s exited %d", action, component, rc);
}

pid_t fault_broker_pid(void)
{
    const char *env = getenv("FAULT_BROKER_PID");
    if (env && *env)
        return (pid_t)atol(env);
    const char *local = getenv("LOCAL_DIR");
    if (!local || !*local)
        return 0;
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/rabbitmq/rabbitmq.pid", local);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    return (pid_t)pid;
}

void fault_freeze_broker(bool frozen)
{
    pid_t pid = fault_broker_pid();
    if (pid <= 0)
        fail_msg("no broker pid to %s (set FAULT_BROKER_PID)", frozen ? "freeze" : "thaw");
    if (frozen) {
        char thaw[64];
        snprintf(thaw, sizeof(thaw), "kill -CONT %ld", (long)pid);
        const char *const cleanup[] = {"/bin/sh", "-c", thaw, NULL};
        fault_on_cleanup(cleanup);
    }
    if (kill(pid, frozen ? SIGSTOP : SIGCONT) != 0)
        fail_msg("cannot %s the broker (pid %ld): %s", frozen ? "SIGSTOP" : "SIGCONT", (long)pid,
                 strerror(errno));
}
