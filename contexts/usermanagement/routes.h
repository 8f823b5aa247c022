/*
 * routes.h - usermanagement's HTTP API: the route table that service.c hands
 * to the server. The handlers themselves are static in routes.c.
 */
#ifndef USERMANAGEMENT_ROUTES_H
#define USERMANAGEMENT_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/*
 * Rows of usermanagement_routes. The descriptor in service.c is a constant
 * initialiser, which cannot read another file's table size, so the count is a
 * macro and routes.c checks the table has exactly this many rows.
 */
#define USERMANAGEMENT_NROUTES 2

extern const struct http_route usermanagement_routes[];

#endif
