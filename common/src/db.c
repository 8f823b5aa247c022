/*
 * db.c - the one place that turns libpq into the library's vocabulary: every
 * statement, result status and SQLSTATE passes through here (see db.h).
 *
 * The connection, and the functions that move it:
 *
 *     +------+   db_open succeeds    +----+
 *     | DOWN | --------------------> | UP |
 *     +------+ <-------------------- +----+
 *       |  ^     db_drop: the socket died
 *       +--+
 *   db_open fails: the next attempt
 *   waits 100 ms, doubling up to 5 s
 *
 *   - DOWN -> UP    db_open, from db_connect, or from db_ready before a call
 *                   when no transaction was sent and the backoff has elapsed
 *   - UP -> DOWN    db_drop, from db_result_error (a statement or a wait met
 *                   a dead socket), db_ready (the probe did), db_check (an
 *                   unexpected result), db_rollback (ROLLBACK failed), db_free
 *
 * Invariants: (1) a statement is sent once and never re-sent here; (2) a lost
 * connection is not replaced once a transaction's BEGIN was sent (db_rollback
 * ends it); (3) every PGresult is cleared on the path that obtained it; (4) a
 * prepared statement's name is used only on the connection that prepared it
 * (db_drop forgets them all).
 *
 * BEGIN is lazy: db_begin only records that a transaction is open and at
 * which isolation level, and the transaction's first statement, whichever
 * call sends it, goes with its BEGIN in one round trip (libpq pipeline mode:
 * BEGIN, a PREPARE on the text's first use, the statement, a sync; see
 * db_exec_begin). A transaction thus costs one round trip less, and on this
 * 2-core machine each one is a wake-up of the server and of the caller. The
 * server stops at the first failure of the pipeline with the transaction
 * aborted, as if each had been sent alone, so callers see the same results.
 * Until the first statement nothing of the transaction exists on the server:
 * a dead connection found then is replaced like an idle one (invariant 2
 * holds from the BEGIN on), and committing or rolling back a transaction
 * that sent nothing sends nothing.
 *
 * Statements are prepared: db_exec names each statement text on first use
 * on a connection (PQprepare) and executes it by name from then on, so
 * PostgreSQL parses, analyses and rewrites it once per connection (about a
 * tenth of the server's CPU on the booking saga, docs/benchmark.md). Each run
 * is still planned for its parameters and the tables as they are now
 * (plan_cache_mode = force_custom_plan): a generic plan, made once, kept the
 * sequential scan it chose while the outbox was empty as the table grew to
 * thousands of rows — milliseconds a claim. The texts are the library's and
 * the contexts' constant SQL; a connection keeps at most DB_PREPARED_MAX of
 * them and sends any further text unnamed.
 */
#include "common/db.h"

#include "common/log.h"
#include "steady.h"

#include <libpq-fe.h>

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DB_APPNAME_MAX 64
#define DB_SCHEMA_MAX  63 /* PostgreSQL's NAMEDATALEN - 1 */

/* A statement prepared on the open connection: its text and the name it has there. */
struct db_prepared {
    uint64_t hash; /* of the text, to skip most comparisons */
    char *sql;     /* the text, owned */
    unsigned name; /* the statement is "s<name>" */
};

struct db {
    char *conninfo;
    char *masked; /* conninfo with the password masked, for logs */
    char application_name[DB_APPNAME_MAX];
    char schema[DB_SCHEMA_MAX + 2]; /* search_path after connect; "" for the default */
    bool async_commit;              /* synchronous_commit = off after connect */
    PGconn *conn;                   /* NULL when down */
    bool conninfo_ok;               /* it parses (checked once, see db_new) */
    bool tx_open;                   /* between db_begin and db_commit/db_rollback */
    bool tx_sent;                   /* its BEGIN was sent (or tried): see the top of this file */
    enum db_isolation tx_level;     /* the isolation level its BEGIN asks for */
    uint64_t round_trips;           /* exchanges that waited for the server (db_round_trips) */
    bool was_up;                    /* connected at least once: later connects are reconnects */
    bool notify_pending;            /* a reconnect happened: report one wakeup */
    int backoff_ms;                 /* pause after the next failed connect */
    int64_t next_attempt_ms;        /* no reconnect before this monotonic time */
    int nchannels;
    char channels[DB_LISTEN_MAX][DB_CHANNEL_MAX + 1];
    bool notify_after_commit; /* db_notify sends after COMMIT, not inside the transaction */
    int ndeferred;            /* channels to notify once the open transaction commits */
    char deferred[DB_LISTEN_MAX][DB_CHANNEL_MAX + 1];
    int nlocal;               /* in-process listeners to wake once it commits */
    int local[DB_LISTEN_MAX]; /* their wake-up descriptors */
    bool has_wake;            /* wake_fd is open (db_listen made it) */
    int wake_fd;              /* an eventfd db_wait_notify also polls: in-process wake-ups */
    int nafter;               /* db_after_commit registrations of the open transaction */
    struct {
        db_after_commit_fn *fn;
        void *arg;
    } after[DB_AFTER_COMMIT_MAX];
    bool has_savepoint; /* db_savepoint marked these counts: */
    int sp_after, sp_local, sp_deferred;
    bool woken_remotely; /* the last wake-up came through PostgreSQL */
    int nprepared;       /* statements prepared on conn (invariant 4) */
    unsigned next_name;  /* names are never reused on one connection */
    struct db_prepared prepared[DB_PREPARED_MAX];
};

/*
 * Channels LISTENed in this process, and the wake-up descriptor of the
 * connection listening. A NOTIFY whose listener is in this process needs no
 * trip through PostgreSQL (and none of its database-wide notify lock, which
 * serialises notifying commits): db_notify wakes the listener directly once
 * the transaction commits. SPEC §4: in-process for writes made by the relay's
 * own process, NOTIFY for the others.
 */
static struct {
    pthread_mutex_t lock;
    int n;
    char channel[DB_LOCAL_LISTENERS_MAX][DB_CHANNEL_MAX + 1];
    int fd[DB_LOCAL_LISTENERS_MAX];
} db_local = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int db_local_find(const char *channel)
{
    pthread_mutex_lock(&db_local.lock);
    int fd = -1;
    for (int i = 0; i < db_local.n && fd < 0; i++)
        if (strcmp(db_local.channel[i], channel) == 0)
            fd = db_local.fd[i];
    pthread_mutex_unlock(&db_local.lock);
    return fd;
}

static void db_local_add(const char *channel, int fd)
{
    pthread_mutex_lock(&db_local.lock);
    if (db_local.n < DB_LOCAL_LISTENERS_MAX) {
        snprintf(db_local.channel[db_local.n], sizeof(db_local.channel[0]), "%s", channel);
        db_local.fd[db_local.n++] = fd;
    }
    pthread_mutex_unlock(&db_local.lock);
}

