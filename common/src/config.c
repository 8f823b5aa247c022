/*
 * config.c - the common configuration table and the loader that every scope
 * goes through. Adding a setting is adding a row; --help, validation and
 * docs/config.md follow from it.
 */
#include "common/config.h"

#include "common/db.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define CONFIG_STRING_MAX_DEFAULT 1024
#define F(field)                  offsetof(struct config_common, field)

const struct config_key config_common_keys[] = {
    {"DATABASE_URL", "--database-url", CONFIG_STRING,
     "postgresql://events:events@127.0.0.1:55432/events", 0, 0, NULL, 1, F(database_url),
     "PostgreSQL connection URI (libpq)"},
    {"AMQP_URL", "--amqp-url", CONFIG_STRING, "amqp://events:events@127.0.0.1:55672/events", 0, 0,
     NULL, 1, F(amqp_url),
     "RabbitMQ URL, amqp:// or amqps:// (TLS); a cluster's nodes as such URLs, comma-separated "
     "(tried in turn when a connection fails)"},
    {"AMQP_CA_FILE", "--amqp-ca-file", CONFIG_STRING, "/etc/ssl/certs/ca-certificates.crt", 1, 0,
     NULL, 0, F(amqp_ca_file),
     "CA certificates (PEM) an amqps:// broker's certificate must chain to; its name must match "
     "the URL's host"},
    {"AMQP_CERT_FILE", "--amqp-cert-file", CONFIG_STRING, "", 0, 0, NULL, 0, F(amqp_cert_file),
     "client certificate (PEM) for amqps://, for brokers that ask for one; empty = none"},
    {"AMQP_KEY_FILE", "--amqp-key-file", CONFIG_STRING, "", 0, 0, NULL, 0, F(amqp_key_file),
     "private key (PEM, unencrypted) of AMQP_CERT_FILE; set both or neither"},
    {"AMQP_HEARTBEAT_S", "--amqp-heartbeat-s", CONFIG_INT, "10", 1, 600, NULL, 0,
     F(amqp_heartbeat_s),
     "AMQP heartbeat interval in seconds: a broker that stops answering (frozen, packets "
     "dropped) is noticed within two of them, and the next node of AMQP_URL is tried"},
    {"HTTP_PORT", "--http-port", CONFIG_INT, "0", 0, 65535, NULL, 0, F(http_port),
     "HTTP port; 0 = the context's own port (8081..8086)"},
    {"HTTP_ADDRESS", "--http-address", CONFIG_STRING, "127.0.0.1", 2, 45, NULL, 0, F(http_address),
     "numeric address to listen on; 0.0.0.0 for every interface (containers)"},
    {"HTTP_ALLOWED_HOSTS", "--http-allowed-hosts", CONFIG_STRING, "", 0, 1024, NULL, 0,
     F(http_allowed_hosts),
     "more host names a Host header may give, comma-separated (e.g. compose service names); "
     "loopback names and HTTP_ADDRESS are always allowed, others get 403"},
    {"HTTP_CLIENT_CONNECTIONS", "--http-client-connections", CONFIG_INT, "64", 1, 10000, NULL, 0,
     F(http_client_connections), "open HTTP connections one client address may hold"},
    {"HTTP_REQUEST_DEADLINE_MS", "--http-request-deadline-ms", CONFIG_INT, "30000", 100, 3600000,
     NULL, 0, F(http_request_deadline_ms),
     "longest time one HTTP request may take, however slowly it arrives; then its connection is "
     "closed"},
    {"LOG_LEVEL", "--log-level", CONFIG_CHOICE, "info", 0, 0, "debug|info|warn|error", 0,
     F(log_level), "least severe level written to stderr"},
    {"EVENTS_EXCHANGE", "--events-exchange", CONFIG_STRING, "integration.events", 1, 127, NULL, 0,
     F(events_exchange), "topic exchange integration events are published to"},
    {"DEAD_LETTER_EXCHANGE", "--dead-letter-exchange", CONFIG_STRING, "integration.dead-letter", 1,
     127, NULL, 0, F(dead_letter_exchange),
     "exchange of the dead letters (topic, routed by the context name; ADR 0007)"},
    {"AMQP_QUEUE_TYPE", "--amqp-queue-type", CONFIG_CHOICE, "classic", 0, 0, "classic|quorum", 0,
     F(amqp_queue_type), "type of the queues this service declares"},
    {"PREFETCH", "--prefetch", CONFIG_INT, "32", 1, 65535, NULL, 0, F(prefetch),
     "unacknowledged deliveries the consumer may hold"},
    {"CONSUMERS", "--consumers", CONFIG_INT, "1", 1, CONFIG_CONSUMERS_MAX, NULL, 0, F(consumers),
     "consumer threads, each with its own connections (competing consumers in one process; one "
     "batches every delivery at hand, more contend for the same rows)"},
    {"RETRY_MAX_ATTEMPTS", "--retry-max-attempts", CONFIG_INT, "5", 1, 100, NULL, 0,
     F(retry_max_attempts), "attempts at a message before it is dead-lettered"},
    {"RETRY_BASE_MS", "--retry-base-ms", CONFIG_INT, "1000", 1, 3600000, NULL, 0, F(retry_base_ms),
     "delay before the first retry; doubles each attempt"},
    {"RETRY_MAX_MS", "--retry-max-ms", CONFIG_INT, "60000", 1, 86400000, NULL, 0, F(retry_max_ms),
     "longest delay between two attempts"},
    {"RETENTION_HOURS", "--retention-hours", CONFIG_INT, "168", 1, 87600, NULL, 0,
     F(retention_hours), "age after which published outbox and processed inbox rows are deleted"},
    {"OUTBOX_NOTIFY", "--outbox-notify", CONFIG_CHOICE, "in_transaction", 0, 0,
     "in_transaction|after_commit", 0, F(outbox_notify),
     "how a write in another process wakes the relay: NOTIFY in its transaction (SPEC), or right "
     "after its "
     "commit (ADR 0006); writes in the relay's own process wake it directly (ADR 0008)"},
    {"BREAKER_THRESHOLD", "--breaker-threshold", CONFIG_INT, "10", 0, 10000, NULL, 0,
     F(breaker_threshold),
     "transient handler failures in a row (a dependency is out) that pause a consumer; 0 = never "
     "pause"},
    {"BREAKER_PAUSE_MAX_MS", "--breaker-pause-max-ms", CONFIG_INT, "30000", 1000, 3600000, NULL, 0,
     F(breaker_pause_max_ms), "longest pause of a consumer's circuit breaker (from 1 s, doubling)"},
    {"LEASE_MS", "--lease-ms", CONFIG_INT, "3000", 100, 3600000, NULL, 0, F(lease_ms),
     "how long a relay owns the outbox rows it claimed or its own process handed it, and a "
     "consumer a retry in progress; a relay renews "
     "its leases every third of it while a batch waits for the broker, a restart with the same "
     "INSTANCE_ID takes its own rows back at once, and rows of a relay that stays down move to "
     "another after it"},
    {"INSTANCE_ID", "--instance-id", CONFIG_STRING, "", 0, 63, NULL, 0, F(instance_id),
     "name of this instance in logs and leases; empty = <context>-<pid>"},
};
const size_t config_common_nkeys = sizeof(config_common_keys) / sizeof(config_common_keys[0]);

