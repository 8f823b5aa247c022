/*
 * service.c - the composition root of inventory: its name and port, and the
 * tables that make it what it is (routes, subscriptions, the events it
 * publishes). inventory has no settings of its own beyond the common ones.
 */
#include "inventory/service.h"

#include "common/service.h"

#include "inventory/contract/inventory_contract.h"
#include "inventory/handlers.h"
#include "inventory/routes.h"

const struct service_def inventory_service = {
    .name = "inventory",
    .http_port = 8084, /* SPEC §1 */
    SERVICE_TABLES(inventory),
};
