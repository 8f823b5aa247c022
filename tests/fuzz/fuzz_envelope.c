/*
 * fuzz_envelope.c - an input is a message body off the broker: envelope_parse
 * (common/src/envelope.c), then, when it is accepted, its data against the
 * contract of EVERY event every context publishes (contract_validate), which
 * is what a consumer does to a delivery before any handler runs.
 *
 * Besides "no crash, no leak, no undefined behaviour", each input checks:
 *   - a refused body is ERR_INVALID and leaves the envelope released;
 *   - an accepted one passes envelope_validate (envelope.h's invariant);
 *   - contract_validate answers 0 or ERR_INVALID, never anything else;
 *   - an accepted envelope serialized and parsed again is the same envelope
 *     (what the relay publishes from the outbox is what was stored).
 */
#include "fuzz.h"

#include "common/envelope.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

/*
 * Data a contract accepts decodes into its struct (the rows fit their members:
 * contract_check) and encodes back to data the contract accepts, each field
 * as it was.
 */
static void check_codec(const struct contract_event *c, const json_t *data)
{
    struct err err;
    err_clear(&err);
    void *buf = malloc(c->size);
    FUZZ_CHECK(buf != NULL, "out of memory");
    int rc = contract_decode(c, data, buf, c->size, &err);
    FUZZ_CHECK(rc == 0, "'%s' validates data it cannot decode: %s", c->type, err.msg);
    json_t *again = NULL;
    rc = contract_encode(c, buf, c->size, &again, &err);
    FUZZ_CHECK(rc == 0, "'%s' cannot encode what it decoded: %s", c->type, err.msg);
    rc = contract_validate(c, again, &err);
    FUZZ_CHECK(rc == 0, "'%s' refuses what it encoded: %s", c->type, err.msg);
    for (size_t i = 0; i < c->nfields; i++) {
        const json_t *was = json_object_get(data, c->fields[i].name);
        const json_t *now = json_object_get(again, c->fields[i].name);
        bool dropped_empty = !now && json_is_string(was) && json_string_length(was) == 0;
        FUZZ_CHECK(dropped_empty || (!was && !now) || (json_is_null(was) && !now) ||
                       (was && now && json_equal(was, now)),
                   "field '%s' of '%s' changed in a decode/encode round trip", c->fields[i].name,
                   c->type);
    }
    json_decref(again);
    free(buf);
}

/* The data of an accepted envelope against every published contract. */
static void validate_against_every_contract(const struct envelope *ev)
{
    for (const struct contract_event *const *const *list = fuzz_contracts; *list; list++) {
        for (const struct contract_event *const *c = *list; *c; c++) {
            struct err err;
            err_clear(&err);
            int rc = contract_validate(*c, ev->data, &err);
            FUZZ_CHECK(rc == 0 || rc == ERR_INVALID, "contract '%s' answered %d: %s", (*c)->type,
                       rc, err.msg);
            FUZZ_CHECK(rc == 0 || err.msg[0], "contract '%s' refused data without a reason",
                       (*c)->type);
            if (rc == 0)
                check_codec(*c, ev->data);
        }
    }
}

/* Serializes ev and parses the text again: every attribute must survive. */
static void check_round_trip(const struct envelope *ev)
{
    struct err err;
    err_clear(&err);
    char *text = envelope_serialize(ev, &err);
    FUZZ_CHECK(text != NULL, "an accepted envelope does not serialize: %s", err.msg);
    struct envelope again;
    envelope_init(&again);
    int rc = envelope_parse(&again, text, strlen(text), &err);
    FUZZ_CHECK(rc == 0, "a serialized envelope does not parse: %s in %s", err.msg, text);
    FUZZ_CHECK(strcmp(ev->id, again.id) == 0 && strcmp(ev->source, again.source) == 0 &&
                   strcmp(ev->type, again.type) == 0 && strcmp(ev->time, again.time) == 0 &&
                   ev->version == again.version &&
                   strcmp(ev->correlation_id, again.correlation_id) == 0 &&
                   strcmp(ev->causation_id, again.causation_id) == 0 &&
                   strcmp(ev->traceparent, again.traceparent) == 0,
               "an attribute changed in a serialize/parse round trip: %s", text);
    FUZZ_CHECK(json_equal(ev->data, again.data), "data changed in a round trip: %s", text);
    envelope_release(&again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct envelope ev;
    envelope_init(&ev);
    struct err err;
    err_clear(&err);
    int rc = envelope_parse(&ev, (const char *)data, size, &err);
    if (rc != 0) {
        FUZZ_CHECK(rc == ERR_INVALID, "envelope_parse answered %d: %s", rc, err.msg);
        FUZZ_CHECK(ev.data == NULL, "a refused envelope still holds data");
        return 0;
    }
    rc = envelope_validate(&ev, &err);
    FUZZ_CHECK(rc == 0, "envelope_parse accepted what envelope_validate refuses: %s", err.msg);
    validate_against_every_contract(&ev);
    check_round_trip(&ev);
    envelope_release(&ev);
    return 0;
}
