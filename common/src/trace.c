/*
 * trace.c - W3C traceparent parsing and formatting, new ids, and the
 * thread's current trace context (see trace.h).
 */
#include "common/trace.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static _Thread_local struct trace_context current;
static _Thread_local bool has_current;

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c - 'a' + 10;
}

static bool all_zero(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '0')
            return false;
    return true;
}

bool trace_parse(const char *text, struct trace_context *t)
{
    /* version "-" trace-id "-" parent-id "-" trace-flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 */
    if (!text)
        return false;
    size_t len = strlen(text);
    if (len < 55 || text[2] != '-' || text[35] != '-' || text[52] != '-')
        return false;
    if (!is_lower_hex(text, 2) || strncmp(text, "ff", 2) == 0)
        return false;
    /* Version 00 is exactly 55 characters; a later version may append "-…". */
    if (strncmp(text, "00", 2) == 0 ? len != 55 : (len > 55 && text[55] != '-'))
        return false;
    if (!is_lower_hex(text + 3, TRACE_ID_HEX) || !is_lower_hex(text + 36, TRACE_SPAN_HEX) ||
        !is_lower_hex(text + 53, 2) || all_zero(text + 3, TRACE_ID_HEX) ||
        all_zero(text + 36, TRACE_SPAN_HEX))
        return false;
    memcpy(t->trace_id, text + 3, TRACE_ID_HEX);
    t->trace_id[TRACE_ID_HEX] = '\0';
    memcpy(t->span_id, text + 36, TRACE_SPAN_HEX);
    t->span_id[TRACE_SPAN_HEX] = '\0';
    t->parent_id[0] = '\0';
    t->flags = (unsigned char)(hex_digit(text[53]) << 4 | hex_digit(text[54])); /* checked above */
    return true;
}

void trace_format(const struct trace_context *t, char out[TRACE_PARENT_LEN])
{
    snprintf(out, TRACE_PARENT_LEN, "00-%.32s-%.16s-%02x", t->trace_id, t->span_id,
             (unsigned)t->flags);
}

/* n random bytes as 2n lowercase hex digits, never all zeros. */
static void random_hex(char *out, size_t nbytes)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char b[16];
    do {
        if (getrandom(b, nbytes, 0) != (ssize_t)nbytes) {
            /* No entropy available (never on Linux ≥ 3.17 once booted): time and address. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            unsigned long long x = (unsigned long long)ts.tv_nsec ^
                                   ((unsigned long long)ts.tv_sec << 30) ^
                                   (unsigned long long)(size_t)out;
            for (size_t i = 0; i < nbytes; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                b[i] = (unsigned char)x;
            }
        }
        for (size_t i = 0; i < nbytes; i++) {
            out[2 * i] = digits[b[i] >> 4];
            out[2 * i + 1] = digits[b[i] & 0x0f];
        }
        out[2 * nbytes] = '\0';
    } while (all_zero(out, 2 * nbytes));
}

void trace_start(struct trace_context *t)
{
    random_hex(t->trace_id, TRACE_ID_HEX / 2);
    random_hex(t->span_id, TRACE_SPAN_HEX / 2);
    t->parent_id[0] = '\0';
    t->flags = 1;
}

void trace_child(const struct trace_context *parent, struct trace_context *child)
{
    struct trace_context c;
    memcpy(c.trace_id, parent->trace_id, sizeof(c.trace_id));
    memcpy(c.parent_id, parent->span_id, sizeof(c.parent_id));
    random_hex(c.span_id, TRACE_SPAN_HEX / 2);
    c.flags = parent->flags;
    *child = c;
}

void trace_begin(const char *text, struct trace_context *span)
{
    struct trace_context caller;
    if (text && trace_parse(text, &caller))
        trace_child(&caller, span);
    else
        trace_start(span);
    trace_set_current(span);
}

const struct trace_context *trace_current(void)
{
    return has_current ? &current : NULL;
}

void trace_set_current(const struct trace_context *t)
{
    has_current = t != NULL;
    if (t)
        current = *t;
}