static void db_local_remove(int fd)
{
    pthread_mutex_lock(&db_local.lock);
    for (int i = 0; i < db_local.n;) {
        if (db_local.fd[i] == fd) {
            db_local.n--;
            memmove(db_local.channel[i], db_local.channel[db_local.n], sizeof(db_local.channel[0]));
            db_local.fd[i] = db_local.fd[db_local.n];
        } else {
            i++;
        }
    }
    pthread_mutex_unlock(&db_local.lock);
}

static void db_wake(int fd)
{
    uint64_t one = 1;
    /* A full counter (never in practice) still leaves the descriptor readable: nothing to do. */
    ssize_t w = write(fd, &one, sizeof(one));
    (void)w;
}

struct db_row {
    const PGresult *res;
    int index;
};

/* ---- small helpers ---------------------------------------------------------- */

static void db_tx_closed(struct db *db, bool committed); /* transactions, below */

/* Fills err (code, sqlstate, formatted message); returns code. err may be NULL. */
static int db_fail(struct err *err, int code, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int db_fail(struct err *err, int code, const char *sqlstate, const char *fmt, ...)
{
    if (!err)
        return code;
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", sqlstate ? sqlstate : "");
    return err_set(err, code, "%s", msg);
}

/*
 * Copies the first line of a libpq message (they end in "\n" and may carry
 * hint lines) without trailing blanks. libpq never puts the password in one.
 */
static void db_first_line(const char *msg, char *out, size_t outlen)
{
    size_t n = 0;
    if (msg)
        while (msg[n] && msg[n] != '\n')
            n++;
    while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\t' || msg[n - 1] == '\r'))
        n--;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, msg ? msg : "", n);
    out[n] = '\0';
}

/* libpq prints notices on stderr by default; ours go to the JSON log instead. */
static void db_on_notice(void *arg, const PGresult *res)
{
    (void)arg;
    char line[ERR_MSG_MAX];
    const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    db_first_line(primary ? primary : PQresultErrorMessage(res), line, sizeof(line));
    log_debug("database notice: %s", line);
}

/* Closes the connection, if any; the server rolls back whatever was open. */
static void db_drop(struct db *db)
{
    PQfinish(db->conn); /* NULL is fine */
    db->conn = NULL;
    for (int i = 0; i < db->nprepared; i++)
        free(db->prepared[i].sql);
    db->nprepared = 0;
    db->next_name = 0;
}

