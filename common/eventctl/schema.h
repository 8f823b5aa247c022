/*
 * schema.h - the event contracts in standard formats, generated from the same
 * tables as docs/events.md (common/contract.h and every context's
 * subscriptions): one JSON Schema (draft 2020-12) per event type and major
 * version for its data, one for the CloudEvents envelope, and an AsyncAPI 3.0
 * document of the whole bus. "eventctl catalog --schemas DIR" and
 * "eventctl catalog --asyncapi" write them (docs/contracts.md).
 *
 * A schema's $id is the event's dataschema, "urn:event:<type>:<major>", and
 * its file is "<type>.v<major>.json": the one mapping from URN to file.
 */
#ifndef EVENTCTL_SCHEMA_H
#define EVENTCTL_SCHEMA_H

#include "common/contract.h"
#include "common/err.h"
#include "common/service.h"

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

/* The $id of the envelope schema and its file under docs/schemas/. */
#define SCHEMA_ENVELOPE_ID   "urn:event:envelope:1"
#define SCHEMA_ENVELOPE_FILE "envelope.v1.json"

/* The file name of ev's data schema, "<type>.v<major>.json", into out. */
void schema_file_name(const struct contract_event *ev, char *out, size_t outlen);

/*
 * The JSON Schema (draft 2020-12, with $schema and $id) of ev's data object
 * (new reference; NULL: out of memory).
 */
json_t *schema_data(const struct contract_event *ev);

/* The JSON Schema (draft 2020-12) of the CloudEvents envelope (new reference; NULL: out of memory). */
json_t *schema_envelope(void);

/*
 * The AsyncAPI 3.0 document of services (NULL-terminated): one channel per
 * published type, a send operation for its publisher and a receive operation
 * per subscriber (new reference; NULL: out of memory).
 */
json_t *schema_asyncapi(const struct service_def *const *services);

/*
 * Writes json to out as indented JSON with a final newline. Returns 0, or
 * ERR_NOMEM / ERR_INTERNAL (a write error) with err set.
 */
int schema_dump(const json_t *json, FILE *out, struct err *err);

/*
 * Writes the envelope schema and the data schema of every type services
 * publish into dir (created when missing; other files are left alone).
 * Returns 0, or a negative code naming the file that failed.
 */
int schema_write_dir(const struct service_def *const *services, const char *dir, struct err *err);

#endif
