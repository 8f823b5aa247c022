/*
 * usermanagement_contract.h - the integration events usermanagement PUBLISHES: its public
 * contract, and the only header of usermanagement another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct, an
 * encoder and a decoder, and a contract table (common/contract.h) that
 * validates incoming data and generates docs/events.md. Names follow the type:
 * usermanagement.user.registered → USERMANAGEMENT_USER_REGISTERED, struct usermanagement_user_registered.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef USERMANAGEMENT_CONTRACT_H
#define USERMANAGEMENT_CONTRACT_H

#include "common/contract.h"
#include "common/err.h"

#include <jansson.h>
#include <stdint.h>

/* usermanagement.user.registered (v1): a person signed up. */
#define USERMANAGEMENT_USER_REGISTERED_TYPE "usermanagement.user.registered"
#define USERMANAGEMENT_USER_REGISTERED_VERSION 1
extern const struct contract_event USERMANAGEMENT_USER_REGISTERED;

struct usermanagement_user_registered {
    char user_id[37];
    char email[255];
    char name[201];
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *usermanagement_user_registered_encode(const struct usermanagement_user_registered *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int usermanagement_user_registered_decode(const json_t *data, struct usermanagement_user_registered *out, struct err *err);

/* usermanagement.user.role_granted (v1): a user was given a role (once per role). */
#define USERMANAGEMENT_USER_ROLE_GRANTED_TYPE "usermanagement.user.role_granted"
#define USERMANAGEMENT_USER_ROLE_GRANTED_VERSION 1
extern const struct contract_event USERMANAGEMENT_USER_ROLE_GRANTED;

struct usermanagement_user_role_granted {
    char user_id[37];
    char role[33];
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *usermanagement_user_role_granted_encode(const struct usermanagement_user_role_granted *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int usermanagement_user_role_granted_decode(const json_t *data, struct usermanagement_user_role_granted *out, struct err *err);

/* Every event usermanagement publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const usermanagement_contract_events[];

#endif
