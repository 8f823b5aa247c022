/*
 * handoff.c - the queues between the transactions of a process and its
 * relays (handoff.h, ADR 0011). One lock guards every slot: it is held for a
 * few pointer moves per event.
 */
#include "handoff.h"

#include "steady.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HANDOFF_SLOTS_MAX 16
#define HANDOFF_NAME_MAX  OUTBOX_OWNER_MAX

struct handoff_entry {
    struct handoff_entry *next;
    struct handoff *slot;
    unsigned generation; /* the slot's when reserved: a later attach is another relay */
    int64_t leased_ms;   /* steady time the INSERT's lease began (at the latest) */
    size_t bytes;
    struct outbox_row row;
};

struct handoff {
    bool attached;
    unsigned generation;
    char context[HANDOFF_NAME_MAX];
    char instance[HANDOFF_NAME_MAX];
    int lease_ms;
    struct handoff_entry *head, *tail; /* committed rows, oldest first */
    size_t nrows, nbytes;              /* queued and reserved */
    bool missed;                       /* a row found the queue full */
};

static struct {
    pthread_mutex_t lock;
    struct handoff slot[HANDOFF_SLOTS_MAX];
} handoff_reg = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void entry_free(struct handoff_entry *e)
{
    free(e->row.payload);
    free(e);
}

/* Frees a list of entries linked by next (outside the lock). */
static void entries_free(struct handoff_entry *e)
{
    while (e) {
        struct handoff_entry *next = e->next;
        entry_free(e);
        e = next;
    }
}

struct handoff *handoff_attach(const char *context, const char *instance, int lease_ms)
{
    if (strlen(context) >= HANDOFF_NAME_MAX || strlen(instance) >= HANDOFF_NAME_MAX)
        return NULL;
    struct handoff *free_slot = NULL;
    pthread_mutex_lock(&handoff_reg.lock);
    for (int i = 0; i < HANDOFF_SLOTS_MAX; i++) {
        struct handoff *h = &handoff_reg.slot[i];
        if (h->attached && strcmp(h->context, context) == 0) {
            free_slot = NULL; /* the context's first relay keeps it */
            break;
        }
        if (!h->attached && !free_slot)
            free_slot = h;
    }
    if (free_slot) {
        struct handoff *h = free_slot;
        h->attached = true;
        h->generation++;
        snprintf(h->context, sizeof(h->context), "%s", context);
        snprintf(h->instance, sizeof(h->instance), "%s", instance);
        h->lease_ms = lease_ms;
        h->head = h->tail = NULL;
        h->nrows = h->nbytes = 0;
        h->missed = false;
    }
    pthread_mutex_unlock(&handoff_reg.lock);
    return free_slot;
}

void handoff_detach(struct handoff *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&handoff_reg.lock);
    struct handoff_entry *e = h->head;
    h->attached = false;
    h->generation++; /* reservations still out are freed when they settle */
    h->head = h->tail = NULL;
    h->nrows = h->nbytes = 0;
    pthread_mutex_unlock(&handoff_reg.lock);
    entries_free(e);
}

struct handoff_entry *handoff_reserve(const char *context, const char *id, const char *type,
                                      const char *correlation_id, const char *payload,
                                      const char *traceparent, char *owner, size_t ownerlen,
                                      int *lease_ms)
{
    size_t len = strlen(payload);
    struct handoff_entry *e = calloc(1, sizeof(*e));
    char *copy = e ? malloc(len + 1) : NULL;
    if (!copy) {
        free(e);
        return NULL; /* the row is claimed from the table instead */
    }
    memcpy(copy, payload, len + 1);
    e->bytes = len;
    e->row.payload = copy;
    e->row.payload_len = len;
    snprintf(e->row.id, sizeof(e->row.id), "%s", id);
    snprintf(e->row.type, sizeof(e->row.type), "%s", type);
    snprintf(e->row.correlation_id, sizeof(e->row.correlation_id), "%s", correlation_id);
    snprintf(e->row.traceparent, sizeof(e->row.traceparent), "%s", traceparent ? traceparent : "");

    struct handoff *slot = NULL;
    pthread_mutex_lock(&handoff_reg.lock);
    for (int i = 0; i < HANDOFF_SLOTS_MAX && !slot; i++) {
        struct handoff *h = &handoff_reg.slot[i];
        if (h->attached && strcmp(h->context, context) == 0)
            slot = h;
    }
    if (slot && (slot->nrows >= HANDOFF_ROWS_MAX || slot->nbytes + len > HANDOFF_BYTES_MAX)) {
        slot->missed = true;
        slot = NULL;
    }
    if (slot) {
        slot->nrows++;
        slot->nbytes += len;
        e->slot = slot;
        e->generation = slot->generation;
        e->leased_ms = steady_now_ms();
        snprintf(owner, ownerlen, "%s", slot->instance);
        *lease_ms = slot->lease_ms;
    }
    pthread_mutex_unlock(&handoff_reg.lock);
    if (!slot) {
        entry_free(e);
        return NULL;
    }
    return e;
}

void handoff_settle(void *entry, bool committed)
{
    struct handoff_entry *e = entry;
    struct handoff *h = e->slot;
    pthread_mutex_lock(&handoff_reg.lock);
    bool live = h->attached && h->generation == e->generation;
    if (live && committed) {
        if (h->tail)
            h->tail->next = e;
        else
            h->head = e;
        h->tail = e;
        e = NULL;
    } else if (live) {
        h->nrows--;
        h->nbytes -= e->bytes;
    }
    pthread_mutex_unlock(&handoff_reg.lock);
    if (e)
        entry_free(e);
}

size_t handoff_take(struct handoff *h, struct outbox_row *rows, size_t max, bool *read_table)
{
    struct handoff_entry *stale = NULL;
    size_t n = 0;
    int64_t now = steady_now_ms();
    pthread_mutex_lock(&handoff_reg.lock);
    if (h->missed) {
        h->missed = false;
        *read_table = true;
    }
    while (h->head && n < max) {
        struct handoff_entry *e = h->head;
        h->head = e->next;
        if (!h->head)
            h->tail = NULL;
        h->nrows--;
        h->nbytes -= e->bytes;
        if (now - e->leased_ms > h->lease_ms / 2) {
            e->next = stale;
            stale = e;
            *read_table = true;
            continue;
        }
        rows[n++] = e->row;
        free(e); /* the payload moved to rows[] */
    }
    pthread_mutex_unlock(&handoff_reg.lock);
    entries_free(stale);
    return n;
}
