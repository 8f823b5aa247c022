/*
 * ledger.c - see ledger.h.
 *
 * Each invariant is one or a few SQL statements that return its offenders
 * (nothing when it holds), so what a failure prints is what a person would
 * query by hand. The schemas are read directly; the harness's connection
 * (e2e_rows) reconnects by itself after a PostgreSQL restart.
 */
#include "ledger.h"

#include "fault.h"

#include "booking/service.h"
#include "common/bus.h"
#include "common/service.h"
#include "common/uuid7.h"
#include "inventory/service.h"
#include "notification/service.h"
#include "payment/service.h"
#include "servicecatalog/service.h"
#include "usermanagement/service.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEDGER_SHOW        8 /* offenders named per invariant (the count says how many more) */
#define LEDGER_BROKEN_MAX  65536
#define LEDGER_SQL_MAX     8192
#define LEDGER_DL_WAIT_MS  20000 /* for injected poison to reach every dead-letter queue */
#define LEDGER_DL_IDLE_MS  300 /* a dead-letter queue is drained after this long without a message */
#define LEDGER_DUP_WAIT_MS 20000 /* for the inboxes to absorb every duplicate copy */

/* The six descriptors, in enum e2e_ctx order. */
static const struct service_def *const services[E2E_NCTX] = {
    &servicecatalog_service, &usermanagement_service, &booking_service,
    &inventory_service,      &payment_service,        &notification_service,
};

struct ledger {
    char broken[LEDGER_BROKEN_MAX]; /* one paragraph per broken invariant */
    int nchecked;
    int nbroken;
    long dl_poison; /* poison copies read from the dead-letter queues */
    long dl_failed; /* copies of dead inbox rows read from them */
    long long dup_absorbed;
    long adopted; /* stored rows whose write had an unknown outcome */
    bool quiet;
    /*
     * Every dead letter read so far, "<context>/<message id>" → true: reading
     * a dead-letter queue consumes it, so a scenario that checks the ledger
     * twice (fault.cluster, once per phase) finds the earlier copies here.
     * Kept by ledger_reset: it is the queues' state, not a verdict.
     */
    json_t *dl_seen;
};

/* One invariant being checked. */
struct check {
    struct ledger *l;
    const char *name;
    long offenders;
    char detail[6144];
};

static void check_begin(struct check *k, struct ledger *l, const char *name)
{
    k->l = l;
    k->name = name;
    k->offenders = 0;
    k->detail[0] = '\0';
    l->nchecked++;
}

static void __attribute__((format(printf, 2, 3))) offend(struct check *k, const char *fmt, ...)
{
    if (++k->offenders > LEDGER_SHOW)
        return;
    size_t len = strlen(k->detail);
    snprintf(k->detail + len, sizeof(k->detail) - len, "\n    - ");
    len = strlen(k->detail);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->detail + len, sizeof(k->detail) - len, fmt, ap);
    va_end(ap);
}

static int check_end(struct check *k)
{
    if (!k->offenders)
        return 0;
    struct ledger *l = k->l;
    l->nbroken++;
    size_t len = strlen(l->broken);
    snprintf(l->broken + len, sizeof(l->broken) - len, "\n  invariant '%s' broken by %ld:%s%s",
             k->name, k->offenders, k->detail,
             k->offenders > LEDGER_SHOW ? "\n    - … (the rest in the tables)" : "");
    return (int)k->offenders;
}

static const char *col(const json_t *row, size_t i)
{
    const json_t *v = json_array_get(row, i);
    return json_is_string(v) ? json_string_value(v) : "";
}

static const char *name_of(int c)
{
    return e2e_ctx_name((enum e2e_ctx)c);
}

/* ------------------------------------------------------------ subscriptions */

const struct subscription *ledger_subscriptions(enum e2e_ctx c, size_t *n)
{
    if (strcmp(services[c]->name, e2e_ctx_name(c)) != 0)
        fail_msg("ledger: descriptor %d is '%s', expected '%s'", (int)c, services[c]->name,
                 e2e_ctx_name(c));
    *n = services[c]->nsubscriptions;
    return services[c]->subscriptions;
}

unsigned ledger_subscribers(const char *type)
{
    unsigned mask = 0;
    for (int c = 0; c < E2E_NCTX; c++) {
        size_t n;
        const struct subscription *s = ledger_subscriptions(c, &n);
        for (size_t i = 0; i < n; i++)
            if (strcmp(s[i].event->type, type) == 0)
                mask |= 1u << c;
    }
    return mask;
}

/* ------------------------------------------------------------------ lifecycle */

struct ledger *ledger_new(void)
{
    struct ledger *l = calloc(1, sizeof(*l));
    if (!l)
        fail_msg("out of memory");
    return l;
}

void ledger_free(struct ledger *l)
{
    if (l)
        json_decref(l->dl_seen);
    free(l);
}

const char *ledger_failures(const struct ledger *l)
{
    return l->broken;
}

void ledger_reset(struct ledger *l)
{
    json_t *seen = l->dl_seen;
    memset(l, 0, sizeof(*l));
    l->dl_seen = seen;
}

/* ------------------------------------------------------------------ quiet */

/*
 * "(a) + (b) + …": tmpl once per schema, every '@' in it replaced by the
 * schema's name (a placeholder rather than a printf format, so the
 * templates stay plain strings).
 */
static void sum_over_schemas(char *out, size_t outlen, const char *tmpl)
{
    size_t len = 0;
    out[0] = '\0';
    for (int c = 0; c < E2E_NCTX; c++) {
        len += (size_t)snprintf(out + len, outlen - len, "%s(", c ? " + " : "");
        for (const char *t = tmpl; *t && len + 64 < outlen; t++) {
            if (*t == '@')
                len += (size_t)snprintf(out + len, outlen - len, "%s", name_of(c));
            else
                out[len++] = *t;
        }
        len += (size_t)snprintf(out + len, outlen - len, ")");
        if (len >= outlen)
            fail_msg("ledger: query too long");
    }
}

static void quiet_sql(char *sql, size_t len)
{
    char unpublished[2048], busy[2048], undl[2048], outbox[2048], inbox[2048], processed[2048];
    sum_over_schemas(unpublished, sizeof(unpublished),
                     "SELECT count(*) FROM @.outbox WHERE status <> 'published'");
    sum_over_schemas(busy, sizeof(busy),
                     "SELECT count(*) FROM @.inbox WHERE status IN ('processing', 'failed')");
    sum_over_schemas(
        undl, sizeof(undl),
        "SELECT count(*) FROM @.inbox WHERE status = 'dead' AND dead_lettered_at IS NULL");
    sum_over_schemas(outbox, sizeof(outbox), "SELECT count(*) FROM @.outbox");
    sum_over_schemas(inbox, sizeof(inbox), "SELECT count(*) FROM @.inbox");
    sum_over_schemas(processed, sizeof(processed),
                     "SELECT count(*) FROM @.inbox WHERE status = 'processed'");
    snprintf(sql, len,
             "SELECT concat_ws('|', %s, %s, (SELECT count(*) FROM booking.bookings WHERE status = "
             "'pending'), %s, %s, %s, %s)",
             unpublished, busy, undl, outbox, inbox, processed);
}

