/*
 * schema.c - JSON Schemas and the AsyncAPI document of the integration events,
 * generated from the contract tables (see schema.h).
 *
 * The data schemas say what common/src/contract.c checks, rule for rule: the
 * same table drives both, so a consumer's verdict and an outside validator's
 * agree. Two rules JSON Schema cannot say exactly are documented where they
 * differ (docs/contracts.md): string bounds count UTF-8 bytes here and
 * characters there, and the dataschema's type part must equal the type.
 * Needs no database and no broker.
 */
#include "schema.h"

#include "common/config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>

#define SCHEMA_DRAFT            "https://json-schema.org/draft/2020-12/schema"
#define SCHEMA_ASYNCAPI_VERSION "3.0.0"
#define SCHEMA_AMQP_BINDING     "0.3.0"
#define SCHEMA_CONTENT_TYPE     "application/cloudevents+json"
/* common/src/contract.c: the longest string when a field's max is 0, and the items of an array. */
#define SCHEMA_STRING_MAX_DEFAULT 256
#define SCHEMA_ARRAY_ITEMS_MAX    64
/* common/include/common/envelope.h: ENVELOPE_TYPE_MAX, ENVELOPE_TIME_MAX - 1. */
#define SCHEMA_TYPE_MAX     128
#define SCHEMA_TIME_MAX     39
#define SCHEMA_NAME_PATTERN "^[a-z][a-z0-9_]*$"
/* uuid7_is_valid(): exactly 8-4-4-4-12 hex digits, where format "uuid" also allows "urn:uuid:" */
#define SCHEMA_UUID_PATTERN                                                                        \
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
#define SCHEMA_REF_LEN 200

/* Sets o[key] = v (taking v), remembering any failure (NULL o or v: out of memory) in *bad. */
static void put(json_t *o, const char *key, json_t *v, bool *bad)
{
    if (json_object_set_new(o, key, v) != 0)
        *bad = true;
}

/* {"$ref": "#/<section>/<name>"}, e.g. ref("components/schemas", "envelope") */
static json_t *ref(const char *section, const char *name)
{
    char r[SCHEMA_REF_LEN * 2];
    snprintf(r, sizeof(r), "#/%s/%s", section, name);
    return json_pack("{s:s}", "$ref", r);
}

/* ---- data schemas ------------------------------------------------------------ */

/* The rules of one string (a string field, or an item of an array field), into o. */
static void string_rules(json_t *o, const struct contract_field *f, bool *bad)
{
    if (f->min > 0)
        put(o, "minLength", json_integer(f->min), bad);
    put(o, "maxLength", json_integer(f->max > 0 ? f->max : SCHEMA_STRING_MAX_DEFAULT), bad);
    switch (f->format) {
    case CONTRACT_FORMAT_NONE: break;
    case CONTRACT_FORMAT_UUID:
        put(o, "format", json_string("uuid"), bad);
        put(o, "pattern", json_string(SCHEMA_UUID_PATTERN), bad);
        break;
    case CONTRACT_FORMAT_EMAIL: put(o, "format", json_string("email"), bad); break;
    case CONTRACT_FORMAT_DATETIME: put(o, "format", json_string("date-time"), bad); break;
    case CONTRACT_FORMAT_NAME:
        /* not a JSON Schema format: the rule itself, so every validator applies it */
        put(o, "pattern", json_string(SCHEMA_NAME_PATTERN), bad);
        break;
    }
}

/*
 * The JSON type of f: a name, or [name, "null"] for an optional field, since
 * contract_validate takes a null optional field for an absent one.
 */
static json_t *field_type(const struct contract_field *f, const char *name)
{
    if (f->presence == CONTRACT_REQUIRED)
        return json_string(name);
    return json_pack("[ss]", name, "null");
}

