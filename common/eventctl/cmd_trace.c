/*
 * cmd_trace.c - "eventctl trace <correlation-id>": the causal chain of one
 * flow, read from every context's outbox (the events) and inbox (their
 * deliveries).
 *
 * The tree follows causation: an event hangs under the delivery that caused
 * it (the event whose id is its causation id, handled by the context that
 * published it), and the events caused by the request itself are the roots.
 * A hop's latency runs from the event's outbox created_at to the consumer's
 * processed_at. An event known only from an inbox (its outbox row already
 * purged) takes its publisher and time from the stored CloudEvent.
 *
 * Read-only. --mermaid prints the same deliveries as a sequenceDiagram, in the
 * order they finished.
 */
#include "ctl.h"

#include "common/db.h"
#include "common/envelope.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TRACE_ROWS_MAX    10000 /* events, and deliveries, one trace reads at most */
#define TRACE_DEPTH_MAX   64    /* deeper causation is printed flat (and a cycle stops) */
#define TRACE_ERROR_WIDTH 60

static const char usage_text[] =
    "usage: eventctl trace <correlation-id> [--mermaid] [--database-url URL]\n"
    "\n"
    "Shows the causal chain of one correlation id as a timeline: each event (time,\n"
    "publisher, type, id, causation id) and under it each consumer's inbox row\n"
    "(status, attempts, processed at, latency from the event's outbox row), with\n"
    "the events a consumer published indented under its delivery.\n"
    "\n"
    "  --mermaid          print a Mermaid sequenceDiagram instead\n"
    "  --database-url URL PostgreSQL URL (default: $DATABASE_URL)\n"
    "\n"
    "Exit status 1 when no event has that correlation id.\n";

struct trace_event {
    char id[37];
    char type[ENVELOPE_TYPE_MAX + 1];
    char publisher[ENVELOPE_CONTEXT_MAX + 1];
    char causation[ENVELOPE_REF_MAX];
    char outbox_status[16]; /* "" when the outbox row is gone */
    long long created_us;   /* outbox created_at, else the CloudEvent's time; -1 unknown */
    bool shown;
};

struct trace_delivery {
    size_t event; /* index into trace.events, set after both reads */
    char id[37];
    char context[ENVELOPE_CONTEXT_MAX + 1]; /* the schema it was read from */
    char consumer[64];
    char status[16];
    long long attempts;
    long long processed_us; /* -1 when not processed */
    long long seen_us;      /* inbox created_at */
    char *last_error;       /* owned, may be NULL */
};

struct trace {
    struct trace_event *events;
    size_t nevents, events_cap;
    struct trace_delivery *deliveries;
    size_t ndeliveries, deliveries_cap;
};

/* ---- reading ----------------------------------------------------------------- */

static const char outbox_sql[] = "SELECT '{c}', id::text, type, causation_id, status,"
                                 "       (extract(epoch FROM created_at) * 1000000)::bigint"
                                 "  FROM {c}.outbox WHERE correlation_id = $1";

static const char inbox_sql[] =
    "SELECT '{c}', id::text, consumer, type, causation_id, status, attempts,"
    "       (extract(epoch FROM processed_at) * 1000000)::bigint,"
    "       (extract(epoch FROM created_at) * 1000000)::bigint, last_error,"
    "       payload->>'source', payload->>'time'"
    "  FROM {c}.inbox WHERE correlation_id = $1";

static int grow(void **items, size_t *cap, size_t n, size_t size, struct err *err)
{
    if (n < *cap)
        return 0;
    if (n >= TRACE_ROWS_MAX)
        return err_set(err, ERR_INTERNAL, "more than %d rows: too many to show", TRACE_ROWS_MAX);
    size_t cap2 = *cap ? *cap * 2 : 16;
    void *p = realloc(*items, cap2 * size);
    if (!p)
        return err_set(err, ERR_NOMEM, "out of memory reading the trace");
    *items = p;
    *cap = cap2;
    return 0;
}

static long long row_us(const struct db_row *row, int col)
{
    int64_t v;
    return db_row_is_null(row, col) || db_row_int64(row, col, &v) ? -1 : (long long)v;
}

static const struct trace_event *event_find(const struct trace *t, const char *id)
{
    for (size_t i = 0; i < t->nevents; i++)
        if (strcmp(t->events[i].id, id) == 0)
            return &t->events[i];
    return NULL;
}

