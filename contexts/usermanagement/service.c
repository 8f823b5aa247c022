/*
 * service.c - the composition root of usermanagement: its name and port
 * (SPEC §1), the routes it serves, the events it consumes and the events it
 * publishes. Everything else (config, database, broker, relay, consumer,
 * health, metrics, shutdown) is service_main's.
 */
#include "usermanagement/service.h"

#include "common/service.h"

#include "usermanagement/contract/usermanagement_contract.h"
#include "usermanagement/handlers.h"
#include "usermanagement/routes.h"

const struct service_def usermanagement_service = {
    .name = "usermanagement",
    .http_port = 8082,
    SERVICE_TABLES(usermanagement),
};
