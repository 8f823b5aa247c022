/*
 * service.h - the notification context as a service: its descriptor.
 */
#ifndef NOTIFICATION_SERVICE_H
#define NOTIFICATION_SERVICE_H

/* The type is in common/service.h; routes and handlers that read the app need not see it. */
struct service_def;

extern const struct service_def notification_service;

#endif