static int outbox_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct trace *t = vctx;
    if (grow((void **)&t->events, &t->events_cap, t->nevents, sizeof(*t->events), err))
        return err->code;
    struct trace_event *e = &t->events[t->nevents++];
    memset(e, 0, sizeof(*e));
    snprintf(e->publisher, sizeof(e->publisher), "%s", ctl_text(row, 0));
    snprintf(e->id, sizeof(e->id), "%s", ctl_text(row, 1));
    snprintf(e->type, sizeof(e->type), "%s", ctl_text(row, 2));
    snprintf(e->causation, sizeof(e->causation), "%s", ctl_text(row, 3));
    snprintf(e->outbox_status, sizeof(e->outbox_status), "%s", ctl_text(row, 4));
    e->created_us = row_us(row, 5);
    return 0;
}

/* An event seen only in an inbox: what the stored CloudEvent says of it. */
static int event_from_inbox(struct trace *t, const struct db_row *row, struct err *err)
{
    if (grow((void **)&t->events, &t->events_cap, t->nevents, sizeof(*t->events), err))
        return err->code;
    struct trace_event *e = &t->events[t->nevents++];
    memset(e, 0, sizeof(*e));
    const char *source = ctl_text(row, 10);
    snprintf(e->publisher, sizeof(e->publisher), "%s", source[0] == '/' ? source + 1 : "?");
    snprintf(e->id, sizeof(e->id), "%s", ctl_text(row, 1));
    snprintf(e->type, sizeof(e->type), "%s", ctl_text(row, 3));
    snprintf(e->causation, sizeof(e->causation), "%s", ctl_text(row, 4));
    e->created_us = envelope_time_parse_us(ctl_text(row, 11));
    return 0;
}

static int inbox_row(void *vctx, const struct db_row *row, struct err *err)
{
    struct trace *t = vctx;
    if (grow((void **)&t->deliveries, &t->deliveries_cap, t->ndeliveries, sizeof(*t->deliveries),
             err))
        return err->code;
    struct trace_delivery *d = &t->deliveries[t->ndeliveries];
    memset(d, 0, sizeof(*d));
    snprintf(d->context, sizeof(d->context), "%s", ctl_text(row, 0));
    snprintf(d->id, sizeof(d->id), "%s", ctl_text(row, 1));
    snprintf(d->consumer, sizeof(d->consumer), "%s", ctl_text(row, 2));
    snprintf(d->status, sizeof(d->status), "%s", ctl_text(row, 5));
    int64_t attempts = 0;
    (void)db_row_int64(row, 6, &attempts);
    d->attempts = attempts;
    d->processed_us = row_us(row, 7);
    d->seen_us = row_us(row, 8);
    if (!db_row_is_null(row, 9)) {
        d->last_error = strdup(ctl_text(row, 9));
        if (!d->last_error)
            return err_set(err, ERR_NOMEM, "out of memory reading the trace");
    }
    t->ndeliveries++;
    if (!event_find(t, d->id))
        return event_from_inbox(t, row, err);
    return 0;
}

static void trace_release(struct trace *t)
{
    for (size_t i = 0; i < t->ndeliveries; i++)
        free(t->deliveries[i].last_error);
    free(t->deliveries);
    free(t->events);
}

static int cmp_events(const void *a, const void *b)
{
    const struct trace_event *x = a, *y = b;
    if (x->created_us != y->created_us)
        return x->created_us < y->created_us ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* When a delivery finished (or, not finished, when it was first seen): the diagram's order. */
static long long delivery_end_us(const struct trace_delivery *d)
{
    return d->processed_us >= 0 ? d->processed_us : d->seen_us;
}

static int cmp_deliveries(const void *a, const void *b)
{
    const struct trace_delivery *x = a, *y = b;
    long long ex = delivery_end_us(x), ey = delivery_end_us(y);
    if (ex != ey)
        return ex < ey ? -1 : 1;
    return strcmp(x->consumer, y->consumer);
}

static int trace_read(struct db *db, const struct service_def *const *schemas, size_t n,
                      const char *correlation_id, struct trace *t, struct err *err)
{
    char *sql = malloc(CTL_SQL_MAX);
    if (!sql)
        return err_set(err, ERR_NOMEM, "out of memory");
    const char *params[] = {correlation_id};
    int rc = ctl_sql_each(sql, CTL_SQL_MAX, schemas, n, outbox_sql, " UNION ALL ", err);
    if (rc == 0)
        rc = db_exec(db, sql, 1, params, outbox_row, t, err);
    if (rc >= 0)
        rc = ctl_sql_each(sql, CTL_SQL_MAX, schemas, n, inbox_sql, " UNION ALL ", err);
    if (rc >= 0)
        rc = db_exec(db, sql, 1, params, inbox_row, t, err);
    free(sql);
    if (rc < 0)
        return rc;
    if (t->nevents)
        qsort(t->events, t->nevents, sizeof(*t->events), cmp_events);
    if (t->ndeliveries)
        qsort(t->deliveries, t->ndeliveries, sizeof(*t->deliveries), cmp_deliveries);
    for (size_t i = 0; i < t->ndeliveries; i++) {
        const struct trace_event *e = event_find(t, t->deliveries[i].id);
        t->deliveries[i].event = (size_t)(e - t->events);
    }
    return 0;
}

/* ---- the tree ---------------------------------------------------------------- */

static void format_us(long long us, char *out, size_t outlen)
{
    if (us < 0) {
        snprintf(out, outlen, "%s", "-");
        return;
    }
    time_t s = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char day[24];
    strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, outlen, "%s.%03lldZ", day, (us % 1000000) / 1000);
}

