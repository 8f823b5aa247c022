/*
 * harness.h - drives the probe context (probe_service.c) for the reliability
 * tests: a clean probe schema and queues, probe processes started, killed
 * and restarted, business transactions committed into the probe's outbox,
 * raw messages published straight to the exchange, and the dead-letter queue
 * read back. Every wait is bounded; every count is read from the database.
 */
#ifndef PROBE_HARNESS_H
#define PROBE_HARNESS_H

#include "common/bus.h"
#include "common/db.h"
#include "common/uuid7.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define HARNESS_SLOTS 8

/* Resets the probe schema and queues and migrates; call first in every test file. */
void harness_setup(void);

/* Stops every probe process (SIGKILL) and frees what setup made. */
void harness_teardown(void);

/*
 * Starts a probe process in slot (0..HARNESS_SLOTS-1) with the base test
 * environment (fast retries, short leases) plus extra "NAME=value" strings
 * (NULL-terminated list, may be NULL). Returns its pid.
 */
pid_t harness_spawn(int slot, const char *const *extra_env);

/* Sends sig to slot's process and reaps it (waits at most 20 s). */
void harness_kill(int slot, int sig);

/* True while slot's process runs; reaps it when it has died. */
bool harness_alive(int slot);

/* Waits until slot's process has died by itself, at most timeout_ms. True if it did. */
bool harness_wait_exit(int slot, int timeout_ms);

/* The test's own connection to the probe schema. */
struct db *harness_db(void);

/* Commits one probe.item.created event (behaviour may be NULL) through the outbox; id_out gets its id. */
void harness_commit_item(const char *item, const char *behaviour, char id_out[UUID7_STR_LEN]);

/* A TCP port free on 127.0.0.1 right now. */
int harness_free_port(void);

/* Runs "SELECT count(*) …" with up to one text parameter (p1 may be NULL). */
int64_t harness_count(const char *sql, const char *p1);

/* Polls harness_count every 50 ms until it equals want or timeout_ms passes; returns the last count. */
int64_t harness_wait_count(const char *sql, const char *p1, int64_t want, int timeout_ms);

/* Reads one text value ("" for none). */
void harness_value(const char *sql, const char *p1, char *out, size_t outlen);

/* Publishes body straight to the events exchange with a confirm (mandatory). */
void harness_publish_raw(const char *routing_key, const char *body, const char *message_id);

struct harness_dead_letter {
    char message_id[BUS_ID_LEN];
    char error[BUS_HEADER_VALUE_LEN];
    char original_routing_key[BUS_HEADER_VALUE_LEN];
    long long attempts;
    long long poison;
};

/*
 * Reads (and acks) the probe's dead-letter queue until `want` messages were
 * collected in all (earlier calls included) or timeout_ms passes. Returns a
 * pointer to every dead letter collected so far and their number in *n.
 */
const struct harness_dead_letter *harness_dead_letters(int want, int timeout_ms, int *n);

/* The dead letter with message_id, among those collected, or NULL. */
const struct harness_dead_letter *harness_dead_letter_find(const char *message_id);

#endif