/* What keeps the system from being quiet, for the failure message. */
static void describe_moving(struct check *k, const char *fp)
{
    char sql[LEDGER_SQL_MAX];
    for (int c = 0; c < E2E_NCTX; c++) {
        snprintf(
            sql, sizeof(sql),
            "SELECT id::text, type, status, attempts::text, coalesce(last_error, '') FROM %s.outbox"
            " WHERE status <> 'published' ORDER BY created_at LIMIT 3",
            name_of(c));
        json_t *rows = e2e_rows(sql, NULL, NULL);
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
            offend(k, "%s.outbox: event %s (%s) still %s after %s attempts %s", name_of(c),
                   col(r, 0), col(r, 1), col(r, 2), col(r, 3), col(r, 4));
        json_decref(rows);
        snprintf(
            sql, sizeof(sql),
            "SELECT id::text, type, status, attempts::text, coalesce(last_error, '') FROM %s.inbox"
            " WHERE status IN ('processing', 'failed') OR (status = 'dead' AND dead_lettered_at IS "
            "NULL)"
            " ORDER BY created_at LIMIT 3",
            name_of(c));
        rows = e2e_rows(sql, NULL, NULL);
        json_array_foreach(rows, i, r)
            offend(k, "%s.inbox: event %s (%s) still %s after %s attempts: %s", name_of(c),
                   col(r, 0), col(r, 1), col(r, 2), col(r, 3), col(r, 4));
        json_decref(rows);
    }
    json_t *rows = e2e_rows(
        "SELECT b.id::text, coalesce((SELECT min(correlation_id) FROM booking.outbox o WHERE "
        "o.type ="
        " 'booking.booking.created' AND o.payload->'data'->>'booking_id' = b.id::text), '-'),"
        " coalesce((SELECT string_agg(h.event, ', ' ORDER BY h.seq) FROM booking.booking_history h"
        " WHERE h.booking_id = b.id), '') FROM booking.bookings b WHERE b.status = 'pending'"
        " ORDER BY b.created_at LIMIT 5",
        NULL, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
        offend(k, "booking %s (correlation %s) still pending; its history: %s", col(r, 0),
               col(r, 1), col(r, 2));
    json_decref(rows);
    if (!k->offenders)
        offend(k,
               "row counts still changing (unpublished|busy inbox|pending bookings|dead not copied|"
               "outbox|inbox|processed = %s)",
               fp);
}

double ledger_wait_quiet(struct ledger *l, int timeout_ms)
{
    char sql[LEDGER_SQL_MAX * 2], fp[256] = "", last[256] = "";
    quiet_sql(sql, sizeof(sql));
    int64_t t0 = testlib_now_ms(), deadline = t0 + timeout_ms, stable_since = t0;
    for (;;) {
        e2e_value(sql, NULL, NULL, fp, sizeof(fp));
        long long unpublished = -1, busy = -1, pending = -1, undl = -1;
        sscanf(fp, "%lld|%lld|%lld|%lld", &unpublished, &busy, &pending, &undl);
        int64_t now = testlib_now_ms();
        if (strcmp(fp, last) != 0) {
            snprintf(last, sizeof(last), "%s", fp);
            stable_since = now;
        }
        bool settled = unpublished == 0 && busy == 0 && pending == 0 && undl == 0;
        if (settled && now - stable_since >= LEDGER_QUIET_STABLE_MS) {
            l->quiet = true;
            /* the time it went quiet, not the time we were sure */
            return (double)(stable_since - t0) / 1000.0;
        }
        if (now > deadline)
            break;
        testlib_sleep_ms(100);
    }
    struct check k;
    check_begin(&k, l, "quiet");
    describe_moving(&k, fp);
    char head[128];
    snprintf(head, sizeof(head), "not quiet within %d ms", timeout_ms);
    k.name = head;
    check_end(&k);
    return (double)timeout_ms / 1000.0;
}

/* ------------------------------------------------------------ writes */

struct row_index {
    const char *key;
    const json_t *row;
};

static int cmp_index(const void *a, const void *b)
{
    return strcmp(((const struct row_index *)a)->key, ((const struct row_index *)b)->key);
}

/* An index of rows by column keycol (sorted; free() it). */
static struct row_index *index_rows(const json_t *rows, size_t keycol, size_t *n)
{
    *n = json_array_size(rows);
    struct row_index *ix = calloc(*n ? *n : 1, sizeof(*ix));
    if (!ix)
        fail_msg("out of memory");
    for (size_t i = 0; i < *n; i++) {
        ix[i].row = json_array_get(rows, i);
        ix[i].key = col(ix[i].row, keycol);
    }
    qsort(ix, *n, sizeof(*ix), cmp_index);
    return ix;
}

static const json_t *lookup(const struct row_index *ix, size_t n, const char *key)
{
    struct row_index probe = {key, NULL};
    const struct row_index *hit = bsearch(&probe, ix, n, sizeof(*ix), cmp_index);
    return hit ? hit->row : NULL;
}

/* What the database holds for each kind of write, keyed by column 1 (the write's key). */
static json_t *stored(enum load_kind kind)
{
    switch (kind) {
    case LOAD_USER: return e2e_rows("SELECT id::text, email FROM usermanagement.users", NULL, NULL);
    case LOAD_PROVIDER:
    case LOAD_ACTIVATION:
        return e2e_rows("SELECT id::text, business_name, owner_id::text, status"
                        " FROM servicecatalog.providers",
                        NULL, NULL);
    case LOAD_OFFERING:
        return e2e_rows(
            "SELECT id::text, name, provider_id::text, capacity::text, price_cents::text"
            " FROM servicecatalog.offerings",
            NULL, NULL);
    case LOAD_BOOKING:
        return e2e_rows(
            "SELECT b.id::text, coalesce(c.cid, ''), b.offering_id::text, b.user_id::text,"
            " b.quantity::text, b.amount_cents::text FROM booking.bookings b LEFT JOIN"
            " (SELECT payload->'data'->>'booking_id' AS booking_id, min(correlation_id) AS cid"
            "  FROM booking.outbox WHERE type = 'booking.booking.created' GROUP BY 1) c"
            " ON c.booking_id = b.id::text",
            NULL, NULL);
    case LOAD_NKINDS: break;
    }
    return json_array();
}

static const char *const kind_label[LOAD_NKINDS] = {"user", "provider", "activation of provider",
                                                    "offering", "booking"};

static const char *outcome_label(enum load_outcome o)
{
    switch (o) {
    case LOAD_ACCEPTED: return "accepted";
    case LOAD_REFUSED: return "refused";
    case LOAD_UNAVAILABLE: return "not sent (service down)";
    case LOAD_UNKNOWN: return "unknown";
    case LOAD_NOUTCOMES: break;
    }
    return "?";
}

/* Compares an accepted write with its stored row; describes the first difference in why. */
static bool same_as_sent(const struct load_write *w, const json_t *row, char *why, size_t len)
{
    char n1[32], n2[32];
    if (strcmp(col(row, 0), w->id) != 0) {
        snprintf(why, len, "stored with id %s, the reply said %s", col(row, 0), w->id);
        return false;
    }
    switch (w->kind) {
    case LOAD_PROVIDER:
        if (strcmp(col(row, 2), w->ref) != 0) {
            snprintf(why, len, "owner %s, sent %s", col(row, 2), w->ref);
            return false;
        }
        break;
    case LOAD_OFFERING:
        snprintf(n1, sizeof(n1), "%lld", w->quantity);
        snprintf(n2, sizeof(n2), "%lld", w->price_cents);
        if (strcmp(col(row, 2), w->ref) != 0 || strcmp(col(row, 3), n1) != 0 ||
            strcmp(col(row, 4), n2) != 0) {
            snprintf(why, len, "provider %s capacity %s price %s, sent %s %s %s", col(row, 2),
                     col(row, 3), col(row, 4), w->ref, n1, n2);
            return false;
        }
        break;
    case LOAD_BOOKING:
        snprintf(n1, sizeof(n1), "%lld", w->quantity);
        snprintf(n2, sizeof(n2), "%lld", w->price_cents);
        if (strcmp(col(row, 2), w->ref) != 0 || strcmp(col(row, 3), w->user) != 0 ||
            strcmp(col(row, 4), n1) != 0 || strcmp(col(row, 5), n2) != 0) {
            snprintf(why, len, "offering %s user %s quantity %s amount %s, sent %s %s %s %s",
                     col(row, 2), col(row, 3), col(row, 4), col(row, 5), w->ref, w->user, n1, n2);
            return false;
        }
        break;
    default: break;
    }
    return true;
}

int ledger_accepted_writes_stored(struct ledger *l, const struct load *load)
{
    struct check k;
    check_begin(&k, l, "every accepted write is stored as sent, nothing refused is");
    size_t nw;
    const struct load_write *writes = load_writes(load, &nw);
    for (int kind = 0; kind < LOAD_NKINDS; kind++) {
        json_t *rows = stored(kind);
        size_t n;
        /* activations are looked up by provider id, the rest by their key */
        struct row_index *ix = index_rows(rows, kind == LOAD_ACTIVATION ? 0 : 1, &n);
        for (size_t i = 0; i < nw; i++) {
            const struct load_write *w = &writes[i];
            if ((int)w->kind != kind)
                continue;
            const json_t *row = lookup(ix, n, w->key);
            char why[512];
            if (kind == LOAD_ACTIVATION) {
                if (w->outcome == LOAD_ACCEPTED && (!row || strcmp(col(row, 3), "active") != 0))
                    offend(&k, "activation of provider %s was accepted (%ld) but it is %s", w->key,
                           w->status, row ? col(row, 3) : "not stored");
            } else if (w->outcome == LOAD_ACCEPTED && !row) {
                offend(&k, "%s '%s' was accepted (%ld, id %s) but is not stored", kind_label[kind],
                       w->key, w->status, w->id);
            } else if (w->outcome == LOAD_ACCEPTED && !same_as_sent(w, row, why, sizeof(why))) {
                offend(&k, "%s '%s' (id %s) is stored otherwise than sent: %s", kind_label[kind],
                       w->key, w->id, why);
            } else if ((w->outcome == LOAD_REFUSED || w->outcome == LOAD_UNAVAILABLE) && row) {
                offend(&k, "%s '%s' was %s (status %ld) but is stored as %s", kind_label[kind],
                       w->key, outcome_label(w->outcome), w->status, col(row, 0));
            }
        }
        free(ix);
        json_decref(rows);
    }
    return check_end(&k);
}

struct write_index {
    const char *key;
    const struct load_write *w;
};

static int cmp_write(const void *a, const void *b)
{
    return strcmp(((const struct write_index *)a)->key, ((const struct write_index *)b)->key);
}

int ledger_nothing_stored_unasked(struct ledger *l, const struct load *load)
{
    struct check k;
    check_begin(&k, l, "everything stored was asked for");
    size_t nw;
    const struct load_write *writes = load_writes(load, &nw);
    struct write_index *wx = calloc(nw ? nw : 1, sizeof(*wx));
    if (!wx)
        fail_msg("out of memory");
    l->adopted = 0;
    static const enum load_kind kinds[] = {LOAD_USER, LOAD_PROVIDER, LOAD_OFFERING, LOAD_BOOKING};
    for (size_t ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++) {
        enum load_kind kind = kinds[ki];
        size_t n = 0;
        for (size_t i = 0; i < nw; i++)
            if (writes[i].kind == kind)
                wx[n++] = (struct write_index){writes[i].key, &writes[i]};
        qsort(wx, n, sizeof(*wx), cmp_write);
        json_t *rows = stored(kind);
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
            struct write_index probe = {col(row, 1), NULL};
            const struct write_index *hit = bsearch(&probe, wx, n, sizeof(*wx), cmp_write);
            if (!hit)
                offend(&k, "%s %s ('%s') is stored, but the load never sent it", kind_label[kind],
                       col(row, 0), col(row, 1));
            else if (hit->w->outcome == LOAD_UNKNOWN)
                l->adopted++;
            else if (hit->w->outcome == LOAD_ACCEPTED && strcmp(hit->w->id, col(row, 0)) != 0)
                offend(&k, "%s '%s' is stored as %s, the reply said %s", kind_label[kind],
                       col(row, 1), col(row, 0), hit->w->id);
        }
        json_decref(rows);
    }
    free(wx);
    return check_end(&k);
}

