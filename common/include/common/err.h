/*
 * err.h - the one error vocabulary of the library and of every context.
 *
 * Fallible functions return 0 or a negative enum err_code, and describe the
 * failure in a caller-owned struct err (on the caller's stack, never freed):
 *
 *     if (n > LIMIT)
 *         return err_set(err, ERR_INVALID, "quantity %d above %d", n, LIMIT);
 *
 * Codes are named by what the caller must do. Exactly one switch maps a code
 * to an HTTP status (err_http_status) and one maps it to what happens to a
 * message (err_disposition). Fill the error at the bottom, log it once at the
 * top, where the event or request is known.
 */
#ifndef COMMON_ERR_H
#define COMMON_ERR_H

#include <stddef.h>

enum err_code {
    ERR_OK = 0,
    ERR_INVALID = -1,       /* malformed input: HTTP 400; a message: poison, dead-letter now */
    ERR_UNPROCESSABLE = -2, /* well-formed but refused by a rule: 422; a message: dead-letter */
    ERR_NOT_FOUND = -3,     /* no such thing: 404; a message: dead-letter */
    ERR_CONFLICT = -4,      /* duplicate or transition not allowed: 409; a message: dead-letter */
    ERR_TRANSIENT =
        -5,         /* db/broker down, serialization failure, prerequisite not there yet: retry */
    ERR_NOMEM = -6, /* out of memory: 500; a message: retry */
    ERR_INTERNAL = -7, /* a bug or unexpected library failure: 500; retry, then dead-letter */
};

#define ERR_MSG_MAX 256

struct err {
    int code;         /* an enum err_code, 0 when clear */
    char sqlstate[6]; /* the SQLSTATE behind a database error, "" otherwise */
    char msg[ERR_MSG_MAX];
};

/* What happens to a delivered message whose handling ended with a code. */
enum err_disposition {
    ERR_ACK,   /* done (or a duplicate): acknowledge */
    ERR_RETRY, /* try again later, until the attempts run out */
    ERR_DEAD,  /* never retry: to the dead letters now */
};

/* Clears *err (code 0, empty message). */
void err_clear(struct err *err);

/*
 * Sets code and printf-formatted message; returns code, so a failure is one
 * line. A NULL err is allowed (the message is dropped). Keeps an already set
 * sqlstate.
 */
int err_set(struct err *err, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "<prefix>: "; returns err->code. */
int err_wrap(struct err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The tail of a look-up (1 found, 0 none, negative error) or of a write that
 * must touch a row (the count of rows, or negative): returns rc when it is
 * negative, 0 when it is positive, and for 0 sets code and the message, as
 * err_set does ("payment '%s' is no longer an intent").
 */
int err_if_none(int rc, struct err *err, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Stable snake_case name for the HTTP body's "error" field ("invalid", "not_found", ...). */
const char *err_name(int code);

/* The HTTP status for a code (0 → 200). */
int err_http_status(int code);

/* What to do with a message whose handler returned code (0 → ERR_ACK). */
enum err_disposition err_disposition(int code);

/* "ack", "retry" or "dead". */
const char *err_disposition_name(enum err_disposition d);

#endif
