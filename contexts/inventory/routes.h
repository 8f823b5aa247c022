/*
 * routes.h - inventory's HTTP API: its route table (handlers are static in
 * routes.c). The size is a macro as well, because service.c puts the table
 * into a constant initializer.
 */
#ifndef INVENTORY_ROUTES_H
#define INVENTORY_ROUTES_H

#include "common/http.h"

#include <stddef.h>

#define INVENTORY_NROUTES 2

extern const struct http_route
    inventory_routes[]; /* INVENTORY_NROUTES rows, checked where it is defined */

#endif