/* ------------------------------------------------------------ bookings and their effects */

int ledger_bookings_final(struct ledger *l)
{
    struct check k;
    check_begin(&k, l, "every booking is in exactly one final state");
    json_t *rows = e2e_rows(
        "WITH h AS (SELECT booking_id,"
        "   count(*) FILTER (WHERE event IN ('inventory.stock.debited',"
        "     'inventory.stock.reservation_failed', 'payment.payment.failed')) AS decisions,"
        "   count(DISTINCT status) FILTER (WHERE status <> 'pending') AS finals,"
        "   min(status) FILTER (WHERE status <> 'pending') AS final"
        "   FROM booking.booking_history GROUP BY booking_id),"
        " e AS (SELECT payload->'data'->>'booking_id' AS booking_id, count(*) AS n,"
        "   min(split_part(type, '.', 3)) AS final FROM booking.outbox WHERE type IN"
        "   ('booking.booking.confirmed', 'booking.booking.rejected', 'booking.booking.cancelled',"
        "    'booking.booking.expired') GROUP BY 1),"
        " c AS (SELECT payload->'data'->>'booking_id' AS booking_id, min(correlation_id) AS cid"
        "   FROM booking.outbox WHERE type = 'booking.booking.created' GROUP BY 1)"
        " SELECT b.id::text, b.status, coalesce(c.cid, '-'), coalesce(h.decisions, 0)::text,"
        "   coalesce(h.finals, 0)::text, coalesce(h.final, '-'), coalesce(e.n, 0)::text,"
        "   coalesce(e.final, '-')"
        " FROM booking.bookings b LEFT JOIN h ON h.booking_id = b.id"
        " LEFT JOIN e ON e.booking_id = b.id::text LEFT JOIN c ON c.booking_id = b.id::text"
        /* An expired booking was decided by its deadline: no deciding event is in its history. */
        " WHERE b.status = 'pending'"
        "   OR coalesce(h.decisions, 0) <> CASE WHEN b.status = 'expired' THEN 0 ELSE 1 END"
        "   OR coalesce(h.finals, 0) <> 1"
        "   OR h.final IS DISTINCT FROM b.status OR coalesce(e.n, 0) <> 1"
        "   OR e.final IS DISTINCT FROM b.status"
        " ORDER BY b.created_at",
        NULL, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) offend(
        &k,
        "booking %s (correlation %s) is %s: %s deciding event(s) in its history, final "
        "status(es) there %s (%s), %s final event(s) published (%s)",
        col(r, 0), col(r, 2), col(r, 1), col(r, 3), col(r, 4), col(r, 5), col(r, 6), col(r, 7));
    json_decref(rows);
    return check_end(&k);
}

