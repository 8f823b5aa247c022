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

/*
 * A constant, so that service.c can put it in its static const descriptor. The
 * table is declared with it: a table with more rows does not compile, and
 * service_main refuses to start with the empty row a shorter one leaves.
 */
#define SERVICECATALOG_NROUTES 5

extern const struct http_route servicecatalog_routes[SERVICECATALOG_NROUTES];

#endif
