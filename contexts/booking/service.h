/*
 * service.h - the booking service descriptor: what main.c hands to
 * service_main() (name, port, routes, subscriptions, published contract).
 */
#ifndef BOOKING_SERVICE_H
#define BOOKING_SERVICE_H

/* The type is in common/service.h; routes and handlers that read the app need not see it. */
struct service_def;

#define BOOKING_HTTP_PORT 8083 /* SPEC §1 */

#define BOOKING_TIMEOUT_MS_MIN 100      /* bounds of BOOKING_TIMEOUT_MS */
#define BOOKING_TIMEOUT_MS_MAX 86400000 /* one day */
#define BOOKING_TICK_MS        250      /* how often overdue bookings are looked for */

/*
 * booking's configuration, filled by the config phase before any thread
 * starts and read-only afterwards: handed to routes (the deadline of a new
 * booking) and to the expiry tick.
 */
struct booking_app {
    int timeout_ms; /* BOOKING_TIMEOUT_MS: a booking still pending this long after creation expires */
    int in_flight_max; /* BOOKING_IN_FLIGHT_MAX: pending bookings above which POST /bookings is 503 */
};

extern const struct service_def booking_service;

#endif
