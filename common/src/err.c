/*
 * err.c - the error vocabulary and its two mappings (HTTP status, message
 * disposition). These two switches are the only places a code is turned
 * into a consequence; everything else passes codes along.
 */
#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void err_clear(struct err *err)
{
    if (!err)
        return;
    err->code = 0;
    err->sqlstate[0] = '\0';
    err->msg[0] = '\0';
}

static int set_v(struct err *err, enum err_code code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    return code;
}

int err_set(struct err *err, enum err_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_v(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int err_if_none(int rc, struct err *err, enum err_code code, const char *fmt, ...)
{
    if (rc != 0)
        return rc < 0 ? rc : 0;
    va_list ap;
    va_start(ap, fmt);
    set_v(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int err_wrap(struct err *err, const char *fmt, ...)
{
    char joined[2 * ERR_MSG_MAX + 2];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(joined, ERR_MSG_MAX, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if (n >= ERR_MSG_MAX)
        n = ERR_MSG_MAX - 1;
    snprintf(joined + n, sizeof(joined) - (size_t)n, ": %s", err->msg);
    memcpy(err->msg, joined, ERR_MSG_MAX - 1);
    err->msg[ERR_MSG_MAX - 1] = '\0';
    return err->code;
}

const char *err_name(int code)
{
    switch (code) {
    case ERR_OK: return "ok";
    case ERR_INVALID: return "invalid";
    case ERR_UNPROCESSABLE: return "unprocessable";
    case ERR_NOT_FOUND: return "not_found";
    case ERR_CONFLICT: return "conflict";
    case ERR_TRANSIENT: return "unavailable";
    case ERR_NOMEM: return "out_of_memory";
    case ERR_INTERNAL: return "internal";
    }
    return "internal";
}

int err_http_status(int code)
{
    switch (code) {
    case ERR_OK: return 200;
    case ERR_INVALID: return 400;
    case ERR_UNPROCESSABLE: return 422;
    case ERR_NOT_FOUND: return 404;
    case ERR_CONFLICT: return 409;
    case ERR_TRANSIENT: return 503;
    case ERR_NOMEM: return 500;
    case ERR_INTERNAL: return 500;
    }
    return 500;
}

enum err_disposition err_disposition(int code)
{
    switch (code) {
    case ERR_OK: return ERR_ACK;
    case ERR_INVALID:
    case ERR_UNPROCESSABLE:
    case ERR_NOT_FOUND:
    case ERR_CONFLICT: return ERR_DEAD;
    case ERR_TRANSIENT:
    case ERR_NOMEM:
    case ERR_INTERNAL: return ERR_RETRY;
    }
    return ERR_RETRY;
}

const char *err_disposition_name(enum err_disposition d)
{
    switch (d) {
    case ERR_ACK: return "ack";
    case ERR_RETRY: return "retry";
    case ERR_DEAD: return "dead";
    }
    return "retry";
}
