/*
 * service.h - the booking service descriptor: what main.c hands to
 * service_main() (name, port, routes, subscriptions, published contract).
 */
#ifndef BOOKING_SERVICE_H
#define BOOKING_SERVICE_H

#include "common/service.h"

#define BOOKING_HTTP_PORT 8083 /* SPEC §1 */

extern const struct service_def booking_service;

#endif
