/*
 * saga_http.c - see saga_http.h. The reply buffer grows and is reused, so
 * a long load allocates nothing per request after the first ones.
 */
#include "saga_http.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SAGA_HTTP_TIMEOUT_MS                                                                       \
    30000L /* one exchange; a saturated service still answers well within */

struct saga_http {
    CURL *curl;
    struct curl_slist *headers;
    int port;
    char *buf;
    size_t len, cap;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    struct saga_http *h = arg;
    size_t bytes = size * n;
    if (h->len + bytes + 1 > h->cap) {
        size_t cap = (h->len + bytes + 1) * 2;
        char *buf = realloc(h->buf, cap);
        if (!buf)
            return 0; /* libcurl then fails the exchange */
        h->buf = buf;
        h->cap = cap;
    }
    memcpy(h->buf + h->len, data, bytes);
    h->len += bytes;
    h->buf[h->len] = '\0';
    return bytes;
}

struct saga_http *saga_http_new(int port)
{
    struct saga_http *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->port = port;
    h->curl = curl_easy_init();
    h->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (!h->curl || !h->headers) {
        saga_http_free(h);
        return NULL;
    }
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, SAGA_HTTP_TIMEOUT_MS);
    curl_easy_setopt(h->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L); /* several threads, each with its handle */
    return h;
}

void saga_http_free(struct saga_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    free(h->buf);
    free(h);
}

int saga_http_call(struct saga_http *h, const char *method, const char *path, const char *body,
                   long *status, char *errbuf, size_t errlen)
{
    char url[512];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", h->port, path);
    h->len = 0;
    if (h->buf)
        h->buf[0] = '\0';
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    if (body) {
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, 0L);
    } else {
        curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
    CURLcode rc = curl_easy_perform(h->curl);
    if (rc != CURLE_OK) {
        snprintf(errbuf, errlen, "%s %s: %s", method, url, curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
    return 0;
}

long saga_http_retry_after_s(const struct saga_http *h)
{
    curl_off_t seconds = 0;
    if (curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &seconds) != CURLE_OK || seconds < 0)
        return 0;
    return seconds > 60 ? 60 : (long)seconds;
}

const char *saga_http_reply(const struct saga_http *h)
{
    return h->buf ? h->buf : "";
}

int saga_http_reply_str(const struct saga_http *h, const char *key, char *out, size_t outlen)
{
    json_t *json = json_loads(saga_http_reply(h), 0, NULL);
    const char *value = json_string_value(json_object_get(json, key));
    int rc = value && strlen(value) < outlen ? 0 : -1;
    if (!rc)
        snprintf(out, outlen, "%s", value);
    json_decref(json);
    return rc;
}