static void format_latency(const struct trace_event *e, const struct trace_delivery *d, char *out,
                           size_t outlen)
{
    if (d->processed_us < 0 || e->created_us < 0)
        snprintf(out, outlen, "%s", "-");
    else
        snprintf(out, outlen, "%.1f ms", (double)(d->processed_us - e->created_us) / 1000.0);
}

static bool is_root(const struct trace *t, const struct trace_event *e)
{
    const struct trace_event *cause = event_find(t, e->causation);
    return !cause || cause == e;
}

static void show_event(struct trace *t, size_t ei, int depth);

/* True when context has an inbox row of event ei. */
static bool delivered_to(const struct trace *t, size_t ei, const char *context)
{
    for (size_t i = 0; i < t->ndeliveries; i++)
        if (t->deliveries[i].event == ei && strcmp(t->deliveries[i].context, context) == 0)
            return true;
    return false;
}

/* Shows, one level deeper, the events e caused that publisher published. */
static void show_children(struct trace *t, const struct trace_event *e, const char *publisher,
                          int depth)
{
    for (size_t i = 0; i < t->nevents; i++) {
        struct trace_event *c = &t->events[i];
        if (c->shown || strcmp(c->causation, e->id) != 0)
            continue;
        if (strcmp(c->publisher, publisher) != 0)
            continue;
        show_event(t, i, depth);
    }
}

static void show_event(struct trace *t, size_t ei, int depth)
{
    struct trace_event *e = &t->events[ei];
    e->shown = true;
    int indent = 4 * (depth < TRACE_DEPTH_MAX ? depth : TRACE_DEPTH_MAX);
    char when[32];
    format_us(e->created_us, when, sizeof(when));
    printf("%*s%s  %-14s  %-34s  %s  caused by %s", indent, "", when, e->publisher, e->type, e->id,
           e->causation);
    if (!e->outbox_status[0])
        printf("  (outbox row gone)");
    else if (strcmp(e->outbox_status, "published") != 0)
        printf("  (outbox: %s)", e->outbox_status);
    putchar('\n');

    bool any = false;
    for (size_t i = 0; i < t->ndeliveries; i++) {
        const struct trace_delivery *d = &t->deliveries[i];
        if (d->event != ei)
            continue;
        any = true;
        char done[32], latency[32];
        format_us(d->processed_us, done, sizeof(done));
        format_latency(e, d, latency, sizeof(latency));
        printf("%*s-> %-14s  %-10s  attempts %lld  processed %s  %s", indent + 2, "", d->consumer,
               d->status, d->attempts, done, latency);
        if (d->last_error && strcmp(d->status, "processed") != 0) {
            char error[TRACE_ERROR_WIDTH + 1];
            ctl_one_line(d->last_error, TRACE_ERROR_WIDTH, error, sizeof(error));
            printf("  error '%s'", error);
        }
        putchar('\n');
        if (depth < TRACE_DEPTH_MAX)
            show_children(t, e, d->context, depth + 1);
    }
    if (!any)
        printf("%*s-> (no consumer has recorded it)\n", indent + 2, "");
    if (depth >= TRACE_DEPTH_MAX)
        return;
    /* Events e caused in a context with no inbox row of e (purged): under a line saying so. */
    for (size_t i = 0; i < t->nevents; i++) {
        const struct trace_event *c = &t->events[i];
        if (c->shown || strcmp(c->causation, e->id) != 0 || delivered_to(t, ei, c->publisher))
            continue;
        printf("%*s-> %-14s  (no inbox row: purged or never recorded)\n", indent + 2, "",
               c->publisher);
        show_children(t, e, c->publisher, depth + 1);
    }
}

