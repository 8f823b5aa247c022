/*
 * servicecatalog_contract.h - the integration events servicecatalog PUBLISHES: its public
 * contract, and the only header of servicecatalog another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct and a
 * contract table (common/contract.h) whose rows say where each field lives in
 * the struct: the table encodes, validates, decodes and generates
 * docs/events.md; there is no code per event. Names follow the type:
 * servicecatalog.provider.registered → SERVICECATALOG_PROVIDER_REGISTERED, struct servicecatalog_provider_registered.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef SERVICECATALOG_CONTRACT_H
#define SERVICECATALOG_CONTRACT_H

#include "common/contract.h"
#include "common/uuid7.h"

#include <stdint.h>

/* servicecatalog.provider.registered (v1): a user registered a business as a provider. */
#define SERVICECATALOG_PROVIDER_REGISTERED_TYPE    "servicecatalog.provider.registered"
#define SERVICECATALOG_PROVIDER_REGISTERED_VERSION 1
extern const struct contract_event SERVICECATALOG_PROVIDER_REGISTERED;

struct servicecatalog_provider_registered {
    char provider_id[UUID7_STR_LEN];
    char owner_id[UUID7_STR_LEN];
    char business_name[201];
    char provider_type[CONTRACT_NAME_MAX + 1];
};

/* servicecatalog.provider.activated (v1): a provider was activated and may be booked. */
#define SERVICECATALOG_PROVIDER_ACTIVATED_TYPE    "servicecatalog.provider.activated"
#define SERVICECATALOG_PROVIDER_ACTIVATED_VERSION 1
extern const struct contract_event SERVICECATALOG_PROVIDER_ACTIVATED;

struct servicecatalog_provider_activated {
    char provider_id[UUID7_STR_LEN];
    char owner_id[UUID7_STR_LEN];
};

/* servicecatalog.offering.published (v1): a provider published an offering with a limited capacity. */
#define SERVICECATALOG_OFFERING_PUBLISHED_TYPE    "servicecatalog.offering.published"
#define SERVICECATALOG_OFFERING_PUBLISHED_VERSION 1
extern const struct contract_event SERVICECATALOG_OFFERING_PUBLISHED;

struct servicecatalog_offering_published {
    char offering_id[UUID7_STR_LEN];
    char provider_id[UUID7_STR_LEN];
    char name[201];
    int64_t price_cents;
    int64_t capacity;
};

/* Every event servicecatalog publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const servicecatalog_contract_events[];

#endif
