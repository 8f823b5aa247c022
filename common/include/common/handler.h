/*
 * handler.h - what an event handler of a context sees: its context
 * (struct handler_ctx), its type (handler_fn) and the subscription row that
 * names it, and how it publishes. The consumer that runs handlers is in
 * consumer.h; a context's handlers.c needs only this.
 *
 * Handlers never BEGIN, COMMIT or ack: the consumer owns the transaction. A
 * handler reads and writes through its context's store on hc->db and
 * publishes follow-up events with handler_publish(), in that same
 * transaction. It returns 0, or a negative err code with err filled:
 *   ERR_TRANSIENT (or ERR_INTERNAL, ERR_NOMEM)   retry with backoff
 *   ERR_INVALID, ERR_UNPROCESSABLE, ERR_NOT_FOUND, ERR_CONFLICT   dead now
 */
#ifndef COMMON_HANDLER_H
#define COMMON_HANDLER_H

#include "common/contract.h"
#include "common/err.h"
#include "common/outbox.h"

#include <stddef.h>

struct db;
struct envelope;

/* What a handler gets: everything borrowed for the duration of the call. */
struct handler_ctx {
    struct db *db;                      /* in the consumer's open transaction */
    const struct envelope *ev;          /* the event, already validated against its contract */
    const struct contract_event *event; /* that contract: the subscription's */
    const char *context;                /* the consuming context */
    void *app;                          /* the context's own state (service_def.app) */
    int attempt;                        /* 1 on the first try, 2 on the first retry, ... */
    struct outbox_origin origin;        /* private: handler_origin fills it */
};

/*
 * The type of a handler (a function type, so that handlers.c declares all of
 * its handlers in one line: static handler_fn on_a, on_b;).
 */
typedef int handler_fn(struct handler_ctx *hc, struct err *err);

struct subscription {
    const struct contract_event *event; /* type, major version and fields accepted */
    handler_fn *handler;
};

/*
 * Fills data (a struct of the subscription's contract, size = sizeof *data)
 * from the handled event's data: the first line of a handler. The consumer
 * has validated the data against that contract already (a delivery before
 * its inbox claim, a stored retry before it runs), so this only copies
 * (contract_decode_valid). Returns 0, ERR_INVALID for a string longer than
 * its member, or ERR_INTERNAL when size is not the contract's struct.
 */
int handler_decode(struct handler_ctx *hc, void *data, size_t size, struct err *err);

/*
 * The origin of the events a handler publishes: its transaction, the handled
 * event's correlation id, and the handled event's id as causation id. The
 * trace context needs nothing: the consumer has made the delivery's span
 * current, and every event written meanwhile is a child span of it.
 */
const struct outbox_origin *handler_origin(struct handler_ctx *hc);

/*
 * Publishes a follow-up event of ev's contract from data (a struct of ev,
 * size = sizeof *data) in the handler's transaction, from handler_origin(hc):
 * what a handler calls, directly or through its context's events.c, so that
 * no handler passes correlation or causation ids by hand. Returns 0,
 * ERR_INVALID when data breaks ev's contract (nothing written), or an outbox
 * error.
 */
int handler_publish(struct handler_ctx *hc, const struct contract_event *ev, const void *data,
                    size_t size, struct err *err);

#endif