static bool db_up(const struct db *db)
{
    return db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

/*
 * A name we quote into SQL ourselves: [a-z_][a-z0-9_]* (plus '.' when dots is
 * set), 1..max bytes. With no quote character possible, "name" is safe.
 */
static bool db_name_valid(const char *s, size_t max, bool dots)
{
    if (!s || !((*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || (dots && c == '.')))
            return false;
    }
    return n <= max;
}

/* ---- SQLSTATE -> err_code ------------------------------------------------------ */

/* Checked in order, the first prefix that matches wins: specific states come before their class. */
static const struct {
    const char *prefix;
    int code;
} db_sqlstates[] = {
    {"23505", ERR_CONFLICT},   /* unique_violation */
    {"23P01", ERR_CONFLICT},   /* exclusion_violation */
    {"23", ERR_UNPROCESSABLE}, /* other integrity constraints: check, not null, foreign key */
    {"22", ERR_INVALID},       /* data exception */
    {"08", ERR_TRANSIENT},     /* connection exception */
    {"53", ERR_TRANSIENT},     /* insufficient resources */
    {"57P01", ERR_TRANSIENT},  /* admin_shutdown */
    {"57P02", ERR_TRANSIENT},  /* crash_shutdown */
    {"57P03", ERR_TRANSIENT},  /* cannot_connect_now */
    {"57014", ERR_TRANSIENT},  /* query_canceled: statement_timeout, like lock_timeout below */
    {"40001", ERR_TRANSIENT},  /* serialization_failure */
    {"40P01", ERR_TRANSIENT},  /* deadlock_detected */
    {"55P03", ERR_TRANSIENT},  /* lock_not_available */
    {"25P03", ERR_TRANSIENT},  /* idle_in_transaction_session_timeout */
};

int db_error_code(const char *sqlstate)
{
    if (!sqlstate || strlen(sqlstate) != 5)
        return ERR_INTERNAL;
    for (size_t i = 0; i < sizeof(db_sqlstates) / sizeof(db_sqlstates[0]); i++) {
        size_t n = strlen(db_sqlstates[i].prefix);
        if (strncmp(sqlstate, db_sqlstates[i].prefix, n) == 0)
            return db_sqlstates[i].code;
    }
    return ERR_INTERNAL;
}

bool db_error_is_outage(const struct err *err)
{
    if (!err || err->code != ERR_TRANSIENT)
        return false;
    const char *s = err->sqlstate;
    return s[0] == '\0' || strncmp(s, "08", 2) == 0 || strncmp(s, "53", 2) == 0 ||
           strncmp(s, "57P0", 4) == 0;
}

/* ---- lifecycle ------------------------------------------------------------------ */

/*
 * libpq's message for a malformed URL may quote the part around the mistake,
 * password included, so a conninfo is parsed here first and a failure is
 * reported with the masked text instead. A string that is neither a URL nor
 * "key=value" pairs is a plain database name, as libpq reads it too.
 */
static bool db_conninfo_parses(const char *conninfo)
{
    if (strncmp(conninfo, "postgresql://", 13) != 0 && strncmp(conninfo, "postgres://", 11) != 0 &&
        !strchr(conninfo, '='))
        return true;
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
    bool ok = opts != NULL;
    PQconninfoFree(opts);
    PQfreemem(msg);
    return ok;
}

/* Appends text to out (size outlen) at *len, truncating; out stays terminated. */
static void db_mask_put(char *out, size_t outlen, size_t *len, const char *text)
{
    size_t n = strlen(text);
    if (*len + n >= outlen)
        n = outlen - *len - 1;
    memcpy(out + *len, text, n);
    *len += n;
    out[*len] = '\0';
}

/* Writes libpq's reading back as "key=value ...", quoting values as libpq reads them. */
static void db_mask_rebuild(const PQconninfoOption *opts, char *out, size_t outlen)
{
    size_t len = 0;
    out[0] = '\0';
    for (const PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        db_mask_put(out, outlen, &len, len ? " " : "");
        db_mask_put(out, outlen, &len, o->keyword);
        db_mask_put(out, outlen, &len, "=");
        if (o->dispchar && o->dispchar[0] == '*') {
            db_mask_put(out, outlen, &len, "***");
            continue;
        }
        bool quote = !o->val[0] || strpbrk(o->val, " \t\n\r\v\f'\\") != NULL;
        if (!quote) {
            db_mask_put(out, outlen, &len, o->val);
            continue;
        }
        db_mask_put(out, outlen, &len, "'");
        for (const char *v = o->val; *v; v++) {
            char c[3] = {*v, '\0', '\0'};
            if (*v == '\'' || *v == '\\') {
                c[0] = '\\';
                c[1] = *v;
            }
            db_mask_put(out, outlen, &len, c);
        }
        db_mask_put(out, outlen, &len, "'");
    }
}

static bool db_is_uri(const char *conninfo)
{
    return strncmp(conninfo, "postgresql://", 13) == 0 || strncmp(conninfo, "postgres://", 11) == 0;
}

void db_mask_conninfo(const char *conninfo, char *out, size_t outlen)
{
    if (!outlen)
        return;
    if (!conninfo || db_is_uri(conninfo) || !strchr(conninfo, '=')) {
        log_mask_url(conninfo, out, outlen);
        return;
    }
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
    PQfreemem(msg); /* it may quote the text around the mistake, password included */
    if (opts)
        db_mask_rebuild(opts, out, outlen);
    else
        log_mask_url(conninfo, out, outlen);
    PQconninfoFree(opts);
}

/*
 * A copy of conninfo in which a URI's user info ends at its LAST '@' before
 * the host, as for the masker and the AMQP URL: every earlier '@' becomes
 * %40. libpq ends it at the first, so "u:p@ss@h" would be the password "p"
 * on the host "ss@h", which its connect error quotes. NULL without memory.
 */
static char *db_conninfo_copy(const char *conninfo)
{
    size_t len = strlen(conninfo), ats = 0;
    const char *auth = db_is_uri(conninfo) ? strstr(conninfo, "://") + 3 : NULL;
    size_t auth_len = auth ? strcspn(auth, "/") : 0;
    const char *last = NULL;
    for (size_t i = 0; i < auth_len; i++)
        if (auth[i] == '@') {
            last = auth + i;
            ats++;
        }
    char *copy = malloc(len + 2 * ats + 1);
    if (!copy)
        return NULL;
    size_t o = 0;
    for (const char *p = conninfo; *p; p++) {
        if (*p == '@' && auth && p >= auth && p < last) {
            memcpy(copy + o, "%40", 3);
            o += 3;
        } else {
            copy[o++] = *p;
        }
    }
    copy[o] = '\0';
    return copy;
}

/*
 * Whether a URI says plainly where its password ends, so that libpq's connect
 * errors, which quote the host and port they read, cannot quote part of it:
 * no '@' after the host (a '/' in the password must be %2F, an '@' in the
 * database name %40), and only digits after a host's ':' (a password without
 * "@host" would be read as the port). Keyword strings always do.
 */
static bool db_uri_is_unambiguous(const char *conninfo)
{
    if (!db_is_uri(conninfo))
        return true;
    const char *auth = strstr(conninfo, "://") + 3;
    size_t query = strcspn(auth, "?");
    const char *at = memchr(auth, '@', query);
    if (at && memchr(auth, '/', (size_t)(at - auth)))
        return false;
    /* Each "host[:port]" of the comma-separated list; an IPv6 literal holds ':' of its own. */
    const char *p = at ? at + 1 : auth;
    const char *end = p + strcspn(p, "/?");
    bool in_port = false;
    for (; p < end; p++) {
        if (*p == '[') {
            const char *close = memchr(p, ']', (size_t)(end - p));
            p = close ? close : end - 1;
        } else if (*p == ',') {
            in_port = false;
        } else if (*p == ':') {
            in_port = true;
        } else if (in_port && (*p < '0' || *p > '9')) {
            return false;
        }
    }
    return true;
}

struct db *db_new(const char *conninfo)
{
    if (!conninfo || strlen(conninfo) > DB_CONNINFO_MAX)
        return NULL;
    struct db *db = calloc(1, sizeof(*db));
    if (!db)
        return NULL;
    size_t masked_len = DB_MASKED_MAX(strlen(conninfo));
    db->conninfo = db_conninfo_copy(conninfo);
    db->masked = malloc(masked_len);
    if (!db->conninfo || !db->masked) {
        db_free(db);
        return NULL;
    }
    db_mask_conninfo(conninfo, db->masked, masked_len);
    db->conninfo_ok = db_conninfo_parses(db->conninfo) && db_uri_is_unambiguous(db->conninfo);
    db->backoff_ms = DB_RECONNECT_MIN_MS;
    return db;
}

void db_free(struct db *db)
{
    if (!db)
        return;
    if (db->tx_open)
        db_tx_closed(db, false); /* freed mid-transaction: the server rolls it back */
    db_drop(db);
    if (db->has_wake) {
        db_local_remove(db->wake_fd);
        close(db->wake_fd);
    }
    free(db->conninfo);
    free(db->masked);
    free(db);
}

void db_set_application_name(struct db *db, const char *name)
{
    snprintf(db->application_name, sizeof(db->application_name), "%s", name ? name : "");
}

void db_set_schema(struct db *db, const char *schema)
{
    /* One byte more than a valid name may have, so a longer one stays invalid. */
    snprintf(db->schema, sizeof(db->schema), "%s", schema ? schema : "");
}

void db_set_async_commit(struct db *db, bool async)
{
    db->async_commit = async;
}

void db_set_notify_after_commit(struct db *db, bool after)
{
    db->notify_after_commit = after;
}

bool db_notifies_after_commit(const struct db *db)
{
    return db->notify_after_commit;
}

const char *db_conninfo_masked(const struct db *db)
{
    return db->masked;
}

bool db_connected(const struct db *db)
{
    return db && db_up(db);
}

/* Runs "<command> "<name>"" (name already checked) on a fresh connection. */
static int db_session_set(struct db *db, const char *command, const char *name, struct err *err)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "%s \"%s\"", command, name);
    db->round_trips++;
    PGresult *res = PQexec(db->conn, sql);
    bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (ok)
        return 0;
    char line[ERR_MSG_MAX];
    db_first_line(PQerrorMessage(db->conn), line, sizeof(line));
    return db_fail(err, ERR_TRANSIENT, "", "'%s' failed after connecting: %s", sql, line);
}

/*
 * Connects (blocking, bounded by connect_timeout) and LISTENs again on every
 * remembered channel. On failure schedules the next attempt with a doubling
 * pause, so a dead server is not hammered by callers that retry at once.
 */
