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
 * order they finished. One walk of the tree (trace_walk) feeds both the text
 * and the JSON the dashboard serves, so the two always agree.
 */
#include "ctl.h"

#include "common/db.h"
#include "common/envelope.h"
#include "common/trace.h"

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
    char id[UUID7_STR_LEN];
    char type[ENVELOPE_TYPE_MAX + 1];
    char publisher[ENVELOPE_CONTEXT_MAX + 1];
    char causation[ENVELOPE_REF_MAX];
    char outbox_status[16]; /* "" when the outbox row is gone */
    long long created_us;   /* outbox created_at, else the CloudEvent's time; -1 unknown */
    char traceparent[TRACE_PARENT_LEN]; /* its W3C trace context (SPEC §2), "" when none */
    bool shown;
};

struct trace_delivery {
    size_t event; /* index into trace.events, set after both reads */
    char id[UUID7_STR_LEN];
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
                                 "       (extract(epoch FROM created_at) * 1000000)::bigint,"
                                 "       coalesce(traceparent, payload->>'traceparent', '')"
                                 "  FROM {c}.outbox WHERE correlation_id = $1";

static const char inbox_sql[] =
    "SELECT '{c}', id::text, consumer, type, causation_id, status, attempts,"
    "       (extract(epoch FROM processed_at) * 1000000)::bigint,"
    "       (extract(epoch FROM created_at) * 1000000)::bigint, last_error,"
    "       payload->>'source', payload->>'time', coalesce(payload->>'traceparent', '')"
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
    snprintf(e->traceparent, sizeof(e->traceparent), "%s", ctl_text(row, 6));
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
    snprintf(e->traceparent, sizeof(e->traceparent), "%s", ctl_text(row, 12));
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

static int trace_read(struct ctl_dbs *dbs, const struct service_def *const *schemas, size_t n,
                      const char *correlation_id, struct trace *t, struct err *err)
{
    /* Each context in its own session (its owner's). Every outbox first: a delivery names its
     * event, which may come from any context's outbox. */
    char sql[sizeof(inbox_sql) + sizeof(outbox_sql) + 128];
    const char *params[] = {correlation_id};
    int rc = 0;
    for (int inbox = 0; inbox < 2; inbox++)
        for (size_t i = 0; rc >= 0 && i < n; i++) {
            struct db *db;
            rc = ctl_dbs_get(dbs, schemas[i], &db, err);
            if (rc == 0)
                rc = ctl_sql_each(sql, sizeof(sql), &schemas[i], 1, inbox ? inbox_sql : outbox_sql,
                                  "", err);
            if (rc == 0)
                rc = db_exec(db, sql, 1, params, inbox ? inbox_row : outbox_row, t, err);
        }
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

/* ---- formatting --------------------------------------------------------------- */

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

/* A hop's latency, from e's outbox row to d's processed_at; false when either is unknown. */
static bool latency_ms(const struct trace_event *e, const struct trace_delivery *d, double *ms)
{
    if (d->processed_us < 0 || e->created_us < 0)
        return false;
    *ms = (double)(d->processed_us - e->created_us) / 1000.0;
    return true;
}

static void format_latency(const struct trace_event *e, const struct trace_delivery *d, char *out,
                           size_t outlen)
{
    double ms;
    if (!latency_ms(e, d, &ms))
        snprintf(out, outlen, "%s", "-");
    else
        snprintf(out, outlen, "%.1f ms", ms);
}

/* ---- the walk of the tree --------------------------------------------------------- */

/*
 * The walk decides the order and the nesting; a visitor only renders what it
 * is shown: the text of "eventctl trace" or the dashboard's JSON. depth is
 * at most TRACE_DEPTH_MAX. After event(e, d), the walk reports e's
 * deliveries at the same depth, each followed by the events its context
 * published because of e (depth d + 1); no_delivery when there is none; then
 * unrecorded(publisher) for each context that published events because of e
 * with no inbox row of e left, each followed by those events (depth d + 1).
 */
struct trace_visitor {
    void (*event)(void *ctx, const struct trace_event *e, int depth);
    void (*delivery)(void *ctx, const struct trace_event *e, const struct trace_delivery *d,
                     int depth);
    void (*no_delivery)(void *ctx, int depth);
    void (*unrecorded)(void *ctx, const char *publisher, int depth);
};

struct trace_walk {
    struct trace *t;
    const struct trace_visitor *v;
    void *ctx;
};

static bool is_root(const struct trace *t, const struct trace_event *e)
{
    const struct trace_event *cause = event_find(t, e->causation);
    return !cause || cause == e;
}

static void walk_event(struct trace_walk *w, size_t ei, int depth);

/* True when context has an inbox row of event ei. */
static bool delivered_to(const struct trace *t, size_t ei, const char *context)
{
    for (size_t i = 0; i < t->ndeliveries; i++)
        if (t->deliveries[i].event == ei && strcmp(t->deliveries[i].context, context) == 0)
            return true;
    return false;
}

/* Walks, one level deeper, the events e caused that publisher published. */
static void walk_children(struct trace_walk *w, const struct trace_event *e, const char *publisher,
                          int depth)
{
    for (size_t i = 0; i < w->t->nevents; i++) {
        const struct trace_event *c = &w->t->events[i];
        if (c->shown || strcmp(c->causation, e->id) != 0)
            continue;
        if (strcmp(c->publisher, publisher) != 0)
            continue;
        walk_event(w, i, depth);
    }
}

static void walk_event(struct trace_walk *w, size_t ei, int depth)
{
    struct trace *t = w->t;
    struct trace_event *e = &t->events[ei];
    e->shown = true;
    w->v->event(w->ctx, e, depth);

    bool any = false;
    for (size_t i = 0; i < t->ndeliveries; i++) {
        const struct trace_delivery *d = &t->deliveries[i];
        if (d->event != ei)
            continue;
        any = true;
        w->v->delivery(w->ctx, e, d, depth);
        if (depth < TRACE_DEPTH_MAX)
            walk_children(w, e, d->context, depth + 1);
    }
    if (!any)
        w->v->no_delivery(w->ctx, depth);
    if (depth >= TRACE_DEPTH_MAX)
        return;
    /* Events e caused in a context with no inbox row of e (purged): under a line saying so. */
    for (size_t i = 0; i < t->nevents; i++) {
        const struct trace_event *c = &t->events[i];
        if (c->shown || strcmp(c->causation, e->id) != 0 || delivered_to(t, ei, c->publisher))
            continue;
        w->v->unrecorded(w->ctx, c->publisher, depth);
        walk_children(w, e, c->publisher, depth + 1);
    }
}

/* Walks every event once: the roots in time order, then what a cycle kept out, flat. */
static void trace_walk(struct trace *t, const struct trace_visitor *v, void *ctx)
{
    struct trace_walk w = {t, v, ctx};
    for (size_t i = 0; i < t->nevents; i++)
        t->events[i].shown = false;
    for (size_t i = 0; i < t->nevents; i++)
        if (!t->events[i].shown && is_root(t, &t->events[i]))
            walk_event(&w, i, 0);
    /* What a causation cycle (bad data) kept out of the tree, flat at the end. */
    for (size_t i = 0; i < t->nevents; i++)
        if (!t->events[i].shown)
            walk_event(&w, i, 0);
}

static size_t not_processed(const struct trace *t)
{
    size_t open = 0;
    for (size_t i = 0; i < t->ndeliveries; i++)
        open += strcmp(t->deliveries[i].status, "processed") != 0;
    return open;
}

/* ---- the tree as text ----------------------------------------------------------------- */

static int text_indent(int depth)
{
    return 4 * (depth < TRACE_DEPTH_MAX ? depth : TRACE_DEPTH_MAX);
}

static void text_event(void *ctx, const struct trace_event *e, int depth)
{
    FILE *out = ctx;
    char when[32];
    format_us(e->created_us, when, sizeof(when));
    fprintf(out, "%*s%s  %-14s  %-34s  %s  caused by %s", text_indent(depth), "", when,
            e->publisher, e->type, e->id, e->causation);
    if (!e->outbox_status[0])
        fprintf(out, "  (outbox row gone)");
    else if (strcmp(e->outbox_status, "published") != 0)
        fprintf(out, "  (outbox: %s)", e->outbox_status);
    struct trace_context tc;
    if (trace_parse(e->traceparent, &tc)) /* trace id, then this event's span */
        fprintf(out, "  trace %s span %s", tc.trace_id, tc.span_id);
    fputc('\n', out);
}

static void text_delivery(void *ctx, const struct trace_event *e, const struct trace_delivery *d,
                          int depth)
{
    FILE *out = ctx;
    char done[32], latency[32];
    format_us(d->processed_us, done, sizeof(done));
    format_latency(e, d, latency, sizeof(latency));
    fprintf(out, "%*s-> %-14s  %-10s  attempts %lld  processed %s  %s", text_indent(depth) + 2, "",
            d->consumer, d->status, d->attempts, done, latency);
    if (d->last_error && strcmp(d->status, "processed") != 0) {
        char error[TRACE_ERROR_WIDTH + 1];
        ctl_one_line(d->last_error, TRACE_ERROR_WIDTH, error, sizeof(error));
        fprintf(out, "  error '%s'", error);
    }
    fputc('\n', out);
}

static void text_no_delivery(void *ctx, int depth)
{
    fprintf(ctx, "%*s-> (no consumer has recorded it)\n", text_indent(depth) + 2, "");
}

static void text_unrecorded(void *ctx, const char *publisher, int depth)
{
    fprintf(ctx, "%*s-> %-14s  (no inbox row: purged or never recorded)\n", text_indent(depth) + 2,
            "", publisher);
}

static const struct trace_visitor text_visitor = {text_event, text_delivery, text_no_delivery,
                                                  text_unrecorded};

static void trace_write_tree(struct trace *t, const char *correlation_id, FILE *out)
{
    fprintf(out, "correlation id '%s': %zu events, %zu deliveries, %zu not processed\n",
            correlation_id, t->nevents, t->ndeliveries, not_processed(t));
    trace_walk(t, &text_visitor, out);
}

/* ---- the diagram --------------------------------------------------------------- */

/*
 * The diagram's participants in order of appearance: each event's publisher,
 * then its consumers. names has room for nevents + ndeliveries entries
 * (borrowed from t); returns how many were filled.
 */
static void add_participant(const char **names, size_t *n, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0)
            return;
    names[(*n)++] = name;
}

static size_t trace_participants(const struct trace *t, const char **names)
{
    size_t n = 0;
    for (size_t i = 0; i < t->nevents; i++) {
        add_participant(names, &n, t->events[i].publisher);
        for (size_t j = 0; j < t->ndeliveries; j++)
            if (t->deliveries[j].event == i)
                add_participant(names, &n, t->deliveries[j].context);
    }
    return n;
}

/* True when some consumer recorded event ei. */
static bool delivered(const struct trace *t, size_t ei)
{
    for (size_t j = 0; j < t->ndeliveries; j++)
        if (t->deliveries[j].event == ei)
            return true;
    return false;
}

static void trace_write_mermaid(const struct trace *t, FILE *out)
{
    fputs("sequenceDiagram\n", out);
    const char **names = calloc(t->nevents + t->ndeliveries + 1, sizeof(*names));
    size_t nnames = names ? trace_participants(t, names) : 0;
    for (size_t i = 0; i < nnames; i++)
        fprintf(out, "    participant %s\n", names[i]);
    free(names);
    /* The deliveries in the order they finished. */
    for (size_t i = 0; i < t->ndeliveries; i++) {
        const struct trace_delivery *d = &t->deliveries[i];
        const struct trace_event *e = &t->events[d->event];
        if (strcmp(d->status, "processed") == 0) {
            char latency[32];
            format_latency(e, d, latency, sizeof(latency));
            fprintf(out, "    %s->>%s: %s (%s)\n", e->publisher, d->context, e->type, latency);
        } else {
            fprintf(out, "    %s-x%s: %s (%s, attempts %lld)\n", e->publisher, d->context, e->type,
                    d->status, d->attempts);
        }
    }
    for (size_t i = 0; i < t->nevents; i++)
        if (!delivered(t, i))
            fprintf(out, "    Note over %s: %s (no delivery recorded)\n", t->events[i].publisher,
                    t->events[i].type);
}

/* ---- JSON (the dashboard) ------------------------------------------------------------- */

/*
 * Builds the nested tree while the walk runs: level[d] is the array that
 * takes the events of depth d, event[d] the event of depth d being filled.
 * All borrowed from the result; after a failed allocation nothing more is
 * added and nomem is set.
 */
struct tree_json {
    json_t *level[TRACE_DEPTH_MAX + 2];
    json_t *event[TRACE_DEPTH_MAX + 1];
    bool nomem;
};

/* Appends value (taking it) to array; false (value released) when either is NULL or on failure. */
static bool append(json_t *array, json_t *value)
{
    if (!array) {
        json_decref(value);
        return false;
    }
    return value && json_array_append_new(array, value) == 0;
}

static json_t *json_time(long long us)
{
    char when[32];
    format_us(us, when, sizeof(when));
    return us < 0 ? json_null() : json_string(when);
}

static json_t *json_latency(const struct trace_event *e, const struct trace_delivery *d)
{
    double ms;
    return latency_ms(e, d, &ms) ? json_real(ms) : json_null();
}

static void json_event(void *ctx, const struct trace_event *e, int depth)
{
    struct tree_json *tj = ctx;
    if (tj->nomem)
        return;
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s?, s:s?, s:[], s:[]}", "id", e->id, "type",
                          e->type, "publisher", e->publisher, "causation_id", e->causation, "time",
                          json_time(e->created_us), "outbox_status",
                          e->outbox_status[0] ? e->outbox_status : NULL, "traceparent",
                          e->traceparent[0] ? e->traceparent : NULL, "deliveries", "unrecorded");
    tj->event[depth] = o;
    tj->nomem = !append(tj->level[depth], o);
}

