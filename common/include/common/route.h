/*
 * route.h - what a context's routes.c needs beyond the HTTP API (http.h):
 * the database connection of the thread serving the request. It is all a
 * route sees of the running service, so routes do not include service.h
 * (and through it the bus, relay and consumer).
 */
#ifndef COMMON_ROUTE_H
#define COMMON_ROUTE_H

#include "common/http.h"

struct db;

/*
 * This HTTP thread's database connection (search_path = the context's
 * schema), made by service_main on the thread's first request. Never NULL in
 * a route: when it cannot be made the server answers 503 before the route
 * runs. Borrowed: valid until the route returns; a route begins and ends its
 * own transactions on it.
 */
struct db *route_db(const struct http_request *req);

/*
 * Ends a route's transaction on db: commits when rc is 0 (the route's steps
 * all succeeded), rolls back otherwise, also when none was begun (a step
 * before db_begin failed). Returns rc, or db_commit's error (err filled).
 */
int route_end(struct db *db, int rc, struct err *err);

#endif
