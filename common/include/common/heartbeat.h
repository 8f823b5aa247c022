/*
 * heartbeat.h - every running instance says it is alive: a thread of its own
 * upserts the instance's row of <context>.heartbeat (migrations 0007, 0009:
 * instance id, context, pid, when this run started, when last seen, whether
 * its consumer has paused itself) at start and then
 * every HEARTBEAT_INTERVAL_MS, on a database connection of its own. The
 * operations dashboard lists these rows as the endpoints (eventctl dashboard,
 * GET /api/endpoints); a row not refreshed for HEARTBEAT_STALE_MS belongs to
 * an instance that stopped or hangs.
 *
 * A beat that fails (database down, table not migrated yet) is tried again at
 * the next interval; it never stops the service. Logged when beats start
 * failing and when they recover, not at every beat of an outage.
 */
#ifndef COMMON_HEARTBEAT_H
#define COMMON_HEARTBEAT_H

#include "common/err.h"

#include <stdbool.h>

#define HEARTBEAT_INTERVAL_MS 2000
#define HEARTBEAT_STALE_MS    (3 * HEARTBEAT_INTERVAL_MS) /* missed beats: gone, or hanging */
#define HEARTBEAT_FORGET      "1 day" /* a row silent this long is deleted (an interval) */

struct db;
struct heartbeat;

/* Whether the instance's consumer has paused itself (its breaker is open); called at each beat. */
typedef bool (*heartbeat_paused_fn)(void);

/*
 * Starts the heartbeat of instance_id in context's schema (new; stop it with
 * heartbeat_stop). The strings are copied; paused may be NULL (never paused).
 * Returns NULL with err set when out of memory or no thread can be started.
 */
struct heartbeat *heartbeat_start(const char *database_url, const char *context,
                                  const char *instance_id, heartbeat_paused_fn paused,
                                  struct err *err);

/* Stops the thread after the beat in hand and frees hb. NULL is a no-op. */
void heartbeat_stop(struct heartbeat *hb);

/*
 * One beat on db (its schema the context's): upserts instance_id's row with
 * pid, started_at (a timestamptz text), paused and last_seen = now, and deletes the
 * rows of instances silent for HEARTBEAT_FORGET (an instance id used once,
 * such as the default <context>-<pid>, would otherwise stay listed forever).
 * Returns 0 or an error code with err set.
 */
int heartbeat_beat(struct db *db, const char *context, const char *instance_id, long pid,
                   const char *started_at, bool paused, struct err *err);

#endif
