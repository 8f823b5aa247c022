/*
 * bus.h - the message broker seen from the library: one AMQP 0-9-1 connection
 * with one channel to RabbitMQ, for publishing with publisher confirms or for
 * consuming with manual acks (SPEC §3 topology, §4 reliability).
 *
 * Not thread-safe: a struct bus is used by one thread only. Use one bus to
 * publish and another to consume (a confirm-mode channel and a consumer on one
 * connection interleave their frames). Heartbeats are serviced only inside the
 * calls below: a thread must call bus_next() or bus_wait_confirms() at least
 * every heartbeat_s / 2 seconds, or the broker closes the connection.
 *
 * Invariant: a connection or channel failure leaves the bus disconnected
 * (bus_connected() is false) and every call returns ERR_TRANSIENT until the
 * caller reconnects:
 *
 *     while (!stopping && bus_connect(bus, &err) != 0)
 *         sleep_ms(bus_backoff_ms(bus));           100 ms doubling to 5 s, jittered
 *     bus_declare_topology(bus, …) → bus_consume(bus, …) → bus_next() loop
 *
 * Nothing here logs; every failure is described in the caller's struct err,
 * URLs with the password masked.
 */
#ifndef COMMON_BUS_H
#define COMMON_BUS_H

#include "common/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUS_WINDOW_MAX       1024 /* publishes awaiting the broker's confirm, per bus */
#define BUS_ID_LEN           130  /* message_id, type, correlation_id, app_id: up to 129 chars */
#define BUS_ROUTING_KEY_LEN  256  /* routing keys and queue names: up to 255 chars (AMQP) */
#define BUS_HEADERS_MAX      16   /* application headers per message */
#define BUS_HEADER_KEY_LEN   64   /* header names: up to 63 chars */
#define BUS_HEADER_VALUE_LEN 256  /* string header values: up to 255 chars */
/* Published bodies: above ENVELOPE_BODY_MAX (so the envelope decides), below the broker's limit. */
#define BUS_BODY_MAX           (8 * 1024 * 1024)
#define BUS_NODES_MAX          8     /* nodes of a cluster one AMQP_URL may list */
#define BUS_CONNECT_TIMEOUT_MS 5000  /* TCP (and TLS) connect, and the AMQP login handshake */
#define BUS_RPC_TIMEOUT_MS     10000 /* each declare/bind/qos/consume round trip */

/* ---------------------------------------------------------------- setup */

/*
 * How to reach the broker and what to declare. Strings are copied by
 * bus_new(); NULL or 0 members take the default shown.
 */
/*
 * A quorum queue's x-delivery-limit. Fixed, never derived from a setting:
 * queue arguments that change with configuration make the next declare fail
 * (PRECONDITION_FAILED). It sits above RETRY_MAX_ATTEMPTS' upper bound (100)
 * so that the inbox, which records every start, always decides first; the
 * broker's limit only stops a message that kills the process before the
 * inbox has seen it. Consumers stay off the queue while their database is
 * away, so an outage does not spend it.
 */
#define BUS_QUORUM_DELIVERY_LIMIT 120

struct bus_config {
    const char *url;                  /* amqp[s]://user:password@host:port/vhost; required; the
                                         nodes of a cluster as such URLs, comma-separated */
    const char *exchange;             /* events exchange (topic): "integration.events" */
    const char *dead_letter_exchange; /* dead-letter exchange (topic): "integration.dead-letter" */
    const char *queue_type;           /* "classic" | "quorum": "classic" */
    int prefetch;                     /* unacked deliveries per consumer, 1..65535: 64 */
    int heartbeat_s;                  /* AMQP heartbeat, 1..600 s: 10 */
    int delivery_limit;               /* quorum queues' x-delivery-limit, ≥ 1:
                                         BUS_QUORUM_DELIVERY_LIMIT */
    int confirms;                     /* 1: put the channel in confirm mode at each connect */
    const char *tls_ca_file;          /* amqps:// CA bundle (PEM): Debian's system bundle,
                                         "/etc/ssl/certs/ca-certificates.crt" */
    const char *tls_cert_file;        /* amqps:// client certificate (PEM), for brokers that
                                         ask for one; NULL or "": none */
    const char *tls_key_file;         /* its private key (PEM, unencrypted); set with
                                         tls_cert_file or not at all */
    const char *connection_name;      /* in the management UI, e.g. "<instance> relay": none */
};

