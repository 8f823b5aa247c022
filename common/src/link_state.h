/*
 * link_state.h - whether a worker thread's connection (to the broker or the
 * database) is up, and when a failure is worth a log line: on the way down,
 * on the very first attempt (a service that never reaches the broker, e.g.
 * because its queue was declared with other arguments, must say so), and
 * then every LINK_WARN_EVERY_MS while the outage lasts - never once per
 * retry. /health reads `up`.
 */
#ifndef COMMON_LINK_STATE_H
#define COMMON_LINK_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define LINK_WARN_EVERY_MS 30000

struct link_state {
    atomic_bool up;
    bool warned;       /* a failure was logged during this outage */
    int64_t warned_ms; /* when (owner thread only) */
};

/* Records a failure at now_ms; true when the caller should log it. */
static inline bool link_failed(struct link_state *s, int64_t now_ms)
{
    bool was_up = atomic_exchange(&s->up, false);
    if (!was_up && s->warned && now_ms - s->warned_ms < LINK_WARN_EVERY_MS)
        return false;
    s->warned = true;
    s->warned_ms = now_ms;
    return true;
}

/* Records a success; true when the link was not up before (first contact or the end of an outage). */
static inline bool link_ok(struct link_state *s)
{
    s->warned = false;
    return !atomic_exchange(&s->up, true);
}

static inline bool link_is_up(const struct link_state *s)
{
    return atomic_load(&s->up);
}

#endif
