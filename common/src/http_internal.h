/*
 * http_internal.h - the pure helpers of the HTTP server (route matching,
 * header checks), apart from libmicrohttpd so that unit tests can call them.
 * Private to the library and its tests; contexts use common/http.h.
 */
#ifndef COMMON_HTTP_INTERNAL_H
#define COMMON_HTTP_INTERNAL_H

#include "common/http.h"

#include <stdbool.h>
#include <stddef.h>

/* Path parameters captured by a match; copies, so they outlive the path. */
struct http_params {
    size_t n;
    char value[HTTP_MAX_PARAMS][HTTP_PARAM_MAX + 1];
};

/*
 * Whether pattern is well formed: starts with '/', no empty segment (except
 * the root "/" itself), each placeholder a whole segment "{name}" with name
 * [A-Za-z0-9_]+, at most HTTP_MAX_PARAMS placeholders, no '?' or '#'.
 */
bool http_pattern_valid(const char *pattern);

/*
 * Matches path against a well-formed pattern (see struct http_route). On a
 * match fills params and returns true; otherwise returns false and params is
 * unspecified.
 */
bool http_pattern_match(const char *pattern, const char *path, struct http_params *params);

enum {
    HTTP_ROUTE_NOT_FOUND = -1,          /* no pattern matches the path */
    HTTP_ROUTE_METHOD_NOT_ALLOWED = -2, /* some do, none with this method */
};

/*
 * Finds the first route matching method and path. Returns its index with
 * params filled, HTTP_ROUTE_NOT_FOUND, or HTTP_ROUTE_METHOD_NOT_ALLOWED with
 * allow set to the methods the path has ("GET, POST"; truncated to allowlen).
 */
int http_route_find(const struct http_route *routes, size_t nroutes, const char *method,
                    const char *path, struct http_params *params, char *allow, size_t allowlen);

/* Whether id is an acceptable X-Correlation-ID: 1..128 visible ASCII characters (0x21..0x7e). */
bool http_correlation_id_valid(const char *id);

/*
 * Whether a Content-Type header value is application/json: the media type
 * compared without case, optional parameters after ';' ("application/json;
 * charset=utf-8"). NULL (no header) is not.
 */
bool http_content_type_is_json(const char *value);

/*
 * Whether host, a Host header ("name", "name:port", "[v6]" or "[v6]:port"),
 * names one of the comma-separated names in allowed (compared without case,
 * blanks around names ignored) or, when local is not NULL, the address local.
 * The port is not compared. An empty name is never allowed.
 */
bool http_host_allowed(const char *host, const char *allowed, const char *local);

/*
 * Whether list is a well-formed http_config.allowed_hosts: NULL, or
 * comma-separated names of letters, digits, '.', '-', '_' and ':' (an IPv6
 * address, without brackets), blanks around them, at most
 * HTTP_ALLOWED_HOSTS_MAX bytes; empty entries are ignored.
 */
bool http_allowed_hosts_valid(const char *list);

/* The metrics label for a method: one of a fixed set, or "other", so cardinality stays bounded. */
const char *http_method_label(const char *method);

#endif
