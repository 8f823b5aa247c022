/*
 * retry.h - when to try a failed message again (pure: no clock, no I/O).
 *
 * Delay for attempt n (1 = the first retry): base · 2^(n-1), capped at max,
 * with "equal jitter": half of it fixed, half random, so retries of many
 * messages spread out but never come sooner than half the backoff.
 */
#ifndef COMMON_RETRY_H
#define COMMON_RETRY_H

#include <stdbool.h>
#include <stdint.h>

struct retry_policy {
    int max_attempts; /* RETRY_MAX_ATTEMPTS: attempts in all, the first one included */
    int base_ms;      /* RETRY_BASE_MS */
    int max_ms;       /* RETRY_MAX_MS */
};

/* The SPEC's defaults: 5 attempts, 1 s base, 60 s cap. */
#define RETRY_POLICY_DEFAULT ((struct retry_policy){5, 1000, 60000})

/*
 * Milliseconds to wait after failed attempt number attempt (≥ 1) before the
 * next one. random is any 32-bit random value (the caller's source, so tests
 * can pin it). Never negative, never above policy->max_ms.
 */
int64_t retry_delay_ms(const struct retry_policy *policy, int attempt, uint32_t random);

/* True when attempts (already made) leave no attempt to try. */
bool retry_exhausted(const struct retry_policy *policy, int attempts);

#endif
