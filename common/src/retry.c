/*
 * retry.c - exponential backoff with equal jitter (see retry.h).
 */
#include "common/retry.h"

int64_t retry_delay_ms(const struct retry_policy *policy, int attempt, uint32_t random)
{
    int64_t cap = policy->max_ms > 0 ? policy->max_ms : 0;
    int64_t delay = policy->base_ms > 0 ? policy->base_ms : 0;
    for (int i = 1; i < attempt && delay < cap; i++)
        delay *= 2;
    if (delay > cap)
        delay = cap;
    int64_t half = delay / 2;
    return half + (half > 0 ? (int64_t)(random % (uint64_t)(half + 1)) : 0) + (delay % 2);
}

bool retry_exhausted(const struct retry_policy *policy, int attempts)
{
    return attempts >= policy->max_attempts;
}
