/*
 * contract.h - an integration event's data, declared once.
 *
 * A producer declares each event type it publishes as a static const
 * struct contract_event (in contexts/<c>/contract/<c>_contract.c). That one
 * declaration validates incoming data in every consumer (a message whose
 * data breaks it is poison) and generates the event catalog (docs/events.md).
 *
 *   static const struct contract_field created_fields[] = {
 *       {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking"},
 *       {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units"},
 *   };
 *   const struct contract_event BOOKING_BOOKING_CREATED = {
 *       "booking.booking.created", 1, "booking", "a customer asked for units",
 *       created_fields, CONTRACT_COUNT(created_fields)};
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

#define CONTRACT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum contract_type {
    CONTRACT_STRING,
    CONTRACT_INTEGER, /* a JSON integer within [min, max] */
    CONTRACT_BOOLEAN,
    CONTRACT_STRING_ARRAY, /* an array of at most 64 strings, each within the string bounds */
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
    CONTRACT_FORMAT_NAME,     /* [a-z][a-z0-9_]*: roles, statuses, reasons (strings, never enum numbers) */
};

struct contract_field {
    const char *name;
    enum contract_type type;
    enum contract_presence presence;
    enum contract_format format;
    long long min; /* integer: smallest value; string: shortest length (0 = no minimum) */
    long long max; /* integer: largest value; string: longest length (0 = 256) */
    const char *doc;
};

struct contract_event {
    const char *type;      /* "booking.booking.created" */
    int version;           /* major version of data, in dataschema */
    const char *publisher; /* the context that publishes it */
    const char *doc;       /* one sentence: what happened */
    const struct contract_field *fields;
    size_t nfields;
};

/*
 * Checks data (a JSON object, borrowed) against ev's fields. Returns 0, or
 * ERR_INVALID naming the first offending field: "field 'quantity' must be an
 * integer in [1, 1000]".
 */
int contract_validate(const struct contract_event *ev, const json_t *data, struct err *err);

/* The contract for type in a NULL-terminated list, or NULL. */
const struct contract_event *contract_find(const struct contract_event *const *list, const char *type);

/* Name of a JSON type for docs: "string", "integer", "boolean", "array of strings". */
const char *contract_type_name(enum contract_type type);

/* Name of a format for docs: "", "uuid", "email", "date-time", "name". */
const char *contract_format_name(enum contract_format format);

/* True when s is a plausible e-mail address: 3..254 chars, one '@', non-empty parts, no spaces. */
bool contract_email_is_valid(const char *s);

#endif
