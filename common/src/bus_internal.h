/*
 * bus_internal.h - the pure parts of bus_amqp.c, exposed to its unit tests:
 * AMQP URL parsing, queue arguments, and the publisher-confirm window.
 *
 * Nothing here touches the network or rabbitmq-c types (only bus_amqp.c
 * includes <amqp.h>), so tests/unit/test_bus.c exercises it directly.
 * Library-private: never included by a context.
 */
#ifndef COMMON_BUS_INTERNAL_H
#define COMMON_BUS_INTERNAL_H

#include "common/bus.h"
#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- URL */

#define BUS_URL_MAX 1024 /* the whole URL */

/* A parsed amqp:// or amqps:// URL, every part percent-decoded. */
struct bus_url {
    int tls; /* 1 for amqps:// */
    char user[128];
    char password[128];
    char host[256]; /* without the brackets of an IPv6 literal */
    int port;
    char vhost[256];
};

/*
 * Parses url into *out (see bus_connect for the rules). Returns 0 or
 * ERR_INVALID naming the bad part; the message never contains the password.
 */
int bus_url_parse(const char *url, struct bus_url *out, struct err *err);

/* Writes "amqp://user:***@host:port/vhost" (user and vhost re-encoded) into out: no password. */
void bus_url_describe(const struct bus_url *url, char *out, size_t outlen);

/*
 * Parses an AMQP_URL that lists the nodes of a cluster as whole URLs
 * separated by commas, "amqp://u:p@rabbit-1/v,amqp://u:p@rabbit-2/v" (spaces
 * may follow a comma), into out[0..*n), at most cap. A comma starts a new
 * node only when amqp:// or amqps:// follows it; a single URL is one node.
 * Returns 0 or ERR_INVALID naming the node (counted from 1) and its bad part,
 * never its password; *n is 0 on failure.
 */
int bus_url_list_parse(const char *urls, struct bus_url *out, size_t cap, size_t *n,
                       struct err *err);

/* ---------------------------------------------------------------- queue arguments */

enum bus_arg_kind { BUS_ARG_STRING, BUS_ARG_INT };

struct bus_queue_arg {
    const char *key; /* static */
    enum bus_arg_kind kind;
    const char *str; /* borrowed from the inputs */
    long long num;
};

#define BUS_QUEUE_ARGS_MAX 5

struct bus_queue_args {
    struct bus_queue_arg items[BUS_QUEUE_ARGS_MAX];
    size_t n;
};

/*
 * The x-arguments of a durable queue: x-queue-type always, then whatever opt
 * (may be NULL) asks for; x-delivery-limit only for quorum queues. Returns 0
 * or ERR_INVALID for an unknown queue type or a negative limit or TTL.
 */
int bus_queue_args_build(const char *queue_type, const struct bus_queue_options *opt,
                         struct bus_queue_args *out, struct err *err);

/* ---------------------------------------------------------------- confirm window */

/*
 * Messages published on a confirm-mode channel and not yet settled. The
 * broker numbers publishes 1, 2, … so the window holds a contiguous run of
 * sequence numbers [first_seq, first_seq + count) in a ring. Acks and nacks
 * may settle any of them, alone or "multiple" (everything up to a tag); the
 * head advances over settled entries. Invariant: count ≤ cap, and an entry
 * is reported to the callback exactly once.
 */
struct bus_window_entry {
    char message_id[BUS_ID_LEN];
    unsigned char returned; /* a basic.return named it: report BUS_RETURNED */
    unsigned char settled;
};

struct bus_window {
    struct bus_window_entry *slots; /* cap entries */
    size_t cap;
    size_t head; /* slot of first_seq */
    size_t count;
    uint64_t first_seq; /* seq of the oldest entry; the next seq when empty */
};

/* Allocates a window of cap entries; ERR_NOMEM on failure. */
int bus_window_init(struct bus_window *w, size_t cap, struct err *err);

/* Frees the slots; safe on a zeroed or released window. */
void bus_window_release(struct bus_window *w);

/* Forgets every entry; the next sequence number becomes next_seq. */
void bus_window_reset(struct bus_window *w, uint64_t next_seq);

/* The sequence number the next bus_window_add will get. */
uint64_t bus_window_next_seq(const struct bus_window *w);

/* Adds the next message (message_id may be NULL); returns its seq, or 0 when full. */
uint64_t bus_window_add(struct bus_window *w, const char *message_id);

/*
 * Marks the oldest unsettled, not yet returned entry with message_id as
 * returned. Returns 1 when one was found, else 0.
 */
int bus_window_mark_returned(struct bus_window *w, const char *message_id);

/*
 * Settles tag (and with multiple every earlier one) as acked or nacked,
 * calling fn (may be NULL) once for each entry not settled before. Tags
 * outside the window are ignored. Returns how many entries were settled.
 */
size_t bus_window_settle(struct bus_window *w, uint64_t tag, int multiple, int acked,
                         bus_confirm_fn fn, void *ctx);

#endif