static int db_open(struct db *db, struct err *err)
{
    db_drop(db);
    if (!db->conninfo_ok)
        return db_fail(err, ERR_INVALID, "", "malformed database URL '%s'", db->masked);
    if (db->schema[0] && !db_name_valid(db->schema, DB_SCHEMA_MAX, /* dots = */ false))
        return db_fail(err, ERR_INVALID, "", "invalid schema name '%s'", db->schema);

    char timeout[16];
    snprintf(timeout, sizeof(timeout), "%d", DB_CONNECT_TIMEOUT_S);
    /*
     * Later keywords override earlier ones, and "dbname" is expanded into the
     * conninfo's own settings: the defaults before it can be overridden by
     * the URL, the application name after it is the program's choice. The
     * keepalives notice a peer that vanished without closing the socket.
     */
    const char *const keys[] = {"connect_timeout",
                                "keepalives_idle",
                                "keepalives_interval",
                                "keepalives_count",
                                "dbname",
                                "application_name",
                                NULL};
    const char *const values[] = {timeout, "30", "10", "3", db->conninfo, db->application_name,
                                  NULL};
    db->conn = PQconnectdbParams(keys, values, /* expand_dbname = */ 1);
    if (!db->conn)
        return db_fail(err, ERR_NOMEM, "", "out of memory connecting to the database");

    int rc = 0;
    char line[ERR_MSG_MAX];
    if (PQstatus(db->conn) != CONNECTION_OK) {
        db_first_line(PQerrorMessage(db->conn), line, sizeof(line));
        rc = db_fail(err, ERR_TRANSIENT, "", "cannot connect to the database: %s", line);
        goto failed;
    }
    PQsetNoticeReceiver(db->conn, db_on_notice, NULL);

    /* Session state the caller set up once, restored on every connection. */
    if (db->schema[0]) {
        rc = db_session_set(db, "SET search_path TO", db->schema, err);
        if (rc < 0)
            goto failed;
    }
    /* Prepared statements, planned afresh each run (see the top of this file). */
    rc = db_session_set(db, "SET plan_cache_mode TO", "force_custom_plan", err);
    if (rc < 0)
        goto failed;
    if (db->async_commit) {
        rc = db_session_set(db, "SET synchronous_commit TO", "off", err);
        if (rc < 0)
            goto failed;
    }
    for (int i = 0; i < db->nchannels; i++) {
        rc = db_session_set(db, "LISTEN", db->channels[i], err);
        if (rc < 0)
            goto failed;
    }

    if (db->was_up)
        log_info("database reconnected to '%s'", db->masked);
    db->was_up = true;
    db->notify_pending = db->nchannels > 0;
    db->backoff_ms = DB_RECONNECT_MIN_MS;
    db->next_attempt_ms = 0;
    return 0;

failed:
    db_drop(db);
    db->next_attempt_ms = steady_now_ms() + db->backoff_ms;
    db->backoff_ms =
        db->backoff_ms * 2 > DB_RECONNECT_MAX_MS ? DB_RECONNECT_MAX_MS : db->backoff_ms * 2;
    return rc;
}

int db_connect(struct db *db, struct err *err)
{
    if (db->tx_open)
        db_tx_closed(db, false); /* the server rolls back what the old connection had open */
    return db_open(db, err);
}

/*
 * Reads, without blocking, whatever the server sent while the connection was
 * idle. A server that shut down has sent a FATAL message and closed the
 * socket; reading notices that, so the next statement goes to a fresh
 * connection instead of failing. It also queues notifications for
 * db_wait_notify. A few rounds: the message and the end of file may come in
 * separate reads.
 */
static void db_probe(struct db *db)
{
    int fd = PQsocket(db->conn);
    for (int i = 0; i < 4 && fd >= 0 && PQstatus(db->conn) == CONNECTION_OK; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) <= 0)
            return;
        /* On failure the status is now CONNECTION_BAD, which the caller checks. */
        if (!PQconsumeInput(db->conn))
            return;
        /* Parsing queues notifications and hands a FATAL message to db_on_notice. */
        (void)PQisBusy(db->conn);
    }
}

/*
 * Makes the connection usable before a call: probes it, and replaces a dead
 * one unless the open transaction's BEGIN was sent (invariant 2) or the
 * backoff has not elapsed. Returns 0 or ERR_TRANSIENT.
 */
static int db_ready(struct db *db, struct err *err)
{
    if (db_up(db))
        db_probe(db);
    if (db_up(db))
        return 0;
    db_drop(db);
    if (db->tx_open && db->tx_sent)
        return db_fail(err, ERR_TRANSIENT, "",
                       "database connection lost inside a transaction: roll back, then retry");
    int64_t wait = db->next_attempt_ms - steady_now_ms();
    if (wait > 0)
        return db_fail(err, ERR_TRANSIENT, "",
                       "database unavailable: next connection attempt in %lld ms", (long long)wait);
    return db_open(db, err);
}

/* ---- statements ------------------------------------------------------------------- */

/*
 * Turns a failed (or missing) result into an error and drops a connection
 * that died on the way: a statement on a lost connection is ERR_TRANSIENT
 * whatever else the result says.
 */
static int db_result_error(struct db *db, const PGresult *res, struct err *err)
{
    char line[ERR_MSG_MAX];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary)
        db_first_line(primary, line, sizeof(line));
    else if (res && *PQresultErrorMessage(res))
        db_first_line(PQresultErrorMessage(res), line, sizeof(line));
    else
        db_first_line(PQerrorMessage(db->conn), line, sizeof(line));

    if (!db_up(db)) {
        db_drop(db);
        /* Whatever the last result said, this is an outage (db_error_is_outage): 08006. */
        bool conn_state = state && (strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0);
        return db_fail(err, ERR_TRANSIENT, conn_state ? state : "08006",
                       "database connection lost: %s", line);
    }
    if (!res)
        return db_fail(err, ERR_NOMEM, "", "database call failed: %s", line);
    return db_fail(err, db_error_code(state), state, "%s", line);
}

/*
 * Checks a statement's result: 0 for rows or a completed command, else a
 * negative code with err filled. Anything other than a plain result (COPY,
 * an empty query) leaves libpq in a state we do not handle, so the
 * connection is dropped to start clean.
 */
static int db_check(struct db *db, const PGresult *res, struct err *err)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    switch (st) {
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK: return 0;
    case PGRES_FATAL_ERROR:
    case PGRES_NONFATAL_ERROR:
    case PGRES_BAD_RESPONSE: return db_result_error(db, res, err);
    case PGRES_EMPTY_QUERY: return db_fail(err, ERR_INTERNAL, "", "empty statement");
    default:
        db_drop(db);
        return db_fail(err, ERR_INTERNAL, "", "unexpected database result '%s'", PQresStatus(st));
    }
}

/* The affected-row count of a command ("" for commands without one), clamped to int. */
static int db_cmd_tuples(PGresult *res)
{
    const char *s = PQcmdTuples(res);
    long long n = *s ? strtoll(s, NULL, 10) : 0;
    return n > INT_MAX ? INT_MAX : (int)n;
}