static void json_delivery(void *ctx, const struct trace_event *e, const struct trace_delivery *d,
                          int depth)
{
    struct tree_json *tj = ctx;
    if (tj->nomem)
        return;
    json_t *events = json_array();
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:I, s:o, s:o, s:s?, s:o}", "consumer", d->consumer, "context",
                  d->context, "status", d->status, "attempts", (json_int_t)d->attempts,
                  "processed_at", json_time(d->processed_us), "latency_ms", json_latency(e, d),
                  "last_error", d->last_error, "events", events);
    tj->nomem = !append(json_object_get(tj->event[depth], "deliveries"), o);
    tj->level[depth + 1] = events;
}

static void json_no_delivery(void *ctx, int depth)
{
    (void)ctx;
    (void)depth; /* an empty "deliveries" says it */
}

static void json_unrecorded(void *ctx, const char *publisher, int depth)
{
    struct tree_json *tj = ctx;
    if (tj->nomem)
        return;
    json_t *events = json_array();
    json_t *o = json_pack("{s:s, s:o}", "context", publisher, "events", events);
    tj->nomem = !append(json_object_get(tj->event[depth], "unrecorded"), o);
    tj->level[depth + 1] = events;
}

static const struct trace_visitor json_visitor = {json_event, json_delivery, json_no_delivery,
                                                  json_unrecorded};

