/*
 * fuzz.h - what the libFuzzer harnesses share: the entry points libFuzzer
 * calls, a check that aborts with a message (so the input is kept as a
 * crash), and the generated tables of every context's contracts and service
 * descriptors (fuzz_contracts.c, fuzz_services.c, made from CONTEXTS).
 *
 * A harness must be deterministic and quiet: no network, no sleeps, no log
 * lines per input (fuzz_quiet_logs), nothing kept between inputs.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include "common/contract.h"
#include "common/service.h"

#include <stddef.h>
#include <stdint.h>

/* Called by libFuzzer for every input; returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Called by libFuzzer once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Every context's NULL-terminated list of published events, NULL-terminated. */
extern const struct contract_event *const *const fuzz_contracts[];

/* Every context's service descriptor, NULL-terminated. */
extern const struct service_def *const fuzz_services[];

/* Aborts (libFuzzer keeps the input) with "fuzz: check failed: <message>" when cond is false. */
#define FUZZ_CHECK(cond, ...) ((cond) ? (void)0 : fuzz_fail(#cond, __VA_ARGS__))

void fuzz_fail(const char *cond, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/* data[0..size) as a new NUL-terminated string (free() it); aborts when out of memory. */
char *fuzz_strndup(const uint8_t *data, size_t size);

/*
 * Changes every letter and digit of s[start, end) to another one of the same
 * kind, and nothing else: a hex digit stays a hex digit (a '0' stays '0', so
 * "%00" stays refused), any other letter stays a non-hex letter, and the
 * punctuation that gives a URL its structure ('@', ':', '%', '/', …) stays.
 * A parser reads the result along the same path as s; text derived from it
 * that differs from the text derived from s shows those bytes.
 */
void fuzz_swap_secret(char *s, size_t start, size_t end);

/* Sends every log line, debug included, to /dev/null: one per input would drown the fuzzer. */
void fuzz_quiet_logs(void);

#endif
