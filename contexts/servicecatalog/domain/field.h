/*
 * field.h - the checks provider.c and offering.c make alike on what a request
 * hands them: a bounded text and an id. Pure, as the rest of domain/.
 */
#ifndef SERVICECATALOG_DOMAIN_FIELD_H
#define SERVICECATALOG_DOMAIN_FIELD_H

#include "common/err.h"
#include "common/uuid7.h"

#include <stddef.h>

/*
 * Checks text (len bytes, not NUL-terminated) of the request field named
 * field: 1 to max bytes, no NUL inside. Returns 0 or ERR_UNPROCESSABLE.
 */
int field_check_text(const char *field, const char *text, size_t len, int max, struct err *err);

/*
 * Copies id (NUL-terminated; its format is checked at the edge) into out,
 * refusing one that is empty or does not fit: ERR_INVALID "<what> must be a
 * UUID". Returns 0 or that code.
 */
int field_copy_id(char out[UUID7_STR_LEN], const char *id, const char *what, struct err *err);

#endif