struct bus;

/*
 * New disconnected bus with a copy of cfg; NULL when out of memory. The
 * configuration is checked by bus_connect(), which reports it as ERR_INVALID.
 */
struct bus *bus_new(const struct bus_config *cfg);

/* Closes the connection (if any) and frees bus. NULL is a no-op. */
void bus_free(struct bus *bus);

/*
 * Connects: parses the URL (see below), opens TCP, or TLS for amqps:// with
 * the peer's certificate and host name verified against tls_ca_file (and
 * tls_cert_file/tls_key_file presented when set), logs in
 * with the heartbeat, opens the channel and, with cfg.confirms, selects
 * confirm mode (delivery tags restart at 1). Bounded by BUS_CONNECT_TIMEOUT_MS
 * per step. Returns 0 (also when already connected), ERR_INVALID for a bad
 * configuration or URL, or TLS files that cannot be loaded (retrying will
 * not help), ERR_TRANSIENT when the broker cannot be reached, fails TLS
 * verification (the message says which check and names the CA file) or
 * refuses the login (it may be starting), or ERR_NOMEM. A success resets
 * bus_backoff_ms().
 *
 * URLs follow the AMQP URI spec: port defaults to 5672 (amqp) or 5671
 * (amqps); user and password default to guest; the vhost is the
 * percent-decoded path, "/%2f" is "/", and no path at all is "/". An empty
 * path ("amqp://h/") would be the empty vhost, which RabbitMQ never has: it
 * is rejected as ERR_INVALID. Query parameters are not supported.
 *
 * Fail-over: the URL may list the nodes of a cluster as whole URLs separated
 * by commas ("amqp://u:p@rabbit-1/v,amqp://u:p@rabbit-2/v"; a comma starts a
 * node only when amqp:// or amqps:// follows it). The first connect tries
 * the first node; after a connection fails (lost, closed by the broker,
 * heartbeats missed) or an attempt fails, the next connect tries the next
 * node, round the list. The caller's usual reconnect (declare the topology,
 * consume again) then re-establishes everything on that node. A node that
 * nacks a publish is left too, once bus_wait_confirms has settled the
 * window (the bus is then disconnected): a quorum queue may stay without a
 * leader as one node sees it long after another node stopped.
 */
int bus_connect(struct bus *bus, struct err *err);

/* True while the connection and channel are open (as far as the last call saw). */
bool bus_connected(const struct bus *bus);

/*
 * Closes channel and connection politely when open; always leaves the bus
 * disconnected and the confirm window empty (see bus_wait_confirms).
 */
void bus_disconnect(struct bus *bus);

/*
 * Milliseconds to sleep before the next bus_connect() attempt: 100 ms
 * doubling to 5 s, each with equal jitter (between half and all of it).
 * Every call counts one more failed attempt.
 */
int bus_backoff_ms(struct bus *bus);

/*
 * The node in use (the next connect's, when disconnected) with its password
 * masked, for log lines; "(node 2 of 3)" follows it when AMQP_URL lists
 * several. Valid until the next bus call.
 */
const char *bus_url_masked(const struct bus *bus);

/* ---------------------------------------------------------------- topology */

/*
 * Declares, idempotently (SPEC §3, ADR 0007):
 *   exchange cfg.exchange             topic, durable
 *   exchange cfg.dead_letter_exchange topic, durable (bound by context name: routes as direct)
 *   queue <context>.events            durable, cfg.queue_type (quorum: x-delivery-limit),
 *                                     x-dead-letter-exchange = cfg.dead_letter_exchange,
 *                                     x-dead-letter-routing-key = <context>
 *   queue <context>.dead-letter       durable, cfg.queue_type, bound to the dead-letter
 *                                     exchange with key <context>
 * and binds <context>.events to the events exchange with each binding key
 * (nkeys may be 0). A queue that exists with other arguments (e.g. classic
 * where quorum is configured) is ERR_INTERNAL naming it; the broker then
 * closes the channel, so the bus is disconnected. ERR_INVALID for a bad
 * name; ERR_TRANSIENT when the connection fails.
 * The two exchanges are shared: they are only looked up (a passive declare)
 * and declared when missing. With isolation a context's login may configure
 * neither them nor its queues: the admin step (deploy/local/isolation.sh)
 * declares all four, and a missing one is ERR_INTERNAL saying so.
 */
