/*
 * service.c - the composition root of servicecatalog: its name and port, its
 * routes (routes.c), what it consumes (handlers.c) and what it publishes
 * (contract/). It has no configuration keys of its own and no shared state:
 * every decision is made from the database inside one transaction.
 */
#include "servicecatalog/service.h"

#include "common/service.h"

#include "servicecatalog/contract/servicecatalog_contract.h"
#include "servicecatalog/handlers.h"
#include "servicecatalog/routes.h"

const struct service_def servicecatalog_service = {
    .name = SERVICECATALOG_CONTEXT,
    .http_port = SERVICECATALOG_HTTP_PORT,
    SERVICE_TABLES(servicecatalog),
};
