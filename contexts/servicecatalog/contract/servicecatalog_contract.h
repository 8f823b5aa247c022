/*
 * servicecatalog_contract.h - the integration events servicecatalog PUBLISHES: its public
 * contract, and the only header of servicecatalog another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct, an
 * encoder and a decoder, and a contract table (common/contract.h) that
 * validates incoming data and generates docs/events.md. Names follow the type:
 * servicecatalog.provider.registered → SERVICECATALOG_PROVIDER_REGISTERED, struct servicecatalog_provider_registered.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef SERVICECATALOG_CONTRACT_H
#define SERVICECATALOG_CONTRACT_H

#include "common/contract.h"
#include "common/err.h"

#include <jansson.h>
#include <stdint.h>

/* servicecatalog.provider.registered (v1): a user registered a business as a provider. */
#define SERVICECATALOG_PROVIDER_REGISTERED_TYPE "servicecatalog.provider.registered"
#define SERVICECATALOG_PROVIDER_REGISTERED_VERSION 1
extern const struct contract_event SERVICECATALOG_PROVIDER_REGISTERED;

struct servicecatalog_provider_registered {
    char provider_id[37];
    char owner_id[37];
    char business_name[201];
    char provider_type[65];
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *servicecatalog_provider_registered_encode(const struct servicecatalog_provider_registered *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int servicecatalog_provider_registered_decode(const json_t *data, struct servicecatalog_provider_registered *out, struct err *err);

/* servicecatalog.provider.activated (v1): a provider was activated and may be booked. */
#define SERVICECATALOG_PROVIDER_ACTIVATED_TYPE "servicecatalog.provider.activated"
#define SERVICECATALOG_PROVIDER_ACTIVATED_VERSION 1
extern const struct contract_event SERVICECATALOG_PROVIDER_ACTIVATED;

struct servicecatalog_provider_activated {
    char provider_id[37];
    char owner_id[37];
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *servicecatalog_provider_activated_encode(const struct servicecatalog_provider_activated *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int servicecatalog_provider_activated_decode(const json_t *data, struct servicecatalog_provider_activated *out, struct err *err);

/* servicecatalog.offering.published (v1): a provider published an offering with a limited capacity. */
#define SERVICECATALOG_OFFERING_PUBLISHED_TYPE "servicecatalog.offering.published"
#define SERVICECATALOG_OFFERING_PUBLISHED_VERSION 1
extern const struct contract_event SERVICECATALOG_OFFERING_PUBLISHED;

struct servicecatalog_offering_published {
    char offering_id[37];
    char provider_id[37];
    char name[201];
    int64_t price_cents;
    int64_t capacity;
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *servicecatalog_offering_published_encode(const struct servicecatalog_offering_published *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int servicecatalog_offering_published_decode(const json_t *data, struct servicecatalog_offering_published *out, struct err *err);

/* Every event servicecatalog publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const servicecatalog_contract_events[];

#endif