/* FNV-1a: cheap, and collisions only cost a string comparison. */
static uint64_t db_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static void db_forget(struct db *db, struct db_prepared *p)
{
    free(p->sql);
    *p = db->prepared[--db->nprepared];
}

/* The name a statement has on the connection: "s<name>". */
static void db_prepared_name(const struct db_prepared *p, char *out, size_t outlen)
{
    snprintf(out, outlen, "s%u", p->name);
}

/* The statement prepared from sql on this connection, or NULL. */
static struct db_prepared *db_prepared_find(struct db *db, const char *sql)
{
    uint64_t hash = db_hash(sql);
    for (int i = 0; i < db->nprepared; i++)
        if (db->prepared[i].hash == hash && strcmp(db->prepared[i].sql, sql) == 0)
            return &db->prepared[i];
    return NULL;
}

/*
 * A new entry for sql with a fresh name, not counted yet: the caller counts
 * it once PostgreSQL has prepared it and frees its text otherwise (db_drop,
 * which a failure may call, frees only counted ones). NULL when the cache is
 * full or the text could not be copied: the caller sends it unnamed.
 */
static struct db_prepared *db_prepared_new(struct db *db, const char *sql)
{
    if (db->nprepared == DB_PREPARED_MAX)
        return NULL;
    struct db_prepared *p = &db->prepared[db->nprepared];
    p->sql = strdup(sql);
    if (!p->sql)
        return NULL;
    p->hash = db_hash(sql);
    p->name = db->next_name++;
    return p;
}

/* Drops an entry db_prepared_new made that PostgreSQL did not prepare. */
static void db_prepared_discard(struct db_prepared *p)
{
    if (!p)
        return;
    free(p->sql);
    p->sql = NULL;
}

/*
 * Finds sql among the statements prepared on this connection, or prepares
 * it. Sets *out (NULL when the cache is full or the text could not be
 * copied: the caller sends it unnamed). Returns 0, or a negative code when
 * PostgreSQL refused to prepare it: the same refusal executing it would
 * have met, and the same effect on an open transaction.
 */
static int db_prepare(struct db *db, const char *sql, int nparams, struct db_prepared **out,
                      struct err *err)
{
    *out = db_prepared_find(db, sql);
    struct db_prepared *p = *out ? NULL : db_prepared_new(db, sql);
    if (!p)
        return 0;
    char name[16];
    db_prepared_name(p, name, sizeof(name));
    db->round_trips++;
    PGresult *res = PQprepare(db->conn, name, sql, nparams, /* paramTypes = */ NULL);
    int rc = db_check(db, res, err);
    PQclear(res);
    if (rc < 0) {
        db_prepared_discard(p);
        return rc;
    }
    db->nprepared++;
    *out = p;
    return 0;
}

/* Queues the statement in the pipeline: by name when prepared (p), else unnamed; libpq's 1 or 0. */
static int db_send(struct db *db, const char *sql, int nparams, const char *const *params,
                   const struct db_prepared *p)
{
    if (!p)
        return PQsendQueryParams(db->conn, sql, nparams, /* paramTypes = */ NULL, params,
                                 /* paramLengths = */ NULL, /* paramFormats = */ NULL,
                                 /* resultFormat = text */ 0);
    char name[16];
    db_prepared_name(p, name, sizeof(name));
    return PQsendQueryPrepared(db->conn, name, nparams, params, /* paramLengths = */ NULL,
                               /* paramFormats = */ NULL, /* resultFormat = text */ 0);
}

