/*
 * routes.h - payment's HTTP API: the route table service.c hands to the
 * server (bodies in routes.c).
 */
#ifndef PAYMENT_ROUTES_H
#define PAYMENT_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define PAYMENT_NROUTES 1

extern const struct http_route payment_routes[PAYMENT_NROUTES];

#endif
