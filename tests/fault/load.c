/*
 * load.c - see load.h.
 *
 * One thread, one loop: users at users_per_s, bookings at bookings_per_s
 * (a late write is not caught up by a burst: the schedule restarts from
 * now), and every provider_every-th accepted user walks the provider
 * pipeline (register → activate → publish an offering), each step retried
 * with a fresh key until accepted or 30 s have passed. HTTP goes through
 * fault_http(), so a killed or restarted instance is simply "unavailable".
 */
#include "load.h"

#include "fault.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_PIPELINE_MAX    64
#define LOAD_STEP_RETRY_MS   500
#define LOAD_STEP_GIVE_UP_MS 30000
#define LOAD_SEED_WAIT_MS    30000

struct offering {
    char id[LOAD_ID_LEN];
    long long price_cents;
};

enum stage { STAGE_REGISTER, STAGE_ACTIVATE, STAGE_OFFER, STAGE_DONE };

struct pipeline {
    char owner[LOAD_ID_LEN];
    char provider[LOAD_ID_LEN];
    enum stage stage;
    int64_t next_ms;
    int64_t give_up_ms;
};

struct load {
    struct load_config cfg;
    pthread_t thread;
    bool running;
    atomic_bool stopping;

    pthread_mutex_t mu; /* guards writes/n/cap (the main thread may read counts meanwhile) */
    struct load_write *writes;
    size_t n, cap;
    atomic_long counts[LOAD_NKINDS][LOAD_NOUTCOMES];

    /* The thread's own working sets (the main thread touches them only before start). */
    char (*users)[LOAD_ID_LEN];
    size_t nusers, capusers;
    struct offering *offerings;
    size_t nofferings, capofferings;
    struct offering seed[3]; /* roomy, scarce, pricey */
    struct pipeline pipes[LOAD_PIPELINE_MAX];
    size_t npipes;
    long seq;
    long accepted_users;
    uint32_t rng;
};

static const char *const kind_names[LOAD_NKINDS] = {"users", "providers", "activations",
                                                    "offerings", "bookings"};

static uint32_t rnd(struct load *l)
{
    l->rng ^= l->rng << 13;
    l->rng ^= l->rng >> 17;
    l->rng ^= l->rng << 5;
    return l->rng;
}

static enum load_outcome outcome_of(enum fault_http_result r, long status)
{
    if (r == FAULT_HTTP_UNAVAILABLE)
        return LOAD_UNAVAILABLE;
    if (r == FAULT_HTTP_NO_REPLY)
        return LOAD_UNKNOWN;
    if (status >= 200 && status < 300)
        return LOAD_ACCEPTED;
    if (status >= 400 && status < 500)
        return LOAD_REFUSED;
    return LOAD_UNKNOWN;
}

static void record(struct load *l, const struct load_write *w)
{
    pthread_mutex_lock(&l->mu);
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        struct load_write *writes = realloc(l->writes, cap * sizeof(*writes));
        if (!writes)
            abort();
        l->writes = writes;
        l->cap = cap;
    }
    l->writes[l->n++] = *w;
    pthread_mutex_unlock(&l->mu);
    atomic_fetch_add(&l->counts[w->kind][w->outcome], 1);
}

/* POSTs body to path of c; fills w's outcome, status and (when accepted) id from the reply. */
static void post(struct load *l, enum e2e_ctx c, const char *path, const char *body,
                 const char *correlation_id, struct load_write *w)
{
    long status = 0;
    json_t *reply = NULL;
    w->at_ms = testlib_now_ms();
    enum fault_http_result r =
        fault_http(c, "POST", path, body, correlation_id, &status, &reply, NULL);
    w->status = status;
    w->outcome = outcome_of(r, status);
    if (w->outcome == LOAD_ACCEPTED) {
        const char *id = e2e_str(reply, "id");
        if (strlen(id) == LOAD_ID_LEN - 1)
            snprintf(w->id, sizeof(w->id), "%s", id);
        else
            w->outcome = LOAD_UNKNOWN; /* 2xx without an id: not a reply we can rely on */
    }
    json_decref(reply);
    record(l, w);
}

static void add_user(struct load *l, const char *id)
{
    if (l->nusers == l->capusers) {
        size_t cap = l->capusers ? l->capusers * 2 : 256;
        char(*users)[LOAD_ID_LEN] = realloc(l->users, cap * sizeof(*users));
        if (!users)
            abort();
        l->users = users;
        l->capusers = cap;
    }
    snprintf(l->users[l->nusers++], LOAD_ID_LEN, "%s", id);
}

