/*
 * metrics.c - the process-wide metrics registry and its Prometheus text
 * rendering.
 *
 * The registry is a fixed array of series. Invariant: an entry below
 * registry_len is fully written and its name, labels, help, type and bounds
 * never change again (until metrics_reset_for_tests), so readers scan the
 * published prefix without a lock; only creating a series takes the mutex.
 * Values are C11 atomics updated with relaxed ordering: each value is exact,
 * but one rendering is not a snapshot across values.
 */
#include "common/metrics.h"

#include "common/err.h"
#include "common/log.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "metric updates must be lock-free");

const double METRICS_LATENCY_BUCKETS[METRICS_LATENCY_NBUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

enum metrics_type {
    METRICS_COUNTER,
    METRICS_GAUGE,
    METRICS_HISTOGRAM,
};

struct metrics_counter {
    _Atomic uint64_t value;
};

struct metrics_gauge {
    _Atomic uint64_t bits; /* the bits of a double, so that set is one atomic store */
};

struct metrics_histogram {
    size_t nbounds;
    double bounds[METRICS_BUCKETS_MAX];
    /* Per bucket, not cumulative (rendering adds them up); counts[nbounds] is +Inf. */
    _Atomic uint64_t counts[METRICS_BUCKETS_MAX + 1];
    _Atomic uint64_t sum_bits; /* the bits of a double */
};

struct metrics_series {
    enum metrics_type type;
    char name[METRICS_NAME_MAX];
    char labels[METRICS_LABELS_MAX]; /* "" when none */
    char help[METRICS_HELP_MAX];
    union {
        struct metrics_counter counter;
        struct metrics_gauge gauge;
        struct metrics_histogram histogram;
    } u;
};

static struct metrics_series registry[METRICS_MAX_SERIES];
static atomic_size_t registry_len;
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;

/* Handed out when a series cannot be registered: they count, but are never rendered. */
static struct metrics_counter dummy_counter;
static struct metrics_gauge dummy_gauge;
static struct metrics_histogram dummy_histogram;

/* Each kind of registration failure is logged once per process. */
enum metrics_problem {
    METRICS_PROBLEM_NONE,
    METRICS_PROBLEM_FULL,
    METRICS_PROBLEM_INVALID,
    METRICS_PROBLEM_TYPE,
    METRICS_PROBLEM_COUNT,
};
static const char *const problem_text[] = {
    "",
    "the registry is full",
    "invalid name, label set or bounds",
    "the name is registered with another type",
};
static atomic_bool warned[METRICS_PROBLEM_COUNT];

static const char *const type_names[] = {"counter", "gauge", "histogram"};

static bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool name_valid(const char *name)
{
    if (!name || !(is_alpha(name[0]) || name[0] == ':'))
        return false;
    size_t len = 1;
    for (; name[len]; len++)
        if (!(is_alpha(name[len]) || is_digit(name[len]) || name[len] == ':'))
            return false;
    return len < METRICS_NAME_MAX;
}

static bool label_name_valid(const char *p, size_t len)
{
    if (len == 0 || !is_alpha(p[0]) || (len >= 2 && p[0] == '_' && p[1] == '_'))
        return false;
    for (size_t i = 1; i < len; i++)
        if (!(is_alpha(p[i]) || is_digit(p[i])))
            return false;
    return true;
}

/* Checks  name="value"(,name="value")*  with escaped values; a histogram may not use "le". */
static bool labels_valid(const char *labels, enum metrics_type type)
{
    if (strlen(labels) >= METRICS_LABELS_MAX)
        return false;
    const char *p = labels;
    while (*p) {
        const char *start = p;
        while (is_alpha(*p) || is_digit(*p))
            p++;
        size_t len = (size_t)(p - start);
        if (!label_name_valid(start, len))
            return false;
        if (type == METRICS_HISTOGRAM && len == 2 && memcmp(start, "le", 2) == 0)
            return false;
        if (p[0] != '=' || p[1] != '"')
            return false;
        for (p += 2; *p != '"'; p++) {
            if (*p == '\0' || *p == '\n')
                return false;
            if (*p == '\\') {
                p++;
                if (*p != '\\' && *p != '"' && *p != 'n')
                    return false;
            }
        }
        p++;
        if (*p == ',') {
            p++;
            if (*p == '\0')
                return false;
        } else if (*p != '\0') {
            return false;
        }
    }
    return true;
}

static bool bounds_valid(const double *bounds, size_t nbounds)
{
    if (!bounds || nbounds == 0 || nbounds > METRICS_BUCKETS_MAX)
        return false;
    for (size_t i = 0; i < nbounds; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            return false;
    }
    return true;
}

int metrics_label(char *out, size_t outlen, const char *name, const char *value)
{
    if (!out || outlen == 0)
        return ERR_INVALID;
    out[0] = '\0';
    if (!name || !label_name_valid(name, strlen(name)))
        return ERR_INVALID;
    size_t need = strlen(name) + 3; /* name, =, two quotes */
    for (const char *v = value ? value : ""; *v; v++)
        need += (*v == '\\' || *v == '"' || *v == '\n') ? 2 : 1;
    if (need >= outlen)
        return ERR_INVALID;

    char *p = out + sprintf(out, "%s=\"", name);
    for (const char *v = value ? value : ""; *v; v++) {
        if (*v == '\\' || *v == '"') {
            *p++ = '\\';
            *p++ = *v;
        } else if (*v == '\n') {
            *p++ = '\\';
            *p++ = 'n';
        } else {
            *p++ = *v;
        }
    }
    *p++ = '"';
    *p = '\0';
    return 0;
}

static void warn_once(enum metrics_problem problem, const char *name, const char *labels)
{
    if (atomic_exchange(&warned[problem], true))
        return;
    log_warn("metric '%s%s%s%s' not registered: %s (later cases are not logged)",
             name ? name : "(null)", labels[0] ? "{" : "", labels, labels[0] ? "}" : "",
             problem_text[problem]);
}

/* The series named name with exactly labels among the first n, or NULL. */
static struct metrics_series *series_find(size_t n, const char *name, const char *labels)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(registry[i].name, name) == 0 && strcmp(registry[i].labels, labels) == 0)
            return &registry[i];
    }
    return NULL;
}

