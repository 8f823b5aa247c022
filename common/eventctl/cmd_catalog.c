/*
 * cmd_catalog.c - "eventctl catalog [--markdown]": every integration event
 * type with its version, publisher, description, fields and consumers,
 * generated only from the code's own tables: each context's contract
 * (service_def.publishes) and subscriptions (service_def.subscriptions).
 *
 * --markdown prints docs/events.md, --asyncapi docs/asyncapi.yaml, and
 * --schemas DIR writes the JSON Schemas of docs/schemas/ (schema.c);
 * tests/arch/check_docs.sh regenerates all three and fails when a committed
 * copy differs, so the documents cannot drift.
 * The catalog also checks the tables against each other and warns on stderr:
 * a type nobody consumes can never be published (the relay publishes with the
 * mandatory flag, and an unroutable message is a failure), and a subscription
 * to a type nobody publishes never fires. Needs no database.
 */
#include "ctl.h"

#include "schema.h"

#include "common/contract.h"

#include <string.h>

/* Longest string when a field's max is 0 (common/contract.h: "0 = 256"). */
#define CATALOG_STRING_MAX_DEFAULT 256
/* Items an array field may hold (common/src/contract.c checks this bound). */
#define CATALOG_ARRAY_ITEMS_MAX 64

static const char usage_text[] =
    "usage: eventctl catalog [--markdown | --asyncapi | --schemas DIR]\n"
    "\n"
    "Lists every integration event type: version, publisher, description, fields\n"
    "(name, type, required, format, bounds, description) and the contexts that\n"
    "consume it, from the contract and subscription tables compiled into eventctl.\n"
    "Warns on stderr about a published type with no consumer and a consumed type\n"
    "with no publisher.\n"
    "\n"
    "  --markdown         print docs/events.md\n"
    "  --asyncapi         print docs/asyncapi.yaml: the AsyncAPI 3.0 document of the\n"
    "                     bus (channels = routing keys, send/receive operations,\n"
    "                     CloudEvents messages with their data schemas)\n"
    "  --schemas DIR      write the JSON Schemas (draft 2020-12) of docs/schemas/ into\n"
    "                     DIR: <type>.v<major>.json for each event's data (its $id is\n"
    "                     the dataschema urn:event:<type>:<major>) and envelope.v1.json\n";

/* The contexts that subscribe to type, ", "-separated, into out ("" when none). */
static size_t consumers_of(const char *type, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t s = 0; ctl_services[s]; s++) {
        const struct service_def *def = ctl_services[s];
        for (size_t k = 0; k < def->nsubscriptions; k++) {
            if (strcmp(def->subscriptions[k].event->type, type) != 0)
                continue;
            size_t len = strlen(out);
            snprintf(out + len, outlen - len, "%s%s", n ? ", " : "", def->name);
            n++;
            break;
        }
    }
    return n;
}

static bool is_published(const char *type)
{
    for (size_t s = 0; ctl_services[s]; s++)
        for (const struct contract_event *const *e = ctl_services[s]->publishes; e && *e; e++)
            if (strcmp((*e)->type, type) == 0)
                return true;
    return false;
}

/* A field's bounds for the docs: "[1, 1000]", "length 1..64", "" when only its format rules. */
static void field_bounds(const struct contract_field *f, char *out, size_t outlen)
{
    out[0] = '\0';
    switch (f->type) {
    case CONTRACT_INTEGER: snprintf(out, outlen, "[%lld, %lld]", f->min, f->max); return;
    case CONTRACT_BOOLEAN: return;
    case CONTRACT_STRING:
    case CONTRACT_STRING_ARRAY: {
        char length[64] = "";
        long long max = f->max > 0 ? f->max : CATALOG_STRING_MAX_DEFAULT;
        if (f->min > 0)
            snprintf(length, sizeof(length), "length %lld..%lld", f->min, max);
        else if (f->max > 0 || f->format == CONTRACT_FORMAT_NONE)
            snprintf(length, sizeof(length), "length ≤ %lld", max);
        if (f->type == CONTRACT_STRING_ARRAY)
            snprintf(out, outlen, "≤ %d items%s%s", CATALOG_ARRAY_ITEMS_MAX,
                     length[0] ? ", each " : "", length);
        else
            snprintf(out, outlen, "%s", length);
        return;
    }
    }
}

