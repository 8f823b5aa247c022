/*
 * load.h - the fault suite's load generator: one thread posting
 * registrations and bookings over HTTP at a steady rate while the scenario
 * hurts the system, and the record of everything it sent.
 *
 * Every write is recorded with its outcome. A write is "accepted" only when
 * the service answered 2xx; one answered 4xx was refused (it must have had
 * no effect); one that found no instance was not sent at all; one that got
 * a 5xx or no answer has an unknown outcome (the service may have committed
 * before it failed), so the ledger accepts finding it stored or not, but
 * never assumes either. Each write carries a unique key the ledger matches
 * stored rows with: the user's e-mail, the provider's business name, the
 * offering's name, the booking's X-Correlation-ID.
 *
 * Not a context: it only uses the public HTTP API (SPEC §5).
 */
#ifndef FAULT_LOAD_H
#define FAULT_LOAD_H

#include <stdbool.h>
#include "common/uuid7.h"
#include <stddef.h>
#include <stdint.h>

#define LOAD_ID_LEN  UUID7_STR_LEN
#define LOAD_KEY_LEN 96

enum load_kind {
    LOAD_USER,       /* POST /users (usermanagement) */
    LOAD_PROVIDER,   /* POST /providers (servicecatalog) */
    LOAD_ACTIVATION, /* POST /providers/{id}/activate */
    LOAD_OFFERING,   /* POST /providers/{id}/offerings */
    LOAD_BOOKING,    /* POST /bookings (booking) */
    LOAD_NKINDS
};

enum load_outcome {
    LOAD_ACCEPTED,    /* 2xx: it must be stored */
    LOAD_REFUSED,     /* 4xx: it must not be stored */
    LOAD_UNAVAILABLE, /* no instance / connection refused: nothing was sent, nothing stored */
    LOAD_UNKNOWN,     /* 5xx or no answer: stored or not, the ledger finds out */
    LOAD_NOUTCOMES
};

/* One write as sent, with what came back. */
struct load_write {
    enum load_kind kind;
    enum load_outcome outcome;
    long status;            /* HTTP status; 0 without one */
    char key[LOAD_KEY_LEN]; /* e-mail, business name, offering name, correlation id */
    char id[LOAD_ID_LEN];   /* the stored id, when accepted ("" otherwise) */
    char ref[LOAD_ID_LEN];  /* provider/activation: owner; offering: provider; booking: offering */
    char user[LOAD_ID_LEN]; /* booking: the customer */
    long long quantity;     /* booking: units; offering: capacity */
    long long price_cents;  /* booking: amount expected; offering: unit price */
    int64_t at_ms;          /* when it was sent (testlib_now_ms) */
};

struct load_config {
    int bookings_per_s; /* POST /bookings per second (default 20) */
    int users_per_s;    /* POST /users per second (default 4) */
    int provider_every; /* every n-th new user becomes a provider with one offering (default 6) */
    const char *tag;    /* prefix of keys and correlation ids, e.g. the scenario */
};

struct load;

/*
 * New load generator. Registers a first provider (owner, provider,
 * activation) with three offerings (one roomy, one that sells out, one
 * priced so that quantities above 2 exceed the payment limit) and waits,
 * bounded, until booking and inventory know them, so the first bookings are
 * accepted. Fails the test if that cannot be done. Call before any fault.
 */
struct load *load_new(const struct load_config *cfg);

/* Starts the thread. */
void load_start(struct load *l);

/* Stops the thread (the write in flight finishes) and keeps the record. Idempotent. */
void load_stop(struct load *l);

/* Stops it if needed and frees it. NULL is a no-op. */
void load_free(struct load *l);

/* Writes of kind with outcome so far (safe while the thread runs). */
long load_count(const struct load *l, enum load_kind kind, enum load_outcome outcome);

/* Writes of kind sent so far, whatever came back. */
long load_sent(const struct load *l, enum load_kind kind);

/*
 * Waits until at least n more bookings than `since` are accepted, at most
 * timeout_ms; fails naming the counts otherwise. Returns the count reached.
 */
long load_wait_bookings(const struct load *l, long since, long n, int timeout_ms, const char *what);

/* The record, in sending order (borrowed; stable once stopped). */
const struct load_write *load_writes(const struct load *l, size_t *n);

/* One line of counts: "users 40 sent/38 accepted, …". */
void load_describe(const struct load *l, char *out, size_t outlen);

#endif
