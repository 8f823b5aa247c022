/*
 * log.c - one JSON object per line. The line is built in a stack buffer and
 * written with a single fwrite under a mutex, so concurrent threads never
 * interleave. Messages are escaped here; callers pass plain text.
 */
#include "common/log.h"

#include "common/trace.h"

#include "common/envelope.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
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

/*
 * Length of the well-formed UTF-8 sequence at s (1 to 4 bytes, at most n
 * available), or 0 when the byte at s does not start one: a stray
 * continuation byte, an overlong form, a surrogate, a code point above
 * U+10FFFF, or a sequence cut short (RFC 3629, Table 3-7 of Unicode).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong below U+0800 */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return 0; /* 0x80..0xc1 (continuation or overlong lead), 0xf5..0xff */
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/*
 * Appends s JSON-escaped at buf+*len, never past cap-1; keeps buf terminated.
 * Bytes that are not well-formed UTF-8 become \ufffd, so every line is valid
 * JSON whatever a message id or a routing key held; a character that does
 * not fit whole is left out rather than cut.
 */
static void put_escaped(char *buf, size_t *len, size_t cap, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s);
    for (size_t i = 0; i < n && *len + 7 < cap;) {
        unsigned char c = (unsigned char)s[i];
        size_t seq = utf8_len((const unsigned char *)s + i, n - i);
        if (seq == 0) {
            memcpy(buf + *len, "\\ufffd", 6);
            *len += 6;
            i++;
            continue;
        }
        if (seq > 1) {
            memcpy(buf + *len, s + i, seq); /* seq <= 4 < the 7-byte margin */
            *len += seq;
            i += seq;
            continue;
        }
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
        i++;
    }
    buf[*len] = '\0';
}