static void trace_print_tree(struct trace *t, const char *correlation_id)
{
    size_t open = 0;
    for (size_t i = 0; i < t->ndeliveries; i++)
        open += strcmp(t->deliveries[i].status, "processed") != 0;
    printf("correlation id '%s': %zu events, %zu deliveries, %zu not processed\n", correlation_id,
           t->nevents, t->ndeliveries, open);
    for (size_t i = 0; i < t->nevents; i++)
        if (!t->events[i].shown && is_root(t, &t->events[i]))
            show_event(t, i, 0);
    /* What a causation cycle (bad data) kept out of the tree, flat at the end. */
    for (size_t i = 0; i < t->nevents; i++)
        if (!t->events[i].shown)
            show_event(t, i, 0);
}

/* ---- the diagram --------------------------------------------------------------- */

static void participant(const char **seen, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(seen[i], name) == 0)
            return;
    seen[(*n)++] = name;
    printf("    participant %s\n", name);
}

static void trace_print_mermaid(const struct trace *t)
{
    puts("sequenceDiagram");
    /* Participants in order of appearance: each event's publisher, then its consumers. */
    const char **seen = calloc(t->nevents + t->ndeliveries + 1, sizeof(*seen));
    size_t nseen = 0;
    for (size_t i = 0; seen && i < t->nevents; i++) {
        participant(seen, &nseen, t->events[i].publisher);
        for (size_t j = 0; j < t->ndeliveries; j++)
            if (t->deliveries[j].event == i)
                participant(seen, &nseen, t->deliveries[j].context);
    }
    free(seen);
    for (size_t i = 0; i < t->ndeliveries; i++) {
        const struct trace_delivery *d = &t->deliveries[i];
        const struct trace_event *e = &t->events[d->event];
        if (strcmp(d->status, "processed") == 0) {
            char latency[32];
            format_latency(e, d, latency, sizeof(latency));
            printf("    %s->>%s: %s (%s)\n", e->publisher, d->context, e->type, latency);
        } else {
            printf("    %s-x%s: %s (%s, attempts %lld)\n", e->publisher, d->context, e->type,
                   d->status, d->attempts);
        }
    }
    for (size_t i = 0; i < t->nevents; i++) {
        bool delivered = false;
        for (size_t j = 0; j < t->ndeliveries && !delivered; j++)
            delivered = t->deliveries[j].event == i;
        if (!delivered)
            printf("    Note over %s: %s (no delivery recorded)\n", t->events[i].publisher,
                   t->events[i].type);
    }
}

/* ---- the command --------------------------------------------------------------- */

int cmd_trace_run(int argc, char **argv)
{
    const char *cmd = "trace";
    const char *correlation_id = NULL, *url_arg = NULL;
    bool mermaid = false;

    for (int i = 1; i < argc; i++) {
        int rc;
        if (ctl_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return CTL_EXIT_OK;
        } else if (strcmp(argv[i], "--mermaid") == 0) {
            mermaid = true;
        } else if ((rc = ctl_option(cmd, argc, argv, &i, "--database-url", &url_arg))) {
            if (rc < 0)
                return CTL_EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            return ctl_usage_error(cmd, "unknown option '%.64s'", argv[i]);
        } else if (correlation_id) {
            return ctl_usage_error(cmd, "unexpected argument '%.64s'", argv[i]);
        } else {
            correlation_id = argv[i];
        }
    }
    if (!correlation_id)
        return ctl_usage_error(cmd, "which correlation id?");
    if (!envelope_ref_is_valid(correlation_id))
        return ctl_usage_error(cmd,
                               "invalid correlation id '%.64s': want 1 to 128 printable characters",
                               correlation_id);

    struct db *db;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    int exit_code = ctl_open(cmd, url_arg, NULL, &db, schemas, &nschemas);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    struct trace t = {0};
    struct err err = {0};
    if (trace_read(db, schemas, nschemas, correlation_id, &t, &err) < 0)
        exit_code = ctl_fail(cmd, "cannot read correlation id '%s': %s", correlation_id, err.msg);
    else if (t.nevents == 0)
        exit_code = ctl_fail(cmd, "no events with correlation id '%s'", correlation_id);
    else if (mermaid)
        trace_print_mermaid(&t);
    else
        trace_print_tree(&t, correlation_id);
    trace_release(&t);
    db_free(db);
    return exit_code;
}
