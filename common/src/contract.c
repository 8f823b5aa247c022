/*
 * contract.c - an event's data checked, encoded and decoded by its table.
 * The same tables feed the catalog, so what is checked is what is documented,
 * and the struct offsets in the rows make the codec generic: no event has
 * code of its own.
 */
#include "common/contract.h"

#include "common/envelope.h"
#include "common/uuid7.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define CONTRACT_STRING_MAX_DEFAULT 256

bool contract_email_is_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 254)
        return false;
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@') || at[1] == '\0')
        return false;
    const char *dot = strchr(at + 1, '.');
    if (!dot || dot == at + 1 || dot[1] == '\0' || s[n - 1] == '.')
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static bool name_is_valid(const char *s)
{
    if (!islower((unsigned char)s[0]))
        return false;
    for (const char *p = s; *p; p++)
        if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

static int check_string(const struct contract_field *f, const json_t *v, const char *what,
                        struct err *err)
{
    if (!json_is_string(v))
        return err_set(err, ERR_INVALID, "%s '%s' must be a string", what, f->name);
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    long long max = f->max > 0 ? f->max : CONTRACT_STRING_MAX_DEFAULT;
    if (memchr(s, '\0', n))
        return err_set(err, ERR_INVALID, "%s '%s' contains a NUL character", what, f->name);
    if ((long long)n < f->min || (long long)n > max)
        return err_set(err, ERR_INVALID, "%s '%s' must be %lld to %lld characters long", what,
                       f->name, f->min, max);
    switch (f->format) {
    case CONTRACT_FORMAT_NONE: break;
    case CONTRACT_FORMAT_UUID:
        if (!uuid7_is_valid(s))
            return err_set(err, ERR_INVALID, "%s '%s' must be a UUID", what, f->name);
        break;
    case CONTRACT_FORMAT_EMAIL:
        if (!contract_email_is_valid(s))
            return err_set(err, ERR_INVALID, "%s '%s' must be an e-mail address", what, f->name);
        break;
    case CONTRACT_FORMAT_DATETIME:
        if (envelope_time_parse_us(s) < 0)
            return err_set(err, ERR_INVALID, "%s '%s' must be an RFC 3339 time", what, f->name);
        break;
    case CONTRACT_FORMAT_NAME:
        if (!name_is_valid(s))
            return err_set(err, ERR_INVALID, "%s '%s' must be a lowercase name", what, f->name);
        break;
    }
    return 0;
}

static int check_field(const struct contract_field *f, const json_t *v, struct err *err)
{
    switch (f->type) {
    case CONTRACT_STRING: return check_string(f, v, "field", err);
    case CONTRACT_INTEGER:
        if (!json_is_integer(v) || json_integer_value(v) < f->min || json_integer_value(v) > f->max)
            return err_set(err, ERR_INVALID, "field '%s' must be an integer in [%lld, %lld]",
                           f->name, f->min, f->max);
        return 0;
    case CONTRACT_BOOLEAN:
        if (!json_is_boolean(v))
            return err_set(err, ERR_INVALID, "field '%s' must be a boolean", f->name);
        return 0;
    case CONTRACT_STRING_ARRAY: {
        if (!json_is_array(v) || json_array_size(v) > CONTRACT_STRINGS_MAX)
            return err_set(err, ERR_INVALID, "field '%s' must be an array of at most %d strings",
                           f->name, CONTRACT_STRINGS_MAX);
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            int rc = check_string(f, item, "item of", err);
            if (rc)
                return rc;
        }
        return 0;
    }
    }
    return err_set(err, ERR_INTERNAL, "field '%s' has an unknown contract type", f->name);
}