static const char *const db_begin_sql[] = {
    [DB_READ_COMMITTED] = "BEGIN",
    [DB_REPEATABLE_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ",
    [DB_SERIALIZABLE] = "BEGIN ISOLATION LEVEL SERIALIZABLE",
};

/*
 * Reads a pipeline's answers: the first result of each of its n commands
 * into got (NULL where none came) and the sync that ends it. A command's
 * results end with a NULL; once the connection is lost nothing more comes,
 * so reading stops there instead of waiting. Returns true when the sync
 * came, i.e. the pipeline was read to its end.
 */
static bool db_pipeline_read(struct db *db, PGresult **got, int n)
{
    for (int i = 0; i < n && db_up(db); i++) {
        got[i] = PQgetResult(db->conn);
        if (!got[i])
            return false;
        PGresult *extra; /* a lost connection adds its own error after the command's */
        while ((extra = PQgetResult(db->conn)) != NULL)
            PQclear(extra);
    }
    PGresult *sync = db_up(db) ? PQgetResult(db->conn) : NULL;
    bool synced = sync && PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
    PQclear(sync);
    return synced;
}

/*
 * Sends the open transaction's first statement together with its BEGIN, in
 * one round trip (pipeline mode, see the top of this file): BEGIN, a PREPARE
 * when the text is new on this connection, the statement, a sync. The server
 * stops at the first failure with the transaction aborted, exactly as when
 * each is sent alone, so a failing BEGIN or PREPARE is reported as it would
 * have been then. Returns 0 with *res the statement's result and *out its
 * prepared entry (NULL when sent unnamed), both for db_exec to check, or a
 * negative code with *res NULL.
 */
static int db_exec_begin(struct db *db, const char *sql, int nparams, const char *const *params,
                         struct db_prepared **out, PGresult **res, struct err *err)
{
    *res = NULL;
    struct db_prepared *p = db_prepared_find(db, sql);
    struct db_prepared *fresh = p ? NULL : db_prepared_new(db, sql);
    char name[16] = "";
    if (fresh)
        db_prepared_name(fresh, name, sizeof(name));
    db->tx_sent = true; /* from here on the server may hold the transaction (invariant 2) */
    db->round_trips++;
    bool sent =
        PQenterPipelineMode(db->conn) &&
        PQsendQueryParams(db->conn, db_begin_sql[db->tx_level], 0, NULL, NULL, NULL, NULL, 0) &&
        (!fresh || PQsendPrepare(db->conn, name, sql, nparams, /* paramTypes = */ NULL)) &&
        db_send(db, sql, nparams, params, fresh ? fresh : p) && PQpipelineSync(db->conn);

    int n = fresh ? 3 : 2;
    PGresult *got[3] = {NULL, NULL, NULL}; /* BEGIN, the PREPARE when fresh, the statement */
    bool ended = sent && db_pipeline_read(db, got, n) && PQexitPipelineMode(db->conn);
    /* What to report: the first that failed (the rest did not run), else the statement's. */
    int first = 0;
    while (first < n - 1 && got[first] && PQresultStatus(got[first]) == PGRES_COMMAND_OK)
        first++;
    int rc = 0;
    if (!sent) {
        /* libpq could not queue it (out of memory, or the connection is gone). */
        rc = db_result_error(db, NULL, err);
        db_drop(db); /* whatever part was sent, nothing tells where the server stands */
    } else if (!ended && db_up(db)) {
        char line[ERR_MSG_MAX];
        db_first_line(PQerrorMessage(db->conn), line, sizeof(line));
        db_drop(db); /* answered out of order: nothing tells where the server stands */
        rc = db_fail(err, ERR_INTERNAL, "", "unexpected database pipeline result: %s", line);
    } else if (!ended || first < n - 1) {
        rc = db_check(db, got[first], err); /* a lost connection is ERR_TRANSIENT there */
        if (rc == 0) /* all it got was fine, but the rest never came: the connection died */
            rc = db_result_error(db, NULL, err);
    }
    if (rc == 0 && fresh) {
        db->nprepared++;
        p = fresh;
    } else {
        db_prepared_discard(fresh);
    }
    if (rc == 0) {
        *out = p;
        *res = got[n - 1];
        got[n - 1] = NULL;
    }
    for (int i = 0; i < 3; i++)
        PQclear(got[i]);
    return rc;
}

/*
 * Sends a statement on its own (prepared on its first use, see db_prepare).
 * Returns as db_exec_begin.
 */
static int db_exec_alone(struct db *db, const char *sql, int nparams, const char *const *params,
                         struct db_prepared **out, PGresult **res, struct err *err)
{
    *res = NULL;
    int rc = db_prepare(db, sql, nparams, out, err);
    if (rc < 0)
        return rc;
    db->round_trips++;
    if (*out) {
        char name[16];
        db_prepared_name(*out, name, sizeof(name));
        *res = PQexecPrepared(db->conn, name, nparams, params, /* paramLengths = */ NULL,
                              /* paramFormats = */ NULL, /* resultFormat = text */ 0);
    } else {
        *res = PQexecParams(db->conn, sql, nparams, /* paramTypes = */ NULL, params,
                            /* paramLengths = */ NULL, /* paramFormats = */ NULL,
                            /* resultFormat = text */ 0);
    }
    return 0;
}

int db_exec(struct db *db, const char *sql, int nparams, const char *const *params, db_row_fn fn,
            void *ctx, struct err *err)
{
    if (!sql || nparams < 0 || nparams > DB_PARAMS_MAX || (nparams > 0 && !params))
        return db_fail(err, ERR_INTERNAL, "", "db_exec called with bad arguments");
    int rc = db_ready(db, err);
    if (rc < 0)
        return rc;

    struct db_prepared *p = NULL;
    PGresult *res = NULL;
    if (db->tx_open && !db->tx_sent)
        rc = db_exec_begin(db, sql, nparams, params, &p, &res, err);
    else
        rc = db_exec_alone(db, sql, nparams, params, &p, &res, err);
    if (rc < 0)
        return rc;
    rc = db_check(db, res, err);
    if (rc < 0) {
        if (p && db->conn && err && strcmp(err->sqlstate, "0A000") == 0)
            db_forget(db, p); /* "cached plan must not change result type": a table changed */
        goto done;
    }
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        rc = db_cmd_tuples(res);
        goto done;
    }
    int n = PQntuples(res);
    for (int i = 0; fn && i < n; i++) {
        struct db_row row = {res, i};
        rc = fn(ctx, &row, err);
        if (rc != 0) {
            if (rc > 0) /* a callback that forgot the contract */
                rc = db_fail(err, ERR_INTERNAL, "", "row callback returned %d", rc);
            goto done;
        }
    }
    rc = n;
done:
    PQclear(res);
    return rc;
}

struct db_value {
    char *out;
    size_t outlen;
};

static int db_value_row(void *ctx, const struct db_row *row, struct err *err)
{
    struct db_value *v = ctx;
    if (row->index > 0)
        return 0; /* counted by db_exec, refused by the caller */
    if (db_row_copy_text(row, 0, v->out, v->outlen) < 0)
        return db_fail(err, ERR_INTERNAL, "", "value longer than %zu bytes", v->outlen - 1);
    return 0;
}

int db_write(struct db *db, const char *sql, int nparams, const char *const *params,
             struct err *err)
{
    int rc = db_exec(db, sql, nparams, params, NULL, NULL, err);
    return rc < 0 ? rc : 0;
}

int db_exec_value(struct db *db, const char *sql, int nparams, const char *const *params, char *out,
                  size_t outlen, struct err *err)
{
    if (!out || outlen == 0)
        return db_fail(err, ERR_INTERNAL, "", "db_exec_value called without an output buffer");
    out[0] = '\0';
    struct db_value v = {out, outlen};
    int n = db_exec(db, sql, nparams, params, db_value_row, &v, err);
    if (n > 1) {
        out[0] = '\0';
        return db_fail(err, ERR_INTERNAL, "", "expected at most one row, got %d", n);
    }
    return n;
}

/*
 * The 1-based line of a 1-based character position in text. PostgreSQL
 * counts characters, not bytes: UTF-8 continuation bytes are skipped.
 */
static int db_line_of(const char *text, long pos)
{
    int line = 1;
    for (long chars = 1; *text && chars < pos; text++) {
        if (((unsigned char)*text & 0xC0) == 0x80)
            continue;
        if (*text == '\n')
            line++;
        chars++;
    }
    return line;
}

/* Sends the open transaction's BEGIN on its own (db_exec_begin sends it with a statement). */
static int db_begin_alone(struct db *db, struct err *err)
{
    db->tx_sent = true;
    db->round_trips++;
    PGresult *res =
        PQexecParams(db->conn, db_begin_sql[db->tx_level], 0, NULL, NULL, NULL, NULL, 0);
    int rc = db_check(db, res, err);
    PQclear(res);
    return rc;
}

int db_exec_script(struct db *db, const char *sql, struct err *err)
{
    if (!sql)
        return db_fail(err, ERR_INTERNAL, "", "db_exec_script called without a script");
    int rc = db_ready(db, err);
    if (rc == 0 && db->tx_open && !db->tx_sent)
        rc = db_begin_alone(db, err); /* a script cannot join a pipeline: its BEGIN goes first */
    if (rc < 0)
        return rc;

    db->round_trips++;
    PGresult *res = PQexec(db->conn, sql);
    /* A script of nothing but comments is an empty query, which is fine here. */
    rc = res && PQresultStatus(res) == PGRES_EMPTY_QUERY ? 0 : db_check(db, res, err);
    if (rc < 0) {
        const char *pos = res ? PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION) : NULL;
        if (pos && err && err->code == rc) {
            char msg[ERR_MSG_MAX];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            err_set(err, rc, "%s (line %d)", msg, db_line_of(sql, strtol(pos, NULL, 10)));
        }
        goto done;
    }
    /* The script must leave the caller's transaction state as it found it. */
    bool in_tx = PQtransactionStatus(db->conn) == PQTRANS_INTRANS;
    if (in_tx != db->tx_open) {
        db_drop(db); /* its transaction state is no longer what we track */
        rc = db_fail(err, ERR_INVALID, "",
                     "script must not contain BEGIN, COMMIT or ROLLBACK (it %s a transaction)",
                     in_tx ? "left open" : "ended");
    }
