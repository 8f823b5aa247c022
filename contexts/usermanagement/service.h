/*
 * service.h - usermanagement's descriptor for service_main (common/service.h).
 * It has no configuration of its own and no application state: users live
 * in the database only.
 */
#ifndef USERMANAGEMENT_SERVICE_H
#define USERMANAGEMENT_SERVICE_H

#include "common/service.h"

extern const struct service_def usermanagement_service;

#endif