static int set_value(const struct config_scope *scope, const struct config_key *key,
                     const char *value, const char *origin, struct err *err)
{
    char *dest = (char *)scope->dest + key->offset;
    switch (key->type) {
    case CONFIG_STRING: {
        long long max = key->max > 0 ? key->max : CONFIG_STRING_MAX_DEFAULT;
        size_t n = strlen(value);
        if ((long long)n < key->min || (long long)n > max)
            return err_set(err, ERR_INVALID,
                           "invalid %s (%s) from %s: must be %lld to %lld characters", key->name,
                           key->flag, origin, key->min, max);
        memcpy(dest, &value, sizeof(value));
        return 0;
    }
    case CONFIG_INT: {
        errno = 0;
        char *end;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end || v < key->min || v > key->max || v > INT_MAX ||
            v < INT_MIN)
            return err_set(err, ERR_INVALID,
                           "invalid %s (%s) from %s: '%.64s' is not an integer in [%lld, %lld]",
                           key->name, key->flag, origin, value, key->min, key->max);
        int iv = (int)v;
        memcpy(dest, &iv, sizeof(iv));
        return 0;
    }
    case CONFIG_CHOICE: {
        size_t n = strlen(value);
        for (const char *c = key->choices; c && *c;) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (len == n && strncmp(c, value, n) == 0) {
                memcpy(dest, &value, sizeof(value));
                return 0;
            }
            c = bar ? bar + 1 : c + len;
        }
        return err_set(err, ERR_INVALID, "invalid %s (%s) from %s: '%.64s' is not one of %s",
                       key->name, key->flag, origin, value, key->choices);
    }
    }
    return err_set(err, ERR_INTERNAL, "key %s has an unknown type", key->name);
}

static const struct config_key *find_flag(const struct config_scope *scopes, size_t nscopes,
                                          const char *flag, size_t flag_len,
                                          const struct config_scope **scope_out)
{
    for (size_t s = 0; s < nscopes; s++)
        for (size_t k = 0; k < scopes[s].nkeys; k++) {
            const struct config_key *key = &scopes[s].keys[k];
            if (strlen(key->flag) == flag_len && strncmp(key->flag, flag, flag_len) == 0) {
                *scope_out = &scopes[s];
                return key;
            }
        }
    return NULL;
}

