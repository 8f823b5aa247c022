/*
 * fuzz.c - helpers shared by the harnesses (see fuzz.h).
 */
#include "fuzz.h"

#include "common/log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *cond, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz: check failed: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (%s)\n", cond);
    va_end(ap);
    abort();
}

char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        fuzz_fail("s != NULL", "out of memory copying %zu bytes", size);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

void fuzz_swap_secret(char *s, size_t start, size_t end)
{
    for (size_t i = start; i < end; i++) {
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (hex && c != '0')
            s[i] = c == '7' ? '8' : '7';
        else if (letter)
            s[i] = c == 'x' ? 'y' : 'x';
    }
}

void fuzz_quiet_logs(void)
{
    FILE *null = fopen("/dev/null", "w");
    if (!null)
        fuzz_fail("null != NULL", "cannot open /dev/null");
    /* Debug: every line is still formatted, so the logger's escaping of input is fuzzed too. */
    log_setup("fuzz", "fuzz", LOG_LEVEL_DEBUG);
    log_set_stream(null); /* kept open for the process's life */
}
