/*
 * route.c - the per-thread database connection of a route (route.h). The
 * connection is the HTTP thread's context, which service.c's thread_db_new
 * makes; this file only names it for routes.
 */
#include "common/route.h"

#include "common/db.h"

struct db *route_db(const struct http_request *req)
{
    return req->thread_ctx;
}

int route_end(struct db *db, int rc, struct err *err)
{
    if (rc == 0)
        rc = db_commit(db, err);
    if (rc)
        db_rollback(db);
    return rc;
}
