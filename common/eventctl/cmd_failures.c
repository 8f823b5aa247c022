/*
 * cmd_failures.c - "eventctl failures": every failure of every context,
 * grouped by (context, kind, event type, cause), with counts and the first
 * and last time seen; and the one list the other failure commands act on
 * (requeue --group/--all, purge <id>/--group, edit, export, the dashboard's
 * Failures view).
 *
 * Two kinds of failure (SPEC §4):
 *   dead    a message that failed every retry: a 'dead' row of
 *           <context>.inbox. It can be requeued (inbox_requeue) or edited.
 *   poison  a message that never entered the inbox (not JSON, not a
 *           CloudEvent, breaking its contract...): a row of
 *           <context>.dead_letter. It can be exported or purged, never
 *           requeued: the consumer would refuse the same bytes again.
 *
 * The cause drops what differs between two failures of the same bug (ids,
 * quoted values, numbers), so "payment intent for booking 'b-1' has not
 * arrived yet" and the same for 'b-2' are one group. A group's id is a hash
 * of what defines it, so it is the same in every run while the group exists
 * and the dashboard and the CLI name it alike.
 */
#include "ctl.h"

#include "common/db.h"
#include "common/dead_letter.h"
#include "common/inbox.h"
#include "common/uuid7.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: eventctl failures [--context C] [--group G] [--json] [--database-url URL]\n"
    "\n"
    "Lists the failures of every context's schema, grouped by context, kind, event\n"
    "type and cause (the error with ids, quoted values and numbers left out):\n"
    "  dead    a message that failed all its retries (requeue or edit it)\n"
    "  poison  a message that never entered the inbox (export or purge it; it\n"
    "          cannot be requeued)\n"
    "Each group has an id G that requeue --group and purge --group take. With\n"
    "--group G it lists that group's messages and their ids.\n"
    "\n"
    "  --context C        servicecatalog|usermanagement|booking|inventory|payment|notification\n"
    "  --group G          one group's messages\n"
    "  --json             the groups as JSON (as the dashboard's /api/failures)\n"
    "  --database-url URL PostgreSQL URL (default: $DATABASE_URL)\n";

/* ---- the cause and the group --------------------------------------------------- */

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* Whether a word is an id or a number: digits, or hex/'-' with a digit, or 3+ digits anywhere. */
static bool is_variable(const char *w, size_t n)
{
    size_t digits = 0;
    bool hexish = true;
    for (size_t i = 0; i < n; i++) {
        digits += isdigit((unsigned char)w[i]) != 0;
        hexish = hexish && (isxdigit((unsigned char)w[i]) || w[i] == '-' || w[i] == '.');
    }
    return digits > 0 && (hexish || digits >= 3);
}

static void put(char *out, size_t outlen, size_t *used, const char *s, size_t n)
{
    for (size_t i = 0; i < n && *used + 1 < outlen; i++)
        out[(*used)++] = s[i];
    out[*used] = '\0';
}

void cmd_failures_cause(bool poison, const char *error, char *out, size_t outlen)
{
    static const char gave_up[] = "gave up after ";
    const char *msg = error ? error : "";
    if (strncmp(msg, gave_up, sizeof(gave_up) - 1) == 0 && strstr(msg, ": "))
        msg = strstr(msg, ": ") + 2;
    /* The class: an err_name such as "transient" before the first ':'. */
    size_t cls = 0;
    while (islower((unsigned char)msg[cls]) || msg[cls] == '_')
        cls++;
    size_t used = 0;
    out[0] = '\0';
    if (poison) {
        put(out, outlen, &used, "poison: ", 8);
    } else if (cls > 0 && msg[cls] == ':') {
        put(out, outlen, &used, msg, cls + 1);
        put(out, outlen, &used, " ", 1);
        msg += cls + 1;
    } else {
        put(out, outlen, &used, "error: ", 7);
    }
    bool space = true; /* drops leading and repeated blanks */
    for (const char *p = msg; *p;) {
        if (isspace((unsigned char)*p)) {
            if (!space)
                put(out, outlen, &used, " ", 1);
            space = true;
            p++;
            continue;
        }
        space = false;
        /* A quote opens a value only after a blank or punctuation: "event's" is a word. */
        if ((*p == '\'' || *p == '"') && (p == msg || !is_word_char(p[-1]))) {
            const char *end = strchr(p + 1, *p);
            if (end) {
                put(out, outlen, &used, "'?'", 3);
                p = end + 1;
                continue;
            }
        }
        if (is_word_char(*p)) {
            size_t n = 0;
            while (is_word_char(p[n]))
                n++;
            /* A trailing full stop is punctuation, not part of the word. */
            size_t word = n;
            while (word > 1 && p[word - 1] == '.')
                word--;
            if (is_variable(p, word))
                put(out, outlen, &used, "#", 1);
            else
                put(out, outlen, &used, p, word);
            put(out, outlen, &used, p + word, n - word);
            p += n;
            continue;
        }
        put(out, outlen, &used, p, 1);
        p++;
    }
    while (used > 0 && out[used - 1] == ' ')
        out[--used] = '\0';
}

