/*
 * service.h - the notification context as a service: its descriptor.
 */
#ifndef NOTIFICATION_SERVICE_H
#define NOTIFICATION_SERVICE_H

#include "common/service.h"

extern const struct service_def notification_service;

#endif
