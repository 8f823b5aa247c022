/*
 * fuzz_amqp_url.c - an input is an AMQP_URL: bus_url_parse and
 * bus_url_describe (common/src/bus_amqp.c, exposed to tests by
 * bus_internal.h), and bus_url_list_parse, which splits a cluster's
 * comma-separated nodes; all run before any connection is tried.
 *
 * Checks, besides no crash, leak or undefined behaviour:
 *   - a refusal is ERR_INVALID with a message;
 *   - an accepted URL has a host, a vhost and a port in [1, 65535], and its
 *     description has the same scheme and port, and "***" for the password
 *     ("amqp://user:***@host:port/vhost");
 *   - the message of a refusal does not depend on the password: the same URL
 *     with the password's letters and digits swapped for others
 *     (fuzz_swap_secret, which keeps the parser on the same path) fails with
 *     the same text;
 *   - the list parser agrees: every node it accepts passes the checks above,
 *     and a text without a comma is the one node bus_url_parse makes of it
 *     (or refused with the same message).
 */
#include "fuzz.h"

#include "bus_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

static void check_accepted(const char *url, const struct bus_url *u)
{
    FUZZ_CHECK(u->host[0] && u->vhost[0], "'%s' parsed to an empty host or vhost", url);
    FUZZ_CHECK(u->port >= 1 && u->port <= 65535, "'%s' parsed to port %d", url, u->port);
    char desc[BUS_URL_MAX * 4];
    bus_url_describe(u, desc, sizeof(desc));
    const char *scheme = u->tls ? "amqps://" : "amqp://";
    char port[16];
    snprintf(port, sizeof(port), ":%d/", u->port);
    FUZZ_CHECK(strncmp(desc, scheme, strlen(scheme)) == 0 && strstr(desc, ":***@") &&
                   strstr(desc, port),
               "'%s' described as '%s'", url, desc);
}

/*
 * [*start, *end): the raw password of an amqp(s):// URL, if any: from the
 * first ':' of the user info to its last '@' (a parser that stops at the
 * first '@' refuses the rest, and the swap keeps every '@').
 */
static bool raw_password(const char *url, size_t *start, size_t *end)
{
    const char *scheme = strstr(url, "://");
    if (!scheme)
        return false;
    const char *p = scheme + 3;
    size_t n = strcspn(p, "/?#");
    /* The last '@': a parser that ends the user info there reads all of it as the password. */
    const char *at = NULL;
    for (const char *c = p; c < p + n; c++)
        if (*c == '@')
            at = c;
    if (!at)
        return false;
    const char *colon = memchr(p, ':', (size_t)(at - p));
    if (!colon || colon + 1 == at)
        return false;
    *start = (size_t)(colon + 1 - url);
    *end = (size_t)(at - url);
    return true;
}

static void check_refused(const char *url, int rc, const struct err *err)
{
    FUZZ_CHECK(rc == ERR_INVALID && err->msg[0], "'%s' refused with %d '%s'", url, rc, err->msg);
    size_t start, end;
    if (!raw_password(url, &start, &end))
        return;
    char *other = strdup(url);
    FUZZ_CHECK(other != NULL, "out of memory");
    fuzz_swap_secret(other, start, end);
    struct bus_url u;
    struct err err2;
    err_clear(&err2);
    int rc2 = bus_url_parse(other, &u, &err2);
    FUZZ_CHECK(rc2 == rc && strcmp(err->msg, err2.msg) == 0,
               "the refusal of an AMQP URL depends on its password: '%s' vs '%s'", err->msg,
               err2.msg);
    free(other);
}

static void check_list(const char *url, int rc, const struct bus_url *u, const struct err *err)
{
    static struct bus_url nodes[BUS_NODES_MAX];
    size_t n = 0;
    struct err lerr;
    err_clear(&lerr);
    int lrc = bus_url_list_parse(url, nodes, BUS_NODES_MAX, &n, &lerr);
    FUZZ_CHECK(lrc == 0 ? n >= 1 && n <= BUS_NODES_MAX
                        : lrc == ERR_INVALID && n == 0 && lerr.msg[0],
               "'%s' listed %zu nodes with %d '%s'", url, n, lrc, lerr.msg);
    for (size_t i = 0; i < n; i++)
        check_accepted(url, &nodes[i]);
    if (strchr(url, ','))
        return;
    FUZZ_CHECK(lrc == rc, "'%s': bus_url_parse gave %d, bus_url_list_parse %d", url, rc, lrc);
    if (rc == 0)
        FUZZ_CHECK(n == 1 && memcmp(&nodes[0], u, sizeof(*u)) == 0,
                   "'%s' is not the one node bus_url_parse makes of it", url);
    else
        FUZZ_CHECK(strcmp(err->msg, lerr.msg) == 0, "'%s' refused as '%s' and as '%s'", url,
                   err->msg, lerr.msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *url = fuzz_strndup(data, size);
    struct bus_url u;
    struct err err;
    err_clear(&err);
    int rc = bus_url_parse(url, &u, &err);
    if (rc == 0)
        check_accepted(url, &u);
    else
        check_refused(url, rc, &err);
    check_list(url, rc, &u, &err);
    free(url);
    return 0;
}
