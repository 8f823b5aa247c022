/*
 * service.c - the composition root of the booking context: it names the
 * context and wires its tables together. Its keys of its own are
 * BOOKING_TIMEOUT_MS and BOOKING_IN_FLIGHT_MAX; routes, handlers and the tick
 * (expiry, then admission) reach the database through the connection they
 * are given.
 */
#include "booking/service.h"

#include "common/service.h"

#include "booking/admission.h"
#include "booking/contract/booking_contract.h"
#include "booking/expiry.h"
#include "booking/handlers.h"
#include "booking/routes.h"

#include <stddef.h>

static struct booking_app booking_app;

/*
 * BOOKING_TIMEOUT_MS (SPEC §1): the deadline of a pending booking, counted from its creation.
 * BOOKING_IN_FLIGHT_MAX: admission control (admission.h, ADR 0009).
 */
static const struct config_key booking_config_keys[] = {
    {"BOOKING_TIMEOUT_MS", "--booking-timeout-ms", CONFIG_INT, "60000", BOOKING_TIMEOUT_MS_MIN,
     BOOKING_TIMEOUT_MS_MAX, NULL, 0, offsetof(struct booking_app, timeout_ms),
     "milliseconds a booking may stay pending; then it expires and its stock and money go back"},
    {"BOOKING_IN_FLIGHT_MAX", "--booking-in-flight-max", CONFIG_INT, "250", 0,
     BOOKING_IN_FLIGHT_MAX_MAX, NULL, 0, offsetof(struct booking_app, in_flight_max),
     "pending bookings at which POST /bookings answers 503 with Retry-After until some "
     "complete (0: no bound)"},
};

/* Every BOOKING_TICK_MS, in one transaction: expire overdue bookings, then count those in flight. */
static int booking_tick(struct db *db, void *app, struct err *err)
{
    const struct booking_app *cfg = app;
    int rc = expiry_tick(db, app, err);
    return rc ? rc : admission_tick(db, cfg->in_flight_max, err);
}

const struct service_def booking_service = {
    .name = "booking",
    .http_port = BOOKING_HTTP_PORT,
    .config_keys = booking_config_keys,
    .nconfig_keys = sizeof(booking_config_keys) / sizeof(booking_config_keys[0]),
    .config = &booking_app,
    SERVICE_TABLES(booking),
    .app = &booking_app,
    .tick = booking_tick,
    .tick_ms = BOOKING_TICK_MS,
};