int bus_declare_topology(struct bus *bus, const char *context, const char *const *binding_keys,
                         size_t nkeys, struct err *err);

/* Extra arguments of a queue besides durable and cfg.queue_type; zero = none. */
struct bus_queue_options {
    const char *dead_letter_exchange;    /* x-dead-letter-exchange ("" = the default exchange) */
    const char *dead_letter_routing_key; /* x-dead-letter-routing-key */
    long long message_ttl_ms;            /* x-message-ttl, e.g. for <context>.retry… queues */
    int delivery_limit;                  /* x-delivery-limit, quorum queues only */
};

/* Declares a durable queue of cfg.queue_type with opt (may be NULL); errors as above. */
int bus_declare_queue(struct bus *bus, const char *queue, const struct bus_queue_options *opt,
                      struct err *err);

/* Binds queue to exchange with binding_key. */
int bus_bind_queue(struct bus *bus, const char *queue, const char *exchange,
                   const char *binding_key, struct err *err);

/*
 * A queue's messages ready for delivery (unacknowledged ones not counted) and
 * its consumers, by a passive declare: it changes nothing, and a login that
 * may read the queue may ask. messages and consumers may be NULL. Returns 0;
 * ERR_NOT_FOUND when the queue does not exist, after which the bus is
 * disconnected (bus_connect again); else as above.
 */
int bus_queue_inspect(struct bus *bus, const char *queue, long long *messages, long long *consumers,
                      struct err *err);

/* Deletes queue and its messages (tests, tools). A missing queue is not an error. */
int bus_delete_queue(struct bus *bus, const char *queue, struct err *err);

/* ---------------------------------------------------------------- publishing */

/* One application header: a string, or an integer when is_int. */
struct bus_header {
    const char *key;
    const char *value;
    long long int_value;
    int is_int;
};

/* A message to publish; everything is borrowed for the duration of the call. */
struct bus_message {
    const char *exchange;    /* NULL = cfg.exchange; "" = the default exchange */
    const char *routing_key; /* required (the event type) */
    const char *body;
    size_t len;                 /* at most BUS_BODY_MAX */
    const char *content_type;   /* NULL = "application/cloudevents+json" */
    const char *message_id;     /* the event id; required when mandatory */
    const char *type;           /* NULL = not set */
    const char *correlation_id; /* NULL = not set */
    const char *app_id;         /* NULL = not set */
    int64_t timestamp;          /* unix seconds; 0 = not set */
    const struct bus_header *headers;
    size_t nheaders; /* at most BUS_HEADERS_MAX */
    int mandatory;   /* 1: an unroutable message comes back as BUS_RETURNED */
};

/* How the broker settled one published message. */
enum bus_outcome {
    BUS_ACKED,    /* the broker took responsibility (persisted to every queue it routed to) */
    BUS_NACKED,   /* the broker refused it: publish it again later */
    BUS_RETURNED, /* mandatory and routed to no queue: a topology or routing-key problem */
};

/* Called by bus_wait_confirms() once per settled message, in no promised order. */
typedef void (*bus_confirm_fn)(void *ctx, uint64_t seq, enum bus_outcome outcome);

/*
 * Publishes msg persistently (delivery_mode 2) without waiting. On a bus with
 * cfg.confirms, *seq_out (may be NULL) gets the message's sequence number
 * (1, 2, … per connection) and the message joins the confirm window; without
 * confirms *seq_out is 0 and mandatory is refused. Returns 0 when the bytes
 * reached the socket (not a promise of delivery: wait for the confirm),
 * ERR_INVALID for a bad message, ERR_INTERNAL when BUS_WINDOW_MAX messages
 * already await their confirm (call bus_wait_confirms first), or
 * ERR_TRANSIENT when disconnected or the connection fails.
 */
int bus_publish(struct bus *bus, const struct bus_message *msg, uint64_t *seq_out, struct err *err);

/*
 * Reads the broker's confirms until no message is in flight or timeout_ms
 * passes, calling fn (may be NULL; it must not call into the bus) once per
 * settled message. basic.return arrives before the ack of the same message
 * and is matched by message_id, so a returned message reports BUS_RETURNED,
 * not BUS_ACKED (if two in-flight messages share a message_id, the older
 * one takes the return). With nothing in flight it makes one zero-time read
 * and returns: an idle publisher calls bus_wait_confirms(bus, 0, NULL, NULL,
 * &err) now and then to service the heartbeat and notice a lost connection.
 *
 * Returns 0 when everything is settled; ERR_TRANSIENT on timeout (still
 * connected: the unsettled messages stay in the window and a later call may
 * settle them) or on connection loss (the bus is disconnected and its window
 * dropped). Either way the caller must treat every message not reported
 * BUS_ACKED as not published, and publish it again later: the effect is
 * at-least-once, which the consumers' inbox makes exactly-once.
 */
