/*
 * routes.h - notification's HTTP routes (see routes.c and README.md).
 */
#ifndef NOTIFICATION_ROUTES_H
#define NOTIFICATION_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/* A constant for service.c's static descriptor; see handlers.h. */
#define NOTIFICATION_NROUTES 1

extern const struct http_route
    notification_routes[]; /* NOTIFICATION_NROUTES rows, checked where it is defined */

#endif