/* Copies help, cutting it at a UTF-8 character boundary when it is too long. */
static void copy_help(char *dst, const char *help)
{
    size_t len = strnlen(help, METRICS_HELP_MAX);
    if (len == METRICS_HELP_MAX) {
        len = METRICS_HELP_MAX - 1;
        while (len > 0 && ((unsigned char)help[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(dst, help, len);
    dst[len] = '\0';
}

/* Gets or creates a series; NULL when it cannot be registered (the caller hands out a dummy). */
static struct metrics_series *series_get(enum metrics_type type, const char *name, const char *help,
                                         const char *labels, const double *bounds, size_t nbounds)
{
    if (!labels)
        labels = "";
    if (!name_valid(name)) {
        warn_once(METRICS_PROBLEM_INVALID, name, labels);
        return NULL;
    }
    /* The hot path: an existing series, found without the lock. */
    size_t n = atomic_load_explicit(&registry_len, memory_order_acquire);
    struct metrics_series *s = series_find(n, name, labels);
    if (s) {
        if (s->type == type)
            return s;
        warn_once(METRICS_PROBLEM_TYPE, name, labels);
        return NULL;
    }
    if (!labels_valid(labels, type) ||
        (type == METRICS_HISTOGRAM && !bounds_valid(bounds, nbounds))) {
        warn_once(METRICS_PROBLEM_INVALID, name, labels);
        return NULL;
    }

    enum metrics_problem problem = METRICS_PROBLEM_NONE;
    pthread_mutex_lock(&registry_lock);
    n = atomic_load_explicit(&registry_len, memory_order_relaxed);
    s = series_find(n, name, labels); /* another thread may have created it meanwhile */
    for (size_t i = 0; i < n; i++) {
        if (strcmp(registry[i].name, name) == 0 && registry[i].type != type)
            problem = METRICS_PROBLEM_TYPE;
    }
    if (!s && problem == METRICS_PROBLEM_NONE && n == METRICS_MAX_SERIES)
        problem = METRICS_PROBLEM_FULL;
    if (!s && problem == METRICS_PROBLEM_NONE) {
        s = &registry[n];
        memset(s, 0, sizeof(*s));
        s->type = type;
        strcpy(s->name, name);     /* length checked by name_valid */
        strcpy(s->labels, labels); /* length checked by labels_valid */
        copy_help(s->help, help ? help : "");
        if (type == METRICS_HISTOGRAM) {
            s->u.histogram.nbounds = nbounds;
            memcpy(s->u.histogram.bounds, bounds, nbounds * sizeof(bounds[0]));
        }
        atomic_store_explicit(&registry_len, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&registry_lock);

    if (problem != METRICS_PROBLEM_NONE) {
        warn_once(problem, name, labels);
        return NULL;
    }
    return s;
}

struct metrics_counter *metrics_counter(const char *name, const char *help, const char *labels)
{
    struct metrics_series *s = series_get(METRICS_COUNTER, name, help, labels, NULL, 0);
    return s ? &s->u.counter : &dummy_counter;
}

void metrics_counter_add(struct metrics_counter *c, uint64_t n)
{
    if (c)
        atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
}

void metrics_counter_inc(struct metrics_counter *c)
{
    metrics_counter_add(c, 1);
}

struct metrics_gauge *metrics_gauge(const char *name, const char *help, const char *labels)
{
    struct metrics_series *s = series_get(METRICS_GAUGE, name, help, labels, NULL, 0);
    return s ? &s->u.gauge : &dummy_gauge;
}

static uint64_t double_bits(double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    return bits;
}

static double bits_double(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

void metrics_gauge_set(struct metrics_gauge *g, double value)
{
    if (g)
        atomic_store_explicit(&g->bits, double_bits(value), memory_order_relaxed);
}

struct metrics_histogram *metrics_histogram(const char *name, const char *help, const char *labels,
                                            const double *bounds, size_t nbounds)
{
    struct metrics_series *s = series_get(METRICS_HISTOGRAM, name, help, labels, bounds, nbounds);
    return s ? &s->u.histogram : &dummy_histogram;
}

void metrics_histogram_observe(struct metrics_histogram *h, double value)
{
    if (!h || isnan(value))
        return;
    size_t i = 0;
    while (i < h->nbounds && value > h->bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->counts[i], 1, memory_order_relaxed);
    uint64_t old = atomic_load_explicit(&h->sum_bits, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(&h->sum_bits, &old,
                                                  double_bits(bits_double(old) + value),
                                                  memory_order_relaxed, memory_order_relaxed)) {
        /* old now holds the current sum: retry with it */
    }
}

/* --- rendering ----------------------------------------------------------- */

/* A growing output buffer; after a failed allocation every append is a no-op. */
struct metrics_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
};

static void buf_printf(struct metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void buf_printf(struct metrics_buf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap * 2 > b->len + (size_t)n + 1 ? b->cap * 2 : b->len + (size_t)n + 1;
        char *data = realloc(b->data, cap);
        if (!data) {
            b->failed = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
}

/*
 * The shortest text that reads back as the same double, written the way the
 * Prometheus Go client writes it (Go's 'g' format, shortest precision): plain
 * digits for exponents -4..5 ("0.0005", "30", "250000"), else an exponent
 * ("1e+06", "5e-05"); and "+Inf", "-Inf", "NaN" as the format spells them.
 */
static void format_double(char out[32], double v)
{
    if (isnan(v)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    int digits = 1;
    for (; digits < 17; digits++) {
        snprintf(out, 32, "%.*e", digits - 1, v);
        if (strtod(out, NULL) == v)
            break;
    }
    snprintf(out, 32, "%.*e", digits - 1, v);
    int exponent = (int)strtol(strchr(out, 'e') + 1, NULL, 10);
    if (exponent >= -4 && exponent < 6) {
        int decimals = digits - 1 - exponent;
        snprintf(out, 32, "%.*f", decimals > 0 ? decimals : 0, v);
    }
}

static void render_help(struct metrics_buf *b, const struct metrics_series *s)
{
    if (!s->help[0])
        return;
    /* The format escapes backslash and newline in help text. */
    buf_printf(b, "# HELP %s ", s->name);
    for (const char *h = s->help; *h;) {
        size_t plain = strcspn(h, "\\\n");
        buf_printf(b, "%.*s", (int)plain, h);
        h += plain;
        if (*h)
            buf_printf(b, "%s", *h++ == '\\' ? "\\\\" : "\\n");
    }
    buf_printf(b, "\n");
}

static void render_series(struct metrics_buf *b, const struct metrics_series *s)
{
    const char *open = s->labels[0] ? "{" : "";
    const char *close = s->labels[0] ? "}" : "";
    char num[32];

    switch (s->type) {
    case METRICS_COUNTER:
        buf_printf(
            b, "%s%s%s%s %llu\n", s->name, open, s->labels, close,
            (unsigned long long)atomic_load_explicit(&s->u.counter.value, memory_order_relaxed));
        break;
    case METRICS_GAUGE:
        format_double(num,
                      bits_double(atomic_load_explicit(&s->u.gauge.bits, memory_order_relaxed)));
        buf_printf(b, "%s%s%s%s %s\n", s->name, open, s->labels, close, num);
        break;
    case METRICS_HISTOGRAM: {
        const struct metrics_histogram *h = &s->u.histogram;
        const char *sep = s->labels[0] ? "," : "";
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= h->nbounds; i++) {
            cumulative += atomic_load_explicit(&h->counts[i], memory_order_relaxed);
            if (i < h->nbounds)
                format_double(num, h->bounds[i]);
            else
                strcpy(num, "+Inf");
            buf_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", s->name, s->labels, sep, num,
                       (unsigned long long)cumulative);
        }
        format_double(num, bits_double(atomic_load_explicit(&h->sum_bits, memory_order_relaxed)));
        buf_printf(b, "%s_sum%s%s%s %s\n", s->name, open, s->labels, close, num);
        /* The count is the +Inf bucket, so the two always agree in one rendering. */
        buf_printf(b, "%s_count%s%s%s %llu\n", s->name, open, s->labels, close,
                   (unsigned long long)cumulative);
        break;
    }
    }
}

char *metrics_render(void)
{
    struct metrics_buf b = {.data = malloc(4096), .cap = 4096};
    if (!b.data)
        return NULL;
    b.data[0] = '\0';

    size_t n = atomic_load_explicit(&registry_len, memory_order_acquire);
    for (size_t i = 0; i < n; i++) {
        const struct metrics_series *first = &registry[i];
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(registry[j].name, first->name) == 0;
        if (seen)
            continue; /* its family was rendered with its first series */
        render_help(&b, first);
        buf_printf(&b, "# TYPE %s %s\n", first->name, type_names[first->type]);
        for (size_t k = i; k < n; k++) {
            if (strcmp(registry[k].name, first->name) == 0)
                render_series(&b, &registry[k]);
        }
    }
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return b.data;
}

void metrics_reset_for_tests(void)
{
    pthread_mutex_lock(&registry_lock);
    memset(registry, 0, sizeof(registry));
    atomic_store(&registry_len, 0);
    for (int i = 0; i < METRICS_PROBLEM_COUNT; i++)
        atomic_store(&warned[i], false);
    pthread_mutex_unlock(&registry_lock);
}
