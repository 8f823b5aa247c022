/*
 * contract.c - validation of an event's data against its declared contract.
 * The same tables feed the catalog, so what is checked is what is documented.
 */
#include "common/contract.h"

#include "common/envelope.h"
#include "common/uuid7.h"

#include <ctype.h>
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

static int check_string(const struct contract_field *f, const json_t *v, const char *what, struct err *err)
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
    case CONTRACT_FORMAT_NONE:
        break;
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
    case CONTRACT_STRING:
        return check_string(f, v, "field", err);
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
        if (!json_is_array(v) || json_array_size(v) > 64)
            return err_set(err, ERR_INVALID, "field '%s' must be an array of at most 64 strings",
                           f->name);
        size_t i;
        const json_t *item;
        json_array_foreach(v, i, item) {
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

const struct contract_event *contract_find(const struct contract_event *const *list, const char *type)
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