void cmd_failures_group(const struct cmd_failure *f, char out[CMD_FAILURES_GROUP_LEN])
{
    const char *parts[] = {f->context, f->poison ? "poison" : "dead", f->type, f->cause};
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        for (const char *s = parts[i];; s++) {
            h ^= (unsigned char)*s; /* the terminator too: "a"+"bc" is not "ab"+"c" */
            h *= 1099511628211ULL;
            if (!*s)
                break;
        }
    snprintf(out, CMD_FAILURES_GROUP_LEN, "%010" PRIx64, h >> 24);
}

/* ---- reading ----------------------------------------------------------------------- */

struct load_ctx {
    struct cmd_failures *f;
    const char *context;
};

static struct cmd_failure *append(struct cmd_failures *f, struct err *err)
{
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        struct cmd_failure *items = realloc(f->items, cap * sizeof(*items));
        if (!items) {
            err_set(err, ERR_NOMEM, "out of memory reading the failures");
            return NULL;
        }
        f->items = items;
        f->cap = cap;
    }
    struct cmd_failure *it = &f->items[f->n++];
    memset(it, 0, sizeof(*it));
    return it;
}

static void finish(struct cmd_failure *it)
{
    cmd_failures_cause(it->poison, it->error, it->cause, sizeof(it->cause));
    cmd_failures_group(it, it->group);
}

static int load_dead(void *vctx, const struct inbox_dead *r, struct err *err)
{
    struct load_ctx *l = vctx;
    struct cmd_failure *it = append(l->f, err);
    if (!it)
        return err->code;
    snprintf(it->context, sizeof(it->context), "%s", l->context);
    snprintf(it->id, sizeof(it->id), "%s", r->id);
    snprintf(it->consumer, sizeof(it->consumer), "%s", r->consumer);
    snprintf(it->type, sizeof(it->type), "%s", r->type);
    snprintf(it->correlation_id, sizeof(it->correlation_id), "%s", r->correlation_id);
    snprintf(it->error, sizeof(it->error), "%s", r->last_error);
    snprintf(it->first_seen, sizeof(it->first_seen), "%s", r->created_at);
    snprintf(it->last_seen, sizeof(it->last_seen), "%s", r->dead_at);
    it->attempts = r->attempts;
    it->deliveries = 1;
    finish(it);
    return 0;
}

static int load_letter(void *vctx, const struct dead_letter_row *r, struct err *err)
{
    struct load_ctx *l = vctx;
    struct cmd_failure *it = append(l->f, err);
    if (!it)
        return err->code;
    it->poison = true;
    it->letter = r->id;
    snprintf(it->context, sizeof(it->context), "%s", l->context);
    snprintf(it->id, sizeof(it->id), "%s:%" PRId64, l->context, r->id);
    snprintf(it->type, sizeof(it->type), "%s", r->type);
    snprintf(it->correlation_id, sizeof(it->correlation_id), "%s", r->correlation_id);
    snprintf(it->error, sizeof(it->error), "%s", r->reason);
    snprintf(it->first_seen, sizeof(it->first_seen), "%s", r->first_seen_at);
    snprintf(it->last_seen, sizeof(it->last_seen), "%s", r->last_seen_at);
    it->attempts = r->attempts;
    it->deliveries = r->deliveries;
    finish(it);
    return 0;
}