int config_load(const struct config_scope *scopes, size_t nscopes, int argc, char **argv,
                struct err *err)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            config_print_help(stdout, argv[0], scopes, nscopes);
            return CONFIG_HELP_SHOWN;
        }

    /* Defaults, then the environment. */
    for (size_t s = 0; s < nscopes; s++)
        for (size_t k = 0; k < scopes[s].nkeys; k++) {
            const struct config_key *key = &scopes[s].keys[k];
            const char *env = getenv(key->name);
            int rc = 0;
            if (env)
                rc = set_value(&scopes[s], key, env, "the environment", err);
            else if (key->def)
                rc = set_value(&scopes[s], key, key->def, "the default", err);
            if (rc)
                return rc;
        }

    /* Flags last: they win. Both "--flag=value" and "--flag value". */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0)
            return err_set(err, ERR_INVALID, "unexpected argument '%.64s' (see --help)", arg);
        const char *eq = strchr(arg, '=');
        size_t flag_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const struct config_scope *scope = NULL;
        const struct config_key *key = find_flag(scopes, nscopes, arg, flag_len, &scope);
        if (!key)
            return err_set(err, ERR_INVALID, "unknown option '%.*s' (see --help)",
                           (int)(flag_len > 64 ? 64 : flag_len), arg);
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc)
                return err_set(err, ERR_INVALID, "option '%s' needs a value", key->flag);
            value = argv[++i];
        }
        int rc = set_value(scope, key, value, "the command line", err);
        if (rc)
            return rc;
    }

    /* Required keys without a value. */
    for (size_t s = 0; s < nscopes; s++)
        for (size_t k = 0; k < scopes[s].nkeys; k++) {
            const struct config_key *key = &scopes[s].keys[k];
            if (key->type == CONFIG_INT)
                continue;
            const char *v;
            memcpy(&v, (char *)scopes[s].dest + key->offset, sizeof(v));
            if (!v)
                return err_set(err, ERR_INVALID, "missing %s (%s): %s", key->name, key->flag,
                               key->help);
        }
    return 0;
}

void config_print_help(FILE *out, const char *program, const struct config_scope *scopes,
                       size_t nscopes)
{
    const char *slash = program ? strrchr(program, '/') : NULL;
    fprintf(out, "usage: %s [--option value | --option=value]...\n", slash ? slash + 1 : program);
    fprintf(out, "every option may also be given as the environment variable shown; flags win\n");
    for (size_t s = 0; s < nscopes; s++) {
        fprintf(out, "\n%s options:\n", scopes[s].title);
        for (size_t k = 0; k < scopes[s].nkeys; k++) {
            const struct config_key *key = &scopes[s].keys[k];
            char def[160];
            if (!key->def)
                snprintf(def, sizeof(def), "required");
            else if (key->secret) /* a libpq conninfo in either form, or any URL */
                db_mask_conninfo(key->def, def, sizeof(def));
            else
                snprintf(def, sizeof(def), "%s", *key->def ? key->def : "\"\"");
            fprintf(out, "  %-24s %-22s %s\n", key->flag, key->name, key->help);
            if (key->type == CONFIG_INT)
                fprintf(out, "  %-24s %-22s default %s, range [%lld, %lld]\n", "", "", def,
                        key->min, key->max);
            else if (key->type == CONFIG_CHOICE)
                fprintf(out, "  %-24s %-22s default %s, one of %s\n", "", "", def, key->choices);
            else
                fprintf(out, "  %-24s %-22s default %s\n", "", "", def);
        }
    }
}

void config_describe(const struct config_scope *scopes, size_t nscopes, char *out, size_t outlen)
{
    size_t len = 0;
    if (!outlen)
        return;
    out[0] = '\0';
    for (size_t s = 0; s < nscopes; s++)
        for (size_t k = 0; k < scopes[s].nkeys && len + 1 < outlen; k++) {
            const struct config_key *key = &scopes[s].keys[k];
            const char *field = (const char *)scopes[s].dest + key->offset;
            char value[256];
            if (key->type == CONFIG_INT) {
                int v;
                memcpy(&v, field, sizeof(v));
                snprintf(value, sizeof(value), "%d", v);
            } else {
                const char *v;
                memcpy(&v, field, sizeof(v));
                if (key->secret)
                    db_mask_conninfo(v, value, sizeof(value));
                else
                    snprintf(value, sizeof(value), "%s", v ? v : "");
            }
            int n = snprintf(out + len, outlen - len, "%s%s=%s", len ? " " : "", key->name, value);
            if (n < 0)
                break;
            len += (size_t)n;
        }
    if (len >= outlen)
        out[outlen - 1] = '\0';
}