static json_t *field_schema(const struct contract_field *f, bool *bad)
{
    json_t *o = json_object();
    switch (f->type) {
    case CONTRACT_STRING:
        put(o, "type", field_type(f, "string"), bad);
        string_rules(o, f, bad);
        break;
    case CONTRACT_INTEGER:
        put(o, "type", field_type(f, "integer"), bad);
        put(o, "minimum", json_integer(f->min), bad);
        put(o, "maximum", json_integer(f->max), bad);
        break;
    case CONTRACT_BOOLEAN: put(o, "type", field_type(f, "boolean"), bad); break;
    case CONTRACT_STRING_ARRAY: {
        put(o, "type", field_type(f, "array"), bad);
        put(o, "maxItems", json_integer(SCHEMA_ARRAY_ITEMS_MAX), bad);
        json_t *item = json_pack("{s:s}", "type", "string");
        string_rules(item, f, bad);
        put(o, "items", item, bad);
        break;
    }
    }
    put(o, "description", json_string(f->doc), bad);
    return o;
}

/* The data schema's keywords that JSON Schema 2020-12 and AsyncAPI's schema share. */
static json_t *data_body(const struct contract_event *ev, bool *bad)
{
    json_t *o = json_object(), *props = json_object(), *required = json_array();
    for (size_t i = 0; i < ev->nfields; i++) {
        const struct contract_field *f = &ev->fields[i];
        put(props, f->name, field_schema(f, bad), bad);
        if (f->presence == CONTRACT_REQUIRED &&
            json_array_append_new(required, json_string(f->name)))
            *bad = true;
    }
    put(o, "description", json_string(ev->doc), bad);
    put(o, "type", json_string("object"), bad);
    put(o, "required", required, bad);
    put(o, "properties", props, bad);
    /* tolerant reader (common/contract.h): a producer may add optional fields */
    put(o, "additionalProperties", json_true(), bad);
    return o;
}

void schema_file_name(const struct contract_event *ev, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s.v%d.json", ev->type, ev->version);
}

/* Opens a standalone 2020-12 schema: $schema, $id, title, $comment, in that order. */
static json_t *standalone(const char *id, const char *title, bool *bad)
{
    json_t *o = json_object();
    put(o, "$schema", json_string(SCHEMA_DRAFT), bad);
    put(o, "$id", json_string(id), bad);
    put(o, "title", json_string(title), bad);
    put(o, "$comment",
        json_string("generated by 'eventctl catalog --schemas docs/schemas' from the contract "
                    "tables; do not edit (docs/contracts.md)"),
        bad);
    return o;
}