static void add_offering(struct load *l, const char *id, long long price)
{
    if (l->nofferings == l->capofferings) {
        size_t cap = l->capofferings ? l->capofferings * 2 : 64;
        struct offering *o = realloc(l->offerings, cap * sizeof(*o));
        if (!o)
            abort();
        l->offerings = o;
        l->capofferings = cap;
    }
    snprintf(l->offerings[l->nofferings].id, LOAD_ID_LEN, "%s", id);
    l->offerings[l->nofferings++].price_cents = price;
}

/* ------------------------------------------------------------------ the writes */

static bool write_user(struct load *l, char id_out[LOAD_ID_LEN])
{
    struct load_write w = {.kind = LOAD_USER};
    long seq = ++l->seq;
    snprintf(w.key, sizeof(w.key), "%s-u%ld-%08x@example.com", l->cfg.tag, seq, rnd(l));
    char body[256];
    snprintf(body, sizeof(body), "{\"email\": \"%s\", \"name\": \"Fault User %ld\"}", w.key, seq);
    post(l, E2E_USERMANAGEMENT, "/users", body, NULL, &w);
    if (w.outcome != LOAD_ACCEPTED)
        return false;
    add_user(l, w.id);
    if (id_out)
        snprintf(id_out, LOAD_ID_LEN, "%s", w.id);
    return true;
}

static bool write_provider(struct load *l, const char *owner, char id_out[LOAD_ID_LEN])
{
    struct load_write w = {.kind = LOAD_PROVIDER};
    snprintf(w.key, sizeof(w.key), "%s rooms %ld", l->cfg.tag, ++l->seq);
    snprintf(w.ref, sizeof(w.ref), "%s", owner);
    char body[512];
    snprintf(body, sizeof(body),
             "{\"owner_id\": \"%s\", \"business_name\": \"%s\", \"provider_type\": \"hotel\"}",
             owner, w.key);
    post(l, E2E_SERVICECATALOG, "/providers", body, NULL, &w);
    if (w.outcome == LOAD_ACCEPTED)
        snprintf(id_out, LOAD_ID_LEN, "%s", w.id);
    return w.outcome == LOAD_ACCEPTED;
}

static bool write_activation(struct load *l, const char *provider, const char *owner)
{
    struct load_write w = {.kind = LOAD_ACTIVATION};
    snprintf(w.key, sizeof(w.key), "%s", provider);
    snprintf(w.ref, sizeof(w.ref), "%s", owner);
    char path[128];
    snprintf(path, sizeof(path), "/providers/%s/activate", provider);
    post(l, E2E_SERVICECATALOG, path, NULL, NULL, &w);
    return w.outcome == LOAD_ACCEPTED;
}

static bool write_offering(struct load *l, const char *provider, long long price,
                           long long capacity, char id_out[LOAD_ID_LEN])
{
    struct load_write w = {.kind = LOAD_OFFERING, .quantity = capacity, .price_cents = price};
    snprintf(w.key, sizeof(w.key), "%s offering %ld", l->cfg.tag, ++l->seq);
    snprintf(w.ref, sizeof(w.ref), "%s", provider);
    char body[512], path[128];
    snprintf(body, sizeof(body), "{\"name\": \"%s\", \"price_cents\": %lld, \"capacity\": %lld}",
             w.key, price, capacity);
    snprintf(path, sizeof(path), "/providers/%s/offerings", provider);
    post(l, E2E_SERVICECATALOG, path, body, NULL, &w);
    if (w.outcome != LOAD_ACCEPTED)
        return false;
    add_offering(l, w.id, price);
    if (id_out)
        snprintf(id_out, LOAD_ID_LEN, "%s", w.id);
    return true;
}

static void write_booking(struct load *l)
{
    if (!l->nusers || !l->nofferings)
        return;
    uint32_t pick = rnd(l) % 100;
    const struct offering *o = pick < 20   ? &l->seed[2]
                               : pick < 35 ? &l->seed[1]
                                           : &l->offerings[rnd(l) % l->nofferings];
    struct load_write w = {.kind = LOAD_BOOKING, .quantity = 1 + rnd(l) % 3};
    w.price_cents = w.quantity * o->price_cents;
    snprintf(w.key, sizeof(w.key), "%s-b%ld", l->cfg.tag, ++l->seq);
    memcpy(w.ref, o->id, sizeof(w.ref));
    memcpy(w.user, l->users[rnd(l) % l->nusers], sizeof(w.user));
    char body[256];
    snprintf(body, sizeof(body),
             "{\"user_id\": \"%s\", \"offering_id\": \"%s\", \"quantity\": %lld}", w.user, w.ref,
             w.quantity);
    post(l, E2E_BOOKING, "/bookings", body, w.key, &w);
}