/* Warnings about the tables; returns how many. */
static int catalog_check(void)
{
    int warnings = 0;
    char consumers[256];
    for (size_t s = 0; ctl_services[s]; s++) {
        const struct service_def *def = ctl_services[s];
        for (const struct contract_event *const *e = def->publishes; e && *e; e++) {
            if (strcmp((*e)->publisher, def->name) != 0) {
                ctl_warn("catalog", "'%s' is listed by '%s' but its contract names publisher '%s'",
                         (*e)->type, def->name, (*e)->publisher);
                warnings++;
            }
            if (consumers_of((*e)->type, consumers, sizeof(consumers)) == 0) {
                ctl_warn("catalog",
                         "'%s' (published by '%s') has no consumer: with the mandatory flag it "
                         "can never be published",
                         (*e)->type, def->name);
                warnings++;
            }
        }
        for (size_t k = 0; k < def->nsubscriptions; k++) {
            const struct contract_event *ev = def->subscriptions[k].event;
            if (!is_published(ev->type)) {
                ctl_warn("catalog", "'%s' (consumed by '%s') is published by no context", ev->type,
                         def->name);
                warnings++;
            }
        }
    }
    return warnings;
}

static void print_text(void)
{
    char consumers[256], bounds[96];
    for (size_t s = 0; ctl_services[s]; s++)
        for (const struct contract_event *const *e = ctl_services[s]->publishes; e && *e; e++) {
            const struct contract_event *ev = *e;
            consumers_of(ev->type, consumers, sizeof(consumers));
            printf("%s  v%d  publisher %s  consumers %s\n", ev->type, ev->version, ev->publisher,
                   consumers[0] ? consumers : "(none)");
            printf("    %s\n", ev->doc);
            for (size_t i = 0; i < ev->nfields; i++) {
                const struct contract_field *f = &ev->fields[i];
                field_bounds(f, bounds, sizeof(bounds));
                printf("    %-22s %-16s %-9s %-9s %-22s %s\n", f->name, contract_type_name(f->type),
                       f->presence == CONTRACT_REQUIRED ? "required" : "optional",
                       f->format == CONTRACT_FORMAT_NONE ? "-" : contract_format_name(f->format),
                       bounds[0] ? bounds : "-", f->doc);
            }
            putchar('\n');
        }
}

/* The GitHub anchor of a "## `type`" heading: the type without its dots. */
static void anchor(const char *type, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = type; *p && n + 1 < outlen; p++)
        if (*p != '.')
            out[n++] = *p;
    out[n] = '\0';
}

static void print_markdown(void)
{
    char consumers[256], bounds[96], a[160];
    puts("# Integration events\n"
         "\n"
         "Generated by `eventctl catalog --markdown` from the contract tables\n"
         "(`contexts/<c>/contract/<c>_contract.c`) and the subscription tables\n"
         "(`contexts/<c>/handlers.c`); `tests/arch/check_docs.sh` fails when this file is\n"
         "stale. Do not edit it: regenerate it with\n"
         "\n"
         "    build/bin/eventctl catalog --markdown > docs/events.md\n"
         "\n"
         "Every event travels as a CloudEvents 1.0 JSON event (SPEC §2): `type` is the\n"
         "routing key, `dataschema` is `urn:event:<type>:<version>`, and `data` holds the\n"
         "fields below. Consumers reject data that breaks these rules as poison; unknown\n"
         "extra fields are accepted, so a producer may add optional fields, and anything\n"
         "else is a new major version.\n"
         "\n"
         "The same tables generate the AsyncAPI 3.0 document `docs/asyncapi.yaml` and one\n"
         "JSON Schema per event type and major version in `docs/schemas/`, whose `$id` is\n"
         "the `dataschema` URN ([contracts.md](contracts.md)).\n"
         "\n"
         "## Summary\n"
         "\n"
         "| type | version | publisher | consumers |\n"
         "|---|---|---|---|");
    for (size_t s = 0; ctl_services[s]; s++)
        for (const struct contract_event *const *e = ctl_services[s]->publishes; e && *e; e++) {
            consumers_of((*e)->type, consumers, sizeof(consumers));
            anchor((*e)->type, a, sizeof(a));
            printf("| [`%s`](#%s) | %d | %s | %s |\n", (*e)->type, a, (*e)->version,
                   (*e)->publisher, consumers[0] ? consumers : "**none**");
        }
    for (size_t s = 0; ctl_services[s]; s++)
        for (const struct contract_event *const *e = ctl_services[s]->publishes; e && *e; e++) {
            const struct contract_event *ev = *e;
            consumers_of(ev->type, consumers, sizeof(consumers));
            printf("\n## `%s`\n\n", ev->type);
            printf("Version %d, published by **%s**, consumed by %s. ", ev->version, ev->publisher,
                   consumers[0] ? consumers : "**no context** (it can never be published)");
            printf("Constant `");
            for (const char *p = ev->type; *p; p++)
                putchar(*p == '.' ? '_' : (*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p));
            printf("` in `contexts/%s/contract/%s_contract.h`.\n\n", ev->publisher, ev->publisher);
            /* The contract's doc is a lowercase phrase; here it opens a sentence. */
            if (ev->doc[0] >= 'a' && ev->doc[0] <= 'z')
                putchar(ev->doc[0] - 'a' + 'A');
            else if (ev->doc[0])
                putchar(ev->doc[0]);
            ctl_md_cell(stdout, ev->doc[0] ? ev->doc + 1 : "");
            puts(".\n\n| field | type | required | format | bounds | description |\n"
                 "|---|---|---|---|---|---|");
            for (size_t i = 0; i < ev->nfields; i++) {
                const struct contract_field *f = &ev->fields[i];
                field_bounds(f, bounds, sizeof(bounds));
                printf("| `%s` | %s | %s | %s | ", f->name, contract_type_name(f->type),
                       f->presence == CONTRACT_REQUIRED ? "yes" : "no",
                       contract_format_name(f->format));
                ctl_md_cell(stdout, bounds);
                fputs(" | ", stdout);
                ctl_md_cell(stdout, f->doc);
                puts(" |");
            }
        }
}