json_t *schema_data(const struct contract_event *ev)
{
    bool bad = false;
    char id[SCHEMA_REF_LEN], title[SCHEMA_REF_LEN];
    snprintf(id, sizeof(id), "urn:event:%s:%d", ev->type, ev->version);
    snprintf(title, sizeof(title), "data of %s, version %d", ev->type, ev->version);
    json_t *o = standalone(id, title, &bad), *body = data_body(ev, &bad);
    if (json_object_update(o, body) != 0)
        bad = true;
    json_decref(body);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- the envelope ------------------------------------------------------------ */

static json_t *string_pattern(const char *pattern, const char *doc)
{
    return json_pack("{s:s, s:s, s:s}", "type", "string", "pattern", pattern, "description", doc);
}

/* The CloudEvents attributes common/src/envelope.c requires and checks. */
static json_t *envelope_body(bool *bad)
{
    json_t *o = json_object(), *p = json_object();
    put(o, "description",
        json_string("a CloudEvents 1.0 event in structured JSON mode, as every context publishes "
                    "and consumes it (SPEC §2); unknown extension attributes are ignored"),
        bad);
    put(o, "type", json_string("object"), bad);
    put(o, "required",
        json_pack("[sssssssss]", "specversion", "id", "source", "type", "time", "dataschema",
                  "correlationid", "causationid", "data"),
        bad);
    put(p, "specversion", json_pack("{s:s, s:s}", "const", "1.0", "description", "CloudEvents 1.0"),
        bad);
    put(p, "id",
        json_pack("{s:s, s:s, s:s, s:s}", "type", "string", "format", "uuid", "pattern",
                  SCHEMA_UUID_PATTERN, "description",
                  "the event id (UUID v7 from our producers, any UUID from outside ones); also "
                  "the AMQP message_id, and the inbox's deduplication key"),
        bad);
    put(p, "source",
        string_pattern("^/[a-z][a-z0-9_]{0,31}$", "'/<context>': the publishing context"), bad);
    put(p, "type",
        json_pack("{s:s, s:i, s:s, s:s}", "type", "string", "maxLength", SCHEMA_TYPE_MAX, "pattern",
                  "^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*){2,}$", "description",
                  "'<context>.<aggregate>.<event>': also the routing key and the AMQP type"),
        bad);
    put(p, "time",
        json_pack("{s:s, s:s, s:i, s:s}", "type", "string", "format", "date-time", "maxLength",
                  SCHEMA_TIME_MAX, "description",
                  "when it happened, RFC 3339 (UTC from our producers)"),
        bad);
    put(p, "datacontenttype",
        json_pack("{s:s, s:s}", "const", "application/json", "description",
                  "data is JSON (the attribute may be left out)"),
        bad);
    put(p, "dataschema",
        string_pattern("^urn:event:[a-z][a-z0-9_.]*:(?!0+$)[0-9]{1,3}$",
                       "'urn:event:<type>:<major>', the $id of the data schema, whose file is "
                       "docs/schemas/<type>.v<major>.json; its type part must equal type"),
        bad);
    put(p, "correlationid",
        string_pattern("^[!-~]{1,128}$",
                       "the flow this event belongs to: 1..128 visible ASCII characters"),
        bad);
    put(p, "causationid",
        string_pattern("^[!-~]{1,128}$",
                       "the id of the event or request that caused this one: 1..128 visible ASCII "
                       "characters"),
        bad);
    put(p, "traceparent",
        string_pattern(
            "^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$",
            "W3C trace context of the producing span (optional)"),
        bad);
    put(p, "data",
        json_pack("{s:s, s:s}", "type", "object", "description",
                  "the event's fields: the schema named by dataschema"),
        bad);
    put(o, "properties", p, bad);
    return o;
}

json_t *schema_envelope(void)
{
    bool bad = false;
    json_t *o =
        standalone(SCHEMA_ENVELOPE_ID, "CloudEvents envelope of an integration event", &bad);
    json_t *body = envelope_body(&bad);
    if (json_object_update(o, body) != 0)
        bad = true;
    json_decref(body);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- AsyncAPI --------------------------------------------------------------- */

/* The default of common config key name ("" when there is none). */
static const char *common_default(const char *name)
{
    for (size_t k = 0; k < config_common_nkeys; k++)
        if (strcmp(config_common_keys[k].name, name) == 0 && config_common_keys[k].def)
            return config_common_keys[k].def;
    return "";
}

/*
 * The broker of the default AMQP_URL ("amqp://user:pass@host:port/vhost"):
 * host:port into host, the vhost into vhost (never the credentials).
 */
static void default_broker(char *host, size_t hostlen, char *vhost, size_t vhostlen)
{
    const char *url = common_default("AMQP_URL");
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strchr(p, '@');
    if (at)
        p = at + 1;
    size_t n = strcspn(p, "/");
    snprintf(host, hostlen, "%.*s", (int)n, p);
    snprintf(vhost, vhostlen, "%s", p[n] == '/' && p[n + 1] ? p + n + 1 : "/");
}

static json_t *asyncapi_info(bool *bad)
{
    json_t *o = json_object();
    put(o, "title", json_string("Integration events"), bad);
    put(o, "version", json_string("1.0.0"), bad);
    put(o, "description",
        json_string(
            "Every integration event the six contexts exchange through RabbitMQ. "
            "Generated by 'eventctl catalog --asyncapi' from the contract and subscription "
            "tables, like docs/events.md; do not edit. Each message is a CloudEvents 1.0 "
            "event in structured mode (the AMQP body); its data is described by the JSON "
            "Schema whose $id is the event's dataschema (docs/schemas/, docs/contracts.md)."),
        bad);
    return o;
}

static json_t *asyncapi_servers(const char *host, const char *vhost, bool *bad)
{
    json_t *server = json_object();
    put(server, "host", json_string(host), bad);
    put(server, "protocol", json_string("amqp"), bad);
    put(server, "protocolVersion", json_string("0-9-1"), bad);
    char path[SCHEMA_REF_LEN];
    if (snprintf(path, sizeof(path), "/%s", vhost) >= (int)sizeof(path))
        *bad = true; /* a vhost this long is no default of ours */
    put(server, "pathname", json_string(path), bad);
    put(server, "description",
        json_string("the default AMQP_URL of the services (docs/config.md); every deployment "
                    "sets its own"),
        bad);
    json_t *o = json_object();
    put(o, "broker", server, bad);
    return o;
}

/* The channel, message and data schema of ev, unless the document has them already. */
static void add_channel(json_t *doc, const struct contract_event *ev, const char *exchange,
                        const char *vhost, bool *bad)
{
    json_t *channels = json_object_get(doc, "channels");
    json_t *components = json_object_get(doc, "components");
    json_t *schemas = json_object_get(components, "schemas");
    json_t *messages = json_object_get(components, "messages");
    if (json_object_get(channels, ev->type))
        return;

    char data_name[SCHEMA_REF_LEN], dataschema[SCHEMA_REF_LEN];
    snprintf(data_name, sizeof(data_name), "%s.v%d", ev->type, ev->version);
    snprintf(dataschema, sizeof(dataschema), "urn:event:%s:%d", ev->type, ev->version);
    put(schemas, data_name, data_body(ev, bad), bad);

    json_t *attrs = json_object();
    put(attrs, "type", json_pack("{s:s}", "const", ev->type), bad);
    put(attrs, "dataschema", json_pack("{s:s}", "const", dataschema), bad);
    put(attrs, "data", ref("components/schemas", data_name), bad);
    json_t *payload =
        json_pack("{s:[o, {s:s, s:o}]}", "allOf", ref("components/schemas", "envelope"), "type",
                  "object", "properties", attrs);
    json_t *msg = json_object();
    put(msg, "name", json_string(ev->type), bad);
    put(msg, "title", json_string(ev->type), bad);
    put(msg, "summary", json_string(ev->doc), bad);
    put(msg, "contentType", json_string(SCHEMA_CONTENT_TYPE), bad);
    put(msg, "correlationId",
        json_pack("{s:s, s:s}", "description", "the flow (also the AMQP correlation_id)",
                  "location", "$message.payload#/correlationid"),
        bad);
    put(msg, "payload", payload, bad);
    put(msg, "bindings",
        json_pack("{s:{s:s, s:s}}", "amqp", "messageType", ev->type, "bindingVersion",
                  SCHEMA_AMQP_BINDING),
        bad);
    put(messages, ev->type, msg, bad);

    char desc[512];
    snprintf(desc, sizeof(desc),
             "Routing key '%s' on the topic exchange '%s' (EVENTS_EXCHANGE); version %d of its "
             "data, published by %s from its outbox.",
             ev->type, exchange, ev->version, ev->publisher);
    json_t *ch = json_object();
    put(ch, "address", json_string(ev->type), bad);
    put(ch, "title", json_string(ev->type), bad);
    put(ch, "summary", json_string(ev->doc), bad);
    put(ch, "description", json_string(desc), bad);
    put(ch, "messages", json_pack("{s:o}", ev->type, ref("components/messages", ev->type)), bad);
    put(ch, "bindings",
        json_pack("{s:{s:s, s:{s:s, s:s, s:b, s:b, s:s}, s:s}}", "amqp", "is", "routingKey",
                  "exchange", "name", exchange, "type", "topic", "durable", 1, "autoDelete", 0,
                  "vhost", vhost, "bindingVersion", SCHEMA_AMQP_BINDING),
        bad);
    put(channels, ev->type, ch, bad);
}

/* One operation: context sends (publisher) or receives (from its queue) ev. */
static void add_operation(json_t *doc, const struct contract_event *ev, const char *context,
                          bool send, bool *bad)
{
    char id[SCHEMA_REF_LEN], summary[SCHEMA_REF_LEN * 2], msg[SCHEMA_REF_LEN];
    snprintf(id, sizeof(id), "%s.%s.%s", context, send ? "send" : "receive", ev->type);
    snprintf(msg, sizeof(msg), "channels/%s/messages", ev->type);
    if (send)
        snprintf(summary, sizeof(summary),
                 "%s publishes it from its outbox: persistent, mandatory (an unroutable event "
                 "fails), with publisher confirms",
                 context);
    else
        snprintf(summary, sizeof(summary),
                 "%s consumes it from its queue '%s.events' (bound to this routing key), once per "
                 "event id through its inbox; acked after the handler's transaction commits",
                 context, context);
    json_t *op = json_object();
    put(op, "action", json_string(send ? "send" : "receive"), bad);
    put(op, "channel", ref("channels", ev->type), bad);
    put(op, "summary", json_string(summary), bad);
    put(op, "messages", json_pack("[o]", ref(msg, ev->type)), bad);
    if (send)
        put(op, "bindings",
            json_pack("{s:{s:i, s:b, s:b, s:s}}", "amqp", "deliveryMode", 2, "mandatory", 1,
                      "timestamp", 1, "bindingVersion", SCHEMA_AMQP_BINDING),
            bad);
    else
        put(op, "bindings",
            json_pack("{s:{s:b, s:s}}", "amqp", "ack", 1, "bindingVersion", SCHEMA_AMQP_BINDING),
            bad);
    put(json_object_get(doc, "operations"), id, op, bad);
}

json_t *schema_asyncapi(const struct service_def *const *services)
{
    bool bad = false;
    char host[SCHEMA_REF_LEN], vhost[SCHEMA_REF_LEN];
    default_broker(host, sizeof(host), vhost, sizeof(vhost));
    const char *exchange = common_default("EVENTS_EXCHANGE");

    json_t *doc = json_object();
    put(doc, "asyncapi", json_string(SCHEMA_ASYNCAPI_VERSION), &bad);
    put(doc, "info", asyncapi_info(&bad), &bad);
    put(doc, "defaultContentType", json_string(SCHEMA_CONTENT_TYPE), &bad);
    put(doc, "servers", asyncapi_servers(host, vhost, &bad), &bad);
    put(doc, "channels", json_object(), &bad);
    put(doc, "operations", json_object(), &bad);
    json_t *components = json_object();
    put(components, "schemas", json_object(), &bad);
    put(components, "messages", json_object(), &bad);
    put(doc, "components", components, &bad);
    put(json_object_get(components, "schemas"), "envelope", envelope_body(&bad), &bad);

    for (size_t s = 0; services[s]; s++)
        for (const struct contract_event *const *e = services[s]->publishes; e && *e; e++) {
            add_channel(doc, *e, exchange, vhost, &bad);
            add_operation(doc, *e, services[s]->name, true, &bad);
        }
    /* A subscription to a type nobody publishes still gets its channel (the catalog warns). */
    for (size_t s = 0; services[s]; s++)
        for (size_t k = 0; k < services[s]->nsubscriptions; k++) {
            const struct contract_event *ev = services[s]->subscriptions[k].event;
            add_channel(doc, ev, exchange, vhost, &bad);
            add_operation(doc, ev, services[s]->name, false, &bad);
        }
    if (bad) {
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* ---- output ------------------------------------------------------------------ */

int schema_dump(const json_t *json, FILE *out, struct err *err)
{
    if (!json)
        return err_set(err, ERR_NOMEM, "out of memory building a schema");
    if (json_dumpf(json, out, JSON_INDENT(2)) != 0 || fputc('\n', out) == EOF)
        return err_set(err, ERR_INTERNAL, "cannot write: %s", strerror(errno));
    return 0;
}

/* Writes json (taking it) to dir/name. */
static int write_file(const char *dir, const char *name, json_t *json, struct err *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        json_decref(json);
        return err_set(err, ERR_INTERNAL, "cannot create '%s': %s", path, strerror(errno));
    }
    struct err dump_err = {0};
    int rc = schema_dump(json, f, &dump_err);
    json_decref(json);
    if (fclose(f) != 0 && rc == 0)
        return err_set(err, ERR_INTERNAL, "cannot write '%s': %s", path, strerror(errno));
    if (rc != 0)
        return err_set(err, (enum err_code)rc, "'%s': %s", path, dump_err.msg);
    return 0;
}

int schema_write_dir(const struct service_def *const *services, const char *dir, struct err *err)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return err_set(err, ERR_INTERNAL, "cannot create directory '%s': %s", dir, strerror(errno));
    int rc = write_file(dir, SCHEMA_ENVELOPE_FILE, schema_envelope(), err);
    for (size_t s = 0; rc == 0 && services[s]; s++)
        for (const struct contract_event *const *e = services[s]->publishes; rc == 0 && e && *e;
             e++) {
            char name[SCHEMA_REF_LEN];
            schema_file_name(*e, name, sizeof(name));
            rc = write_file(dir, name, schema_data(*e), err);
        }
    return rc;
}
