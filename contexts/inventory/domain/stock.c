/*
 * stock.c - the stock of one offering and its three operations. Pure C, no
 * I/O: the one place stock levels change.
 *
 *   invariant: capacity = available + reserved + sold, each ≥ 0
 *
 *   operation        levels                          reservation          domain event
 *   stock_open       available = capacity            -                    OPENED
 *   stock_reserve    available -= q, reserved += q   (none) → reserved    RESERVED
 *                    (q > available: nothing moves)  -                    RESERVATION_REFUSED
 *   stock_sell       reserved -= q, sold += q        reserved → sold      SOLD
 *   stock_release    reserved -= q, available += q   reserved → released  RELEASED
 *
 * Each operation checks everything before it changes anything, so a refused
 * one leaves the stock, the reservation and the outcome as they were. The
 * database holds the same invariant as a CHECK constraint (0001_schema.sql):
 * the domain decides, the database is the last line of defence.
 */
#include "inventory/domain/stock.h"

#include <stdio.h>
#include <string.h>

bool stock_capacity_is_valid(int64_t capacity)
{
    return capacity >= 1 && capacity <= STOCK_CAPACITY_MAX;
}

bool stock_quantity_is_valid(int64_t quantity)
{
    return quantity >= 1 && quantity <= STOCK_QUANTITY_MAX;
}

int stock_check(const struct stock *s, struct err *err)
{
    /* Bounds first, so the sum below cannot overflow whatever a row held. */
    if (!stock_capacity_is_valid(s->capacity))
        return err_set(err, ERR_UNPROCESSABLE,
                       "stock of offering '%s' has capacity %lld, outside 1..%d", s->offering_id,
                       (long long)s->capacity, STOCK_CAPACITY_MAX);
    if (s->available < 0 || s->reserved < 0 || s->sold < 0 || s->available > s->capacity ||
        s->reserved > s->capacity || s->sold > s->capacity ||
        s->available + s->reserved + s->sold != s->capacity)
        return err_set(
            err, ERR_UNPROCESSABLE,
            "stock of offering '%s' breaks its invariant: capacity %lld != available %lld "
            "+ reserved %lld + sold %lld (none negative)",
            s->offering_id, (long long)s->capacity, (long long)s->available, (long long)s->reserved,
            (long long)s->sold);
    return 0;
}

struct stock_levels stock_levels_of(const struct stock *s)
{
    struct stock_levels l = {s->available, s->reserved, s->sold};
    return l;
}

const char *stock_movement_kind_name(enum stock_movement_kind kind)
{
    switch (kind) {
    case STOCK_MOVEMENT_RESERVE: return "reserve";
    case STOCK_MOVEMENT_RELEASE: return "release";
    case STOCK_MOVEMENT_SALE: return "sale";
    case STOCK_MOVEMENT_RETURN: return "return";
    }
    return "unknown";
}

const char *stock_refusal_name(enum stock_refusal refusal)
{
    switch (refusal) {
    case STOCK_REFUSAL_NONE: return "none";
    case STOCK_REFUSAL_INSUFFICIENT_STOCK: return "insufficient_stock";
    }
    return "unknown";
}

/* Fills the parts of an event every operation shares. */
static void event_init(struct stock_event *ev, enum stock_event_kind kind, const struct stock *s,
                       const char *booking_id, int64_t quantity)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    snprintf(ev->offering_id, sizeof(ev->offering_id), "%s", s->offering_id);
    snprintf(ev->booking_id, sizeof(ev->booking_id), "%s", booking_id ? booking_id : "");
    ev->quantity = quantity;
    ev->refusal = STOCK_REFUSAL_NONE;
    ev->available = s->available;
}

int stock_open(struct stock *s, const char *offering_id, int64_t capacity, struct stock_event *ev,
               struct err *err)
{
    if (!offering_id || !offering_id[0] || strlen(offering_id) >= sizeof(s->offering_id))
        return err_set(err, ERR_INVALID, "offering id '%.64s' is empty or too long",
                       offering_id ? offering_id : "");
    if (!stock_capacity_is_valid(capacity))
        return err_set(err, ERR_UNPROCESSABLE, "capacity %lld of offering '%s' is outside 1..%d",
                       (long long)capacity, offering_id, STOCK_CAPACITY_MAX);
    memset(s, 0, sizeof(*s));
    snprintf(s->offering_id, sizeof(s->offering_id), "%s", offering_id);
    s->capacity = capacity;
    s->available = capacity;
    event_init(ev, STOCK_EVENT_OPENED, s, NULL, capacity);
    return 0;
}

int stock_reserve(struct stock *s, const char *booking_id, int64_t quantity, struct reservation *r,
                  struct stock_outcome *out, struct err *err)
{
    int rc = stock_check(s, err);
    if (rc)
        return rc;
    if (!stock_quantity_is_valid(quantity))
        return err_set(err, ERR_UNPROCESSABLE, "quantity %lld for booking '%.64s' is outside 1..%d",
                       (long long)quantity, booking_id ? booking_id : "", STOCK_QUANTITY_MAX);
    struct reservation next;
    rc = reservation_open(&next, booking_id, s->offering_id, quantity, err);
    if (rc)
        return rc;