int ledger_stock_balanced(struct ledger *l)
{
    struct check k;
    check_begin(&k, l, "per offering capacity = available + reserved + sold");
    json_t *rows = e2e_rows(
        "SELECT coalesce(s.offering_id, o.id)::text, coalesce(o.capacity::text, 'none'),"
        "  coalesce(s.capacity::text, 'none'), coalesce(s.available::text, '-'),"
        "  coalesce(s.reserved::text, '-'), coalesce(s.sold::text, '-'), coalesce(q.sold, 0)::text,"
        "  coalesce(s.version, 0)::text, coalesce(mv.n, 0)::text, coalesce(mv.maxseq, 0)::text"
        " FROM inventory.stock s FULL JOIN servicecatalog.offerings o ON o.id = s.offering_id"
        " LEFT JOIN (SELECT offering_id, sum(quantity) AS sold FROM booking.bookings"
        "   WHERE status = 'confirmed' GROUP BY 1) q ON q.offering_id = coalesce(s.offering_id, "
        "o.id)"
        " LEFT JOIN (SELECT offering_id, count(*) AS n, max(seq) AS maxseq FROM inventory.movements"
        "   GROUP BY 1) mv ON mv.offering_id = s.offering_id"
        " WHERE s.offering_id IS NULL OR o.id IS NULL"
        "   OR s.capacity <> s.available + s.reserved + s.sold OR s.available < 0 OR s.reserved <> "
        "0"
        "   OR s.sold < 0 OR s.capacity <> o.capacity OR s.sold <> coalesce(q.sold, 0)"
        "   OR s.version <> coalesce(mv.n, 0) OR coalesce(mv.maxseq, 0) <> coalesce(mv.n, 0)",
        NULL, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
        offend(&k,
               "offering %s: published capacity %s; stock capacity %s = available %s + reserved "
               "%s + sold %s?; units of confirmed bookings %s; stock version %s, %s movements "
               "(last seq %s)",
               col(r, 0), col(r, 1), col(r, 2), col(r, 3), col(r, 4), col(r, 5), col(r, 6),
               col(r, 7), col(r, 8), col(r, 9));
    json_decref(rows);
    return check_end(&k);
}

int ledger_stock_effects_once(struct ledger *l)
{
    struct check k;
    check_begin(&k, l, "each booking's stock effect happened once");
    json_t *rows = e2e_rows(
        "WITH m AS (SELECT booking_id, string_agg(kind, ',' ORDER BY kind) AS kinds"
        "   FROM inventory.movements GROUP BY booking_id)"
        " SELECT b.id::text, b.status, b.quantity::text, coalesce(r.status, 'none'),"
        "   coalesce(r.quantity::text, '-'), coalesce(m.kinds, 'none'),"
        "   CASE WHEN f.booking_id IS NULL THEN 'no refusal' ELSE 'a refusal' END"
        " FROM booking.bookings b LEFT JOIN inventory.reservations r ON r.booking_id = b.id"
        " LEFT JOIN m ON m.booking_id = b.id LEFT JOIN inventory.refusals f ON f.booking_id = b.id"
        " WHERE NOT coalesce("
        "   (b.status = 'confirmed' AND r.status = 'sold' AND r.quantity = b.quantity"
        "     AND m.kinds = 'reserve,sale' AND f.booking_id IS NULL)"
        "   OR (b.status = 'cancelled' AND r.status = 'released' AND r.quantity = b.quantity"
        "     AND m.kinds = 'release,reserve' AND f.booking_id IS NULL)"
        "   OR (b.status = 'rejected' AND r.booking_id IS NULL AND m.booking_id IS NULL"
        "     AND f.booking_id IS NOT NULL)"
        /* No stock held for an expired booking: nothing reserved, released, or sold and returned. */
        "   OR (b.status = 'expired' AND coalesce(r.status, 'released') = 'released'"
        "     AND coalesce(m.kinds, 'none') IN ('none', 'release,reserve', 'reserve,return,sale')),"
        "   false)"
        " UNION ALL"
        " SELECT x.booking_id::text, 'unknown to booking', '-', x.what, '-', '-', '-' FROM"
        "  (SELECT booking_id, 'a reservation' AS what FROM inventory.reservations UNION ALL"
        "   SELECT booking_id, 'a refusal' FROM inventory.refusals UNION ALL"
        "   SELECT booking_id, 'a ' || kind || ' movement' FROM inventory.movements) x"
        " WHERE NOT EXISTS (SELECT 1 FROM booking.bookings b WHERE b.id = x.booking_id)",
        NULL, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
        offend(&k, "booking %s (%s, %s units): reservation %s (%s units), movements %s, %s",
               col(r, 0), col(r, 1), col(r, 2), col(r, 3), col(r, 4), col(r, 5), col(r, 6));
    json_decref(rows);
    return check_end(&k);
}

int ledger_payments_once(struct ledger *l)
{
    struct check k;
    check_begin(&k, l, "one payment per booking that reached payment");
    char limit[32];
    snprintf(limit, sizeof(limit), "%d", LEDGER_PAYMENT_LIMIT_CENTS);
    json_t *rows = e2e_rows(
        "SELECT b.id::text, b.status, b.amount_cents::text, count(p.id)::text,"
        "   coalesce(string_agg(p.status || ' ' || p.amount_cents, ', '), 'none')"
        " FROM booking.bookings b LEFT JOIN payment.payments p ON p.booking_id = b.id"
        " GROUP BY b.id, b.status, b.amount_cents"
        " HAVING NOT coalesce(count(p.id) = 1 AND max(p.amount_cents) = b.amount_cents AND ("
        "   (b.status = 'confirmed' AND max(p.status) = 'succeeded' AND b.amount_cents <= "
        "$1::bigint)"
        "   OR (b.status = 'cancelled' AND max(p.status) = 'failed' AND b.amount_cents > "
        "$1::bigint)"
        "   OR (b.status = 'rejected' AND max(p.status) = 'intent')"
        /* No money kept for an expired booking: voided, refunded, or never taken (declined). */
        "   OR (b.status = 'expired' AND max(p.status) IN ('voided', 'refunded', 'failed'))), "
        "false)"
        " UNION ALL"
        " SELECT p.booking_id::text, 'unknown to booking', p.amount_cents::text, '1', p.status"
        " FROM payment.payments p"
        " WHERE NOT EXISTS (SELECT 1 FROM booking.bookings b WHERE b.id = p.booking_id)",
        limit, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
        offend(&k, "booking %s (%s, amount %s, limit %s): %s payment(s): %s", col(r, 0), col(r, 1),
               col(r, 2), limit, col(r, 3), col(r, 4));
    json_decref(rows);
    return check_end(&k);
}

int ledger_notifications_once(struct ledger *l)
{
    struct check k;
    check_begin(&k, l, "one notification per final booking");
    json_t *rows = e2e_rows(
        "SELECT b.id::text, 'booking ' || b.status, count(n.id)::text,"
        "   coalesce(string_agg(n.kind || ' to ' || n.user_id, ', '), 'none')"
        " FROM booking.bookings b LEFT JOIN notification.notifications n ON n.reference_id = b.id"
        " GROUP BY b.id, b.status, b.user_id"
        " HAVING NOT coalesce(count(n.id) = 1 AND max(n.kind) = 'booking_' || b.status"
        "   AND bool_and(n.user_id = b.user_id), false)"
        " UNION ALL"
        " SELECT u.id::text, 'provider owner', count(n.id)::text, coalesce(string_agg(n.kind, ', "
        "'), 'none')"
        " FROM usermanagement.users u LEFT JOIN notification.notifications n ON n.reference_id = "
        "u.id"
        " WHERE 'provider' = ANY (u.roles) GROUP BY u.id"
        " HAVING NOT coalesce(count(n.id) = 1 AND max(n.kind) = 'welcome', false)"
        " UNION ALL"
        " SELECT n.reference_id::text, 'nothing known', '1', n.kind || ' ' || n.id"
        " FROM notification.notifications n"
        " WHERE NOT EXISTS (SELECT 1 FROM booking.bookings b WHERE b.id = n.reference_id)"
        "   AND NOT EXISTS (SELECT 1 FROM usermanagement.users u WHERE u.id = n.reference_id"
        "     AND 'provider' = ANY (u.roles))",
        NULL, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r)
        offend(&k, "%s (%s): %s notification(s): %s", col(r, 0), col(r, 1), col(r, 2), col(r, 3));
    json_decref(rows);
    return check_end(&k);
}

int ledger_registrations_complete(struct ledger *l)
{
    struct check k;
    check_begin(&k, l, "registrations reached every replica");
    json_t *rows = e2e_rows(
        "SELECT u.id::text, 'user missing from servicecatalog.known_users' FROM "
        "usermanagement.users u"
        " WHERE NOT EXISTS (SELECT 1 FROM servicecatalog.known_users x WHERE x.user_id = u.id)"
        " UNION ALL SELECT u.id::text, 'user missing from notification.recipients (or another "
        "e-mail)'"
        " FROM usermanagement.users u WHERE NOT EXISTS (SELECT 1 FROM notification.recipients x"
        "   WHERE x.user_id = u.id AND x.email = u.email)"
        " UNION ALL SELECT x.user_id::text, 'servicecatalog knows a user usermanagement does not "
        "have'"
        " FROM servicecatalog.known_users x"
        " WHERE NOT EXISTS (SELECT 1 FROM usermanagement.users u WHERE u.id = x.user_id)"
        " UNION ALL SELECT x.user_id::text, 'notification knows a user usermanagement does not "
        "have'"
        " FROM notification.recipients x"
        " WHERE NOT EXISTS (SELECT 1 FROM usermanagement.users u WHERE u.id = x.user_id)"
        " UNION ALL SELECT u.id::text, format('owner of %s provider(s), %s active: roles %s,"
        "   provider_status %s', count(p.id), count(p.id) FILTER (WHERE p.status = 'active'),"
        "   u.roles, u.provider_status)"
        " FROM usermanagement.users u LEFT JOIN servicecatalog.providers p ON p.owner_id = u.id"
        " GROUP BY u.id, u.roles, u.provider_status"
        " HAVING NOT ((count(p.id) = 0 AND u.roles = '{}' AND u.provider_status = 'none')"
        "   OR (count(p.id) > 0 AND 'provider' = ANY (u.roles) AND u.provider_status ="
        "     CASE WHEN count(p.id) FILTER (WHERE p.status = 'active') > 0 THEN 'active'"
        "     ELSE 'pending' END))"
        " UNION ALL SELECT o.id::text, 'offering missing from booking.offerings (or another price)'"
        " FROM servicecatalog.offerings o WHERE NOT EXISTS (SELECT 1 FROM booking.offerings x"
        "   WHERE x.offering_id = o.id AND x.price_cents = o.price_cents)",
        NULL, NULL);
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) offend(&k, "%s: %s", col(r, 0), col(r, 1));
    json_decref(rows);
    return check_end(&k);
}

/* ------------------------------------------------------------ events */

int ledger_outbox_published(struct ledger *l)
{
    struct check k;
    check_begin(&k, l, "every outbox row is published");
    for (int c = 0; c < E2E_NCTX; c++) {
        char sql[512];
        snprintf(sql, sizeof(sql),
                 "SELECT id::text, type, correlation_id, status, attempts::text,"
                 " coalesce(last_error, '') FROM %s.outbox WHERE status <> 'published'"
                 " ORDER BY created_at",
                 name_of(c));
        json_t *rows = e2e_rows(sql, NULL, NULL);
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
            offend(&k, "%s.outbox: event %s (%s, correlation %s) is %s after %s attempts %s",
                   name_of(c), col(r, 0), col(r, 1), col(r, 2), col(r, 3), col(r, 4), col(r, 5));
        json_decref(rows);
    }
    return check_end(&k);
}

/* "{a,b}" of the types context c subscribes to; with prefix, only those of that publisher. */
static void subscribed_types(enum e2e_ctx c, const char *publisher, char *out, size_t outlen)
{
    size_t n;
    const struct subscription *s = ledger_subscriptions(c, &n);
    snprintf(out, outlen, "{");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        const char *t = s[i].event->type;
        if (publisher &&
            (strncmp(t, publisher, strlen(publisher)) != 0 || t[strlen(publisher)] != '.'))
            continue;
        size_t len = strlen(out);
        snprintf(out + len, outlen - len, "%s%s", first ? "" : ",", t);
        first = false;
    }
    size_t len = strlen(out);
    snprintf(out + len, outlen - len, "}");
}

int ledger_events_consumed(struct ledger *l)
{
    struct check k;
    check_begin(&k, l, "every published event is processed or dead-lettered with a reason");
    char sql[LEDGER_SQL_MAX], types[2048];
    for (int c = 0; c < E2E_NCTX; c++) {
        for (int p = 0; p < E2E_NCTX; p++) {
            subscribed_types(c, name_of(p), types, sizeof(types));
            if (strcmp(types, "{}") == 0)
                continue;
            snprintf(
                sql, sizeof(sql),
                "SELECT o.id::text, o.type, o.correlation_id, coalesce(i.status, 'missing'),"
                "  coalesce(i.last_error, '') FROM %s.outbox o LEFT JOIN %s.inbox i"
                "  ON i.id = o.id AND i.consumer = $2"
                " WHERE o.type = ANY ($1::text[]) AND (i.id IS NULL OR NOT (i.status = 'processed'"
                "  OR (i.status = 'dead' AND coalesce(i.last_error, '') <> '')))"
                " ORDER BY o.created_at",
                name_of(p), name_of(c));
            json_t *rows = e2e_rows(sql, types, name_of(c));
            size_t i;
            json_t *r;
            json_array_foreach(rows, i, r) offend(
                &k, "event %s (%s, correlation %s) published by %s: %s.inbox has it %s %s",
                col(r, 0), col(r, 1), col(r, 2), name_of(p), name_of(c), col(r, 3), col(r, 4));
            json_decref(rows);
        }
        /* The other way: nothing in the inbox that no outbox published or the context does not take. */
        char exists[2048] = "";
        for (int p = 0; p < E2E_NCTX; p++) {
            size_t len = strlen(exists);
            snprintf(exists + len, sizeof(exists) - len,
                     "%sNOT EXISTS (SELECT 1 FROM %s.outbox o WHERE o.id = i.id)", p ? " AND " : "",
                     name_of(p));
        }
        subscribed_types(c, NULL, types, sizeof(types));
        snprintf(sql, sizeof(sql),
                 "SELECT i.id::text, i.type, i.status, i.consumer FROM %s.inbox i"
                 " WHERE i.consumer <> $2 OR NOT (i.type = ANY ($1::text[])) OR (%s)",
                 name_of(c), exists);
        json_t *rows = e2e_rows(sql, types, name_of(c));
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
            offend(&k,
                   "%s.inbox holds event %s (%s, %s, consumer %s) that no outbox published or "
                   "that %s does not subscribe to",
                   name_of(c), col(r, 0), col(r, 1), col(r, 2), col(r, 3), name_of(c));
        json_decref(rows);
    }
    return check_end(&k);
}

/* The facts the domain makes unique: at most one event per key among types, in one outbox. */
static const struct fact {
    const char *context;
    const char *types;
    const char *key;
    const char *what;
} facts[] = {
    {"usermanagement", "{usermanagement.user.registered}", "payload->'data'->>'user_id'",
     "registration of user"},
    {"usermanagement", "{usermanagement.user.role_granted}",
     "(payload->'data'->>'user_id') || ' ' || (payload->'data'->>'role')", "grant of role to user"},
    {"servicecatalog", "{servicecatalog.provider.registered}", "payload->'data'->>'provider_id'",
     "registration of provider"},
    {"servicecatalog", "{servicecatalog.provider.activated}", "payload->'data'->>'provider_id'",
     "activation of provider"},
    {"servicecatalog", "{servicecatalog.offering.published}", "payload->'data'->>'offering_id'",
     "publication of offering"},
    {"booking", "{booking.booking.created}", "payload->'data'->>'booking_id'",
     "creation of booking"},
    {"booking",
     "{booking.booking.confirmed,booking.booking.rejected,booking.booking.cancelled,"
     "booking.booking.expired}",
     "payload->'data'->>'booking_id'", "final state of booking"},
    {"inventory", "{inventory.stock.reserved,inventory.stock.reservation_failed}",
     "payload->'data'->>'booking_id'", "reservation decision for booking"},
    /* Separate: a sale of a booking that then expires is returned (debited, then released). */
    {"inventory", "{inventory.stock.debited}", "payload->'data'->>'booking_id'",
     "sale of the reservation of booking"},
    {"inventory", "{inventory.stock.released}", "payload->'data'->>'booking_id'",
     "release of the stock of booking"},
    {"payment", "{payment.payment.succeeded,payment.payment.failed}",
     "payload->'data'->>'booking_id'", "payment decision for booking"},
    {"payment", "{payment.payment.refunded}", "payload->'data'->>'booking_id'",
     "refund for booking"},
    {"notification", "{notification.notification.sent}",
     "(payload->'data'->>'kind') || ' about ' || (payload->'data'->>'reference_id')",
     "notification"},
};

int ledger_facts_published_once(struct ledger *l)
{
    struct check k;
    check_begin(&k, l, "no fact was published twice");
    for (size_t f = 0; f < sizeof(facts) / sizeof(facts[0]); f++) {
        char sql[1024];
        snprintf(sql, sizeof(sql),
                 "SELECT k, count(*)::text, string_agg(type || ' ' || id, ', ' ORDER BY created_at)"
                 " FROM (SELECT %s AS k, type, id::text AS id, created_at FROM %s.outbox"
                 "  WHERE type = ANY ($1::text[])) x GROUP BY k HAVING count(*) > 1",
                 facts[f].key, facts[f].context);
        json_t *rows = e2e_rows(sql, facts[f].types, NULL);
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
            offend(&k, "%s %s published %s times by %s: %s", facts[f].what, col(r, 0), col(r, 1),
                   facts[f].context, col(r, 2));
        json_decref(rows);
    }
    return check_end(&k);
}

/* ------------------------------------------------------------ dead letters and poison */

static const struct inject_poison *find_poison(const struct injected *inj, const char *id,
                                               size_t *index)
{
    for (size_t i = 0; inj && i < inj->npoison; i++)
        if (strcmp(inj->poison[i].id, id) == 0) {
            *index = i;
            return &inj->poison[i];
        }
    return NULL;
}

/* Whether an earlier check read id from c's dead-letter queue; remember = 1 records it. */
static bool dead_letter_seen(struct ledger *l, int c, const char *id, int remember)
{
    char key[BUS_ID_LEN + 64];
    snprintf(key, sizeof(key), "%s/%s", name_of(c), id);
    if (remember) {
        if (!l->dl_seen && !(l->dl_seen = json_object()))
            fail_msg("out of memory");
        json_object_set_new(l->dl_seen, key, json_true());
    }
    return l->dl_seen && json_object_get(l->dl_seen, key);
}

int ledger_dead_letters_explained(struct ledger *l, const struct injected *inj)
{
    struct check k;
    check_begin(&k, l, "poison is in the dead letters, and every dead letter is explained");
    size_t npoison = inj ? inj->npoison : 0;
    unsigned *found = calloc(npoison ? npoison : 1, sizeof(unsigned));
    if (!found)
        fail_msg("out of memory");
    l->dl_poison = l->dl_failed = 0;
    for (int c = 0; c < E2E_NCTX; c++) {
        long need = 0, got = 0;
        for (size_t i = 0; i < npoison; i++)
            if (inj->poison[i].expected & (1u << c))
                need++;
        char queue[64];
        snprintf(queue, sizeof(queue), "%s.dead-letter", name_of(c));
        for (size_t i = 0; i < npoison; i++)
            if ((inj->poison[i].expected & (1u << c)) &&
                dead_letter_seen(l, c, inj->poison[i].id, 0)) {
                found[i] |= 1u << c; /* read by an earlier check */
                got++;
            }
        struct err err;
        err_clear(&err);
        struct bus *bus = bus_new(&(struct bus_config){
            .url = fault_amqp_url(), .prefetch = 512, .connection_name = "fault ledger"});
        /* A failed attempt moves the bus to AMQP_URL's next node: try each node once. */
        int connected = -1;
        for (int attempt = 0; bus && connected != 0 && attempt < BUS_NODES_MAX; attempt++)
            connected = bus_connect(bus, &err);
        if (connected != 0 || bus_consume(bus, queue, &err) != 0) {
            offend(&k, "cannot read %s: %s", queue, err.msg);
            bus_free(bus);
            continue;
        }
        json_t *dead = json_array(); /* ids of the copies of dead rows seen */
        int64_t deadline = testlib_now_ms() + LEDGER_DL_WAIT_MS;
        for (;;) {
            struct bus_delivery d = {0};
            int rc = bus_next(bus, &d, LEDGER_DL_IDLE_MS, &err);
            if (rc < 0) {
                offend(&k, "reading %s: %s", queue, err.msg);
                break;
            }
            if (rc == 0) {
                if (got >= need || testlib_now_ms() > deadline)
                    break;
                continue;
            }
            const struct bus_delivery_header *hp = bus_delivery_header(&d, "x-poison");
            const struct bus_delivery_header *he = bus_delivery_header(&d, "x-error");
            const char *error = he ? he->value : "";
            bool poison = hp && hp->is_int && hp->int_value == 1;
            size_t pi = 0;
            const struct inject_poison *p = find_poison(inj, d.message_id, &pi);
            dead_letter_seen(l, c, d.message_id, 1);
            if (poison) {
                l->dl_poison++;
                if (!p)
                    offend(&k, "%s holds message %s (%s) flagged poison that was not injected: %s",
                           queue, d.message_id, d.routing_key, error);
                else if (!(p->expected & (1u << c)))
                    offend(&k, "poison %s (%s, to %s) reached %s, which is not bound to it", p->id,
                           inject_poison_kind_name(p->kind), p->routing_key, queue);
                else if (!(found[pi] & (1u << c))) {
                    found[pi] |= 1u << c;
                    got++;
                }
                if (!error[0])
                    offend(&k, "poison %s in %s has no x-error", d.message_id, queue);
            } else {
                l->dl_failed++;
                if (p)
                    offend(&k, "poison %s (%s) reached %s without x-poison: %s", p->id,
                           inject_poison_kind_name(p->kind), queue, error);
                else
                    json_array_append_new(dead, json_string(d.message_id));
                if (!error[0])
                    offend(&k, "dead letter %s in %s has no x-error", d.message_id, queue);
            }
            bus_ack(bus, d.tag, 0, &err);
            bus_delivery_release(&d);
        }
        bus_free(bus);

        /* Each dead inbox row has a reason and its copy came through; each copy has its row. */
        char sql[512];
        snprintf(
            sql, sizeof(sql),
            "SELECT id::text, type, coalesce(last_error, ''), (dead_lettered_at IS NOT NULL)::text"
            " FROM %s.inbox WHERE status = 'dead'",
            name_of(c));
        json_t *rows = e2e_rows(sql, NULL, NULL);
        size_t i, j;
        json_t *r, *id;
        json_array_foreach(rows, i, r)
        {
            bool seen = dead_letter_seen(l, c, col(r, 0), 0); /* this read or an earlier one */
            if (!col(r, 2)[0] || strcmp(col(r, 3), "true") != 0 || !seen)
                offend(&k, "%s.inbox: dead event %s (%s): reason '%s', copy %s", name_of(c),
                       col(r, 0), col(r, 1), col(r, 2),
                       seen ? "in the queue" : "not found in the dead-letter queue");
        }
        json_array_foreach(dead, j, id)
        {
            bool has_row = false;
            json_array_foreach(rows, i, r) has_row =
                has_row || strcmp(json_string_value(id), col(r, 0)) == 0;
            if (!has_row)
                offend(&k, "%s holds dead letter %s, but %s.inbox has no dead row for it", queue,
                       json_string_value(id), name_of(c));
        }
        json_decref(rows);
        json_decref(dead);

        /*
         * Every poison is recorded once in the context's own database (D1): no
         * copy only in the broker, no letter recorded twice, none unexplained.
         */
        snprintf(sql, sizeof(sql),
                 "SELECT message_id, count(*)::text, min(reason), bool_and(dead_lettered_at IS NOT "
                 "NULL)::text"
                 " FROM %s.dead_letter GROUP BY message_id",
                 name_of(c));
        rows = e2e_rows(sql, NULL, NULL);
        unsigned *recorded = calloc(npoison ? npoison : 1, sizeof(unsigned));
        if (!recorded)
            fail_msg("out of memory");
        json_array_foreach(rows, i, r)
        {
            size_t pi = 0;
            const struct inject_poison *p = find_poison(inj, col(r, 0), &pi);
            if (!p)
                offend(&k, "%s.dead_letter records message %s that was not injected: %s",
                       name_of(c), col(r, 0), col(r, 2));
            else if (strcmp(col(r, 1), "1") != 0)
                offend(&k, "%s.dead_letter records poison %s %s times", name_of(c), p->id,
                       col(r, 1));
            else if (strcmp(col(r, 3), "true") != 0)
                offend(&k, "%s.dead_letter: the copy of poison %s never reached the queue",
                       name_of(c), p->id);
            if (p)
                recorded[pi] = 1;
        }
        for (size_t pi = 0; pi < npoison; pi++)
            if ((inj->poison[pi].expected & (1u << c)) && !recorded[pi])
                offend(&k, "poison %s (%s, routing key %s) is not recorded in %s.dead_letter",
                       inj->poison[pi].id, inject_poison_kind_name(inj->poison[pi].kind),
                       inj->poison[pi].routing_key, name_of(c));
        free(recorded);
        json_decref(rows);
    }
    for (size_t i = 0; i < npoison; i++) {
        unsigned missing = inj->poison[i].expected & ~found[i];
        for (int c = 0; c < E2E_NCTX; c++)
            if (missing & (1u << c))
                offend(&k, "poison %s (%s, routing key %s) never reached %s.dead-letter",
                       inj->poison[i].id, inject_poison_kind_name(inj->poison[i].kind),
                       inj->poison[i].routing_key, name_of(c));
    }
    free(found);
    return check_end(&k);
}

int ledger_poison_nowhere_else(struct ledger *l, const struct injected *inj)
{
    struct check k;
    check_begin(&k, l, "poison is nowhere but in the dead letters (queues and dead_letter tables)");
    if (!inj || !inj->npoison)
        return check_end(&k);
    size_t cap = (inj->npoison + 1) * (INJECT_ID_LEN + 1) + 4;
    char *needles = malloc(cap);
    if (!needles)
        fail_msg("out of memory");
    snprintf(needles, cap, "{%s", inj->marker);
    for (size_t i = 0; i < inj->npoison; i++) {
        size_t len = strlen(needles);
        snprintf(needles + len, cap - len, ",%s", inj->poison[i].id);
    }
    strcat(needles, "}");
    for (int c = 0; c < E2E_NCTX; c++) {
        json_t *tables = e2e_rows("SELECT table_name::text FROM information_schema.tables"
                                  " WHERE table_schema = $1 AND table_type = 'BASE TABLE'"
                                  "   AND table_name <> 'dead_letter'",
                                  name_of(c), NULL);
        size_t i;
        json_t *t;
        json_array_foreach(tables, i, t)
        {
            char sql[512];
            snprintf(sql, sizeof(sql),
                     "SELECT x, count(*)::text FROM \"%s\".\"%s\" AS t, unnest($1::text[]) AS x"
                     " WHERE strpos(t::text, x) > 0 GROUP BY x",
                     name_of(c), col(t, 0));
            json_t *rows = e2e_rows(sql, needles, NULL);
            size_t j;
            json_t *r;
            json_array_foreach(rows, j, r)
                offend(&k, "%s %s is in %s.%s (%s rows)",
                       strcmp(col(r, 0), inj->marker) == 0 ? "the poison marker" : "poison message",
                       col(r, 0), name_of(c), col(t, 0), col(r, 1));
            json_decref(rows);
        }
        json_decref(tables);
    }
    free(needles);
    return check_end(&k);
}

int ledger_duplicates_absorbed(struct ledger *l, const struct injected *inj)
{
    struct check k;
    check_begin(&k, l, "duplicates had no second effect");
    if (!inj || !inj->ndups)
        return check_end(&k);
    int64_t deadline = testlib_now_ms() + LEDGER_DUP_WAIT_MS;
    long long absorbed;
    while ((absorbed = fault_metric_total("events_duplicates_total") - inj->dup_baseline) <
               inj->dup_deliveries &&
           testlib_now_ms() < deadline)
        testlib_sleep_ms(100);
    l->dup_absorbed = absorbed;
    if (absorbed < inj->dup_deliveries)
        offend(&k,
               "the inboxes absorbed %lld duplicate deliveries (events_duplicates_total) within "
               "%d ms; the %zu events copied %d times each make %lld",
               absorbed, LEDGER_DUP_WAIT_MS, inj->ndups, inj->copies, inj->dup_deliveries);
    for (size_t i = 0; i < inj->ndups; i++) {
        const struct inject_duplicate *d = &inj->dups[i];
        for (int c = 0; c < E2E_NCTX; c++) {
            if (!(d->subscribers & (1u << c)))
                continue;
            char sql[256];
            snprintf(sql, sizeof(sql),
                     "SELECT status, attempts::text, coalesce(last_error, '') FROM %s.inbox"
                     " WHERE id = $1::uuid",
                     name_of(c));
            json_t *rows = e2e_rows(sql, d->id, NULL);
            const json_t *r = json_array_get(rows, 0);
            if (json_array_size(rows) != 1 || strcmp(col(r, 0), "processed") != 0)
                offend(&k,
                       "duplicated event %s (%s): %s.inbox has %zu row(s), %s after %s attempts %s",
                       d->id, d->type, name_of(c), json_array_size(rows), r ? col(r, 0) : "-",
                       r ? col(r, 1) : "-", r ? col(r, 2) : "");
            json_decref(rows);
        }
    }
    return check_end(&k);
}

/* ------------------------------------------------------------------ verdict */

static long long total(const char *fmt)
{
    char sql[LEDGER_SQL_MAX];
    sum_over_schemas(sql + 7, sizeof(sql) - 7, fmt);
    memcpy(sql, "SELECT ", 7);
    return (long long)e2e_count(sql, NULL, NULL);
}

void ledger_check_all(struct ledger *l, const struct load *load, const struct injected *inj,
                      double quiet_s, const char *faults)
{
    ledger_accepted_writes_stored(l, load);
    ledger_nothing_stored_unasked(l, load);
    ledger_bookings_final(l);
    ledger_stock_balanced(l);
    ledger_stock_effects_once(l);
    ledger_payments_once(l);
    ledger_notifications_once(l);
    ledger_registrations_complete(l);
    ledger_outbox_published(l);
    ledger_events_consumed(l);
    ledger_facts_published_once(l);
    ledger_dead_letters_explained(l, inj);
    if (inj && inj->npoison)
        ledger_poison_nowhere_else(l, inj);
    if (inj && inj->ndups)
        ledger_duplicates_absorbed(l, inj);

    char sent[1024];
    load_describe(load, sent, sizeof(sent));
    long long published = total("SELECT count(*) FROM @.outbox WHERE status = 'published'");
    long long processed = total("SELECT count(*) FROM @.inbox WHERE status = 'processed'");
    long long dead = total("SELECT count(*) FROM @.inbox WHERE status = 'dead'");
    char finals[256];
    e2e_value("SELECT concat_ws(' ', count(*) FILTER (WHERE status = 'confirmed'), 'confirmed,',"
              " count(*) FILTER (WHERE status = 'rejected'), 'rejected,',"
              " count(*) FILTER (WHERE status = 'cancelled'), 'cancelled,',"
              " count(*) FILTER (WHERE status = 'expired'), 'expired,',"
              " count(*) FILTER (WHERE status = 'pending'), 'pending') FROM booking.bookings",
              NULL, NULL, finals, sizeof(finals));
    long long duplicates = fault_metric_total("events_duplicates_total");
    fault_report("sent: %s", sent);
    fault_report("bookings: %s; stored with an unknown HTTP outcome: %ld", finals, l->adopted);
    fault_report("events: %lld published, %lld processed, %lld dead; duplicates absorbed: %lld "
                 "(events_duplicates_total); dead-lettered: %ld poison + %ld failed copies; "
                 "time to quiet: %.1f s",
                 published, processed, dead, duplicates, l->dl_poison, l->dl_failed, quiet_s);
    if (inj && inj->npoison)
        fault_report("injected: %zu poison messages (%d kinds), %ld copies dead-lettered",
                     inj->npoison, POISON_NKINDS, l->dl_poison);
    if (inj && inj->ndups)
        fault_report("injected: %zu events × %d copies = %lld duplicate deliveries, %lld absorbed",
                     inj->ndups, inj->copies, inj->dup_deliveries, l->dup_absorbed);
    fault_report("faults: %s", faults);
    fault_report("ledger: %d invariants checked, %d broken", l->nchecked, l->nbroken);
    if (l->nbroken) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/ledger-failures.txt", fault_out_dir());
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "%s\n", l->broken);
            fclose(f);
        }
        fail_msg("scenario '%s': %d ledger invariant(s) broken (service logs in %s):%s",
                 fault_scenario(), l->nbroken, fault_out_dir(), l->broken);
    }
}
