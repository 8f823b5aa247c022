/*
 * usermanagement_contract.c - the contract tables of the events
 * usermanagement publishes (see usermanagement_contract.h).
 */
#include "usermanagement_contract.h"

#define ROW(m) CONTRACT_AT(struct usermanagement_user_registered, m)
static const struct contract_field usermanagement_user_registered_fields[] = {
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the new user",
     ROW(user_id)},
    {"email", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_EMAIL, 3, 254,
     "their e-mail address", ROW(email)},
    {"name", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 200, "their display name",
     ROW(name)},
};
#undef ROW
const struct contract_event USERMANAGEMENT_USER_REGISTERED = {
    USERMANAGEMENT_USER_REGISTERED_TYPE,
    USERMANAGEMENT_USER_REGISTERED_VERSION,
    "usermanagement",
    "a person signed up",
    usermanagement_user_registered_fields,
    CONTRACT_COUNT(usermanagement_user_registered_fields),
    sizeof(struct usermanagement_user_registered)};

#define ROW(m) CONTRACT_AT(struct usermanagement_user_role_granted, m)
static const struct contract_field usermanagement_user_role_granted_fields[] = {
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the user",
     ROW(user_id)},
    {"role", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 32,
     "the role granted, e.g. 'provider'", ROW(role)},
};
#undef ROW
const struct contract_event USERMANAGEMENT_USER_ROLE_GRANTED = {
    USERMANAGEMENT_USER_ROLE_GRANTED_TYPE,
    USERMANAGEMENT_USER_ROLE_GRANTED_VERSION,
    "usermanagement",
    "a user was given a role (once per role)",
    usermanagement_user_role_granted_fields,
    CONTRACT_COUNT(usermanagement_user_role_granted_fields),
    sizeof(struct usermanagement_user_role_granted)};

const struct contract_event *const usermanagement_contract_events[] = {
    &USERMANAGEMENT_USER_REGISTERED,
    &USERMANAGEMENT_USER_ROLE_GRANTED,
    NULL,
};
