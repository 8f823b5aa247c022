/*
 * envelope.c - CloudEvents 1.0 structured-mode JSON: build, serialise, parse,
 * validate (SPEC §2).
 *
 * Parsing is strict about what we rely on (required attributes, their types
 * and bounds, specversion "1.0", our dataschema form) and tolerant of the
 * rest (unknown extension attributes are ignored), so a newer producer does
 * not turn into poison for an older consumer.
 */
#include "common/envelope.h"

#include "common/trace.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DATASCHEMA_PREFIX "urn:event:"
#define DATASCHEMA_MAX    (sizeof(DATASCHEMA_PREFIX) + ENVELOPE_TYPE_MAX + 12)
#define VERSION_MAX       999

void envelope_init(struct envelope *ev)
{
    memset(ev, 0, sizeof(*ev));
}

void envelope_release(struct envelope *ev)
{
    json_decref(ev->data);
    memset(ev, 0, sizeof(*ev));
}

/* A context name: [a-z][a-z0-9_]*, at most ENVELOPE_CONTEXT_MAX. */
static int context_is_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ENVELOPE_CONTEXT_MAX || !islower((unsigned char)s[0]))
        return 0;
    for (size_t i = 1; i < n; i++)
        if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_')
            return 0;
    return 1;
}

/* An event type: three or more dot-separated context-like words, e.g. booking.booking.created. */
static int type_is_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ENVELOPE_TYPE_MAX)
        return 0;
    int words = 1;
    char prev = '.';
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '.') {
            if (prev == '.')
                return 0;
            words++;
        } else if (prev == '.'
                       ? !islower((unsigned char)c)
                       : !(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '_')) {
            return 0;
        }
        prev = c;
    }
    return prev != '.' && words >= 3;
}

int envelope_ref_is_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n >= ENVELOPE_REF_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= 0x20 || s[i] >= 0x7f)
            return 0;
    return 1;
}

/* A version-00 W3C traceparent (trace.c parses it; a later version does not fit the attribute). */
static int traceparent_is_valid(const char *s)
{
    struct trace_context t;
    return strlen(s) == TRACE_PARENT_LEN - 1 && trace_parse(s, &t);
}

void envelope_time_now(char out[ENVELOPE_TIME_MAX])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    /* strftime bounds every field, so the text always fits ENVELOPE_TIME_MAX. */
    char date[32];
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, ENVELOPE_TIME_MAX, "%.19s.%06dZ", date, (int)(ts.tv_nsec / 1000));
}

static int read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -1;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int days_in_month(int year, int month)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return month == 2 && leap ? 29 : days[month - 1];
}

