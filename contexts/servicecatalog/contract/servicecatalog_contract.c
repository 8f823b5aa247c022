/*
 * servicecatalog_contract.c - the contract tables, encoders and decoders of the events
 * servicecatalog publishes (see servicecatalog_contract.h).
 */
#include "servicecatalog_contract.h"

#include <stdio.h>
#include <string.h>

static const struct contract_field servicecatalog_provider_registered_fields[] = {
    {"provider_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the new provider"},
    {"owner_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the user who owns it"},
    {"business_name", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 200, "the business name"},
    {"provider_type", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64, "the kind of business, e.g. 'salon'"},
};
const struct contract_event SERVICECATALOG_PROVIDER_REGISTERED = {
    SERVICECATALOG_PROVIDER_REGISTERED_TYPE, SERVICECATALOG_PROVIDER_REGISTERED_VERSION, "servicecatalog",
    "a user registered a business as a provider",
    servicecatalog_provider_registered_fields, CONTRACT_COUNT(servicecatalog_provider_registered_fields)};

json_t *servicecatalog_provider_registered_encode(const struct servicecatalog_provider_registered *ev)
{
    return json_pack("{s:s, s:s, s:s, s:s}",
                     "provider_id", ev->provider_id,
                     "owner_id", ev->owner_id,
                     "business_name", ev->business_name,
                     "provider_type", ev->provider_type);
}

int servicecatalog_provider_registered_decode(const json_t *data, struct servicecatalog_provider_registered *out, struct err *err)
{
    int rc = contract_validate(&SERVICECATALOG_PROVIDER_REGISTERED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->provider_id, sizeof(out->provider_id), "%s", json_string_value(json_object_get(data, "provider_id")));
    snprintf(out->owner_id, sizeof(out->owner_id), "%s", json_string_value(json_object_get(data, "owner_id")));
    snprintf(out->business_name, sizeof(out->business_name), "%s", json_string_value(json_object_get(data, "business_name")));
    snprintf(out->provider_type, sizeof(out->provider_type), "%s", json_string_value(json_object_get(data, "provider_type")));
    return 0;
}

static const struct contract_field servicecatalog_provider_activated_fields[] = {
    {"provider_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the provider"},
    {"owner_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the user who owns it"},
};
const struct contract_event SERVICECATALOG_PROVIDER_ACTIVATED = {
    SERVICECATALOG_PROVIDER_ACTIVATED_TYPE, SERVICECATALOG_PROVIDER_ACTIVATED_VERSION, "servicecatalog",
    "a provider was activated and may be booked",
    servicecatalog_provider_activated_fields, CONTRACT_COUNT(servicecatalog_provider_activated_fields)};

json_t *servicecatalog_provider_activated_encode(const struct servicecatalog_provider_activated *ev)
{
    return json_pack("{s:s, s:s}",
                     "provider_id", ev->provider_id,
                     "owner_id", ev->owner_id);
}

int servicecatalog_provider_activated_decode(const json_t *data, struct servicecatalog_provider_activated *out, struct err *err)
{
    int rc = contract_validate(&SERVICECATALOG_PROVIDER_ACTIVATED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->provider_id, sizeof(out->provider_id), "%s", json_string_value(json_object_get(data, "provider_id")));
    snprintf(out->owner_id, sizeof(out->owner_id), "%s", json_string_value(json_object_get(data, "owner_id")));
    return 0;
}

static const struct contract_field servicecatalog_offering_published_fields[] = {
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the new offering"},
    {"provider_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who offers it"},
    {"name", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 200, "what is offered"},
    {"price_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000, "price of one unit, in cents"},
    {"capacity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000000, "units that can ever be sold"},
};
const struct contract_event SERVICECATALOG_OFFERING_PUBLISHED = {
    SERVICECATALOG_OFFERING_PUBLISHED_TYPE, SERVICECATALOG_OFFERING_PUBLISHED_VERSION, "servicecatalog",
    "a provider published an offering with a limited capacity",
    servicecatalog_offering_published_fields, CONTRACT_COUNT(servicecatalog_offering_published_fields)};

json_t *servicecatalog_offering_published_encode(const struct servicecatalog_offering_published *ev)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I}",
                     "offering_id", ev->offering_id,
                     "provider_id", ev->provider_id,
                     "name", ev->name,
                     "price_cents", (json_int_t)ev->price_cents,
                     "capacity", (json_int_t)ev->capacity);
}

int servicecatalog_offering_published_decode(const json_t *data, struct servicecatalog_offering_published *out, struct err *err)
{
    int rc = contract_validate(&SERVICECATALOG_OFFERING_PUBLISHED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->offering_id, sizeof(out->offering_id), "%s", json_string_value(json_object_get(data, "offering_id")));
    snprintf(out->provider_id, sizeof(out->provider_id), "%s", json_string_value(json_object_get(data, "provider_id")));
    snprintf(out->name, sizeof(out->name), "%s", json_string_value(json_object_get(data, "name")));
    out->price_cents = (int64_t)json_integer_value(json_object_get(data, "price_cents"));
    out->capacity = (int64_t)json_integer_value(json_object_get(data, "capacity"));
    return 0;
}

const struct contract_event *const servicecatalog_contract_events[] = {
    &SERVICECATALOG_PROVIDER_REGISTERED,
    &SERVICECATALOG_PROVIDER_ACTIVATED,
    &SERVICECATALOG_OFFERING_PUBLISHED,
    NULL,
};
