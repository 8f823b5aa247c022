/*
 * service.h - servicecatalog's descriptor: what service_main() runs (SPEC §1:
 * providers and offerings, a replica of known user ids, HTTP port 8081).
 */
#ifndef SERVICECATALOG_SERVICE_H
#define SERVICECATALOG_SERVICE_H

/* The type is in common/service.h; routes and handlers that read the app need not see it. */
struct service_def;

/* The context's name: schema, queue, routing-key prefix, event source. */
#define SERVICECATALOG_CONTEXT "servicecatalog"

/* The default HTTP port (SPEC §1); HTTP_PORT / --http-port overrides it. */
#define SERVICECATALOG_HTTP_PORT 8081

extern const struct service_def servicecatalog_service;

#endif
