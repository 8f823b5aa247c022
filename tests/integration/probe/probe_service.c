/*
 * probe_service.c - the test-only context "probe" (not one of the six).
 *
 * It consumes its own events, probe.item.created and probe.item.handled, and
 * its handler does what the event's data.behaviour says, so the integration
 * tests can drive the event core through every outcome:
 *
 *   ok            record one effect
 *   chain         record one effect and publish probe.item.handled
 *   fail_twice    fail (transient) on attempts 1 and 2, then record the effect
 *   always_fail   fail (transient) every time
 *   reject        fail permanently (unprocessable)
 *   abort         call abort(): the process dies in the handler
 *   switch        fail (transient) until the item is in probe.switches
 *   dirty_fail    on attempt 1: record the effect, then run a statement that
 *                 fails (the transaction, or its savepoint, is aborted) and fail
 *                 (transient); on a retry, record the effect
 *
 * Test seams from the environment: PROBE_KILL_AFTER_COMMIT=1 makes the
 * process SIGKILL itself after the first handler commit, before the ack;
 * PROBE_KILL_AFTER_PUBLISH=1 after the relay's first published batch, before
 * it is marked published.
 */
#include "common/consumer.h"
#include "common/db.h"
#include "common/envelope.h"
#include "common/relay.h"
#include "common/service.h"
#include "probe_contract.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int record_effect(struct handler_ctx *hc, const char *item, const char *kind,
                         struct err *err)
{
    char attempt[16];
    snprintf(attempt, sizeof(attempt), "%d", hc->attempt);
    const char *params[] = {hc->ev->id, item, kind, attempt, service_instance()};
    int rc = db_exec(hc->db,
                     "INSERT INTO effects (event_id, item, kind, attempt, handled_by)"
                     " VALUES ($1::uuid, $2, $3, $4::int, $5)",
                     5, params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

static int on_probe_item_created(struct handler_ctx *hc, struct err *err)
{
    struct probe_item_created in;
    int rc = contract_decode(&PROBE_ITEM_CREATED, hc->ev->data, &in, sizeof(in), err);
    if (rc)
        return rc;
    const char *item = in.item;
    const char *behaviour = in.behaviour[0] ? in.behaviour : "ok";
    if (strcmp(behaviour, "fail_twice") == 0 && hc->attempt < 3)
        return err_set(err, ERR_TRANSIENT, "planned failure on attempt %d", hc->attempt);
    if (strcmp(behaviour, "always_fail") == 0)
        return err_set(err, ERR_TRANSIENT, "planned failure, always");
    if (strcmp(behaviour, "reject") == 0)
        return err_set(err, ERR_UNPROCESSABLE, "planned permanent failure");
    if (strcmp(behaviour, "abort") == 0)
        abort();
    if (strcmp(behaviour, "switch") == 0) {
        const char *params[] = {item};
        int on =
            db_exec(hc->db, "SELECT 1 FROM switches WHERE item = $1", 1, params, NULL, NULL, err);
        if (on < 0)
            return on;
        if (on == 0)
            return err_set(err, ERR_TRANSIENT, "switch for '%s' is off", item);
    }
    rc = record_effect(hc, item, "created", err);
    if (rc == 0 && strcmp(behaviour, "dirty_fail") == 0 && hc->attempt == 1) {
        struct err ignored;
        db_exec(hc->db, "SELECT 1/0", 0, NULL, NULL, NULL, &ignored);
        return err_set(err, ERR_TRANSIENT, "planned failure after a write and a failed statement");
    }
    if (rc == 0 && strcmp(behaviour, "chain") == 0) {
        struct probe_item_handled out = {0};
        memcpy(out.item, in.item, sizeof(out.item));
        rc = handler_publish(hc, &PROBE_ITEM_HANDLED, &out, sizeof(out), err);
    }
    return rc;
}

static int on_probe_item_handled(struct handler_ctx *hc, struct err *err)
{
    struct probe_item_handled in;
    int rc = contract_decode(&PROBE_ITEM_HANDLED, hc->ev->data, &in, sizeof(in), err);
    return rc ? rc : record_effect(hc, in.item, "handled", err);
}

static const struct subscription probe_subscriptions[] = {
    {&PROBE_ITEM_CREATED, on_probe_item_created},
    {&PROBE_ITEM_HANDLED, on_probe_item_handled},
};

static const struct contract_event *const probe_publishes[] = {&PROBE_ITEM_CREATED,
                                                               &PROBE_ITEM_HANDLED, NULL};

static void kill_after_commit(void *app, const struct envelope *ev)
{
    (void)app;
    (void)ev;
    raise(SIGKILL);
}

static void kill_after_publish(void *app, size_t published)
{
    (void)app;
    if (published > 0)
        raise(SIGKILL);
}

static const struct consumer_hooks kill_consumer = {kill_after_commit};
static const struct relay_hooks kill_relay = {kill_after_publish};

int main(int argc, char **argv)
{
    struct service_def def = {
        .name = "probe",
        .http_port = 0, /* HTTP_PORT or an ephemeral port */
        .subscriptions = probe_subscriptions,
        .nsubscriptions = sizeof(probe_subscriptions) / sizeof(probe_subscriptions[0]),
        .publishes = probe_publishes,
    };
    if (getenv("PROBE_KILL_AFTER_COMMIT"))
        def.consumer_hooks = &kill_consumer;
    if (getenv("PROBE_KILL_AFTER_PUBLISH"))
        def.relay_hooks = &kill_relay;
    return service_main(argc, argv, &def);
}
