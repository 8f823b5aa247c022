/*
 * saga_http.h - one keep-alive HTTP/1.1 connection to a service on
 * 127.0.0.1, for the saga benchmark's setup and load (libcurl easy handle,
 * reused so that every exchange after the first goes over the same TCP
 * connection, as a client in front of the service would).
 *
 * Not thread-safe: one connection per thread.
 */
#ifndef SAGA_HTTP_H
#define SAGA_HTTP_H

#include <stddef.h>

struct saga_http;

/* A connection to 127.0.0.1:port (opened at the first exchange), or NULL when out of memory. */
struct saga_http *saga_http_new(int port);

/* Closes the connection and frees h (NULL is fine). */
void saga_http_free(struct saga_http *h);

/*
 * One exchange: method ("GET", "POST") on path, with body (NULL for none;
 * sent as application/json). Returns 0 with the HTTP status in *status, or
 * -1 with a line in errbuf (errlen bytes) when no reply came.
 */
int saga_http_call(struct saga_http *h, const char *method, const char *path, const char *body,
                   long *status, char *errbuf, size_t errlen);

/* The body of the last reply, NUL-terminated (borrowed: valid until the next call). */
const char *saga_http_reply(const struct saga_http *h);

/* The last reply's Retry-After in seconds (0 when it had none). */
long saga_http_retry_after_s(const struct saga_http *h);

/* The string member key of the last reply's JSON object into out (outlen); 0, or -1 when absent. */
int saga_http_reply_str(const struct saga_http *h, const char *key, char *out, size_t outlen);

#endif
