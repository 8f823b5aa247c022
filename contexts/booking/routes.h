/*
 * routes.h - booking's HTTP API: the route table that service.c hands to the
 * server. The route handlers themselves are static in routes.c.
 */
#ifndef BOOKING_ROUTES_H
#define BOOKING_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/*
 * The count is a constant so that service.c can put the table into its
 * static const service_def (a count read from another file is not a
 * constant expression in C); a _Static_assert next to the table in routes.c
 * keeps the two equal.
 */
#define BOOKING_NROUTES 2

extern const struct http_route booking_routes[];

#endif
