/*
 * dead_letter.h - the record of every message a consumer took off its events
 * queue without handling it: poison (SPEC §4: "Dead letters are recorded").
 *
 * Poison never enters the inbox (its body may not even be JSON), so it gets a
 * table of its own, <context>.dead_letter (migration 0003). Invariants:
 *   (D1) a letter is committed here before the broker ack, so a crash between
 *        the two brings the same delivery back and finds it recorded: one row
 *        per letter (keyed by a fingerprint of message id and body), its
 *        deliveries counted, never a second row;
 *   (D2) the raw body is stored as bytes (bytea), never parsed by the
 *        database, so no content can make the record fail; text columns are
 *        cleaned to valid UTF-8 first (log_sanitize_utf8);
 *   (D3) the copy in <context>.dead-letter is published from the row after
 *        the ack, and marked only after the broker's confirm: a lost copy is
 *        sent again, the record is never lost with it.
 * The consumer (consumer.c) writes letters; eventctl reads and purges them.
 * The dead_letter table changes only in dead_letter.c.
 */
#ifndef COMMON_DEAD_LETTER_H
#define COMMON_DEAD_LETTER_H

#include "common/err.h"

#include <stddef.h>
#include <stdint.h>

struct db;

/* Bytes of a body kept in the record (and in the broker's copy); the rest is cut, body_size says how much there was. */
#define DEAD_LETTER_BODY_MAX   ((size_t)2 * 1024 * 1024)
#define DEAD_LETTER_REASON_MAX 512
#define DEAD_LETTER_TEXT_MAX   256 /* message id, routing key, type, correlation id: cut beyond */

/* One letter to record: every member borrowed for the call. */
struct dead_letter {
    const char *message_id; /* the AMQP message_id, "" or NULL when absent */
    const char *routing_key;
    const char *type;           /* the CloudEvent type when the body had one, else NULL */
    const char *correlation_id; /* NULL when unknown */
    const char *headers_json;   /* a JSON object of the AMQP properties and headers, or NULL */
    const char *body;           /* raw bytes, any content */
    size_t len;
    const char *reason; /* why it is dead */
    int attempts;       /* handler starts, 0 for poison */
};

/*
 * Records dl (D1, D2) in its own committed statement. Returns 1 when the
 * letter is new, 0 when it was recorded before (a redelivery: its count and
 * last_seen_at move), or a negative code (a connection failure is
 * ERR_TRANSIENT: the caller gives the message back).
 */
int dead_letter_record(struct db *db, const struct dead_letter *dl, struct err *err);

/* A recorded letter whose copy still has to reach the dead-letter queue. */
struct dead_letter_copy {
    int64_t id;
    char message_id[DEAD_LETTER_TEXT_MAX + 1];
    char routing_key[DEAD_LETTER_TEXT_MAX + 1];
    char *reason; /* owned */
    char *body;   /* owned: the stored bytes (NUL-terminated for convenience) */
    size_t len;
    int64_t body_size; /* the size of the body as received (> len when it was cut) */
    int attempts;
};

/*
 * Claims up to max letters without a confirmed copy, leased for lease_ms so
 * that a second instance does not publish them too. Fills rows[0..*n).
 */
int dead_letter_claim_copies(struct db *db, int max, int lease_ms, struct dead_letter_copy *rows,
                             size_t *n, struct err *err);

void dead_letter_copies_release(struct dead_letter_copy *rows, size_t n);

/* The copy of letter id was confirmed by the broker (D3). */
int dead_letter_mark_copied(struct db *db, int64_t id, struct err *err);

/* ---- what the operations tool reads and deletes (eventctl) ------------------ */

/* One recorded letter, every pointer borrowed (valid during the callback). */
struct dead_letter_row {
    int64_t id;
    const char *message_id;
    const char *routing_key;
    const char *type;           /* "" when the body had no readable type */
    const char *correlation_id; /* "" when unknown */
    const char *reason;
    const char *first_seen_at; /* UTC, "2026-01-01T10:00:00.000Z" */
    const char *last_seen_at;
    int64_t attempts;
    int64_t deliveries;
    int64_t body_size;
};

/* Called once per letter; return 0 to go on, or a negative code after filling err. */
typedef int (*dead_letter_row_fn)(void *ctx, const struct dead_letter_row *row, struct err *err);

/* Every letter, oldest first, for fn. Returns the number of letters or an error. */
int dead_letter_list(struct db *db, dead_letter_row_fn fn, void *ctx, struct err *err);

/*
 * The stored body of letter id into *body (new, NUL-terminated for
 * convenience; free it) and *len. Returns 1, 0 when there is no such letter,
 * or an error.
 */
int dead_letter_body(struct db *db, int64_t id, char **body, size_t *len, struct err *err);

/* Deletes letter id: an operator's decision. Returns rows deleted (0 or 1) or an error. */
int dead_letter_delete(struct db *db, int64_t id, struct err *err);

#endif
