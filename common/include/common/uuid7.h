/*
 * uuid7.h - time-ordered identifiers (RFC 9562 version 7).
 *
 * libuuid 2.38 has no v7 generator, so ids are built here from the Unix time
 * in milliseconds, a 12-bit counter that keeps ids of one process strictly
 * increasing within a millisecond, and random bits from getrandom(2).
 * Text form: 36 lowercase characters, e.g. "01936f0e-1c2a-7d4b-8e3f-0a1b2c3d4e5f".
 */
#ifndef COMMON_UUID7_H
#define COMMON_UUID7_H

#include <stdbool.h>
#include <stdint.h>

#define UUID7_STR_LEN 37 /* 36 characters and the terminator */

/* Writes a new v7 id into out; thread-safe. Returns 0 or ERR_INTERNAL (no randomness). */
int uuid7_generate(char out[UUID7_STR_LEN]);

/* Builds a v7 id from given parts (tests): ms since the epoch, 12-bit counter, 8 random bytes. */
void uuid7_format(char out[UUID7_STR_LEN], uint64_t unix_ms, uint16_t counter,
                  const uint8_t rand_b[8]);

/* True when s is a canonical UUID text of any version (8-4-4-4-12 hex, either case). */
bool uuid7_is_valid(const char *s);

/* The millisecond timestamp of a v7 id, or -1 when s is not a valid v7 id. */
int64_t uuid7_unix_ms(const char *s);

#endif
