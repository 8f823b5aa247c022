/*
 * usermanagement_contract.c - the contract tables of the events
 * usermanagement publishes (see usermanagement_contract.h).
 */
#include "usermanagement_contract.h"

static const struct contract_field registered[] = {
    CONTRACT_UUID(usermanagement_user_registered, user_id, "the new user"),
    CONTRACT_EMAIL(usermanagement_user_registered, email, "their e-mail address"),
    CONTRACT_TEXT(usermanagement_user_registered, name, 200, "their display name"),
};
CONTRACT_EVENT(USERMANAGEMENT_USER_REGISTERED, "usermanagement", "a person signed up", registered,
               usermanagement_user_registered);

static const struct contract_field role_granted[] = {
    CONTRACT_UUID(usermanagement_user_role_granted, user_id, "the user"),
    CONTRACT_NAME(usermanagement_user_role_granted, role, 32, "the role granted, e.g. 'provider'"),
};
CONTRACT_EVENT(USERMANAGEMENT_USER_ROLE_GRANTED, "usermanagement",
               "a user was given a role (once per role)", role_granted,
               usermanagement_user_role_granted);

const struct contract_event *const usermanagement_contract_events[] = {
    &USERMANAGEMENT_USER_REGISTERED,
    &USERMANAGEMENT_USER_ROLE_GRANTED,
    NULL,
};
