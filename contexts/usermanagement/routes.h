/*
 * routes.h - usermanagement's HTTP API: the route table that service.c hands
 * to the server. The handlers themselves are static in routes.c.
 */
#ifndef USERMANAGEMENT_ROUTES_H
#define USERMANAGEMENT_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define USERMANAGEMENT_NROUTES 2

extern const struct http_route usermanagement_routes[USERMANAGEMENT_NROUTES];

#endif