/* The AsyncAPI document as YAML: a comment, then JSON (a YAML flow mapping). */
static int print_asyncapi(void)
{
    struct err err = {0};
    puts("# AsyncAPI 3.0 document of the integration events. Generated by\n"
         "# 'eventctl catalog --asyncapi' from the contract and subscription tables;\n"
         "# tests/arch/check_docs.sh fails when it is stale. Do not edit: regenerate it with\n"
         "#     build/bin/eventctl catalog --asyncapi > docs/asyncapi.yaml\n"
         "# (docs/contracts.md). The YAML below is written as JSON, which YAML includes.");
    json_t *doc = schema_asyncapi(ctl_services);
    int rc = schema_dump(doc, stdout, &err);
    json_decref(doc);
    if (rc != 0)
        return ctl_fail("catalog", "asyncapi: %s", err.msg);
    return CTL_EXIT_OK;
}

int cmd_catalog_run(int argc, char **argv)
{
    const char *cmd = "catalog";
    enum { CATALOG_TEXT, CATALOG_MARKDOWN, CATALOG_ASYNCAPI, CATALOG_SCHEMAS } out = CATALOG_TEXT;
    const char *dir = NULL;
    int got;
    for (int i = 1; i < argc; i++) {
        if (ctl_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return CTL_EXIT_OK;
        } else if (strcmp(argv[i], "--markdown") == 0) {
            out = CATALOG_MARKDOWN;
        } else if (strcmp(argv[i], "--asyncapi") == 0) {
            out = CATALOG_ASYNCAPI;
        } else if ((got = ctl_option(cmd, argc, argv, &i, "--schemas", &dir)) != 0) {
            if (got < 0)
                return CTL_EXIT_USAGE;
            if (!dir[0])
                return ctl_usage_error(cmd, "--schemas needs a directory");
            out = CATALOG_SCHEMAS;
        } else if (argv[i][0] == '-') {
            return ctl_usage_error(cmd, "unknown option '%.64s'", argv[i]);
        } else {
            return ctl_usage_error(cmd, "unexpected argument '%.64s'", argv[i]);
        }
    }
    catalog_check();
    switch (out) {
    case CATALOG_TEXT: print_text(); break;
    case CATALOG_MARKDOWN: print_markdown(); break;
    case CATALOG_ASYNCAPI: return print_asyncapi();
    case CATALOG_SCHEMAS: {
        struct err err = {0};
        if (schema_write_dir(ctl_services, dir, &err) != 0)
            return ctl_fail(cmd, "%s", err.msg);
        break;
    }
    }
    return CTL_EXIT_OK;
}
