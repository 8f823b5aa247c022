/*
 * config.h - configuration from tables: environment variables and flags.
 *
 * Each scope (the common keys here, a context's own keys in its service.c) is
 * one static const table of struct config_key: name, flag, type, default,
 * bounds, help and where the value goes. --help is printed from the tables and
 * docs/config.md is checked against them, so neither can drift.
 *
 * Precedence: --flag beats the environment beats the default. Values are
 * borrowed from argv, the environment or the table (all live for the whole
 * process). Invalid configuration is one clear line and exit code 2.
 */
#ifndef COMMON_CONFIG_H
#define COMMON_CONFIG_H

#include "common/err.h"

#include <stddef.h>
#include <stdio.h>

enum config_type {
    CONFIG_STRING, /* const char * field; max = longest length (0 = 1024) */
    CONFIG_INT,    /* int field; value within [min, max] */
    CONFIG_CHOICE, /* const char * field; one of choices, "a|b|c" */
};

struct config_key {
    const char *name; /* environment variable, e.g. "PREFETCH" */
    const char *flag; /* command-line flag, e.g. "--prefetch" */
    enum config_type type;
    const char *def;     /* default as text; NULL = required */
    long long min, max;  /* bounds, see enum config_type */
    const char *choices; /* CONFIG_CHOICE only */
    int secret;          /* 1: mask the password of this URL whenever it is shown */
    size_t offset;       /* offsetof() the destination field in the scope's struct */
    const char *help;
};

struct config_scope {
    const char *title; /* "common", "payment" */
    const struct config_key *keys;
    size_t nkeys;
    void *dest; /* the struct the offsets point into */
};

/*
 * The upper bound of CONSUMERS, the consumer threads of one service: one
 * constant for the key's table row (config.c) and the table of running
 * consumers (service.c), so the two cannot disagree.
 */
#define CONFIG_CONSUMERS_MAX 32

/* The settings every service has (SPEC §5). */
struct config_common {
    const char *database_url;
    const char *amqp_url;
    const char *amqp_ca_file;   /* amqps:// trust anchors (struct bus_config tls_ca_file) */
    const char *amqp_cert_file; /* "" = no client certificate */
    const char *amqp_key_file;  /* "" = none; set with amqp_cert_file */
    int amqp_heartbeat_s;       /* struct bus_config heartbeat_s */
    int http_port;              /* 0 = the context's own default port */
    const char *http_address;
    const char *http_allowed_hosts; /* more names a Host header may give (http_config) */
    int http_client_connections;
    int http_request_deadline_ms;
    const char *log_level;
    const char *events_exchange;
    const char *dead_letter_exchange;
    const char *amqp_queue_type;
    int prefetch;
    int consumers;
    int retry_max_attempts;
    int retry_base_ms;
    int retry_max_ms;
    int retention_hours;
    int lease_ms;
    int breaker_threshold; /* consumer circuit breaker (consumer_config) */
    int breaker_pause_max_ms;
    const char *outbox_notify; /* "in_transaction" | "after_commit" (db_set_notify_after_commit) */
    const char *instance_id;   /* "" = <context>-<pid> */
};

extern const struct config_key config_common_keys[];
extern const size_t config_common_nkeys;

#define CONFIG_HELP_SHOWN 1

/*
 * Fills every scope's dest from defaults, the environment and argv (argv[0]
 * is the program). Returns 0; CONFIG_HELP_SHOWN when --help was asked for (the
 * help is printed to stdout); or ERR_INVALID with one line in err naming the
 * key, e.g. "invalid PREFETCH (--prefetch): 'x' is not an integer in [1, 65535]".
 */
int config_load(const struct config_scope *scopes, size_t nscopes, int argc, char **argv,
                struct err *err);

/* Prints the usage text generated from the tables. */
void config_print_help(FILE *out, const char *program, const struct config_scope *scopes,
                       size_t nscopes);

/* Writes "NAME=value NAME=value …" of every key into out, secrets masked. */
void config_describe(const struct config_scope *scopes, size_t nscopes, char *out, size_t outlen);

#endif
