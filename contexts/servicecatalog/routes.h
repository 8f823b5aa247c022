/*
 * routes.h - servicecatalog's HTTP API (SPEC §5), as one static const table.
 * The handlers are static in routes.c; only the table is visible.
 *
 *   POST /providers                     register a provider for a known user
 *   GET  /providers/{id}                read one
 *   POST /providers/{id}/activate       registered → active
 *   POST /providers/{id}/offerings      publish an offering of a provider
 *   GET  /offerings/{id}                read one
 */
#ifndef SERVICECATALOG_ROUTES_H
#define SERVICECATALOG_ROUTES_H

#include "common/http.h"

#include <stddef.h>

/* The table's length, in the declaration so the descriptor can use it as a constant. */
#define SERVICECATALOG_NROUTES 5

extern const struct http_route
    servicecatalog_routes[]; /* SERVICECATALOG_NROUTES rows, checked where it is defined */

#endif