int contract_validate(const struct contract_event *ev, const json_t *data, struct err *err)
{
    if (!json_is_object(data))
        return err_set(err, ERR_INVALID, "data of '%s' is not a JSON object", ev->type);
    for (size_t i = 0; i < ev->nfields; i++) {
        const struct contract_field *f = &ev->fields[i];
        const json_t *v = json_object_get(data, f->name);
        if (!v || json_is_null(v)) {
            if (f->presence == CONTRACT_REQUIRED)
                return err_set(err, ERR_INVALID, "field '%s' is required", f->name);
            continue;
        }
        int rc = check_field(f, v, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the generic codec ------------------------------------------------------- */

/* The longest string a row allows, in bytes (a UUID is 36 whatever max says). */
static long long string_max(const struct contract_field *f)
{
    if (f->format == CONTRACT_FORMAT_UUID)
        return UUID7_STR_LEN - 1;
    return f->max > 0 ? f->max : CONTRACT_STRING_MAX_DEFAULT;
}

int contract_check(const struct contract_event *ev, struct err *err)
{
    for (size_t i = 0; i < ev->nfields; i++) {
        const struct contract_field *f = &ev->fields[i];
        size_t want = 0;
        switch (f->type) {
        case CONTRACT_STRING: want = (size_t)string_max(f) + 1; break;
        case CONTRACT_INTEGER: want = sizeof(int64_t); break;
        case CONTRACT_BOOLEAN: want = sizeof(bool); break;
        case CONTRACT_STRING_ARRAY: want = sizeof(struct contract_strings); break;
        }
        bool fits = f->type == CONTRACT_STRING ? f->size >= want : f->size == want;
        if (!fits || f->offset + f->size > ev->size)
            return err_set(err, ERR_INTERNAL,
                           "field '%s' of '%s': its struct member (%zu bytes at %zu) is not the "
                           "kind its contract type needs (%zu bytes)",
                           f->name, ev->type, f->size, f->offset, want);
        if (f->type == CONTRACT_STRING_ARRAY && string_max(f) >= CONTRACT_STRINGS_ITEM_LEN)
            return err_set(err, ERR_INTERNAL, "field '%s' of '%s': items may be longer than %d",
                           f->name, ev->type, CONTRACT_STRINGS_ITEM_LEN - 1);
    }
    return 0;
}

static int check_size(const struct contract_event *ev, size_t size, struct err *err)
{
    if (ev->size == 0 || size != ev->size)
        return err_set(err, ERR_INTERNAL, "a struct of %zu bytes is not the struct of '%s'", size,
                       ev->type);
    return 0;
}

static json_t *encode_field(const struct contract_field *f, const unsigned char *at)
{
    switch (f->type) {
    case CONTRACT_STRING: return json_stringn((const char *)at, strnlen((const char *)at, f->size));
    case CONTRACT_INTEGER: {
        int64_t v;
        memcpy(&v, at, sizeof(v));
        return json_integer((json_int_t)v);
    }
    case CONTRACT_BOOLEAN: {
        bool v;
        memcpy(&v, at, sizeof(v));
        return json_boolean(v);
    }
    case CONTRACT_STRING_ARRAY: {
        const struct contract_strings *v = (const struct contract_strings *)(const void *)at;
        json_t *a = json_array();
        for (size_t i = 0; a && i < v->n && i < CONTRACT_STRINGS_MAX; i++)
            if (json_array_append_new(a, json_string(v->items[i]))) {
                json_decref(a);
                a = NULL;
            }
        return a;
    }
    }
    return NULL;
}

int contract_encode(const struct contract_event *ev, const void *in, size_t insize, json_t **out,
                    struct err *err)
{
    *out = NULL;
    int rc = check_size(ev, insize, err);
    if (rc)
        return rc;
    json_t *o = json_object();
    if (!o)
        return err_set(err, ERR_NOMEM, "cannot encode '%s'", ev->type);
    for (size_t i = 0; i < ev->nfields; i++) {
        const struct contract_field *f = &ev->fields[i];
        const unsigned char *at = (const unsigned char *)in + f->offset;
        if (f->type == CONTRACT_STRING && f->presence == CONTRACT_OPTIONAL && at[0] == '\0')
            continue;
        json_t *v = encode_field(f, at);
        if (!v || json_object_set_new(o, f->name, v)) {
            json_decref(o);
            return err_set(err, ERR_NOMEM, "cannot encode field '%s' of '%s'", f->name, ev->type);
        }
    }
    *out = o;
    return 0;
}

/* Copies a validated string into its member, or says it does not fit. */
static int decode_string(const struct contract_field *f, const json_t *v, char *to, size_t size,
                         struct err *err)
{
    if (json_string_length(v) >= size)
        return err_set(err, ERR_INVALID, "field '%s' is longer than %zu characters", f->name,
                       size - 1);
    memcpy(to, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int decode_field(const struct contract_field *f, const json_t *v, unsigned char *at,
                        struct err *err)
{
    switch (f->type) {
    case CONTRACT_STRING: return decode_string(f, v, (char *)at, f->size, err);
    case CONTRACT_INTEGER: {
        int64_t n = (int64_t)json_integer_value(v);
        memcpy(at, &n, sizeof(n));
        return 0;
    }
    case CONTRACT_BOOLEAN: {
        bool b = json_is_true(v);
        memcpy(at, &b, sizeof(b));
        return 0;
    }
    case CONTRACT_STRING_ARRAY: {
        struct contract_strings *to = (struct contract_strings *)(void *)at;
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item)
        {
            int rc = decode_string(f, item, to->items[i], sizeof(to->items[i]), err);
            if (rc)
                return rc;
            to->n = i + 1;
        }
        return 0;
    }
    }
    return err_set(err, ERR_INTERNAL, "field '%s' has an unknown contract type", f->name);
}

int contract_decode(const struct contract_event *ev, const json_t *data, void *out, size_t outsize,
                    struct err *err)
{
    int rc = contract_validate(ev, data, err);
    return rc ? rc : contract_decode_valid(ev, data, out, outsize, err);
}

int contract_decode_valid(const struct contract_event *ev, const json_t *data, void *out,
                          size_t outsize, struct err *err)
{
    int rc = check_size(ev, outsize, err);
    if (rc)
        return rc;
    memset(out, 0, outsize);
    for (size_t i = 0; i < ev->nfields; i++) {
        const struct contract_field *f = &ev->fields[i];
        const json_t *v = json_object_get(data, f->name);
        if (!v || json_is_null(v))
            continue; /* optional: validation let only those through */
        rc = decode_field(f, v, (unsigned char *)out + f->offset, err);
        if (rc)
            return rc;
    }
    return 0;
}

const struct contract_event *contract_find(const struct contract_event *const *list,
                                           const char *type)
{
    for (; list && *list; list++)
        if (strcmp((*list)->type, type) == 0)
            return *list;
    return NULL;
}

const char *contract_type_name(enum contract_type type)
{
    switch (type) {
    case CONTRACT_STRING: return "string";
    case CONTRACT_INTEGER: return "integer";
    case CONTRACT_BOOLEAN: return "boolean";
    case CONTRACT_STRING_ARRAY: return "array of strings";
    }
    return "?";
}

const char *contract_format_name(enum contract_format format)
{
    switch (format) {
    case CONTRACT_FORMAT_NONE: return "";
    case CONTRACT_FORMAT_UUID: return "uuid";
    case CONTRACT_FORMAT_EMAIL: return "email";
    case CONTRACT_FORMAT_DATETIME: return "date-time";
    case CONTRACT_FORMAT_NAME: return "name";
    }
    return "";
}
