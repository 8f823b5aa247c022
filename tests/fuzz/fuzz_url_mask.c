/*
 * fuzz_url_mask.c - an input is a URL or conninfo about to be logged:
 * log_mask_url (common/src/log.c) and the masking of DATABASE_URL that a db
 * handle logs with (db_new + db_conninfo_masked, common/src/db.c; no server
 * is contacted). mask_database_url() below is the one place naming the
 * latter: point it at a new masking function when db.c's changes.
 *
 * Checks, always:
 *   - no crash, leak or undefined behaviour, and log_mask_url writes a
 *     NUL-terminated string within outlen for every outlen, down to 1;
 *   - in a URL "scheme://user:password@host…" (a well-formed scheme at the
 *     start; the password as libpq reads it: up to the first '@', before
 *     any '/'), the output does not depend on the password: the same URL
 *     with the password's letters and digits swapped for others
 *     (fuzz_swap_secret) masks to the same text. For
 *     DATABASE_URL only postgresql:// and postgres:// URLs count (libpq reads
 *     anything else as a database name).
 * With FUZZ_MASK_STRICT=1 in the environment, also:
 *   - no piece (4 bytes) of the password libpq itself reads from
 *     DATABASE_URL (PQconninfoParse: keyword form, quoted values,
 *     ?password= in a URL) appears in the masked text as often as in the
 *     input: masking must remove at least that occurrence. The masking on
 *     main fails this (see docs/security.md, "Fuzzing"); it is the check for
 *     its PQconninfoParse rewrite.
 */
#include "fuzz.h"

#include "common/db.h"
#include "common/log.h"

#include <ctype.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool strict;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    const char *s = getenv("FUZZ_MASK_STRICT");
    strict = s && strcmp(s, "1") == 0;
    return 0;
}

/* DATABASE_URL masked as a db handle logs it (new string), or NULL when db_new refuses it. */
static char *mask_database_url(const char *conninfo)
{
    struct db *db = db_new(conninfo);
    if (!db)
        return NULL;
    const char *masked = db_conninfo_masked(db);
    FUZZ_CHECK(masked != NULL, "db_conninfo_masked returned NULL");
    char *copy = strdup(masked);
    FUZZ_CHECK(copy != NULL, "out of memory");
    db_free(db);
    return copy;
}

/* log_mask_url into a heap buffer of exactly outlen bytes (ASan sees a byte too far). */
static char *mask_url(const char *url, size_t outlen)
{
    char *out = malloc(outlen);
    FUZZ_CHECK(out != NULL, "out of memory");
    memset(out, 'Z', outlen);
    log_mask_url(url, out, outlen);
    FUZZ_CHECK(memchr(out, '\0', outlen) != NULL, "log_mask_url left no NUL within %zu bytes",
               outlen);
    return out;
}

/*
 * The password of a URL as libpq delimits it: [*start, *end) between the
 * first ':' and the first '@' of the part after "scheme://", when that '@'
 * comes before any '/'. False when there is none or it is empty, or when
 * the text does not start with a well-formed scheme (what a masker makes of
 * "p?stgres://u:pw@h" is its own choice).
 */
static bool url_password(const char *url, size_t *start, size_t *end)
{
    /* A scheme as RFC 3986 has it: a letter, then letters, digits, '+', '-', '.'. */
    size_t n_scheme =
        strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
    if (n_scheme == 0 || !isalpha((unsigned char)url[0]) || strncmp(url + n_scheme, "://", 3) != 0)
        return false;
    const char *auth = url + n_scheme + 3;
    size_t n = strcspn(auth, "@/");
    if (auth[n] != '@')
        return false;
    const char *colon = memchr(auth, ':', n);
    if (!colon || colon + 1 == auth + n)
        return false;
    *start = (size_t)(colon + 1 - url);
    *end = (size_t)(auth + n - url);
    return true;
}

/* url with the letters and digits of [start, end) swapped (new string; see fuzz_swap_secret). */
static char *with_other_password(const char *url, size_t start, size_t end)
{
    char *copy = strdup(url);
    FUZZ_CHECK(copy != NULL, "out of memory");
    fuzz_swap_secret(copy, start, end);
    return copy;
}

/* Occurrences of needle in hay, overlapping ones included. */
static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void check_log_mask_url(const char *url)
{
    size_t len = strlen(url);
    const size_t outlens[] = {1, 2, 8, len / 2 + 1, len + 1, len + 16};
    for (size_t i = 0; i < sizeof(outlens) / sizeof(outlens[0]); i++)
        free(mask_url(url, outlens[i]));

    size_t start, end;
    if (!url_password(url, &start, &end))
        return;
    char *other = with_other_password(url, start, end);
    char *a = mask_url(url, len + 16), *b = mask_url(other, len + 16);
    FUZZ_CHECK(strcmp(a, b) == 0, "log_mask_url shows the password: '%s' vs '%s'", a, b);
    free(a);
    free(b);
    free(other);
}

static void check_database_url(const char *conninfo)
{
    char *masked = mask_database_url(conninfo);
    if (!masked)
        return;
    size_t start, end;
    if ((strncmp(conninfo, "postgresql://", 13) == 0 ||
         strncmp(conninfo, "postgres://", 11) == 0) &&
        url_password(conninfo, &start, &end)) {
        char *other = with_other_password(conninfo, start, end);
        char *b = mask_database_url(other);
        FUZZ_CHECK(b && strcmp(masked, b) == 0,
                   "DATABASE_URL masking shows the password: '%s' vs '%s'", masked,
                   b ? b : "(refused)");
        free(b);
        free(other);
    }
    if (strict) {
        PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
        for (PQconninfoOption *o = opts; o && o->keyword; o++) {
            if (strcmp(o->keyword, "password") != 0 || !o->val || !o->val[0] || strchr(o->val, '*'))
                continue;
            /* Every piece of 4 bytes (or the whole, if shorter): a partial leak is a leak. */
            size_t len = strlen(o->val), w = len < 4 ? len : 4;
            for (size_t i = 0; i + w <= len; i++) {
                char piece[5];
                memcpy(piece, o->val + i, w);
                piece[w] = '\0';
                size_t in = count(conninfo, piece), out = count(masked, piece);
                FUZZ_CHECK(out == 0 || out < in,
                           "DATABASE_URL masking shows '%s' of the password '%s': '%s'", piece,
                           o->val, masked);
            }
        }
        PQconninfoFree(opts);
    }
    free(masked);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    check_log_mask_url(s);
    check_database_url(s);
    free(s);
    return 0;
}