long long envelope_time_parse_us(const char *text)
{
    /* YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM), RFC 3339 */
    const char *p = text;
    int y, mo, d, h, mi, s;
    if (!p || read_digits(&p, 4, &y) || *p++ != '-' || read_digits(&p, 2, &mo) || *p++ != '-' ||
        read_digits(&p, 2, &d) || (*p != 'T' && *p != 't') || !*p++ || read_digits(&p, 2, &h) ||
        *p++ != ':' || read_digits(&p, 2, &mi) || *p++ != ':' || read_digits(&p, 2, &s))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60)
        return -1;
    long long frac_us = 0;
    if (*p == '.') {
        p++;
        int digits = 0;
        long long scale = 100000;
        while (isdigit((unsigned char)*p)) {
            if (digits < 6)
                frac_us += (*p - '0') * scale;
            scale /= 10;
            digits++;
            p++;
        }
        if (digits == 0 || digits > 9)
            return -1;
    }
    long offset_s = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (read_digits(&p, 2, &oh) || *p++ != ':' || read_digits(&p, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset_s = sign * (oh * 3600L + om * 60L);
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    /* A leap second is inserted only as 23:59:60 UTC (RFC 3339 §5.7), whatever the offset. */
    if (s == 60 && (((h * 60 + mi) * 60L - offset_s) % 86400 + 86400) % 86400 != 86340)
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    return ((long long)t - offset_s) * 1000000LL + frac_us;
}

/* The nil UUID: "no id", never the id of an event (SPEC §2: any non-nil UUID). */
static int id_is_nil(const char *id)
{
    return strspn(id, "0-") == strlen(id);
}

int envelope_validate(const struct envelope *ev, struct err *err)
{
    if (!uuid7_is_valid(ev->id))
        return err_set(err, ERR_INVALID, "attribute 'id' is not a UUID");
    if (id_is_nil(ev->id))
        return err_set(err, ERR_INVALID, "attribute 'id' is the nil UUID");
    if (ev->source[0] != '/' || !context_is_valid(ev->source + 1))
        return err_set(err, ERR_INVALID, "attribute 'source' is not '/<context>'");
    if (!type_is_valid(ev->type))
        return err_set(err, ERR_INVALID, "attribute 'type' is not '<context>.<aggregate>.<event>'");
    if (envelope_time_parse_us(ev->time) < 0)
        return err_set(err, ERR_INVALID, "attribute 'time' is not an RFC 3339 time");
    if (ev->version < 1 || ev->version > VERSION_MAX)
        return err_set(err, ERR_INVALID, "data version %d out of range", ev->version);
    if (!envelope_ref_is_valid(ev->correlation_id))
        return err_set(err, ERR_INVALID, "attribute 'correlationid' is missing or malformed");
    if (!envelope_ref_is_valid(ev->causation_id))
        return err_set(err, ERR_INVALID, "attribute 'causationid' is missing or malformed");
    if (ev->traceparent[0] && !traceparent_is_valid(ev->traceparent))
        return err_set(err, ERR_INVALID, "attribute 'traceparent' is not a W3C traceparent");
    if (!json_is_object(ev->data))
        return err_set(err, ERR_INVALID, "attribute 'data' is not a JSON object");
    return 0;
}

int envelope_build(struct envelope *ev, const char *context, const char *type, int version,
                   json_t *data, const char *correlation_id, const char *causation_id,
                   struct err *err)
{
    envelope_release(ev);
    ev->data = data; /* owned from here on, also on failure */
    if (!context || !context_is_valid(context))
        return err_set(err, ERR_INVALID, "context '%s' is not a valid name",
                       context ? context : "");
    if (uuid7_generate(ev->id) != 0)
        return err_set(err, ERR_INTERNAL, "no randomness for a new event id");
    snprintf(ev->source, sizeof(ev->source), "/%s", context);
    if (!type || strlen(type) > ENVELOPE_TYPE_MAX)
        return err_set(err, ERR_INVALID, "event type missing or too long");
    snprintf(ev->type, sizeof(ev->type), "%s", type);
    envelope_time_now(ev->time);
    ev->version = version;
    const char *corr = correlation_id && *correlation_id ? correlation_id : ev->id;
    const char *cause = causation_id && *causation_id ? causation_id : corr;
    if (!envelope_ref_is_valid(corr) || !envelope_ref_is_valid(cause))
        return err_set(err, ERR_INVALID, "correlation or causation id malformed");
    snprintf(ev->correlation_id, sizeof(ev->correlation_id), "%s", corr);
    snprintf(ev->causation_id, sizeof(ev->causation_id), "%s", cause);
    /* Written while a request or a delivery is handled: the event is a new span of its trace. */
    const struct trace_context *cur = trace_current();
    if (cur) {
        struct trace_context span;
        trace_child(cur, &span);
        trace_format(&span, ev->traceparent);
    }
    return envelope_validate(ev, err);
}

int envelope_set_traceparent(struct envelope *ev, const char *traceparent, struct err *err)
{
    if (!traceparent || !traceparent_is_valid(traceparent))
        return err_set(err, ERR_INVALID, "traceparent is not a W3C traceparent");
    snprintf(ev->traceparent, sizeof(ev->traceparent), "%s", traceparent);
    return 0;
}

json_t *envelope_to_json(const struct envelope *ev)
{
    char schema[DATASCHEMA_MAX];
    snprintf(schema, sizeof(schema), DATASCHEMA_PREFIX "%s:%d", ev->type, ev->version);
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "specversion", json_string("1.0"));
    bad |= json_object_set_new(o, "id", json_string(ev->id));
    bad |= json_object_set_new(o, "source", json_string(ev->source));
    bad |= json_object_set_new(o, "type", json_string(ev->type));
    bad |= json_object_set_new(o, "time", json_string(ev->time));
    bad |= json_object_set_new(o, "datacontenttype", json_string("application/json"));
    bad |= json_object_set_new(o, "dataschema", json_string(schema));
    bad |= json_object_set_new(o, "correlationid", json_string(ev->correlation_id));
    bad |= json_object_set_new(o, "causationid", json_string(ev->causation_id));
    if (ev->traceparent[0])
        bad |= json_object_set_new(o, "traceparent", json_string(ev->traceparent));
    bad |= json_object_set(o, "data", ev->data ? ev->data : json_null());
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *envelope_serialize(const struct envelope *ev, struct err *err)
{
    if (envelope_validate(ev, err) != 0)
        return NULL;
    json_t *o = envelope_to_json(ev);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text)
        err_set(err, ERR_NOMEM, "out of memory serialising event '%s'", ev->id);
    return text;
}

