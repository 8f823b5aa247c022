/*
 * scenario.h - what every fault scenario shares: its cmocka setup (fresh
 * system, six services taken over, the load generator seeded), the end of
 * its run (load stopped, wait for quiet, the whole ledger checked and the
 * counts printed) and its teardown. A scenario file only says what it does
 * to the system while the load runs; see docs/fault-suite.md.
 */
#ifndef FAULT_SCENARIO_H
#define FAULT_SCENARIO_H

#include "fault.h"
#include "inject.h"
#include "ledger.h"
#include "load.h"

struct scenario {
    const char *name;
    struct load *load;
    struct ledger *ledger;
    struct injected inj;
    struct {
        char text[160];
        int times;
    } notes[48]; /* what was done to the system, for the report (repeats counted) */
    int nnotes;
    int64_t t0;
};

/* The one scenario of the running executable (cmocka's state points at it). */
extern struct scenario scenario;

/*
 * cmocka setup: fault_setup(name, extra_env + PAYMENT_LIMIT_CENTS), a ledger,
 * an empty injection record, and the load generator (seeded, not started).
 */
void scenario_setup(const char *name, const char *const *extra_env, const struct load_config *cfg);

/* Appends one fault to the report's "faults" line ("SIGKILL booking at 3.2 s"). */
void scenario_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Keeps the load running for ms (a fault's duration: the system is being hurt meanwhile). */
void scenario_hold(int ms);

/*
 * Ends the run: stops the load, waits for quiet (FAULT_QUIET_MS), checks
 * every invariant, prints the counts; fails listing what broke.
 */
void scenario_finish(void);

/*
 * Ends one phase of a scenario that hurts the system more than once
 * (fault.cluster): what scenario_finish does, its faults line prefixed with
 * "[phase]", then the ledger's counts and the notes are reset and the load
 * starts again (its record goes on: the next check covers everything).
 */
void scenario_check(const char *phase);

/*
 * Waits until the saga flows again through every context: each one's
 * consumer has handled, after this call, an event of a type the load keeps
 * producing (inventory booking.booking.created, payment inventory.stock.reserved,
 * booking inventory.stock.debited, notification booking.booking.confirmed,
 * servicecatalog usermanagement.user.registered, usermanagement
 * servicecatalog.provider.registered), which also takes each producer's relay
 * publishing. Polls every 100 ms, at most timeout_ms; fails naming the
 * contexts still stalled (what says after what). Returns the milliseconds it
 * waited. Any running instance of a context counts, so one that was killed
 * (fault.relay's) leaves the others to show the flow.
 */
int64_t scenario_wait_flowing(int timeout_ms, const char *what);

/* cmocka teardown: frees everything and fault_teardown(). */
void scenario_teardown(void);

/* Milliseconds since the scenario's load started (for notes). */
double scenario_elapsed_s(void);

#endif
