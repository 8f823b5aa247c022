/*
 * service.h - the inventory service descriptor (the composition root is
 * service.c). main.c hands it to service_main().
 */
#ifndef INVENTORY_SERVICE_H
#define INVENTORY_SERVICE_H

/* The type is in common/service.h; routes and handlers that read the app need not see it. */
struct service_def;

extern const struct service_def inventory_service;

#endif
