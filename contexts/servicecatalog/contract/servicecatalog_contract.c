/*
 * servicecatalog_contract.c - the contract tables of the events
 * servicecatalog publishes (see servicecatalog_contract.h).
 */
#include "servicecatalog_contract.h"

#define ROW(m) CONTRACT_AT(struct servicecatalog_provider_registered, m)
static const struct contract_field servicecatalog_provider_registered_fields[] = {
    {"provider_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "the new provider", ROW(provider_id)},
    {"owner_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "the user who owns it", ROW(owner_id)},
    {"business_name", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 200,
     "the business name", ROW(business_name)},
    {"provider_type", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64,
     "the kind of business, e.g. 'salon'", ROW(provider_type)},
};
#undef ROW
const struct contract_event SERVICECATALOG_PROVIDER_REGISTERED = {
    SERVICECATALOG_PROVIDER_REGISTERED_TYPE,
    SERVICECATALOG_PROVIDER_REGISTERED_VERSION,
    "servicecatalog",
    "a user registered a business as a provider",
    servicecatalog_provider_registered_fields,
    CONTRACT_COUNT(servicecatalog_provider_registered_fields),
    sizeof(struct servicecatalog_provider_registered)};

#define ROW(m) CONTRACT_AT(struct servicecatalog_provider_activated, m)
static const struct contract_field servicecatalog_provider_activated_fields[] = {
    {"provider_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the provider",
     ROW(provider_id)},
    {"owner_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "the user who owns it", ROW(owner_id)},
};
#undef ROW
const struct contract_event SERVICECATALOG_PROVIDER_ACTIVATED = {
    SERVICECATALOG_PROVIDER_ACTIVATED_TYPE,
    SERVICECATALOG_PROVIDER_ACTIVATED_VERSION,
    "servicecatalog",
    "a provider was activated and may be booked",
    servicecatalog_provider_activated_fields,
    CONTRACT_COUNT(servicecatalog_provider_activated_fields),
    sizeof(struct servicecatalog_provider_activated)};

#define ROW(m) CONTRACT_AT(struct servicecatalog_offering_published, m)
static const struct contract_field servicecatalog_offering_published_fields[] = {
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "the new offering", ROW(offering_id)},
    {"provider_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who offers it",
     ROW(provider_id)},
    {"name", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 200, "what is offered",
     ROW(name)},
    {"price_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000,
     "price of one unit, in cents", ROW(price_cents)},
    {"capacity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000000,
     "units that can ever be sold", ROW(capacity)},
};
#undef ROW
const struct contract_event SERVICECATALOG_OFFERING_PUBLISHED = {
    SERVICECATALOG_OFFERING_PUBLISHED_TYPE,
    SERVICECATALOG_OFFERING_PUBLISHED_VERSION,
    "servicecatalog",
    "a provider published an offering with a limited capacity",
    servicecatalog_offering_published_fields,
    CONTRACT_COUNT(servicecatalog_offering_published_fields),
    sizeof(struct servicecatalog_offering_published)};

const struct contract_event *const servicecatalog_contract_events[] = {
    &SERVICECATALOG_PROVIDER_REGISTERED,
    &SERVICECATALOG_PROVIDER_ACTIVATED,
    &SERVICECATALOG_OFFERING_PUBLISHED,
    NULL,
};
