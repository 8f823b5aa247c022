/*
 * steady.h - the library's one monotonic clock and its sleeps, for the
 * worker threads' deadlines, backoffs and pauses (relay, consumer, db, bus).
 * Private to common/src. Monotonic because a wall clock stepped by NTP would
 * stretch or skip a backoff; wall-clock times (timestamps, ids) come from
 * CLOCK_REALTIME where they are made.
 */
#ifndef COMMON_STEADY_H
#define COMMON_STEADY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define STEADY_NAP_STEP_MS 50 /* how soon a nap notices a stop request */

/* Milliseconds on the monotonic clock (an arbitrary origin: compare, never show). */
static inline int64_t steady_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms; an interrupting signal only shortens the pause. */
static inline void steady_sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sleeps up to ms, in STEADY_NAP_STEP_MS steps, returning early once *stopping is set. */
static inline void steady_nap(const atomic_bool *stopping, int ms)
{
    for (int slept = 0; slept < ms && !atomic_load(stopping); slept += STEADY_NAP_STEP_MS)
        steady_sleep_ms(STEADY_NAP_STEP_MS);
}

#endif
