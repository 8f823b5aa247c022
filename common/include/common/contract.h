/*
 * contract.h - an integration event, declared once: its C struct and a table
 * of rows, one per field, saying what the field is on the wire (JSON type,
 * bounds, format) and where it lives in the struct.
 *
 * A producer declares each event type it publishes as a struct and a static
 * const struct contract_event (contexts/<c>/contract/<c>_contract.[ch]). That
 * one declaration encodes the struct for the outbox (contract_encode),
 * validates it there before the INSERT (outbox_publish) and again in every
 * consumer (a message whose data breaks it is poison), decodes it into the
 * consumer's struct (contract_decode) and generates the catalog
 * (docs/events.md). There is no hand-written encoder or decoder.
 *
 *   struct booking_booking_created {
 *       char booking_id[UUID7_STR_LEN];
 *       int64_t quantity;
 *   };
 *   static const struct contract_field created[] = {
 *       CONTRACT_UUID(booking_booking_created, booking_id, "the booking"),
 *       CONTRACT_INT(booking_booking_created, quantity, 1, 1000, "units"),
 *   };
 *   CONTRACT_EVENT(BOOKING_BOOKING_CREATED, "booking", "a customer asked for units", created,
 *                  booking_booking_created);
 *
 * (CONTRACT_EVENT takes the type and version from BOOKING_BOOKING_CREATED_TYPE
 * and _VERSION.) A row the shorthands below do not cover, such as an optional
 * field, is written out: {"name", type, presence, format, min, max, doc,
 * CONTRACT_AT(struct s, member)}.
 *
 * The C member of a field follows from its JSON type, one kind each:
 *   CONTRACT_STRING        char name[N]  (N counts the NUL; "" = absent when optional)
 *   CONTRACT_INTEGER       int64_t
 *   CONTRACT_BOOLEAN       bool
 *   CONTRACT_STRING_ARRAY  struct contract_strings
 * contract_check() verifies a table against that rule (the unit tests run it
 * over every published event).
 *
 * Unknown extra fields in data are accepted (tolerant reader): a producer may
 * add optional fields without breaking consumers; anything else is a new
 * major version.
 */
#ifndef COMMON_CONTRACT_H
#define COMMON_CONTRACT_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONTRACT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Where member m of struct type s lives: the last two members of a field row. */
#define CONTRACT_AT(s, m) offsetof(s, m), sizeof(((s *)0)->m)

/*
 * One row of a table, for the kinds most fields are: required, named on the
 * wire as member m of struct s (s is the struct's tag, without "struct").
 *   CONTRACT_UUID   a UUID string
 *   CONTRACT_INT    an integer in [min, max]
 *   CONTRACT_NAME   a lowercase name ([a-z][a-z0-9_]*) of 1 to max characters
 *   CONTRACT_TEXT   free text of 1 to max characters
 *   CONTRACT_EMAIL  an e-mail address (3 to 254 characters)
 */
#define CONTRACT_ROW(s, m, kind, fmt, lo, hi, text)                                                \
    {                                                                                              \
        .name = #m, .type = (kind), .presence = CONTRACT_REQUIRED, .format = (fmt), .min = (lo),   \
        .max = (hi), .doc = (text), .offset = offsetof(struct s, m),                               \
        .size = sizeof(((struct s *)0)->m)                                                         \
    }
#define CONTRACT_UUID(s, m, doc)                                                                   \
    CONTRACT_ROW(s, m, CONTRACT_STRING, CONTRACT_FORMAT_UUID, 0, 0, doc)
#define CONTRACT_INT(s, m, min, max, doc)                                                          \
    CONTRACT_ROW(s, m, CONTRACT_INTEGER, CONTRACT_FORMAT_NONE, min, max, doc)
#define CONTRACT_NAME(s, m, max, doc)                                                              \
    CONTRACT_ROW(s, m, CONTRACT_STRING, CONTRACT_FORMAT_NAME, 1, max, doc)
#define CONTRACT_TEXT(s, m, max, doc)                                                              \
    CONTRACT_ROW(s, m, CONTRACT_STRING, CONTRACT_FORMAT_NONE, 1, max, doc)
#define CONTRACT_EMAIL(s, m, doc)                                                                  \
    CONTRACT_ROW(s, m, CONTRACT_STRING, CONTRACT_FORMAT_EMAIL, 3, 254, doc)

/*
 * Defines the event NAME (type NAME_TYPE, version NAME_VERSION: both macros
 * of the contract header), published by the context named by, with its doc
 * sentence text, its table rows and its struct s (the tag, as in the rows).
 */
#define CONTRACT_EVENT(NAME, by, text, rows, s)                                                    \
    const struct contract_event NAME = {.type = NAME##_TYPE,                                       \
                                        .version = NAME##_VERSION,                                 \
                                        .publisher = (by),                                         \
                                        .doc = (text),                                             \
                                        .fields = (rows),                                          \
                                        .nfields = CONTRACT_COUNT(rows),                           \
                                        .size = sizeof(struct s)}

