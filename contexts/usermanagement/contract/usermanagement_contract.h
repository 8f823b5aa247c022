/*
 * usermanagement_contract.h - the integration events usermanagement PUBLISHES: its public
 * contract, and the only header of usermanagement another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct and a
 * contract table (common/contract.h) whose rows say where each field lives in
 * the struct: the table encodes, validates, decodes and generates
 * docs/events.md; there is no code per event. Names follow the type:
 * usermanagement.user.registered → USERMANAGEMENT_USER_REGISTERED, struct usermanagement_user_registered.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef USERMANAGEMENT_CONTRACT_H
#define USERMANAGEMENT_CONTRACT_H

#include "common/contract.h"
#include "common/uuid7.h"

#include <stdint.h>

/* usermanagement.user.registered (v1): a person signed up. */
#define USERMANAGEMENT_USER_REGISTERED_TYPE    "usermanagement.user.registered"
#define USERMANAGEMENT_USER_REGISTERED_VERSION 1
extern const struct contract_event USERMANAGEMENT_USER_REGISTERED;

struct usermanagement_user_registered {
    char user_id[UUID7_STR_LEN];
    char email[255];
    char name[201];
};

/* usermanagement.user.role_granted (v1): a user was given a role (once per role). */
#define USERMANAGEMENT_USER_ROLE_GRANTED_TYPE    "usermanagement.user.role_granted"
#define USERMANAGEMENT_USER_ROLE_GRANTED_VERSION 1
extern const struct contract_event USERMANAGEMENT_USER_ROLE_GRANTED;

struct usermanagement_user_role_granted {
    char user_id[UUID7_STR_LEN];
    char role[33];
};

/* Every event usermanagement publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const usermanagement_contract_events[];

#endif
