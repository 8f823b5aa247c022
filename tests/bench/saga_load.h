/*
 * saga_load.h - the saga benchmark's load: POST /bookings (quantity 1) to
 * the booking service over keep-alive connections, one thread each, either
 * closed loop (each connection sends its next booking as soon as the reply
 * to the last one came: "as fast as they go") or open loop at a fixed rate
 * (booking i is due at start + i / rate, whatever the replies do, so a slow
 * reply does not slow the offered load). It keeps the id of every accepted
 * (202) booking: the figures are computed from the database for those ids.
 */
#ifndef SAGA_LOAD_H
#define SAGA_LOAD_H

#include "common/uuid7.h"

#include <stdint.h>

#define SAGA_ID_LEN UUID7_STR_LEN /* a UUID in text form, with its NUL */

struct saga_load_spec {
    int port; /* the booking service's HTTP port */
    const char *user_id;
    const char (*offerings)[SAGA_ID_LEN]; /* booked round robin */
    int noffers;
    const char *declined_offering; /* priced above PAYMENT_LIMIT_CENTS, or NULL */
    int declined_every;            /* every n-th booking goes to it (0: none) */
    int connections;
    int rate;    /* bookings/s (open loop), or 0 for closed loop */
    int seconds; /* how long bookings are sent */
};

struct saga_load_result {
    long sent, accepted, refused, failed; /* refused: a status other than 202; failed: no reply */
    long
        busy; /* 503 with Retry-After (admission control): the client waited as told, not refused */
    double elapsed_s;                             /* first request sent → last reply received */
    double http_p50_ms, http_p99_ms, http_max_ms; /* request → reply, accepted ones */
    double late_max_ms;       /* open loop: the latest a booking went out after its time */
    char (*ids)[SAGA_ID_LEN]; /* the accepted bookings' ids (owned) */
    long nids;
    char first_error[256]; /* the first refusal or failure, "" when none */
};

/* Runs the load; fills *out (free it with saga_load_free). Returns 0, or -1 when out of memory. */
int saga_load_run(const struct saga_load_spec *spec, struct saga_load_result *out);

void saga_load_free(struct saga_load_result *r);

#endif
