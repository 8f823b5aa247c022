/*
 * servicecatalog_contract.c - the contract tables of the events
 * servicecatalog publishes (see servicecatalog_contract.h).
 */
#include "servicecatalog_contract.h"

/* The owner of a provider, in every provider event. */
#define OWNER(s) CONTRACT_UUID(s, owner_id, "the user who owns it")

static const struct contract_field provider_registered[] = {
    CONTRACT_UUID(servicecatalog_provider_registered, provider_id, "the new provider"),
    OWNER(servicecatalog_provider_registered),
    CONTRACT_TEXT(servicecatalog_provider_registered, business_name, 200, "the business name"),
    CONTRACT_NAME(servicecatalog_provider_registered, provider_type, CONTRACT_NAME_MAX,
                  "the kind of business, e.g. 'salon'"),
};
CONTRACT_EVENT(SERVICECATALOG_PROVIDER_REGISTERED, "servicecatalog",
               "a user registered a business as a provider", provider_registered,
               servicecatalog_provider_registered);

static const struct contract_field provider_activated[] = {
    CONTRACT_UUID(servicecatalog_provider_activated, provider_id, "the provider"),
    OWNER(servicecatalog_provider_activated),
};
CONTRACT_EVENT(SERVICECATALOG_PROVIDER_ACTIVATED, "servicecatalog",
               "a provider was activated and may be booked", provider_activated,
               servicecatalog_provider_activated);

static const struct contract_field offering_published[] = {
    CONTRACT_UUID(servicecatalog_offering_published, offering_id, "the new offering"),
    CONTRACT_UUID(servicecatalog_offering_published, provider_id, "who offers it"),
    CONTRACT_TEXT(servicecatalog_offering_published, name, 200, "what is offered"),
    CONTRACT_INT(servicecatalog_offering_published, price_cents, 1, 100000000,
                 "price of one unit, in cents"),
    CONTRACT_INT(servicecatalog_offering_published, capacity, 1, 1000000,
                 "units that can ever be sold"),
};
CONTRACT_EVENT(SERVICECATALOG_OFFERING_PUBLISHED, "servicecatalog",
               "a provider published an offering with a limited capacity", offering_published,
               servicecatalog_offering_published);

const struct contract_event *const servicecatalog_contract_events[] = {
    &SERVICECATALOG_PROVIDER_REGISTERED,
    &SERVICECATALOG_PROVIDER_ACTIVATED,
    &SERVICECATALOG_OFFERING_PUBLISHED,
    NULL,
};