done:
    PQclear(res);
    return rc;
}

/* ---- rows --------------------------------------------------------------------------- */

int db_row_ncols(const struct db_row *row)
{
    return PQnfields(row->res);
}

bool db_row_is_null(const struct db_row *row, int col)
{
    return col < 0 || col >= PQnfields(row->res) || PQgetisnull(row->res, row->index, col);
}

const char *db_row_text(const struct db_row *row, int col)
{
    return db_row_is_null(row, col) ? NULL : PQgetvalue(row->res, row->index, col);
}

int db_row_copy_text(const struct db_row *row, int col, char *out, size_t outlen)
{
    if (!out || outlen == 0 || col < 0 || col >= PQnfields(row->res))
        return ERR_INTERNAL;
    const char *s = db_row_is_null(row, col) ? "" : PQgetvalue(row->res, row->index, col);
    size_t n = strlen(s);
    if (n >= outlen) {
        out[0] = '\0';
        return ERR_INTERNAL;
    }
    memcpy(out, s, n + 1);
    return 0;
}

int db_row_int64(const struct db_row *row, int col, int64_t *out)
{
    const char *s = db_row_text(row, col);
    if (!s || !*s)
        return ERR_INTERNAL;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return ERR_INTERNAL;
    *out = (int64_t)v;
    return 0;
}

/* ---- transactions -------------------------------------------------------------------- */

/* Tells the db_after_commit registrations from index `from` on how it ended, and forgets them. */
static void db_settle_after(struct db *db, int from, bool committed)
{
    for (int i = from; i < db->nafter; i++)
        db->after[i].fn(db->after[i].arg, committed);
    if (from < db->nafter)
        db->nafter = from;
}

/* The open transaction is over (committed or not): forget what it registered. */
static void db_tx_closed(struct db *db, bool committed)
{
    db->tx_open = false;
    db->has_savepoint = false;
    db_settle_after(db, 0, committed);
    db->ndeferred = 0;
    db->nlocal = 0;
}

int db_begin(struct db *db, struct err *err)
{
    return db_begin_isolation(db, DB_READ_COMMITTED, err);
}

int db_begin_isolation(struct db *db, enum db_isolation level, struct err *err)
{
    if (db->tx_open)
        return db_fail(err, ERR_INTERNAL, "", "a transaction is already open");
    if ((unsigned)level >= sizeof(db_begin_sql) / sizeof(db_begin_sql[0]))
        return db_fail(err, ERR_INTERNAL, "", "unknown isolation level %d", (int)level);
    /* Nothing is sent: the BEGIN goes with the first statement (see the top of this file). */
    db->tx_open = true;
    db->has_savepoint = false;
    db->tx_sent = false;
    db->tx_level = level;
    db->ndeferred = 0;
    db->nlocal = 0;
    return 0;
}

int db_savepoint(struct db *db, struct err *err)
{
    if (!db->tx_open)
        return db_fail(err, ERR_INTERNAL, "", "savepoint outside a transaction");
    int rc = db_exec(db, "SAVEPOINT unit", 0, NULL, NULL, NULL, err);
    if (rc < 0)
        return rc;
    db->has_savepoint = true;
    db->sp_after = db->nafter;
    db->sp_local = db->nlocal;
    db->sp_deferred = db->ndeferred;
    return 0;
}

int db_rollback_to_savepoint(struct db *db, struct err *err)
{
    if (!db->tx_open || !db->has_savepoint)
        return db_fail(err, ERR_INTERNAL, "", "no savepoint to roll back to");
    int rc = db_exec(db, "ROLLBACK TO SAVEPOINT unit", 0, NULL, NULL, NULL, err);
    if (rc < 0)
        return rc;
    /* What was registered for the undone work would wake or hand on nothing real. */
    db_settle_after(db, db->sp_after, false);
    db->nlocal = db->sp_local;
    db->ndeferred = db->sp_deferred;
    return 0;
}

int db_after_commit(struct db *db, db_after_commit_fn *fn, void *arg, struct err *err)
{
    if (!db->tx_open)
        return db_fail(err, ERR_INTERNAL, "", "db_after_commit outside a transaction");
    if (db->nafter == DB_AFTER_COMMIT_MAX)
        return db_fail(err, ERR_INTERNAL, "", "more than %d after-commit actions in a transaction",
                       DB_AFTER_COMMIT_MAX);
    db->after[db->nafter].fn = fn;
    db->after[db->nafter].arg = arg;
    db->nafter++;
    return 0;
}

/*
 * After a successful COMMIT: the NOTIFYs db_notify deferred, each in a
 * transaction of its own that writes no WAL, so it holds PostgreSQL's notify
 * lock only for an instant. A failure here is not the commit's: the data is
 * in, and the relay's sweep finds the row without the wake-up.
 */
static void send_deferred_notifies(struct db *db)
{
    db_settle_after(db, 0, true); /* before the wake-ups: what they hand on is there when woken */
    for (int i = 0; i < db->nlocal; i++)
        db_wake(db->local[i]);
    db->nlocal = 0;
    for (int i = 0; i < db->ndeferred; i++) {
        struct err err;
        err_clear(&err);
        const char *params[] = {db->deferred[i]};
        if (db_exec(db, "SELECT pg_notify($1, '')", 1, params, NULL, NULL, &err) < 0)
            log_debug("NOTIFY %s after commit failed (the relay's sweep covers it): %s",
                      db->deferred[i], err.msg);
    }
    db->ndeferred = 0;
}

int db_notify(struct db *db, const char *channel, struct err *err)
{
    if (!db->tx_open)
        return db_fail(err, ERR_INTERNAL, "", "db_notify outside a transaction");
    if (strlen(channel) > DB_CHANNEL_MAX)
        return db_fail(err, ERR_INVALID, "", "channel name longer than %d bytes", DB_CHANNEL_MAX);
    int fd = db_local_find(channel);
    if (fd >= 0) {
        /* Its listener is in this process: woken directly once we commit (no NOTIFY at all). */
        for (int i = 0; i < db->nlocal; i++)
            if (db->local[i] == fd)
                return 0;
        if (db->nlocal < DB_LISTEN_MAX) {
            db->local[db->nlocal++] = fd;
            return 0;
        }
    }
    if (!db->notify_after_commit) {
        const char *params[] = {channel};
        int rc = db_exec(db, "SELECT pg_notify($1, '')", 1, params, NULL, NULL, err);
        return rc < 0 ? rc : 0;
    }
    for (int i = 0; i < db->ndeferred; i++)
        if (strcmp(db->deferred[i], channel) == 0)
            return 0; /* one wake-up per channel and commit is enough */
    if (db->ndeferred == DB_LISTEN_MAX)
        return db_fail(err, ERR_INTERNAL, "", "more than %d channels to notify in one transaction",
                       DB_LISTEN_MAX);
    snprintf(db->deferred[db->ndeferred++], sizeof(db->deferred[0]), "%s", channel);
    return 0;
}

