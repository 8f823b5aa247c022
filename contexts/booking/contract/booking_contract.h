/*
 * booking_contract.h - the integration events booking PUBLISHES: its public
 * contract, and the only header of booking another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct and a
 * contract table (common/contract.h) whose rows say where each field lives in
 * the struct: the table encodes, validates, decodes and generates
 * docs/events.md; there is no code per event. Names follow the type:
 * booking.booking.created → BOOKING_BOOKING_CREATED, struct booking_booking_created.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef BOOKING_CONTRACT_H
#define BOOKING_CONTRACT_H

#include "common/contract.h"
#include "common/uuid7.h"

#include <stdint.h>

/* booking.booking.created (v1): a customer asked to book units of an offering. */
#define BOOKING_BOOKING_CREATED_TYPE    "booking.booking.created"
#define BOOKING_BOOKING_CREATED_VERSION 1
extern const struct contract_event BOOKING_BOOKING_CREATED;

struct booking_booking_created {
    char booking_id[UUID7_STR_LEN];
    char user_id[UUID7_STR_LEN];
    char offering_id[UUID7_STR_LEN];
    int64_t quantity;
    int64_t amount_cents;
};

/* booking.booking.confirmed (v1): stock was reserved, paid and debited: the booking holds. */
#define BOOKING_BOOKING_CONFIRMED_TYPE    "booking.booking.confirmed"
#define BOOKING_BOOKING_CONFIRMED_VERSION 1
extern const struct contract_event BOOKING_BOOKING_CONFIRMED;

struct booking_booking_confirmed {
    char booking_id[UUID7_STR_LEN];
    char user_id[UUID7_STR_LEN];
    char offering_id[UUID7_STR_LEN];
    int64_t quantity;
    int64_t amount_cents;
};

/* booking.booking.rejected (v1): not enough stock: the booking failed before payment. */
#define BOOKING_BOOKING_REJECTED_TYPE    "booking.booking.rejected"
#define BOOKING_BOOKING_REJECTED_VERSION 1
extern const struct contract_event BOOKING_BOOKING_REJECTED;

struct booking_booking_rejected {
    char booking_id[UUID7_STR_LEN];
    char user_id[UUID7_STR_LEN];
    char offering_id[UUID7_STR_LEN];
    char reason[CONTRACT_NAME_MAX + 1];
};

/* booking.booking.cancelled (v1): payment failed: the booking was cancelled and its stock released. */
#define BOOKING_BOOKING_CANCELLED_TYPE    "booking.booking.cancelled"
#define BOOKING_BOOKING_CANCELLED_VERSION 1
extern const struct contract_event BOOKING_BOOKING_CANCELLED;

struct booking_booking_cancelled {
    char booking_id[UUID7_STR_LEN];
    char user_id[UUID7_STR_LEN];
    char offering_id[UUID7_STR_LEN];
    char reason[CONTRACT_NAME_MAX + 1];
};

/*
 * booking.booking.expired (v1): the booking was still pending at its
 * deadline (BOOKING_TIMEOUT_MS): it is final, and whatever the saga did for
 * it so far is to be undone (stock released, payment voided or refunded).
 */
#define BOOKING_BOOKING_EXPIRED_TYPE    "booking.booking.expired"
#define BOOKING_BOOKING_EXPIRED_VERSION 1
extern const struct contract_event BOOKING_BOOKING_EXPIRED;

struct booking_booking_expired {
    char booking_id[UUID7_STR_LEN];
    char user_id[UUID7_STR_LEN];
    char offering_id[UUID7_STR_LEN];
    int64_t quantity;
    int64_t amount_cents;
};

/* Every event booking publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const booking_contract_events[];

#endif
