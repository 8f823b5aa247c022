/*
 * service.c - the composition root of notification: name, port, routes,
 * subscriptions and the events it publishes, handed to service_main(). No
 * context-specific configuration keys: the common ones (SPEC §5) suffice.
 */
#include "notification/service.h"

#include "common/service.h"

#include "notification/contract/notification_contract.h"
#include "notification/handlers.h"
#include "notification/routes.h"

const struct service_def notification_service = {
    .name = "notification",
    .http_port = 8086,
    SERVICE_TABLES(notification),
};