int cmd_failures_load(struct ctl_dbs *dbs, const struct service_def *const *schemas, size_t n,
                      struct cmd_failures *out, struct err *err)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        struct db *db;
        int rc = ctl_schema_begin(dbs, schemas[i], &db, err);
        if (rc < 0) {
            cmd_failures_release(out);
            return err_wrap(err, "cannot read the failures of '%s'", schemas[i]->name);
        }
        struct load_ctx l = {out, schemas[i]->name};
        rc = inbox_list_dead(db, load_dead, &l, err);
        /* A schema migrated before 0003 has no dead_letter table: no poison recorded there. */
        if (rc >= 0)
            rc = db_exec(db, "SELECT 1 WHERE to_regclass('dead_letter') IS NOT NULL", 0, NULL, NULL,
                         NULL, err);
        if (rc > 0)
            rc = dead_letter_list(db, load_letter, &l, err);
        if (ctl_schema_end(db, rc, err) < 0) {
            cmd_failures_release(out);
            return err_wrap(err, "cannot read the failures of '%s'", schemas[i]->name);
        }
    }
    return 0;
}

void cmd_failures_release(struct cmd_failures *f)
{
    free(f->items);
    memset(f, 0, sizeof(*f));
}

/* ---- the groups ---------------------------------------------------------------------- */

json_t *cmd_failures_json(const struct cmd_failures *f)
{
    json_t *groups = json_array();
    for (size_t i = 0; groups && i < f->n; i++) {
        const struct cmd_failure *it = &f->items[i];
        json_t *g = NULL;
        size_t k;
        json_t *v;
        json_array_foreach(groups, k, v)
        {
            if (strcmp(json_string_value(json_object_get(v, "group")), it->group) == 0)
                g = v;
        }
        if (!g) {
            g = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:b, s:[]}", "group", it->group,
                          "context", it->context, "kind", it->poison ? "poison" : "dead", "type",
                          it->type, "cause", it->cause, "count", (json_int_t)0, "first_seen",
                          it->first_seen, "last_seen", it->last_seen, "retryable", !it->poison,
                          "ids");
            if (!g || json_array_append_new(groups, g) != 0) {
                json_decref(g);
                json_decref(groups);
                return NULL;
            }
        }
        json_int_t count = json_integer_value(json_object_get(g, "count"));
        const char *first = json_string_value(json_object_get(g, "first_seen"));
        const char *last = json_string_value(json_object_get(g, "last_seen"));
        int bad = json_object_set_new(g, "count", json_integer(count + 1));
        if (strcmp(it->first_seen, first) < 0)
            bad |= json_object_set_new(g, "first_seen", json_string(it->first_seen));
        if (strcmp(it->last_seen, last) > 0)
            bad |= json_object_set_new(g, "last_seen", json_string(it->last_seen));
        bad |= json_array_append_new(json_object_get(g, "ids"), json_string(it->id));
        if (bad) {
            json_decref(groups);
            return NULL;
        }
    }
    return groups ? json_pack("{s:o}", "groups", groups) : NULL;
}

/* ---- acting on one failure ----------------------------------------------------------- */

int cmd_failures_requeue(struct ctl_dbs *dbs, const struct cmd_failure *f, struct err *err)
{
    if (f->poison)
        return err_set(err, ERR_INVALID,
                       "'%s' is poison and cannot be requeued: it never entered the inbox "
                       "(%.200s); export it (eventctl export %s), fix its producer, then purge it",
                       f->id, f->error, f->id);
    const struct service_def *def = ctl_service_find(f->context);
    if (!def)
        return err_set(err, ERR_INVALID, "unknown context '%.64s'", f->context);
    struct db *db;
    int rc = ctl_schema_begin(dbs, def, &db, err);
    if (rc < 0)
        return rc;
    return ctl_schema_end(db, inbox_requeue(db, f->id, f->consumer, err), err);
}

int cmd_failures_purge(struct ctl_dbs *dbs, const struct cmd_failure *f, struct err *err)
{
    const struct service_def *def = ctl_service_find(f->context);
    if (!def)
        return err_set(err, ERR_INVALID, "unknown context '%.64s'", f->context);
    struct db *db;
    int rc = ctl_schema_begin(dbs, def, &db, err);
    if (rc < 0)
        return rc;
    rc = f->poison ? dead_letter_delete(db, f->letter, err)
                   : inbox_delete_dead(db, f->id, f->consumer, err);
    return ctl_schema_end(db, rc, err);
}

static bool selected(const struct cmd_failure *f, const char *id, const char *group)
{
    if (id)
        return strcmp(f->id, id) == 0;
    if (group)
        return strcmp(f->group, group) == 0;
    return true;
}

