/*
 * handoff.h - outbox rows this process's own transactions wrote, handed to
 * its relay without being claimed back from the table (ADR 0011).
 *
 * A relay attaches to its context's slot. From then on outbox_enqueue leases
 * each row it inserts to that relay at the INSERT (locked_by, locked_until:
 * what a claim would have written, O3) and, once the transaction commits,
 * queues a copy of the row here; the relay publishes the copy and marks the
 * row as after a claim. Nothing is queued for a rollback (O1). A row that is
 * not queued — the queue full, the relay gone, the process dead — keeps its
 * lease for LEASE_MS and is then claimed from the table like any other: the
 * queue is a shortcut, the table stays the record.
 *
 * Internal to the library: outbox.c writes, relay.c reads.
 */
#ifndef COMMON_HANDOFF_H
#define COMMON_HANDOFF_H

#include "common/outbox.h"

#include <stdbool.h>
#include <stddef.h>

#define HANDOFF_ROWS_MAX  512        /* rows queued or reserved per relay */
#define HANDOFF_BYTES_MAX (2u << 20) /* their payloads, in bytes */

struct handoff;       /* a relay's slot */
struct handoff_entry; /* one row on its way */

/*
 * Attaches the relay instance (lease owner, leases of lease_ms) to context's
 * slot. NULL when another relay of this process has it (the first keeps it)
 * or the slots are full: that relay then claims everything from the table.
 */
struct handoff *handoff_attach(const char *context, const char *instance, int lease_ms);

/* Detaches: queued rows are dropped (their leases run out) and later rows are not queued. */
void handoff_detach(struct handoff *h);

/*
 * For outbox_enqueue, before its INSERT: a reservation for the row (id, type,
 * correlation id, payload, traceparent copied) when a relay of this process
 * publishes context's outbox and its queue has room, else NULL. Fills
 * owner/lease_ms with the lease the INSERT writes. Pass the entry to
 * handoff_settle (through db_after_commit) or, if the INSERT failed, call
 * handoff_settle(entry, false) at once.
 */
struct handoff_entry *handoff_reserve(const char *context, const char *id, const char *type,
                                      const char *correlation_id, const char *payload,
                                      const char *traceparent, char *owner, size_t ownerlen,
                                      int *lease_ms);

/* db_after_commit_fn: queues the row when its transaction committed, else forgets it. */
void handoff_settle(void *entry, bool committed);

/*
 * For the relay: moves up to max queued rows into rows (payloads now owned
 * by rows: outbox_rows_release), oldest first. Sets *read_table when the
 * table holds rows of this process the queue does not: a row that found the
 * queue full, or one queued so long that its lease may have run out (a
 * claim may take it: it is dropped from the queue, publishing both would
 * double it).
 */
size_t handoff_take(struct handoff *h, struct outbox_row *rows, size_t max, bool *read_table);

#endif
