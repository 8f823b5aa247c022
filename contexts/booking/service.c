/*
 * service.c - the composition root of the booking context: it names the
 * context and wires its tables together. booking has no configuration of
 * its own (only the common keys) and no shared state: routes and handlers
 * reach the database through the connection they are given.
 */
#include "booking/service.h"

#include "booking/contract/booking_contract.h"
#include "booking/handlers.h"
#include "booking/routes.h"

const struct service_def booking_service = {
    .name = "booking",
    .http_port = BOOKING_HTTP_PORT,
    .routes = booking_routes,
    .nroutes = BOOKING_NROUTES,
    .subscriptions = booking_subscriptions,
    .nsubscriptions = BOOKING_NSUBSCRIPTIONS,
    .publishes = booking_contract_events,
};
