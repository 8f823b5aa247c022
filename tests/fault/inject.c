/*
 * inject.c - see inject.h.
 *
 * Poison bodies are written by hand (jansson), not with envelope_build(),
 * because most of them must be what envelope_build() refuses to make. Every
 * poison body carries the injection's marker, so the ledger can look for it
 * in every table afterwards.
 */
#include "inject.h"

#include "fault.h"
#include "ledger.h"

#include "common/envelope.h"
#include "common/uuid7.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[POISON_NKINDS] = {
    "not_json",     "not_a_cloudevent", "unknown_type", "unknown_version", "data_breaks_contract",
    "wrong_source", "too_large",        "not_utf8",
};

const char *inject_poison_kind_name(enum inject_poison_kind kind)
{
    return kind >= 0 && kind < POISON_NKINDS ? kind_names[kind] : "?";
}

void inject_init(struct injected *inj)
{
    memset(inj, 0, sizeof(*inj));
    if (uuid7_generate(inj->marker) != 0)
        fail_msg("uuid7_generate failed");
}

void inject_release(struct injected *inj)
{
    free(inj->poison);
    free(inj->dups);
    memset(inj, 0, sizeof(*inj));
}

/* A CloudEvent with every attribute right but type, dataschema and data (new reference). */
static json_t *cloudevent(const char *id, const char *type, int version, json_t *data,
                          const char *marker)
{
    char source[ENVELOPE_CONTEXT_MAX + 2], schema[ENVELOPE_TYPE_MAX + 32], time[ENVELOPE_TIME_MAX];
    snprintf(source, sizeof(source), "/%.*s", (int)strcspn(type, "."), type);
    snprintf(schema, sizeof(schema), "urn:event:%s:%d", type, version);
    envelope_time_now(time);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "specversion", "1.0",
                     "id", id, "source", source, "type", type, "time", time, "datacontenttype",
                     "application/json", "dataschema", schema, "correlationid", marker,
                     "causationid", id, "data", data);
}

/* The body of one poison message of kind for routing key rk (new; free() it). */
static char *poison_body(enum inject_poison_kind kind, const char *id, const char *rk, int version,
                         const char *marker)
{
    json_t *ev = NULL;
    char *text = NULL, type[INJECT_TYPE_LEN];
    switch (kind) {
    case POISON_NOT_JSON:
        text = malloc(160);
        if (text)
            snprintf(text, 160, "fault poison %s %s: {this is not JSON", marker, id);
        return text;
    case POISON_NOT_CLOUDEVENT:
        ev = json_pack("{s:s, s:s, s:s}", "id", id, "fault_poison", marker, "note",
                       "JSON, but no specversion, source, type or data");
        break;
    case POISON_UNKNOWN_TYPE:
        snprintf(type, sizeof(type), "%.*s.fault.unknown_thing", (int)strcspn(rk, "."), rk);
        ev = cloudevent(id, type, 1, json_pack("{s:s}", "fault_poison", marker), marker);
        break;
    case POISON_UNKNOWN_VERSION:
        ev = cloudevent(id, rk, version + 98, json_pack("{s:s}", "fault_poison", marker), marker);
        break;
    case POISON_BAD_DATA:
        /* Every contract has required fields: data with none of them breaks it. */
        ev = cloudevent(id, rk, version, json_pack("{s:s}", "fault_poison", marker), marker);
        break;
    case POISON_WRONG_SOURCE:
        /* Valid in every other way a body can be here; its source is not the type's publisher. */
        ev = cloudevent(id, rk, version, json_pack("{s:s}", "fault_poison", marker), marker);
        json_object_set_new(ev, "source", json_string("/fault"));
        break;
    case POISON_TOO_LARGE: {
        size_t big = ENVELOPE_BODY_MAX + 4096;
        text = malloc(big + 1);
        if (text) {
            int n = snprintf(text, big + 1, "{\"fault_poison\":\"%s\",\"id\":\"%s\",\"pad\":\"",
                             marker, id);
            memset(text + n, 'x', big - (size_t)n - 2);
            memcpy(text + big - 2, "\"}", 3);
        }
        return text;
    }
    case POISON_NOT_UTF8:
        text = malloc(160);
        if (text)
            snprintf(text, 160, "fault poison %s %s: \xff\xfe\xc0\x80 not UTF-8", marker, id);
        return text;
    case POISON_NKINDS: break;
    }
    if (ev)
        text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    return text;
}