size_t log_sanitize_utf8(char *dst, size_t cap, const char *src)
{
    if (!cap)
        return 0;
    static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD in UTF-8 */
    size_t o = 0, n = src ? strlen(src) : 0;
    for (size_t i = 0; i < n;) {
        size_t seq = utf8_len((const unsigned char *)src + i, n - i);
        const char *piece = seq ? src + i : replacement;
        size_t plen = seq ? seq : sizeof(replacement) - 1;
        if (o + plen >= cap)
            break; /* never half a character */
        memcpy(dst + o, piece, plen);
        o += plen;
        i += seq ? seq : 1;
    }
    dst[o] = '\0';
    return o;
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

static void log_vwrite(enum log_level level, const struct log_fields *f, const char *fmt,
                       va_list ap)
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
    /* Written while a request or a delivery is handled: its trace (trace.h), for log-trace joins. */
    const struct trace_context *trace = trace_current();
    if (trace) {
        put_field(line, &len, sizeof(line), "trace_id", trace->trace_id);
        put_field(line, &len, sizeof(line), "span_id", trace->span_id);
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

/* ---- masking ------------------------------------------------------------------ */

/* A bounded output buffer: appends past its capacity are dropped, the text stays terminated. */
struct mask_out {
    char *buf;
    size_t cap, len;
};

static void mask_put(struct mask_out *o, const char *s, size_t n)
{
    if (o->len + n >= o->cap)
        n = o->cap - o->len - 1;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static int mask_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * True when the n bytes at k name a secret: libpq's password and sslpassword
 * (its two options shown as '*'). The name is percent-decoded first, as
 * libpq decodes URI parameters, and compared without case, to mask more.
 */
static bool mask_is_secret_key(const char *k, size_t n)
{
    char name[16];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)k[i];
        if (c == '%' && i + 2 < n && mask_hex((unsigned char)k[i + 1]) >= 0 &&
            mask_hex((unsigned char)k[i + 2]) >= 0) {
            c = mask_hex((unsigned char)k[i + 1]) * 16 + mask_hex((unsigned char)k[i + 2]);
            i += 2;
        }
        if (o + 1 >= sizeof(name))
            return false;
        name[o++] = (char)tolower(c);
    }
    name[o] = '\0';
    return strcmp(name, "password") == 0 || strcmp(name, "sslpassword") == 0;
}

/* Length of "scheme://" at the start of s (RFC 3986 scheme), or 0. */
static size_t mask_scheme_len(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    size_t i = 1;
    while (isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return strncmp(s + i, "://", 3) == 0 ? i + 3 : 0;
}

/*
 * Length of the first URL of a comma-separated list at s: up to the first ','
 * that spaces and "scheme://" follow (a URL's own ',' never is), else all of s.
 */
static size_t mask_list_item_len(const char *s)
{
    for (const char *c = strchr(s, ','); c; c = strchr(c + 1, ','))
        if (mask_scheme_len(c + 1 + strspn(c + 1, " \t")))
            return (size_t)(c - s);
    return strlen(s);
}

/* The last '@' in url[from, to), or NULL. */
static const char *mask_last_at(const char *url, size_t from, size_t to)
{
    const char *at = NULL;
    for (size_t i = from; i < to; i++)
        if (url[i] == '@')
            at = url + i;
    return at;
}

/*
 * Where the password of a URL's authority starts when it has no user info:
 * an item of "host[:port],..." whose ':' is followed by anything but digits,
 * or by nothing, is "user:password" without "@host" (libpq and the AMQP
 * parser would read the password as a port), or a password whose unencoded
 * '/' or '?' ended the authority early. Returns the offset of that ':', or 0.
 */
static size_t mask_hostless_password(const char *url, size_t from, size_t to)
{
    for (size_t i = from; i < to;) {
        if (url[i] == '[') /* an IPv6 literal holds ':' of its own */
            while (i < to && url[i] != ']')
                i++;
        if (i < to && url[i] == ':') {
            size_t colon = i;
            if (i + 1 == to || url[i + 1] == ',')
                return colon;
            for (i++; i < to && url[i] != ','; i++)
                if (url[i] < '0' || url[i] > '9')
                    return colon;
        }
        if (i < to)
            i++;
    }
    return 0;
}

/*
 * A URL. The user info ends at the last '@' before the first '/' or, if
 * later, the last '@' before the query: libpq ends it at the first '@',
 * browsers at the last before the host, and a password may hold an unencoded
 * '/' or '?'; masking through the latest hides the password for every
 * reading. Everything after its first ':' is the password. With no '@' there,
 * a ':' that does not start a port starts a password without "@host", masked
 * up to a later '@' before the query, or else to the end. Every password= or
 * sslpassword= parameter after a '?' or '&' is masked up to the next '&'
 * (libpq reads both there).
 */
static void mask_url_form(struct mask_out *o, const char *url, size_t scheme_len)
{
    size_t len = strlen(url);
    size_t auth_end = scheme_len + strcspn(url + scheme_len, "/");
    size_t query = scheme_len + strcspn(url + scheme_len, "?");
    size_t pw_start = len + 1, pw_end = 0; /* the password in the authority, when there is one */
    const char *at = mask_last_at(url, scheme_len, auth_end);
    const char *at_before_query = mask_last_at(url, scheme_len, query);
    if (!at || (at_before_query && at_before_query > at))
        at = at_before_query;
    if (at) {
        const char *colon = memchr(url + scheme_len, ':', (size_t)(at - url) - scheme_len);
        if (colon) {
            pw_start = (size_t)(colon - url) + 1;
            pw_end = (size_t)(at - url);
        }
    } else {
        size_t host_end = scheme_len + strcspn(url + scheme_len, "/?");
        size_t colon = mask_hostless_password(url, scheme_len, host_end);
        const char *later = mask_last_at(url, host_end, query);
        if (colon) {
            pw_start = colon + 1;
            pw_end = later ? (size_t)(later - url) : len;
        }
    }
    mask_put(o, url, scheme_len);
    for (size_t i = scheme_len; i < len;) {
        if (i == pw_start) {
            mask_put(o, "***", 3); /* also for an empty password, which does not move i */
            i = pw_end;
            pw_start = len + 1;
            continue;
        }
        mask_put(o, url + i, 1);
        if (url[i] != '?' && url[i] != '&') {
            i++;
            continue;
        }
        i++;
        size_t key = strcspn(url + i, "=&");
        if (url[i + key] != '=' || !mask_is_secret_key(url + i, key))
            continue;
        size_t value = i + key + 1, end = value + strcspn(url + value, "&");
        if (pw_start >= value && pw_start < end && pw_end > end)
            end = pw_end; /* the user info's password runs on past this value */
        mask_put(o, url + i, key + 1);
        mask_put(o, "***", 3);
        i = end;
    }
}

/*
 * A libpq keyword string, read the way libpq reads it: "key = value" pairs
 * separated by spaces, a value either quoted ('a b', with \' and \\) or up
 * to the next space (with backslash escapes). Only secret values change;
 * spacing, order and everything else are kept, so the text stays readable.
 * Text that is not a pair is copied and the scan goes on after it.
 */
static void mask_keyword_form(struct mask_out *o, const char *s)
{
    const char *p = s;
    while (*p) {
        if (isspace((unsigned char)*p)) {
            mask_put(o, p++, 1);
            continue;
        }
        const char *key = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        size_t key_len = (size_t)(p - key);
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=') {
            mask_put(o, key, (size_t)(p - key));
            continue;
        }
        p++;
        while (isspace((unsigned char)*p))
            p++;
        const char *value = p;
        if (*p == '\'') {
            for (p++; *p && *p != '\''; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (*p)
                p++; /* the closing quote; an unterminated value runs to the end */
        } else {
            for (; *p && !isspace((unsigned char)*p); p++)
                if (*p == '\\' && p[1])
                    p++;
        }
        mask_put(o, key, (size_t)(value - key));
        if (mask_is_secret_key(key, key_len))
            mask_put(o, "***", 3);
        else
            mask_put(o, value, (size_t)(p - value));
    }
}

void log_mask_url(const char *url, char *out, size_t outlen)
{
    if (!outlen)
        return;
    struct mask_out o = {out, outlen, 0};
    out[0] = '\0';
    if (!url)
        return;
    size_t scheme_len = mask_scheme_len(url);
    if (!scheme_len) {
        mask_keyword_form(&o, url);
        return;
    }
    /* A list of URLs (AMQP_URL naming a cluster's nodes): each is masked on its own, so
     * every node's password is hidden and every host stays readable. */
    for (const char *p = url;;) {
        size_t len = mask_list_item_len(p);
        char *item = strndup(p, len);
        if (item)
            mask_url_form(&o, item, mask_scheme_len(item));
        else
            mask_put(&o, "***", 3); /* no memory to tell the password apart: show nothing */
        free(item);
        if (!p[len])
            return;
        size_t sep = 1 + strspn(p + len + 1, " \t");
        mask_put(&o, p + len, sep);
        p += len + sep;
    }
}
