/*
 * heartbeat.c - the instance's row of <context>.heartbeat, refreshed by a
 * thread of its own every HEARTBEAT_INTERVAL_MS (see heartbeat.h). The table
 * changes only here; eventctl only reads it.
 *
 * The thread sleeps in short steps so that heartbeat_stop returns within
 * HEARTBEAT_STEP_MS plus the beat in hand (a statement bounded by the
 * connection's own timeouts).
 */
#include "common/heartbeat.h"

#include "common/db.h"
#include "common/envelope.h"
#include "common/log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT_STEP_MS 100

struct heartbeat {
    struct db *db;
    char *context, *instance_id;
    char started_at[ENVELOPE_TIME_MAX];
    long pid;
    heartbeat_paused_fn paused; /* NULL: never paused */
    atomic_bool stop;
    pthread_t thread;
};

static const char beat_sql[] =
    "INSERT INTO heartbeat (instance_id, context, pid, started_at, paused, last_seen)"
    " VALUES ($1, $2, $3::integer, $4::timestamptz, $5::boolean, clock_timestamp())"
    " ON CONFLICT (instance_id) DO UPDATE SET context = EXCLUDED.context, pid = EXCLUDED.pid,"
    " started_at = EXCLUDED.started_at, paused = EXCLUDED.paused, last_seen = EXCLUDED.last_seen";

static const char forget_sql[] =
    "DELETE FROM heartbeat WHERE last_seen < clock_timestamp() - interval '" HEARTBEAT_FORGET "'";

int heartbeat_beat(struct db *db, const char *context, const char *instance_id, long pid,
                   const char *started_at, bool paused, struct err *err)
{
    char pid_text[24];
    snprintf(pid_text, sizeof(pid_text), "%ld", pid);
    const char *params[] = {instance_id, context, pid_text, started_at, paused ? "true" : "false"};
    int rc = db_exec(db, beat_sql, 5, params, NULL, NULL, err);
    if (rc >= 0)
        rc = db_exec(db, forget_sql, 0, NULL, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

/* Sleeps ms in steps, returning true as soon as the heartbeat is told to stop. */
static bool heartbeat_sleep(struct heartbeat *hb, int ms)
{
    for (int slept = 0; slept < ms; slept += HEARTBEAT_STEP_MS) {
        if (atomic_load(&hb->stop))
            return true;
        struct timespec step = {0, HEARTBEAT_STEP_MS * 1000000L};
        nanosleep(&step, NULL);
    }
    return atomic_load(&hb->stop);
}

static void *heartbeat_run(void *arg)
{
    struct heartbeat *hb = arg;
    bool failing = false;
    do {
        struct err err;
        err_clear(&err);
        int rc = heartbeat_beat(hb->db, hb->context, hb->instance_id, hb->pid, hb->started_at,
                                hb->paused && hb->paused(), &err);
        if (rc != 0 && !failing)
            log_warn("heartbeat failed, tried again every %d ms: %s", HEARTBEAT_INTERVAL_MS,
                     err.msg);
        else if (rc == 0 && failing)
            log_info("heartbeat recovered");
        failing = rc != 0;
    } while (!heartbeat_sleep(hb, HEARTBEAT_INTERVAL_MS));
    return NULL;
}

static void heartbeat_free(struct heartbeat *hb)
{
    db_free(hb->db);
    free(hb->context);
    free(hb->instance_id);
    free(hb);
}

struct heartbeat *heartbeat_start(const char *database_url, const char *context,
                                  const char *instance_id, heartbeat_paused_fn paused,
                                  struct err *err)
{
    struct heartbeat *hb = calloc(1, sizeof(*hb));
    if (!hb) {
        err_set(err, ERR_NOMEM, "out of memory for the heartbeat");
        return NULL;
    }
    hb->context = strdup(context);
    hb->instance_id = strdup(instance_id);
    hb->db = db_new(database_url);
    if (!hb->context || !hb->instance_id || !hb->db) {
        heartbeat_free(hb);
        err_set(err, ERR_NOMEM, "out of memory for the heartbeat");
        return NULL;
    }
    db_set_schema(hb->db, context);
    char name[256];
    snprintf(name, sizeof(name), "%s heartbeat", instance_id);
    db_set_application_name(hb->db, name);
    envelope_time_now(hb->started_at);
    hb->pid = (long)getpid();
    hb->paused = paused;
    atomic_init(&hb->stop, false);
    if (pthread_create(&hb->thread, NULL, heartbeat_run, hb) != 0) {
        heartbeat_free(hb);
        err_set(err, ERR_INTERNAL, "cannot start the heartbeat thread");
        return NULL;
    }
    return hb;
}

void heartbeat_stop(struct heartbeat *hb)
{
    if (!hb)
        return;
    atomic_store(&hb->stop, true);
    pthread_join(hb->thread, NULL);
    heartbeat_free(hb);
}
