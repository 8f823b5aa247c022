/*
 * reservation.c - the reservation state machine: the one place a
 * reservation's status changes. Pure C, no I/O.
 *
 *                 stock_reserve()
 *                       │ booking.booking.created, enough available
 *                       ▼
 *                 ┌──────────┐   payment.payment.succeeded   ┌──────┐
 *                 │ reserved │ ─────────────────────────────▶│ sold │  (final)
 *                 └──────────┘        stock_sell()           └──────┘
 *                       │                                          │
 *                       │ payment.payment.failed,                  │ booking.booking.expired
 *                       │ booking.booking.expired                  │ (the sale is reversed)
 *                       ▼ stock_release()                          │ stock_return()
 *                 ┌──────────┐                                     │
 *                 │ released │  (final) ◀──────────────────────────┘
 *                 └──────────┘
 *
 * Transitions and the functions that perform them:
 *   (none)   → reserved   reservation_open()     (via stock_reserve)
 *   reserved → sold       reservation_sell()     (via stock_sell)
 *   reserved → released   reservation_release()  (via stock_release)
 *   sold     → released   reservation_return()   (via stock_return; only for an
 *                                               expired booking, whose money payment refunds)
 * Every other transition (released → sold, selling or releasing twice) is
 * refused with ERR_CONFLICT: each stock effect of a booking happens once.
 */
#include "inventory/domain/reservation.h"

#include <stdio.h>
#include <string.h>

const char *reservation_status_name(enum reservation_status status)
{
    switch (status) {
    case RESERVATION_RESERVED: return "reserved";
    case RESERVATION_SOLD: return "sold";
    case RESERVATION_RELEASED: return "released";
    }
    return "unknown";
}

int reservation_status_parse(const char *text, enum reservation_status *out, struct err *err)
{
    static const enum reservation_status all[] = {RESERVATION_RESERVED, RESERVATION_SOLD,
                                                  RESERVATION_RELEASED};
    for (size_t i = 0; text && i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(text, reservation_status_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return err_set(err, ERR_INVALID, "unknown reservation status '%.32s'", text ? text : "");
}

/* True when id is non-empty and fits a RESERVATION_ID_LEN buffer. */
static int id_fits(const char *id)
{
    return id && id[0] && strlen(id) < RESERVATION_ID_LEN;
}

int reservation_open(struct reservation *r, const char *booking_id, const char *offering_id,
                     int64_t quantity, struct err *err)
{
    if (!id_fits(booking_id))
        return err_set(err, ERR_INVALID, "booking id '%.64s' is empty or too long",
                       booking_id ? booking_id : "");
    if (!id_fits(offering_id))
        return err_set(err, ERR_INVALID, "offering id '%.64s' is empty or too long",
                       offering_id ? offering_id : "");
    memset(r, 0, sizeof(*r));
    snprintf(r->booking_id, sizeof(r->booking_id), "%s", booking_id);
    snprintf(r->offering_id, sizeof(r->offering_id), "%s", offering_id);
    r->quantity = quantity;
    r->status = RESERVATION_RESERVED;
    return 0;
}

/* The guard both transitions share: only a reservation still "reserved" moves on. */
static int leave_reserved(struct reservation *r, enum reservation_status to, struct err *err)
{
    if (r->status != RESERVATION_RESERVED)
        return err_set(err, ERR_CONFLICT,
                       "reservation of booking '%s' is already %s, cannot become %s", r->booking_id,
                       reservation_status_name(r->status), reservation_status_name(to));
    r->status = to;
    return 0;
}

int reservation_sell(struct reservation *r, struct err *err)
{
    return leave_reserved(r, RESERVATION_SOLD, err);
}

int reservation_release(struct reservation *r, struct err *err)
{
    return leave_reserved(r, RESERVATION_RELEASED, err);
}

int reservation_return(struct reservation *r, struct err *err)
{
    if (r->status != RESERVATION_SOLD)
        return err_set(err, ERR_CONFLICT,
                       "reservation of booking '%s' is %s, only a sale can be returned",
                       r->booking_id, reservation_status_name(r->status));
    r->status = RESERVATION_RELEASED;
    return 0;
}
