/*
 * routes.h - booking's HTTP API: the route table that service.c hands to the
 * server. The route handlers themselves are static in routes.c.
 */
#ifndef BOOKING_ROUTES_H
#define BOOKING_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define BOOKING_NROUTES 2

extern const struct http_route booking_routes[BOOKING_NROUTES];

#endif
