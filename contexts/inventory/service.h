/*
 * service.h - the inventory service descriptor (the composition root is
 * service.c). main.c hands it to service_main().
 */
#ifndef INVENTORY_SERVICE_H
#define INVENTORY_SERVICE_H

#include "common/service.h"

extern const struct service_def inventory_service;

#endif
