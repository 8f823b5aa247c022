/*
 * service.h - the payment service descriptor (the composition root, in
 * service.c) and the state its handlers share: the configured limit.
 */
#ifndef PAYMENT_SERVICE_H
#define PAYMENT_SERVICE_H

/* The type is in common/service.h; routes and handlers that read the app need not see it. */
struct service_def;

/*
 * What payment's handlers and routes get as app. Written once by the config
 * phase of service_main (PAYMENT_LIMIT_CENTS) before any thread starts, then
 * only read, so it needs no lock.
 */
struct payment_app {
    int limit_cents; /* PAYMENT_LIMIT_CENTS: amounts above it are declined */
};

extern const struct service_def payment_service;

#endif
