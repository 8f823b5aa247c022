/*
 * log.h - structured logs: one JSON object per line on stderr (SPEC §5).
 *
 *   {"time":"2026-11-23T18:40:01.123Z","level":"info","context":"booking",
 *    "instance":"booking-1","message":"relay started","event_id":"…",
 *    "type":"booking.booking.created","correlation_id":"…"}
 *
 * Each line is one decision or fact. Event fields are added by the *_ev
 * variants. Every line is valid JSON whatever the text holds: control
 * characters are escaped and bytes that are not well-formed UTF-8 become
 * \ufffd. Thread-safe: a line is formatted in a buffer and written with one
 * call, so lines of different threads never interleave.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

#include <stddef.h>
#include <stdio.h>

struct envelope;

enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
};

/* Optional fields of one line; any member may be NULL. */
struct log_fields {
    const char *event_id;
    const char *type;
    const char *correlation_id;
    const char *error; /* err_name() of the failure, when one is reported */
};

/* Sets the context and instance names every line carries (copied) and the minimum level. */
void log_setup(const char *context, const char *instance, enum log_level min_level);

/* Redirects output (tests); NULL restores stderr. The stream is borrowed. */
void log_set_stream(FILE *stream);

/* Parses "debug|info|warn|error"; returns 0, or -1 for anything else. */
int log_level_parse(const char *text, enum log_level *out);

const char *log_level_name(enum log_level level);

/* Writes one line if level is enabled. fields may be NULL. */
void log_write(enum log_level level, const struct log_fields *fields, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes one line carrying ev's id, type and correlation id (ev may be NULL). */
void log_write_ev(enum log_level level, const struct envelope *ev, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(...)        log_write(LOG_LEVEL_DEBUG, NULL, __VA_ARGS__)
#define log_info(...)         log_write(LOG_LEVEL_INFO, NULL, __VA_ARGS__)
#define log_warn(...)         log_write(LOG_LEVEL_WARN, NULL, __VA_ARGS__)
#define log_error(...)        log_write(LOG_LEVEL_ERROR, NULL, __VA_ARGS__)
#define log_debug_ev(ev, ...) log_write_ev(LOG_LEVEL_DEBUG, ev, __VA_ARGS__)
#define log_info_ev(ev, ...)  log_write_ev(LOG_LEVEL_INFO, ev, __VA_ARGS__)
#define log_warn_ev(ev, ...)  log_write_ev(LOG_LEVEL_WARN, ev, __VA_ARGS__)
#define log_error_ev(ev, ...) log_write_ev(LOG_LEVEL_ERROR, ev, __VA_ARGS__)

/*
 * Copies url into out (size outlen) with every password replaced by "***",
 * keeping the rest readable. Never fails; truncates. Handles
 *   - URLs of any scheme: "amqp://user:secret@host/v" -> "amqp://user:***@host/v";
 *     the user info ends at the last '@' before the host ("user:p@ss@host"
 *     hides "p@ss"; an unencoded '/' or '?' in the password is allowed for),
 *     the password may be percent-encoded or come without "@host"
 *     ("amqp://guest:***"), and password= and sslpassword= query parameters
 *     are masked too ("postgresql://u@h/db?password=***");
 *   - a comma-separated list of URLs (AMQP_URL naming a cluster's nodes:
 *     a ',' that "scheme://" follows starts the next), each masked alone;
 *   - libpq keyword strings: "host=h password=*** user=u", quoted values
 *     ("password='a b'") and spaces around '=' included.
 * Needs no libpq: for a DATABASE_URL prefer db_mask_conninfo (db.h), which
 * lets libpq itself say which options are secret.
 */
void log_mask_url(const char *url, char *out, size_t outlen);

/*
 * Copies the C string src into dst (size cap > 0) as well-formed UTF-8:
 * each byte that does not belong to a valid sequence (stray continuation,
 * overlong form, surrogate, above U+10FFFF, cut short) becomes U+FFFD.
 * Truncates at a character boundary, never inside a sequence; dst is always
 * terminated. Returns strlen(dst). For any text taken from a message that
 * leaves the process outside a log line, e.g. AMQP header values and
 * properties copied from a delivery (log lines escape such bytes themselves).
 */
size_t log_sanitize_utf8(char *dst, size_t cap, const char *src);

#endif
