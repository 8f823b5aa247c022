/*
 * field.c - the field checks provider.c and offering.c share (field.h).
 */
#include "servicecatalog/domain/field.h"

#include <string.h>

int field_check_text(const char *field, const char *text, size_t len, int max, struct err *err)
{
    if (len < 1 || len > (size_t)max)
        return err_set(err, ERR_UNPROCESSABLE, "field '%s' must be 1 to %d bytes long", field, max);
    /* A NUL inside would silently cut the text short in every C string that holds it. */
    if (memchr(text, '\0', len))
        return err_set(err, ERR_UNPROCESSABLE, "field '%s' contains a NUL character", field);
    return 0;
}

int field_copy_id(char out[UUID7_STR_LEN], const char *id, const char *what, struct err *err)
{
    size_t n = strlen(id);
    if (n == 0 || n >= UUID7_STR_LEN)
        return err_set(err, ERR_INVALID, "%s must be a UUID", what);
    memcpy(out, id, n + 1);
    return 0;
}
