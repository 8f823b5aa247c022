/*
 * service.h - usermanagement's descriptor for service_main (common/service.h).
 * It has no configuration of its own and no application state: users live
 * in the database only.
 */
#ifndef USERMANAGEMENT_SERVICE_H
#define USERMANAGEMENT_SERVICE_H

/* The type is in common/service.h; routes and handlers that read the app need not see it. */
struct service_def;

extern const struct service_def usermanagement_service;

#endif