    if (quantity > s->available) {
        /* Never oversell: the booking is refused and nothing moves. */
        memset(out, 0, sizeof(*out));
        out->moved = false;
        event_init(&out->event, STOCK_EVENT_RESERVATION_REFUSED, s, booking_id, quantity);
        out->event.refusal = STOCK_REFUSAL_INSUFFICIENT_STOCK;
        return 0;
    }

    struct stock_levels before = stock_levels_of(s);
    s->available -= quantity;
    s->reserved += quantity;
    *r = next;
    memset(out, 0, sizeof(*out));
    out->moved = true;
    out->movement.kind = STOCK_MOVEMENT_RESERVE;
    snprintf(out->movement.booking_id, sizeof(out->movement.booking_id), "%s", booking_id);
    out->movement.quantity = quantity;
    out->movement.before = before;
    out->movement.after = stock_levels_of(s);
    event_init(&out->event, STOCK_EVENT_RESERVED, s, booking_id, quantity);
    return 0;
}

/* A sound stock s, and r a reservation of its offering. Changes nothing. */
static int check_pair(const struct stock *s, const struct reservation *r, struct err *err)
{
    int rc = stock_check(s, err);
    if (rc)
        return rc;
    if (strcmp(r->offering_id, s->offering_id) != 0)
        return err_set(err, ERR_INVALID,
                       "reservation of booking '%s' is for offering '%s', not '%s'", r->booking_id,
                       r->offering_id, s->offering_id);
    return 0;
}

/*
 * The checks stock_sell and stock_release share: a sound stock, a reservation
 * of this offering still "reserved", and enough reserved units to take it
 * back. Changes nothing.
 */
static int check_settle(const struct stock *s, const struct reservation *r, struct err *err)
{
    int rc = check_pair(s, r, err);
    if (rc)
        return rc;
    if (r->status != RESERVATION_RESERVED)
        return err_set(err, ERR_CONFLICT, "reservation of booking '%s' is already %s",
                       r->booking_id, reservation_status_name(r->status));
    if (!stock_quantity_is_valid(r->quantity) || r->quantity > s->reserved)
        return err_set(
            err, ERR_UNPROCESSABLE,
            "reservation of booking '%s' holds %lld units but offering '%s' has %lld reserved",
            r->booking_id, (long long)r->quantity, s->offering_id, (long long)s->reserved);
    return 0;
}

/* Fills out with a movement from before to the current levels of s and its event. */
static void settled(struct stock_outcome *out, const struct stock *s, const struct reservation *r,
                    enum stock_movement_kind kind, enum stock_event_kind event,
                    struct stock_levels before)
{
    memset(out, 0, sizeof(*out));
    out->moved = true;
    out->movement.kind = kind;
    snprintf(out->movement.booking_id, sizeof(out->movement.booking_id), "%s", r->booking_id);
    out->movement.quantity = r->quantity;
    out->movement.before = before;
    out->movement.after = stock_levels_of(s);
    event_init(&out->event, event, s, r->booking_id, r->quantity);
}

/*
 * Settles r, reserved in s: its units leave reserved for sold (sell) or for
 * available (release), through the reservation's own transition.
 */
static int settle(struct stock *s, struct reservation *r, bool sell, struct stock_outcome *out,
                  struct err *err)
{
    int rc = check_settle(s, r, err);
    if (rc == 0)
        rc = sell ? reservation_sell(r, err) : reservation_release(r, err);
    if (rc)
        return rc;
    struct stock_levels before = stock_levels_of(s);
    s->reserved -= r->quantity;
    *(sell ? &s->sold : &s->available) += r->quantity;
    settled(out, s, r, sell ? STOCK_MOVEMENT_SALE : STOCK_MOVEMENT_RELEASE,
            sell ? STOCK_EVENT_SOLD : STOCK_EVENT_RELEASED, before);
    return 0;
}

int stock_sell(struct stock *s, struct reservation *r, struct stock_outcome *out, struct err *err)
{
    return settle(s, r, true, out, err);
}

int stock_release(struct stock *s, struct reservation *r, struct stock_outcome *out,
                  struct err *err)
{
    return settle(s, r, false, out, err);
}

int stock_return(struct stock *s, struct reservation *r, struct stock_outcome *out, struct err *err)
{
    int rc = check_pair(s, r, err);
    if (rc)
        return rc;
    if (r->status == RESERVATION_SOLD &&
        (!stock_quantity_is_valid(r->quantity) || r->quantity > s->sold))
        return err_set(err, ERR_UNPROCESSABLE,
                       "sale of booking '%s' holds %lld units but offering '%s' has %lld sold",
                       r->booking_id, (long long)r->quantity, s->offering_id, (long long)s->sold);
    rc = reservation_return(r, err);
    if (rc)
        return rc;
    struct stock_levels before = stock_levels_of(s);
    s->sold -= r->quantity;
    s->available += r->quantity;
    settled(out, s, r, STOCK_MOVEMENT_RETURN, STOCK_EVENT_RELEASED, before);
    return 0;
}
