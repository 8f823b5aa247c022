/*
 * routes.h - payment's HTTP API: the route table service.c hands to the
 * server (bodies in routes.c).
 */
#ifndef PAYMENT_ROUTES_H
#define PAYMENT_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/* Rows of payment_routes; routes.c checks the table has exactly this many. */
#define PAYMENT_NROUTES 1

extern const struct http_route payment_routes[];

#endif