int bus_wait_confirms(struct bus *bus, int timeout_ms, bus_confirm_fn fn, void *ctx,
                      struct err *err);

/* Messages published and not yet settled (0 without confirms). */
size_t bus_inflight(const struct bus *bus);

/*
 * Publishes one message and waits for its confirm; needs cfg.confirms and an
 * empty window. Returns 0 when acked; ERR_UNPROCESSABLE when the broker
 * returned it as unroutable (mandatory: nothing is bound to the routing key);
 * ERR_TRANSIENT when nacked, on timeout (the bus then disconnects, so that
 * the message's late confirm cannot block the next call) or connection loss;
 * else as bus_publish.
 */
int bus_publish_sync(struct bus *bus, const struct bus_message *msg, int timeout_ms,
                     struct err *err);

/* ---------------------------------------------------------------- consuming */

/* A header copied from a delivery (strings, integers and booleans only). */
struct bus_delivery_header {
    char key[BUS_HEADER_KEY_LEN];
    char value[BUS_HEADER_VALUE_LEN]; /* "" for an integer */
    long long int_value;
    int is_int;
};

/*
 * One delivered message, copied out of the library's buffers. Properties the
 * publisher did not set are "" (or 0); longer values than fit are truncated.
 */
struct bus_delivery {
    uint64_t tag; /* for bus_ack/bus_reject, on this connection only */
    char *body;   /* owned: NUL-terminated copy (len excludes the NUL) */
    size_t len;
    char exchange[BUS_ROUTING_KEY_LEN];
    char routing_key[BUS_ROUTING_KEY_LEN];
    char message_id[BUS_ID_LEN];
    char type[BUS_ID_LEN];
    char correlation_id[BUS_ID_LEN];
    char app_id[BUS_ID_LEN];
    char content_type[BUS_ID_LEN];
    int delivery_mode;     /* 2 = persistent */
    int64_t timestamp;     /* unix seconds, 0 when not set */
    int redelivered;       /* the broker delivered it before (to us or another consumer) */
    long long death_count; /* largest "count" in x-death: times dead-lettered; 0 if none */
    struct bus_delivery_header headers[BUS_HEADERS_MAX]; /* the first BUS_HEADERS_MAX */
    size_t nheaders;
};

/*
 * Starts consuming queue with manual acks and cfg.prefetch unacked messages
 * at most. Call again after every reconnect. ERR_NOT_FOUND when the queue
 * does not exist (then the bus is disconnected); ERR_TRANSIENT on failure.
 */
int bus_consume(struct bus *bus, const char *queue, struct err *err);

/*
 * Waits up to timeout_ms for the next delivery. Returns 1 with *d filled (the
 * caller then acks or rejects d->tag and calls bus_delivery_release), 0 when
 * nothing arrived in time, or a negative code: ERR_TRANSIENT when the
 * connection or channel is lost or the broker cancelled the consumer (e.g.
 * the queue was deleted): reconnect, redeclare and consume again; messages
 * not acked are redelivered. On 0 or an error *d holds nothing to release,
 * though releasing it is harmless.
 */
int bus_next(struct bus *bus, struct bus_delivery *d, int timeout_ms, struct err *err);

/* Frees d's body and zeroes d. Safe to call twice. */
void bus_delivery_release(struct bus_delivery *d);

/* The header named key of d, or NULL. */
const struct bus_delivery_header *bus_delivery_header(const struct bus_delivery *d,
                                                      const char *key);

/*
 * Acknowledges delivery tag (and all earlier ones when multiple). A tag from
 * before a reconnect is meaningless (the broker redelivers those messages):
 * acking it would make the broker close the channel.
 */
int bus_ack(struct bus *bus, uint64_t tag, int multiple, struct err *err);

/*
 * Rejects delivery tag: requeue = 1 puts it back in its queue; requeue = 0
 * dead-letters it through the queue's x-dead-letter-exchange.
 */
int bus_reject(struct bus *bus, uint64_t tag, int requeue, struct err *err);

#endif