void inject_poison_everywhere(struct injected *inj)
{
    /* Every routing key some context is bound to, once, with the version its consumers know. */
    const char *keys[128];
    int versions[128];
    size_t nkeys = 0;
    for (int c = 0; c < E2E_NCTX; c++) {
        size_t n;
        const struct subscription *s = ledger_subscriptions(c, &n);
        for (size_t i = 0; i < n; i++) {
            bool seen = false;
            for (size_t j = 0; j < nkeys; j++)
                seen = seen || strcmp(keys[j], s[i].event->type) == 0;
            if (!seen && nkeys < 128) {
                versions[nkeys] = s[i].event->version;
                keys[nkeys++] = s[i].event->type;
            }
        }
    }
    size_t total = inj->npoison + nkeys * POISON_NKINDS;
    struct inject_poison *p = realloc(inj->poison, total * sizeof(*p));
    if (!p)
        fail_msg("out of memory");
    inj->poison = p;
    for (size_t k = 0; k < nkeys; k++) {
        for (int kind = 0; kind < POISON_NKINDS; kind++) {
            struct inject_poison *q = &inj->poison[inj->npoison];
            memset(q, 0, sizeof(*q));
            if (uuid7_generate(q->id) != 0)
                fail_msg("uuid7_generate failed");
            q->kind = kind;
            snprintf(q->routing_key, sizeof(q->routing_key), "%s", keys[k]);
            q->expected = ledger_subscribers(keys[k]);
            char *body = poison_body(kind, q->id, keys[k], versions[k], inj->marker);
            if (!body)
                fail_msg("out of memory building poison");
            fault_publish(keys[k], body, strlen(body), q->id, keys[k], inj->marker, "fault");
            free(body);
            inj->npoison++;
        }
    }
}

void inject_duplicates(struct injected *inj, int n, int copies)
{
    inj->copies = copies;
    if (!inj->ndups) /* the first wave: later waves add to the same expectation */
        inj->dup_baseline = fault_metric_total("events_duplicates_total");
    int per_context = (n + E2E_NCTX - 1) / E2E_NCTX;
    char limit[16];
    snprintf(limit, sizeof(limit), "%d", per_context);
    struct inject_duplicate *d =
        realloc(inj->dups, (inj->ndups + (size_t)per_context * E2E_NCTX) * sizeof(*d));
    if (!d)
        fail_msg("out of memory");
    inj->dups = d;
    for (int c = 0; c < E2E_NCTX; c++) {
        char sql[256];
        snprintf(sql, sizeof(sql),
                 "SELECT id::text, type, correlation_id, payload::text FROM %s.outbox"
                 " WHERE status = 'published' ORDER BY random() LIMIT $1::int",
                 e2e_ctx_name(c));
        json_t *rows = e2e_rows(sql, limit, NULL);
        size_t i;
        json_t *r;
        json_array_foreach(rows, i, r)
        {
            const char *id = json_string_value(json_array_get(r, 0));
            const char *type = json_string_value(json_array_get(r, 1));
            const char *cid = json_string_value(json_array_get(r, 2));
            const char *body = json_string_value(json_array_get(r, 3));
            struct inject_duplicate *dup = &inj->dups[inj->ndups++];
            snprintf(dup->id, sizeof(dup->id), "%s", id);
            snprintf(dup->type, sizeof(dup->type), "%s", type);
            dup->subscribers = ledger_subscribers(type);
            for (int k = 0; k < copies; k++)
                fault_publish(type, body, strlen(body), id, type, cid, e2e_ctx_name(c));
            inj->dup_deliveries += (long long)copies * __builtin_popcount(dup->subscribers);
        }
        json_decref(rows);
    }
}