/* Copies the string member key of root into out (size outlen); ERR_INVALID when missing/bad. */
static int copy_attr(const json_t *root, const char *key, char *out, size_t outlen, int required,
                     struct err *err)
{
    const json_t *v = json_object_get(root, key);
    if (!v) {
        if (!required)
            return 0;
        return err_set(err, ERR_INVALID, "not a CloudEvent: missing '%s'", key);
    }
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID, "not a CloudEvent: '%s' is not a string", key);
    size_t n = json_string_length(v);
    if (n >= outlen || memchr(json_string_value(v), '\0', n))
        return err_set(err, ERR_INVALID, "attribute '%s' is too long", key);
    memcpy(out, json_string_value(v), n + 1);
    return 0;
}

/* Reads "urn:event:<type>:<major>" into the version; the type part must equal ev->type. */
static int parse_dataschema(struct envelope *ev, const char *schema, struct err *err)
{
    size_t plen = strlen(DATASCHEMA_PREFIX), tlen = strlen(ev->type);
    if (strncmp(schema, DATASCHEMA_PREFIX, plen) != 0 ||
        strncmp(schema + plen, ev->type, tlen) != 0 || schema[plen + tlen] != ':')
        return err_set(err, ERR_INVALID, "attribute 'dataschema' is not 'urn:event:%s:<major>'",
                       ev->type);
    const char *num = schema + plen + tlen + 1;
    int v = 0;
    if (!*num || strlen(num) > 3)
        return err_set(err, ERR_INVALID, "attribute 'dataschema' has no valid major version");
    for (const char *p = num; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return err_set(err, ERR_INVALID, "attribute 'dataschema' has no valid major version");
        v = v * 10 + (*p - '0');
    }
    ev->version = v;
    return 0;
}

int envelope_from_json(struct envelope *ev, const json_t *root, struct err *err)
{
    envelope_release(ev);
    if (!json_is_object(root))
        return err_set(err, ERR_INVALID, "not a CloudEvent: not a JSON object");
    char specversion[8], source[sizeof(ev->source)], content_type[64] = "", schema[DATASCHEMA_MAX];
    int rc;
    if ((rc = copy_attr(root, "specversion", specversion, sizeof(specversion), 1, err)) ||
        (rc = copy_attr(root, "id", ev->id, sizeof(ev->id), 1, err)) ||
        (rc = copy_attr(root, "source", source, sizeof(source), 1, err)) ||
        (rc = copy_attr(root, "type", ev->type, sizeof(ev->type), 1, err)) ||
        (rc = copy_attr(root, "time", ev->time, sizeof(ev->time), 1, err)) ||
        (rc = copy_attr(root, "datacontenttype", content_type, sizeof(content_type), 0, err)) ||
        (rc = copy_attr(root, "dataschema", schema, sizeof(schema), 1, err)) ||
        (rc = copy_attr(root, "correlationid", ev->correlation_id, sizeof(ev->correlation_id), 1,
                        err)) ||
        (rc = copy_attr(root, "causationid", ev->causation_id, sizeof(ev->causation_id), 1, err)) ||
        (rc = copy_attr(root, "traceparent", ev->traceparent, sizeof(ev->traceparent), 0, err)))
        goto fail;
    if (strcmp(specversion, "1.0") != 0) {
        rc = err_set(err, ERR_INVALID, "not a CloudEvent 1.0: specversion '%s'", specversion);
        goto fail;
    }
    if (content_type[0] && strcmp(content_type, "application/json") != 0) {
        rc =
            err_set(err, ERR_INVALID, "datacontenttype '%s' is not application/json", content_type);
        goto fail;
    }
    memcpy(ev->source, source, sizeof(ev->source));
    if ((rc = parse_dataschema(ev, schema, err)) != 0)
        goto fail;
    json_t *data = json_object_get(root, "data");
    if (!json_is_object(data)) {
        rc = err_set(err, ERR_INVALID, "not a CloudEvent of ours: 'data' is not a JSON object");
        goto fail;
    }
    ev->data = json_incref(data);
    if ((rc = envelope_validate(ev, err)) != 0)
        goto fail;
    return 0;
fail:
    envelope_release(ev);
    return rc;
}

int envelope_parse(struct envelope *ev, const char *body, size_t len, struct err *err)
{
    envelope_release(ev);
    if (len > ENVELOPE_BODY_MAX)
        return err_set(err, ERR_INVALID, "body of %zu bytes is above the %zu-byte limit", len,
                       ENVELOPE_BODY_MAX);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return err_set(err, ERR_INVALID, "not JSON: %s at line %d column %d", jerr.text, jerr.line,
                       jerr.column);
    int rc = envelope_from_json(ev, root, err);
    json_decref(root);
    return rc;
}

const char *envelope_context(const struct envelope *ev)
{
    return ev->source[0] == '/' ? ev->source + 1 : ev->source;
}
