/*
 * service.c - the composition root of the booking context: it names the
 * context and wires its tables together. Its one key of its own is
 * BOOKING_TIMEOUT_MS; routes, handlers and the expiry tick reach the database
 * through the connection they are given.
 */
#include "booking/service.h"

#include "common/service.h"

#include "booking/contract/booking_contract.h"
#include "booking/expiry.h"
#include "booking/handlers.h"
#include "booking/routes.h"

#include <stddef.h>

static struct booking_app booking_app;

/* BOOKING_TIMEOUT_MS (SPEC §1): the deadline of a pending booking, counted from its creation. */
static const struct config_key booking_config_keys[] = {
    {"BOOKING_TIMEOUT_MS", "--booking-timeout-ms", CONFIG_INT, "60000", BOOKING_TIMEOUT_MS_MIN,
     BOOKING_TIMEOUT_MS_MAX, NULL, 0, offsetof(struct booking_app, timeout_ms),
     "milliseconds a booking may stay pending; then it expires and its stock and money go back"},
};

const struct service_def booking_service = {
    .name = "booking",
    .http_port = BOOKING_HTTP_PORT,
    .config_keys = booking_config_keys,
    .nconfig_keys = sizeof(booking_config_keys) / sizeof(booking_config_keys[0]),
    .config = &booking_app,
    .routes = booking_routes,
    .nroutes = BOOKING_NROUTES,
    .subscriptions = booking_subscriptions,
    .nsubscriptions = BOOKING_NSUBSCRIPTIONS,
    .publishes = booking_contract_events,
    .app = &booking_app,
    .tick = expiry_tick,
    .tick_ms = BOOKING_TICK_MS,
};
