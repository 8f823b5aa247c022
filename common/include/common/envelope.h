/*
 * envelope.h - the integration event envelope: CloudEvents 1.0, structured
 * JSON mode (SPEC §2). The one place that knows the envelope's attributes.
 *
 *   {"specversion":"1.0","id":"<uuid7>","source":"/booking",
 *    "type":"booking.booking.created","time":"2026-11-23T18:40:01.123456Z",
 *    "datacontenttype":"application/json",
 *    "dataschema":"urn:event:booking.booking.created:1",
 *    "correlationid":"…","causationid":"…","traceparent":"00-…",  (optional)
 *    "data":{…}}
 *
 * Invariant: an envelope that envelope_parse() accepted or envelope_build()
 * produced is valid; nothing else reaches a handler or the outbox.
 */
#ifndef COMMON_ENVELOPE_H
#define COMMON_ENVELOPE_H

#include "common/err.h"
#include "common/uuid7.h"

#include <jansson.h>
#include <stddef.h>

#define ENVELOPE_CONTEXT_MAX     32  /* context names: [a-z][a-z0-9_]* */
#define ENVELOPE_TYPE_MAX        128 /* "<context>.<aggregate>.<event>" */
#define ENVELOPE_REF_MAX         129 /* correlation / causation ids: up to 128 printable chars */
#define ENVELOPE_TIME_MAX        40
#define ENVELOPE_TRACEPARENT_MAX 56 /* "00-" 32 hex "-" 16 hex "-" 2 hex */
#define ENVELOPE_BODY_MAX        ((size_t)1024 * 1024)

struct envelope {
    char id[UUID7_STR_LEN];
    char source[ENVELOPE_CONTEXT_MAX + 2]; /* "/<context>" */
    char type[ENVELOPE_TYPE_MAX + 1];
    char time[ENVELOPE_TIME_MAX]; /* RFC 3339: UTC when ours, any offset from outside */
    int version;                  /* the major version of data, from dataschema */
    char correlation_id[ENVELOPE_REF_MAX];
    char causation_id[ENVELOPE_REF_MAX];
    char traceparent[ENVELOPE_TRACEPARENT_MAX]; /* "" when absent */
    json_t *data; /* owned: one reference, released by envelope_release */
};

/* Zeroes ev. */
void envelope_init(struct envelope *ev);

/* Drops ev->data and zeroes ev; safe on an initialised or released envelope. */
void envelope_release(struct envelope *ev);

/*
 * Fills ev as a new event: fresh v7 id, source "/<context>", time now,
 * dataschema from type and version. Takes ownership of data (a JSON object),
 * also on failure. correlation_id may be NULL or "" (then the new id is
 * used: the event starts its own flow); causation_id may be NULL or "" (then
 * the correlation id is used). Returns 0 or ERR_INVALID for a bad argument.
 */
int envelope_build(struct envelope *ev, const char *context, const char *type, int version,
                   json_t *data, const char *correlation_id, const char *causation_id,
                   struct err *err);

/* Copies traceparent into ev when it is a valid W3C value; else ERR_INVALID. */
int envelope_set_traceparent(struct envelope *ev, const char *traceparent, struct err *err);

/* Returns the envelope as a JSON object (new reference), or NULL on ENOMEM. */
json_t *envelope_to_json(const struct envelope *ev);

/* Returns the compact JSON text (new; free() it), or NULL with err set. */
char *envelope_serialize(const struct envelope *ev, struct err *err);

/*
 * Parses and validates body (len bytes, not necessarily terminated) into ev,
 * which must be initialised. Returns 0, or ERR_INVALID with the reason in err
 * ("not JSON: …", "not a CloudEvent: missing 'id'", …). On failure ev is left
 * released.
 */
int envelope_parse(struct envelope *ev, const char *body, size_t len, struct err *err);

/* Parses an already decoded JSON object (borrowed) the same way. */
int envelope_from_json(struct envelope *ev, const json_t *root, struct err *err);

/*
 * Checks every attribute of ev. Returns 0 or ERR_INVALID naming the first bad
 * one. The id may be a UUID of any version (outside producers' CloudEvents
 * SDKs make v4; ours are v7) but not the nil UUID; time as for
 * envelope_time_parse_us.
 */
int envelope_validate(const struct envelope *ev, struct err *err);

/* The context name of ev (source without its '/'). */
const char *envelope_context(const struct envelope *ev);

/* Writes the current time as RFC 3339 UTC with microseconds into out. */
void envelope_time_now(char out[ENVELOPE_TIME_MAX]);

/*
 * Parses an RFC 3339 date-time into microseconds since the epoch; -1 when
 * invalid. It must be a real instant: a day that exists in its month (no
 * 31 April, 29 February only in leap years), hour 00..23, minute 00..59,
 * second 00..59, or 60 only as 23:59:60 UTC (a leap second, read as the next
 * day's first instant: POSIX time has none). Any offset (Z or ±HH:MM, hour
 * below 24) is accepted from outside producers; what we produce is UTC (Z).
 * 'T' and 'Z' may be lowercase. Times before 1970 give a negative value and
 * are refused by envelope_validate.
 */
long long envelope_time_parse_us(const char *text);

/* True for a correlation or causation id we accept: 1..128 printable ASCII characters. */
int envelope_ref_is_valid(const char *s);

#endif
