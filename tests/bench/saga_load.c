/*
 * saga_load.c - see saga_load.h. Each worker thread owns one connection and
 * the slots k, k + n, k + 2n, … of the schedule (n workers), so the global
 * round robin over offerings and the fixed-rate timetable need no lock;
 * results are kept per worker and merged at the end.
 */
#include "saga_load.h"

#include "saga_http.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct worker {
    const struct saga_load_spec *spec;
    int index;
    int64_t start_us, end_us;
    struct saga_http *http;
    long sent, refused, busy, failed;
    int64_t last_reply_us, late_max_us;
    char (*ids)[SAGA_ID_LEN];
    int32_t *took_us; /* one per accepted booking, same index as ids */
    long nids, cap;
    char first_error[256];
    int oom;
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_until_us(int64_t at)
{
    int64_t us = at - now_us();
    if (us <= 0)
        return;
    struct timespec ts = {us / 1000000, (long)(us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static int keep(struct worker *w, const char *id, int64_t took_us)
{
    if (w->nids == w->cap) {
        long cap = w->cap ? w->cap * 2 : 1024;
        char(*ids)[SAGA_ID_LEN] = realloc(w->ids, (size_t)cap * sizeof(*ids));
        if (ids)
            w->ids = ids;
        int32_t *took = realloc(w->took_us, (size_t)cap * sizeof(*took));
        if (took)
            w->took_us = took;
        if (!ids || !took)
            return -1;
        w->cap = cap;
    }
    snprintf(w->ids[w->nids], SAGA_ID_LEN, "%s", id);
    w->took_us[w->nids++] = (int32_t)(took_us < INT32_MAX ? took_us : INT32_MAX);
    return 0;
}

static void note_error(struct worker *w, const char *what)
{
    if (!w->first_error[0])
        snprintf(w->first_error, sizeof(w->first_error), "%s", what);
}

/* Booking number slot: its offering, and the request. */
static void book(struct worker *w, long slot)
{
    const struct saga_load_spec *s = w->spec;
    const char *offering = s->offerings[slot % s->noffers];
    if (s->declined_offering && s->declined_every > 0 &&
        slot % s->declined_every == s->declined_every - 1)
        offering = s->declined_offering;
    char body[256], errbuf[256], id[SAGA_ID_LEN];
    snprintf(body, sizeof(body), "{\"user_id\":\"%s\",\"offering_id\":\"%s\",\"quantity\":1}",
             s->user_id, offering);
    long status = 0;
    int64_t t0 = now_us();
    w->sent++;
    if (saga_http_call(w->http, "POST", "/bookings", body, &status, errbuf, sizeof(errbuf)) != 0) {
        w->failed++;
        note_error(w, errbuf);
        return;
    }
    w->last_reply_us = now_us();
    if (status == 503 && saga_http_retry_after_s(w->http) > 0) {
        /* Overloaded (booking's admission control): a well-behaved client waits as told. */
        w->busy++;
        int64_t until = w->last_reply_us + saga_http_retry_after_s(w->http) * 1000000;
        sleep_until_us(until < w->end_us ? until : w->end_us);
        return;
    }
    if (status != 202 || saga_http_reply_str(w->http, "id", id, sizeof(id)) != 0) {
        w->refused++;
        snprintf(errbuf, sizeof(errbuf), "POST /bookings: %ld %.200s", status,
                 saga_http_reply(w->http));
        note_error(w, errbuf);
        return;
    }
    if (keep(w, id, w->last_reply_us - t0) != 0)
        w->oom = 1;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    const struct saga_load_spec *s = w->spec;
    int64_t period_us = s->rate > 0 ? 1000000 / s->rate : 0;
    for (long slot = w->index; !w->oom; slot += s->connections) {
        if (s->rate > 0) {
            int64_t due = w->start_us + slot * period_us;
            if (due >= w->end_us)
                break;
            sleep_until_us(due);
            int64_t late = now_us() - due;
            if (late > w->late_max_us)
                w->late_max_us = late;
        } else if (now_us() >= w->end_us) {
            break;
        }
        book(w, slot);
    }
    return NULL;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Merges the workers' counts, ids and reply times into out. */
static int merge(struct worker *ws, int n, int64_t start_us, struct saga_load_result *out)
{
    long total = 0;
    for (int i = 0; i < n; i++)
        total += ws[i].nids;
    out->ids = malloc((size_t)(total ? total : 1) * sizeof(*out->ids));
    int32_t *took = malloc((size_t)(total ? total : 1) * sizeof(*took));
    if (!out->ids || !took) {
        free(took);
        return -1;
    }
    int64_t last = start_us;
    for (int i = 0; i < n; i++) {
        struct worker *w = &ws[i];
        memcpy(out->ids + out->nids, w->ids, (size_t)w->nids * sizeof(*w->ids));
        memcpy(took + out->nids, w->took_us, (size_t)w->nids * sizeof(*took));
        out->nids += w->nids;
        out->sent += w->sent;
        out->refused += w->refused;
        out->busy += w->busy;
        out->failed += w->failed;
        if (w->last_reply_us > last)
            last = w->last_reply_us;
        if (w->late_max_us / 1000.0 > out->late_max_ms)
            out->late_max_ms = w->late_max_us / 1000.0;
        if (!out->first_error[0])
            snprintf(out->first_error, sizeof(out->first_error), "%s", w->first_error);
    }
    out->accepted = out->nids;
    out->elapsed_s = (double)(last - start_us) / 1e6;
    if (total > 0) {
        qsort(took, (size_t)total, sizeof(*took), cmp_i32);
        long i50 = total / 2, i99 = total * 99 / 100;
        out->http_p50_ms = took[i50] / 1000.0;
        out->http_p99_ms = took[i99] / 1000.0;
        out->http_max_ms = took[total - 1] / 1000.0;
    }
    free(took);
    return 0;
}

int saga_load_run(const struct saga_load_spec *spec, struct saga_load_result *out)
{
    memset(out, 0, sizeof(*out));
    int n = spec->connections;
    struct worker *ws = calloc((size_t)n, sizeof(*ws));
    pthread_t *threads = calloc((size_t)n, sizeof(*threads));
    int rc = ws && threads ? 0 : -1;
    for (int i = 0; i < n && !rc; i++) {
        ws[i].http = saga_http_new(spec->port);
        if (!ws[i].http)
            rc = -1;
    }
    int64_t start_us = now_us() + 1000; /* every worker starts from the same instant */
    int started = 0;
    for (int i = 0; i < n && !rc; i++) {
        ws[i].spec = spec;
        ws[i].index = i;
        ws[i].start_us = start_us;
        ws[i].end_us = start_us + (int64_t)spec->seconds * 1000000;
        if (pthread_create(&threads[i], NULL, work, &ws[i]) != 0)
            rc = -1;
        else
            started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < n && !rc; i++)
        if (ws[i].oom)
            rc = -1;
    if (!rc)
        rc = merge(ws, n, start_us, out);
    for (int i = 0; ws && i < n; i++) {
        saga_http_free(ws[i].http);
        free(ws[i].ids);
        free(ws[i].took_us);
    }
    free(ws);
    free(threads);
    return rc;
}

void saga_load_free(struct saga_load_result *r)
{
    free(r->ids);
    r->ids = NULL;
    r->nids = 0;
}
