/*
 * usermanagement_contract.c - the contract tables, encoders and decoders of the events
 * usermanagement publishes (see usermanagement_contract.h).
 */
#include "usermanagement_contract.h"

#include <stdio.h>
#include <string.h>

static const struct contract_field usermanagement_user_registered_fields[] = {
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the new user"},
    {"email", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_EMAIL, 3, 254, "their e-mail address"},
    {"name", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 200, "their display name"},
};
const struct contract_event USERMANAGEMENT_USER_REGISTERED = {
    USERMANAGEMENT_USER_REGISTERED_TYPE, USERMANAGEMENT_USER_REGISTERED_VERSION, "usermanagement",
    "a person signed up",
    usermanagement_user_registered_fields, CONTRACT_COUNT(usermanagement_user_registered_fields)};

json_t *usermanagement_user_registered_encode(const struct usermanagement_user_registered *ev)
{
    return json_pack("{s:s, s:s, s:s}",
                     "user_id", ev->user_id,
                     "email", ev->email,
                     "name", ev->name);
}

int usermanagement_user_registered_decode(const json_t *data, struct usermanagement_user_registered *out, struct err *err)
{
    int rc = contract_validate(&USERMANAGEMENT_USER_REGISTERED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->user_id, sizeof(out->user_id), "%s", json_string_value(json_object_get(data, "user_id")));
    snprintf(out->email, sizeof(out->email), "%s", json_string_value(json_object_get(data, "email")));
    snprintf(out->name, sizeof(out->name), "%s", json_string_value(json_object_get(data, "name")));
    return 0;
}

static const struct contract_field usermanagement_user_role_granted_fields[] = {
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the user"},
    {"role", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 32, "the role granted, e.g. 'provider'"},
};
const struct contract_event USERMANAGEMENT_USER_ROLE_GRANTED = {
    USERMANAGEMENT_USER_ROLE_GRANTED_TYPE, USERMANAGEMENT_USER_ROLE_GRANTED_VERSION, "usermanagement",
    "a user was given a role (once per role)",
    usermanagement_user_role_granted_fields, CONTRACT_COUNT(usermanagement_user_role_granted_fields)};

json_t *usermanagement_user_role_granted_encode(const struct usermanagement_user_role_granted *ev)
{
    return json_pack("{s:s, s:s}",
                     "user_id", ev->user_id,
                     "role", ev->role);
}

int usermanagement_user_role_granted_decode(const json_t *data, struct usermanagement_user_role_granted *out, struct err *err)
{
    int rc = contract_validate(&USERMANAGEMENT_USER_ROLE_GRANTED, data, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof(*out));
    snprintf(out->user_id, sizeof(out->user_id), "%s", json_string_value(json_object_get(data, "user_id")));
    snprintf(out->role, sizeof(out->role), "%s", json_string_value(json_object_get(data, "role")));
    return 0;
}

const struct contract_event *const usermanagement_contract_events[] = {
    &USERMANAGEMENT_USER_REGISTERED,
    &USERMANAGEMENT_USER_ROLE_GRANTED,
    NULL,
};
