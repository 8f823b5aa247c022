/*
 * uuid7.c - RFC 9562 version 7 ids.
 *
 * Layout: 48-bit Unix milliseconds | version 7 | 12-bit counter (rand_a) |
 * variant 10 | 62 random bits. The counter restarts from a random value below
 * 2048 each millisecond and counts up within it, so ids of one process are
 * strictly increasing (RFC 9562 §6.2, method 1); if it would overflow, the
 * timestamp is advanced by one millisecond instead. Invariant: every id this
 * process generates sorts after the previous one.
 */
#include "common/uuid7.h"

#include "common/err.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static pthread_mutex_t uuid7_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t uuid7_last_ms;
static uint16_t uuid7_counter;

static int fill_random(void *buf, size_t len)
{
    unsigned char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

void uuid7_format(char out[UUID7_STR_LEN], uint64_t unix_ms, uint16_t counter,
                  const uint8_t rand_b[8])
{
    uint8_t b[16];
    for (int i = 0; i < 6; i++)
        b[i] = (uint8_t)(unix_ms >> (40 - 8 * i));
    b[6] = (uint8_t)(0x70 | ((counter >> 8) & 0x0f));
    b[7] = (uint8_t)(counter & 0xff);
    memcpy(b + 8, rand_b, 8);
    b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
    snprintf(out, UUID7_STR_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

int uuid7_generate(char out[UUID7_STR_LEN])
{
    uint8_t rnd[10];
    if (fill_random(rnd, sizeof(rnd)) != 0) {
        out[0] = '\0';
        return ERR_INTERNAL;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;

    pthread_mutex_lock(&uuid7_lock);
    if (now > uuid7_last_ms) {
        uuid7_last_ms = now;
        uuid7_counter = (uint16_t)(((rnd[8] << 8) | rnd[9]) & 0x07ff);
    } else if (uuid7_counter < 0x0fff) {
        uuid7_counter++; /* same (or earlier: clock stepped back) millisecond */
    } else {
        uuid7_last_ms++; /* counter exhausted: borrow the next millisecond */
        uuid7_counter = 0;
    }
    uint64_t ms = uuid7_last_ms;
    uint16_t counter = uuid7_counter;
    pthread_mutex_unlock(&uuid7_lock);

    uuid7_format(out, ms, counter, rnd);
    return 0;
}

bool uuid7_is_valid(const char *s)
{
    if (!s)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!isxdigit((unsigned char)c)) {
            return false;
        }
    }
    return s[36] == '\0';
}

int64_t uuid7_unix_ms(const char *s)
{
    if (!uuid7_is_valid(s) || s[14] != '7')
        return -1;
    int64_t ms = 0;
    for (int i = 0; i < 13; i++) {
        if (s[i] == '-')
            continue;
        char c = (char)tolower((unsigned char)s[i]);
        ms = ms * 16 + (isdigit((unsigned char)c) ? c - '0' : c - 'a' + 10);
    }
    return ms;
}
