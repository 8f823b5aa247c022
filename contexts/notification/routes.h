/*
 * routes.h - notification's HTTP routes (see routes.c and README.md).
 */
#ifndef NOTIFICATION_ROUTES_H
#define NOTIFICATION_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define NOTIFICATION_NROUTES 1

extern const struct http_route notification_routes[NOTIFICATION_NROUTES];

#endif
