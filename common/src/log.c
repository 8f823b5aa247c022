/*
 * log.c - one JSON object per line. The line is built in a stack buffer and
 * written with a single fwrite under a mutex, so concurrent threads never
 * interleave. Messages are escaped here; callers pass plain text.
 */
#include "common/log.h"

#include "common/envelope.h"

#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#define LOG_LINE_MAX 4096
#define LOG_NAME_MAX 64

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static enum log_level log_min = LOG_LEVEL_INFO;
static char log_context[LOG_NAME_MAX] = "-";
static char log_instance[LOG_NAME_MAX] = "-";
static FILE *log_stream;

void log_setup(const char *context, const char *instance, enum log_level min_level)
{
    pthread_mutex_lock(&log_lock);
    snprintf(log_context, sizeof(log_context), "%s", context ? context : "-");
    snprintf(log_instance, sizeof(log_instance), "%s", instance ? instance : "-");
    log_min = min_level;
    pthread_mutex_unlock(&log_lock);
}

void log_set_stream(FILE *stream)
{
    pthread_mutex_lock(&log_lock);
    log_stream = stream;
    pthread_mutex_unlock(&log_lock);
}

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *text, enum log_level *out)
{
    for (size_t i = 0; text && i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(text, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return (unsigned)level < 4 ? level_names[level] : "info";
}

/* Appends s JSON-escaped at buf+*len, never past cap-1; keeps buf terminated. */
static void put_escaped(char *buf, size_t *len, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s && *len + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[(*len)++] = '\\';
            buf[(*len)++] = (char)c;
        } else if (c == '\n') {
            buf[(*len)++] = '\\';
            buf[(*len)++] = 'n';
        } else if (c == '\t') {
            buf[(*len)++] = '\\';
            buf[(*len)++] = 't';
        } else if (c < 0x20 || c == 0x7f) {
            buf[(*len)++] = '\\';
            buf[(*len)++] = 'u';
            buf[(*len)++] = '0';
            buf[(*len)++] = '0';
            buf[(*len)++] = hex[c >> 4];
            buf[(*len)++] = hex[c & 15];
        } else {
            buf[(*len)++] = (char)c;
        }
    }
    buf[*len] = '\0';
}

static void put_raw(char *buf, size_t *len, size_t cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n >= cap)
        n = cap - *len - 1;
    memcpy(buf + *len, s, n);
    *len += n;
    buf[*len] = '\0';
}

static void put_field(char *buf, size_t *len, size_t cap, const char *key, const char *value)
{
    if (!value || !*value)
        return;
    put_raw(buf, len, cap, ",\"");
    put_raw(buf, len, cap, key);
    put_raw(buf, len, cap, "\":\"");
    put_escaped(buf, len, cap, value);
    put_raw(buf, len, cap, "\"");
}

static void log_vwrite(enum log_level level, const struct log_fields *f, const char *fmt, va_list ap)
{
    if (level < log_min)
        return;

    char message[LOG_LINE_MAX / 2];
    vsnprintf(message, sizeof(message), fmt, ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[96];
    snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);

    char line[LOG_LINE_MAX];
    size_t len = 0;
    line[0] = '\0';
    put_raw(line, &len, sizeof(line), "{\"time\":\"");
    put_raw(line, &len, sizeof(line), when);
    put_raw(line, &len, sizeof(line), "\"");
    put_field(line, &len, sizeof(line), "level", log_level_name(level));

    pthread_mutex_lock(&log_lock);
    put_field(line, &len, sizeof(line), "context", log_context);
    put_field(line, &len, sizeof(line), "instance", log_instance);
    put_field(line, &len, sizeof(line), "message", message);
    if (f) {
        put_field(line, &len, sizeof(line), "event_id", f->event_id);
        put_field(line, &len, sizeof(line), "type", f->type);
        put_field(line, &len, sizeof(line), "correlation_id", f->correlation_id);
        put_field(line, &len, sizeof(line), "error", f->error);
    }
    /* Room for the closing brace and newline is kept by the 7-byte margin above. */
    if (len + 3 > sizeof(line))
        len = sizeof(line) - 3;
    line[len++] = '}';
    line[len++] = '\n';
    FILE *out = log_stream ? log_stream : stderr;
    fwrite(line, 1, len, out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
}

void log_write(enum log_level level, const struct log_fields *fields, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, fields, fmt, ap);
    va_end(ap);
}

void log_write_ev(enum log_level level, const struct envelope *ev, const char *fmt, ...)
{
    struct log_fields f = {0};
    if (ev) {
        f.event_id = ev->id;
        f.type = ev->type;
        f.correlation_id = ev->correlation_id;
    }
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, ev ? &f : NULL, fmt, ap);
    va_end(ap);
}

void log_mask_url(const char *url, char *out, size_t outlen)
{
    if (!outlen)
        return;
    if (!url) {
        snprintf(out, outlen, "%s", "");
        return;
    }
    const char *scheme = strstr(url, "://");
    if (scheme) {
        const char *auth = scheme + 3;
        const char *at = strchr(auth, '@');
        const char *slash = strchr(auth, '/');
        const char *colon = strchr(auth, ':');
        if (at && (!slash || at < slash) && colon && colon < at) {
            snprintf(out, outlen, "%.*s:***%s", (int)(colon - url), url, at);
            return;
        }
        snprintf(out, outlen, "%s", url);
        return;
    }
    /* A libpq keyword string: mask the value of password=. */
    const char *pw = strstr(url, "password=");
    if (!pw) {
        snprintf(out, outlen, "%s", url);
        return;
    }
    const char *end = pw + strlen("password=");
    while (*end && *end != ' ')
        end++;
    snprintf(out, outlen, "%.*spassword=***%s", (int)(pw - url), url, end);
}