int db_commit(struct db *db, struct err *err)
{
    if (!db->tx_open)
        return db_fail(err, ERR_INTERNAL, "", "commit without an open transaction");
    int rc = 0;
    PGresult *res = NULL;
    if (!db->tx_sent) {
        db->tx_open = false; /* nothing of it was sent (lazy BEGIN): nothing to commit */
        goto committed;
    }
    rc = db_ready(db, err); /* a lost connection fails here: rolled back, nothing sent */
    if (rc < 0) {
        db_tx_closed(db, false);
        return rc;
    }
    db->round_trips++;
    res = PQexecParams(db->conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
    db->tx_open = false;
    rc = db_check(db, res, err);
    if (rc == ERR_TRANSIENT && !db->conn && err) {
        /* COMMIT was sent and the connection died: it may or may not have happened. */
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        err_set(err, rc, "commit outcome unknown: %s", msg);
    } else if (rc == 0 && strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        /* PostgreSQL answers COMMIT of a failed transaction with ROLLBACK, not an error. */
        rc = db_fail(err, ERR_INTERNAL, "",
                     "commit rolled back: a statement of the transaction had failed");
    }
committed:
    PQclear(res);
    if (rc == 0)
        send_deferred_notifies(db);
    db_tx_closed(db, false); /* after a failed commit: the registrations learn it here */
    return rc;
}

void db_rollback(struct db *db)
{
    if (!db || !db->tx_open)
        return;
    db_tx_closed(db, false);
    if (!db->tx_sent)
        return; /* nothing of it was sent (lazy BEGIN): nothing to roll back */
    if (!db_up(db)) {
        db_drop(db); /* the server rolled back when the connection went */
        return;
    }
    db->round_trips++;
    PGresult *res = PQexec(db->conn, "ROLLBACK");
    bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok)
        db_drop(db); /* state unknown: the next call starts on a fresh connection */
}

bool db_in_transaction(const struct db *db)
{
    return db->tx_open;
}

bool db_woken_remotely(const struct db *db)
{
    return db->woken_remotely;
}

uint64_t db_round_trips(const struct db *db)
{
    return db->round_trips;
}

/* ---- LISTEN/NOTIFY -------------------------------------------------------------------- */

int db_listen(struct db *db, const char *channel, struct err *err)
{
    if (!db_name_valid(channel, DB_CHANNEL_MAX, /* dots = */ true))
        return db_fail(err, ERR_INVALID, "", "invalid channel name '%.*s'", DB_CHANNEL_MAX,
                       channel ? channel : "");
    if (db->tx_open)
        return db_fail(err, ERR_INTERNAL, "", "cannot LISTEN on '%s' inside a transaction",
                       channel);
    bool known = false;
    for (int i = 0; i < db->nchannels && !known; i++)
        known = strcmp(db->channels[i], channel) == 0;
    if (!known && db->nchannels == DB_LISTEN_MAX)
        return db_fail(err, ERR_INTERNAL, "", "cannot LISTEN on '%s': already on %d channels",
                       channel, DB_LISTEN_MAX);

    /* The name is a checked identifier, so quoting it is all LISTEN needs. */
    char sql[DB_CHANNEL_MAX + 16];
    snprintf(sql, sizeof(sql), "LISTEN \"%s\"", channel);
    int rc = db_exec(db, sql, 0, NULL, NULL, NULL, err);
    if (rc < 0)
        return rc;
    if (!known) {
        snprintf(db->channels[db->nchannels++], sizeof(db->channels[0]), "%s", channel);
        if (!db->has_wake) {
            db->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            db->has_wake =
                db->wake_fd >= 0; /* without one, NOTIFY through the server still works */
        }
        if (db->has_wake)
            db_local_add(channel, db->wake_fd);
    }
    return 0;
}

/* Consumes every queued NOTIFY message; true when there was one (or a reconnect to report). */
static bool db_drain_notifies(struct db *db)
{
    bool got = db->notify_pending;
    db->notify_pending = false;
    PGnotify *n;
    while ((n = PQnotifies(db->conn)) != NULL) {
        got = true;
        PQfreemem(n);
    }
    return got;
}

int db_wait_notify(struct db *db, int timeout_ms, struct err *err)
{
    int64_t deadline = steady_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int rc = db_ready(db, err);
    if (rc < 0) {
        /* Down: wait for the next attempt (within the timeout) so a caller's loop does not spin. */
        int64_t until = db->next_attempt_ms < deadline ? db->next_attempt_ms : deadline;
        int64_t pause = until - steady_now_ms();
        if (pause > 0 && !db->tx_open)
            steady_sleep_ms(pause);
        return rc;
    }
    db->woken_remotely = db_drain_notifies(db);
    if (db->woken_remotely)
        return 1;
    for (;;) {
        int64_t left = deadline - steady_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p[2] = {{.fd = PQsocket(db->conn), .events = POLLIN},
                              {.fd = db->has_wake ? db->wake_fd : -1, .events = POLLIN}};
        int n = poll(p, 2, left > INT_MAX ? INT_MAX : (int)left);
        if (n < 0 && errno == EINTR)
            return 0; /* let the caller look at its stop flag */
        if (n < 0)
            return db_fail(err, ERR_INTERNAL, "", "waiting for notifications: %s", strerror(errno));
        if (n == 0)
            return 0;
        if (p[1].revents & POLLIN) {
            uint64_t count;
            ssize_t r = read(db->wake_fd, &count, sizeof(count)); /* resets the eventfd */
            (void)r;
            /* A NOTIFY may have come too: say so, or its writer's rows wait for the sweep. */
            if ((p[0].revents & POLLIN) && PQconsumeInput(db->conn))
                db->woken_remotely = db_drain_notifies(db);
            return 1;
        }
        /* Failing here means the connection is lost: fill the message, drop it. */
        if (!PQconsumeInput(db->conn))
            return db_result_error(db, NULL, err);
        db->woken_remotely = db_drain_notifies(db);
        if (db->woken_remotely)
            return 1;
    }
}