/* The longest CONTRACT_NAME value the events use (reasons, kinds, types): members are [.. + 1]. */
#define CONTRACT_NAME_MAX 64

#define CONTRACT_STRINGS_MAX 64 /* items of a string array, at most (validation and struct) */
#define CONTRACT_STRINGS_ITEM_LEN                                                                  \
    65 /* longest item a struct contract_strings holds, with its NUL */

/* The C member of a CONTRACT_STRING_ARRAY field. */
struct contract_strings {
    size_t n;
    char items[CONTRACT_STRINGS_MAX][CONTRACT_STRINGS_ITEM_LEN];
};

enum contract_type {
    CONTRACT_STRING,
    CONTRACT_INTEGER, /* a JSON integer within [min, max] */
    CONTRACT_BOOLEAN,
    CONTRACT_STRING_ARRAY, /* an array of at most CONTRACT_STRINGS_MAX strings, each within the string bounds */
};

enum contract_presence {
    CONTRACT_OPTIONAL,
    CONTRACT_REQUIRED,
};

enum contract_format {
    CONTRACT_FORMAT_NONE,
    CONTRACT_FORMAT_UUID,     /* canonical UUID text */
    CONTRACT_FORMAT_EMAIL,    /* local@domain, bounded, no spaces */
    CONTRACT_FORMAT_DATETIME, /* RFC 3339 */
    CONTRACT_FORMAT_NAME, /* [a-z][a-z0-9_]*: roles, statuses, reasons (strings, never enum numbers) */
};

struct contract_field {
    const char *name;
    enum contract_type type;
    enum contract_presence presence;
    enum contract_format format;
    long long min; /* integer: smallest value; string: shortest length (0 = no minimum) */
    long long max; /* integer: largest value; string: longest length (0 = 256) */
    const char *doc;
    size_t offset; /* where the member is in the event's struct (CONTRACT_AT) */
    size_t size;   /* and its sizeof */
};

struct contract_event {
    const char *type;      /* "booking.booking.created" */
    int version;           /* major version of data, in dataschema */
    const char *publisher; /* the context that publishes it */
    const char *doc;       /* one sentence: what happened */
    const struct contract_field *fields;
    size_t nfields;
    size_t size; /* sizeof the event's C struct; 0 = validation only, no struct */
};

/*
 * Checks data (a JSON object, borrowed) against ev's fields. Returns 0, or
 * ERR_INVALID naming the first offending field: "field 'quantity' must be an
 * integer in [1, 1000]".
 */
int contract_validate(const struct contract_event *ev, const json_t *data, struct err *err);

/*
 * The data of ev as a new JSON object (stored in *out), read from in, a
 * struct of ev (insize = sizeof *in). An empty optional string is left out.
 * Does not validate (outbox_publish does). Returns 0, ERR_NOMEM, or
 * ERR_INTERNAL when insize is not ev's struct size.
 */
int contract_encode(const struct contract_event *ev, const void *in, size_t insize, json_t **out,
                    struct err *err);

/*
 * Validates data against ev (as contract_validate) and fills out, a struct of
 * ev (outsize = sizeof *out), zeroing it first: an absent optional string is
 * "". Bounded by the struct: a string that does not fit its member is
 * ERR_INVALID naming the field. Returns 0, ERR_INVALID, or ERR_INTERNAL when
 * outsize is not ev's struct size.
 */
int contract_decode(const struct contract_event *ev, const json_t *data, void *out, size_t outsize,
                    struct err *err);

/*
 * As contract_decode, for data that passed contract_validate(ev, data) already
 * (the consumer validates every event before a handler runs): fills out
 * without checking the data a second time. Handing it data that was not
 * validated is a bug. Returns 0, ERR_INVALID for a string longer than its
 * member, or ERR_INTERNAL when outsize is not ev's struct size.
 */
int contract_decode_valid(const struct contract_event *ev, const json_t *data, void *out,
                          size_t outsize, struct err *err);

/*
 * Checks the table of ev against its struct: every row lies inside it and has
 * the member kind its JSON type asks for (see the top of this file), and a
 * string member can hold the longest value the row allows. Returns 0 or
 * ERR_INTERNAL naming the field.
 */
int contract_check(const struct contract_event *ev, struct err *err);

/* The contract for type in a NULL-terminated list, or NULL. */
const struct contract_event *contract_find(const struct contract_event *const *list,
                                           const char *type);

/* Name of a JSON type for docs: "string", "integer", "boolean", "array of strings". */
const char *contract_type_name(enum contract_type type);

/* Name of a format for docs: "", "uuid", "email", "date-time", "name". */
const char *contract_format_name(enum contract_format format);

/* True when s is a plausible e-mail address: 3..254 chars, one '@', non-empty parts, no spaces. */
bool contract_email_is_valid(const char *s);

#endif