int cmd_failures_act(struct ctl_dbs *dbs, const struct cmd_failures *f, const char *id,
                     const char *group, bool requeue, long long *done, struct err *err)
{
    *done = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct cmd_failure *it = &f->items[i];
        if (!selected(it, id, group) || (requeue && it->poison))
            continue;
        int rc = requeue ? cmd_failures_requeue(dbs, it, err) : cmd_failures_purge(dbs, it, err);
        if (rc < 0)
            return err_wrap(err, "cannot %s '%s'", requeue ? "requeue" : "purge", it->id);
        *done += rc;
    }
    return 0;
}

void cmd_failures_count(const struct cmd_failures *f, const char *id, const char *group,
                        size_t *dead, size_t *poison)
{
    *dead = *poison = 0;
    for (size_t i = 0; i < f->n; i++)
        if (selected(&f->items[i], id, group)) {
            if (f->items[i].poison)
                (*poison)++;
            else
                (*dead)++;
        }
}

int cmd_failures_apply(const char *cmd, const char *url_arg, const struct service_def *only,
                       const char *id, const char *group, bool yes, bool requeue)
{
    struct ctl_dbs *dbs;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    int exit_code = ctl_open(cmd, url_arg, only, &dbs, schemas, &nschemas);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    struct cmd_failures f;
    struct err err = {0};
    if (cmd_failures_load(dbs, schemas, nschemas, &f, &err) < 0) {
        ctl_dbs_free(dbs);
        return ctl_fail(cmd, "%s", err.msg);
    }
    size_t dead, poison;
    cmd_failures_count(&f, id, group, &dead, &poison);
    const char *what = id ? id : group ? group : "all";
    char question[256];
    long long done = 0;
    if (dead + poison == 0) {
        exit_code = ctl_fail(cmd, "no failure matches '%s'%s", what,
                             id || group ? " (see eventctl failures)" : "");
    } else if (requeue && dead == 0) {
        /* Only poison: say why none of it can go back, naming the first. */
        for (size_t i = 0; i < f.n; i++)
            if (selected(&f.items[i], id, group)) {
                cmd_failures_requeue(dbs, &f.items[i], &err);
                break;
            }
        exit_code = ctl_fail(cmd, "%s", err.msg);
    } else {
        if (requeue)
            snprintf(question, sizeof(question), "requeue %zu dead message%s (%s)%s?", dead,
                     dead == 1 ? "" : "s", what,
                     poison ? "; poison cannot be requeued and stays" : "");
        else
            snprintf(question, sizeof(question),
                     "purge %zu dead message%s and %zu dead letter%s (%s)?", dead,
                     dead == 1 ? "" : "s", poison, poison == 1 ? "" : "s", what);
        if (!yes && !ctl_confirm(question))
            exit_code = ctl_fail(cmd, "not confirmed: nothing changed (--yes skips the question)");
        else if (cmd_failures_act(dbs, &f, id, group, requeue, &done, &err) < 0)
            exit_code = ctl_fail(cmd, "%s", err.msg);
        else
            printf("%lld %s (%s)%s\n", done,
                   requeue ? (done == 1 ? "dead message requeued" : "dead messages requeued")
                           : (done == 1 ? "failure purged" : "failures purged"),
                   what,
                   requeue && poison ? "; poison cannot be requeued: export or purge it" : "");
    }
    cmd_failures_release(&f);
    ctl_dbs_free(dbs);
    return exit_code;
}

int cmd_failures_open_one(const char *cmd, const char *url_arg, const struct service_def *only,
                          const char *id, struct ctl_dbs **dbs, struct cmd_failures *f,
                          const struct cmd_failure **it)
{
    *it = NULL;
    memset(f, 0, sizeof(*f));
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    int exit_code = ctl_open(cmd, url_arg, only, dbs, schemas, &nschemas);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    struct err err = {0};
    if (cmd_failures_load(*dbs, schemas, nschemas, f, &err) < 0)
        exit_code = ctl_fail(cmd, "%s", err.msg);
    for (size_t i = 0; exit_code == CTL_EXIT_OK && !*it && i < f->n; i++)
        if (strcmp(f->items[i].id, id) == 0)
            *it = &f->items[i];
    if (exit_code == CTL_EXIT_OK && !*it)
        exit_code =
            ctl_fail(cmd, "no dead message or dead letter '%.96s' (see eventctl failures)", id);
    if (exit_code != CTL_EXIT_OK) {
        cmd_failures_release(f);
        ctl_dbs_free(*dbs);
        *dbs = NULL;
    }
    return exit_code;
}