/* One step of the first provider pipeline that is due. */
static void advance_pipeline(struct load *l, int64_t now)
{
    for (size_t i = 0; i < l->npipes; i++) {
        struct pipeline *p = &l->pipes[i];
        if (p->stage == STAGE_DONE || p->next_ms > now)
            continue;
        if (now > p->give_up_ms) {
            p->stage = STAGE_DONE;
            continue;
        }
        bool ok = false;
        switch (p->stage) {
        case STAGE_REGISTER: ok = write_provider(l, p->owner, p->provider); break;
        case STAGE_ACTIVATE: ok = write_activation(l, p->provider, p->owner); break;
        case STAGE_OFFER: {
            static const long long prices[] = {1500, 2500, 40000};
            ok = write_offering(l, p->provider, prices[rnd(l) % 3], 5 + rnd(l) % 36, NULL);
            break;
        }
        case STAGE_DONE: break;
        }
        if (ok) {
            p->stage++;
            p->next_ms = now;
        } else {
            p->next_ms = now + LOAD_STEP_RETRY_MS;
        }
        return;
    }
}

static void *load_main(void *arg)
{
    struct load *l = arg;
    int64_t now = testlib_now_ms();
    int64_t next_user = now, next_booking = now;
    int64_t user_every = 1000 / (l->cfg.users_per_s > 0 ? l->cfg.users_per_s : 1);
    int64_t booking_every = 1000 / (l->cfg.bookings_per_s > 0 ? l->cfg.bookings_per_s : 1);
    while (!atomic_load(&l->stopping)) {
        now = testlib_now_ms();
        if (l->cfg.users_per_s > 0 && now >= next_user) {
            if (write_user(l, NULL) && l->cfg.provider_every > 0 &&
                ++l->accepted_users % l->cfg.provider_every == 0 && l->npipes < LOAD_PIPELINE_MAX) {
                struct pipeline *p = &l->pipes[l->npipes++];
                memset(p, 0, sizeof(*p));
                snprintf(p->owner, sizeof(p->owner), "%s", l->users[l->nusers - 1]);
                p->next_ms = now + LOAD_STEP_RETRY_MS;
                p->give_up_ms = now + LOAD_STEP_GIVE_UP_MS;
            }
            next_user += user_every;
            if (next_user < now - 1000)
                next_user = now;
        }
        advance_pipeline(l, now);
        now = testlib_now_ms();
        if (l->cfg.bookings_per_s > 0 && now >= next_booking) {
            write_booking(l);
            next_booking += booking_every;
            if (next_booking < now - 1000)
                next_booking = now;
        }
        now = testlib_now_ms();
        int64_t next = next_booking < next_user ? next_booking : next_user;
        int64_t wait = next - now;
        if (wait > 20)
            wait = 20;
        if (wait > 0)
            testlib_sleep_ms((int)wait);
    }
    return NULL;
}

/* ------------------------------------------------------------------ API */

/* Waits until table (schema.table) holds every one of the ids in column col. */
static void wait_known(const char *table, const char *col, const char *ids_array, long want)
{
    char sql[256], what[256];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s WHERE %s = ANY($1::uuid[])", table, col);
    snprintf(what, sizeof(what), "%s to know the seed offerings %s", table, ids_array);
    e2e_wait_count(sql, ids_array, NULL, want, LOAD_SEED_WAIT_MS, what);
}

struct load *load_new(const struct load_config *cfg)
{
    struct load *l = calloc(1, sizeof(*l));
    if (!l)
        fail_msg("out of memory");
    l->cfg = *cfg;
    if (!l->cfg.bookings_per_s)
        l->cfg.bookings_per_s = 20;
    if (!l->cfg.users_per_s)
        l->cfg.users_per_s = 4;
    if (!l->cfg.provider_every)
        l->cfg.provider_every = 6;
    if (!l->cfg.tag)
        l->cfg.tag = "fault";
    pthread_mutex_init(&l->mu, NULL);
    l->rng = (uint32_t)testlib_now_ms() | 1u;