/* The diagram's data: participants, arrows in finishing order, notes. False when out of memory. */
static bool json_diagram(const struct trace *t, json_t *participants, json_t *sequence,
                         json_t *notes)
{
    const char **names = calloc(t->nevents + t->ndeliveries + 1, sizeof(*names));
    if (!names)
        return false;
    size_t nnames = trace_participants(t, names);
    bool ok = true;
    for (size_t i = 0; ok && i < nnames; i++)
        ok = append(participants, json_string(names[i]));
    free(names);
    for (size_t i = 0; ok && i < t->ndeliveries; i++) {
        const struct trace_delivery *d = &t->deliveries[i];
        const struct trace_event *e = &t->events[d->event];
        ok = append(sequence,
                    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "from", e->publisher,
                              "to", d->context, "type", e->type, "event_id", e->id, "consumer",
                              d->consumer, "status", d->status, "attempts", (json_int_t)d->attempts,
                              "latency_ms", json_latency(e, d)));
    }
    for (size_t i = 0; ok && i < t->nevents; i++)
        if (!delivered(t, i))
            ok = append(notes, json_pack("{s:s, s:s, s:s}", "over", t->events[i].publisher, "type",
                                         t->events[i].type, "event_id", t->events[i].id));
    return ok;
}

static json_t *trace_to_json(struct trace *t, const char *correlation_id)
{
    json_t *tree = json_array(), *participants = json_array(), *sequence = json_array();
    json_t *notes = json_array();
    json_t *o =
        json_pack("{s:s, s:{s:I, s:I, s:I}, s:o, s:o, s:o, s:o}", "correlation_id", correlation_id,
                  "counts", "events", (json_int_t)t->nevents, "deliveries",
                  (json_int_t)t->ndeliveries, "not_processed", (json_int_t)not_processed(t), "tree",
                  tree, "participants", participants, "sequence", sequence, "notes", notes);
    if (!o)
        return NULL; /* json_pack has released the "o" arguments */
    struct tree_json tj = {.level = {tree}};
    trace_walk(t, &json_visitor, &tj);
    if (tj.nomem || !json_diagram(t, participants, sequence, notes)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- shared with the dashboard ------------------------------------------------------ */

int cmd_trace_write(struct ctl_dbs *db, const struct service_def *const *schemas, size_t n,
                    const char *correlation_id, bool mermaid, FILE *out, struct err *err)
{
    struct trace t = {0};
    int rc = trace_read(db, schemas, n, correlation_id, &t, err);
    if (rc == 0 && t.nevents > 0) {
        if (mermaid)
            trace_write_mermaid(&t, out);
        else
            trace_write_tree(&t, correlation_id, out);
        rc = 1;
    }
    trace_release(&t);
    return rc;
}

int cmd_trace_json(struct ctl_dbs *db, const struct service_def *const *schemas, size_t n,
                   const char *correlation_id, json_t **out, struct err *err)
{
    *out = NULL;
    struct trace t = {0};
    int rc = trace_read(db, schemas, n, correlation_id, &t, err);
    if (rc == 0 && t.nevents > 0) {
        *out = trace_to_json(&t, correlation_id);
        rc = *out ? 1 : err_set(err, ERR_NOMEM, "out of memory encoding the trace");
    }
    trace_release(&t);
    return rc;
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

    struct ctl_dbs *db;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    int exit_code = ctl_open(cmd, url_arg, NULL, &db, schemas, &nschemas);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    struct err err = {0};
    int rc = cmd_trace_write(db, schemas, nschemas, correlation_id, mermaid, stdout, &err);
    if (rc < 0)
        exit_code = ctl_fail(cmd, "cannot read correlation id '%s': %s", correlation_id, err.msg);
    else if (rc == 0)
        exit_code = ctl_fail(cmd, "no events with correlation id '%s'", correlation_id);
    ctl_dbs_free(db);
    return exit_code;
}