/* ---- the command ------------------------------------------------------------------------ */

static void print_groups(json_t *groups)
{
    printf("%-10s  %-14s  %-6s  %5s  %-24s  %-24s  %-30s  %s\n", "GROUP", "CONTEXT", "KIND",
           "COUNT", "FIRST SEEN", "LAST SEEN", "TYPE", "CAUSE");
    size_t i;
    json_t *g;
    json_array_foreach(json_object_get(groups, "groups"), i, g)
    {
        char cause[160];
        const char *type = json_string_value(json_object_get(g, "type"));
        ctl_one_line(json_string_value(json_object_get(g, "cause")), 150, cause, sizeof(cause));
        printf("%-10s  %-14s  %-6s  %5lld  %-24s  %-24s  %-30s  %s\n",
               json_string_value(json_object_get(g, "group")),
               json_string_value(json_object_get(g, "context")),
               json_string_value(json_object_get(g, "kind")),
               (long long)json_integer_value(json_object_get(g, "count")),
               json_string_value(json_object_get(g, "first_seen")),
               json_string_value(json_object_get(g, "last_seen")), *type ? type : "-", cause);
    }
}

static void print_members(const struct cmd_failures *f, const char *group)
{
    printf("%-38s  %-14s  %-6s  %8s  %-24s  %s\n", "ID", "CONTEXT", "KIND", "ATTEMPTS", "LAST SEEN",
           "ERROR");
    for (size_t i = 0; i < f->n; i++) {
        const struct cmd_failure *it = &f->items[i];
        if (strcmp(it->group, group) != 0)
            continue;
        char error[160];
        ctl_one_line(it->error, 150, error, sizeof(error));
        printf("%-38s  %-14s  %-6s  %8lld  %-24s  %s\n", it->id, it->context,
               it->poison ? "poison" : "dead", it->attempts, it->last_seen, error);
    }
}

int cmd_failures_run(int argc, char **argv)
{
    const char *cmd = "failures";
    const char *context_arg = NULL, *url_arg = NULL, *group = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        int rc;
        if (ctl_is_help(argv[i])) {
            fputs(usage_text, stdout);
            return CTL_EXIT_OK;
        } else if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if ((rc = ctl_option(cmd, argc, argv, &i, "--context", &context_arg)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--group", &group)) ||
                   (rc = ctl_option(cmd, argc, argv, &i, "--database-url", &url_arg))) {
            if (rc < 0)
                return CTL_EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            return ctl_usage_error(cmd, "unknown option '%.64s'", argv[i]);
        } else {
            return ctl_usage_error(cmd, "unexpected argument '%.64s'", argv[i]);
        }
    }
    const struct service_def *only;
    if (ctl_parse_context(cmd, context_arg, &only))
        return CTL_EXIT_USAGE;
    struct ctl_dbs *dbs;
    const struct service_def *schemas[CTL_CONTEXTS_MAX];
    size_t nschemas;
    int exit_code = ctl_open(cmd, url_arg, only, &dbs, schemas, &nschemas);
    if (exit_code != CTL_EXIT_OK)
        return exit_code;
    struct cmd_failures f;
    struct err err = {0};
    json_t *groups = NULL;
    if (cmd_failures_load(dbs, schemas, nschemas, &f, &err) < 0)
        exit_code = ctl_fail(cmd, "%s", err.msg);
    else if (!(groups = cmd_failures_json(&f)))
        exit_code = ctl_fail(cmd, "out of memory");
    else if (json) {
        char *text = json_dumps(groups, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text)
            puts(text);
        free(text);
    } else if (group) {
        size_t dead, poison;
        cmd_failures_count(&f, NULL, group, &dead, &poison);
        if (dead + poison == 0)
            exit_code = ctl_fail(cmd, "no failure in group '%.32s' (see eventctl failures)", group);
        else
            print_members(&f, group);
    } else {
        print_groups(groups);
    }
    json_decref(groups);
    cmd_failures_release(&f);
    ctl_dbs_free(dbs);
    return exit_code;
}