    /* The first provider and its three offerings, synchronously. */
    char owner[LOAD_ID_LEN], provider[LOAD_ID_LEN] = "";
    if (!write_user(l, owner))
        fail_msg("seeding: POST /users was not accepted (status %ld)", l->writes[l->n - 1].status);
    int64_t deadline = testlib_now_ms() + LOAD_SEED_WAIT_MS;
    while (!write_provider(l, owner, provider)) {
        if (testlib_now_ms() > deadline)
            fail_msg(
                "seeding: POST /providers for owner %s not accepted within %d ms (last status %ld)",
                owner, LOAD_SEED_WAIT_MS, l->writes[l->n - 1].status);
        testlib_sleep_ms(50);
    }
    if (!write_activation(l, provider, owner))
        fail_msg("seeding: POST /providers/%s/activate not accepted (status %ld)", provider,
                 l->writes[l->n - 1].status);
    static const long long price[3] = {2500, 1000, 40000};
    static const long long capacity[3] = {100000, 15, 100000};
    char ids[3 * LOAD_ID_LEN + 8] = "{";
    for (int i = 0; i < 3; i++) {
        if (!write_offering(l, provider, price[i], capacity[i], l->seed[i].id))
            fail_msg("seeding: POST /providers/%s/offerings not accepted (status %ld)", provider,
                     l->writes[l->n - 1].status);
        l->seed[i].price_cents = price[i];
        snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s", i ? "," : "", l->seed[i].id);
    }
    strcat(ids, "}");
    wait_known("booking.offerings", "offering_id", ids, 3);
    wait_known("inventory.stock", "offering_id", ids, 3);
    /* The owner books too, once notification knows their address (a booking's notification waits for it). */
    e2e_wait_handled(E2E_NOTIFICATION, "usermanagement.user.registered", "user_id", owner,
                     LOAD_SEED_WAIT_MS);
    return l;
}

void load_start(struct load *l)
{
    if (l->running)
        return;
    atomic_store(&l->stopping, false);
    if (pthread_create(&l->thread, NULL, load_main, l) != 0)
        fail_msg("cannot start the load thread");
    l->running = true;
}

void load_stop(struct load *l)
{
    if (!l || !l->running)
        return;
    atomic_store(&l->stopping, true);
    pthread_join(l->thread, NULL);
    l->running = false;
}

void load_free(struct load *l)
{
    if (!l)
        return;
    load_stop(l);
    pthread_mutex_destroy(&l->mu);
    free(l->writes);
    free(l->users);
    free(l->offerings);
    free(l);
}

long load_count(const struct load *l, enum load_kind kind, enum load_outcome outcome)
{
    return atomic_load(&((struct load *)l)->counts[kind][outcome]);
}

long load_sent(const struct load *l, enum load_kind kind)
{
    long n = 0;
    for (int o = 0; o < LOAD_NOUTCOMES; o++)
        n += load_count(l, kind, o);
    return n;
}

long load_wait_bookings(const struct load *l, long since, long n, int timeout_ms, const char *what)
{
    int64_t deadline = testlib_now_ms() + timeout_ms;
    long got;
    while ((got = load_count(l, LOAD_BOOKING, LOAD_ACCEPTED)) < since + n) {
        if (testlib_now_ms() > deadline)
            fail_msg(
                "waited %d ms for %s: %ld bookings accepted, wanted %ld (sent %ld, refused %ld, "
                "unavailable %ld, unknown %ld)",
                timeout_ms, what, got, since + n, load_sent(l, LOAD_BOOKING),
                load_count(l, LOAD_BOOKING, LOAD_REFUSED),
                load_count(l, LOAD_BOOKING, LOAD_UNAVAILABLE),
                load_count(l, LOAD_BOOKING, LOAD_UNKNOWN));
        testlib_sleep_ms(20);
    }
    return got;
}

const struct load_write *load_writes(const struct load *l, size_t *n)
{
    *n = l->n;
    return l->writes;
}

void load_describe(const struct load *l, char *out, size_t outlen)
{
    out[0] = '\0';
    for (int k = 0; k < LOAD_NKINDS; k++) {
        size_t len = strlen(out);
        snprintf(out + len, outlen - len, "%s%s %ld sent/%ld accepted", k ? ", " : "",
                 kind_names[k], load_sent(l, k), load_count(l, k, LOAD_ACCEPTED));
        long refused = load_count(l, k, LOAD_REFUSED), down = load_count(l, k, LOAD_UNAVAILABLE),
             unknown = load_count(l, k, LOAD_UNKNOWN);
        if (refused || down || unknown) {
            len = strlen(out);
            snprintf(out + len, outlen - len, " (refused %ld, service down %ld, unknown %ld)",
                     refused, down, unknown);
        }
    }
}
