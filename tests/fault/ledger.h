/*
 * ledger.h - what must hold once the system is quiet after a fault: nothing
 * lost, nothing done twice. One function per invariant; each reads the six
 * schemas directly (like the operations tool, the one reader of all of
 * them), compares them with what the load generator sent and what the
 * scenario injected, and returns the number of offenders, naming the first
 * ones (booking ids with their correlation id, event ids with their type)
 * in the ledger's failure text.
 *
 * Which context consumes which event type comes from the six service
 * descriptors themselves (their subscription tables, linked in), so the
 * ledger follows the code of a fork without edits; the few facts the
 * domain makes unique ("one reservation decision per booking") are a table
 * in ledger.c.
 *
 * Main thread only (it uses the e2e harness's database connection).
 */
#ifndef FAULT_LEDGER_H
#define FAULT_LEDGER_H

#include "e2e_harness.h"
#include "inject.h"
#include "load.h"

#include "common/consumer.h"

#include <stddef.h>

#define LEDGER_PAYMENT_LIMIT_CENTS 100000 /* PAYMENT_LIMIT_CENTS every scenario runs with */
#define LEDGER_QUIET_STABLE_MS     2000 /* quiet: nothing pending and nothing changing this long */

/* ------------------------------------------------------------ subscriptions */

/* The contexts that subscribe to type (bit 1 << enum e2e_ctx); 0 for none. */
unsigned ledger_subscribers(const char *type);

/* Context c's subscription table (borrowed from its linked descriptor); *n gets its size. */
const struct subscription *ledger_subscriptions(enum e2e_ctx c, size_t *n);

/* ------------------------------------------------------------------ ledger */

struct ledger;

/* A new, empty ledger for the current scenario. */
struct ledger *ledger_new(void);
void ledger_free(struct ledger *l);

/*
 * Waits until the system is quiet: no outbox row unpublished, no inbox row
 * 'processing' or 'failed', no dead row without its dead-letter copy, no
 * booking pending, and none of these counts nor the row totals changed for
 * LEDGER_QUIET_STABLE_MS. Returns the seconds it took. After timeout_ms it
 * fails naming what is still moving (rows, ids, errors).
 */
double ledger_wait_quiet(struct ledger *l, int timeout_ms);

/* ---------------------------------------------------------- the invariants */
/* Each returns its number of offenders (0 = it holds) and records them in l. */

/* Every write the load got 2xx for is stored as sent; nothing refused or never sent is. */
int ledger_accepted_writes_stored(struct ledger *l, const struct load *load);

/* Every stored user, provider, offering and booking was sent by the load (accepted, or unknown). */
int ledger_nothing_stored_unasked(struct ledger *l, const struct load *load);

/*
 * Every booking is in exactly one final state: not pending, one deciding
 * event in its history, one final status, one final event published, all
 * agreeing.
 */
int ledger_bookings_final(struct ledger *l);

/* Per offering: capacity = available + reserved + sold, none negative, nothing left reserved,
 * sold = units of confirmed bookings, capacity as published, the audit trail gap-free. */
int ledger_stock_balanced(struct ledger *l);

/* Per booking, its stock effect happened once and matches its state (reserve+sale, reserve+release, refusal). */
int ledger_stock_effects_once(struct ledger *l);

/* One payment per booking, decided as its final state says, for its amount, within the limit. */
int ledger_payments_once(struct ledger *l);

/* One notification per final booking (of its kind, to its customer), one welcome per provider owner. */
int ledger_notifications_once(struct ledger *l);

/* Users in both replicas, owners with the provider role and status, offerings in booking's replica. */
int ledger_registrations_complete(struct ledger *l);

/* Every outbox row of the six contexts is published. */
int ledger_outbox_published(struct ledger *l);

/*
 * Every published event is processed, or dead with a reason, by each
 * context that subscribes to its type; no inbox holds an event no outbox
 * published or a type its context does not subscribe to.
 */
int ledger_events_consumed(struct ledger *l);

/* No fact was published twice (e.g. two reservation decisions, two payments for one booking). */
int ledger_facts_published_once(struct ledger *l);

/*
 * Reads every <context>.dead-letter queue (consuming it): each message is an
 * injected poison (x-poison 1, an x-error, sent to a context bound to its
 * routing key) or the copy of a dead inbox row (x-poison 0); every injected
 * poison reached every context bound to it; every dead inbox row was copied.
 * What an earlier call read counts as found, so a scenario may check twice.
 */
int ledger_dead_letters_explained(struct ledger *l, const struct injected *inj);

/* No injected poison (its id, its marker) is in any table of any schema. */
int ledger_poison_nowhere_else(struct ledger *l, const struct injected *inj);

/* Every duplicated event still has one inbox row per subscriber, and the inboxes absorbed every copy. */
int ledger_duplicates_absorbed(struct ledger *l, const struct injected *inj);

/* The text of every broken invariant so far ("" when none); borrowed. */
const char *ledger_failures(const struct ledger *l);

/*
 * Forgets the broken invariants and counts (the ledger self-check reuses one
 * ledger); the dead letters already read (and so consumed) stay known.
 */
void ledger_reset(struct ledger *l);

/* ------------------------------------------------------------------ verdict */

/*
 * Runs every invariant above (the injection ones when inj holds anything),
 * prints the scenario's counts with fault_report (sent, processed,
 * duplicates absorbed, dead-lettered, time to quiet, `faults`), and fails
 * the test listing every broken invariant with its offenders.
 */
void ledger_check_all(struct ledger *l, const struct load *load, const struct injected *inj,
                      double quiet_s, const char *faults);

#endif
