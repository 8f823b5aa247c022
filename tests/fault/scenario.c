/*
 * scenario.c - see scenario.h.
 */
#include "scenario.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct scenario scenario;

void scenario_setup(const char *name, const char *const *extra_env, const struct load_config *cfg)
{
    memset(&scenario, 0, sizeof(scenario));
    scenario.name = name;
    const char *env[24];
    size_t n = 0;
    static char limit[64];
    snprintf(limit, sizeof(limit), "PAYMENT_LIMIT_CENTS=%d", LEDGER_PAYMENT_LIMIT_CENTS);
    env[n++] = limit;
    for (const char *const *e = extra_env; e && *e && n < 22; e++)
        env[n++] = *e;
    env[n] = NULL;
    fault_setup(name, env);
    scenario.ledger = ledger_new();
    inject_init(&scenario.inj);
    struct load_config lc = cfg ? *cfg : (struct load_config){0};
    if (!lc.tag)
        lc.tag = name;
    scenario.load = load_new(&lc);
    scenario.t0 = testlib_now_ms();
}

double scenario_elapsed_s(void)
{
    return (double)(testlib_now_ms() - scenario.t0) / 1000.0;
}

void scenario_note(const char *fmt, ...)
{
    char note[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, sizeof(note), fmt, ap);
    va_end(ap);
    printf("fault[%s]: %.1f s: %s\n", scenario.name, scenario_elapsed_s(), note);
    for (int i = 0; i < scenario.nnotes; i++)
        if (strcmp(scenario.notes[i].text, note) == 0) {
            scenario.notes[i].times++;
            return;
        }
    if (scenario.nnotes < (int)(sizeof(scenario.notes) / sizeof(scenario.notes[0]))) {
        snprintf(scenario.notes[scenario.nnotes].text, sizeof(scenario.notes[0].text), "%s", note);
        scenario.notes[scenario.nnotes++].times = 1;
    }
}

void scenario_hold(int ms)
{
    testlib_sleep_ms(ms);
}

/* Stops the load, waits for quiet and checks the whole ledger; the notes so far name the faults. */
static void scenario_verdict(const char *phase)
{
    load_stop(scenario.load);
    char faults[2048] = "";
    if (phase)
        snprintf(faults, sizeof(faults), "[%s] ", phase);
    for (int i = 0; i < scenario.nnotes; i++) {
        size_t len = strlen(faults);
        if (scenario.notes[i].times > 1)
            snprintf(faults + len, sizeof(faults) - len, "%s%s (×%d)", i ? "; " : "",
                     scenario.notes[i].text, scenario.notes[i].times);
        else
            snprintf(faults + len, sizeof(faults) - len, "%s%s", i ? "; " : "",
                     scenario.notes[i].text);
    }
    double quiet = ledger_wait_quiet(scenario.ledger, FAULT_QUIET_MS * (fault_soak() > 1 ? 2 : 1));
    ledger_check_all(scenario.ledger, scenario.load, &scenario.inj, quiet,
                     scenario.nnotes ? faults : "none");
}

void scenario_check(const char *phase)
{
    scenario_verdict(phase);
    /* The next phase's report counts its own invariants and names its own faults. */
    ledger_reset(scenario.ledger);
    scenario.nnotes = 0;
    load_start(scenario.load);
}

void scenario_finish(void)
{
    scenario_verdict(NULL);
}

/* Per context, a type the load keeps it consuming (see scenario_wait_flowing). */
static const char *const flowing_type[E2E_NCTX] = {
    [E2E_SERVICECATALOG] = "usermanagement.user.registered",
    [E2E_USERMANAGEMENT] = "servicecatalog.provider.registered",
    [E2E_BOOKING] = "inventory.stock.debited",
    [E2E_INVENTORY] = "booking.booking.created",
    [E2E_PAYMENT] = "inventory.stock.reserved",
    [E2E_NOTIFICATION] = "booking.booking.confirmed",
};

/* What instance slot of c has consumed of its flowing type; -1 when it does not run. */
static long long flowing_count(int c, int slot)
{
    char name[128];
    snprintf(name, sizeof(name), "events_consumed_total{type=\"%s\"}", flowing_type[c]);
    return fault_instance_metric((enum e2e_ctx)c, slot, name);
}

/* True when a running instance of c consumed more than before[] (its counts at the start). */
static bool flowing(int c, const long long before[FAULT_INSTANCES_MAX])
{
    for (int s = 0; s < FAULT_INSTANCES_MAX; s++)
        if (flowing_count(c, s) > (before[s] > 0 ? before[s] : 0))
            return true;
    return false;
}

int64_t scenario_wait_flowing(int timeout_ms, const char *what)
{
    int64_t t0 = testlib_now_ms();
    long long before[E2E_NCTX][FAULT_INSTANCES_MAX];
    for (int c = 0; c < E2E_NCTX; c++)
        for (int s = 0; s < FAULT_INSTANCES_MAX; s++)
            before[c][s] = flowing_count(c, s);
    for (;;) {
        char stalled[256] = "";
        for (int c = 0; c < E2E_NCTX; c++)
            if (!flowing(c, before[c])) {
                size_t len = strlen(stalled);
                snprintf(stalled + len, sizeof(stalled) - len, "%s%s", len ? ", " : "",
                         e2e_ctx_name((enum e2e_ctx)c));
            }
        int64_t waited = testlib_now_ms() - t0;
        if (!stalled[0])
            return waited;
        if (waited > timeout_ms)
            fail_msg("the flow did not resume within %d ms %s: %s handled nothing", timeout_ms,
                     what, stalled);
        testlib_sleep_ms(100);
    }
}

void scenario_teardown(void)
{
    load_free(scenario.load);
    scenario.load = NULL;
    ledger_free(scenario.ledger);
    scenario.ledger = NULL;
    inject_release(&scenario.inj);
    fault_teardown();
}
