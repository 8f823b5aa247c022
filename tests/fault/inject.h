/*
 * inject.h - messages the fault suite publishes straight to the events
 * exchange, bypassing every outbox: duplicates of events already delivered,
 * and poison of every kind SPEC §4 names. What was injected is kept here for
 * the ledger to check.
 */
#ifndef FAULT_INJECT_H
#define FAULT_INJECT_H

#include <stddef.h>
#include "common/uuid7.h"

#define INJECT_ID_LEN   UUID7_STR_LEN
#define INJECT_TYPE_LEN 129

/* The kinds of poison (SPEC §4): each is dead-lettered at once and never handled. */
enum inject_poison_kind {
    POISON_NOT_JSON,        /* a body that is not JSON */
    POISON_NOT_CLOUDEVENT,  /* JSON, but not a CloudEvent */
    POISON_UNKNOWN_TYPE,    /* a CloudEvent of a type no context handles */
    POISON_UNKNOWN_VERSION, /* a known type with a major version nobody knows */
    POISON_BAD_DATA,        /* a known type and version whose data breaks the contract */
    POISON_WRONG_SOURCE,    /* a known type from a source that does not publish it */
    POISON_TOO_LARGE,       /* a body over the envelope's 1 MiB limit */
    POISON_NOT_UTF8,        /* bytes that are not UTF-8 */
    POISON_NKINDS
};

struct inject_poison {
    char id[INJECT_ID_LEN]; /* message_id (and CloudEvent id when there is one) */
    enum inject_poison_kind kind;
    char routing_key[INJECT_TYPE_LEN]; /* a type some context subscribes to */
    unsigned expected;                 /* contexts bound to it (bit 1 << enum e2e_ctx) */
};

struct inject_duplicate {
    char id[INJECT_ID_LEN];
    char type[INJECT_TYPE_LEN];
    unsigned subscribers; /* contexts that consume it */
};

struct injected {
    char marker[INJECT_ID_LEN]; /* in every poison body: the ledger looks for it in every table */
    struct inject_poison *poison;
    size_t npoison;
    struct inject_duplicate *dups;
    size_t ndups;
    int copies; /* each duplicate was published this many times */
    long long
        dup_deliveries; /* copies × subscribers, summed: the deliveries the inboxes must absorb */
    long long dup_baseline; /* events_duplicates_total over all instances before the copies */
};

/* Zeroes inj and draws its marker. */
void inject_init(struct injected *inj);

/* Frees what inj holds. */
void inject_release(struct injected *inj);

/* The kind's name, e.g. "not_json". */
const char *inject_poison_kind_name(enum inject_poison_kind kind);

/*
 * Publishes one message of every poison kind to every routing key some
 * context is bound to (the subscription tables of the six descriptors),
 * each with its own message id, and records them. Fails the test when the
 * broker refuses one.
 */
void inject_poison_everywhere(struct injected *inj);

/*
 * Picks up to n published events from the six outboxes (spread over the
 * publishers) and publishes each `copies` times to the events exchange with
 * its original body, message_id, type and correlation id. Records them and
 * the duplicate counters before.
 */
void inject_duplicates(struct injected *inj, int n, int copies);

#endif
