/*
 * routes.h - inventory's HTTP API: its route table (handlers are static in
 * routes.c). The size is a macro as well, because service.c puts the table
 * into a constant initializer.
 */
#ifndef INVENTORY_ROUTES_H
#define INVENTORY_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define INVENTORY_NROUTES 2

extern const struct http_route inventory_routes[INVENTORY_NROUTES];

#endif
