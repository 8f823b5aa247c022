/*
 * scenario.c - see scenario.h.
 */
#include "scenario.h"

#include <stdarg.h>
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

void scenario_finish(void)
{
    load_stop(scenario.load);
    char faults[2048] = "";
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
                     faults[0] ? faults : "none");
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
